//! Router pages. The RADIUS shared secret is made (or taken as typed) when a router is
//! created or its secret renewed, and shown on the page that answers that form, once: it is
//! never put in a URL, a cookie or a later page (the list and the edit page say only that one
//! is set).

use std::net::IpAddr;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{ListQuery, ListState, may_create, tenant_of_form};
use crate::i18n::Tr;
use crate::page::fallback::PageId;
use crate::page::form;
use crate::page::form::{Filled, FormData, PanelForm, ShowsForm, show_again};
use crate::page::input;
use crate::page::lookup::{self, Choice, Tenants};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Pager, Section, Ui, render};
use crate::state::AppState;
use domain::field::{FieldError, FieldErrors};
use domain::locale::TimeZoneName;
use domain::network::router as rules;
use domain::network::router::TlsTrust;
use ops::OpError;
use store::list::PageRequest;
use store::network::{NewRouter, ROUTERS, Router, RouterChanges};

/// A router as a list row.
#[derive(Debug)]
pub struct RouterRow {
    id: i64,
    name: String,
    nas_address: String,
    api: String,
    tenant: String,
    notes: String,
}

#[derive(Template)]
#[template(path = "routers.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<RouterRow>,
    list: ListState,
    pager: Pager,
}

pub(super) async fn list(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let sort = query.sort();
    let Ok(page) = PageRequest::parse(&ROUTERS, Some(&sort), None, query.cursor.as_deref()) else {
        return ui::error_page(&user, &headers, StatusCode::BAD_REQUEST, "error.bad_list");
    };
    let result = async {
        let found =
            ops::network::list_routers(&state.ctx(), &user.actor, &query.filter(), &page).await?;
        let tenants =
            Tenants::load(&state, &user.actor, found.items.iter().map(|r| r.tenant_id)).await?;
        let choices = lookup::tenant_choices(&state, &user.actor).await?;
        Ok::<_, OpError>((found, tenants, choices))
    };
    match result.await {
        Ok((found, tenants, choices)) => render(&ListPage {
            ui: Ui::new(&user, Section::Routers, &headers, "/panel/routers"),
            rows: found
                .items
                .iter()
                .map(|r| RouterRow {
                    id: r.id,
                    name: r.name.clone(),
                    nas_address: r.nas_address.clone(),
                    api: r
                        .api_address
                        .as_ref()
                        .map(|a| format!("{a}:{}", r.api_port))
                        .unwrap_or_default(),
                    tenant: tenants.name(r.tenant_id),
                    notes: r.notes.clone(),
                })
                .collect(),
            list: query.state(&found, choices, &user.actor),
            pager: query.pager("/panel/routers", found.next_cursor.as_ref()),
        }),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

#[derive(Template)]
#[template(path = "router_form.html")]
struct FormPage {
    ui: Ui,
    /// `None` when creating.
    id: Option<i64>,
    version: i32,
    f: Filled,
    /// Tenants a platform user picks from when creating.
    tenants: Vec<Choice>,
    /// The RADIUS secret, on the page answering the form that made it.
    secret: Option<String>,
    /// What to paste into the router's terminal (an existing router).
    routeros: Option<String>,
    api_password_set: bool,
    can_edit: bool,
    /// Whether lastmile has API access to it (its operations need it).
    api: bool,
    /// Its last health check.
    health: Option<super::health::HealthView>,
}

impl ShowsForm for FormPage {
    const CHECKBOXES: &'static [&'static str] = &["api_tls", "require_message_authenticator"];
    const SECRETS: &'static [&'static str] = &["secret", "api_password"];

    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

impl FormPage {
    fn of(ui: Ui, router: &Router, can_edit: bool, server: &str) -> Self {
        let f = Filled::new()
            .with("name", &router.name)
            .with("nas_address", &router.nas_address)
            .with(
                "api_address",
                router.api_address.clone().unwrap_or_default(),
            )
            .with("api_port", router.api_port.to_string())
            .with("api_user", router.api_user.clone().unwrap_or_default())
            .with("api_tls", if router.api_tls { "on" } else { "" })
            .with(
                "require_message_authenticator",
                if router.require_message_authenticator {
                    "on"
                } else {
                    ""
                },
            )
            .with("api_tls_trust", &router.api_tls_trust)
            .with(
                "api_tls_fingerprint",
                router.api_tls_fingerprint.clone().unwrap_or_default(),
            )
            .with("api_tls_ca", router.api_tls_ca.clone().unwrap_or_default())
            .with("time_zone", router.time_zone.clone().unwrap_or_default())
            .with("notes", &router.notes);
        Self {
            ui,
            id: Some(router.id),
            version: router.version,
            f,
            tenants: Vec::new(),
            secret: None,
            routeros: routeros_lines(server, None, router),
            api_password_set: router.api_password.is_some(),
            can_edit,
            api: router.api_address.is_some() && router.api_user.is_some(),
            health: None,
        }
    }
}

/// The router fields both forms send.
struct Fields {
    name: String,
    nas_address: IpAddr,
    api_address: Option<String>,
    api_port: u16,
    api_user: Option<String>,
    api_tls: bool,
    api_tls_trust: TlsTrust,
    time_zone: Option<String>,
    notes: String,
    require_message_authenticator: bool,
}

fn fields(form: &FormData, errors: &mut FieldErrors) -> Option<Fields> {
    let name = errors.take(rules::parse_name(form.text("name")));
    let nas_address = errors.take(rules::parse_nas_address(form.text("nas_address")));
    let api_address = form
        .opt("api_address")
        .and_then(|a| errors.take(rules::parse_api_address(a)));
    let api_tls = form.get("api_tls").is_some();
    let api_tls_trust = errors.take(TlsTrust::parse(
        form.text("api_tls_trust"),
        form.opt("api_tls_fingerprint"),
        form.opt("api_tls_ca"),
    ));
    let api_port = errors
        .take(input::number("api_port", form.text("api_port")))
        .and_then(|port| {
            let port = port.unwrap_or(if api_tls { 8729 } else { 8728 });
            errors.take(rules::parse_port("api_port", port))
        });
    let api_user = form
        .opt("api_user")
        .and_then(|u| errors.take(rules::parse_api_user(u)));
    let time_zone = form.opt("time_zone").and_then(|z| {
        errors.take(TimeZoneName::parse("time_zone", z).map(|z| z.as_str().to_owned()))
    });
    let notes = errors.take(domain::text::bounded("notes", form.text("notes"), 0, 2000));
    Some(Fields {
        name: name?,
        nas_address: nas_address?,
        api_address,
        api_port: api_port?,
        api_user,
        api_tls,
        api_tls_trust: api_tls_trust?,
        time_zone,
        notes: notes?,
        require_message_authenticator: form.get("require_message_authenticator").is_some(),
    })
}

/// A secret typed into `field` exactly as typed (a secret is never trimmed); blank is `None`.
fn typed_secret(form: &FormData, field: &str, errors: &mut FieldErrors) -> Option<String> {
    let raw = form.get(field).filter(|s| !s.is_empty())?;
    errors.take(rules::parse_secret(raw).map_err(|e| FieldError {
        field: field.to_owned(),
        ..e
    }))
}

fn new_router(user: &PanelUser, form: &FormData) -> Result<NewRouter, FieldErrors> {
    let mut errors = FieldErrors::new();
    let tenant_id = tenant_of_form(form).or(user.actor.tenant_id);
    if tenant_id.is_none() {
        errors.push(FieldError::new("tenant_id", "required"));
    }
    let fields = fields(form, &mut errors);
    let secret = typed_secret(form, "secret", &mut errors);
    let api_password = typed_secret(form, "api_password", &mut errors);
    match (tenant_id, fields) {
        (Some(tenant_id), Some(f)) if errors.is_empty() => Ok(NewRouter {
            tenant_id,
            name: f.name,
            nas_address: f.nas_address,
            secret: secret.unwrap_or_else(ops::network::random_secret),
            api_address: f.api_address,
            api_port: f.api_port,
            api_user: f.api_user,
            api_password,
            api_tls: f.api_tls,
            api_tls_trust: f.api_tls_trust,
            time_zone: f.time_zone,
            notes: f.notes,
            require_message_authenticator: f.require_message_authenticator,
        }),
        _ => Err(errors),
    }
}

async fn blank_form(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
) -> Result<FormPage, OpError> {
    Ok(FormPage {
        ui: Ui::new(user, Section::Routers, headers, "/panel/routers/new"),
        id: None,
        version: 0,
        f: Filled::new()
            .with("api_port", "8728")
            .with("require_message_authenticator", "on"),
        tenants: lookup::tenant_choices(state, &user.actor).await?,
        secret: None,
        routeros: None,
        api_password_set: false,
        can_edit: true,
        api: false,
        health: None,
    })
}

pub(super) async fn new_form(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
) -> Response {
    if !may_create(&user.actor) {
        return ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.forbidden");
    }
    match blank_form(&state, &user, &headers).await {
        Ok(page) => render(&page),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// The router's page right after a form made its secret: shown here, this once.
fn with_secret(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    router: &Router,
    secret: String,
    flash: &'static str,
) -> Response {
    let here = format!("/panel/routers/{}", router.id);
    let mut ui = Ui::new(user, Section::Routers, headers, &here);
    ui.flash = Some(flash);
    let server = state.settings.radius_server();
    let mut page = FormPage::of(ui, router, true, &server);
    page.routeros = routeros_lines(&server, Some(&secret), router);
    page.secret = Some(secret);
    render(&page)
}

/// The RouterOS lines for `router`, when its address reads.
fn routeros_lines(server: &str, secret: Option<&str>, router: &Router) -> Option<String> {
    let address = router.nas_address.parse().ok()?;
    Some(domain::network::router::routeros_radius_lines(
        server, secret, address,
    ))
}

pub(super) async fn create(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let result = match new_router(&user, &form) {
        Ok(new) => {
            ops::network::create_router(&state.ctx(), &user.actor, user.author.clone(), &new)
                .await
                .map(|router| (router, new.secret))
        }
        Err(errors) => Err(OpError::Invalid(errors)),
    };
    match result {
        Ok((router, secret)) => {
            let mut page = with_secret(&state, &user, &headers, &router, secret, "flash.created");
            *page.status_mut() = StatusCode::CREATED;
            page
        }
        Err(OpError::Invalid(errors)) => {
            let page = blank_form(&state, &user, &headers).await;
            show_again(page, &user, &headers, &form, &errors)
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

async fn edit_page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
) -> Result<FormPage, OpError> {
    let router = ops::network::get_router(&state.ctx(), &user.actor, id).await?;
    let here = format!("/panel/routers/{id}");
    let ui = Ui::new(user, Section::Routers, headers, &here);
    let can_edit = super::may_change(state, &user.actor, router.tenant_id).await;
    let health = ops::router_health::get(&state.ctx(), &user.actor, id).await?;
    let mut page = FormPage::of(ui, &router, can_edit, &state.settings.radius_server());
    page.health = health.as_ref().map(super::health::HealthView::of);
    Ok(page)
}

pub(super) async fn edit_form(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    PageId(id): PageId,
) -> Response {
    match edit_page(&state, &user, &headers, id).await {
        Ok(page) => render(&page),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

fn changes(form: &FormData) -> Result<(RouterChanges, bool), FieldErrors> {
    let mut errors = FieldErrors::new();
    let fields = fields(form, &mut errors);
    let renew = form.get("new_secret").is_some();
    let typed = typed_secret(form, "secret", &mut errors);
    let secret = if renew {
        Some(ops::network::random_secret())
    } else {
        typed
    };
    let api_password = match typed_secret(form, "api_password", &mut errors) {
        Some(p) => Some(Some(p)),
        None if form.get("clear_api_password").is_some() => Some(None),
        None => None,
    };
    match fields {
        Some(f) if errors.is_empty() => Ok((
            RouterChanges {
                name: Some(f.name),
                nas_address: Some(f.nas_address),
                secret,
                api_address: Some(f.api_address),
                api_port: Some(f.api_port),
                api_user: Some(f.api_user),
                api_password,
                api_tls: Some(f.api_tls),
                api_tls_trust: Some(f.api_tls_trust),
                time_zone: Some(f.time_zone),
                notes: Some(f.notes),
                require_message_authenticator: Some(f.require_message_authenticator),
            },
            renew,
        )),
        _ => Err(errors),
    }
}

pub(super) async fn update(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let here = format!("/panel/routers/{id}");
    let version = form.text("version").parse().unwrap_or(0);
    let result = match changes(&form) {
        Ok((changes, renew)) => ops::network::update_router(
            &state.ctx(),
            &user.actor,
            user.author.clone(),
            id,
            version,
            &changes,
        )
        .await
        .map(|router| (router, changes.secret.filter(|_| renew))),
        Err(errors) => Err(OpError::Invalid(errors)),
    };
    match result {
        Ok((router, Some(secret))) => {
            with_secret(&state, &user, &headers, &router, secret, "flash.saved")
        }
        Ok((_, None)) => ui::redirect_with(&here, "flash.saved"),
        Err(OpError::VersionMismatch) => ui::redirect_with(&here, "flash.stale"),
        Err(OpError::Invalid(errors)) => refused(&state, &user, &headers, id, &form, &errors).await,
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// The edit page again, with what was typed and why it was refused.
pub(super) async fn refused(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
    form: &FormData,
    errors: &FieldErrors,
) -> Response {
    let page = edit_page(state, user, headers, id).await;
    show_again(page, user, headers, form, errors)
}

pub(super) async fn delete(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form: _,
    }: PanelForm,
) -> Response {
    let result =
        ops::network::archive_router(&state.ctx(), &user.actor, user.author.clone(), id).await;
    form::archived(result, &user, &headers, "/panel/routers", async |errors| {
        refused(&state, &user, &headers, id, &FormData::default(), &errors).await
    })
    .await
}

/// Queues the read of the certificate the router's API-SSL presents and shows the job, whose
/// page gives the fingerprint once read.
pub(super) async fn probe_tls(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form: _,
    }: PanelForm,
) -> Response {
    let author = user.author.clone();
    match ops::network::probe_router_tls(&state.ctx(), &user.actor, author, id).await {
        Ok(job) => ui::redirect_with(&format!("/panel/jobs/{}", job.id), "flash.probe_queued"),
        Err(OpError::Invalid(errors)) => {
            refused(&state, &user, &headers, id, &FormData::default(), &errors).await
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
