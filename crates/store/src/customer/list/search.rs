//! The customer list's search box: its terms read from their own indexes first (a narrow
//! search is a list of ids, given to the list as values), or, when it matches more than the
//! cap, checked on each index entry or row the list's access path reaches.

use sea_orm::sea_query::{
    Alias, ArrayType, Expr, ExprTrait as _, LikeExpr, Query, SelectStatement, UnionType,
};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, Value};

use super::{Access, Path, Search};
use crate::entity::customer::{Column, Entity};
use crate::error::StoreResult;
use crate::list::TOTAL_CAP;
use domain::ids::TenantId;

/// The search box, as the query uses it.
#[derive(Debug, Clone)]
pub(super) enum SearchTerms {
    /// At most [`TOTAL_CAP`] matches: their ids, read from the `UNION ALL` of one indexed
    /// select per term (an `OR` would make SQLite test every row of one index), and given
    /// to the list as values (see [`id_among`]).
    Ids(Vec<i64>),
    /// More matches than that (a prefix most user names share): the terms checked on each
    /// index entry the other filters or the sort order reach.
    Entries(Search),
}

/// The search's terms: first reads its matches' ids (up to one past the cap, from the
/// terms' own indexes) to learn whether it narrows the list or not.
pub(super) async fn search_terms<C: ConnectionTrait>(
    conn: &C,
    search: &Search,
    tenant: Option<TenantId>,
) -> StoreResult<SearchTerms> {
    let backend = conn.get_database_backend();
    let ids = search_union(search, tenant, backend)
        .limit(TOTAL_CAP + 1)
        .to_owned();
    let mut found = Vec::new();
    for row in conn.query_all(&ids).await? {
        found.push(row.try_get_by_index::<i64>(0)?);
    }
    Ok(if found.len() as u64 > TOTAL_CAP {
        SearchTerms::Entries(search.clone())
    } else {
        // A customer matching on two terms comes once per term.
        found.sort_unstable();
        found.dedup();
        SearchTerms::Ids(found)
    })
}

/// `id` (a column term of the access path) is one of `ids`. The ids are values, not a
/// subquery: the engine then knows how many there are, looks each up when the ids drive
/// the query, and checks each row against a hashed set when an index drives it. (Given
/// the subquery, PostgreSQL guessed one row for the filters it could not judge and ran the
/// whole search again for each row of a 300 000-row reseller.) On PostgreSQL they are one
/// array parameter; on SQLite a list of at most [`TOTAL_CAP`] parameters.
pub(super) fn id_among(id: Expr, ids: &[i64], backend: DatabaseBackend) -> Expr {
    match backend {
        DatabaseBackend::Sqlite => id.is_in(ids.iter().copied()),
        _ => {
            // Bound as an array of bigint, not as its text with a cast: a text cast to
            // `bigint[]` is not a constant to PostgreSQL (the array input function is
            // only stable), so a filter checking it on each index entry parsed all the
            // ids again per entry (7 s for 5 000 ids over 33 000 entries) instead of
            // looking them up in a hashed set built once.
            let array = Value::Array(
                ArrayType::BigInt,
                Some(Box::new(ids.iter().map(|i| Value::from(*i)).collect())),
            );
            Expr::cust_with_exprs("$1 = ANY($2)", [id, Expr::val(array)])
        }
    }
}

/// The lower-cased text of the search box, and its name part (3 characters or more).
fn search_text(search: &Search) -> (String, Option<String>) {
    let text = search.text.trim().to_lowercase();
    let name = (text.chars().count() >= 3).then(|| text.clone());
    (text, name)
}

