//! IP pool pages: ranges typed as `10.0.0.1-10.0.0.254`, CIDR blocks or a comma list of
//! either; each pool shown with its capacity, the addresses allocated from it and the exact
//! CIDR blocks its ranges cover. Overlaps with another pool of the tenant are refused.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{ListQuery, ListState, may_create, tenant_of_form};
use crate::i18n::Tr;
use crate::page::fallback::PageId;
use crate::page::form;
use crate::page::form::{Filled, FormData, PanelForm, ShowsForm, show_again};
use crate::page::lookup::{self, Choice, Tenants};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Pager, Section, Ui, render};
use crate::state::AppState;
use domain::field::{FieldError, FieldErrors};
use domain::network::Pool;
use domain::network::router::parse_object_name;
use ops::OpError;
use store::list::PageRequest;
use store::network::{IpPool, POOLS};

/// A pool as a list row.
#[derive(Debug)]
pub struct PoolRow {
    id: i64,
    name: String,
    ranges: String,
    blocks: Vec<String>,
    capacity: i64,
    used: i64,
    tenant: String,
}

/// The exact CIDR blocks of a stored pool.
fn blocks(pool: &IpPool) -> Vec<String> {
    Pool::parse(&pool.ranges)
        .map(|p| p.blocks().iter().map(ToString::to_string).collect())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "pools.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<PoolRow>,
    list: ListState,
    pager: Pager,
}

