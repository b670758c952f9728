//! The panel's staff user pages: the list (filters, sorting, cursor paging), the form to
//! create one at any level the caller may create, the page to change, disable or delete one.
//! A reseller's page also holds its balance card (`ledger::panel`) and takes its two forms:
//! a top-up and the account terms, each for who may.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::i18n::Tr;
use crate::ledger::panel::{
    BalanceCard, key_of, short_of_funds, tenant_currency, terms_of, topup_amount,
};
use crate::page::fallback::PageId;
use crate::page::form::{self, Filled, FormData, PanelForm, ShowsForm, show_again};
use crate::page::lookup::Tenants;
use crate::page::session::PanelUser;
use crate::page::ui::{self, Pager, Section, Ui, render};
use crate::state::AppState;
use domain::access::{self, Actor, Permission, Role};
use domain::field::FieldErrors;
use domain::ids::{TenantId, UserId};
use domain::user::{self as rules, Email, NewUser, Password, UserStatus};
use ops::OpError;
use store::list::PageRequest;
use store::user::{LIST, User, UserFilter};

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/users", get(list))
        .route("/panel/users/new", get(new_form).post(create))
        .route("/panel/users/{id}", get(edit_form).post(update))
        .route("/panel/users/{id}/delete", post(delete))
        .route("/panel/users/{id}/topup", post(topup))
        .route("/panel/users/{id}/terms", post(terms))
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    role: Option<String>,
    status: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
    /// The cursors of the pages before this one (see `ui::Pager::keyset`).
    trail: Option<String>,
}

/// A user as a list row.
#[derive(Debug)]
pub struct UserRow {
    id: i64,
    name: String,
    email: String,
    role: &'static str,
    tenant_id: String,
    status: &'static str,
    totp: bool,
}

impl UserRow {
    /// The row of a stored user; refused when its role level is no role.
    fn from_model(t: Tr, u: &User, tenants: &Tenants) -> Result<Self, OpError> {
        Ok(Self {
            id: u.id,
            name: u.name.clone(),
            email: u.email.clone(),
            role: t.role(store::user::role(u)?),
            tenant_id: u.tenant_id.map(|t| tenants.name(t)).unwrap_or_default(),
            status: t.t(&format!("status.{}", u.status.code())),
            totp: u.totp_enabled,
        })
    }
}

#[derive(Template)]
#[template(path = "users.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<UserRow>,
    total: String,
    pager: Pager,
    roles: Vec<(&'static str, &'static str)>,
    role: String,
    status: String,
    q: String,
    sort: String,
    can_create: bool,
}

impl ListPage {
    fn is_role(&self, value: &str) -> bool {
        self.role == value
    }
}

/// Roles the actor may create, as `(api name, translated name)`.
fn creatable_roles(actor: &Actor, t: Tr) -> Vec<(&'static str, &'static str)> {
    if actor.role.takes_permissions() && !actor.can(Permission::ManageUsers) {
        return Vec::new();
    }
    Role::STAFF
        .into_iter()
        .filter(|r| access::may_create_role(actor.role, *r))
        .map(|r| (r.as_str(), t.role(r)))
        .collect()
}

