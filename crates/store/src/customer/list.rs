//! The customer list: every filter on an indexed column, the search box over name, mobile,
//! user name, IP and MAC, keyset paging and capped totals (the list contract). It stays fast
//! at 10^6 customers: no filter scans the table.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Query};
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
    /// The text read as an IPv4 address.
    pub ip: Option<u32>,
    /// The text read as a MAC address (RouterOS form).
    pub mac: Option<String>,
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
    /// Only this zone.
    pub zone_id: Option<i64>,
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

fn search_condition(search: &Search, backend: DatabaseBackend) -> Condition {
    let text = search.text.trim().to_lowercase();
    let mut any = Condition::any().add(crate::list::starts_with(Column::UsernameKey, &text));
    if let Some(ip) = search.ip {
        any = any.add(Column::StaticIp.eq(i64::from(ip)));
    }
    if let Some(mac) = &search.mac {
        any = any.add(Column::Mac.eq(mac.as_str()));
    }
    if let Some(prefix) = &search.mobile_prefix {
        any = any.add(Column::Mobile.starts_with(prefix.as_str()));
    }
    if text.chars().count() >= 3 {
        any = any.add(name_contains(&text, backend));
    }
    any
}

/// `name` contains `text` (3 characters or more): served by the trigram index on PostgreSQL
/// and the FTS5 trigram table on SQLite.
fn name_contains(text: &str, backend: DatabaseBackend) -> Condition {
    match backend {
        DatabaseBackend::Postgres => {
            Condition::all().add(crate::list::contains(Column::Name, text))
        }
        _ => {
            let phrase = format!("\"{}\"", text.replace('"', "\"\""));
            let matches = Query::select()
                .expr(Expr::col(Alias::new("rowid")))
                .from(Alias::new("customer_fts"))
                .and_where(Expr::cust_with_values("customer_fts MATCH ?", [phrase]))
                .to_owned();
            Condition::all().add(Column::Id.in_subquery(matches))
        }
    }
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
    if let Some(v) = filter.zone_id {
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
        select = select.filter(search_condition(search, conn.get_database_backend()));
    }
    if sort_is_expiry {
        select = select.filter(Column::ExpiresAt.is_not_null());
    }
    crate::list::fetch(conn, &LIST, select, page).await
}
