//! IP pools with their exact ranges, and the static addresses allocated from them. Pools
//! of a tenant never overlap; an address is allocated once per tenant.

use std::net::Ipv4Addr;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use super::NetworkFilter;
use crate::entity::{customer, ip_allocation, ip_pool, ip_pool_range, package};
use crate::error::{StoreError, StoreResult, on_unique};
use crate::list::{ListSpec, Page, PageRequest, SortColumn, SortKind};
use crate::versioned::update_versioned;
use crate::write::{AuditEntry, Write};
use domain::access::NetworkScope;
use domain::ids::TenantId;
use domain::network::{Pool, first_free};

/// A stored pool.
pub type IpPool = ip_pool::Model;

const POOL_KEYS: &[(&str, &str)] = &[
    ("ip_pool_tenant_name_key", "name"),
    ("ip_pool.tenant_id, ip_pool.name", "name"),
];

/// The pool list.
pub static POOLS: ListSpec<ip_pool::Entity> = ListSpec {
    sorts: &[
        SortColumn {
            name: "id",
            column: ip_pool::Column::Id,
            kind: SortKind::Int,
        },
        SortColumn {
            name: "name",
            column: ip_pool::Column::Name,
            kind: SortKind::Text,
        },
    ],
    id: ip_pool::Column::Id,
    default_sort: "name",
};

/// The columns the network reads go by.
const COLUMNS: super::Columns<ip_pool::Entity> = super::Columns {
    tenant: ip_pool::Column::TenantId,
    archived: ip_pool::Column::ArchivedAt,
    name: ip_pool::Column::Name,
};

/// The pool's state for the audit log.
pub fn pool_snapshot(p: &IpPool) -> Value {
    json!({ "id": p.id, "tenant_id": p.tenant_id, "name": p.name, "ranges": p.ranges, "capacity": p.capacity, "version": p.version })
}

/// The parsed ranges of a stored pool.
pub fn pool_ranges(p: &IpPool) -> StoreResult<Pool> {
    Pool::parse(&p.ranges).map_err(|e| StoreError::Corrupt(format!("pool {}: {e}", p.id)))
}

/// A pool in the caller's scope.
pub async fn find_pool<C: ConnectionTrait>(
    conn: &C,
    scope: &NetworkScope,
    id: i64,
) -> StoreResult<Option<IpPool>> {
    Ok(super::live(scope, &COLUMNS)
        .filter(ip_pool::Column::Id.eq(id))
        .one(conn)
        .await?)
}

/// A page of the pools in the caller's scope.
pub async fn list_pools<C: ConnectionTrait>(
    conn: &C,
    scope: &NetworkScope,
    filter: &NetworkFilter,
    page: &PageRequest,
) -> StoreResult<Page<IpPool>> {
    super::list_live(conn, scope, filter, page, &POOLS, &COLUMNS).await
}

/// Every live pool of `tenant` (a tenant has hundreds at most), by name.
pub async fn tenant_pools<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
) -> StoreResult<Vec<IpPool>> {
    Ok(ip_pool::Entity::find()
        .filter(ip_pool::Column::TenantId.eq(tenant.0))
        .filter(ip_pool::Column::ArchivedAt.is_null())
        .order_by_asc(ip_pool::Column::Name)
        .all(conn)
        .await?)
}

/// How many addresses of each pool are allocated.
pub async fn used_counts<C: ConnectionTrait>(
    conn: &C,
    pools: &[i64],
) -> StoreResult<Vec<(i64, i64)>> {
    let mut out = Vec::with_capacity(pools.len());
    for id in pools {
        let used = ip_allocation::Entity::find()
            .filter(ip_allocation::Column::PoolId.eq(*id))
            .count(conn)
            .await?;
        out.push((*id, i64::try_from(used).unwrap_or(i64::MAX)));
    }
    Ok(out)
}

