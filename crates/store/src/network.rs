//! Network records: routers (each mirrored into FreeRADIUS's `nas` in the same
//! transaction), zones, and IP pools with their exact ranges and static allocations. Pools
//! of a tenant never overlap; an address is allocated once per tenant.

use std::net::{IpAddr, Ipv4Addr};

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use crate::entity::{customer, ip_allocation, ip_pool, ip_pool_range, nas, package, router, zone};
use crate::error::{StoreError, StoreResult, on_unique};
use crate::list::{ListSpec, Page, PageRequest, SortColumn, SortKind};
use crate::scope;
use crate::write::{AuditEntry, Write};
use domain::access::NetworkScope;
use domain::ids::TenantId;
use domain::network::{Pool, first_free};

/// A stored router.
pub type Router = router::Model;
/// A stored zone.
pub type Zone = zone::Model;
/// A stored pool.
pub type IpPool = ip_pool::Model;

/// Where a router's sealed secrets belong.
pub const SECRET_CONTEXT: &str = "router.secret";
/// Where a router's sealed API password belongs.
pub const API_PASSWORD_CONTEXT: &str = "router.api_password";

const ROUTER_KEYS: &[(&str, &str)] = &[
    ("router_nas_address_key", "nas_address"),
    ("router.nas_address", "nas_address"),
    ("router_tenant_name_key", "name"),
    ("router.tenant_id, router.name", "name"),
];
const ZONE_KEYS: &[(&str, &str)] = &[
    ("zone_tenant_name_key", "name"),
    ("zone.tenant_id, zone.name", "name"),
];
const POOL_KEYS: &[(&str, &str)] = &[
    ("ip_pool_tenant_name_key", "name"),
    ("ip_pool.tenant_id, ip_pool.name", "name"),
];

/// The router list.
pub static ROUTERS: ListSpec<router::Entity> = ListSpec {
    sorts: &[
        SortColumn {
            name: "id",
            column: router::Column::Id,
            kind: SortKind::Int,
        },
        SortColumn {
            name: "name",
            column: router::Column::Name,
            kind: SortKind::Text,
        },
    ],
    id: router::Column::Id,
    default_sort: "name",
};

/// The zone list.
pub static ZONES: ListSpec<zone::Entity> = ListSpec {
    sorts: &[
        SortColumn {
            name: "id",
            column: zone::Column::Id,
            kind: SortKind::Int,
        },
        SortColumn {
            name: "name",
            column: zone::Column::Name,
            kind: SortKind::Text,
        },
    ],
    id: zone::Column::Id,
    default_sort: "name",
};

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

/// Filters shared by the network lists.
#[derive(Debug, Clone, Default)]
pub struct NetworkFilter {
    /// Only this tenant.
    pub tenant_id: Option<TenantId>,
    /// Names starting with this.
    pub name_prefix: Option<String>,
}

// ---- routers ----

/// A new router, validated; secrets in clear (they are sealed here).
#[derive(Debug, Clone)]
pub struct NewRouter {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its name.
    pub name: String,
    /// The RADIUS source address.
    pub nas_address: IpAddr,
    /// The RADIUS shared secret.
    pub secret: String,
    /// The RouterOS API host.
    pub api_address: Option<String>,
    /// The RouterOS API port.
    pub api_port: u16,
    /// The RouterOS API user.
    pub api_user: Option<String>,
    /// The RouterOS API password.
    pub api_password: Option<String>,
    /// API over TLS (8729).
    pub api_tls: bool,
    /// The router's time zone.
    pub time_zone: Option<String>,
    /// Free notes.
    pub notes: String,
}

/// Changes to a router; `None` leaves a field.
#[derive(Debug, Clone, Default)]
pub struct RouterChanges {
    /// New name.
    pub name: Option<String>,
    /// New RADIUS source address.
    pub nas_address: Option<IpAddr>,
    /// New shared secret.
    pub secret: Option<String>,
    /// New API host (`Some(None)` clears it).
    pub api_address: Option<Option<String>>,
    /// New API port.
    pub api_port: Option<u16>,
    /// New API user.
    pub api_user: Option<Option<String>>,
    /// New API password.
    pub api_password: Option<Option<String>>,
    /// API over TLS.
    pub api_tls: Option<bool>,
    /// New time zone.
    pub time_zone: Option<Option<String>>,
    /// New notes.
    pub notes: Option<String>,
}

