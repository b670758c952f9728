//! The sign-up wizard's pages (`/panel/signups`): the drafts the caller sees (step, age,
//! expiry, resume, discard), and the five steps of a sign-up, each a form posted to its own
//! address that keeps the step in the draft and goes on to the next (post, redirect, get;
//! no script needed). The step links go back to any step reached, with what was typed; the
//! review activates the customer. What a step accepts and what activation writes is
//! `ops::customer::signup`'s.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Network, billing_name};
use crate::custom_field::panel::FieldInputView;
use crate::i18n::Tr;
use crate::page::form::{Filled, FormData, PanelForm, ShowsForm, show_again};
use crate::page::input;
use crate::page::lookup::{self, Choice};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, render};
use crate::state::AppState;
use domain::access::Role;
use domain::customer::signup::{DraftValues, FirstPayment, Step};
use domain::customer::{BillingType, read_connection};
use domain::field::FieldErrors;
use ops::OpError;
use ops::customer::signup::{Draft, StepInput};
use ops::user::OwnersOf;
use store::custom_field::Definition;

/// The routes of the wizard.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/signups", get(list))
        .route("/panel/signups/new", get(new_form).post(start))
        .route("/panel/signups/{id}", get(resume))
        .route("/panel/signups/{id}/discard", post(discard))
        .route("/panel/signups/{id}/{step}", get(step_form).post(submit))
}

/// A draft as a row of the list.
struct DraftRow {
    id: i64,
    name: String,
    username: String,
    step: usize,
    step_name: &'static str,
    updated: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "signups.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<DraftRow>,
    /// The list was reached from an activation of a draft already gone.
    gone: bool,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    gone: Option<String>,
}

/// `GET /panel/signups`.
async fn list(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let ctx = state.ctx();
    let found = async {
        let drafts = ops::customer::signup::list(&ctx, &user.actor).await?;
        let zone = tenant_zone(&state, &user).await?;
        Ok::<_, OpError>((drafts, zone))
    }
    .await;
    let (drafts, zone) = match found {
        Ok(found) => found,
        Err(error) => return ui::op_error(&user, &headers, &error),
    };
    let t = Tr { lang: user.lang };
    let rows = drafts
        .iter()
        .map(|d| DraftRow {
            id: d.id,
            name: d.values.name.clone(),
            username: d.values.username.clone(),
            step: d.reached.number(),
            step_name: step_name(t, d.reached),
            updated: input::local_time_text(Some(d.updated_at), zone),
            expires: input::local_time_text(Some(d.expires_at), zone),
        })
        .collect();
    render(&ListPage {
        ui: Ui::new(&user, Section::Customers, &headers, "/panel/signups"),
        rows,
        gone: query.gone.is_some(),
    })
}

/// The time zone of the caller's tenant.
async fn tenant_zone(state: &AppState, user: &PanelUser) -> Result<chrono_tz::Tz, OpError> {
    let tenant = ops::customer::tenant_of(&state.ctx(), &user.actor, None).await?;
    Ok(input::zone_of(&tenant.time_zone))
}

fn step_name(t: Tr, step: Step) -> &'static str {
    t.t(&format!("signup.step_{}", step.as_str()))
}

/// A link of the steps bar: its number, name, and address when it may be opened.
struct StepLink {
    number: usize,
    name: &'static str,
    href: Option<String>,
    current: bool,
}

/// A first payment offered at the payment step.
struct PaymentOption {
    value: &'static str,
    label: &'static str,
    help: &'static str,
}

#[derive(Template)]
#[template(path = "signup_step.html")]
struct StepPage {
    ui: Ui,
    f: Filled,
    step: &'static str,
    number: usize,
    steps: Vec<StepLink>,
    action: String,
    back: Option<String>,
    draft_id: Option<i64>,
    has_password: bool,
    owners: Vec<Choice>,
    tenant_may_own: bool,
    connections: Vec<Choice>,
    packages: Vec<Choice>,
    network: Network,
    custom_fields: Vec<FieldInputView>,
    billing: Vec<Choice>,
    payments: Vec<PaymentOption>,
    review: Vec<(String, String)>,
}

