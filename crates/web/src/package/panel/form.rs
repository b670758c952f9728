//! The package form: a new master package with its service, and the page of any package to
//! change it (the service of a master only; a derived package changes its name, prices and
//! visibility) or delete it.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::fields::{money, same_service, service};
use super::{Around, PackageRow, connection_choices, may_create};
use crate::i18n::Tr;
use crate::page::fallback::PageId;
use crate::page::form;
use crate::page::form::{Filled, FormData, PanelForm, ShowsForm, show_again};
use crate::page::input;
use crate::page::lookup::{self, Choice, Tenants};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, render};
use crate::state::AppState;
use domain::access::Role;
use domain::field::FieldErrors;
use domain::ids::TenantId;
use domain::package::{self as rules, PackageLevel};
use ops::OpError;
use store::package::{Package, PackageChanges};

#[derive(Template)]
#[template(path = "package_form.html")]
pub(super) struct FormPage {
    pub(super) ui: Ui,
    /// `None` when creating.
    id: Option<i64>,
    version: i32,
    /// Where the package stands.
    level: PackageLevel,
    pub(super) f: Filled,
    tenants: Vec<Choice>,
    pools: Vec<Choice>,
    connections: Vec<Choice>,
    /// The currency prices are typed in (empty until a platform user picks a tenant).
    currency: String,
    /// A derived package's service and owner, shown read-only.
    derived: Option<PackageRow>,
    /// The package it is derived from: id and name.
    parent: Option<(i64, String)>,
    can_edit: bool,
    can_derive: bool,
}

