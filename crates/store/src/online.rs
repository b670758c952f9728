//! Who is online and what they used: subscribers' sessions as `radacct` holds them (written
//! by the built-in server or by FreeRADIUS alike) and their usage per day
//! (`customer_usage`), read for the panel and the API in the caller's scope. The database
//! keeps the customer of each session, the open-session count and the daily usage itself
//! (`m20261209_000016_sessions_usage`): nothing here sums or scans `radacct`.
//!
//! The sessions list follows the list contract, newest first (by id), its total stopping
//! at 1 000 (`SEARCH_CAP`); its filters are the
//! tenant (`radacct_tenant_idx`, the open ones `radacct_tenant_open_idx`), the customer
//! (`radacct_customer_id_idx`), the router (its RADIUS address) and open or closed. A
//! reseller sees its customers' sessions; a session of a user name no customer holds is
//! the Developer's alone. The page's times and addresses are read afterwards, by id, per
//! engine (`radacct` keeps Unix seconds on SQLite, timestamps and `inet` on PostgreSQL).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

use crate::entity::radacct::{Column, Entity, Model};
use crate::entity::{customer, customer_usage};
use crate::error::StoreResult;
use crate::list::{ListSpec, Page, PagePlan, PageRequest, SEARCH_CAP, SortColumn, SortKind};
use crate::scope;
use domain::access::{CustomerScope, Scope};
use domain::ids::TenantId;

/// The sessions list: newest first, by id.
pub static SESSIONS: ListSpec<Entity> = ListSpec {
    sorts: &[SortColumn {
        name: "id",
        column: Column::Radacctid,
        kind: SortKind::Int,
    }],
    id: Column::Radacctid,
    default_sort: "-id",
};

/// Filters of the sessions list.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// Only this tenant's.
    pub tenant_id: Option<TenantId>,
    /// Only this customer's.
    pub customer_id: Option<i64>,
    /// Only sessions on the router with this RADIUS address (`router.nas_address`).
    pub nas_address: Option<String>,
    /// Open (no stop yet) or closed.
    pub open: Option<bool>,
}

/// A subscriber's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// `radacct.radacctid`.
    pub id: i64,
    /// The customer's tenant, when the user name is a customer's.
    pub tenant_id: Option<i64>,
    /// The customer.
    pub customer_id: Option<i64>,
    /// The router whose RADIUS address the session came from, when it is one.
    pub router_id: Option<i64>,
    /// User-Name.
    pub username: String,
    /// Acct-Session-Id.
    pub acct_session_id: String,
    /// The router's address as the session names it.
    pub nas_ip: String,
    /// The subscriber's address, when it has one.
    pub framed_ip: Option<String>,
    /// Calling-Station-Id (the MAC on PPPoE and hotspot).
    pub mac: String,
    /// Started.
    pub started_at: Option<DateTime<Utc>>,
    /// Last record.
    pub updated_at: Option<DateTime<Utc>>,
    /// Stopped (closed by a Stop, a router's reboot or as stale).
    pub stopped_at: Option<DateTime<Utc>>,
    /// Acct-Terminate-Cause.
    pub terminate_cause: String,
    /// Bytes from the subscriber, 64-bit.
    pub input_octets: i64,
    /// Bytes to the subscriber, 64-bit.
    pub output_octets: i64,
}

/// A page of the sessions the caller sees.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &CustomerScope,
    filter: &SessionFilter,
    page: &PageRequest,
) -> StoreResult<Page<Session>> {
    let backend = conn.get_database_backend();
    let mut select = Entity::find().filter(visible(scope));
    if let Some(tenant) = filter.tenant_id {
        select = select.filter(Column::TenantId.eq(tenant.0));
    }
    if let Some(customer) = filter.customer_id {
        select = select.filter(Column::CustomerId.eq(customer));
    }
    if let Some(address) = &filter.nas_address {
        let cast = match backend {
            DatabaseBackend::Postgres => "nasipaddress = CAST($1 AS inet)",
            _ => "nasipaddress = ?",
        };
        select = select.filter(Expr::cust_with_values(cast, [address.clone()]));
    }
    match filter.open {
        Some(true) => select = select.filter(Expr::cust("acctstoptime IS NULL")),
        Some(false) => select = select.filter(Expr::cust("acctstoptime IS NOT NULL")),
        None => {}
    }
    // Its total stops at SEARCH_CAP ("1 000+"): a reseller's sessions are found by looking
    // each session's customer up, and counting ten thousand of them read thirty thousand.
    let plan = || PagePlan {
        cap: SEARCH_CAP,
        ..PagePlan::new(select.clone())
    };
    let page = crate::list::fetch_planned(conn, &SESSIONS, plan(), page, |_| plan()).await?;
    let mut details = details(conn, &page.items).await?;
    Ok(page.map(|row| {
        let detail = details.remove(&row.radacctid).unwrap_or_default();
        session(row, detail)
    }))
}