async fn list(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let t = Tr { lang: user.lang };
    let sort = query
        .sort
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| LIST.default_sort.to_owned());
    let Ok(page) = PageRequest::parse(&LIST, Some(&sort), None, query.cursor.as_deref()) else {
        return ui::error_page(&user, &headers, StatusCode::BAD_REQUEST, "error.bad_list");
    };
    let filter = UserFilter {
        role: query.role.as_deref().and_then(Role::parse),
        status: query.status.as_deref().and_then(UserStatus::parse),
        search: query.q.clone().filter(|s| !s.is_empty()),
        ..Default::default()
    };
    let result = async {
        let found = ops::user::list(&state.ctx(), &user.actor, &filter, &page).await?;
        let ids = found.items.iter().filter_map(|u| u.tenant_id);
        let tenants = Tenants::load(&state, &user.actor, ids).await?;
        let rows = found
            .items
            .iter()
            .map(|u| UserRow::from_model(t, u, &tenants))
            .collect::<Result<Vec<_>, _>>()?;
        Ok::<_, OpError>((found, rows))
    };
    match result.await {
        Ok((found, rows)) => {
            let role = query.role.unwrap_or_default();
            let status = query.status.unwrap_or_default();
            let q = query.q.unwrap_or_default();
            let first = format!(
                "/panel/users?role={}&status={}&q={}&sort={}",
                ui::encode(&role),
                ui::encode(&status),
                ui::encode(&q),
                ui::encode(&sort)
            );
            let total = ui::total(found.total, found.total_capped);
            let (trail, cursor) = (query.trail.as_deref(), query.cursor.as_deref());
            let pager = Pager::of_page(t, first, trail, cursor, &found, page.limit());
            render(&ListPage {
                ui: Ui::new(&user, Section::Users, &headers, "/panel/users"),
                rows,
                total,
                pager,
                roles: Role::STAFF
                    .into_iter()
                    .map(|r| (r.as_str(), t.role(r)))
                    .collect(),
                role,
                status,
                q,
                sort,
                can_create: !creatable_roles(&user.actor, t).is_empty(),
            })
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// A choice in a select: `(value, label)`.
type Choice = (String, String);

#[derive(Template)]
#[template(path = "user_form.html")]
struct FormPage {
    ui: Ui,
    /// `None` when creating.
    id: Option<i64>,
    version: i32,
    f: Filled,
    /// The role of the user being edited; `None` when creating.
    role: Option<Role>,
    roles: Vec<(&'static str, &'static str)>,
    tenants: Vec<Choice>,
    parents: Vec<Choice>,
    permissions: Vec<(&'static str, &'static str)>,
    reassign: Vec<Choice>,
    can_edit: bool,
    can_delete: bool,
    /// A reseller's balance card, when the viewer may read or change its balance.
    money: Option<BalanceCard>,
}

impl ShowsForm for FormPage {
    const CHECKBOXES: &'static [&'static str] = &["permissions"];
    const SECRETS: &'static [&'static str] = &["password"];

    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

impl FormPage {
    /// The name of the edited user's role in the page's language.
    fn role_name(&self) -> &'static str {
        self.role.map_or("", |r| self.ui.t.role(r))
    }

    /// True when the user being edited takes permissions (Manager, Staff).
    fn takes_permissions(&self) -> bool {
        self.role.is_some_and(Role::takes_permissions)
    }

    /// True when the user being edited hangs under a parent.
    fn takes_parent(&self) -> bool {
        self.role
            .is_some_and(|r| !access::parent_roles(r).is_empty())
    }
}

/// The choices of the form: tenants and possible parents the actor sees, permissions it may
/// grant.
struct Choices {
    tenants: Vec<Choice>,
    /// Active operators and sub-operators the actor sees, with their roles.
    parents: Vec<(User, Role)>,
    permissions: Vec<(&'static str, &'static str)>,
}

impl Choices {
    /// `parents` that pass `keep`, as select choices.
    fn parents(&self, t: Tr, keep: impl Fn(&User, Role) -> bool) -> Vec<Choice> {
        self.parents
            .iter()
            .filter(|(u, role)| keep(u, *role))
            .map(|(u, role)| {
                let role = t.role(*role);
                (
                    u.id.to_string(),
                    format!("{} · {} · {role}", u.name, u.email),
                )
            })
            .collect()
    }
}

async fn choices(state: &AppState, actor: &Actor, t: Tr) -> Result<Choices, OpError> {
    let tenants = if actor.role.is_platform() {
        let page = PageRequest::first(&store::tenant::LIST, 500).map_err(OpError::Invalid)?;
        ops::tenant::list(&state.ctx(), actor, &Default::default(), &page)
            .await?
            .items
            .into_iter()
            .map(|t| (t.id.to_string(), format!("{} ({})", t.name, t.country)))
            .collect()
    } else {
        Vec::new()
    };
    let mut parents = Vec::new();
    for role in [Role::Operator, Role::SubOperator] {
        let page = PageRequest::first(&LIST, 500).map_err(OpError::Invalid)?;
        let filter = UserFilter {
            role: Some(role),
            status: Some(UserStatus::Active),
            ..Default::default()
        };
        for parent in ops::user::list(&state.ctx(), actor, &filter, &page)
            .await?
            .items
        {
            let role = store::user::role(&parent)?;
            parents.push((parent, role));
        }
    }
    let permissions = Permission::ALL
        .into_iter()
        .filter(|p| actor.permissions().has(*p))
        .map(|p| (p.as_str(), t.permission(p)))
        .collect();
    Ok(Choices {
        tenants,
        parents,
        permissions,
    })
}

