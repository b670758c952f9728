//! Custom field pages (`/panel/customers/fields`, reached from the customer list): the
//! tenant's definitions, the form for a new one and each one's edit form, deactivation and
//! deletion. And what the customer forms need of them: the inputs of the active fields
//! (`custom_fields.<key>`, so a refused value's message sits beside its input), what a
//! posted form gives (every field for a new customer, the changed ones for an edit).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::i18n::Tr;
use crate::page::fallback::PageId;
use crate::page::form::{Filled, FormData, PanelForm, ShowsForm, show_again};
use crate::page::input;
use crate::page::lookup::{self, Choice};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, render};
use crate::state::AppState;
use domain::custom_field::{DefinitionInput, FieldInput, FieldKind, FieldValue};
use domain::ids::TenantId;
use ops::OpError;
use store::custom_field::Definition;

/// The routes of the pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/customers/fields", get(list).post(create))
        .route("/panel/customers/fields/{id}", get(edit).post(update))
        .route("/panel/customers/fields/{id}/delete", post(delete))
}

/// A custom field's input on a customer form.
#[derive(Debug, Clone)]
pub struct FieldInputView {
    /// The form's name for it: `custom_fields.<key>`.
    pub name: String,
    /// Its label.
    pub label: String,
    /// `text`, `number`, `date`, `select` or `checkbox`.
    pub kind: &'static str,
    /// A select's options.
    pub options: Vec<String>,
    /// Must be filled.
    pub required: bool,
}

/// The inputs of the active fields among `defs`, in their order.
pub fn inputs(defs: &[Definition]) -> Vec<FieldInputView> {
    defs.iter()
        .filter(|d| d.active)
        .map(|d| FieldInputView {
            name: domain::custom_field::error_field(&d.key),
            label: d.label.clone(),
            kind: d.kind.get().as_str(),
            options: store::custom_field::options(d),
            required: d.required,
        })
        .collect()
}

/// A form showing the values `held` (by field id) of the active fields among `defs`.
pub fn fill(mut f: Filled, defs: &[Definition], held: &HashMap<i64, String>) -> Filled {
    for d in defs.iter().filter(|d| d.active) {
        let name = domain::custom_field::error_field(&d.key);
        let value = held.get(&d.id).cloned().unwrap_or_default();
        f = match d.kind.get() {
            // A hidden `false` comes first; a ticked box adds `true`.
            FieldKind::Checkbox => f.with_all(&name, ["false".to_owned(), value]),
            _ => f.with(&name, value),
        };
    }
    f
}

/// What the form says of field `d`: its text, or for a checkbox whether it is ticked.
fn posted(form: &FormData, d: &Definition) -> Option<String> {
    let name = domain::custom_field::error_field(&d.key);
    match d.kind.get() {
        FieldKind::Checkbox => {
            let sent = form.all(&name);
            (!sent.is_empty()).then(|| sent.iter().any(|v| v == "true").to_string())
        }
        _ => form.get(&name).map(str::to_owned),
    }
}

/// Every active field's value as posted, for a new customer.
pub fn new_values(defs: &[Definition], form: &FormData) -> Vec<(String, FieldInput)> {
    defs.iter()
        .filter(|d| d.active)
        .filter_map(|d| posted(form, d).map(|v| (d.key.clone(), FieldInput::Text(v))))
        .collect()
}

/// The active fields whose posted value differs from the one `held` (by field id).
pub fn changed_values(
    defs: &[Definition],
    held: &HashMap<i64, String>,
    form: &FormData,
) -> Vec<(String, FieldInput)> {
    defs.iter()
        .filter(|d| d.active)
        .filter_map(|d| {
            let typed = posted(form, d)?;
            let stored = held.get(&d.id).map_or("", String::as_str);
            let same = match d.kind.get() {
                FieldKind::Checkbox => (typed == "true") == (stored == "true"),
                _ => typed.trim() == stored,
            };
            (!same).then(|| (d.key.clone(), FieldInput::Text(typed)))
        })
        .collect()
}