/// The sessions a scope sees: its tenants' (the tenant column), a reseller's customers'.
fn visible(scope: &CustomerScope) -> Condition {
    match scope.get() {
        Scope::All => Condition::all(),
        Scope::Tenant(tenant) => Condition::all().add(Column::TenantId.eq(tenant.0)),
        Scope::Subtree { tenant, .. } => Condition::all()
            .add(Column::TenantId.eq(tenant.0))
            .add(Column::CustomerId.in_subquery(customers_of(scope))),
        Scope::OwnedTenants(_) | Scope::Only(_) => {
            Condition::all().add(Column::CustomerId.in_subquery(customers_of(scope)))
        }
    }
}

fn customers_of(scope: &CustomerScope) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(customer::Column::Id)
        .from(customer::Entity)
        .cond_where(scope::customers(scope))
        .to_owned()
}

/// What the entity does not read alike on both engines.
#[derive(Debug, Default)]
struct Detail {
    router_id: Option<i64>,
    nas_ip: String,
    framed_ip: Option<String>,
    started_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    stopped_at: Option<DateTime<Utc>>,
}

/// The times, addresses and router of the sessions `rows`, by id.
async fn details<C: ConnectionTrait>(
    conn: &C,
    rows: &[Model],
) -> StoreResult<std::collections::HashMap<i64, Detail>> {
    let mut out = std::collections::HashMap::with_capacity(rows.len());
    if rows.is_empty() {
        return Ok(out);
    }
    let backend = conn.get_database_backend();
    // Ids come from the database as integers: listed as literals.
    let ids: Vec<String> = rows.iter().map(|r| r.radacctid.to_string()).collect();
    let ids = ids.join(", ");
    let sql = match backend {
        DatabaseBackend::Postgres => format!(
            "SELECT r.radacctid, host(r.nasipaddress), host(r.framedipaddress), \
                    CAST(EXTRACT(EPOCH FROM r.acctstarttime) AS bigint), \
                    CAST(EXTRACT(EPOCH FROM r.acctupdatetime) AS bigint), \
                    CAST(EXTRACT(EPOCH FROM r.acctstoptime) AS bigint), \
                    (SELECT n.router_id FROM nas n WHERE n.nasname = host(r.nasipaddress) \
                     LIMIT 1) \
             FROM radacct r WHERE r.radacctid IN ({ids})"
        ),
        _ => format!(
            "SELECT r.radacctid, r.nasipaddress, NULLIF(r.framedipaddress, ''), \
                    CAST(r.acctstarttime AS INTEGER), CAST(r.acctupdatetime AS INTEGER), \
                    CAST(r.acctstoptime AS INTEGER), \
                    (SELECT n.router_id FROM nas n WHERE n.nasname = r.nasipaddress LIMIT 1) \
             FROM radacct r WHERE r.radacctid IN ({ids})"
        ),
    };
    let time = |seconds: Option<i64>| seconds.and_then(|s| DateTime::from_timestamp(s, 0));
    for row in conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?
    {
        let id: i64 = row.try_get_by_index(0)?;
        out.insert(
            id,
            Detail {
                nas_ip: row
                    .try_get_by_index::<Option<String>>(1)?
                    .unwrap_or_default(),
                framed_ip: row.try_get_by_index(2)?,
                started_at: time(row.try_get_by_index(3)?),
                updated_at: time(row.try_get_by_index(4)?),
                stopped_at: time(row.try_get_by_index(5)?),
                router_id: row.try_get_by_index(6)?,
            },
        );
    }
    Ok(out)
}

fn session(row: Model, detail: Detail) -> Session {
    Session {
        id: row.radacctid,
        tenant_id: row.tenant_id,
        customer_id: row.customer_id,
        router_id: detail.router_id,
        username: row.username.unwrap_or_default(),
        acct_session_id: row.acctsessionid,
        nas_ip: detail.nas_ip,
        framed_ip: detail.framed_ip,
        mac: row.callingstationid.unwrap_or_default(),
        started_at: detail.started_at,
        updated_at: detail.updated_at,
        stopped_at: detail.stopped_at,
        terminate_cause: row.acctterminatecause.unwrap_or_default(),
        input_octets: row.acctinputoctets.unwrap_or(0),
        output_octets: row.acctoutputoctets.unwrap_or(0),
    }
}

/// A customer's bytes on one day (the tenant's day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayUsage {
    /// The day.
    pub day: NaiveDate,
    /// Bytes from the subscriber.
    pub input_octets: i64,
    /// Bytes to the subscriber.
    pub output_octets: i64,
}

/// The customer's usage on each day from `first` to `last` (both included) that had any,
/// oldest first. The caller has found the customer in its scope.
pub async fn usage<C: ConnectionTrait>(
    conn: &C,
    customer_id: i64,
    first: NaiveDate,
    last: NaiveDate,
) -> StoreResult<Vec<DayUsage>> {
    if last < first {
        return Ok(Vec::new());
    }
    use customer_usage::Column as U;
    let rows = customer_usage::Entity::find()
        .filter(U::CustomerId.eq(customer_id))
        .filter(U::Day.gte(first))
        .filter(U::Day.lte(last))
        .order_by_asc(U::Day)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| DayUsage {
            day: r.day,
            input_octets: r.input_octets,
            output_octets: r.output_octets,
        })
        .collect())
}

