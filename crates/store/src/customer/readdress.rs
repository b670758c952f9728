//! Giving many customers new static addresses at once, or none: a pool's customers moved to
//! another pool, a package's customers switched between static and dynamic addresses. One
//! batch per transaction: the batch's customers read (and held to the commit on
//! PostgreSQL), the free addresses of the new pool found in one walk, the allocations and
//! the customers rewritten (a statement each for the batch), their FreeRADIUS rows projected again and the AAA change log
//! told. A batch that finds too few free addresses writes nothing, so no customer is ever
//! left without the address it had.

use std::net::Ipv4Addr;

use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{Customer, Projector};
use crate::entity::{customer, ip_allocation};
use crate::error::{StoreError, StoreResult};
use crate::network::{IpPool, pool_ranges};
use crate::write::Write;
use domain::ids::TenantId;
use domain::network::free_addresses;

/// Which customers a batch takes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Among {
    /// Those with a static address from this pool.
    StaticIn(i64),
    /// Those on these packages without a static address.
    DynamicOn(Vec<i64>),
    /// Those on these packages with a static address from this pool.
    StaticOn {
        /// The packages.
        packages: Vec<i64>,
        /// The pool.
        pool: i64,
    },
}

impl Among {
    fn condition(&self) -> sea_orm::Condition {
        let all = sea_orm::Condition::all().add(customer::Column::ArchivedAt.is_null());
        match self {
            Among::StaticIn(pool) => all
                .add(customer::Column::IpPoolId.eq(*pool))
                .add(customer::Column::StaticIp.is_not_null()),
            Among::DynamicOn(packages) => all
                .add(customer::Column::PackageId.is_in(packages.iter().copied()))
                .add(customer::Column::StaticIp.is_null()),
            Among::StaticOn { packages, pool } => all
                .add(customer::Column::PackageId.is_in(packages.iter().copied()))
                .add(customer::Column::IpPoolId.eq(*pool))
                .add(customer::Column::StaticIp.is_not_null()),
        }
    }
}

/// The next `limit` live customers `among` names with an id above `after`, by id; held to
/// the commit of `w` on PostgreSQL (SQLite's write lock is held already).
pub async fn batch(w: &Write, among: &Among, after: i64, limit: u64) -> StoreResult<Vec<Customer>> {
    let mut query = customer::Entity::find()
        .filter(among.condition())
        .filter(customer::Column::Id.gt(after))
        .order_by_asc(customer::Column::Id)
        .limit(limit);
    if w.tx().get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        query = query.lock_exclusive();
    }
    Ok(query.all(w.tx()).await?)
}

/// How many live customers `among` names.
pub async fn count<C: ConnectionTrait>(conn: &C, among: &Among) -> StoreResult<u64> {
    use sea_orm::PaginatorTrait as _;
    Ok(customer::Entity::find()
        .filter(among.condition())
        .count(conn)
        .await?)
}

/// The addresses of pool `pool` given out, ascending.
pub async fn used_addresses<C: ConnectionTrait>(conn: &C, pool: i64) -> StoreResult<Vec<u32>> {
    let used: Vec<i64> = ip_allocation::Entity::find()
        .filter(ip_allocation::Column::PoolId.eq(pool))
        .order_by_asc(ip_allocation::Column::Address)
        .select_only()
        .column(ip_allocation::Column::Address)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(used
        .into_iter()
        .filter_map(|a| u32::try_from(a).ok())
        .collect())
}

