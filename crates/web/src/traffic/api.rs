//! `GET /api/v1/customers/{id}/traffic`, `GET /api/v1/routers/{id}/traffic` and
//! `GET /api/v1/tenants/{id}/traffic`: a graph's series as JSON, a point per bucket with its
//! download and upload in bits per second, and each direction's average and maximum; and
//! `GET /api/v1/customers/{id}/traffic.svg`, the customer's graph drawn as the panel draws
//! it (in English), for a system that shows it to the subscriber.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::ids::TenantId;
use domain::traffic::{Series, Stats};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::PeriodQuery;
use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::path::Id;
use crate::http::query::Query;
use crate::state::AppState;

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(customer_traffic))
        .routes(routes!(customer_traffic_svg))
        .routes(routes!(router_traffic))
        .routes(routes!(tenant_traffic))
}

/// One bucket.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointOut {
    /// The bucket's start, Unix seconds.
    at: i64,
    /// Download (to the subscriber), bits per second over the bucket.
    download_bps: u64,
    /// Upload (from the subscriber), bits per second over the bucket.
    upload_bps: u64,
}

/// One direction over the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsOut {
    /// Bits per second over the whole period.
    average_bps: u64,
    /// The busiest bucket's bits per second.
    max_bps: u64,
    /// Bytes over the period.
    bytes: u64,
}

impl From<Stats> for StatsOut {
    fn from(s: Stats) -> Self {
        Self {
            average_bps: s.average_bps,
            max_bps: s.max_bps,
            bytes: s.bytes,
        }
    }
}

/// A graph's series.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrafficOut {
    /// `hour`, `day`, `week` or `month`.
    period: String,
    /// A bucket's width: 300 (hour, day) or 3600 (week, month).
    step_seconds: i64,
    /// The first bucket's start, Unix seconds.
    from: i64,
    /// The end of the last bucket (the start of the bucket in progress), Unix seconds.
    to: i64,
    /// The tenant's time zone, which the panel's drawing reads times in.
    time_zone: String,
    download: StatsOut,
    upload: StatsOut,
    /// A point per bucket, oldest first; a bucket without traffic is 0.
    points: Vec<PointOut>,
}

impl TrafficOut {
    fn new(graph: ops::traffic::Graph) -> Self {
        let Series {
            period,
            step,
            from,
            to,
            points,
            down,
            up,
        } = graph.series;
        Self {
            period: period.as_str().to_owned(),
            step_seconds: step,
            from,
            to,
            time_zone: graph.zone.name().to_owned(),
            download: down.into(),
            upload: up.into(),
            points: points
                .into_iter()
                .map(|p| PointOut {
                    at: p.at,
                    download_bps: p.down_bps,
                    upload_bps: p.up_bps,
                })
                .collect(),
        }
    }
}

/// A customer's traffic over a period (for whoever sees the customer).
#[utoipa::path(get, path = "/customers/{id}/traffic", tag = "sessions", security(("bearer" = [])),
    params(("id" = i64, Path), PeriodQuery),
    responses((status = 200, body = TrafficOut), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn customer_traffic(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<TrafficOut>, ApiError> {
    let period = query.period()?;
    let graph = ops::traffic::customer(&state.ctx(), &caller.actor, id, period).await?;
    Ok(Json(TrafficOut::new(graph)))
}

/// A customer's traffic over a period, drawn as SVG (`image/svg+xml`).
#[utoipa::path(get, path = "/customers/{id}/traffic.svg", tag = "sessions", security(("bearer" = [])),
    params(("id" = i64, Path), PeriodQuery),
    responses((status = 200, content_type = "image/svg+xml", body = String),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn customer_traffic_svg(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let period = query.period()?;
    let graph = ops::traffic::customer(&state.ctx(), &caller.actor, id, period).await?;
    let t = crate::i18n::Tr::default();
    let title = t.t(super::panel::period_key(period));
    let mut response = super::svg(&graph.series, title, graph.zone, t).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml; charset=utf-8"),
    );
    Ok(response)
}

/// A router's traffic over a period: its customers' sessions together (for those who run or
/// staff the tenant).
#[utoipa::path(get, path = "/routers/{id}/traffic", tag = "sessions", security(("bearer" = [])),
    params(("id" = i64, Path), PeriodQuery),
    responses((status = 200, body = TrafficOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn router_traffic(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<TrafficOut>, ApiError> {
    let period = query.period()?;
    let graph = ops::traffic::router(&state.ctx(), &caller.actor, id, period).await?;
    Ok(Json(TrafficOut::new(graph)))
}

/// A tenant's traffic over a period: all its customers' sessions together (for those who
/// run or staff the tenant).
#[utoipa::path(get, path = "/tenants/{id}/traffic", tag = "sessions", security(("bearer" = [])),
    params(("id" = i64, Path), PeriodQuery),
    responses((status = 200, body = TrafficOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn tenant_traffic(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<TrafficOut>, ApiError> {
    let period = query.period()?;
    let graph = ops::traffic::tenant(&state.ctx(), &caller.actor, TenantId(id), period).await?;
    Ok(Json(TrafficOut::new(graph)))
}