impl ShowsForm for StepPage {
    const CHECKBOXES: &'static [&'static str] = &["allocate_static"];
    const SECRETS: &'static [&'static str] = &["password"];

    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

/// The page of `step` for `draft` (a new sign-up when `None`), showing what it holds.
async fn step_page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    draft: Option<&Draft>,
    step: Step,
) -> Result<StepPage, OpError> {
    let ctx = state.ctx();
    let actor = &user.actor;
    let t = Tr { lang: user.lang };
    let scope = ops::customer::signup::scope(actor)?;
    let defs = ops::custom_field::of_tenant(&ctx, scope.tenant()).await?;
    let blank = Draft {
        id: 0,
        author_id: actor.user_id.0,
        reached: Step::Basic,
        values: DraftValues {
            simultaneous_use: "1".to_owned(),
            ..DraftValues::default()
        },
        has_password: false,
        created_at: ctx.now,
        updated_at: ctx.now,
        expires_at: ctx.now,
    };
    let shown = draft.unwrap_or(&blank);
    let address = |s: Step| match draft {
        Some(d) => format!("/panel/signups/{}/{}", d.id, s.as_str()),
        None => "/panel/signups/new".to_owned(),
    };
    let steps = Step::ALL
        .into_iter()
        .map(|s| StepLink {
            number: s.number(),
            name: step_name(t, s),
            href: (draft.is_some() && s <= shown.reached && s != step).then(|| address(s)),
            current: s == step,
        })
        .collect();
    let back = Step::ALL
        .into_iter()
        .rev()
        .find(|s| *s < step)
        .filter(|_| draft.is_some())
        .map(address);
    let mut page = StepPage {
        ui: Ui::new(user, Section::Customers, headers, &address(step)),
        f: filled_of(&shown.values, &defs),
        step: step.as_str(),
        number: step.number(),
        steps,
        action: address(step),
        back,
        draft_id: draft.map(|d| d.id),
        has_password: shown.has_password,
        owners: Vec::new(),
        tenant_may_own: !actor.role.is_reseller(),
        connections: Vec::new(),
        packages: Vec::new(),
        network: Network {
            zones: Vec::new(),
            routers: Vec::new(),
            pools: Vec::new(),
        },
        custom_fields: Vec::new(),
        billing: Vec::new(),
        payments: Vec::new(),
        review: Vec::new(),
    };
    match step {
        Step::Basic => {
            if actor.role != Role::SubOperator {
                let resellers = lookup::resellers(state, actor, OwnersOf::Customers).await?;
                page.owners = lookup::reseller_choices(t, &resellers);
            }
            page.connections = crate::package::panel::connection_choices(t);
        }
        Step::Package => {
            page.packages = package_choices(state, user, shown).await?;
        }
        Step::Address => {
            page.network = Network::load(state, actor).await?;
            page.custom_fields = crate::custom_field::panel::inputs(&defs);
        }
        Step::Payment => {
            let (default, terms) = ops::customer::signup::payment_terms(&ctx, actor, shown).await?;
            page.billing = terms
                .iter()
                .map(|(b, _)| (b.as_str().to_owned(), billing_name(t, *b).to_owned()))
                .collect();
            if shown.values.billing_type.is_empty() {
                page.f.set("billing_type", default.as_str());
            }
            page.payments = payment_options(t, &terms);
            if shown.values.payment.is_empty()
                && let Some((_, choices)) = terms.iter().find(|(b, _)| *b == default)
                && let Some(first) = choices.first()
            {
                page.f.set("payment", first.as_str());
            }
        }
        Step::Review => {
            page.review = review_rows(state, user, shown, &defs).await?;
        }
    }
    Ok(page)
}

/// The packages the draft's customer may take, as choices.
async fn package_choices(
    state: &AppState,
    user: &PanelUser,
    draft: &Draft,
) -> Result<Vec<Choice>, OpError> {
    Ok(
        ops::customer::signup::packages(&state.ctx(), &user.actor, draft)
            .await?
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
    )
}