/// The search box checked on each index entry or row (a search matching too many to list
/// by id): the prefixes on columns the list's covering indexes carry, kept out of the
/// planner's reach; the name part on SQLite as the id `IN` the FTS5 table's matches (the
/// id is in every index entry), on PostgreSQL on the row.
pub(super) fn search_entries(search: &Search, a: Access) -> Condition {
    let (text, name) = search_text(search);
    let prefix = |column: Column, prefix: &str| match a.backend {
        DatabaseBackend::Sqlite => match prefix_upper_bound(prefix) {
            Some(upper) => Condition::all()
                .add(a.hidden(column).gte(prefix))
                .add(a.hidden(column).lt(upper)),
            None => Condition::all(),
        },
        // The stored case (user-name keys lower, MACs upper, mobiles digits), so no LOWER.
        _ => Condition::all()
            .add(a.hidden(column).like(
                LikeExpr::new(format!("{}%", crate::list::escape_like(prefix))).escape('\\'),
            )),
    };
    let mut any = Condition::any().add(prefix(Column::UsernameKey, &text));
    if let Some((low, high)) = search.ip_range {
        any = any.add(
            Condition::all()
                .add(a.hidden(Column::StaticIp).gte(i64::from(low)))
                .add(a.hidden(Column::StaticIp).lte(i64::from(high))),
        );
    }
    if let Some(mac) = &search.mac_prefix {
        any = any.add(prefix(Column::Mac, mac));
    }
    if let Some(mobile) = &search.mobile_prefix {
        any = any.add(prefix(Column::Mobile, mobile));
    }
    if let Some(name) = name {
        any = any.add(match a.backend {
            DatabaseBackend::Sqlite => a
                .hidden(Column::Id)
                .in_subquery(name_matches(&name, a.backend)),
            // Checked on the entry or row, not as the ids of the trigram index's matches:
            // PostgreSQL hashes such a subquery under an `OR` only while its guess of the
            // matches fits in memory, and past that runs it again for each row checked.
            // The covering indexes carry the lowered name; the walked rows of a sort
            // order (`list::fetch_planned`) are the entity's columns, the name among them.
            _ if matches!(a.path, Path::SortOrder(_)) => crate::list::contains(Column::Name, &name),
            _ => name_key_contains(&name),
        });
    }
    any
}

/// The terms of the search box that an index answers: user-name prefix, address range,
/// MAC prefix, mobile prefix.
fn indexed_terms(
    search: &Search,
    text: &str,
    tenant: Option<TenantId>,
    backend: DatabaseBackend,
) -> Vec<Condition> {
    // The address and MAC indexes lead with the tenant; the user-name and mobile ones do not
    // (given a tenant there, SQLite would walk a tenant index instead of the prefix range).
    let in_tenant = |condition: Condition| match tenant {
        Some(t) => condition.add(Column::TenantId.eq(t.0)),
        None => condition,
    };
    let mut terms = vec![starts_with(Column::UsernameKey, text, backend)];
    if let Some((low, high)) = search.ip_range {
        terms.push(in_tenant(
            Condition::all()
                .add(Column::StaticIp.gte(i64::from(low)))
                .add(Column::StaticIp.lte(i64::from(high))),
        ));
    }
    if let Some(prefix) = &search.mac_prefix {
        terms.push(match backend {
            DatabaseBackend::Sqlite => in_tenant(mac_starts_with(prefix, backend)),
            // The pattern index is partial (live customers only): the term says so, or
            // PostgreSQL cannot use it; it has no tenant column to lead with.
            _ => mac_starts_with(prefix, backend).add(Column::ArchivedAt.is_null()),
        });
    }
    if let Some(prefix) = &search.mobile_prefix {
        terms.push(starts_with(Column::Mobile, prefix, backend));
    }
    terms
}

/// The ids the search matches, as a `UNION ALL` of one indexed select per term (the name
/// part from the FTS5 trigram table on SQLite, the trigram index on PostgreSQL).
fn search_union(
    search: &Search,
    tenant: Option<TenantId>,
    backend: DatabaseBackend,
) -> SelectStatement {
    let (text, name) = search_text(search);
    let mut selects = indexed_terms(search, &text, tenant, backend)
        .into_iter()
        .map(|term| {
            Query::select()
                .column(Column::Id)
                .from(Entity)
                .cond_where(term)
                .to_owned()
        })
        .chain(name.map(|n| name_matches(&n, backend)));
    // The user-name term is always there.
    let mut union = selects
        .next()
        .unwrap_or_else(|| Query::select().column(Column::Id).from(Entity).to_owned());
    for select in selects {
        union.union(UnionType::All, select);
    }
    union
}

