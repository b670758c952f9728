//! The panel's tenant pages: the list (filters, sorting, cursor paging), the form to create
//! one, the page to change or delete one, with the tenant's operating settings (realm,
//! suspension policy and its target, default billing type, mobile country), and its VAT
//! rates with the form to set one from a date.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::i18n::Tr;
use crate::page::fallback::PageId;
use crate::page::form::{self, Filled, FormData, PanelForm, ShowsForm, show_again};
use crate::page::input;
use crate::page::session::PanelUser;
use crate::page::ui::{self, Pager, Section, Ui, render};
use crate::state::AppState;
use domain::access;
use domain::field::FieldErrors;
use domain::ids::TenantId;
use domain::tenant::{NewTenant, Settings, SettingsInput, TenantChanges, TenantStatus};
use ops::OpError;
use store::list::PageRequest;
use store::tenant::{LIST, Tenant, TenantFilter};

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/tenants", get(list))
        .route("/panel/tenants/new", get(new_form).post(create))
        .route("/panel/tenants/{id}", get(edit_form).post(update))
        .route("/panel/tenants/{id}/delete", post(delete))
        .route("/panel/tenants/{id}/vat", post(set_vat))
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    status: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    /// The cursors of the pages before this one (see `ui::Pager::keyset`).
    trail: Option<String>,
}

/// A tenant as a list row.
#[derive(Debug)]
pub struct TenantRow {
    id: i64,
    name: String,
    country: String,
    currency: String,
    time_zone: String,
    status: String,
}

impl TenantRow {
    fn from_model(tr: Tr, t: &Tenant) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            country: t.country.clone(),
            currency: t.currency.clone(),
            time_zone: t.time_zone.clone(),
            status: status_name(tr, t.status.get()).to_owned(),
        }
    }
}

/// A tenant status in the panel's language.
fn status_name(tr: Tr, status: TenantStatus) -> &'static str {
    tr.t(&format!("status.{}", status.as_str()))
}

#[derive(Template)]
#[template(path = "tenants.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<TenantRow>,
    total: String,
    pager: Pager,
    status: String,
    q: String,
    sort: String,
    can_create: bool,
}