/// The first payments offered under any billing type, in order.
fn payment_options(t: Tr, terms: &[(BillingType, Vec<FirstPayment>)]) -> Vec<PaymentOption> {
    [
        FirstPayment::Recharge,
        FirstPayment::Invoice,
        FirstPayment::None,
    ]
    .into_iter()
    .filter(|p| terms.iter().any(|(_, choices)| choices.contains(p)))
    .map(|p| PaymentOption {
        value: p.as_str(),
        label: t.t(&format!("signup.pay_{}", p.as_str())),
        help: t.t(&format!("signup.pay_{}_help", p.as_str())),
    })
    .collect()
}

/// What the review shows: each answer, references by name.
async fn review_rows(
    state: &AppState,
    user: &PanelUser,
    draft: &Draft,
    defs: &[Definition],
) -> Result<Vec<(String, String)>, OpError> {
    let t = Tr { lang: user.lang };
    let v = &draft.values;
    let network = Network::load(state, &user.actor).await?;
    let named = |choices: &[Choice], id: Option<i64>| {
        id.map(|id| {
            let id = id.to_string();
            choices
                .iter()
                .find(|(value, _)| *value == id)
                .map_or(id, |(_, label)| label.clone())
        })
        .unwrap_or_default()
    };
    let packages = package_choices(state, user, draft).await?;
    let owner = match v.owner_id {
        Some(id) => {
            let resellers = lookup::resellers(state, &user.actor, OwnersOf::Customers).await?;
            lookup::user_name(&resellers, Some(id))
        }
        None if user.actor.role.is_reseller() => user.holder.user.name.clone(),
        None => t.t("customers.tenant_owned").to_owned(),
    };
    let connection = read_connection(&v.connection_type)
        .map(|c| crate::package::panel::connection_name(t, c).to_owned())
        .unwrap_or_default();
    let billing = BillingType::parse(&v.billing_type)
        .map(|b| billing_name(t, b).to_owned())
        .unwrap_or_default();
    let payment = FirstPayment::parse(&v.payment)
        .map(|p| t.t(&format!("signup.pay_{}", p.as_str())).to_owned())
        .unwrap_or_default();
    let password = if draft.has_password {
        t.t("signup.password_typed")
    } else {
        t.t("signup.password_made_up")
    };
    let mut rows: Vec<(String, String)> = vec![
        (t.t("field.name").to_owned(), v.name.clone()),
        (t.t("field.mobile").to_owned(), v.mobile.clone()),
        (t.t("field.email").to_owned(), v.email.clone()),
        (t.t("field.connection_type").to_owned(), connection),
        (t.t("field.username").to_owned(), v.username.clone()),
        (t.t("field.password").to_owned(), password.to_owned()),
        (t.t("field.owner").to_owned(), owner),
        (
            t.t("field.package").to_owned(),
            named(&packages, v.package_id),
        ),
        (t.t("field.address").to_owned(), v.address.clone()),
        (
            t.t("field.zone").to_owned(),
            named(&network.zones, v.zone_id),
        ),
        (
            t.t("field.router").to_owned(),
            named(&network.routers, v.router_id),
        ),
        (
            t.t("field.ip_pool").to_owned(),
            named(&network.pools, v.ip_pool_id),
        ),
        (t.t("customers.static_ip").to_owned(), v.static_ip.clone()),
        (t.t("field.mac").to_owned(), v.mac.clone()),
        (t.t("customers.comment").to_owned(), v.comment.clone()),
    ];
    for d in defs.iter().filter(|d| d.active) {
        let value = v.custom_fields.get(&d.key).cloned().unwrap_or_default();
        let value = crate::custom_field::panel::shown(t, d, Some(&value).filter(|v| !v.is_empty()));
        rows.push((d.label.clone(), value));
    }
    rows.push((t.t("field.billing_type").to_owned(), billing));
    rows.push((t.t("signup.payment").to_owned(), payment));
    Ok(rows)
}