impl ShowsForm for FormPage {
    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

impl FormPage {
    fn is_master(&self) -> bool {
        self.level == PackageLevel::Master
    }
}

/// The service fields of a stored package as the form shows them.
fn service_fields(f: Filled, p: &Package) -> Filled {
    let (days, hours, minutes) = input::validity_parts(p.validity_minutes);
    let rate = |kbps: Option<i64>| kbps.map(input::rate_text).unwrap_or_default();
    f.with("connection_type", p.connection_type.code())
        .with("download_kbps", input::rate_text(p.download_kbps))
        .with("upload_kbps", input::rate_text(p.upload_kbps))
        .with("burst_download_kbps", rate(p.burst_download_kbps))
        .with("burst_upload_kbps", rate(p.burst_upload_kbps))
        .with(
            "burst_threshold_download_kbps",
            rate(p.burst_threshold_download_kbps),
        )
        .with(
            "burst_threshold_upload_kbps",
            rate(p.burst_threshold_upload_kbps),
        )
        .with(
            "burst_time_secs",
            p.burst_time_secs.map(|t| t.to_string()).unwrap_or_default(),
        )
        .with("volume_bytes", input::volume_text(p.volume_bytes))
        .with(
            "fup",
            store::package::fup(p)
                .map(|f| input::fup_text(&f))
                .unwrap_or_default(),
        )
        .with("validity_days", days.to_string())
        .with("validity_hours", hours.to_string())
        .with("validity_minutes", minutes.to_string())
        .with(
            "ip_pool_id",
            p.ip_pool_id.map(|id| id.to_string()).unwrap_or_default(),
        )
}

/// The pools of `tenant` (or all the caller sees) as select choices.
fn pool_choices(around: &Around, tenant: Option<i64>) -> Vec<Choice> {
    around
        .pools
        .iter()
        .filter(|p| tenant.is_none_or(|t| p.tenant_id == t))
        .map(|p| (p.id.to_string(), format!("{} ({})", p.name, p.ranges)))
        .collect()
}

async fn blank_form(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
) -> Result<FormPage, OpError> {
    let t = Tr { lang: user.lang };
    let around = Around::load(state, &user.actor, user.actor.tenant_id.map(|t| t.0)).await?;
    let currency = user
        .actor
        .tenant_id
        .and_then(|id| around.tenants.get(id.0))
        .map(|t| t.currency.clone())
        .unwrap_or_default();
    Ok(FormPage {
        ui: Ui::new(user, Section::Packages, headers, "/panel/packages/new"),
        id: None,
        version: 0,
        level: PackageLevel::Master,
        f: Filled::new()
            .with("connection_type", "pppoe")
            .with("validity_days", "30")
            .with("validity_hours", "0")
            .with("validity_minutes", "0"),
        tenants: lookup::tenant_choices(state, &user.actor).await?,
        pools: pool_choices(&around, user.actor.tenant_id.map(|t| t.0)),
        connections: connection_choices(t),
        currency,
        derived: None,
        parent: None,
        can_edit: true,
        can_derive: false,
    })
}

/// May the signed-in user offer `package` to the level below (an operator for a master, a
/// sub-operator for an operator package)?
fn may_derive(user: &PanelUser, package: &Package) -> bool {
    let actor = &user.actor;
    match package.level.get() {
        PackageLevel::SubOperator => false,
        PackageLevel::Master => may_create(actor),
        PackageLevel::Operator => {
            may_create(actor)
                || (actor.role == Role::Operator && package.owner_id == Some(actor.user_id.0))
        }
    }
}

pub(super) async fn edit_page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
) -> Result<FormPage, OpError> {
    let t = Tr { lang: user.lang };
    let package = ops::package::get(&state.ctx(), &user.actor, id).await?;
    let around = Around::load(state, &user.actor, [package.tenant_id]).await?;
    let digits = around.tenants.digits(package.tenant_id);
    let mut f = Filled::new()
        .with("name", &package.name)
        .with("price", input::amount_text(package.price, digits))
        .with("cost_price", input::amount_text(package.cost_price, digits));
    if package.level == PackageLevel::Master {
        f = service_fields(f, &package);
    }
    let parent = match package.parent_id {
        Some(parent) => ops::package::get(&state.ctx(), &user.actor, parent)
            .await
            .ok()
            .map(|p| (p.id, p.name)),
        None => None,
    };
    let can_edit = ops::package::may_change(&state.ctx(), &user.actor, &package)
        .await
        .is_ok();
    Ok(FormPage {
        ui: Ui::new(
            user,
            Section::Packages,
            headers,
            &format!("/panel/packages/{id}"),
        ),
        id: Some(id),
        version: package.version,
        level: package.level.get(),
        f,
        tenants: Vec::new(),
        pools: pool_choices(&around, Some(package.tenant_id)),
        connections: connection_choices(t),
        currency: around
            .tenants
            .get(package.tenant_id)
            .map(|t| t.currency.clone())
            .unwrap_or_default(),
        derived: (package.level != PackageLevel::Master).then(|| around.row(t, &package)),
        parent,
        can_edit,
        can_derive: may_derive(user, &package),
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

/// The master package a form describes, priced in its tenant's currency.
async fn master_input(
    state: &AppState,
    user: &PanelUser,
    form: &FormData,
) -> Result<ops::package::MasterInput, OpError> {
    let tenant = input::id(form.opt("tenant_id"))
        .map(TenantId)
        .or(user.actor.tenant_id);
    let digits = match tenant {
        Some(id) => Tenants::load(state, &user.actor, [id.0])
            .await?
            .digits(id.0),
        None => 2,
    };
    let mut errors = FieldErrors::new();
    let name = errors.take(rules::parse_name(form.text("name")));
    let service = service(form, &mut errors);
    let price = money(form, "price", digits, &mut errors);
    match (name, service, price) {
        (Some(name), Some(service), Some(price)) if errors.is_empty() => {
            Ok(ops::package::MasterInput {
                tenant,
                name,
                service,
                price,
            })
        }
        _ => Err(OpError::Invalid(errors)),
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let result = match master_input(&state, &user, &form).await {
        Ok(input) => {
            ops::package::create_master(&state.ctx(), &user.actor, user.author.clone(), input).await
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(package) => {
            ui::redirect_with(&format!("/panel/packages/{}", package.id), "flash.created")
        }
        Err(OpError::Invalid(errors)) => {
            let page = blank_form(&state, &user, &headers).await;
            show_again(page, &user, &headers, &form, &errors)
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
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

/// The changes a package's form asks for.
async fn changes(
    state: &AppState,
    user: &PanelUser,
    id: i64,
    form: &FormData,
) -> Result<PackageChanges, OpError> {
    let package = ops::package::get(&state.ctx(), &user.actor, id).await?;
    let digits = Tenants::load(state, &user.actor, [package.tenant_id])
        .await?
        .digits(package.tenant_id);
    let mut errors = FieldErrors::new();
    let master = package.level == PackageLevel::Master;
    let changes = PackageChanges {
        name: errors.take(rules::parse_name(form.text("name"))),
        service: if master {
            service(form, &mut errors).filter(|s| !same_service(&package, s))
        } else {
            None
        },
        price: money(form, "price", digits, &mut errors),
        cost_price: if master {
            None
        } else {
            money(form, "cost_price", digits, &mut errors)
        },
    };
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(OpError::Invalid(errors))
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
    let here = format!("/panel/packages/{id}");
    let version = form.text("version").parse().unwrap_or(0);
    let result = match changes(&state, &user, id, &form).await {
        Ok(changes) => {
            let author = user.author.clone();
            ops::package::update(&state.ctx(), &user.actor, author, id, version, &changes).await
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(_) => ui::redirect_with(&here, "flash.saved"),
        Err(OpError::VersionMismatch) => ui::redirect_with(&here, "flash.stale"),
        Err(OpError::Invalid(errors)) => refused(&state, &user, &headers, id, &form, &errors).await,
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// The package's page again, with what was typed and why it was refused.
async fn refused(
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
    let result = ops::package::archive(&state.ctx(), &user.actor, user.author.clone(), id).await;
    form::archived(result, &user, &headers, "/panel/packages", async |errors| {
        refused(&state, &user, &headers, id, &FormData::default(), &errors).await
    })
    .await
}

/// Switches a master package's customers to static or dynamic addresses from its pool
/// (`ops::readdress`): queued as a job, whose page it shows.
pub(super) async fn allocation(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let mode = match form.text("mode") {
        "static" => Some(ops::readdress::Allocation::Static),
        "dynamic" => Some(ops::readdress::Allocation::Dynamic),
        _ => None,
    };
    let result = match mode {
        Some(mode) => {
            ops::readdress::submit_allocation(
                &state.ctx(),
                &user.actor,
                user.author.clone(),
                id,
                mode,
            )
            .await
        }
        None => Err(OpError::field("mode", "required")),
    };
    match result {
        Ok(job) => {
            state.jobs_wake.notify_one();
            crate::page::ui::redirect_with(&format!("/panel/jobs/{}", job.id), "flash.job_queued")
        }
        Err(OpError::Invalid(errors)) => refused(&state, &user, &headers, id, &form, &errors).await,
        Err(error) => crate::page::ui::op_error(&user, &headers, &error),
    }
}
