//! The customer's page: what it is and gets now, its edit form (only the fields that changed
//! are sent, so an untouched static address or user name stays as it is), and the forms of
//! the actions (`actions`), which come back here with their messages.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{
    Network, billing_choices, billing_name, package_choices, state_name, state_of, visible_packages,
};
use crate::i18n::Tr;
use crate::page::form::{Filled, FormData};
use crate::page::input;
use crate::page::lookup::{self, Choice, Tenants};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, field_messages, render};
use crate::state::AppState;
use domain::access;
use domain::customer::BillingType;
use domain::field::{FieldError, FieldErrors};
use domain::network::MacAddr;
use ops::OpError;
use ops::customer::CustomerUpdate;
use store::customer::{Customer, CustomerChanges, StaticIp};

#[derive(Template)]
#[template(path = "customer.html")]
pub(super) struct CustomerPage {
    ui: Ui,
    id: i64,
    version: i32,
    name: String,
    state: &'static str,
    state_name: &'static str,
    status: String,
    /// What the customer is, as `(label, value)`.
    facts: Vec<(&'static str, String)>,
    f: Filled,
    packages: Vec<Choice>,
    network: Network,
    billing: Vec<Choice>,
    /// A password just set, shown on this page only.
    new_password: Option<String>,
    can_manage: bool,
}

/// The page of customer `id` as stored.
pub(super) async fn customer_page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
) -> Result<CustomerPage, OpError> {
    let t = Tr { lang: user.lang };
    let actor = &user.actor;
    let c = ops::customer::get(&state.ctx(), actor, id).await?;
    let now = state.clock.now();
    let zone = Tenants::load(state, actor, [c.tenant_id])
        .await?
        .zone(c.tenant_id);
    let owners = lookup::resellers(state, actor).await?;
    let visible = visible_packages(state, actor).await?;
    let package = match visible.iter().find(|p| p.id == c.package_id) {
        Some(p) => p.name.clone(),
        None => store::package::find_any(state.db.conn(), c.package_id)
            .await?
            .map_or_else(|| format!("#{}", c.package_id), |p| p.name),
    };
    let current = state_of(&c, now);
    let ip = store::customer::static_ip(&c)
        .map(|ip| ip.to_string())
        .unwrap_or_default();
    let owner = match c.sub_operator_id.or(c.operator_id) {
        Some(id) => lookup::user_name(&owners, Some(id)),
        None => t.t("customers.tenant_owned").to_owned(),
    };
    let facts = vec![
        (t.t("field.status"), state_name(t, current).to_owned()),
        (t.t("field.username"), c.username.clone()),
        (t.t("field.package"), package),
        (t.t("field.owner"), owner),
        (
            t.t("field.connection_type"),
            crate::package::panel::connection_name(t, &c.connection_type).to_owned(),
        ),
        (
            t.t("field.billing_type"),
            billing_name(t, &c.billing_type).to_owned(),
        ),
        (
            t.t("customers.expires"),
            input::local_time_text(c.expires_at, zone),
        ),
        (t.t("field.ip"), ip.clone()),
        (t.t("field.mac"), c.mac.clone().unwrap_or_default()),
        (t.t("field.mobile"), c.mobile.clone().unwrap_or_default()),
    ];
    let id_text = |id: Option<i64>| id.map(|i| i.to_string()).unwrap_or_default();
    let f = Filled::new()
        .with("name", &c.name)
        .with("mobile", c.mobile.clone().unwrap_or_default())
        .with("email", c.email.clone().unwrap_or_default())
        .with("address", &c.address)
        .with("zone_id", id_text(c.zone_id))
        .with("router_id", id_text(c.router_id))
        .with("billing_type", &c.billing_type)
        .with("expires_at", input::local_time_value(c.expires_at, zone))
        .with("static_ip", ip)
        .with("ip_pool_id", id_text(c.ip_pool_id))
        .with("mac", c.mac.clone().unwrap_or_default())
        .with("simultaneous_use", c.simultaneous_use.to_string())
        .with("comment", &c.comment)
        .with("package_id", c.package_id.to_string())
        .with("username", &c.username);
    Ok(CustomerPage {
        ui: Ui::new(
            user,
            Section::Customers,
            headers,
            &format!("/panel/customers/{id}"),
        ),
        id,
        version: c.version,
        name: c.name.clone(),
        state: current,
        state_name: state_name(t, current),
        status: c.status.clone(),
        facts,
        f,
        packages: package_choices(t, &visible, &owners),
        network: Network::load(state, actor).await?,
        billing: billing_choices(t),
        new_password: None,
        can_manage: access::manage_customers_of(actor, store::customer::owner(&c)).is_ok(),
    })
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    match customer_page(&state, &user, &headers, id).await {
        Ok(page) => render(&page),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// The customer's page showing a password just set (made up or typed), this once.
pub(super) async fn with_password(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
    password: String,
    flash: &'static str,
) -> Response {
    match customer_page(state, user, headers, id).await {
        Ok(mut page) => {
            page.ui.flash = Some(flash);
            page.new_password = Some(password);
            render(&page)
        }
        Err(error) => ui::op_error(user, headers, &error),
    }
}

/// The page again after a refused form, with what was typed and why.
pub(super) async fn refused(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
    form: &FormData,
    errors: &FieldErrors,
) -> Response {
    match customer_page(state, user, headers, id).await {
        Ok(mut page) => {
            let messages = field_messages(page.ui.t, errors);
            page.f = page.f.refill(form, &[]).with_errors(messages);
            page.f.set("password", "");
            (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response()
        }
        Err(error) => ui::op_error(user, headers, &error),
    }
}

/// `Some(value)` when the typed text differs from the stored one.
fn differs<'a>(form: &'a FormData, name: &str, stored: &str) -> Option<&'a str> {
    let typed = form.get(name)?;
    (typed.trim() != stored).then_some(typed)
}

/// An optional id select, when it changed.
fn id_change(form: &FormData, name: &str, stored: Option<i64>) -> Option<Option<i64>> {
    form.get(name)?;
    let chosen = input::id(form.opt(name));
    (chosen != stored).then_some(chosen)
}

/// The changes the edit form asks for: only the fields that differ from `c`.
fn changes(
    c: &Customer,
    zone: chrono_tz::Tz,
    form: &FormData,
) -> Result<CustomerUpdate, FieldErrors> {
    let mut errors = FieldErrors::new();
    let optional = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let mut changes = CustomerChanges {
        name: differs(form, "name", &c.name)
            .and_then(|n| errors.take(domain::text::bounded("name", n, 1, 120))),
        email: differs(form, "email", c.email.as_deref().unwrap_or("")).map(|e| {
            optional(e).and_then(|e| {
                errors
                    .take(domain::user::Email::parse(&e))
                    .map(|e| e.as_str().to_owned())
            })
        }),
        address: differs(form, "address", &c.address)
            .and_then(|a| errors.take(domain::text::bounded("address", a, 0, 500))),
        zone_id: id_change(form, "zone_id", c.zone_id),
        router_id: id_change(form, "router_id", c.router_id),
        billing_type: differs(form, "billing_type", &c.billing_type).and_then(|b| {
            errors.take(
                BillingType::parse(b)
                    .ok_or_else(|| FieldError::new("billing_type", "unknown_billing_type")),
            )
        }),
        expires_at: differs(
            form,
            "expires_at",
            &input::local_time_value(c.expires_at, zone),
        )
        .and_then(|e| errors.take(input::local_time("expires_at", e, zone))),
        mac: differs(form, "mac", c.mac.as_deref().unwrap_or("")).map(|m| {
            optional(m).and_then(|m| {
                errors.take(MacAddr::parse(&m).ok_or_else(|| FieldError::new("mac", "invalid_mac")))
            })
        }),
        simultaneous_use: differs(form, "simultaneous_use", &c.simultaneous_use.to_string())
            .and_then(|n| {
                errors.take(match n.trim().parse::<i32>() {
                    Ok(n) if (1..=100).contains(&n) => Ok(n),
                    _ => Err(FieldError::new("simultaneous_use", "out_of_range")
                        .with("min", 1)
                        .with("max", 100)),
                })
            }),
        comment: differs(form, "comment", &c.comment)
            .and_then(|v| errors.take(domain::text::bounded("comment", v, 0, 2000))),
        ..Default::default()
    };
    // A static address comes from the pool chosen; clearing it releases the address.
    let stored_ip = store::customer::static_ip(c).map(|ip| ip.to_string());
    let pool = input::id(form.opt("ip_pool_id"));
    match differs(form, "static_ip", stored_ip.as_deref().unwrap_or("")).map(str::trim) {
        Some("") => changes.static_ip = Some(None),
        Some(text) => match (text.parse(), pool) {
            (Ok(address), Some(pool_id)) => {
                changes.static_ip = Some(Some(StaticIp {
                    pool_id,
                    address: Some(address),
                }));
            }
            (Ok(_), None) => errors.push(FieldError::new("ip_pool_id", "required")),
            (Err(_), _) => errors.push(FieldError::new("static_ip", "invalid_ip")),
        },
        None if stored_ip.is_none() => {
            changes.ip_pool_id = id_change(form, "ip_pool_id", c.ip_pool_id)
        }
        None => {}
    }
    let mobile = differs(form, "mobile", c.mobile.as_deref().unwrap_or("")).map(str::to_owned);
    errors.finish(|| Some(CustomerUpdate { changes, mobile }))
}

pub(super) async fn update(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    form: FormData,
) -> Response {
    if !form.csrf_ok(&user) {
        return ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.csrf");
    }
    let here = format!("/panel/customers/{id}");
    let version = form.text("version").parse().unwrap_or(0);
    let result = async {
        let c = ops::customer::get(&state.ctx(), &user.actor, id).await?;
        let zone = Tenants::load(&state, &user.actor, [c.tenant_id])
            .await?
            .zone(c.tenant_id);
        let update = changes(&c, zone, &form)?;
        let author = user.author.clone();
        ops::customer::update(&state.ctx(), &user.actor, author, id, version, update).await
    };
    match result.await {
        Ok(_) => ui::redirect_with(&here, "flash.saved"),
        Err(OpError::VersionMismatch) => ui::redirect_with(&here, "flash.stale"),
        Err(OpError::Invalid(errors)) => refused(&state, &user, &headers, id, &form, &errors).await,
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