/// The router's state for the audit log (no secrets).
pub fn router_snapshot(r: &Router) -> Value {
    json!({
        "id": r.id, "tenant_id": r.tenant_id, "name": r.name, "nas_address": r.nas_address,
        "api_address": r.api_address, "api_port": r.api_port, "api_user": r.api_user, "api_tls": r.api_tls,
        "time_zone": r.time_zone, "notes": r.notes, "version": r.version,
        "secret_set": !r.secret.is_empty(), "api_password_set": r.api_password.is_some(),
    })
}

/// A router in the caller's scope.
pub async fn find_router<C: ConnectionTrait>(
    conn: &C,
    scope: &NetworkScope,
    id: i64,
) -> StoreResult<Option<Router>> {
    Ok(router::Entity::find_by_id(id)
        .filter(scope::network(scope, router::Column::TenantId))
        .filter(router::Column::ArchivedAt.is_null())
        .one(conn)
        .await?)
}

/// A page of the routers in the caller's scope.
pub async fn list_routers<C: ConnectionTrait>(
    conn: &C,
    scope: &NetworkScope,
    filter: &NetworkFilter,
    page: &PageRequest,
) -> StoreResult<Page<Router>> {
    let mut select = router::Entity::find()
        .filter(scope::network(scope, router::Column::TenantId))
        .filter(router::Column::ArchivedAt.is_null());
    if let Some(t) = filter.tenant_id {
        select = select.filter(router::Column::TenantId.eq(t.0));
    }
    if let Some(prefix) = &filter.name_prefix {
        select = select.filter(crate::list::starts_with(router::Column::Name, prefix));
    }
    crate::list::fetch(conn, &ROUTERS, select, page).await
}

fn seal(w: &Write, context: &str, clear: &str) -> StoreResult<String> {
    Ok(w.keyring().seal(context, clear.as_bytes())?)
}

/// Creates a router and its `nas` row.
pub async fn create_router(w: &mut Write, new: &NewRouter) -> StoreResult<Router> {
    let now = w.now();
    let row = router::ActiveModel {
        id: NotSet,
        tenant_id: Set(new.tenant_id.0),
        name: Set(new.name.clone()),
        nas_address: Set(new.nas_address.to_string()),
        secret: Set(seal(w, SECRET_CONTEXT, &new.secret)?),
        api_address: Set(new.api_address.clone()),
        api_port: Set(i32::from(new.api_port)),
        api_user: Set(new.api_user.clone()),
        api_password: Set(match &new.api_password {
            Some(p) => Some(seal(w, API_PASSWORD_CONTEXT, p)?),
            None => None,
        }),
        api_tls: Set(new.api_tls),
        time_zone: Set(new.time_zone.clone()),
        notes: Set(new.notes.clone()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
    };
    let saved = row
        .insert(w.tx())
        .await
        .map_err(|e| on_unique(e, ROUTER_KEYS))?;
    mirror_nas(w, &saved, &new.secret).await?;
    w.audit(AuditEntry {
        tenant_id: Some(new.tenant_id),
        action: "router.create",
        entity: "router",
        entity_id: Some(saved.id),
        before: None,
        after: Some(router_snapshot(&saved)),
    })
    .await?;
    Ok(saved)
}

/// Writes the router's `nas` row (FreeRADIUS reads it at start-up).
async fn mirror_nas(w: &Write, r: &Router, secret: &str) -> StoreResult<()> {
    nas::Entity::delete_many()
        .filter(nas::Column::RouterId.eq(r.id))
        .exec(w.tx())
        .await?;
    nas::ActiveModel {
        id: NotSet,
        nasname: Set(r.nas_address.clone()),
        shortname: Set(Some(r.name.chars().take(32).collect())),
        nas_type: Set(Some("other".to_owned())),
        ports: Set(Some(3799)),
        secret: Set(secret.to_owned()),
        server: Set(None),
        community: Set(None),
        description: Set(Some(format!("lastmile router {}", r.id))),
        tenant_id: Set(Some(r.tenant_id)),
        router_id: Set(Some(r.id)),
    }
    .insert(w.tx())
    .await?;
    Ok(())
}

/// Changes a router if it is still at `version`, and its `nas` row with it.
pub async fn update_router(
    w: &mut Write,
    scope: &NetworkScope,
    id: i64,
    version: i32,
    changes: &RouterChanges,
) -> StoreResult<Router> {
    let before = find_router(w.tx(), scope, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if before.version != version {
        return Err(StoreError::VersionMismatch);
    }
    let mut row: router::ActiveModel = before.clone().into();
    if let Some(v) = &changes.name {
        row.name = Set(v.clone());
    }
    if let Some(v) = changes.nas_address {
        row.nas_address = Set(v.to_string());
    }
    if let Some(v) = &changes.secret {
        row.secret = Set(seal(w, SECRET_CONTEXT, v)?);
    }
    if let Some(v) = &changes.api_address {
        row.api_address = Set(v.clone());
    }
    if let Some(v) = changes.api_port {
        row.api_port = Set(i32::from(v));
    }
    if let Some(v) = &changes.api_user {
        row.api_user = Set(v.clone());
    }
    if let Some(v) = &changes.api_password {
        row.api_password = Set(match v {
            Some(p) => Some(seal(w, API_PASSWORD_CONTEXT, p)?),
            None => None,
        });
    }
    if let Some(v) = changes.api_tls {
        row.api_tls = Set(v);
    }
    if let Some(v) = &changes.time_zone {
        row.time_zone = Set(v.clone());
    }
    if let Some(v) = &changes.notes {
        row.notes = Set(v.clone());
    }
    row.version = Set(version + 1);
    row.updated_at = Set(w.now());
    let done = router::Entity::update_many()
        .set(row)
        .filter(router::Column::Id.eq(id))
        .filter(router::Column::Version.eq(version))
        .exec(w.tx())
        .await
        .map_err(|e| on_unique(e, ROUTER_KEYS))?;
    if done.rows_affected == 0 {
        return Err(StoreError::VersionMismatch);
    }
    let after = router::Entity::find_by_id(id)
        .one(w.tx())
        .await?
        .ok_or(StoreError::NotFound)?;
    let secret = w.keyring().open_string(SECRET_CONTEXT, &after.secret)?;
    mirror_nas(w, &after, &secret).await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(after.tenant_id)),
        action: "router.update",
        entity: "router",
        entity_id: Some(id),
        before: Some(router_snapshot(&before)),
        after: Some(router_snapshot(&after)),
    })
    .await?;
    Ok(after)
}

