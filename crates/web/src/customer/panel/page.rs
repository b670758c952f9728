//! The customer's page: what it is and gets now, whether it is online, its live and recent
//! sessions and its usage (`online::panel`), its recharges and the recharge card (`money`),
//! its edit form (only the fields that changed are sent, so an untouched static address or
//! user name stays as it is), and the forms of the actions (`actions`), which come back
//! here with their messages.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::money::CustomerMoney;
use super::{
    Network, billing_choices_for, billing_name, package_choices, state_name, state_of,
    visible_packages,
};
use crate::i18n::Tr;
use crate::page::fallback::PageId;
use crate::page::form::{Filled, FormData, PanelForm, ShowsForm, show_again};
use crate::page::input;
use crate::page::lookup::{self, Choice, Tenants};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, render};
use crate::state::AppState;
use domain::access;
use domain::customer::{ChangesInput, StatusAction};
use domain::field::FieldErrors;
use ops::OpError;
use ops::billing::RechargeOutcome;
use ops::user::OwnersOf;
use store::customer::Customer;

#[derive(Template)]
#[template(path = "customer.html")]
pub(super) struct CustomerPage {
    ui: Ui,
    id: i64,
    version: i32,
    name: String,
    state: &'static str,
    state_name: &'static str,
    /// The status changes the customer allows: `(route, label, confirmation)`.
    actions: Vec<(&'static str, &'static str, Option<&'static str>)>,
    /// What the customer is, as `(label, value)`.
    facts: Vec<(&'static str, String)>,
    f: Filled,
    packages: Vec<Choice>,
    network: Network,
    billing: Vec<Choice>,
    /// A password just set, shown on this page only.
    new_password: Option<String>,
    can_manage: bool,
    /// Its sessions and usage.
    online: crate::online::panel::CustomerOnline,
    /// Its recharges, and the recharge card.
    money: CustomerMoney,
    /// Its expiry, as the facts show it.
    expires: String,
    /// True on the page a recharge comes back to.
    recharged: bool,
    /// The receipt of the recharge the page comes back from.
    receipt: Option<i64>,
    /// True on the page a payment comes back to.
    paid: bool,
    /// True on the page a credit note comes back to (`receipt` is the note).
    credited: bool,
    /// True on the page the customer's own price comes back to.
    priced: bool,
    /// The tenant's custom fields.
    custom_fields: Vec<crate::custom_field::panel::FieldInputView>,
}

impl ShowsForm for CustomerPage {
    const SECRETS: &'static [&'static str] = &["password"];

    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
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
    let tenants = Tenants::load(state, actor, [c.tenant_id]).await?;
    let zone = tenants.zone(c.tenant_id);
    let owners = lookup::resellers(state, actor, OwnersOf::Customers).await?;
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
    let network = Network::load(state, actor).await?;
    let online =
        crate::online::panel::CustomerOnline::load(state, actor, id, zone, &network.routers)
            .await?;
    // Online when a session is live, as the list of them below says.
    let presence = if !online.live.is_empty() {
        t.t("online.online")
    } else {
        t.t("online.offline")
    };
    let money = CustomerMoney::load(state, actor, t, &c, &visible, &owners, &tenants).await?;
    let expires = input::local_time_text(c.expires_at, zone);
    let facts = vec![
        (t.t("field.status"), state_name(t, current).to_owned()),
        (t.t("online.presence"), presence.to_owned()),
        (t.t("field.username"), c.username.clone()),
        (t.t("field.package"), package),
        (t.t("field.owner"), owner),
        (
            t.t("field.connection_type"),
            crate::package::panel::connection_name(t, c.connection_type.get()).to_owned(),
        ),
        (
            t.t("field.billing_type"),
            billing_name(t, c.billing_type.get()).to_owned(),
        ),
        (t.t("customers.expires"), expires.clone()),
        (t.t("field.ip"), ip.clone()),
        (t.t("field.mac"), c.mac.clone().unwrap_or_default()),
        (t.t("field.mobile"), c.mobile.clone().unwrap_or_default()),
    ];
    let id_text = |id: Option<i64>| id.map(|i| i.to_string()).unwrap_or_default();
    let defs =
        ops::custom_field::of_tenant(&state.ctx(), domain::ids::TenantId(c.tenant_id)).await?;
    let held = ops::custom_field::values_of(&state.ctx(), c.id).await?;
    let f = crate::custom_field::panel::fill(Filled::new(), &defs, &held)
        .with("name", &c.name)
        .with("mobile", c.mobile.clone().unwrap_or_default())
        .with("email", c.email.clone().unwrap_or_default())
        .with("address", &c.address)
        .with("zone_id", id_text(c.zone_id))
        .with("router_id", id_text(c.router_id))
        .with("billing_type", c.billing_type.code())
        .with("expires_at", input::local_time_value(c.expires_at, zone))
        .with("static_ip", ip)
        .with("ip_pool_id", id_text(c.ip_pool_id))
        .with("mac", c.mac.clone().unwrap_or_default())
        .with("simultaneous_use", c.simultaneous_use.to_string())
        .with("comment", &c.comment)
        .with("package_id", c.package_id.to_string())
        .with("username", &c.username)
        .with("recharge_package", c.package_id.to_string())
        .with("days", "")
        .with("hours", "")
        .with(
            "payment_amount",
            money
                .payment
                .as_ref()
                .map(|p| p.due_value.clone())
                .unwrap_or_default(),
        )
        .with("key", crate::ledger::panel::new_key());
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
        actions: StatusAction::allowed(c.status.get())
            .into_iter()
            .map(|a| {
                let name = a.as_str();
                let confirm =
                    (a == StatusAction::Disable).then(|| t.t("customers.disable_confirm"));
                (name, t.t(&format!("customers.{name}")), confirm)
            })
            .collect(),
        facts,
        f,
        packages: package_choices(t, &visible, &owners),
        network,
        billing: billing_choices_for(t, actor, Some(c.billing_type.get())),
        new_password: None,
        can_manage: access::manage_customers_of(actor, store::customer::owner(&c)).is_ok(),
        online,
        money,
        expires,
        recharged: false,
        receipt: None,
        paid: false,
        credited: false,
        priced: false,
        custom_fields: crate::custom_field::panel::inputs(&defs),
    })
}