/// The text a list column shows for a stored value of `d`.
pub fn shown(t: Tr, d: &Definition, stored: Option<&String>) -> String {
    match (d.kind.get(), stored) {
        (_, None) => String::new(),
        (FieldKind::Checkbox, Some(v)) if v == "true" => t.t("custom_fields.yes").to_owned(),
        (FieldKind::Checkbox, Some(_)) => String::new(),
        (kind, Some(v)) => {
            FieldValue::from_stored(kind, v).map_or_else(String::new, |v| v.stored())
        }
    }
}

/// A definition as a row of the list.
#[derive(Debug)]
pub struct FieldRow {
    id: i64,
    key: String,
    label: String,
    kind: String,
    options: String,
    required: bool,
    in_list: bool,
    position: i32,
    active: bool,
}

#[derive(Template)]
#[template(path = "custom_fields.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<FieldRow>,
    f: Filled,
    kinds: Vec<Choice>,
    tenants: Vec<Choice>,
    /// The tenant shown, when one is.
    tenant_id: Option<i64>,
    /// The same, as the tenant select's value.
    tenant_text: String,
    can_define: bool,
}

impl ShowsForm for ListPage {
    const CHECKBOXES: &'static [&'static str] = &["required", "in_list"];

    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

/// Whose fields a page shows.
#[derive(Debug, Default, Deserialize)]
struct TenantQuery {
    tenant_id: Option<String>,
}

fn kinds(t: Tr) -> Vec<Choice> {
    FieldKind::ALL
        .iter()
        .map(|k| {
            (
                k.as_str().to_owned(),
                t.t(&format!("custom_fields.kind_{}", k.as_str()))
                    .to_owned(),
            )
        })
        .collect()
}

async fn list_page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    tenant: Option<i64>,
) -> Result<ListPage, OpError> {
    let t = Tr { lang: user.lang };
    let actor = &user.actor;
    let ctx = state.ctx();
    let tenant = tenant.map(TenantId).or(actor.tenant_id);
    let (rows, can_define) = match tenant {
        Some(id) => {
            let found = ops::custom_field::tenant_for(&ctx, actor, Some(id)).await?;
            let defs = ops::custom_field::list(&ctx, actor, TenantId(found.id)).await?;
            let may = ops::custom_field::may_define(&ctx, actor, TenantId(found.id))
                .await
                .is_ok();
            let rows = defs
                .iter()
                .map(|d| FieldRow {
                    id: d.id,
                    key: d.key.clone(),
                    label: d.label.clone(),
                    kind: t
                        .t(&format!("custom_fields.kind_{}", d.kind.get().as_str()))
                        .to_owned(),
                    options: store::custom_field::options(d).join(", "),
                    required: d.required,
                    in_list: d.in_list,
                    position: d.position,
                    active: d.active,
                })
                .collect();
            (rows, may)
        }
        None => (Vec::new(), false),
    };
    let here = match tenant {
        Some(t) if actor.tenant_id.is_none() => {
            format!("/panel/customers/fields?tenant_id={}", t.0)
        }
        _ => "/panel/customers/fields".to_owned(),
    };
    Ok(ListPage {
        ui: Ui::new(user, Section::Customers, headers, &here),
        rows,
        f: Filled::new().with("kind", "text"),
        kinds: kinds(t),
        tenants: lookup::tenant_choices(state, actor).await?,
        tenant_id: tenant.map(|t| t.0),
        tenant_text: tenant.map(|t| t.0.to_string()).unwrap_or_default(),
        can_define,
    })
}

