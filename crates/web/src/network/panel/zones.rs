//! Zone pages: a tenant's areas, each optionally inside another.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{ListQuery, ListState, may_create, tenant_of_form};
use crate::i18n::Tr;
use crate::page::fallback::PageId;
use crate::page::form;
use crate::page::form::{Filled, FormData, PanelForm, ShowsForm, show_again};
use crate::page::input;
use crate::page::lookup::{self, Choice, SELECT_LIMIT, Tenants};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Pager, Section, Ui, render};
use crate::state::AppState;
use domain::access::Actor;
use ops::OpError;
use store::list::PageRequest;
use store::network::{ZONES, Zone};

/// A zone as a list row.
#[derive(Debug)]
pub struct ZoneRow {
    id: i64,
    name: String,
    parent: String,
    tenant: String,
}

#[derive(Template)]
#[template(path = "zones.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<ZoneRow>,
    list: ListState,
    pager: Pager,
}

/// Every zone the caller sees (for parent names and the parent select).
async fn all_zones(state: &AppState, actor: &Actor) -> Result<Vec<Zone>, OpError> {
    let page = PageRequest::first(&ZONES, SELECT_LIMIT).map_err(OpError::Invalid)?;
    Ok(
        ops::network::list_zones(&state.ctx(), actor, &Default::default(), &page)
            .await?
            .items,
    )
}

fn zone_name(zones: &[Zone], id: Option<i64>) -> String {
    match id {
        None => String::new(),
        Some(id) => zones
            .iter()
            .find(|z| z.id == id)
            .map_or_else(|| format!("#{id}"), |z| z.name.clone()),
    }
}

pub(super) async fn list(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let sort = query.sort();
    let Ok(page) = PageRequest::parse(&ZONES, Some(&sort), None, query.cursor.as_deref()) else {
        return ui::error_page(&user, &headers, StatusCode::BAD_REQUEST, "error.bad_list");
    };
    let result = async {
        let found =
            ops::network::list_zones(&state.ctx(), &user.actor, &query.filter(), &page).await?;
        let zones = all_zones(&state, &user.actor).await?;
        let tenants =
            Tenants::load(&state, &user.actor, found.items.iter().map(|z| z.tenant_id)).await?;
        let choices = lookup::tenant_choices(&state, &user.actor).await?;
        Ok::<_, OpError>((found, zones, tenants, choices))
    };
    match result.await {
        Ok((found, zones, tenants, choices)) => render(&ListPage {
            ui: Ui::new(&user, Section::Zones, &headers, "/panel/zones"),
            rows: found
                .items
                .iter()
                .map(|z| ZoneRow {
                    id: z.id,
                    name: z.name.clone(),
                    parent: zone_name(&zones, z.parent_id),
                    tenant: tenants.name(z.tenant_id),
                })
                .collect(),
            list: query.state(&found, choices, &user.actor),
            pager: query.pager("/panel/zones", found.next_cursor.as_ref()),
        }),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

#[derive(Template)]
#[template(path = "zone_form.html")]
struct FormPage {
    ui: Ui,
    /// `None` when creating.
    id: Option<i64>,
    version: i32,
    f: Filled,
    tenants: Vec<Choice>,
    /// Zones it may be put in.
    parents: Vec<Choice>,
    can_edit: bool,
}

impl ShowsForm for FormPage {
    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

async fn form_page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    zone: Option<&Zone>,
) -> Result<FormPage, OpError> {
    let zones = all_zones(state, &user.actor).await?;
    let parents = zones
        .iter()
        .filter(|z| zone.is_none_or(|this| z.id != this.id && z.tenant_id == this.tenant_id))
        .map(|z| (z.id.to_string(), z.name.clone()))
        .collect();
    Ok(match zone {
        None => FormPage {
            ui: Ui::new(user, Section::Zones, headers, "/panel/zones/new"),
            id: None,
            version: 0,
            f: Filled::new(),
            tenants: lookup::tenant_choices(state, &user.actor).await?,
            parents,
            can_edit: true,
        },
        Some(zone) => FormPage {
            ui: Ui::new(
                user,
                Section::Zones,
                headers,
                &format!("/panel/zones/{}", zone.id),
            ),
            id: Some(zone.id),
            version: zone.version,
            f: Filled::new().with("name", &zone.name).with(
                "parent_id",
                zone.parent_id.map(|p| p.to_string()).unwrap_or_default(),
            ),
            tenants: Vec::new(),
            parents,
            can_edit: super::may_change(state, &user.actor, zone.tenant_id).await,
        },
    })
}

fn name(form: &FormData) -> Result<String, OpError> {
    domain::text::bounded("name", form.text("name"), 1, 64).map_err(OpError::from)
}

pub(super) async fn new_form(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
) -> Response {
    if !may_create(&user.actor) {
        return ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.forbidden");
    }
    match form_page(&state, &user, &headers, None).await {
        Ok(page) => render(&page),
        Err(error) => ui::op_error(&user, &headers, &error),
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
    let parent = input::id(form.opt("parent_id"));
    let result = match name(&form) {
        Ok(name) => {
            let tenant = tenant_of_form(&form);
            let author = user.author.clone();
            ops::network::create_zone(&state.ctx(), &user.actor, author, tenant, &name, parent)
                .await
        }
        Err(error) => Err(error),
    };
    match result {
        Ok(zone) => ui::redirect_with(&format!("/panel/zones/{}", zone.id), "flash.created"),
        Err(OpError::Invalid(errors)) => {
            let page = form_page(&state, &user, &headers, None).await;
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
    let page = async {
        let zone = ops::network::get_zone(&state.ctx(), &user.actor, id).await?;
        form_page(&state, &user, &headers, Some(&zone)).await
    };
    match page.await {
        Ok(page) => render(&page),
        Err(error) => ui::op_error(&user, &headers, &error),
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
    let here = format!("/panel/zones/{id}");
    let version = form.text("version").parse().unwrap_or(0);
    let parent = input::id(form.opt("parent_id"));
    let result = match name(&form) {
        Ok(name) => {
            let author = user.author.clone();
            ops::network::update_zone(
                &state.ctx(),
                &user.actor,
                author,
                id,
                version,
                Some(&name),
                Some(parent),
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

/// The edit page again, with what was typed and why it was refused.
async fn refused(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
    form: &FormData,
    errors: &domain::field::FieldErrors,
) -> Response {
    let page = async {
        let zone = ops::network::get_zone(&state.ctx(), &user.actor, id).await?;
        form_page(state, user, headers, Some(&zone)).await
    };
    let page = page.await;
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
    let result =
        ops::network::archive_zone(&state.ctx(), &user.actor, user.author.clone(), id).await;
    form::archived(result, &user, &headers, "/panel/zones", async |errors| {
        refused(&state, &user, &headers, id, &FormData::default(), &errors).await
    })
    .await
}