/// Refuses ranges that overlap another live pool of the tenant.
async fn check_overlap(
    w: &Write,
    tenant: TenantId,
    ranges: &Pool,
    except: Option<i64>,
) -> StoreResult<()> {
    for (first, last) in ranges.ranges() {
        let mut query = ip_pool_range::Entity::find()
            .filter(ip_pool_range::Column::TenantId.eq(tenant.0))
            .filter(ip_pool_range::Column::FirstAddress.lte(i64::from(*last)))
            .filter(ip_pool_range::Column::LastAddress.gte(i64::from(*first)));
        if let Some(id) = except {
            query = query.filter(ip_pool_range::Column::PoolId.ne(id));
        }
        if let Some(hit) = query.one(w.tx()).await? {
            let other = ip_pool::Entity::find_by_id(hit.pool_id).one(w.tx()).await?;
            if other.is_some_and(|p| p.archived_at.is_none()) {
                return Err(StoreError::Refused {
                    field: "ranges",
                    code: "pool_overlap",
                });
            }
        }
    }
    Ok(())
}

async fn write_ranges(w: &Write, tenant: TenantId, pool_id: i64, ranges: &Pool) -> StoreResult<()> {
    ip_pool_range::Entity::delete_many()
        .filter(ip_pool_range::Column::PoolId.eq(pool_id))
        .exec(w.tx())
        .await?;
    for (first, last) in ranges.ranges() {
        ip_pool_range::ActiveModel {
            id: NotSet,
            pool_id: Set(pool_id),
            tenant_id: Set(tenant.0),
            first_address: Set(i64::from(*first)),
            last_address: Set(i64::from(*last)),
        }
        .insert(w.tx())
        .await?;
    }
    Ok(())
}

/// Creates a pool; its ranges must not overlap another pool of the tenant.
pub async fn create_pool(
    w: &mut Write,
    tenant: TenantId,
    name: &str,
    ranges: &Pool,
) -> StoreResult<IpPool> {
    check_overlap(w, tenant, ranges, None).await?;
    let now = w.now();
    let saved = ip_pool::ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant.0),
        name: Set(name.to_owned()),
        ranges: Set(ranges.canonical()),
        capacity: Set(i64::try_from(ranges.capacity()).unwrap_or(i64::MAX)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
    }
    .insert(w.tx())
    .await
    .map_err(|e| on_unique(e, POOL_KEYS))?;
    write_ranges(w, tenant, saved.id, ranges).await?;
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "ip_pool.create",
        entity: "ip_pool",
        entity_id: Some(saved.id),
        before: None,
        after: Some(pool_snapshot(&saved)),
    })
    .await?;
    Ok(saved)
}

/// Renames a pool or changes its ranges (if it is still at `version`); allocated addresses
/// must stay inside the new ranges.
pub async fn update_pool(
    w: &mut Write,
    scope: &NetworkScope,
    id: i64,
    version: i32,
    name: Option<&str>,
    ranges: Option<&Pool>,
) -> StoreResult<IpPool> {
    let before = find_pool(w.tx(), scope, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let tenant = TenantId(before.tenant_id);
    let mut row: ip_pool::ActiveModel = before.clone().into();
    if let Some(ranges) = ranges {
        check_overlap(w, tenant, ranges, Some(id)).await?;
        let allocated = ip_allocation::Entity::find()
            .filter(ip_allocation::Column::PoolId.eq(id))
            .all(w.tx())
            .await?;
        if allocated
            .iter()
            .any(|a| !ranges.contains(Ipv4Addr::from(u32::try_from(a.address).unwrap_or(0))))
        {
            return Err(StoreError::Refused {
                field: "ranges",
                code: "allocations_outside",
            });
        }
        row.ranges = Set(ranges.canonical());
        row.capacity = Set(i64::try_from(ranges.capacity()).unwrap_or(i64::MAX));
        write_ranges(w, tenant, id, ranges).await?;
    }
    if let Some(name) = name {
        row.name = Set(name.to_owned());
    }
    let after = update_versioned::<ip_pool::Entity>(w, row, id, version, POOL_KEYS).await?;
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "ip_pool.update",
        entity: "ip_pool",
        entity_id: Some(id),
        before: Some(pool_snapshot(&before)),
        after: Some(pool_snapshot(&after)),
    })
    .await?;
    Ok(after)
}

