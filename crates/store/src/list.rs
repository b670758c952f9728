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
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, DatabaseBackend, IdenStatic as _, ModelTrait, Order, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select, Statement, Value,
};
use serde::{Deserialize, Serialize};

use crate::error::{StoreError, StoreResult};

use domain::field::{FieldError, FieldErrors};
/// The entity bound of list declarations, for callers that do not use SeaORM directly.
pub use sea_orm::{ConnectionTrait, EntityTrait};

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

    /// The `?sort=` column's name.
    pub fn sort_name(&self) -> &'static str {
        self.sort
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
    /// How many rows match, up to [`TOTAL_CAP`] (a wide search: [`SEARCH_CAP`]).
    pub total: u64,
    /// True when more rows match than that.
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
    let count = PagePlan::new(select.clone());
    fetch_planned(conn, spec, count, request, |_| {
        PagePlan::new(select.clone())
    })
    .await
}

/// How a list query reaches its rows.
#[derive(Debug)]
pub struct PagePlan<E: EntityTrait> {
    /// The select, with the caller's scope and filters.
    pub select: Select<E>,
    /// Sort the rows the filters find rather than walk the sort column's index: the order
    /// and the cursor's range are written as `+column`, which no index serves, and the
    /// page's ids are sorted first, from the entries of the index the filters use, its rows
    /// then read by id (no other matching row is read).
    pub sort_found_rows: bool,
    /// SQLite: the index the query must use (`INDEXED BY`).
    pub index: Option<&'static str>,
    /// Walk the sort order for the page, at most [`WALK`] rows of it meeting this condition
    /// (on the sort column, say; see [`fetch_planned`]).
    pub walk: Option<Condition>,
    /// Where the total stops counting: [`TOTAL_CAP`], or less where each match costs more
    /// to count (a search checked on every entry, [`SEARCH_CAP`]).
    pub cap: u64,
}

/// Where the total of a list whose matches are found by checking a text on every entry
/// stops counting: past a thousand such matches the total says "1 000+", and reading ten
/// times as many entries to say "10 000+" would cost the page its time.
pub const SEARCH_CAP: u64 = 1_000;

/// Rows of the sort order a walking page reads first: enough for a page at 2% density.
pub const WALK: u64 = 2_500;

/// Rows of the sort order a second walk reads at most, when the first found matches but
/// fewer than a page, before the page is found through the filters instead: a page at
/// 0.4% density, still less than sorting tens of thousands of matches costs.
pub const LONG_WALK: u64 = 20_000;

impl<E: EntityTrait> PagePlan<E> {
    /// `select` as it stands, for the engine's planner.
    pub fn new(select: Select<E>) -> Self {
        Self {
            select,
            sort_found_rows: false,
            index: None,
            walk: None,
            cap: TOTAL_CAP,
        }
    }
}

/// `column` written so that the engine evaluates it but plans no index on it: `+column` on
/// SQLite (the documented way), `COALESCE(column, column)` on PostgreSQL (an expression no
/// index is on; the planner does not simplify it away).
pub fn unindexed(backend: DatabaseBackend, column: &str) -> String {
    match backend {
        DatabaseBackend::Sqlite => format!("+\"{column}\""),
        _ => format!("COALESCE(\"{column}\", \"{column}\")"),
    }
}

/// `statement` with `INDEXED BY index` after its first `FROM "table"` (SQLite's way of
/// naming the index a query must use; sea-query has no word for it).
fn indexed_by(mut statement: Statement, table: &str, index: Option<&str>) -> Statement {
    if let Some(index) = index {
        let from = format!("FROM \"{table}\"");
        if let Some(at) = statement.sql.find(&from) {
            statement
                .sql
                .insert_str(at + from.len(), &format!(" INDEXED BY \"{index}\""));
        }
    }
    statement
}

