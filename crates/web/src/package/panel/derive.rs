//! Offering a package to the level below: a master to an operator, an operator package to
//! one of that operator's sub-operators, each under the owner's own name, price (what its
//! customer pays) and cost price (what it owes upstream, at most the price).

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::fields::money;
use super::{Around, PackageRow};
use crate::i18n::Tr;
use crate::page::fallback::PageId;
use crate::page::form::{Filled, FormData, PanelForm, ShowsForm, show_again};
use crate::page::input;
use crate::page::lookup::{self, Choice};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, render};
use crate::state::AppState;
use domain::access::Role;
use domain::field::{FieldError, FieldErrors};
use domain::ids::UserId;
use domain::package::{self as rules, PackageLevel};
use ops::OpError;
use store::package::Package;

#[derive(Template)]
#[template(path = "package_derive.html")]
struct DerivePage {
    ui: Ui,
    parent: PackageRow,
    parent_id: i64,
    /// True when offering a master (to operators), false for an operator package.
    from_master: bool,
    owners: Vec<Choice>,
    currency: String,
    f: Filled,
}

impl ShowsForm for DerivePage {
    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

async fn page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    parent: &Package,
) -> Result<DerivePage, OpError> {
    let t = Tr { lang: user.lang };
    let around = Around::load(state, &user.actor, [parent.tenant_id]).await?;
    let from_master = parent.level == PackageLevel::Master;
    // Operators of the tenant for a master; the package owner's sub-operators otherwise.
    let owners: Vec<_> = around
        .owners
        .iter()
        .filter(|u| u.tenant_id == Some(parent.tenant_id))
        .filter(|u| {
            if from_master {
                u.role == Role::Operator.level()
            } else {
                u.role == Role::SubOperator.level() && u.parent_id == parent.owner_id
            }
        })
        .cloned()
        .collect();
    let digits = around.tenants.digits(parent.tenant_id);
    let price = input::amount_text(parent.price, digits);
    Ok(DerivePage {
        ui: Ui::new(
            user,
            Section::Packages,
            headers,
            &format!("/panel/packages/{}/derive", parent.id),
        ),
        parent: around.row(t, parent),
        parent_id: parent.id,
        from_master,
        owners: lookup::reseller_choices(t, &owners),
        currency: around
            .tenants
            .get(parent.tenant_id)
            .map(|t| t.currency.clone())
            .unwrap_or_default(),
        f: Filled::new()
            .with("name", &parent.name)
            .with("price", price.clone())
            .with("cost_price", price),
    })
}

pub(super) async fn derive_form(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    PageId(id): PageId,
) -> Response {
    let shown = async {
        let parent = ops::package::get(&state.ctx(), &user.actor, id).await?;
        page(&state, &user, &headers, &parent).await
    };
    match shown.await {
        Ok(page) => render(&page),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// What the derive form asks for, priced in the parent's tenant's currency.
fn input_of(
    parent: &Package,
    digits: u16,
    form: &FormData,
) -> Result<ops::package::DeriveInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let owner = input::id(form.opt("owner_id"))
        .map(UserId)
        .or_else(|| errors.take(Err(FieldError::new("owner_id", "required"))));
    let name = errors.take(rules::parse_name(form.text("name")));
    let price = money(form, "price", digits, &mut errors);
    let cost_price = money(form, "cost_price", digits, &mut errors);
    if let (Some(price), Some(cost)) = (price, cost_price) {
        errors.take(rules::check_prices(price, cost));
    }
    match (owner, name, price, cost_price) {
        (Some(owner_id), Some(name), Some(price), Some(cost_price)) if errors.is_empty() => {
            Ok(ops::package::DeriveInput {
                parent_id: parent.id,
                owner_id,
                name,
                price,
                cost_price,
            })
        }
        _ => Err(errors),
    }
}

pub(super) async fn derive(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let parent = match ops::package::get(&state.ctx(), &user.actor, id).await {
        Ok(parent) => parent,
        Err(error) => return ui::op_error(&user, &headers, &error),
    };
    let digits =
        match crate::page::lookup::Tenants::load(&state, &user.actor, [parent.tenant_id]).await {
            Ok(tenants) => tenants.digits(parent.tenant_id),
            Err(error) => return ui::op_error(&user, &headers, &error),
        };
    let result = match input_of(&parent, digits, &form) {
        Ok(input) => {
            ops::package::create_derived(&state.ctx(), &user.actor, user.author.clone(), input)
                .await
        }
        Err(errors) => Err(OpError::Invalid(errors)),
    };
    match result {
        Ok(package) => {
            ui::redirect_with(&format!("/panel/packages/{}", package.id), "flash.created")
        }
        Err(OpError::Invalid(errors)) => {
            let page = page(&state, &user, &headers, &parent).await;
            show_again(page, &user, &headers, &form, &errors)
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