/// Gives each of `customers` an address of pool `to` (`None`: no static address, the
/// package's pool gives one at login), in `w`: the old allocations released, the new ones
/// made, each customer's version moved on, its rows projected again and the change log
/// told with `kind`. Refused (`pool_exhausted`) when `to` has too few free addresses.
/// Each customer's new address, in order.
pub async fn readdress(
    w: &mut Write,
    customers: &[Customer],
    to: Option<&IpPool>,
    kind: &str,
) -> StoreResult<Vec<(Customer, Option<Ipv4Addr>)>> {
    let Some(first) = customers.first() else {
        return Ok(Vec::new());
    };
    let tenant = first.tenant_id;
    let ids: Vec<i64> = customers.iter().map(|c| c.id).collect();
    ip_allocation::Entity::delete_many()
        .filter(ip_allocation::Column::CustomerId.is_in(ids.iter().copied()))
        .exec(w.tx())
        .await?;
    let addresses: Vec<Option<Ipv4Addr>> = match to {
        Some(pool) => {
            let used = used_addresses(w.tx(), pool.id).await?;
            let free = free_addresses(&pool_ranges(pool)?, &used, customers.len());
            if free.len() < customers.len() {
                return Err(StoreError::Refused {
                    field: "ip_pool_id",
                    code: "pool_exhausted",
                });
            }
            let rows = customers
                .iter()
                .zip(&free)
                .map(|(c, a)| ip_allocation::ActiveModel {
                    id: NotSet,
                    tenant_id: Set(pool.tenant_id),
                    pool_id: Set(pool.id),
                    address: Set(i64::from(u32::from(*a))),
                    customer_id: Set(c.id),
                    created_at: Set(w.now()),
                });
            ip_allocation::Entity::insert_many(rows)
                .exec(w.tx())
                .await?;
            free.into_iter().map(Some).collect()
        }
        None => vec![None; customers.len()],
    };
    // The customers in one statement per batch (ids, addresses and pools are integers
    // lastmile holds, written as literals), then their rows in a few more.
    let now = w.now();
    let pool_id = to.map(|p| p.id);
    let values: Vec<String> = customers
        .iter()
        .zip(&addresses)
        .map(|(c, a)| {
            let (ip, pool) = match (a, pool_id) {
                (Some(a), Some(p)) => (u32::from(*a).to_string(), p.to_string()),
                _ => ("NULL".to_owned(), "NULL".to_owned()),
            };
            format!("({}, {ip}, {pool})", c.id)
        })
        .collect();
    let backend = w.tx().get_database_backend();
    let cast = |what: &str| match backend {
        sea_orm::DatabaseBackend::Postgres => format!("CAST({what} AS bigint)"),
        _ => what.to_owned(),
    };
    let sql = format!(
        "UPDATE customer SET static_ip = {}, ip_pool_id = {}, version = version + 1, \
         updated_at = $1 FROM (SELECT column1 AS id, column2 AS ip, column3 AS pool \
         FROM (VALUES {}) AS batch) AS v WHERE customer.id = v.id",
        cast("v.ip"),
        cast("v.pool"),
        values.join(", ")
    );
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => sql,
        _ => sql.replace("$1", "?"),
    };
    w.tx()
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [now.into()],
        ))
        .await?;
    let mut out = Vec::with_capacity(customers.len());
    let mut rows = Vec::with_capacity(customers.len());
    let mut projector = Projector::default();
    for (c, address) in customers.iter().zip(addresses) {
        let mut after = c.clone();
        after.static_ip = address.map(|a| i64::from(u32::from(a)));
        after.ip_pool_id = match (pool_id, address) {
            (Some(pool), Some(_)) => Some(pool),
            _ => None,
        };
        after.version = c.version + 1;
        after.updated_at = now;
        let projection = projector.project(w.tx(), w.keyring(), &after).await?;
        rows.push((after.id, after.username.clone(), projection));
        out.push((after, address));
    }
    crate::radius::write_many(w, TenantId(tenant), &rows).await?;
    w.aaa_changed_many(TenantId(tenant), &ids, kind).await?;
    Ok(out)
}

/// Live pool `id` of `tenant`, whoever asks: for a job that was checked when it was asked.
pub async fn pool_of<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    id: i64,
) -> StoreResult<Option<IpPool>> {
    use crate::entity::ip_pool;
    Ok(ip_pool::Entity::find_by_id(id)
        .filter(ip_pool::Column::TenantId.eq(tenant.0))
        .filter(ip_pool::Column::ArchivedAt.is_null())
        .one(conn)
        .await?)
}
