//! A router's captive portal page (`/panel/routers/{id}/portal`, `ops::hotspot`): the portal
//! when the router has one (its key, the packages of new accounts and of the trial, the
//! device limit, the codes an hour, the host names of the router's login page, and the
//! pages lastmile made for the router, which provisioning puts on it) with the form that
//! changes it or switches it off, else the form that sets it up (once the router has API
//! access). Who sets a portal up or changes it is who may provision the router.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use crate::i18n::Tr;
use crate::page::fallback::PageId;
use crate::page::form::{Filled, PanelForm, ShowsForm, show_again};
use crate::page::lookup::Choice;
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, render};
use crate::state::AppState;
use domain::field::FieldErrors;
use domain::ids::TenantId;
use domain::package::ConnectionType;
use ops::OpError;
use ops::hotspot::PortalInput;
use store::hotspot::Portal;
use store::list::PageRequest;
use store::package::PackageFilter;

/// A portal as the page shows it.
#[derive(Debug)]
struct PortalView {
    key: String,
    /// On (its visits let in).
    active: bool,
    version: i32,
    package: String,
    trial: String,
    max_devices: i32,
    codes_per_hour: i32,
    hosts: String,
    /// The pages for the router: name and address.
    pages: Vec<(String, String)>,
    /// Where a phone's visit starts (the router's `login.html` posts here).
    start: String,
}

#[derive(Template)]
#[template(path = "router_portal.html")]
struct PortalPage {
    ui: Ui,
    id: i64,
    router: String,
    /// The router has no API access yet (the portal's pages are put on it through it).
    needs_api: bool,
    portal: Option<PortalView>,
    /// The tenant's hotspot packages, for the form.
    packages: Vec<Choice>,
    f: Filled,
}

impl ShowsForm for PortalPage {
    const CHECKBOXES: &'static [&'static str] = &["active"];

    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

/// The tenant's hotspot packages, by id and name.
async fn hotspot_packages(
    state: &AppState,
    user: &PanelUser,
    tenant: i64,
) -> Result<Vec<Choice>, OpError> {
    let filter = PackageFilter {
        tenant_id: Some(TenantId(tenant)),
        connection_type: Some(ConnectionType::Hotspot),
        ..PackageFilter::default()
    };
    let page = PageRequest::first(&store::package::LIST, 500).map_err(OpError::Invalid)?;
    Ok(
        ops::package::list(&state.ctx(), &user.actor, &filter, &page)
            .await?
            .items
            .into_iter()
            .map(|p| (p.id.to_string(), p.name))
            .collect(),
    )
}

fn name_in(choices: &[Choice], id: Option<i64>) -> String {
    id.and_then(|id| choices.iter().find(|(v, _)| *v == id.to_string()))
        .map(|(_, name)| name.clone())
        .unwrap_or_default()
}

fn view(state: &AppState, portal: &Portal, packages: &[Choice]) -> PortalView {
    let base = &state.settings.public_url;
    let key = &portal.portal_key;
    PortalView {
        key: key.clone(),
        active: portal.status == "active",
        version: portal.version,
        package: name_in(packages, Some(portal.package_id)),
        trial: name_in(packages, portal.trial_package_id),
        max_devices: portal.max_devices,
        codes_per_hour: portal.codes_per_hour,
        hosts: ops::hotspot::hosts_of(portal).join(", "),
        pages: domain::hotspot::router_pages(base, key)
            .into_iter()
            .map(|(name, _)| {
                let address = format!("{base}/hs/{key}/router/{name}");
                (name.to_owned(), address)
            })
            .collect(),
        start: format!("{base}/hs/{key}/start"),
    }
}

