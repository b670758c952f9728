//! `/api/v1/libreqos/...`: the files LibreQoS shapes from.
//!
//! - `GET /api/v1/libreqos/shaped-devices.csv`: one line per customer in service with an
//!   address, streamed as it is read (a failure midway cuts the answer short, so a client
//!   sees an incomplete transfer rather than a shorter file).
//! - `GET /api/v1/libreqos/network.json`: the routers and zones those lines name as their
//!   Parent Node (`{}` for `layout=flat`).
//! - `GET /api/v1/libreqos/summary`: how many customers an export shapes, and how many it
//!   leaves out and why.
//!
//! All three take `tenant_id` (required of the platform's roles), `layout` (`tree` or
//! `flat`) and `node_mbps` (each node's bandwidth).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::query::Query;
use crate::state::AppState;
use domain::field::FieldError;
use domain::ids::TenantId;
use domain::libreqos::Layout;
use ops::libreqos::{Export, Options};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(shaped_devices))
        .routes(routes!(network_json))
        .routes(routes!(summary))
}

/// What to export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// The tenant (required of the Developer and Super Admins; others export their own).
    tenant_id: Option<i64>,
    /// `tree` (the default: routers, and the zones of their customers beneath them) or
    /// `flat` (no nodes, every Parent Node empty).
    layout: Option<String>,
    /// Each node's bandwidth in `network.json`, Mbit/s each way (1 to 400 000; 10 000).
    node_mbps: Option<u32>,
}

impl ExportQuery {
    fn options(&self) -> Result<Options, ApiError> {
        let layout = match self.layout.as_deref() {
            None => Layout::Tree,
            Some(text) => Layout::parse(text)
                .ok_or_else(|| ApiError::from(FieldError::new("layout", "invalid_choice")))?,
        };
        Ok(Options {
            tenant: self.tenant_id.map(TenantId),
            layout,
            node_mbps: self.node_mbps,
        })
    }
}

/// `ShapedDevices.csv` of the caller's customers in service (or a tenant's): Circuit and
/// Device ID the customer's id, its name and user name, its router or zone as the Parent
/// Node, its MAC, its static address or else its open sessions' addresses, its package's
/// rates in Mbit/s (1 Mbit/s guaranteed, or the whole rate if slower) and the package's
/// name. Customers without an address are left out (see `/libreqos/summary`).
#[utoipa::path(get, path = "/libreqos/shaped-devices.csv", tag = "libreqos", security(("bearer" = [])), params(ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn shaped_devices(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let export = ops::libreqos::open(&state.ctx(), &caller.actor, &query.options()?).await?;
    let chunks = futures::stream::unfold(Some((state, export)), next_chunk);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"ShapedDevices.csv\"",
            ),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}

/// One step of the streamed CSV: the next page's lines, or an error that ends the answer.
async fn next_chunk(
    step: Option<(AppState, Export)>,
) -> Option<(Result<Vec<u8>, std::io::Error>, Option<(AppState, Export)>)> {
    let (state, mut export) = step?;
    match export.next_chunk(&state.db).await {
        Ok(Some(chunk)) => Some((Ok(chunk), Some((state, export)))),
        Ok(None) => None,
        Err(error) => {
            tracing::error!(%error, tenant = %export.tenant(), "the LibreQoS export stopped");
            Some((Err(std::io::Error::other("export failed")), None))
        }
    }
}

/// `network.json`: the routers of the exported customers at the top, the zones they are
/// filed in beneath, each node the bandwidth asked for; the names the CSV's Parent Node
/// gives.
#[utoipa::path(get, path = "/libreqos/network.json", tag = "libreqos", security(("bearer" = [])), params(ExportQuery),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn network_json(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<ExportQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let export = ops::libreqos::open(&state.ctx(), &caller.actor, &query.options()?).await?;
    Ok(Json(export.network_json()))
}

/// What an export shapes and leaves out.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryOut {
    tenant_id: TenantId,
    /// Nodes in `network.json`.
    nodes: usize,
    /// Lines of `ShapedDevices.csv`.
    shaped: u64,
    /// Customers left out, by reason: `no_address` (no static address and no open
    /// session with one), `rate_too_low` (a package under 0.2 Mbit/s, which LibreQoS
    /// refuses), `not_in_service` (active but past its expiry).
    skipped: SkippedOut,
}

/// Customers left out, by reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedOut {
    no_address: u64,
    rate_too_low: u64,
    not_in_service: u64,
}

/// How many customers an export shapes, and how many it leaves out and why (the whole
/// export is made and its lines dropped).
#[utoipa::path(get, path = "/libreqos/summary", tag = "libreqos", security(("bearer" = [])), params(ExportQuery),
    responses((status = 200, body = SummaryOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn summary(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<ExportQuery>,
) -> Result<Json<SummaryOut>, ApiError> {
    let (tenant_id, nodes, report) =
        ops::libreqos::summary(&state.ctx(), &caller.actor, &query.options()?).await?;
    Ok(Json(SummaryOut {
        tenant_id,
        nodes,
        shaped: report.shaped,
        skipped: SkippedOut {
            no_address: report.no_address,
            rate_too_low: report.rate_too_low,
            not_in_service: report.not_in_service,
        },
    }))
}