/// A form showing the draft's values.
fn filled_of(v: &DraftValues, defs: &[Definition]) -> Filled {
    let id = |v: Option<i64>| v.map(|i| i.to_string()).unwrap_or_default();
    let f = Filled::new()
        .with("name", v.name.as_str())
        .with("mobile", v.mobile.as_str())
        .with("email", v.email.as_str())
        .with("username", v.username.as_str())
        .with("connection_type", v.connection_type.as_str())
        .with("owner_id", id(v.owner_id))
        .with("package_id", id(v.package_id))
        .with("address", v.address.as_str())
        .with("zone_id", id(v.zone_id))
        .with("router_id", id(v.router_id))
        .with("ip_pool_id", id(v.ip_pool_id))
        .with("static_ip", v.static_ip.as_str())
        .with("allocate_static", if v.allocate_static { "on" } else { "" })
        .with("mac", v.mac.as_str())
        .with("simultaneous_use", v.simultaneous_use.as_str())
        .with("comment", v.comment.as_str())
        .with("billing_type", v.billing_type.as_str())
        .with("payment", v.payment.as_str());
    let held: HashMap<i64, String> = defs
        .iter()
        .filter_map(|d| {
            v.custom_fields
                .get(&d.key)
                .map(|value| (d.id, value.clone()))
        })
        .collect();
    crate::custom_field::panel::fill(f, defs, &held)
}

/// What a step's form posted, as the draft keeps it.
fn posted(form: &FormData, defs: &[Definition]) -> StepInput {
    let text = |name: &str| form.text(name).to_owned();
    let custom_fields: BTreeMap<String, String> =
        crate::custom_field::panel::new_values(defs, form)
            .into_iter()
            .filter_map(|(key, value)| match value {
                domain::custom_field::FieldInput::Text(text) => Some((key, text)),
                _ => None,
            })
            .collect();
    StepInput {
        values: DraftValues {
            name: text("name"),
            mobile: text("mobile"),
            email: text("email"),
            username: text("username"),
            connection_type: text("connection_type"),
            owner_id: input::id(form.opt("owner_id")),
            package_id: input::id(form.opt("package_id")),
            address: text("address"),
            zone_id: input::id(form.opt("zone_id")),
            router_id: input::id(form.opt("router_id")),
            ip_pool_id: input::id(form.opt("ip_pool_id")),
            static_ip: text("static_ip"),
            allocate_static: form.get("allocate_static").is_some(),
            mac: text("mac"),
            simultaneous_use: text("simultaneous_use"),
            comment: text("comment"),
            custom_fields,
            billing_type: text("billing_type"),
            payment: text("payment"),
        },
        password: form
            .get("password")
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
    }
}