/// What the page's address may add: `recharged` or `paid` (and its `receipt`) on the page
/// a recharge or a payment comes back to.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ShowQuery {
    recharged: Option<String>,
    paid: Option<String>,
    /// An online payment just started: its intent.
    checkout: Option<String>,
    receipt: Option<String>,
    /// A credit note just issued: the note.
    credited: Option<String>,
    note: Option<String>,
    /// The customer's own price just set.
    priced: Option<String>,
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    PageId(id): PageId,
    Query(query): Query<ShowQuery>,
) -> Response {
    match customer_page(&state, &user, &headers, id).await {
        Ok(mut page) => {
            page.recharged = query.recharged.is_some();
            page.paid = query.paid.is_some();
            if let Some(intent) = query.checkout.as_deref().and_then(|i| i.parse().ok())
                && let Ok(intent) = ops::gateway::get(&state.ctx(), &user.actor, intent).await
                && intent.customer_id == id
            {
                page.money.checkout = intent.redirect_url;
            }
            page.credited = query.credited.is_some();
            page.priced = query.priced.is_some();
            page.receipt = query
                .receipt
                .as_deref()
                .or(query.note.as_deref())
                .and_then(|r| r.parse().ok());
            render(&page)
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// The page answering a recharge preview: the quote of `outcome`, and the recharge form
/// as it was sent (its key too, which the quote's confirmation sends again).
pub(super) async fn quoted(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
    form: &FormData,
    outcome: &RechargeOutcome,
) -> Response {
    match customer_page(state, user, headers, id).await {
        Ok(mut page) => {
            page.money.quote(outcome);
            page.f = std::mem::take(&mut page.f).refill(form, &[]);
            render(&page)
        }
        Err(error) => ui::op_error(user, headers, &error),
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
    let page = customer_page(state, user, headers, id).await;
    show_again(page, user, headers, form, errors)
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
fn changes(c: &Customer, zone: chrono_tz::Tz, form: &FormData) -> ChangesInput {
    let text = |name: &str, stored: &str| differs(form, name, stored).map(str::to_owned);
    let stored_ip = store::customer::static_ip(c).map(|ip| ip.to_string());
    let static_ip = text("static_ip", stored_ip.as_deref().unwrap_or(""));
    // A static address comes from the pool chosen; without one, the pool is the customer's
    // own address pool.
    let ip_pool_id = match (&static_ip, &stored_ip) {
        (Some(_), _) => Some(input::id(form.opt("ip_pool_id"))),
        (None, None) => id_change(form, "ip_pool_id", c.ip_pool_id),
        (None, Some(_)) => None,
    };
    ChangesInput {
        name: text("name", &c.name),
        mobile: text("mobile", c.mobile.as_deref().unwrap_or("")),
        email: text("email", c.email.as_deref().unwrap_or("")),
        address: text("address", &c.address),
        zone_id: id_change(form, "zone_id", c.zone_id),
        router_id: id_change(form, "router_id", c.router_id),
        billing_type: text("billing_type", c.billing_type.code()),
        expires_at: text("expires_at", &input::local_time_value(c.expires_at, zone)),
        static_ip,
        ip_pool_id,
        mac: text("mac", c.mac.as_deref().unwrap_or("")),
        simultaneous_use: text("simultaneous_use", &c.simultaneous_use.to_string()),
        comment: text("comment", &c.comment),
        ..Default::default()
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
    let here = format!("/panel/customers/{id}");
    let version = form.text("version").parse().unwrap_or(0);
    let result = async {
        let c = ops::customer::get(&state.ctx(), &user.actor, id).await?;
        let zone = Tenants::load(&state, &user.actor, [c.tenant_id])
            .await?
            .zone(c.tenant_id);
        let mut changes = changes(&c, zone, &form);
        let defs =
            ops::custom_field::of_tenant(&state.ctx(), domain::ids::TenantId(c.tenant_id)).await?;
        let held = ops::custom_field::values_of(&state.ctx(), c.id).await?;
        changes.custom_fields = crate::custom_field::panel::changed_values(&defs, &held, &form);
        let author = user.author.clone();
        ops::customer::update(&state.ctx(), &user.actor, author, id, version, &changes).await
    };
    match result.await {
        Ok(_) => ui::redirect_with(&here, "flash.saved"),
        Err(OpError::VersionMismatch) => ui::redirect_with(&here, "flash.stale"),
        Err(OpError::Invalid(errors)) => refused(&state, &user, &headers, id, &form, &errors).await,
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
