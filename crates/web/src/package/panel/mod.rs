//! The panel's package pages in three levels: the list (level, owner, connection type and
//! name filters, sort, cursor paging), the form for a master package (the service: speed,
//! burst, volume, validity, pool), the form that offers a package to an operator or a
//! sub-operator under its own name and prices, the page to change one and the button to
//! delete one (refused while customers or derived packages use it). Prices are typed and
//! shown in the tenant's currency; the operations take minor units.

mod derive;
mod fields;
mod form;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::i18n::Tr;
use crate::page::input;
use crate::page::lookup::{self, Choice, SELECT_LIMIT, Tenants};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Pager, Section, Ui, render};
use crate::state::AppState;
use domain::access::{Actor, Permission};
use domain::ids::{TenantId, UserId};
use domain::package::{ConnectionType, PackageLevel};
use ops::OpError;
use ops::user::OwnersOf;
use store::list::PageRequest;
use store::network::IpPool;
use store::package::{LIST, Package, PackageFilter};

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/packages", get(list))
        .route(
            "/panel/packages/new",
            get(form::new_form).post(form::create),
        )
        .route(
            "/panel/packages/{id}",
            get(form::edit_form).post(form::update),
        )
        .route(
            "/panel/packages/{id}/derive",
            get(derive::derive_form).post(derive::derive),
        )
        .route("/panel/packages/{id}/delete", post(form::delete))
        .route("/panel/packages/{id}/allocation", post(form::allocation))
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    tenant_id: Option<String>,
    level: Option<String>,
    owner_id: Option<String>,
    connection_type: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
}

/// A package as a list row.
#[derive(Debug)]
pub struct PackageRow {
    id: i64,
    name: String,
    level: &'static str,
    owner: String,
    connection_type: &'static str,
    speed: String,
    volume: String,
    validity: String,
    price: String,
    cost_price: String,
    pool: String,
}

/// What rows and forms show of a package's neighbours: pool and owner names, currencies.
struct Around {
    pools: Vec<IpPool>,
    owners: Vec<store::user::User>,
    tenants: Tenants,
}

impl Around {
    async fn load(
        state: &AppState,
        actor: &Actor,
        tenants: impl IntoIterator<Item = i64>,
    ) -> Result<Self, OpError> {
        let page =
            PageRequest::first(&store::network::POOLS, SELECT_LIMIT).map_err(OpError::Invalid)?;
        Ok(Self {
            pools: ops::network::list_pools(&state.ctx(), actor, &Default::default(), &page)
                .await?
                .0
                .items,
            owners: lookup::resellers(state, actor, OwnersOf::Packages).await?,
            tenants: Tenants::load(state, actor, tenants).await?,
        })
    }

    fn pool_name(&self, id: Option<i64>) -> String {
        match id {
            None => String::new(),
            Some(id) => self
                .pools
                .iter()
                .find(|p| p.id == id)
                .map_or_else(|| format!("#{id}"), |p| p.name.clone()),
        }
    }

    fn row(&self, t: Tr, p: &Package) -> PackageRow {
        PackageRow {
            id: p.id,
            name: p.name.clone(),
            level: t.t(&format!("packages.level_{}", p.level.code())),
            owner: lookup::user_name(&self.owners, p.owner_id),
            connection_type: connection_name(t, p.connection_type.get()),
            speed: speed(p),
            volume: input::volume_text(p.volume_bytes),
            validity: validity(t, p.validity_minutes),
            price: self.tenants.money(p.tenant_id, p.price),
            cost_price: if p.level == PackageLevel::Master {
                String::new()
            } else {
                self.tenants.money(p.tenant_id, p.cost_price)
            },
            pool: self.pool_name(p.ip_pool_id),
        }
    }
}

/// A connection type in the panel's language.
pub fn connection_name(t: Tr, connection: ConnectionType) -> &'static str {
    t.t(&format!("connection.{}", connection.as_str()))
}

/// Download and upload as people read them: `↓ 50M ↑ 10M`.
fn speed(p: &Package) -> String {
    format!(
        "↓ {} ↑ {}",
        input::rate_text(p.download_kbps),
        input::rate_text(p.upload_kbps)
    )
}