/// `GET /panel/signups/new`: the first step of a new sign-up.
async fn new_form(State(state): State<AppState>, user: PanelUser, headers: HeaderMap) -> Response {
    match step_page(&state, &user, &headers, None, Step::Basic).await {
        Ok(page) => render(&page),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// `POST /panel/signups/new`: the first step, starting the draft.
async fn start(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    keep_step(&state, &user, &headers, &form, None, Step::Basic).await
}

/// Checks and keeps a step, then goes on to the next; a refused step is shown again.
async fn keep_step(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    form: &FormData,
    draft: Option<&Draft>,
    step: Step,
) -> Response {
    let ctx = state.ctx();
    let result = async {
        let scope = ops::customer::signup::scope(&user.actor)?;
        let defs = ops::custom_field::of_tenant(&ctx, scope.tenant()).await?;
        ops::customer::signup::save(
            &ctx,
            &user.actor,
            user.author.clone(),
            draft.map(|d| d.id),
            step,
            posted(form, &defs),
        )
        .await
    }
    .await;
    match result {
        Ok(saved) => Redirect::to(&format!(
            "/panel/signups/{}/{}",
            saved.id,
            step.next().as_str()
        ))
        .into_response(),
        Err(OpError::Invalid(errors)) => {
            let page = step_page(state, user, headers, draft, step).await;
            show_again(page, user, headers, form, &errors)
        }
        Err(error) => ui::op_error(user, headers, &error),
    }
}

/// The draft and step an address names, or the page answering for them.
async fn draft_at(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: &str,
    step: Option<&str>,
) -> Result<(Draft, Step), Response> {
    let not_found = || ui::error_page(user, headers, StatusCode::NOT_FOUND, "error.not_found");
    let Some(id) = input::id(Some(id)) else {
        return Err(not_found());
    };
    let draft = match ops::customer::signup::get(&state.ctx(), &user.actor, id).await {
        Ok(draft) => draft,
        Err(error) => return Err(ui::op_error(user, headers, &error)),
    };
    let step = match step {
        None => draft.reached,
        Some(code) => Step::parse(code).ok_or_else(not_found)?,
    };
    if step > draft.reached {
        // A step not reached yet: the one to fill first.
        let to = format!("/panel/signups/{}/{}", draft.id, draft.reached.as_str());
        return Err(Redirect::to(&to).into_response());
    }
    Ok((draft, step))
}

/// `GET /panel/signups/{id}`: resumes a draft at the step it reached.
async fn resume(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match draft_at(&state, &user, &headers, &id, None).await {
        Ok((draft, step)) => {
            Redirect::to(&format!("/panel/signups/{}/{}", draft.id, step.as_str())).into_response()
        }
        Err(response) => response,
    }
}

/// `GET /panel/signups/{id}/{step}`.
async fn step_form(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Path((id, step)): Path<(String, String)>,
) -> Response {
    let (draft, step) = match draft_at(&state, &user, &headers, &id, Some(&step)).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match step_page(&state, &user, &headers, Some(&draft), step).await {
        Ok(page) => render(&page),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// `POST /panel/signups/{id}/{step}`: keeps a step, or at the review activates.
async fn submit(
    State(state): State<AppState>,
    Path((id, step)): Path<(String, String)>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    if step == Step::Review.as_str() {
        return activate(&state, &user, &headers, &id).await;
    }
    let (draft, step) = match draft_at(&state, &user, &headers, &id, Some(&step)).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    keep_step(&state, &user, &headers, &form, Some(&draft), step).await
}

/// Activates a draft: to the new customer's page (with its made-up password, once); a
/// refusal shows the first step it concerns; a draft already activated or discarded goes
/// to the list, which says so.
async fn activate(state: &AppState, user: &PanelUser, headers: &HeaderMap, id: &str) -> Response {
    let Some(id) = input::id(Some(id)) else {
        return ui::error_page(user, headers, StatusCode::NOT_FOUND, "error.not_found");
    };
    let ctx = state.ctx();
    match ops::customer::signup::finish(&ctx, &user.actor, user.author.clone(), id).await {
        Ok(done) => match done.made_up {
            Some(password) => {
                super::page::with_password(
                    state,
                    user,
                    headers,
                    done.customer.id,
                    password,
                    "flash.created",
                )
                .await
            }
            None => ui::redirect_with(
                &format!("/panel/customers/{}", done.customer.id),
                "flash.created",
            ),
        },
        Err(OpError::NotFound) => Redirect::to("/panel/signups?gone=1").into_response(),
        Err(OpError::Invalid(errors)) => {
            refused_activation(state, user, headers, id, &errors).await
        }
        Err(OpError::InsufficientBalance { .. }) => {
            let errors = FieldErrors::one(domain::field::FieldError::new(
                "payment",
                "insufficient_balance",
            ));
            refused_activation(state, user, headers, id, &errors).await
        }
        Err(error) => ui::op_error(user, headers, &error),
    }
}

/// The first step an activation's refusal concerns, with the refusals beside its fields.
async fn refused_activation(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
    errors: &FieldErrors,
) -> Response {
    let draft = match ops::customer::signup::get(&state.ctx(), &user.actor, id).await {
        Ok(draft) => draft,
        Err(error) => return ui::op_error(user, headers, &error),
    };
    let step = Step::first_with(errors).unwrap_or(Step::Review);
    let page = step_page(state, user, headers, Some(&draft), step).await;
    show_again(page, user, headers, &FormData::default(), errors)
}

/// `POST /panel/signups/{id}/discard`.
async fn discard(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PanelForm { user, headers, .. }: PanelForm,
) -> Response {
    let Some(id) = input::id(Some(&id)) else {
        return ui::error_page(&user, &headers, StatusCode::NOT_FOUND, "error.not_found");
    };
    let result =
        ops::customer::signup::discard(&state.ctx(), &user.actor, user.author.clone(), id).await;
    match result {
        Ok(()) => ui::redirect_with("/panel/signups", "flash.deleted"),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
