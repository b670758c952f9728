//! The panel's customer pages: the list (every filter of the list contract, the search box,
//! sort, cursor paging, a capped total), the form for a new customer, and the customer's page
//! with its edit form and one button per action (suspend, resume, disable, change password,
//! change package, rename, delete), each a POST carrying the CSRF token and the version read,
//! and its recharge card (preview, then confirm; `money`). A password lastmile makes up is
//! shown on the page answering that form, once. The sign-up wizard (`signup`) creates a
//! customer over five steps kept as a draft.

mod actions;
mod credit;
mod import;
mod list;
mod money;
mod new;
mod online;
mod page;
mod payment;
mod recharge;
mod signup;

use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use crate::i18n::Tr;
use crate::page::lookup::{Choice, SELECT_LIMIT};
use crate::state::AppState;
use domain::access::{self, Actor};
use domain::customer::{BillingType, CustomerState};
use ops::OpError;
use store::customer::Customer;
use store::list::PageRequest;
use store::package::Package;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/customers", get(list::list))
        .route("/panel/customers/export.csv", get(list::export_csv))
        .route("/panel/customers/new", get(new::new_form).post(new::create))
        .route(
            "/panel/customers/import",
            get(import::form)
                .post(import::submit)
                .layer(import::body_limit()),
        )
        .route("/panel/customers/{id}", get(page::show).post(page::update))
        .route("/panel/customers/{id}/suspend", post(actions::suspend))
        .route("/panel/customers/{id}/resume", post(actions::resume))
        .route("/panel/customers/{id}/disable", post(actions::disable))
        .route("/panel/customers/{id}/password", post(actions::password))
        .route(
            "/panel/customers/{id}/package",
            post(actions::change_package),
        )
        .route("/panel/customers/{id}/rename", post(actions::rename))
        .route("/panel/customers/{id}/delete", post(actions::delete))
        .route(
            "/panel/customers/{id}/disconnect",
            post(actions::disconnect),
        )
        .route("/panel/customers/{id}/recharge", post(recharge::recharge))
        .route("/panel/customers/{id}/payment", post(payment::pay))
        .route("/panel/customers/{id}/online", post(online::pay_online))
        .route("/panel/customers/{id}/credit", post(credit::credit_note))
        .route(
            "/panel/customers/{id}/custom-price",
            post(credit::custom_price),
        )
        .merge(signup::routes())
}

/// What the customer gets now: its stored status, or `expired` when an active customer
/// billed by expiry is past it.
fn state_of(c: &Customer, now: DateTime<Utc>) -> &'static str {
    CustomerState::of(c.status.get(), c.billing_type.get(), c.expires_at, now).as_str()
}

/// A customer state in the panel's language.
fn state_name(t: Tr, state: &str) -> &'static str {
    t.t(&format!("customers.state_{state}"))
}

/// The billing types as select choices.
fn billing_choices(t: Tr) -> Vec<Choice> {
    BillingType::ALL
        .into_iter()
        .map(|b| (b.as_str().to_owned(), billing_name(t, b).to_owned()))
        .collect()
}

/// The billing types `actor` may give a customer billed `current` (`None`: a new one): a
/// reseller gives no free service (`domain::customer::sold`).
fn billing_choices_for(t: Tr, actor: &Actor, current: Option<BillingType>) -> Vec<Choice> {
    BillingType::ALL
        .into_iter()
        .filter(|b| *b != BillingType::Free || access::gives_time(actor) || current == Some(*b))
        .map(|b| (b.as_str().to_owned(), billing_name(t, b).to_owned()))
        .collect()
}

/// A billing type in the panel's language.
fn billing_name(t: Tr, billing: BillingType) -> &'static str {
    t.t(&format!("billing.{}", billing.as_str()))
}

/// The packages the caller sees (for selects and for naming the packages of a page of rows:
/// one query for the page, not one per row).
async fn visible_packages(state: &AppState, actor: &Actor) -> Result<Vec<Package>, OpError> {
    let page = PageRequest::first(&store::package::LIST, SELECT_LIMIT).map_err(OpError::Invalid)?;
    Ok(
        ops::package::list(&state.ctx(), actor, &Default::default(), &page)
            .await?
            .items,
    )
}

/// Packages as select choices: `Name · owner · connection type`.
fn package_choices(t: Tr, packages: &[Package], owners: &[store::user::User]) -> Vec<Choice> {
    package_options(t, packages, owners)
        .into_iter()
        .map(|o| (o.value, o.label))
        .collect()
}

/// A package offered to a new customer, with its connection type for the form's script.
#[derive(Debug, Clone)]
struct PackageOption {
    value: String,
    label: String,
    connection: String,
}

/// Packages as options of the new-customer form: `Name · owner · connection type`.
fn package_options(
    t: Tr,
    packages: &[Package],
    owners: &[store::user::User],
) -> Vec<PackageOption> {
    packages
        .iter()
        .map(|p| {
            let owner = match p.owner_id {
                Some(_) => crate::page::lookup::user_name(owners, p.owner_id),
                None => t.t("packages.level_master").to_owned(),
            };
            let connection = crate::package::panel::connection_name(t, p.connection_type.get());
            PackageOption {
                value: p.id.to_string(),
                label: format!("{} · {owner} · {connection}", p.name),
                connection: p.connection_type.code().to_owned(),
            }
        })
        .collect()
}

/// The network records a customer form offers: zones, routers and pools of the tenants the
/// caller sees.
struct Network {
    zones: Vec<Choice>,
    routers: Vec<Choice>,
    pools: Vec<Choice>,
}

impl Network {
    async fn load(state: &AppState, actor: &Actor) -> Result<Self, OpError> {
        let zones =
            PageRequest::first(&store::network::ZONES, SELECT_LIMIT).map_err(OpError::Invalid)?;
        let pools =
            PageRequest::first(&store::network::POOLS, SELECT_LIMIT).map_err(OpError::Invalid)?;
        let none = Default::default();
        Ok(Self {
            zones: ops::network::list_zones(&state.ctx(), actor, &none, &zones)
                .await?
                .items
                .into_iter()
                .map(|z| (z.id.to_string(), z.name))
                .collect(),
            routers: crate::page::lookup::router_choices(state, actor).await?,
            pools: ops::network::list_pools(&state.ctx(), actor, &none, &pools)
                .await?
                .0
                .items
                .into_iter()
                .map(|p| (p.id.to_string(), format!("{} ({})", p.name, p.ranges)))
                .collect(),
        })
    }
}