pub(super) async fn list(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let sort = query.sort();
    let Ok(page) = PageRequest::parse(&POOLS, Some(&sort), None, query.cursor.as_deref()) else {
        return ui::error_page(&user, &headers, StatusCode::BAD_REQUEST, "error.bad_list");
    };
    let result = async {
        let (found, used) =
            ops::network::list_pools(&state.ctx(), &user.actor, &query.filter(), &page).await?;
        let tenants =
            Tenants::load(&state, &user.actor, found.items.iter().map(|p| p.tenant_id)).await?;
        let choices = lookup::tenant_choices(&state, &user.actor).await?;
        Ok::<_, OpError>((found, used, tenants, choices))
    };
    match result.await {
        Ok((found, used, tenants, choices)) => {
            let used_of = |id: i64| used.iter().find(|(p, _)| *p == id).map_or(0, |(_, n)| *n);
            render(&ListPage {
                ui: Ui::new(&user, Section::Pools, &headers, "/panel/ip-pools"),
                rows: found
                    .items
                    .iter()
                    .map(|p| PoolRow {
                        id: p.id,
                        name: p.name.clone(),
                        ranges: p.ranges.clone(),
                        blocks: blocks(p),
                        capacity: p.capacity,
                        used: used_of(p.id),
                        tenant: tenants.name(p.tenant_id),
                    })
                    .collect(),
                list: query.state(&found, choices, &user.actor),
                pager: query.pager("/panel/ip-pools", found.next_cursor.as_ref()),
            })
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

#[derive(Template)]
#[template(path = "pool_form.html")]
struct FormPage {
    ui: Ui,
    /// `None` when creating.
    id: Option<i64>,
    version: i32,
    f: Filled,
    tenants: Vec<Choice>,
    /// What the stored pool holds (edit page only).
    capacity: i64,
    used: i64,
    blocks: Vec<String>,
    can_edit: bool,
    /// The tenant's other pools, where its customers may move (edit page only).
    others: Vec<Choice>,
}

impl ShowsForm for FormPage {
    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

fn parse(form: &FormData) -> Result<(String, Pool), FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = errors.take(parse_object_name("name", form.text("name")));
    let ranges = errors.take(
        Pool::parse(form.text("ranges"))
            .map_err(|e| FieldError::new("ranges", "invalid_ranges").with("reason", e)),
    );
    match (name, ranges) {
        (Some(name), Some(ranges)) => Ok((name, ranges)),
        _ => Err(errors),
    }
}

async fn blank_form(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
) -> Result<FormPage, OpError> {
    Ok(FormPage {
        ui: Ui::new(user, Section::Pools, headers, "/panel/ip-pools/new"),
        id: None,
        version: 0,
        f: Filled::new(),
        tenants: lookup::tenant_choices(state, &user.actor).await?,
        capacity: 0,
        used: 0,
        blocks: Vec::new(),
        can_edit: true,
        others: Vec::new(),
    })
}

async fn edit_page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
) -> Result<FormPage, OpError> {
    let (pool, used) = ops::network::get_pool(&state.ctx(), &user.actor, id).await?;
    Ok(FormPage {
        ui: Ui::new(
            user,
            Section::Pools,
            headers,
            &format!("/panel/ip-pools/{id}"),
        ),
        id: Some(id),
        version: pool.version,
        f: Filled::new()
            .with("name", &pool.name)
            .with("ranges", &pool.ranges),
        tenants: Vec::new(),
        capacity: pool.capacity,
        used,
        blocks: blocks(&pool),
        can_edit: super::may_change(state, &user.actor, pool.tenant_id).await,
        others: lookup::pool_choices(state, &user.actor, pool.tenant_id, pool.id).await?,
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

pub(super) async fn create(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let result = match parse(&form) {
        Ok((name, ranges)) => {
            let tenant = tenant_of_form(&form);
            let author = user.author.clone();
            ops::network::create_pool(&state.ctx(), &user.actor, author, tenant, &name, &ranges)
                .await
        }
        Err(errors) => Err(OpError::Invalid(errors)),
    };
    match result {
        Ok(pool) => ui::redirect_with(&format!("/panel/ip-pools/{}", pool.id), "flash.created"),
        Err(OpError::Invalid(errors)) => {
            let page = blank_form(&state, &user, &headers).await;
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
    match edit_page(&state, &user, &headers, id).await {
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
    let here = format!("/panel/ip-pools/{id}");
    let version = form.text("version").parse().unwrap_or(0);
    let result = match parse(&form) {
        Ok((name, ranges)) => change(&state, &user, id, version, name, ranges).await,
        Err(errors) => Err(OpError::Invalid(errors)),
    };
    match result {
        Ok(_) => ui::redirect_with(&here, "flash.saved"),
        Err(OpError::VersionMismatch) => ui::redirect_with(&here, "flash.stale"),
        Err(OpError::Invalid(errors)) => refused(&state, &user, &headers, id, &form, &errors).await,
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// Changes what differs from the stored pool: a rename rewrites the RADIUS rows of the
/// customers using the pool, so an unchanged name is not sent.
async fn change(
    state: &AppState,
    user: &PanelUser,
    id: i64,
    version: i32,
    name: String,
    ranges: Pool,
) -> Result<IpPool, OpError> {
    let (pool, _) = ops::network::get_pool(&state.ctx(), &user.actor, id).await?;
    let name = (name != pool.name).then_some(name);
    let ranges = (ranges.canonical() != pool.ranges).then_some(ranges);
    let author = user.author.clone();
    ops::network::update_pool(
        &state.ctx(),
        &user.actor,
        author,
        id,
        version,
        name.as_deref(),
        ranges.as_ref(),
    )
    .await
}

/// The edit page again, with what was typed and why it was refused.
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
        ops::network::archive_pool(&state.ctx(), &user.actor, user.author.clone(), id).await;
    form::archived(result, &user, &headers, "/panel/ip-pools", async |errors| {
        refused(&state, &user, &headers, id, &FormData::default(), &errors).await
    })
    .await
}

/// Moves the pool's customers to another pool of its tenant (`ops::readdress`): queued as a
/// job, whose page it shows.
pub(super) async fn migrate(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let result = match form.text("to_pool_id").parse::<i64>() {
        Ok(to) => {
            ops::readdress::submit_pool_move(&state.ctx(), &user.actor, user.author.clone(), id, to)
                .await
        }
        Err(_) => Err(OpError::field("to_pool_id", "required")),
    };
    match result {
        Ok(job) => {
            state.jobs_wake.notify_one();
            ui::redirect_with(&format!("/panel/jobs/{}", job.id), "flash.job_queued")
        }
        Err(OpError::Invalid(errors)) => refused(&state, &user, &headers, id, &form, &errors).await,
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