async fn list(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let sort = query
        .sort
        .clone()
        .unwrap_or_else(|| LIST.default_sort.to_owned());
    let Ok(page) = PageRequest::parse(&LIST, Some(&sort), None, query.cursor.as_deref()) else {
        return ui::error_page(&user, &headers, StatusCode::BAD_REQUEST, "error.bad_list");
    };
    let filter = TenantFilter {
        status: query.status.clone().filter(|s| !s.is_empty()),
        name_prefix: query.q.clone().filter(|s| !s.is_empty()),
        country: None,
    };
    match ops::tenant::list(&state.ctx(), &user.actor, &filter, &page).await {
        Ok(found) => {
            let status = query.status.unwrap_or_default();
            let q = query.q.unwrap_or_default();
            let first = format!(
                "/panel/tenants?status={}&q={}&sort={}",
                ui::encode(&status),
                ui::encode(&q),
                ui::encode(&sort)
            );
            let total = ui::total(found.total, found.total_capped);
            let (trail, cursor) = (query.trail.as_deref(), query.cursor.as_deref());
            let pager = Pager::of_page(
                Tr { lang: user.lang },
                first,
                trail,
                cursor,
                &found,
                page.limit(),
            );
            render(&ListPage {
                ui: Ui::new(&user, Section::Tenants, &headers, "/panel/tenants"),
                rows: found
                    .items
                    .iter()
                    .map(|t| TenantRow::from_model(Tr { lang: user.lang }, t))
                    .collect(),
                total,
                pager,
                status,
                q,
                sort,
                can_create: access::create_tenant(&user.actor).is_ok(),
            })
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

#[derive(Template)]
#[template(path = "tenant_form.html")]
struct FormPage {
    ui: Ui,
    /// `None` when creating.
    id: Option<i64>,
    version: i32,
    f: Filled,
    /// The stored status in the page's language (edit page only).
    status: String,
    currency_locked: bool,
    can_edit: bool,
    can_delete: bool,
    countries: Vec<(&'static str, &'static str)>,
    currencies: Vec<(&'static str, String)>,
    time_zones: Vec<&'static str>,
    /// The VAT rates, newest first: (id, rate in percent, included or added, from when).
    vat_rates: Vec<(i64, String, &'static str, String)>,
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
    /// The suspension policies, as `(value, label)`.
    fn policies(&self) -> Vec<(&'static str, &'static str)> {
        ["reject", "pool", "address_list"]
            .into_iter()
            .map(|p| (p, self.ui.t.t(&format!("tenants.policy_{p}"))))
            .collect()
    }

    /// The billing types, as `(value, label)`.
    fn billing_types(&self) -> Vec<(&'static str, &'static str)> {
        domain::customer::BillingType::ALL
            .into_iter()
            .map(|b| (b.as_str(), self.ui.t.t(&format!("billing.{}", b.as_str()))))
            .collect()
    }

    fn blank(ui: Ui) -> Self {
        Self {
            ui,
            id: None,
            version: 0,
            f: Filled::new()
                .with("suspension_policy", "reject")
                .with("default_billing_type", "prepaid"),
            status: String::new(),
            currency_locked: false,
            can_edit: true,
            can_delete: false,
            countries: domain::locale::countries(),
            currencies: domain::locale::currencies(),
            time_zones: domain::locale::time_zones(),
            vat_rates: Vec::new(),
        }
    }

    fn of(ui: Ui, tenant: &Tenant, can_edit: bool, can_delete: bool) -> Self {
        let t = ui.t;
        let mobile_country = tenant
            .mobile_country
            .clone()
            .unwrap_or_else(|| tenant.country.clone());
        Self {
            id: Some(tenant.id),
            version: tenant.version,
            f: Filled::new()
                .with("name", &tenant.name)
                .with("country", &tenant.country)
                .with("currency", &tenant.currency)
                .with("time_zone", &tenant.time_zone)
                .with("realm", store::tenant::realm(tenant))
                .with("suspension_policy", &tenant.suspension_policy)
                .with(
                    "suspension_target",
                    tenant.suspension_target.clone().unwrap_or_default(),
                )
                .with("default_billing_type", tenant.default_billing_type.code())
                .with("mobile_country", mobile_country)
                .with(
                    "distributor_mobiles",
                    if tenant.distributor_mobiles { "1" } else { "" },
                ),
            status: status_name(t, tenant.status.get()).to_owned(),
            currency_locked: tenant.currency_locked,
            can_edit,
            can_delete,
            ..Self::blank(ui)
        }
    }
}

async fn new_form(user: PanelUser, headers: HeaderMap) -> Response {
    if access::create_tenant(&user.actor).is_err() {
        return ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.forbidden");
    }
    render(&FormPage::blank(Ui::new(
        &user,
        Section::Tenants,
        &headers,
        "/panel/tenants/new",
    )))
}

async fn create(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let parsed = NewTenant::parse(
        form.text("name"),
        form.text("country"),
        form.text("currency"),
        form.text("time_zone"),
    );
    let settings = Settings::parse(SettingsInput {
        realm: form.opt("realm"),
        suspension_policy: form.opt("suspension_policy"),
        suspension_target: form.opt("suspension_target"),
        default_billing_type: form.opt("default_billing_type"),
        mobile_country: form.opt("mobile_country"),
        distributor_mobiles: Some(form.text("distributor_mobiles") == "1"),
    });
    let result = match joined(parsed, settings) {
        Ok((new, settings)) => {
            let new = NewTenant { settings, ..new };
            ops::tenant::create(&state.ctx(), &user.actor, user.author.clone(), &new).await
        }
        Err(errors) => Err(OpError::Invalid(errors)),
    };
    match result {
        Ok(tenant) => ui::redirect_with(&format!("/panel/tenants/{}", tenant.id), "flash.created"),
        Err(OpError::Invalid(errors)) => {
            let ui = Ui::new(&user, Section::Tenants, &headers, "/panel/tenants/new");
            show_again(Ok(FormPage::blank(ui)), &user, &headers, &form, &errors)
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// The page of tenant `id`, with what the caller may do to it.
async fn edit_page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
) -> Result<FormPage, OpError> {
    let tenant = ops::tenant::get(&state.ctx(), &user.actor, TenantId(id)).await?;
    let facts = store::tenant::facts(&tenant);
    let can_edit = facts.active && access::update_tenant(&user.actor, &facts).is_ok();
    let can_delete = facts.active && access::delete_tenant(&user.actor, &facts).is_ok();
    let here = format!("/panel/tenants/{id}");
    let mut page = FormPage::of(
        Ui::new(user, Section::Tenants, headers, &here),
        &tenant,
        can_edit,
        can_delete,
    );
    let zone = input::zone_of(&tenant.time_zone);
    let t = page.ui.t;
    page.vat_rates = ops::tenant::vat_rates(&state.ctx(), &user.actor, TenantId(id))
        .await?
        .into_iter()
        .map(|r| {
            let included = if r.inclusive {
                t.t("tenants.vat_included")
            } else {
                t.t("tenants.vat_added")
            };
            (
                r.id,
                input::amount_text(i64::from(r.rate_bp), 2),
                included,
                input::local_time_text(Some(r.effective_from), zone),
            )
        })
        .collect();
    Ok(page)
}

/// `POST /panel/tenants/{id}/vat`: a VAT rate (in percent, up to two decimals), included in
/// prices or added to them, from a local time (now when blank).
async fn set_vat(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let here = format!("/panel/tenants/{id}");
    let ctx = state.ctx();
    let tenant = match ops::tenant::get(&ctx, &user.actor, TenantId(id)).await {
        Ok(tenant) => tenant,
        Err(error) => return ui::op_error(&user, &headers, &error),
    };
    let zone = input::zone_of(&tenant.time_zone);
    let mut errors = FieldErrors::new();
    let rate = errors.take(input::amount("rate_bp", form.text("vat_rate"), 2));
    let from = errors
        .take(input::local_time(
            "effective_from",
            form.text("effective_from"),
            zone,
        ))
        .flatten();
    let vat = rate.and_then(|r| {
        errors.take(domain::billing::Vat::parse(
            r.minor(),
            form.opt("vat_inclusive").is_some(),
        ))
    });
    let result = match vat {
        Some(vat) if errors.is_empty() => ops::tenant::set_vat(
            &ctx,
            &user.actor,
            user.author.clone(),
            TenantId(id),
            vat,
            from,
        )
        .await
        .map(|_| ()),
        _ => Err(OpError::Invalid(errors)),
    };
    match result {
        Ok(()) => ui::redirect_with(&here, "flash.saved"),
        Err(OpError::Invalid(errors)) => refused(&state, &user, &headers, id, &form, &errors).await,
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

async fn edit_form(
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

async fn update(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let here = format!("/panel/tenants/{id}");
    let version = form.text("version").parse().unwrap_or(0);
    let asked = ops::tenant::get(&state.ctx(), &user.actor, TenantId(id))
        .await
        .and_then(|tenant| changes(&tenant, &form));
    let result = match asked {
        Ok(changes) => {
            ops::tenant::update(
                &state.ctx(),
                &user.actor,
                user.author.clone(),
                TenantId(id),
                version,
                &changes,
            )
            .await
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

/// The edit page again, with what was typed (a field the form did not send, such as a
/// locked currency, keeps its stored value) and why it was refused.
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

/// Both parts of a form parsed, or every mistake of both.
fn joined<A, B>(
    a: Result<A, FieldErrors>,
    b: Result<B, FieldErrors>,
) -> Result<(A, B), FieldErrors> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(mut a), Err(b)) => {
            a.0.extend(b.0);
            Err(a)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

/// The changes the edit form asks for. Operating settings are sent only when they differ
/// from the stored ones (a realm, once customers exist, may not change even to itself
/// written another way).
fn changes(tenant: &Tenant, form: &FormData) -> Result<TenantChanges, OpError> {
    let differs = |name: &str, stored: &str| {
        form.opt(name)
            .filter(|typed| !typed.eq_ignore_ascii_case(stored))
    };
    let target = tenant.suspension_target.as_deref().unwrap_or("");
    let policy_changes = form.opt("suspension_policy").unwrap_or("reject")
        != tenant.suspension_policy
        || form.opt("suspension_target").unwrap_or("") != target;
    let mobile_country = tenant.mobile_country.as_deref().unwrap_or(&tenant.country);
    let input = SettingsInput {
        realm: differs("realm", &store::tenant::realm(tenant)),
        suspension_policy: if policy_changes {
            Some(form.opt("suspension_policy").unwrap_or("reject"))
        } else {
            None
        },
        suspension_target: if policy_changes {
            form.opt("suspension_target")
        } else {
            None
        },
        default_billing_type: differs("default_billing_type", tenant.default_billing_type.code()),
        mobile_country: differs("mobile_country", mobile_country),
        distributor_mobiles: {
            let ticked = form.text("distributor_mobiles") == "1";
            (ticked != tenant.distributor_mobiles).then_some(ticked)
        },
    };
    let base = TenantChanges::parse(
        form.opt("name"),
        form.opt("country"),
        form.opt("currency"),
        form.opt("time_zone"),
    );
    match base {
        Ok(base) => Ok(base.with_settings(input)?),
        Err(errors) => Err(OpError::Invalid(
            joined(Err::<(), _>(errors), Settings::parse(input))
                .err()
                .unwrap_or_default(),
        )),
    }
}

async fn delete(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form: _,
    }: PanelForm,
) -> Response {
    let result =
        ops::tenant::archive(&state.ctx(), &user.actor, user.author.clone(), TenantId(id)).await;
    form::archived(result, &user, &headers, "/panel/tenants", async |errors| {
        refused(&state, &user, &headers, id, &FormData::default(), &errors).await
    })
    .await
}
