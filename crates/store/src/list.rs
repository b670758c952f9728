//! The list contract (design.md §7), implemented once for every list: declared sort columns,
//! keyset pagination with an opaque cursor, and a total counted only up to a cap, so that no
//! list ever scans a large table to count or to page.
//!
//! A list declares its sort columns ([`SortColumn`]); the caller's filters and scope are
//! already in the `Select` it hands to [`fetch`]. Paging is by `(sort column, id)`: the
//! cursor carries the last row's values, and the next page starts strictly after them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, ModelTrait, Order, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select, Value,
};
use serde::{Deserialize, Serialize};

use crate::error::{StoreError, StoreResult};

use domain::field::{FieldError, FieldErrors};
/// The entity bound of list declarations, for callers that do not use SeaORM directly.
pub use sea_orm::EntityTrait;

/// Rows per page when the caller does not say.
pub const DEFAULT_LIMIT: u64 = 50;
/// The most rows a page may ask for.
pub const MAX_LIMIT: u64 = 500;
/// Totals are counted up to this many rows; past it the total is reported as capped.
pub const TOTAL_CAP: u64 = 10_000;

/// The type of a sort column's values, for the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKind {
    /// Integers.
    Int,
    /// Text.
    Text,
    /// UTC timestamps.
    Time,
}

/// A column a list may be sorted on (backed by an index), under its API name.
#[derive(Debug, Clone, Copy)]
pub struct SortColumn<E: EntityTrait> {
    /// The name in `?sort=`.
    pub name: &'static str,
    /// The column.
    pub column: E::Column,
    /// Its value type.
    pub kind: SortKind,
}

/// A list's declaration: its sort columns, its id column (the tie-breaker) and its default.
#[derive(Debug)]
pub struct ListSpec<E: EntityTrait + 'static> {
    /// The sortable columns.
    pub sorts: &'static [SortColumn<E>],
    /// The primary key column.
    pub id: E::Column,
    /// The default `?sort=` value (`"-id"` for newest first).
    pub default_sort: &'static str,
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    sort: &'static str,
    descending: bool,
    limit: u64,
    after: Option<CursorBody>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CursorBody {
    /// The sort name the cursor was made for.
    s: String,
    /// Descending.
    d: bool,
    /// The last row's sort value.
    v: serde_json::Value,
    /// The last row's id.
    i: i64,
}

impl PageRequest {
    /// Validates `?sort=`, `?limit=` and `?cursor=` against `spec`, reporting each bad one.
    pub fn parse<E: EntityTrait>(
        spec: &ListSpec<E>,
        sort: Option<&str>,
        limit: Option<u64>,
        cursor: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let wanted = sort
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(spec.default_sort);
        let (descending, name) = match wanted.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, wanted),
        };
        let column = spec.sorts.iter().find(|c| c.name == name);
        if column.is_none() {
            let names: Vec<_> = spec.sorts.iter().map(|c| c.name).collect();
            errors.push(FieldError::new("sort", "unknown_sort").with("allowed", names.join(", ")));
        }
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(
                FieldError::new("limit", "out_of_range")
                    .with("min", 1)
                    .with("max", MAX_LIMIT),
            );
        }
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(raw) => match decode_cursor(raw) {
                Some(body) if body.s == name && body.d == descending => Some(body),
                _ => {
                    errors.push(FieldError::new("cursor", "invalid_cursor"));
                    None
                }
            },
        };
        match column {
            Some(column) if errors.is_empty() => Ok(Self {
                sort: column.name,
                descending,
                limit,
                after,
            }),
            _ => Err(errors),
        }
    }

    /// The first page with the default order, `limit` rows.
    pub fn first<E: EntityTrait>(spec: &ListSpec<E>, limit: u64) -> Result<Self, FieldErrors> {
        Self::parse(spec, None, Some(limit), None)
    }

    /// The rows asked for.
    pub fn limit(&self) -> u64 {
        self.limit
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// The cursor of the next page, `None` on the last.
    pub next_cursor: Option<String>,
    /// How many rows match, up to [`TOTAL_CAP`].
    pub total: u64,
    /// True when more than [`TOTAL_CAP`] rows match.
    pub total_capped: bool,
}

impl<T> Page<T> {
    /// The same page with its rows mapped.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
            total: self.total,
            total_capped: self.total_capped,
        }
    }
}

