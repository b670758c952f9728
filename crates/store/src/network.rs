//! Network records: routers (each mirrored into FreeRADIUS's `nas` in the same
//! transaction), zones, and IP pools with their exact ranges and static allocations. Pools
//! of a tenant never overlap; an address is allocated once per tenant.

mod pool;
mod router;
mod zone;

pub use pool::{
    IpPool, POOLS, allocate, archive_pool, create_pool, find_pool, list_pools, pool_ranges,
    pool_snapshot, release, update_pool, used_counts,
};
pub use router::{
    API_PASSWORD_CONTEXT, NewRouter, ROUTERS, Router, RouterChanges, SECRET_CONTEXT,
    archive_router, create_router, find_router, list_routers, router_snapshot, update_router,
};
pub use zone::{
    ZONES, Zone, archive_zone, create_zone, find_zone, list_zones, update_zone, zone_snapshot,
};

use domain::ids::TenantId;

/// Filters shared by the network lists.
#[derive(Debug, Clone, Default)]
pub struct NetworkFilter {
    /// Only this tenant.
    pub tenant_id: Option<TenantId>,
    /// Names starting with this.
    pub name_prefix: Option<String>,
}
