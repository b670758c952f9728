//! Network records: routers (each mirrored into FreeRADIUS's `nas` in the same
//! transaction), zones, and IP pools with their exact ranges and static allocations. Pools
//! of a tenant never overlap; an address is allocated once per tenant.

mod health;
mod migration;
mod pool;
mod provisioning;
mod router;
mod zone;

pub use health::{Health, health_of, record_health, routers_to_check};
pub use migration::{
    Migration, begin_migration, disabled_names, find_migration, finish_migration, latest_migration,
    mark_migration_reverted, note_disabled,
};
pub use pool::{
    IpPool, POOLS, allocate, archive_pool, create_pool, find_pool, list_pools, pool_ranges,
    pool_snapshot, release, tenant_pools, update_pool, used_counts,
};
pub use provisioning::{Provisioning, latest_provisioning, mark_reverted, record_provisioning};
pub use router::{
    API_PASSWORD_CONTEXT, NewRouter, ROUTERS, Router, RouterChanges, SECRET_CONTEXT,
    archive_router, create_router, find_router, list_routers, router_snapshot, router_states,
    sample_secret, update_router,
};
pub use zone::{
    ZONES, Zone, archive_zone, create_zone, find_zone, list_zones, update_zone, zone_snapshot,
    zone_subtree,
};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, QueryFilter, Select};

use crate::error::StoreResult;
use crate::list::{ListSpec, Page, PageRequest};
use crate::scope;
use domain::access::NetworkScope;
use domain::ids::TenantId;

/// Filters shared by the network lists.
#[derive(Debug, Clone, Default)]
pub struct NetworkFilter {
    /// Only this tenant.
    pub tenant_id: Option<TenantId>,
    /// Names starting with this.
    pub name_prefix: Option<String>,
}

/// The columns every network table has and its reads go by.
struct Columns<E: EntityTrait> {
    tenant: E::Column,
    archived: E::Column,
    name: E::Column,
}

/// The live rows of a network table the caller sees.
fn live<E: EntityTrait>(scope: &NetworkScope, columns: &Columns<E>) -> Select<E> {
    E::find()
        .filter(scope::network(scope, columns.tenant))
        .filter(columns.archived.is_null())
}

/// A page of the live rows of a network table the caller sees, filtered by tenant and
/// name prefix.
async fn list_live<E, C>(
    conn: &C,
    scope: &NetworkScope,
    filter: &NetworkFilter,
    page: &PageRequest,
    spec: &ListSpec<E>,
    columns: &Columns<E>,
) -> StoreResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: ModelTrait<Entity = E> + Sync,
    C: ConnectionTrait,
{
    let mut select = live(scope, columns);
    if let Some(t) = filter.tenant_id {
        select = select.filter(columns.tenant.eq(t.0));
    }
    if let Some(prefix) = &filter.name_prefix {
        select = select.filter(crate::list::starts_with(columns.name, prefix));
    }
    crate::list::fetch(conn, spec, select, page).await
}
