//! `/api/v1/routers` (with `/routers/{id}/import`, `/provision`, `/pools`, `/migrate` and
//! `/health`), `/api/v1/zones` and `/api/v1/ip-pools`, and the readdressing of customers
//! (`/ip-pools/{id}/migrate`, `/packages/{id}/allocation`): one module each; the list query
//! and the helpers they share here.

mod health;
mod import;
mod migrate;
mod pools;
mod provision;
mod readdress;
mod routers;
mod zones;

use serde::{Deserialize, Deserializer};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;
use domain::field::FieldError;
use domain::ids::TenantId;
use domain::locale::TimeZoneName;
use domain::text::bounded;
use store::network::NetworkFilter;

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(routers::routes())
        .routes(utoipa_axum::routes!(import::import_router))
        .routes(utoipa_axum::routes!(import::import_file))
        .routes(utoipa_axum::routes!(provision::provision_router))
        .routes(utoipa_axum::routes!(provision::rollback_provisioning))
        .routes(utoipa_axum::routes!(provision::push_pools))
        .routes(utoipa_axum::routes!(migrate::migrate_router))
        .routes(utoipa_axum::routes!(migrate::rollback_migration))
        .routes(utoipa_axum::routes!(readdress::migrate_pool))
        .routes(utoipa_axum::routes!(readdress::switch_allocation))
        .routes(utoipa_axum::routes!(
            health::router_health,
            health::check_router
        ))
        .merge(zones::routes())
        .merge(pools::routes())
}

fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Filters and paging of the network lists.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NetworkQuery {
    /// Only this tenant.
    tenant_id: Option<i64>,
    /// Names starting with this.
    q: Option<String>,
    /// `name` (default) or `id`; `-` for descending.
    sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl NetworkQuery {
    fn filter(&self) -> NetworkFilter {
        NetworkFilter {
            tenant_id: self.tenant_id.map(TenantId),
            name_prefix: self.q.clone(),
        }
    }
}

fn notes(raw: &str) -> Result<String, FieldError> {
    bounded("notes", raw, 0, 2000)
}

fn zone_name(raw: &str) -> Result<String, FieldError> {
    bounded("name", raw, 1, 64)
}

fn time_zone(raw: &str) -> Result<String, FieldError> {
    TimeZoneName::parse("time_zone", raw).map(|z| z.as_str().to_owned())
}