async fn build(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
) -> Result<PortalPage, OpError> {
    let ctx = state.ctx();
    let router = ops::network::get_router(&ctx, &user.actor, id).await?;
    ops::network::may_change(&ctx, &user.actor, router.tenant_id).await?;
    let needs_api = router.api_address.is_none() || router.api_user.is_none();
    let here = format!("/panel/routers/{id}/portal");
    let ui = Ui::new(user, Section::Routers, headers, &here);
    let packages = hotspot_packages(state, user, router.tenant_id).await?;
    let found = router_portal(state, user, id).await?;
    // The form shows the portal as it is, or the defaults of a new one.
    let f = match &found {
        Some(p) => {
            let f = Filled::new()
                .with("package_id", p.package_id.to_string())
                .with(
                    "trial_package_id",
                    p.trial_package_id
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                )
                .with("max_devices", p.max_devices.to_string())
                .with("codes_per_hour", p.codes_per_hour.to_string())
                .with("hosts", ops::hotspot::hosts_of(p).join(", "));
            if p.status == "active" {
                f.with("active", "on")
            } else {
                f
            }
        }
        None => Filled::new()
            .with("max_devices", ops::hotspot::DEFAULT_MAX_DEVICES.to_string())
            .with(
                "codes_per_hour",
                ops::hotspot::DEFAULT_CODES_PER_HOUR.to_string(),
            ),
    };
    let portal = found.map(|p| view(state, &p, &packages));
    Ok(PortalPage {
        ui,
        id,
        router: router.name,
        needs_api,
        portal,
        packages,
        f,
    })
}

/// Router `id`'s portal, if it has one the caller manages.
async fn router_portal(
    state: &AppState,
    user: &PanelUser,
    id: i64,
) -> Result<Option<Portal>, OpError> {
    Ok(ops::hotspot::portals(&state.ctx(), &user.actor)
        .await?
        .into_iter()
        .find(|p| p.router_id == id))
}

/// `GET`: the router's portal, or the form that sets it up.
pub(super) async fn page(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    PageId(id): PageId,
) -> Response {
    match build(&state, &user, &headers, id).await {
        Ok(page) => render(&page),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// Saves `input` as router `id`'s portal, at `version`, on or off.
async fn save(
    state: &AppState,
    user: &PanelUser,
    id: i64,
    input: PortalInput,
    version: i32,
    active: bool,
) -> Result<(), OpError> {
    let portal = router_portal(state, user, id)
        .await?
        .ok_or(OpError::NotFound)?;
    let edit = ops::hotspot::PortalEdit {
        settings: PortalInput {
            owner_id: portal.owner_id,
            ..input
        },
        active,
        version,
    };
    ops::hotspot::update_portal(
        &state.ctx(),
        &user.actor,
        user.author.clone(),
        portal.id,
        &edit,
    )
    .await
    .map(|_| ())
}

/// `POST`: sets the router's portal up, or saves its changes (a form with the version it
/// was read at).
pub(super) async fn create(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let mut errors = FieldErrors::new();
    let mut number = |name: &str| {
        errors
            .take(crate::page::input::number(name, form.text(name)))
            .flatten()
            .map(|n| i32::try_from(n).unwrap_or(i32::MAX))
    };
    let (max_devices, codes_per_hour) = (number("max_devices"), number("codes_per_hour"));
    let input = PortalInput {
        router_id: id,
        package_id: crate::page::input::id(form.opt("package_id")).unwrap_or(0),
        trial_package_id: crate::page::input::id(form.opt("trial_package_id")),
        owner_id: None,
        max_devices,
        codes_per_hour,
        hosts: form
            .text("hosts")
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    let version = match form.opt("version") {
        None => None,
        Some(text) => errors
            .take(crate::page::input::number("version", text))
            .flatten()
            .map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
    };
    let result = if !errors.is_empty() {
        Err(OpError::Invalid(errors))
    } else if let Some(version) = version {
        // An edit of the router's portal: its owner stays as it was set up.
        save(
            &state,
            &user,
            id,
            input,
            version,
            form.text("active") == "on",
        )
        .await
    } else {
        ops::hotspot::create_portal(&state.ctx(), &user.actor, user.author.clone(), &input)
            .await
            .map(|_| ())
    };
    match result {
        Ok(()) => ui::redirect_with(&format!("/panel/routers/{id}/portal"), "flash.saved"),
        // Changed by someone else since the form was read: shown again as it is now.
        Err(OpError::VersionMismatch) => {
            ui::redirect_with(&format!("/panel/routers/{id}/portal"), "flash.stale")
        }
        Err(OpError::Invalid(errors)) => {
            let page = build(&state, &user, &headers, id).await;
            show_again(page, &user, &headers, &form, &errors)
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
