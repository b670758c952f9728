//! The panel's traffic graphs: the drawings (`…/traffic.svg?period=`, `image/svg+xml`, drawn
//! by [`super::svg`]) of a customer, a router and a tenant, which pages show as images, and a
//! customer's graph page (`/panel/customers/{id}/traffic`) with a tab per period. Each is
//! for whoever the matching API answers (`ops::traffic`).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::ids::TenantId;
use domain::traffic::{Period, format_bps};
use serde::Deserialize;

use crate::page::fallback::PageId;
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, render};
use crate::state::AppState;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/customers/{id}/traffic", get(customer_page))
        .route("/panel/customers/{id}/traffic.svg", get(customer_svg))
        .route("/panel/routers/{id}/traffic.svg", get(router_svg))
        .route("/panel/tenants/{id}/traffic.svg", get(tenant_svg))
}

/// `?period=` on the panel's graphs.
#[derive(Debug, Default, Deserialize)]
struct PeriodParam {
    period: Option<String>,
}

impl PeriodParam {
    /// The period named, `day` when none is; `None` for a name no period has.
    fn get(&self) -> Option<Period> {
        match self.period.as_deref() {
            None | Some("") => Some(Period::Day),
            Some(name) => Period::parse(name),
        }
    }
}

/// Whose graph a drawing is.
enum Whose {
    Customer(i64),
    Router(i64),
    Tenant(i64),
}

async fn customer_svg(
    state: State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    PageId(id): PageId,
    Query(param): Query<PeriodParam>,
) -> Response {
    drawing(state, user, headers, Whose::Customer(id), param).await
}

async fn router_svg(
    state: State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    PageId(id): PageId,
    Query(param): Query<PeriodParam>,
) -> Response {
    drawing(state, user, headers, Whose::Router(id), param).await
}

async fn tenant_svg(
    state: State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    PageId(id): PageId,
    Query(param): Query<PeriodParam>,
) -> Response {
    drawing(state, user, headers, Whose::Tenant(id), param).await
}

/// The drawing of `whose` graph.
async fn drawing(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    whose: Whose,
    param: PeriodParam,
) -> Response {
    let Some(period) = param.get() else {
        return ui::error_page(&user, &headers, StatusCode::BAD_REQUEST, "field.invalid");
    };
    let ctx = state.ctx();
    let t = crate::i18n::Tr { lang: user.lang };
    let graph = match whose {
        Whose::Customer(id) => ops::traffic::customer(&ctx, &user.actor, id, period).await,
        Whose::Router(id) => ops::traffic::router(&ctx, &user.actor, id, period).await,
        Whose::Tenant(id) => ops::traffic::tenant(&ctx, &user.actor, TenantId(id), period).await,
    };
    match graph {
        Ok(graph) => {
            let title = t.t(period_key(period));
            let body = super::svg(&graph.series, title, graph.zone, t);
            let mut response = body.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml; charset=utf-8"),
            );
            response
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// The catalog key of a period's name.
pub fn period_key(period: Period) -> &'static str {
    match period {
        Period::Hour => "traffic.hour",
        Period::Day => "traffic.day",
        Period::Week => "traffic.week",
        Period::Month => "traffic.month",
    }
}

#[derive(Template)]
#[template(path = "traffic.html")]
struct TrafficPage {
    ui: Ui,
    id: i64,
    name: String,
    period: &'static str,
    /// Every period: `(name, catalog key)`.
    periods: Vec<(&'static str, &'static str)>,
    /// `(catalog key, average, maximum, total bytes)` of download and upload.
    stats: Vec<(&'static str, String, String, String)>,
}

async fn customer_page(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    PageId(id): PageId,
    Query(param): Query<PeriodParam>,
) -> Response {
    let Some(period) = param.get() else {
        return ui::error_page(&user, &headers, StatusCode::BAD_REQUEST, "field.invalid");
    };
    let ctx = state.ctx();
    let found = async {
        let customer = ops::customer::get(&ctx, &user.actor, id).await?;
        let graph = ops::traffic::customer(&ctx, &user.actor, id, period).await?;
        Ok::<_, ops::OpError>((customer, graph))
    };
    let (customer, graph) = match found.await {
        Ok(found) => found,
        Err(error) => return ui::op_error(&user, &headers, &error),
    };
    let bytes = |b: u64| ui::bytes(i64::try_from(b).unwrap_or(i64::MAX));
    let s = &graph.series;
    render(&TrafficPage {
        ui: Ui::new(
            &user,
            Section::Customers,
            &headers,
            &format!("/panel/customers/{id}/traffic"),
        ),
        id,
        name: customer.name.clone(),
        period: period.as_str(),
        periods: Period::ALL
            .into_iter()
            .map(|p| (p.as_str(), period_key(p)))
            .collect(),
        stats: vec![
            (
                "traffic.download",
                format_bps(s.down.average_bps),
                format_bps(s.down.max_bps),
                bytes(s.down.bytes),
            ),
            (
                "traffic.upload",
                format_bps(s.up.average_bps),
                format_bps(s.up.max_bps),
                bytes(s.up.bytes),
            ),
        ],
    })
}
