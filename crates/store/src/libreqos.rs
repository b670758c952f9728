//! The reads of the LibreQoS export (`domain::libreqos`): a tenant's customers in service
//! in the caller's scope, a page at a time by id, with their packages' rates and their
//! open sessions' addresses; and the routers, zones and router/zone pairs the network tree
//! is made of. Nothing is written.
//!
//! Every read is bounded: customers come [`PAGE`] at a time (keyset on the id), the open
//! sessions of a page are found through `radacct`'s index of open sessions by user name
//! (`radacct_open_user_idx`), and the packages of a page by id. Only the tree's inputs
//! (routers, zones, the distinct pairs in use) are read whole: they are as many as the
//! tenant has routers times zones, not customers.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, Value,
};

use crate::entity::code::Stored;
use crate::entity::{customer, package, router, tenant, zone};
use crate::error::StoreResult;
use crate::scope;
use domain::access::{CustomerScope, NetworkScope, TenantScope};
use domain::customer::{BillingType, CustomerStatus};
use domain::ids::TenantId;
use domain::libreqos::{Place, RouterNode, ZoneNode};
use domain::tenant::TenantStatus;

/// Customers read per page.
pub const PAGE: u64 = 1_000;

/// A customer in service as the export reads it, with its package's service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The customer.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its RADIUS user name.
    pub username: String,
    /// Its bound MAC.
    pub mac: Option<String>,
    /// Its router and zone.
    pub place: Place,
    /// Its static address (an integer).
    pub static_ip: Option<i64>,
    /// How it pays (whether it expires).
    pub billing_type: BillingType,
    /// When its paid time ends.
    pub expires_at: Option<DateTime<Utc>>,
    /// Its package's name (empty when the package is not found).
    pub package: String,
    /// Its package's download rate, kbit/s (0 when not found).
    pub down_kbps: i64,
    /// Its package's upload rate, kbit/s (0 when not found).
    pub up_kbps: i64,
    /// The IPv4 addresses of its open sessions.
    pub ipv4: Vec<String>,
    /// The IPv6 addresses and prefixes of its open sessions.
    pub ipv6: Vec<String>,
}

/// The customers of `tenant` whose stored status is active, in `scope`, with ids above
/// `after`, at most [`PAGE`], by id. Session addresses are read for those without a static
/// address.
pub async fn page<C: ConnectionTrait>(
    conn: &C,
    scope: &CustomerScope,
    tenant: TenantId,
    after: i64,
) -> StoreResult<Vec<Candidate>> {
    type Row = (
        i64,
        String,
        String,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Stored<BillingType>,
        Option<DateTime<Utc>>,
        i64,
    );
    use customer::Column as C;
    let rows: Vec<Row> = customer::Entity::find()
        .select_only()
        .columns([
            C::Id,
            C::Name,
            C::Username,
            C::Mac,
            C::RouterId,
            C::ZoneId,
            C::StaticIp,
            C::BillingType,
            C::ExpiresAt,
            C::PackageId,
        ])
        .filter(scope::customers(scope))
        .filter(C::TenantId.eq(tenant.0))
        .filter(C::Status.eq(Stored(CustomerStatus::Active)))
        .filter(C::ArchivedAt.is_null())
        .filter(C::Id.gt(after))
        .order_by_asc(C::Id)
        .limit(PAGE)
        .into_tuple()
        .all(conn)
        .await?;
    let mut package_ids: Vec<i64> = rows.iter().map(|r| r.9).collect();
    package_ids.sort_unstable();
    package_ids.dedup();
    let packages: HashMap<i64, (String, i64, i64)> = package::Entity::find()
        .select_only()
        .columns([
            package::Column::Id,
            package::Column::Name,
            package::Column::DownloadKbps,
            package::Column::UploadKbps,
        ])
        .filter(package::Column::TenantId.eq(tenant.0))
        .filter(package::Column::Id.is_in(package_ids))
        .into_tuple::<(i64, String, i64, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .map(|(id, name, down, up)| (id, (name, down, up)))
        .collect();
    let online: Vec<(i64, &str)> = rows
        .iter()
        .filter(|r| r.6.is_none())
        .map(|r| (r.0, r.2.as_str()))
        .collect();
    let mut sessions = open_addresses(conn, tenant, &online).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (package, down_kbps, up_kbps) = packages.get(&r.9).cloned().unwrap_or_default();
            let (ipv4, ipv6) = sessions.remove(&r.0).unwrap_or_default();
            Candidate {
                id: r.0,
                name: r.1,
                username: r.2,
                mac: r.3,
                place: Place {
                    router: r.4,
                    zone: r.5,
                },
                static_ip: r.6,
                billing_type: r.7.0,
                expires_at: r.8,
                package,
                down_kbps,
                up_kbps,
                ipv4,
                ipv6,
            }
        })
        .collect())
}

type Addresses = (Vec<String>, Vec<String>);