/// Fetches the page `request` asks for from `select` (which already carries the caller's
/// scope and filters), with its capped total.
pub async fn fetch<E, C>(
    conn: &C,
    spec: &ListSpec<E>,
    select: Select<E>,
    request: &PageRequest,
) -> StoreResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: ModelTrait<Entity = E> + Sync,
    C: ConnectionTrait,
{
    let column = spec
        .sorts
        .iter()
        .find(|c| c.name == request.sort)
        .ok_or_else(|| StoreError::Corrupt(format!("undeclared sort {}", request.sort)))?;
    let (total, total_capped) = count_capped(conn, &select, spec.id).await?;

    let order = if request.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    let mut page = select;
    if let Some(after) = &request.after {
        let value = json_to_value(column.kind, &after.v)
            .ok_or_else(|| StoreError::Corrupt("cursor value".into()))?;
        // A row-value comparison, `(sort, id) > (v, i)`: both engines start the index range
        // there. The spelled-out `sort > v OR (sort = v AND id > i)` makes PostgreSQL read
        // the index from its start and filter, one page far in costing a scan.
        let id_only = column.column.as_column_ref() == spec.id.as_column_ref();
        let keys = Expr::tuple([
            Expr::col(column.column.as_column_ref()),
            Expr::col(spec.id.as_column_ref()),
        ]);
        let last = Expr::tuple([Expr::val(value), Expr::val(after.i)]);
        page = page.filter(match (id_only, request.descending) {
            // Sorted by id alone: a plain range on the key.
            (true, true) => spec.id.lt(after.i),
            (true, false) => spec.id.gt(after.i),
            (false, true) => keys.lt(last),
            (false, false) => keys.gt(last),
        });
    }
    let mut rows = page
        .order_by(column.column, order.clone())
        .order_by(spec.id, order)
        .limit(request.limit + 1)
        .all(conn)
        .await?;
    let more = rows.len() as u64 > request.limit;
    rows.truncate(request.limit as usize);
    let next_cursor = match rows.last() {
        Some(last) if more => Some(encode_cursor(&CursorBody {
            s: request.sort.to_owned(),
            d: request.descending,
            v: value_to_json(&last.get(column.column)),
            i: id_of(&last.get(spec.id))?,
        })),
        _ => None,
    };
    Ok(Page {
        items: rows,
        next_cursor,
        total,
        total_capped,
    })
}

async fn count_capped<E, C>(conn: &C, select: &Select<E>, id: E::Column) -> StoreResult<(u64, bool)>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let inner = select
        .clone()
        .select_only()
        .column(id)
        .limit(TOTAL_CAP + 1)
        .into_query();
    let outer = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_subquery(inner, Alias::new("capped"))
        .to_owned();
    let row = conn.query_one(&outer).await?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    let n = u64::try_from(n).unwrap_or(0);
    Ok((Ord::min(n, TOTAL_CAP), n > TOTAL_CAP))
}

fn encode_cursor(body: &CursorBody) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(body).unwrap_or_default())
}

fn decode_cursor(raw: &str) -> Option<CursorBody> {
    if raw.len() > 1024 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn value_to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::BigInt(Some(v)) => (*v).into(),
        Value::Int(Some(v)) => (*v).into(),
        Value::SmallInt(Some(v)) => (*v).into(),
        Value::String(Some(v)) => v.as_str().into(),
        Value::ChronoDateTimeUtc(Some(v)) => v.to_rfc3339().into(),
        _ => serde_json::Value::Null,
    }
}

fn json_to_value(kind: SortKind, json: &serde_json::Value) -> Option<Value> {
    match kind {
        SortKind::Int => json.as_i64().map(Value::from),
        SortKind::Text => json.as_str().map(|s| Value::from(s.to_owned())),
        SortKind::Time => json
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| Value::from(t.with_timezone(&Utc))),
    }
}

fn id_of(value: &Value) -> StoreResult<i64> {
    match value {
        Value::BigInt(Some(v)) => Ok(*v),
        Value::Int(Some(v)) => Ok(i64::from(*v)),
        _ => Err(StoreError::Corrupt(
            "list id column is not an integer".into(),
        )),
    }
}

/// `column` starts with `text`, ignoring case; `%`, `_` and backslash in `text` match themselves.
pub fn starts_with<C: ColumnTrait>(column: C, text: &str) -> Expr {
    like_lower(column, format!("{}%", escape_like(&text.to_lowercase())))
}

/// `column` contains `text`, ignoring case. For small tables only: it cannot use an index.
pub fn contains<C: ColumnTrait>(column: C, text: &str) -> Expr {
    like_lower(column, format!("%{}%", escape_like(&text.to_lowercase())))
}

fn like_lower<C: ColumnTrait>(column: C, pattern: String) -> Expr {
    Expr::expr(Func::lower(Expr::col(column.as_column_ref())))
        .like(LikeExpr::new(pattern).escape('\\'))
}

/// Escapes `%`, `_` and backslash for a `LIKE` pattern escaped by backslash.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