async fn blank_form(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
) -> Result<FormPage, OpError> {
    let t = Tr { lang: user.lang };
    let choices = choices(state, &user.actor, t).await?;
    Ok(FormPage {
        ui: Ui::new(user, Section::Users, headers, "/panel/users/new"),
        id: None,
        version: 0,
        f: Filled::new(),
        role: None,
        roles: creatable_roles(&user.actor, t),
        parents: choices.parents(t, |_, _| true),
        tenants: choices.tenants,
        permissions: choices.permissions,
        reassign: Vec::new(),
        can_edit: true,
        can_delete: false,
        money: None,
    })
}

async fn new_form(State(state): State<AppState>, user: PanelUser, headers: HeaderMap) -> Response {
    if creatable_roles(&user.actor, Tr { lang: user.lang }).is_empty() {
        return ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.forbidden");
    }
    match blank_form(&state, &user, &headers).await {
        Ok(page) => render(&page),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

fn parse_id(text: Option<&str>) -> Option<i64> {
    text.and_then(|t| t.trim().parse().ok())
}

async fn create(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let parsed = NewUser::parse(
        form.text("email"),
        form.text("password"),
        form.text("name"),
        form.text("role"),
        &form.all("permissions"),
    );
    let result = match parsed {
        Ok(new) => {
            let input = ops::user::CreateUser {
                user: new,
                tenant_id: parse_id(form.opt("tenant_id")).map(TenantId),
                parent_id: parse_id(form.opt("parent_id")).map(UserId),
            };
            ops::user::create(&state.ctx(), &user.actor, user.author.clone(), input).await
        }
        Err(errors) => Err(OpError::Invalid(errors)),
    };
    match result {
        Ok(created) => ui::redirect_with(&format!("/panel/users/{}", created.id), "flash.created"),
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
    let t = Tr { lang: user.lang };
    let target = ops::user::get(&state.ctx(), &user.actor, UserId(id)).await?;
    let role = store::user::role(&target)?;
    let facts = store::user::facts(&target)?;
    let status = target.status.get();
    let manageable =
        status != UserStatus::Archived && access::update_user(&user.actor, &facts, None).is_ok();
    let choices = choices(state, &user.actor, t).await?;
    // Only users of its tenant fit: as its parent, those of a role it may hang under; as the
    // new parent of its children, anyone but itself and those children.
    let parents = choices.parents(t, |u, parent_role| {
        u.id != id
            && u.tenant_id == target.tenant_id
            && access::parent_roles(role).contains(&parent_role)
    });
    let reassign = choices.parents(t, |u, _| {
        u.id != id && u.tenant_id == target.tenant_id && u.parent_id != Some(id)
    });
    let granted = store::user::permissions(&target);
    let money = BalanceCard::load(state, user, &target).await?;
    let f = Filled::new()
        .with("email", &target.email)
        .with("name", &target.name)
        .with("role", role.as_str())
        .with(
            "parent_id",
            target.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        )
        .with("status", status.as_str())
        .with_all("permissions", granted.iter().map(Permission::as_str));
    Ok(FormPage {
        ui: Ui::new(user, Section::Users, headers, &format!("/panel/users/{id}")),
        id: Some(id),
        version: target.version,
        f: match &money {
            Some(card) => card.fill(f),
            None => f,
        },
        role: Some(role),
        roles: Vec::new(),
        tenants: choices.tenants,
        parents,
        permissions: choices.permissions,
        reassign,
        can_edit: manageable,
        can_delete: manageable,
        money,
    })
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
    let here = format!("/panel/users/{id}");
    let mut errors = FieldErrors::new();
    let target_role = form.get("role").and_then(Role::parse);
    let input = ops::user::UpdateUser {
        name: errors.take(rules::parse_name(form.text("name"))),
        email: errors.take(Email::parse(form.text("email"))),
        password: form
            .opt("password")
            .and_then(|p| errors.take(Password::parse("password", p))),
        // A form that does not send the status leaves it as it is.
        status: match form.get("status") {
            None => None,
            Some("active") => Some(UserStatus::Active),
            Some("disabled") => Some(UserStatus::Disabled),
            Some(_) => {
                errors.push(domain::field::FieldError::new("status", "unknown_status"));
                None
            }
        },
        permissions: if target_role.is_some_and(Role::takes_permissions) {
            errors.take(rules::parse_permissions(&form.all("permissions")))
        } else {
            None
        },
        parent_id: if target_role.is_some_and(|r| !access::parent_roles(r).is_empty()) {
            Some(parse_id(form.opt("parent_id")).map(UserId))
        } else {
            None
        },
    };
    let version = form.text("version").parse().unwrap_or(0);
    let result = if errors.is_empty() {
        ops::user::update(
            &state.ctx(),
            &user.actor,
            user.author.clone(),
            UserId(id),
            version,
            input,
        )
        .await
        .map(|_| ())
    } else {
        Err(OpError::Invalid(errors))
    };
    match result {
        Ok(()) => ui::redirect_with(&here, "flash.saved"),
        Err(OpError::VersionMismatch) => ui::redirect_with(&here, "flash.stale"),
        Err(OpError::Invalid(errors)) => refused(&state, &user, &headers, id, &form, &errors).await,
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// The edit page again, with what was typed (never the password) and why it was refused.
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

async fn delete(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let reassign_to = parse_id(form.opt("reassign_to")).map(UserId);
    let author = user.author.clone();
    let result =
        ops::user::archive(&state.ctx(), &user.actor, author, UserId(id), reassign_to).await;
    form::archived(result, &user, &headers, "/panel/users", async |errors| {
        refused(&state, &user, &headers, id, &FormData::default(), &errors).await
    })
    .await
}

/// The decimals and code of the currency of user `id`'s tenant.
async fn currency_of(state: &AppState, actor: &Actor, id: i64) -> Result<(u16, String), OpError> {
    let target = ops::user::get(&state.ctx(), actor, UserId(id)).await?;
    let tenant = target.tenant_id.ok_or(OpError::NotFound)?;
    tenant_currency(state, actor, tenant).await
}

/// What a refused money form of a user's page shows beside `field`: its field errors, or
/// what a balance that cannot pay may still spend. Any other error is not the form's.
fn money_refusal(
    error: OpError,
    field: &str,
    (digits, currency): &(u16, String),
) -> Result<FieldErrors, OpError> {
    match error {
        OpError::Invalid(errors) => Ok(errors),
        OpError::InsufficientBalance { available } => {
            Ok(short_of_funds(field, available, *digits, currency))
        }
        other => Err(other),
    }
}

/// `POST /panel/users/{id}/topup`: moves the amount typed (in the currency's units) to the
/// reseller, once per key the page drew.
async fn topup(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let here = format!("/panel/users/{id}");
    let currency = match currency_of(&state, &user.actor, id).await {
        Ok(found) => found,
        Err(error) => return ui::op_error(&user, &headers, &error),
    };
    let result = match topup_amount(&form, currency.0) {
        Ok(amount) => {
            let author = user.author.clone();
            let key = key_of(&form);
            ops::ledger::topup(&state.ctx(), &user.actor, author, UserId(id), amount, key).await
        }
        Err(error) => Err(error.into()),
    };
    match result {
        Ok(_) => ui::redirect_with(&here, "flash.saved"),
        // The key already moved other funds: the page as it is now, with a new key.
        Err(OpError::KeyReused) => ui::redirect_with(&here, "flash.stale"),
        Err(error) => match money_refusal(error, "amount", &currency) {
            Ok(errors) => refused(&state, &user, &headers, id, &form, &errors).await,
            Err(error) => ui::op_error(&user, &headers, &error),
        },
    }
}

/// `POST /panel/users/{id}/terms`: the reseller's account terms (prepaid, or credit with a
/// limit or none), for who `domain::access::set_account_terms` lets set them.
async fn terms(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let here = format!("/panel/users/{id}");
    let currency = match currency_of(&state, &user.actor, id).await {
        Ok(found) => found,
        Err(error) => return ui::op_error(&user, &headers, &error),
    };
    let result = match terms_of(&form, currency.0) {
        Ok(terms) => {
            let author = user.author.clone();
            ops::ledger::set_terms(&state.ctx(), &user.actor, author, UserId(id), terms).await
        }
        Err(error) => Err(error.into()),
    };
    match result {
        Ok(_) => ui::redirect_with(&here, "flash.saved"),
        Err(error) => match money_refusal(error, "credit_limit", &currency) {
            Ok(errors) => refused(&state, &user, &headers, id, &form, &errors).await,
            Err(error) => ui::op_error(&user, &headers, &error),
        },
    }
}
