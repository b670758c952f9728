//! `POST /api/v1/routers/{id}/import` and `GET /api/v1/routers/{id}/import/{job}/file`:
//! importing a router's pools, PPP profiles and secrets (`ops::router_import`), queued as a
//! job whose result is the plan (and, unless only the plan was asked for, what was created
//! and refused), and the file of everything the job read.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::job::api::{JobOut, accepted};
use crate::state::AppState;
use domain::ids::JobId;
use domain::network::import::Choices;
use ops::router_import::ImportRequest;

/// What to import.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    /// Only plan: read the router and report what would be created, left and skipped.
    dry_run: bool,
    /// Import disabled secrets too, as disabled customers.
    #[serde(default)]
    include_disabled: bool,
    /// PPP profile name → package id. A profile not named takes the package of its name.
    #[serde(default)]
    packages: BTreeMap<String, i64>,
    /// Bill each active customer created for the first period it is given: an invoice due
    /// on the tenant's terms, the expiry left as it is.
    #[serde(default)]
    first_bill: bool,
}

/// Queues an import from the router (or, with `dry_run`, its plan); answers 202 with the
/// job, whose progress and result `GET /api/v1/jobs/{id}` gives. One import per router runs
/// at a time: asking again while one is queued or running answers that one.
#[utoipa::path(post, path = "/routers/{id}/import", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ImportBody,
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(super) async fn import_router(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<ImportBody>,
) -> Result<Response, ApiError> {
    let request = ImportRequest {
        router_id: id,
        choices: Choices {
            packages: body.packages,
            include_disabled: body.include_disabled,
        },
        dry_run: body.dry_run,
        first_bill: body.first_bill,
    };
    let job =
        ops::router_import::submit(&state.ctx(), &caller.actor, caller.author, &request).await?;
    state.jobs_wake.notify_one();
    Ok(accepted(&job))
}

/// The file of everything an import job read from the router, as CSV (one row per pool,
/// profile and secret, passwords included); each download is audited.
#[utoipa::path(get, path = "/routers/{id}/import/{job}/file", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path), ("job" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(super) async fn import_file(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, job)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let csv = ops::router_import::snapshot_file(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        JobId(job),
    )
    .await?;
    let name = format!("attachment; filename=\"router-{id}-import-{job}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        csv,
    )
        .into_response())
}