/// The addresses of the open sessions of `customers` (id and user name), by customer:
/// IPv4, then IPv6 (framed address, framed prefix, delegated prefix). Sessions are looked
/// up by user name (as stored and in lower case) on the index of open sessions, and kept
/// only when `radacct` ties them to that customer.
async fn open_addresses<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    customers: &[(i64, &str)],
) -> StoreResult<HashMap<i64, Addresses>> {
    let mut out: HashMap<i64, Addresses> = HashMap::new();
    if customers.is_empty() {
        return Ok(out);
    }
    let backend = conn.get_database_backend();
    let mut names: Vec<String> = customers
        .iter()
        .flat_map(|(_, name)| [(*name).to_owned(), name.to_lowercase()])
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut values: Vec<Value> = vec![tenant.0.into()];
    let placeholder = |n: usize| match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let list: Vec<String> = (0..names.len()).map(|i| placeholder(i + 2)).collect();
    values.extend(names.into_iter().map(Value::from));
    let columns = match backend {
        DatabaseBackend::Postgres => {
            "host(framedipaddress), host(framedipv6address), \
             CAST(framedipv6prefix AS text), CAST(delegatedipv6prefix AS text)"
        }
        _ => "framedipaddress, framedipv6address, framedipv6prefix, delegatedipv6prefix",
    };
    // The tenant is checked on the row, never planned on: its index of open sessions holds
    // the whole tenant's, the user names' holds the page's.
    let tenant_term = match backend {
        DatabaseBackend::Postgres => "COALESCE(tenant_id, tenant_id) = $1",
        _ => "+tenant_id = ?",
    };
    let sql = format!(
        "SELECT customer_id, {columns} FROM radacct \
         WHERE {tenant_term} AND acctstoptime IS NULL AND username IN ({})",
        list.join(", "),
    );
    let wanted: std::collections::HashSet<i64> = customers.iter().map(|(id, _)| *id).collect();
    for row in conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
    {
        let Some(customer) = row.try_get_by_index::<Option<i64>>(0)? else {
            continue;
        };
        if !wanted.contains(&customer) {
            continue;
        }
        let entry = out.entry(customer).or_default();
        for (i, v6) in [(1, false), (2, true), (3, true), (4, true)] {
            if let Some(text) = row.try_get_by_index::<Option<String>>(i)?
                && !text.is_empty()
            {
                if v6 {
                    entry.1.push(text);
                } else {
                    entry.0.push(text);
                }
            }
        }
    }
    Ok(out)
}

/// The distinct router and zone pairs of `tenant`'s customers in service in `scope`: the
/// places the network tree must hold. One pass over the scope's customers, two integer
/// columns each.
pub async fn places<C: ConnectionTrait>(
    conn: &C,
    scope: &CustomerScope,
    tenant: TenantId,
) -> StoreResult<Vec<Place>> {
    use customer::Column as C;
    let pairs: Vec<(Option<i64>, Option<i64>)> = customer::Entity::find()
        .select_only()
        .columns([C::RouterId, C::ZoneId])
        .distinct()
        .filter(scope::customers(scope))
        .filter(C::TenantId.eq(tenant.0))
        .filter(C::Status.eq(Stored(CustomerStatus::Active)))
        .filter(C::ArchivedAt.is_null())
        .filter(
            sea_orm::Condition::any()
                .add(C::RouterId.is_not_null())
                .add(C::ZoneId.is_not_null()),
        )
        .into_tuple()
        .all(conn)
        .await?;
    Ok(pairs
        .into_iter()
        .map(|(router, zone)| Place { router, zone })
        .collect())
}

/// The live routers of `tenant` in `scope`, by id.
pub async fn routers<C: ConnectionTrait>(
    conn: &C,
    scope: &NetworkScope,
    tenant: TenantId,
) -> StoreResult<Vec<RouterNode>> {
    let rows: Vec<(i64, String)> = router::Entity::find()
        .select_only()
        .columns([router::Column::Id, router::Column::Name])
        .filter(scope::network(scope, router::Column::TenantId))
        .filter(router::Column::TenantId.eq(tenant.0))
        .filter(router::Column::ArchivedAt.is_null())
        .order_by_asc(router::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| RouterNode { id, name })
        .collect())
}

/// The live zones of `tenant` in `scope`, by id.
pub async fn zones<C: ConnectionTrait>(
    conn: &C,
    scope: &NetworkScope,
    tenant: TenantId,
) -> StoreResult<Vec<ZoneNode>> {
    let rows: Vec<(i64, String, Option<i64>)> = zone::Entity::find()
        .select_only()
        .columns([zone::Column::Id, zone::Column::Name, zone::Column::ParentId])
        .filter(scope::network(scope, zone::Column::TenantId))
        .filter(zone::Column::TenantId.eq(tenant.0))
        .filter(zone::Column::ArchivedAt.is_null())
        .order_by_asc(zone::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, parent)| ZoneNode { id, name, parent })
        .collect())
}

/// The active tenant in `scope` that `key` names: its id, or its realm.
pub async fn tenant_named<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    key: &str,
) -> StoreResult<Option<TenantId>> {
    let key = key.trim();
    let by = match key.parse::<i64>() {
        Ok(id) => tenant::Column::Id.eq(id),
        Err(_) => tenant::Column::Realm.eq(key.to_ascii_lowercase()),
    };
    let found: Option<i64> = tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .filter(scope::tenants(scope))
        .filter(by)
        .filter(tenant::Column::Status.eq(Stored(TenantStatus::Active)))
        .into_tuple()
        .one(conn)
        .await?;
    Ok(found.map(TenantId))
}

/// The active tenants in `scope`, at most `limit`, by id.
pub async fn active_tenants<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    limit: u64,
) -> StoreResult<Vec<TenantId>> {
    let ids: Vec<i64> = tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .filter(scope::tenants(scope))
        .filter(tenant::Column::Status.eq(Stored(TenantStatus::Active)))
        .order_by_asc(tenant::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids.into_iter().map(TenantId).collect())
}