/// A validity in days, hours and minutes, in the panel's language.
fn validity(t: Tr, minutes: i64) -> String {
    let (d, h, m) = input::validity_parts(minutes);
    crate::i18n::format(
        t.lang,
        "packages.validity_value",
        &[
            ("d", d.to_string()),
            ("h", h.to_string()),
            ("m", m.to_string()),
        ],
    )
}

/// The connection types as select choices.
pub fn connection_choices(t: Tr) -> Vec<Choice> {
    ConnectionType::ALL
        .into_iter()
        .map(|c| (c.as_str().to_owned(), connection_name(t, c).to_owned()))
        .collect()
}

#[derive(Template)]
#[template(path = "packages.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<PackageRow>,
    total: String,
    pager: Pager,
    query: Shown,
    tenants: Vec<Choice>,
    owners: Vec<Choice>,
    levels: Vec<Choice>,
    connections: Vec<Choice>,
    can_create: bool,
}

/// The list's filters as typed, to show them again.
#[derive(Debug, Default)]
struct Shown {
    tenant_id: String,
    level: String,
    owner_id: String,
    connection_type: String,
    q: String,
    sort: String,
}

impl Shown {
    fn link(&self) -> String {
        format!(
            "/panel/packages?tenant_id={}&level={}&owner_id={}&connection_type={}&q={}&sort={}",
            ui::encode(&self.tenant_id),
            ui::encode(&self.level),
            ui::encode(&self.owner_id),
            ui::encode(&self.connection_type),
            ui::encode(&self.q),
            ui::encode(&self.sort),
        )
    }
}

/// May the signed-in user create master packages (in some tenant)?
fn may_create(actor: &Actor) -> bool {
    actor.can(Permission::ManagePackages) && !actor.role.is_reseller()
}

async fn list(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let shown = Shown {
        tenant_id: text(&query.tenant_id),
        level: text(&query.level),
        owner_id: text(&query.owner_id),
        connection_type: text(&query.connection_type),
        q: text(&query.q),
        sort: query
            .sort
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| LIST.default_sort.to_owned()),
    };
    let Ok(page) = PageRequest::parse(&LIST, Some(&shown.sort), None, query.cursor.as_deref())
    else {
        return ui::error_page(&user, &headers, StatusCode::BAD_REQUEST, "error.bad_list");
    };
    let filter = PackageFilter {
        tenant_id: input::id(query.tenant_id.as_deref()).map(TenantId),
        level: query.level.clone().filter(|l| !l.is_empty()),
        owner_id: input::id(query.owner_id.as_deref()).map(UserId),
        connection_type: query
            .connection_type
            .as_deref()
            .and_then(ConnectionType::parse),
        parent_id: None,
        name_prefix: query.q.clone().filter(|q| !q.trim().is_empty()),
    };
    let t = Tr { lang: user.lang };
    let result = async {
        let found = ops::package::list(&state.ctx(), &user.actor, &filter, &page).await?;
        let around =
            Around::load(&state, &user.actor, found.items.iter().map(|p| p.tenant_id)).await?;
        let tenants = lookup::tenant_choices(&state, &user.actor).await?;
        Ok::<_, OpError>((found, around, tenants))
    };
    match result.await {
        Ok((found, around, tenants)) => {
            let first = shown.link();
            render(&ListPage {
                ui: Ui::new(&user, Section::Packages, &headers, "/panel/packages"),
                rows: found.items.iter().map(|p| around.row(t, p)).collect(),
                total: ui::total(found.total, found.total_capped),
                pager: Pager::simple(
                    first.clone(),
                    found
                        .next_cursor
                        .as_ref()
                        .map(|c| format!("{first}&cursor={}", ui::encode(c))),
                ),
                query: shown,
                tenants,
                owners: lookup::reseller_choices(t, &around.owners),
                levels: PackageLevel::ALL
                    .into_iter()
                    .map(|l| {
                        let code = l.as_str();
                        (
                            code.to_owned(),
                            t.t(&format!("packages.level_{code}")).to_owned(),
                        )
                    })
                    .collect(),
                connections: connection_choices(t),
                can_create: may_create(&user.actor),
            })
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