/// Archives a router: FreeRADIUS stops knowing it (its `nas` row goes); customers keep it as
/// their home router in history.
pub async fn archive_router(w: &mut Write, scope: &NetworkScope, id: i64) -> StoreResult<Router> {
    let before = find_router(w.tx(), scope, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    router::Entity::update_many()
        .col_expr(router::Column::ArchivedAt, Expr::value(w.now()))
        .col_expr(router::Column::Version, Expr::value(before.version + 1))
        .filter(router::Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    nas::Entity::delete_many()
        .filter(nas::Column::RouterId.eq(id))
        .exec(w.tx())
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(before.tenant_id)),
        action: "router.archive",
        entity: "router",
        entity_id: Some(id),
        before: Some(router_snapshot(&before)),
        after: None,
    })
    .await?;
    Ok(before)
}

// ---- zones ----

/// The zone's state for the audit log.
pub fn zone_snapshot(z: &Zone) -> Value {
    json!({ "id": z.id, "tenant_id": z.tenant_id, "name": z.name, "parent_id": z.parent_id, "version": z.version })
}

/// A zone in the caller's scope.
pub async fn find_zone<C: ConnectionTrait>(
    conn: &C,
    scope: &NetworkScope,
    id: i64,
) -> StoreResult<Option<Zone>> {
    Ok(zone::Entity::find_by_id(id)
        .filter(scope::network(scope, zone::Column::TenantId))
        .filter(zone::Column::ArchivedAt.is_null())
        .one(conn)
        .await?)
}

/// A page of the zones in the caller's scope.
pub async fn list_zones<C: ConnectionTrait>(
    conn: &C,
    scope: &NetworkScope,
    filter: &NetworkFilter,
    page: &PageRequest,
) -> StoreResult<Page<Zone>> {
    let mut select = zone::Entity::find()
        .filter(scope::network(scope, zone::Column::TenantId))
        .filter(zone::Column::ArchivedAt.is_null());
    if let Some(t) = filter.tenant_id {
        select = select.filter(zone::Column::TenantId.eq(t.0));
    }
    if let Some(prefix) = &filter.name_prefix {
        select = select.filter(crate::list::starts_with(zone::Column::Name, prefix));
    }
    crate::list::fetch(conn, &ZONES, select, page).await
}