/// The usage of each of the customers `ids` on the days from `first` to `last` (both
/// included) that had any, per customer.
pub async fn usage_many<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
    first: NaiveDate,
    last: NaiveDate,
) -> StoreResult<std::collections::HashMap<i64, Vec<DayUsage>>> {
    use customer_usage::Column as U;
    let mut out: std::collections::HashMap<i64, Vec<DayUsage>> = Default::default();
    if last < first {
        return Ok(out);
    }
    for chunk in ids.chunks(500) {
        let rows = customer_usage::Entity::find()
            .filter(U::CustomerId.is_in(chunk.iter().copied()))
            .filter(U::Day.gte(first))
            .filter(U::Day.lte(last))
            .all(conn)
            .await?;
        for r in rows {
            out.entry(r.customer_id).or_default().push(DayUsage {
                day: r.day,
                input_octets: r.input_octets,
                output_octets: r.output_octets,
            });
        }
    }
    Ok(out)
}

/// The bytes (up and down) of `days` from `first` to `last`, both included.
pub fn bytes_within(days: &[DayUsage], first: NaiveDate, last: NaiveDate) -> i64 {
    days.iter()
        .filter(|d| d.day >= first && d.day <= last)
        .map(|d| d.input_octets.saturating_add(d.output_octets))
        .fold(0i64, i64::saturating_add)
}

/// Which of the customers `ids` are online (have an open session), in one lookup.
pub async fn online_among<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> StoreResult<std::collections::HashSet<i64>> {
    use crate::entity::customer_online::{Column as Online, Entity as OnlineEntity};
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let online: Vec<i64> = OnlineEntity::find()
        .select_only()
        .column(Online::CustomerId)
        .filter(Online::CustomerId.is_in(ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(online.into_iter().collect())
}

/// Whether customer `id` is online.
pub async fn is_online<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<bool> {
    Ok(online_among(conn, &[id]).await?.contains(&id))
}

/// Which packages' online customers a pass over them reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnPackages {
    /// Packages with a volume cap or FUP steps.
    Capped,
    /// These packages.
    AnyOf(Vec<i64>),
}

/// The next `limit` customers online after the id `after` (by `customer_online`'s key, a
/// range of its index), those of them on the packages `on`, and where the next read starts
/// (`None` when no one online is left after them). A pass over every online customer of
/// some packages reads ranges of the index however few of them the packages hold.
pub async fn online_after<C: ConnectionTrait>(
    conn: &C,
    on: &OnPackages,
    after: i64,
    limit: u64,
) -> StoreResult<(Vec<i64>, Option<i64>)> {
    use crate::entity::{customer_online, package};
    use sea_orm::sea_query::ExprTrait as _;
    let online: Vec<i64> = customer_online::Entity::find()
        .select_only()
        .column(customer_online::Column::CustomerId)
        .filter(customer_online::Column::CustomerId.gt(after))
        .order_by_asc(customer_online::Column::CustomerId)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?;
    let next = (online.len() as u64 >= limit)
        .then(|| online.last().copied())
        .flatten();
    if online.is_empty() {
        return Ok((Vec::new(), next));
    }
    let on = Query::select()
        .column((customer::Entity, customer::Column::Id))
        .from(customer::Entity)
        .inner_join(
            package::Entity,
            Expr::col((package::Entity, package::Column::Id))
                .equals((customer::Entity, customer::Column::PackageId)),
        )
        .and_where(Expr::col((customer::Entity, customer::Column::Id)).is_in(online))
        .and_where(match on {
            OnPackages::Capped => Expr::col((package::Entity, package::Column::VolumeBytes))
                .is_not_null()
                .or(Expr::col((package::Entity, package::Column::Fup)).ne("")),
            OnPackages::AnyOf(ids) => {
                Expr::col((package::Entity, package::Column::Id)).is_in(ids.iter().copied())
            }
        })
        .order_by(
            (customer::Entity, customer::Column::Id),
            sea_orm::Order::Asc,
        )
        .to_owned();
    let backend = conn.get_database_backend();
    let rows = conn.query_all_raw(backend.build(&on)).await?;
    let ids = rows
        .iter()
        .map(|r| r.try_get_by_index::<i64>(0))
        .collect::<Result<Vec<i64>, _>>()?;
    Ok((ids, next))
}

/// The open sessions of the customers `ids`, in one read (and one for their details).
pub async fn open_of<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> StoreResult<Vec<Session>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let rows = Entity::find()
            .filter(Column::CustomerId.is_in(chunk.iter().copied()))
            .filter(Expr::cust("acctstoptime IS NULL"))
            .order_by_asc(Column::Radacctid)
            .all(conn)
            .await?;
        let mut details = details(conn, &rows).await?;
        out.extend(rows.into_iter().map(|row| {
            let detail = details.remove(&row.radacctid).unwrap_or_default();
            session(row, detail)
        }));
    }
    Ok(out)
}
