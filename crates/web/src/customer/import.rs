//! `POST /api/v1/customers/import`: the CSV import over the API, queued as a job
//! (`ops::customer::import_job`); this handler reads the body within its limit and answers
//! with the job.

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::query::Query;
use crate::i18n::Lang;
use crate::job::api::JobOut;
use crate::state::AppState;
use ops::customer::import::{ImportOptions, MAX_BYTES};
use ops::customer::import_job::submit;

/// How to import.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The tenant (platform roles); others import into their own.
    pub tenant_id: Option<i64>,
    /// Only validate: report the errors, create nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Create nothing if any row is invalid.
    #[serde(default)]
    pub all_or_nothing: bool,
    /// Bill the time given with each customer created: an invoice for it, due on the
    /// tenant's terms (prepaid customers with time only).
    #[serde(default)]
    pub first_bill: bool,
}

/// Queues an import of customers from a CSV body (the columns are in `lastmile import
/// customers --help`); answers 202 with the job, whose progress and report
/// `GET /api/v1/jobs/{id}` gives. The same file sent again for the tenant within a day is
/// refused (`duplicate_import`).
#[utoipa::path(post, path = "/customers/import", tag = "customers", security(("bearer" = [])), params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn import_customers(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<ImportQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = to_bytes(body, MAX_BYTES)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"))?;
    let options = ImportOptions {
        tenant_id: query.tenant_id,
        dry_run: query.dry_run,
        all_or_nothing: query.all_or_nothing,
        first_bill: query.first_bill,
    };
    let job = submit(&state.ctx(), &caller.actor, caller.author, &bytes, &options).await?;
    state.jobs_wake.notify_one();
    let location = format!("/api/v1/jobs/{}", job.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(JobOut::from_model(&job, Lang::En)),
    )
        .into_response())
}