/// Creates a zone (its parent, if any, was found in the same tenant by the caller).
pub async fn create_zone(
    w: &mut Write,
    tenant: TenantId,
    name: &str,
    parent: Option<i64>,
) -> StoreResult<Zone> {
    let now = w.now();
    let saved = zone::ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant.0),
        name: Set(name.to_owned()),
        parent_id: Set(parent),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
    }
    .insert(w.tx())
    .await
    .map_err(|e| on_unique(e, ZONE_KEYS))?;
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "zone.create",
        entity: "zone",
        entity_id: Some(saved.id),
        before: None,
        after: Some(zone_snapshot(&saved)),
    })
    .await?;
    Ok(saved)
}

/// Renames or moves a zone if it is still at `version`; a zone cannot be its own ancestor.
pub async fn update_zone(
    w: &mut Write,
    scope: &NetworkScope,
    id: i64,
    version: i32,
    name: Option<&str>,
    parent: Option<Option<i64>>,
) -> StoreResult<Zone> {
    let before = find_zone(w.tx(), scope, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if before.version != version {
        return Err(StoreError::VersionMismatch);
    }
    if let Some(Some(mut ancestor)) = parent {
        // Walk up from the new parent: meeting this zone means a cycle.
        for _ in 0..64 {
            if ancestor == id {
                return Err(StoreError::Refused {
                    field: "parent_id",
                    code: "zone_cycle",
                });
            }
            match zone::Entity::find_by_id(ancestor)
                .one(w.tx())
                .await?
                .and_then(|z| z.parent_id)
            {
                Some(next) => ancestor = next,
                None => break,
            }
        }
    }
    let mut row: zone::ActiveModel = before.clone().into();
    if let Some(name) = name {
        row.name = Set(name.to_owned());
    }
    if let Some(parent) = parent {
        row.parent_id = Set(parent);
    }
    row.version = Set(version + 1);
    row.updated_at = Set(w.now());
    let after = row
        .update(w.tx())
        .await
        .map_err(|e| on_unique(e, ZONE_KEYS))?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(after.tenant_id)),
        action: "zone.update",
        entity: "zone",
        entity_id: Some(id),
        before: Some(zone_snapshot(&before)),
        after: Some(zone_snapshot(&after)),
    })
    .await?;
    Ok(after)
}

/// Archives a zone; its children move to its parent and its customers keep their history.
pub async fn archive_zone(w: &mut Write, scope: &NetworkScope, id: i64) -> StoreResult<Zone> {
    let before = find_zone(w.tx(), scope, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    zone::Entity::update_many()
        .col_expr(zone::Column::ParentId, Expr::value(before.parent_id))
        .filter(zone::Column::ParentId.eq(id))
        .exec(w.tx())
        .await?;
    customer::Entity::update_many()
        .col_expr(customer::Column::ZoneId, Expr::value(Option::<i64>::None))
        .filter(customer::Column::ZoneId.eq(id))
        .exec(w.tx())
        .await?;
    zone::Entity::update_many()
        .col_expr(zone::Column::ArchivedAt, Expr::value(w.now()))
        .filter(zone::Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(before.tenant_id)),
        action: "zone.archive",
        entity: "zone",
        entity_id: Some(id),
        before: Some(zone_snapshot(&before)),
        after: None,
    })
    .await?;
    Ok(before)
}

// ---- pools ----

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
    Ok(ip_pool::Entity::find_by_id(id)
        .filter(scope::network(scope, ip_pool::Column::TenantId))
        .filter(ip_pool::Column::ArchivedAt.is_null())
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
    let mut select = ip_pool::Entity::find()
        .filter(scope::network(scope, ip_pool::Column::TenantId))
        .filter(ip_pool::Column::ArchivedAt.is_null());
    if let Some(t) = filter.tenant_id {
        select = select.filter(ip_pool::Column::TenantId.eq(t.0));
    }
    if let Some(prefix) = &filter.name_prefix {
        select = select.filter(crate::list::starts_with(ip_pool::Column::Name, prefix));
    }
    crate::list::fetch(conn, &POOLS, select, page).await
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
    if before.version != version {
        return Err(StoreError::VersionMismatch);
    }
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
    row.version = Set(version + 1);
    row.updated_at = Set(w.now());
    let after = row
        .update(w.tx())
        .await
        .map_err(|e| on_unique(e, POOL_KEYS))?;
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

/// Archives a pool that no package uses and that has no allocation.
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
    if allocated > 0 || packages > 0 {
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
