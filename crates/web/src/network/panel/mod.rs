//! The panel's network pages: routers (the RADIUS secret shown once, on the page that
//! created or renewed it), zones and IP pools (capacity, addresses in use and the exact CIDR
//! blocks). Each has a list (name search, tenant filter for platform users, sort, cursor
//! paging), a form to create one, a page to change it and a button to delete it. Everyone in
//! a tenant reads them; the forms are for those who run the network. A router's page also
//! shows its last health check and carries its operations (`operations`), and leads to
//! its captive portal (`portal`).

mod health;
mod operations;
mod pools;
mod portal;
mod routers;
mod zones;

use axum::Router;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::page::lookup::Choice;
use crate::page::ui::{self, Pager};
use crate::state::AppState;
use domain::access::Permission;
use domain::ids::TenantId;
use store::network::NetworkFilter;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/routers", get(routers::list))
        .route(
            "/panel/routers/new",
            get(routers::new_form).post(routers::create),
        )
        .route(
            "/panel/routers/{id}",
            get(routers::edit_form).post(routers::update),
        )
        .route("/panel/routers/{id}/delete", post(routers::delete))
        .route("/panel/routers/{id}/tls-probe", post(routers::probe_tls))
        .route("/panel/routers/{id}/health", post(operations::check_health))
        .route(
            "/panel/routers/{id}/portal",
            get(portal::page).post(portal::create),
        )
        .route("/panel/routers/{id}/import", post(operations::import))
        .route("/panel/routers/{id}/provision", post(operations::provision))
        .route(
            "/panel/routers/{id}/provision/rollback",
            post(operations::rollback),
        )
        .route("/panel/routers/{id}/pools", post(operations::push_pools))
        .route("/panel/routers/{id}/migrate", post(operations::migrate))
        .route(
            "/panel/routers/{id}/migrate/rollback",
            post(operations::rollback_migration),
        )
        .route("/panel/zones", get(zones::list))
        .route("/panel/zones/new", get(zones::new_form).post(zones::create))
        .route(
            "/panel/zones/{id}",
            get(zones::edit_form).post(zones::update),
        )
        .route("/panel/zones/{id}/delete", post(zones::delete))
        .route("/panel/ip-pools", get(pools::list))
        .route(
            "/panel/ip-pools/new",
            get(pools::new_form).post(pools::create),
        )
        .route(
            "/panel/ip-pools/{id}",
            get(pools::edit_form).post(pools::update),
        )
        .route("/panel/ip-pools/{id}/delete", post(pools::delete))
        .route("/panel/ip-pools/{id}/migrate", post(pools::migrate))
}

/// The query of the network lists.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    tenant_id: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> NetworkFilter {
        NetworkFilter {
            tenant_id: crate::page::input::id(self.tenant_id.as_deref()).map(TenantId),
            name_prefix: self.q.clone().filter(|q| !q.trim().is_empty()),
        }
    }

    fn sort(&self) -> String {
        self.sort
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "name".to_owned())
    }

    /// What a list page shows of its filters and of `found`.
    fn state<T>(
        &self,
        found: &store::list::Page<T>,
        tenants: Vec<Choice>,
        actor: &domain::access::Actor,
    ) -> ListState {
        ListState {
            tenant_id: self.tenant_id.clone().unwrap_or_default(),
            q: self.q.clone().unwrap_or_default(),
            sort: self.sort(),
            total: ui::total(found.total, found.total_capped),
            tenants,
            can_create: may_create(actor),
        }
    }

    /// The paging links of the list at `path`.
    fn pager(&self, path: &str, cursor: Option<&String>) -> Pager {
        let first = format!(
            "{path}?tenant_id={}&q={}&sort={}",
            ui::encode(self.tenant_id.as_deref().unwrap_or("")),
            ui::encode(self.q.as_deref().unwrap_or("")),
            ui::encode(&self.sort()),
        );
        Pager::simple(
            first.clone(),
            cursor.map(|c| format!("{first}&cursor={}", ui::encode(c))),
        )
    }
}

/// The filters and paging a network list page shows.
#[derive(Debug)]
struct ListState {
    tenant_id: String,
    q: String,
    sort: String,
    total: String,
    /// Tenants a platform user may filter on (empty for everyone else).
    tenants: Vec<Choice>,
    can_create: bool,
}

impl ListState {
    fn is_tenant(&self, value: &str) -> bool {
        self.tenant_id == value
    }
}

/// May the signed-in user create network records (in some tenant)?
fn may_create(actor: &domain::access::Actor) -> bool {
    actor.can(Permission::ManageNetwork)
}

/// May the signed-in user change the network records of `tenant`?
async fn may_change(state: &AppState, actor: &domain::access::Actor, tenant: i64) -> bool {
    ops::network::may_change(&state.ctx(), actor, tenant)
        .await
        .is_ok()
}

/// The tenant a form names (platform users pick one; everyone else works in its own).
fn tenant_of_form(form: &crate::page::form::FormData) -> Option<TenantId> {
    crate::page::input::id(form.opt("tenant_id")).map(TenantId)
}