async fn list(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<TenantQuery>,
) -> Response {
    let tenant = input::id(query.tenant_id.as_deref());
    match list_page(&state, &user, &headers, tenant).await {
        Ok(page) => render(&page),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// The options typed, one a line.
fn options_of(form: &FormData) -> Option<Vec<String>> {
    form.get("options").map(|text| {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

fn number(form: &FormData, name: &str) -> Result<Option<i32>, OpError> {
    match form.opt(name) {
        None => Ok(None),
        Some(text) => text.trim().parse().map(Some).map_err(|_| {
            OpError::from(
                domain::field::FieldError::new(name, "out_of_range")
                    .with("min", 0)
                    .with("max", domain::custom_field::POSITION_MAX),
            )
        }),
    }
}

async fn create(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let tenant = input::id(form.opt("tenant_id"));
    let result = async {
        let input = DefinitionInput {
            key: Some(form.text("key").to_owned()),
            label: Some(form.text("label").to_owned()),
            kind: Some(form.text("kind").to_owned()),
            options: options_of(&form),
            required: Some(form.get("required").is_some()),
            in_list: Some(form.get("in_list").is_some()),
            position: number(&form, "position")?,
            active: None,
        };
        let author = user.author.clone();
        ops::custom_field::create(
            &state.ctx(),
            &user.actor,
            author,
            tenant.map(TenantId),
            &input,
        )
        .await
    };
    match result.await {
        Ok(saved) => ui::redirect_with(
            &format!("/panel/customers/fields/{}", saved.id),
            "flash.created",
        ),
        Err(OpError::Invalid(errors)) => {
            let page = list_page(&state, &user, &headers, tenant).await;
            show_again(page, &user, &headers, &form, &errors)
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

#[derive(Template)]
#[template(path = "custom_field.html")]
struct EditPage {
    ui: Ui,
    id: i64,
    version: i32,
    key: String,
    kind: String,
    is_select: bool,
    f: Filled,
    can_define: bool,
}

impl ShowsForm for EditPage {
    const CHECKBOXES: &'static [&'static str] = &["required", "in_list", "active"];

    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

async fn edit_page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
) -> Result<EditPage, OpError> {
    let t = Tr { lang: user.lang };
    let ctx = state.ctx();
    let d = ops::custom_field::get(&ctx, &user.actor, id).await?;
    let can_define = ops::custom_field::may_define(&ctx, &user.actor, TenantId(d.tenant_id))
        .await
        .is_ok();
    let flag = |b: bool| if b { "on" } else { "" };
    Ok(EditPage {
        ui: Ui::new(
            user,
            Section::Customers,
            headers,
            &format!("/panel/customers/fields/{id}"),
        ),
        id,
        version: d.version,
        key: d.key.clone(),
        kind: t
            .t(&format!("custom_fields.kind_{}", d.kind.get().as_str()))
            .to_owned(),
        is_select: d.kind.get() == FieldKind::Select,
        f: Filled::new()
            .with("label", &d.label)
            .with("options", store::custom_field::options(&d).join("\n"))
            .with("position", d.position.to_string())
            .with("required", flag(d.required))
            .with("in_list", flag(d.in_list))
            .with("active", flag(d.active)),
        can_define,
    })
}

async fn edit(
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
    let here = format!("/panel/customers/fields/{id}");
    let version = form.text("version").parse().unwrap_or(0);
    let result = async {
        let input = DefinitionInput {
            label: Some(form.text("label").to_owned()),
            options: options_of(&form),
            required: Some(form.get("required").is_some()),
            in_list: Some(form.get("in_list").is_some()),
            position: number(&form, "position")?,
            active: Some(form.get("active").is_some()),
            ..Default::default()
        };
        let author = user.author.clone();
        ops::custom_field::update(&state.ctx(), &user.actor, author, id, version, &input).await
    };
    match result.await {
        Ok(_) => ui::redirect_with(&here, "flash.saved"),
        Err(OpError::VersionMismatch) => ui::redirect_with(&here, "flash.stale"),
        Err(OpError::Invalid(errors)) => {
            let page = edit_page(&state, &user, &headers, id).await;
            show_again(page, &user, &headers, &form, &errors)
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
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
    let version = form.text("version").parse().unwrap_or(0);
    let result =
        ops::custom_field::delete(&state.ctx(), &user.actor, user.author.clone(), id, version)
            .await;
    match result {
        Ok(gone) => {
            let list = if user.actor.tenant_id.is_none() {
                format!("/panel/customers/fields?tenant_id={}", gone.tenant_id)
            } else {
                "/panel/customers/fields".to_owned()
            };
            ui::redirect_with(&list, "flash.deleted")
        }
        Err(OpError::VersionMismatch) => {
            ui::redirect_with(&format!("/panel/customers/fields/{id}"), "flash.stale")
        }
        Err(OpError::Invalid(errors)) => {
            let page = edit_page(&state, &user, &headers, id).await;
            show_again(page, &user, &headers, &FormData(Vec::new()), &errors)
        }
        Err(error) => {
            if matches!(error, OpError::Forbidden) {
                return ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.forbidden");
            }
            ui::op_error(&user, &headers, &error)
        }
    }
}
