//! The customer list: every filter on an indexed column, the search box over name, mobile,
//! user name, IP and MAC, keyset paging and capped totals (the list contract). It stays fast
//! at 10^6 customers: no filter scans the table.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement, UnionType};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter};

use super::Customer;
use crate::entity::customer::{Column, Entity};
use crate::error::StoreResult;
use crate::list::{ListSpec, Page, PageRequest, SortColumn, SortKind};
use crate::scope;
use domain::access::CustomerScope;
use domain::customer::{BillingType, CustomerStatus};
use domain::ids::{TenantId, UserId};
use domain::package::ConnectionType;

/// The customer list: sortable by id, name, user name, creation and expiry (sorting by
/// expiry lists only customers that have one).
pub static LIST: ListSpec<Entity> = ListSpec {
    sorts: &[
        SortColumn {
            name: "id",
            column: Column::Id,
            kind: SortKind::Int,
        },
        SortColumn {
            name: "name",
            column: Column::Name,
            kind: SortKind::Text,
        },
        SortColumn {
            name: "username",
            column: Column::UsernameKey,
            kind: SortKind::Text,
        },
        SortColumn {
            name: "created_at",
            column: Column::CreatedAt,
            kind: SortKind::Time,
        },
        SortColumn {
            name: "expires_at",
            column: Column::ExpiresAt,
            kind: SortKind::Time,
        },
    ],
    id: Column::Id,
    default_sort: "-id",
};

/// The status filter, the derived states included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Active and in service (not expired).
    Active,
    /// Prepaid, active, past its expiry.
    Expired,
    /// Prepaid, active, expiring within the day given.
    ExpiresToday,
    /// Suspended.
    Suspended,
    /// Disabled.
    Disabled,
}

impl StatusFilter {
    /// Parses `active`, `expired`, `expires_today`, `suspended`, `disabled`.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.trim() {
            "active" => StatusFilter::Active,
            "expired" => StatusFilter::Expired,
            "expires_today" => StatusFilter::ExpiresToday,
            "suspended" => StatusFilter::Suspended,
            "disabled" => StatusFilter::Disabled,
            _ => return None,
        })
    }
}

/// What the search box matched on, prepared by the caller (who knows the tenant's country).
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// The text as typed (user name prefix; name part when 3 characters or more).
    pub text: String,
    /// The text read as an IPv4 address or the start of one: the addresses it stands for.
    pub ip_range: Option<(u32, u32)>,
    /// The text read as the start of a MAC address (RouterOS form).
    pub mac_prefix: Option<String>,
    /// The text read as the start of an E.164 mobile number.
    pub mobile_prefix: Option<String>,
}

/// Filters of the customer list.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Only this tenant.
    pub tenant_id: Option<TenantId>,
    /// Only this status.
    pub status: Option<StatusFilter>,
    /// Only this connection type.
    pub connection_type: Option<ConnectionType>,
    /// Only this billing type.
    pub billing_type: Option<BillingType>,
    /// Only this package.
    pub package_id: Option<i64>,
    /// Only this home router.
    pub router_id: Option<i64>,
    /// Only this zone (and, through `zone_ids`, the zones inside it).
    pub zone_id: Option<i64>,
    /// Only these zones (a zone and those inside it), when given: wins over `zone_id`.
    pub zone_ids: Vec<i64>,
    /// Only customers of this operator or sub-operator.
    pub owner_id: Option<UserId>,
    /// Expiring before this time.
    pub expires_before: Option<DateTime<Utc>>,
    /// Expiring at or after this time.
    pub expires_after: Option<DateTime<Utc>>,
    /// With this static address.
    pub ip: Option<u32>,
    /// Bound to this MAC (RouterOS form).
    pub mac: Option<String>,
    /// The search box.
    pub search: Option<Search>,
    /// The time derived states are judged at.
    pub now: DateTime<Utc>,
    /// The current day (start, end) in the tenant's zone, for `expires_today`.
    pub today: (DateTime<Utc>, DateTime<Utc>),
}

fn prepaid_active() -> Condition {
    Condition::all()
        .add(Column::Status.eq(CustomerStatus::Active.as_str()))
        .add(Column::BillingType.eq(BillingType::Prepaid.as_str()))
}

fn status_condition(status: StatusFilter, filter: &CustomerFilter) -> Condition {
    match status {
        StatusFilter::Active => Condition::all()
            .add(Column::Status.eq(CustomerStatus::Active.as_str()))
            .add(
                Condition::any()
                    .add(Column::BillingType.ne(BillingType::Prepaid.as_str()))
                    .add(Column::ExpiresAt.gt(filter.now)),
            ),
        StatusFilter::Expired => prepaid_active().add(
            Condition::any()
                .add(Column::ExpiresAt.is_null())
                .add(Column::ExpiresAt.lte(filter.now)),
        ),
        StatusFilter::ExpiresToday => prepaid_active()
            .add(Column::ExpiresAt.gte(filter.today.0))
            .add(Column::ExpiresAt.lt(filter.today.1)),
        StatusFilter::Suspended => {
            Condition::all().add(Column::Status.eq(CustomerStatus::Suspended.as_str()))
        }
        StatusFilter::Disabled => {
            Condition::all().add(Column::Status.eq(CustomerStatus::Disabled.as_str()))
        }
    }
}

