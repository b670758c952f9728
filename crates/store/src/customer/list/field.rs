//! A custom field's value in the customer list (`customer_field_value`,
//! `m20261227_000044_custom_fields`): its matches read first from the value index
//! `(field_id, value_key, customer_id)`, as the search box's are from theirs. Up to the cap
//! they are a list of ids given to the list as values (which drives the query, or is checked
//! on the entries of a narrower candidate); past it, and for an unticked checkbox (no stored
//! value), the value is looked up for each customer a path reads, by the primary key
//! `(customer_id, field_id)`, like online or not.

use sea_orm::sea_query::{
    Expr, ExprTrait as _, LikeExpr, Query, SelectStatement, SubQueryStatement,
};
use sea_orm::{ConnectionTrait, DatabaseBackend};

use super::search::prefix_upper_bound;
use crate::entity::customer;
use crate::entity::customer_field_value::{Column, Entity};
use crate::error::StoreResult;
use crate::list::TOTAL_CAP;
use domain::custom_field::FieldMatch;

/// A filter on a custom field's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldFilter {
    /// The definition (of the tenant listed: the caller found it there).
    pub field_id: i64,
    /// How its value must match.
    pub matcher: FieldMatch,
}

/// The filter, as the query uses it.
#[derive(Debug, Clone)]
pub(super) enum FieldTerms {
    /// At most [`TOTAL_CAP`] customers match: their ids.
    Ids(Vec<i64>),
    /// More than that, or an unticked checkbox: checked for each customer read.
    Probe(FieldFilter),
}

/// Reads the filter's matches from the value index, up to one past the cap.
pub(super) async fn field_terms<C: ConnectionTrait>(
    conn: &C,
    filter: &FieldFilter,
) -> StoreResult<FieldTerms> {
    if filter.matcher == FieldMatch::Unticked {
        return Ok(FieldTerms::Probe(filter.clone()));
    }
    let backend = conn.get_database_backend();
    let mut select = Query::select();
    select
        .column(Column::CustomerId)
        .from(Entity)
        .and_where(Expr::col(Column::FieldId).eq(filter.field_id))
        .and_where(key_matches(&filter.matcher, backend))
        .limit(TOTAL_CAP + 1);
    let mut ids = Vec::new();
    for row in conn.query_all(&select).await? {
        ids.push(row.try_get_by_index::<i64>(0)?);
    }
    Ok(if ids.len() as u64 > TOTAL_CAP {
        FieldTerms::Probe(filter.clone())
    } else {
        ids.sort_unstable();
        FieldTerms::Ids(ids)
    })
}

/// The value key matches: equal, or (text) starting with the prefix. On SQLite a prefix is
/// the range `p <= key < next(p)` of the index; on PostgreSQL a `LIKE 'p%'`, served by the
/// index's `text_pattern_ops` column.
fn key_matches(matcher: &FieldMatch, backend: DatabaseBackend) -> Expr {
    let key = Expr::col((Entity, Column::ValueKey));
    match matcher {
        FieldMatch::Exact(v) => key.eq(v.as_str()),
        FieldMatch::Prefix(p) => match (backend, prefix_upper_bound(p)) {
            (DatabaseBackend::Sqlite, Some(upper)) => {
                key.clone().gte(p.as_str()).and(key.lt(upper))
            }
            _ => key.like(LikeExpr::new(format!("{}%", crate::list::escape_like(p))).escape('\\')),
        },
        // Never read from the index (see `field_terms`).
        FieldMatch::Unticked => key.eq("true"),
    }
}

/// The value looked up for the customer a path reads (a key lookup per customer, written
/// as a scalar subquery, which neither engine turns into a join).
pub(super) fn probe(filter: &FieldFilter, backend: DatabaseBackend) -> Expr {
    let mut lookup: SelectStatement = Query::select();
    lookup
        .expr(Expr::val(1))
        .from(Entity)
        .and_where(
            Expr::col((Entity, Column::CustomerId))
                .equals((customer::Entity, customer::Column::Id)),
        )
        .and_where(Expr::col((Entity, Column::FieldId)).eq(filter.field_id))
        .and_where(key_matches(&filter.matcher, backend))
        .limit(1);
    let found = Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(lookup)));
    match filter.matcher {
        FieldMatch::Unticked => found.is_null(),
        _ => found.is_not_null(),
    }
}