/// Fetches a page like [`fetch`], the total counted on `count` first and the page then
/// read from the plan `plan` makes of whether that total is capped, so that a list can
/// reach a few matching rows through its filters' indexes and many through its sort order.
///
/// A walking plan reads the page from the first [`WALK`] rows of the sort order after the
/// cursor, as a subquery with that limit (`FROM (… ORDER BY sort, id LIMIT n) AS table`):
/// the engine must then walk the sort column's index, whatever it guesses of the filters,
/// and a walk through rows the filters mostly refuse (a filter correlated with the order)
/// stops there. If the walk finds some matches but less than a page, it walks again as far
/// as their density says a page needs, up to [`LONG_WALK`] rows (a reseller's customers
/// whose name holds a common part: one row in sixty); if it finds none, or the page needs
/// more, the page comes from `plan(false)`.
pub async fn fetch_planned<E, C>(
    conn: &C,
    spec: &ListSpec<E>,
    count: PagePlan<E>,
    request: &PageRequest,
    plan: impl Fn(bool) -> PagePlan<E>,
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
    let found = count_capped(conn, &count, spec.id).await?;
    let total_capped = found > count.cap;
    let total = Ord::min(found, count.cap);
    if found == 0 {
        // Nothing matches: no page to read (through the same entries again).
        return Rows(Vec::new()).finish(request, column, spec, (0, false));
    }
    let id_only = column.column.as_column_ref() == spec.id.as_column_ref();
    if id_only && !total_capped {
        // Every matching id is within reach of the count's path: the page is a slice of
        // them, fetched by id, with no row read that it does not show.
        let ids = matching_ids(conn, &count, spec.id).await?;
        let rows = page_of_ids(conn, spec, ids, request).await?;
        return rows.finish(request, column, spec, (total, false));
    }
    let planned = plan(total_capped);
    if planned.walk.is_some() {
        let rows = read_page(conn, spec, column, planned, request, WALK).await?;
        let walked = rows.0.len() as u64;
        if walked > request.limit {
            return rows.finish(request, column, spec, (total, total_capped));
        }
        // Half as far again as the density found says a page needs.
        let needed = (request.limit + 1) * WALK * 3 / 2 / Ord::max(walked, 1);
        if walked > 0 && needed <= LONG_WALK {
            let rows = read_page(conn, spec, column, plan(total_capped), request, needed).await?;
            if rows.0.len() as u64 > request.limit {
                return rows.finish(request, column, spec, (total, total_capped));
            }
        }
    }
    let rows = read_page(conn, spec, column, plan(false), request, WALK).await?;
    rows.finish(request, column, spec, (total, total_capped))
}

/// One page's rows (one more than the limit when more follow) as `planned` reaches them.
async fn read_page<E, C>(
    conn: &C,
    spec: &ListSpec<E>,
    column: &SortColumn<E>,
    planned: PagePlan<E>,
    request: &PageRequest,
    walk_rows: u64,
) -> StoreResult<Rows<E::Model>>
where
    E: EntityTrait,
    E::Model: ModelTrait<Entity = E> + Sync,
    C: ConnectionTrait,
{
    let PagePlan {
        select: mut page,
        sort_found_rows,
        index,
        walk,
        cap: _,
    } = planned;

    let order = if request.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    let backend = conn.get_database_backend();
    let table = E::default().table_name();
    let key = |c: E::Column| -> Expr {
        if sort_found_rows {
            Expr::cust(unindexed(backend, c.as_str()))
        } else {
            Expr::col(c.as_column_ref())
        }
    };
    let after = after_cursor(spec, column, request, key)?;
    let sorted = |select: Select<E>| {
        select
            .order_by(key(column.column), order.clone())
            .order_by(key(spec.id), order.clone())
    };
    let statement = if let Some(walked_rows) = walk {
        // The walk: the sort order after the cursor, no filter, at most `walk_rows` rows,
        // named like the table so that the filters' qualified columns read the walked rows.
        let mut walked = sorted(E::find().filter(walked_rows)).limit(walk_rows);
        if let Some(after) = after.clone() {
            walked = walked.filter(after);
        }
        let mut outer = sorted(page).limit(request.limit + 1).into_query();
        outer
            .from_clear()
            .from_subquery(walked.into_query(), Alias::new(table));
        backend.build(&outer)
    } else {
        if let Some(after) = after {
            page = page.filter(after);
        }
        let page = sorted(page).limit(request.limit + 1);
        if sort_found_rows {
            // Every match is sorted: the page's ids first, from the index entries the
            // filters are checked on, then only the page's rows, by id.
            let ids = page.select_only().column(spec.id).build(backend);
            let ids = conn.query_all_raw(indexed_by(ids, table, index)).await?;
            let ids = ids
                .iter()
                .map(|row| row.try_get_by_index::<i64>(0).map_err(StoreError::from))
                .collect::<StoreResult<Vec<i64>>>()?;
            return rows_in_order(conn, spec, ids).await;
        }
        indexed_by(page.build(backend), table, index)
    };
    Ok(Rows(E::find().from_raw_sql(statement).all(conn).await?))
}

/// The rows after the cursor, if the request has one, with the sort keys written by `key`.
///
/// A row-value comparison, `(sort, id) > (v, i)`: both engines start the index range there.
/// The spelled-out `sort > v OR (sort = v AND id > i)` makes PostgreSQL read the index from
/// its start and filter, one page far in costing a scan.
fn after_cursor<E: EntityTrait>(
    spec: &ListSpec<E>,
    column: &SortColumn<E>,
    request: &PageRequest,
    key: impl Fn(E::Column) -> Expr,
) -> StoreResult<Option<Expr>> {
    let Some(after) = &request.after else {
        return Ok(None);
    };
    let value = json_to_value(column.kind, &after.v)
        .ok_or_else(|| StoreError::Corrupt("cursor value".into()))?;
    let id_only = column.column.as_column_ref() == spec.id.as_column_ref();
    let keys = Expr::tuple([key(column.column), key(spec.id)]);
    let last = Expr::tuple([Expr::val(value), Expr::val(after.i)]);
    Ok(Some(match (id_only, request.descending) {
        // Sorted by id alone: a plain range on the key.
        (true, true) => key(spec.id).lt(after.i),
        (true, false) => key(spec.id).gt(after.i),
        (false, true) => keys.lt(last),
        (false, false) => keys.gt(last),
    }))
}

