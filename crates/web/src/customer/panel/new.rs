//! The form for a new customer: every field the API takes. Those who may choose pick the
//! owner (an Admin any reseller or the tenant itself, an operator itself or one of its
//! sub-operators); the package select lists every package the caller sees, and the server
//! refuses one the owner may not use, beside the field.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Network, PackageOption, billing_choices_for, package_options, visible_packages};
use crate::i18n::Tr;
use crate::page::form::{Filled, FormData, PanelForm, ShowsForm, show_again};
use crate::page::input;
use crate::page::lookup::{self, Choice};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, render};
use crate::state::AppState;
use domain::access::{Actor, Permission, Role};
use domain::customer::CustomerInput;
use domain::ids::{TenantId, UserId};
use ops::OpError;
use ops::user::OwnersOf;

/// May the signed-in user create customers (for someone)?
pub(super) fn may_create(actor: &Actor) -> bool {
    actor.can(Permission::ManageCustomers)
}

#[derive(Template)]
#[template(path = "customer_new.html")]
struct FormPage {
    ui: Ui,
    f: Filled,
    tenants: Vec<Choice>,
    /// Owners the caller may choose from (empty when it has no choice).
    owners: Vec<Choice>,
    /// True when the tenant itself may own the customer (the empty owner choice).
    tenant_may_own: bool,
    packages: Vec<PackageOption>,
    network: Network,
    billing: Vec<Choice>,
    connections: Vec<Choice>,
    /// The tenant's custom fields.
    custom_fields: Vec<crate::custom_field::panel::FieldInputView>,
}

impl ShowsForm for FormPage {
    const CHECKBOXES: &'static [&'static str] = &["allocate_static"];
    const SECRETS: &'static [&'static str] = &["password"];

    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

/// The custom fields of the tenant a new customer goes to (the caller's, or the one chosen
/// on the form by a platform role).
async fn field_defs(
    state: &AppState,
    user: &PanelUser,
    form: Option<&FormData>,
) -> Result<Vec<store::custom_field::Definition>, OpError> {
    let chosen = form
        .and_then(|f| input::id(f.opt("tenant_id")))
        .map(TenantId);
    match chosen.or(user.actor.tenant_id) {
        Some(tenant) => {
            let found =
                ops::custom_field::tenant_for(&state.ctx(), &user.actor, Some(tenant)).await;
            match found {
                Ok(t) => ops::custom_field::of_tenant(&state.ctx(), TenantId(t.id)).await,
                Err(_) => Ok(Vec::new()),
            }
        }
        None => Ok(Vec::new()),
    }
}

async fn blank_form(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
) -> Result<FormPage, OpError> {
    blank_form_for(state, user, headers, None).await
}

async fn blank_form_for(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    form: Option<&FormData>,
) -> Result<FormPage, OpError> {
    let defs = field_defs(state, user, form).await?;
    let t = Tr { lang: user.lang };
    let actor = &user.actor;
    let resellers = lookup::resellers(state, actor, OwnersOf::Customers).await?;
    // A sub-operator owns what it creates; an operator picks itself or a sub-operator of its
    // own; those who run the tenant pick anyone, or leave the customer to the tenant.
    let owners = match actor.role {
        Role::SubOperator => Vec::new(),
        _ => lookup::reseller_choices(t, &resellers),
    };
    let tenant_may_own = !actor.role.is_reseller();
    let f = crate::custom_field::panel::fill(Filled::new(), &defs, &Default::default())
        .with("connection_type", "")
        .with("status", "active")
        .with("simultaneous_use", "1")
        .with(
            "owner_id",
            if actor.role.is_reseller() {
                actor.user_id.0.to_string()
            } else {
                String::new()
            },
        );
    Ok(FormPage {
        ui: Ui::new(user, Section::Customers, headers, "/panel/customers/new"),
        f,
        tenants: lookup::tenant_choices(state, actor).await?,
        owners,
        tenant_may_own,
        packages: package_options(t, &visible_packages(state, actor).await?, &resellers),
        network: Network::load(state, actor).await?,
        billing: billing_choices_for(t, actor, None),
        connections: crate::package::panel::connection_choices(t),
        custom_fields: crate::custom_field::panel::inputs(&defs),
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

/// What the form asks for, as typed (the operation reads it, every mistake at once).
fn input_of(form: &FormData, defs: &[store::custom_field::Definition]) -> CustomerInput {
    let text = |name: &str| form.opt(name).map(str::to_owned);
    CustomerInput {
        tenant_id: input::id(form.opt("tenant_id")).map(TenantId),
        owner_id: input::id(form.opt("owner_id")).map(UserId),
        package_id: input::id(form.opt("package_id")),
        // Left blank, the customer connects as its package does.
        connection_type: text("connection_type"),
        billing_type: text("billing_type"),
        name: form.text("name").to_owned(),
        mobile: text("mobile"),
        email: text("email"),
        address: form.text("address").to_owned(),
        zone_id: input::id(form.opt("zone_id")),
        router_id: input::id(form.opt("router_id")),
        username: text("username"),
        // A password is taken as typed; blank asks lastmile to make one up.
        password: form
            .get("password")
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
        status: text("status"),
        expires_at: text("expires_at"),
        static_ip: text("static_ip"),
        ip_pool_id: input::id(form.opt("ip_pool_id")),
        allocate_static: form.get("allocate_static").is_some(),
        mac: text("mac"),
        simultaneous_use: text("simultaneous_use"),
        comment: form.text("comment").to_owned(),
        custom_fields: crate::custom_field::panel::new_values(defs, form),
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
    let result = async {
        let defs = field_defs(&state, &user, Some(&form)).await?;
        let input = input_of(&form, &defs);
        ops::customer::create(&state.ctx(), &user.actor, user.author.clone(), &input).await
    };
    let result = result.await;
    match result {
        Ok((customer, Some(password))) => {
            let mut response = super::page::with_password(
                &state,
                &user,
                &headers,
                customer.id,
                password,
                "flash.created",
            )
            .await;
            if response.status() == StatusCode::OK {
                *response.status_mut() = StatusCode::CREATED;
            }
            response
        }
        Ok((customer, None)) => ui::redirect_with(
            &format!("/panel/customers/{}", customer.id),
            "flash.created",
        ),
        Err(OpError::Invalid(errors)) => {
            let page = blank_form_for(&state, &user, &headers, Some(&form)).await;
            show_again(page, &user, &headers, &form, &errors)
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