/// The MAC starts with `prefix` (upper case, as stored). SQLite takes the range of the
/// plain index; PostgreSQL the `LIKE` on the lowered column, served by its pattern index
/// (`m20261204_000007_search_indexes`).
fn mac_starts_with(prefix: &str, backend: DatabaseBackend) -> Condition {
    match (backend, prefix_upper_bound(prefix)) {
        (DatabaseBackend::Sqlite, Some(upper)) => Condition::all()
            .add(Column::Mac.gte(prefix))
            .add(Column::Mac.lt(upper)),
        _ => Condition::all().add(crate::list::starts_with(Column::Mac, prefix)),
    }
}

/// `column` (lower case already: the user-name key, the E.164 mobile) starts with `text`.
/// On SQLite this is the range `text <= column < next(text)` of the column's index (SQLite
/// uses no index for `LIKE` on a column of the default collation, and the binary order is
/// the order of code points, so the range holds exactly the values with that prefix).
/// PostgreSQL compares text by the database's collation, where a range is not a prefix:
/// there the `LIKE` on the column itself is served by its `text_pattern_ops` index, which
/// carries the id (`m20261207_000012_prefix_ids`), so the matches' ids are read from the
/// index alone.
fn starts_with(column: Column, text: &str, backend: DatabaseBackend) -> Condition {
    match (backend, prefix_upper_bound(text)) {
        (DatabaseBackend::Sqlite, Some(upper)) => {
            Condition::all().add(column.gte(text)).add(column.lt(upper))
        }
        (DatabaseBackend::Sqlite, None) => {
            Condition::all().add(crate::list::starts_with(column, text))
        }
        _ => Condition::all().add(Expr::col(column).like(LikeExpr::new(format!(
            "{}%",
            crate::list::escape_like(text)
        )))),
    }
}

/// The least string greater than every string starting with `prefix`: `prefix` with its
/// last character stepped up by one. None for an empty prefix or one ending in the last
/// code point.
pub(super) fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The ids of the customers whose name contains `text` (3 characters or more): from the
/// FTS5 trigram table on SQLite, by `name_key LIKE '%text%'` on PostgreSQL (its trigram
/// index).
fn name_matches(text: &str, backend: DatabaseBackend) -> SelectStatement {
    if backend != DatabaseBackend::Sqlite {
        return Query::select()
            .column(Column::Id)
            .from(Entity)
            .and_where(name_key_contains(text))
            .to_owned();
    }
    let phrase = format!("\"{}\"", text.replace('"', "\"\""));
    Query::select()
        .expr(Expr::col(Alias::new("rowid")))
        .from(Alias::new("customer_fts"))
        .and_where(Expr::cust_with_values("customer_fts MATCH ?", [phrase]))
        .to_owned()
}

/// PostgreSQL: the customer's lower-cased name (`name_key`, a column the database
/// generates from `name`, `m20261208_000013_name_key`) contains `text` (lower case).
fn name_key_contains(text: &str) -> Expr {
    Expr::col((Entity, Alias::new("name_key")))
        .like(LikeExpr::new(format!("%{}%", crate::list::escape_like(text))).escape('\\'))
}

#[cfg(test)]
mod tests {
    use super::prefix_upper_bound;

    #[test]
    fn the_upper_bound_of_a_prefix_steps_its_last_character() {
        assert_eq!(prefix_upper_bound("abc").as_deref(), Some("abd"));
        assert_eq!(prefix_upper_bound("a9").as_deref(), Some("a:"));
        assert_eq!(
            prefix_upper_bound("a\u{d7ff}").as_deref(),
            Some("a\u{e000}")
        );
        assert_eq!(prefix_upper_bound("a\u{10ffff}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{10ffff}"), None);
        assert_eq!(prefix_upper_bound(""), None);
    }
}