/// Archives a pool that no live package or customer uses and that has no allocation.
pub async fn archive_pool(w: &mut Write, scope: &NetworkScope, id: i64) -> StoreResult<IpPool> {
    let before = find_pool(w.tx(), scope, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let allocated = ip_allocation::Entity::find()
        .filter(ip_allocation::Column::PoolId.eq(id))
        .count(w.tx())
        .await?;
    let packages = package::Entity::find()
        .filter(package::Column::IpPoolId.eq(id))
        .filter(package::Column::ArchivedAt.is_null())
        .count(w.tx())
        .await?;
    // A customer's own pool is sent as its `Framed-Pool`: the pool must outlive it.
    let customers = customer::Entity::find()
        .filter(customer::Column::IpPoolId.eq(id))
        .filter(customer::Column::ArchivedAt.is_null())
        .count(w.tx())
        .await?;
    if allocated > 0 || packages > 0 || customers > 0 {
        return Err(StoreError::Refused {
            field: "id",
            code: "in_use",
        });
    }
    ip_pool_range::Entity::delete_many()
        .filter(ip_pool_range::Column::PoolId.eq(id))
        .exec(w.tx())
        .await?;
    ip_pool::Entity::update_many()
        .col_expr(ip_pool::Column::ArchivedAt, Expr::value(w.now()))
        .filter(ip_pool::Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(before.tenant_id)),
        action: "ip_pool.archive",
        entity: "ip_pool",
        entity_id: Some(id),
        before: Some(pool_snapshot(&before)),
        after: None,
    })
    .await?;
    Ok(before)
}

/// Allocates `wanted` (or the first free address) of `pool` to `customer`. Each address
/// goes to one customer per tenant: the unique index makes a race lose, not duplicate.
pub async fn allocate(
    w: &Write,
    pool: &IpPool,
    customer: i64,
    wanted: Option<Ipv4Addr>,
) -> StoreResult<Ipv4Addr> {
    let ranges = pool_ranges(pool)?;
    let address = match wanted {
        Some(address) => {
            if !ranges.contains(address) {
                return Err(StoreError::Refused {
                    field: "static_ip",
                    code: "outside_pool",
                });
            }
            address
        }
        None => {
            let used: Vec<u32> = ip_allocation::Entity::find()
                .filter(ip_allocation::Column::PoolId.eq(pool.id))
                .order_by_asc(ip_allocation::Column::Address)
                .select_only()
                .column(ip_allocation::Column::Address)
                .into_tuple::<i64>()
                .all(w.tx())
                .await?
                .into_iter()
                .filter_map(|a| u32::try_from(a).ok())
                .collect();
            first_free(&ranges, &used).ok_or(StoreError::Refused {
                field: "ip_pool_id",
                code: "pool_exhausted",
            })?
        }
    };
    ip_allocation::Entity::delete_many()
        .filter(ip_allocation::Column::CustomerId.eq(customer))
        .exec(w.tx())
        .await?;
    ip_allocation::ActiveModel {
        id: NotSet,
        tenant_id: Set(pool.tenant_id),
        pool_id: Set(pool.id),
        address: Set(i64::from(u32::from(address))),
        customer_id: Set(customer),
        created_at: Set(w.now()),
    }
    .insert(w.tx())
    .await
    .map_err(|e| {
        on_unique(
            e,
            &[
                ("ip_allocation_address_key", "static_ip"),
                (
                    "ip_allocation.tenant_id, ip_allocation.address",
                    "static_ip",
                ),
            ],
        )
    })?;
    Ok(address)
}

/// Frees the customer's static address, if it has one.
pub async fn release(w: &Write, customer: i64) -> StoreResult<()> {
    ip_allocation::Entity::delete_many()
        .filter(ip_allocation::Column::CustomerId.eq(customer))
        .exec(w.tx())
        .await?;
    Ok(())
}