/// The search box: any of the user-name prefix, the address, the MAC, the mobile prefix
/// and (3 characters or more) a part of the name.
///
/// PostgreSQL answers the `OR` of these with a `BitmapOr` of their indexes. SQLite walks
/// one index for the whole `OR` and tests every row of it (a scan of the tenant, 0.3 s at
/// 10^6 customers), so there the search is `id IN (…)` of a `UNION ALL` of one indexed
/// select per term.
fn search_condition(
    search: &Search,
    tenant: Option<TenantId>,
    backend: DatabaseBackend,
) -> Condition {
    let text = search.text.trim().to_lowercase();
    // The address and MAC indexes lead with the tenant; the user-name and mobile ones do not
    // (given a tenant there, SQLite would walk a tenant index instead of the prefix range).
    let in_tenant = |condition: Condition| match tenant {
        Some(t) => condition.add(Column::TenantId.eq(t.0)),
        None => condition,
    };
    let mut terms = vec![starts_with(Column::UsernameKey, &text, backend)];
    if let Some((low, high)) = search.ip_range {
        terms.push(in_tenant(
            Condition::all()
                .add(Column::StaticIp.gte(i64::from(low)))
                .add(Column::StaticIp.lte(i64::from(high))),
        ));
    }
    if let Some(prefix) = &search.mac_prefix {
        terms.push(in_tenant(mac_starts_with(prefix, backend)));
    }
    if let Some(prefix) = &search.mobile_prefix {
        terms.push(starts_with(Column::Mobile, prefix, backend));
    }
    let name = (text.chars().count() >= 3).then_some(text.as_str());
    if backend == DatabaseBackend::Postgres {
        let mut any = Condition::any();
        for term in terms {
            any = any.add(term);
        }
        if let Some(name) = name {
            any = any.add(crate::list::contains(Column::Name, name));
        }
        return any;
    }
    let mut union: Option<SelectStatement> = None;
    for term in terms {
        let mut select = Query::select();
        select.column(Column::Id).from(Entity).cond_where(term);
        union = Some(match union {
            Some(mut all) => all.union(UnionType::All, select).to_owned(),
            None => select,
        });
    }
    if let Some(name) = name {
        let matches = name_matches(name);
        union = Some(match union {
            Some(mut all) => all.union(UnionType::All, matches).to_owned(),
            None => matches,
        });
    }
    match union {
        Some(ids) => Condition::all().add(Column::Id.in_subquery(ids)),
        None => Condition::all(),
    }
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
/// there the `LIKE` is served by the column's `text_pattern_ops` index.
fn starts_with(column: Column, text: &str, backend: DatabaseBackend) -> Condition {
    match (backend, prefix_upper_bound(text)) {
        (DatabaseBackend::Sqlite, Some(upper)) => {
            Condition::all().add(column.gte(text)).add(column.lt(upper))
        }
        _ => Condition::all().add(crate::list::starts_with(column, text)),
    }
}

/// The least string greater than every string starting with `prefix`: `prefix` with its
/// last character stepped up by one. None for an empty prefix or one ending in the last
/// code point.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
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

/// On SQLite, the ids of the customers whose name contains `text` (3 characters or more),
/// from the FTS5 trigram table. (PostgreSQL matches `LOWER(name) LIKE '%text%'` with its
/// trigram index.)
fn name_matches(text: &str) -> SelectStatement {
    let phrase = format!("\"{}\"", text.replace('"', "\"\""));
    Query::select()
        .expr(Expr::col(Alias::new("rowid")))
        .from(Alias::new("customer_fts"))
        .and_where(Expr::cust_with_values("customer_fts MATCH ?", [phrase]))
        .to_owned()
}

/// A page of the customers the caller sees.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &CustomerScope,
    filter: &CustomerFilter,
    page: &PageRequest,
    sort_is_expiry: bool,
) -> StoreResult<Page<Customer>> {
    let mut select = Entity::find()
        .filter(scope::customers(scope))
        .filter(Column::ArchivedAt.is_null());
    if let Some(t) = filter.tenant_id {
        select = select.filter(Column::TenantId.eq(t.0));
    }
    if let Some(status) = filter.status {
        select = select.filter(status_condition(status, filter));
    }
    if let Some(v) = filter.connection_type {
        select = select.filter(Column::ConnectionType.eq(v.as_str()));
    }
    if let Some(v) = filter.billing_type {
        select = select.filter(Column::BillingType.eq(v.as_str()));
    }
    if let Some(v) = filter.package_id {
        select = select.filter(Column::PackageId.eq(v));
    }
    if let Some(v) = filter.router_id {
        select = select.filter(Column::RouterId.eq(v));
    }
    if !filter.zone_ids.is_empty() {
        select = select.filter(Column::ZoneId.is_in(filter.zone_ids.clone()));
    } else if let Some(v) = filter.zone_id {
        select = select.filter(Column::ZoneId.eq(v));
    }
    if let Some(owner) = filter.owner_id {
        select = select.filter(
            Condition::any()
                .add(Column::OperatorId.eq(owner.0))
                .add(Column::SubOperatorId.eq(owner.0)),
        );
    }
    if let Some(v) = filter.expires_before {
        select = select.filter(Column::ExpiresAt.lt(v));
    }
    if let Some(v) = filter.expires_after {
        select = select.filter(Column::ExpiresAt.gte(v));
    }
    if let Some(v) = filter.ip {
        select = select.filter(Column::StaticIp.eq(i64::from(v)));
    }
    if let Some(v) = &filter.mac {
        select = select.filter(Column::Mac.eq(v.as_str()));
    }
    if let Some(search) = &filter.search {
        select = select.filter(search_condition(
            search,
            filter.tenant_id,
            conn.get_database_backend(),
        ));
    }
    if sort_is_expiry {
        select = select.filter(Column::ExpiresAt.is_not_null());
    }
    crate::list::fetch(conn, &LIST, select, page).await
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