/// A page's rows, one more than asked for when more follow.
struct Rows<M>(Vec<M>);

impl<M: ModelTrait> Rows<M> {
    /// The page: at most `request.limit` rows and the cursor after the last when more
    /// follow, with the total counted (and whether it reached the cap).
    fn finish(
        self,
        request: &PageRequest,
        column: &SortColumn<M::Entity>,
        spec: &ListSpec<M::Entity>,
        (total, total_capped): (u64, bool),
    ) -> StoreResult<Page<M>> {
        let mut rows = self.0;
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
}

/// The page of a list sorted by id whose every matching id is known: the ids after the
/// cursor in the requested direction, one more than the limit, fetched by id.
async fn page_of_ids<E, C>(
    conn: &C,
    spec: &ListSpec<E>,
    mut ids: Vec<i64>,
    request: &PageRequest,
) -> StoreResult<Rows<E::Model>>
where
    E: EntityTrait,
    E::Model: ModelTrait<Entity = E> + Sync,
    C: ConnectionTrait,
{
    ids.sort_unstable();
    if request.descending {
        ids.reverse();
    }
    let after = request.after.as_ref().map(|a| a.i);
    let wanted: Vec<i64> = ids
        .into_iter()
        .filter(|id| match (after, request.descending) {
            (None, _) => true,
            (Some(a), true) => *id < a,
            (Some(a), false) => *id > a,
        })
        .take(usize::try_from(request.limit + 1).unwrap_or(usize::MAX))
        .collect();
    rows_in_order(conn, spec, wanted).await
}

/// The rows of `wanted` (ids), in that order.
async fn rows_in_order<E, C>(
    conn: &C,
    spec: &ListSpec<E>,
    wanted: Vec<i64>,
) -> StoreResult<Rows<E::Model>>
where
    E: EntityTrait,
    E::Model: ModelTrait<Entity = E> + Sync,
    C: ConnectionTrait,
{
    if wanted.is_empty() {
        return Ok(Rows(Vec::new()));
    }
    let mut rows = E::find()
        .filter(spec.id.is_in(wanted.clone()))
        .all(conn)
        .await?;
    let rank = |row: &E::Model| {
        let id = id_of(&row.get(spec.id)).unwrap_or(i64::MIN);
        wanted.iter().position(|w| *w == id).unwrap_or(usize::MAX)
    };
    rows.sort_by_key(rank);
    Ok(Rows(rows))
}

/// `select`'s query reading the ids it matches, up to `upto`, on `index` (SQLite).
fn capped_ids<E: EntityTrait>(
    select: &Select<E>,
    index: Option<&str>,
    id: E::Column,
    upto: u64,
    backend: DatabaseBackend,
) -> Statement {
    let inner = select.clone().select_only().column(id).limit(upto);
    indexed_by(inner.build(backend), E::default().table_name(), index)
}

/// How many rows `plan` matches, up to one past its cap (so that the caller knows the
/// total, or that it is capped), counted in the engine: no more index entries or rows are
/// read than that many matching ones, and none is sent.
async fn count_capped<E, C>(conn: &C, plan: &PagePlan<E>, id: E::Column) -> StoreResult<u64>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    count_upto(conn, &plan.select, plan.index, id, plan.cap + 1).await
}

/// How many rows `select` matches, counted in the engine up to `upto` and no further (on
/// `index`, SQLite): a probe of how far a range reaches, at most `upto` entries read.
pub async fn count_upto<E, C>(
    conn: &C,
    select: &Select<E>,
    index: Option<&str>,
    id: E::Column,
    upto: u64,
) -> StoreResult<u64>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let backend = conn.get_database_backend();
    let ids = capped_ids(select, index, id, upto, backend);
    let statement = Statement::from_sql_and_values(
        backend,
        format!("SELECT COUNT(*) FROM ({}) AS capped", ids.sql),
        ids.values.map(|v| v.0).unwrap_or_default(),
    );
    let row = conn.query_one_raw(statement).await?;
    let n: i64 = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    Ok(n.unsigned_abs())
}

/// The ids `plan` matches, up to one past its cap. Reads no more than that many index
/// entries or rows once they match.
async fn matching_ids<E, C>(conn: &C, plan: &PagePlan<E>, id: E::Column) -> StoreResult<Vec<i64>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let statement = capped_ids(
        &plan.select,
        plan.index,
        id,
        plan.cap + 1,
        conn.get_database_backend(),
    );
    let rows = conn.query_all_raw(statement).await?;
    rows.iter()
        .map(|row| row.try_get_by_index::<i64>(0).map_err(StoreError::from))
        .collect()
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
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
