//! `GET /api/v1/jobs` and `GET /api/v1/jobs/{id}`: background jobs (imports today) with
//! their progress and result, each caller seeing the jobs of its scope.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::list::{ListResponse, page_request};
use crate::http::path::Id;
use crate::http::query::Query;
use crate::i18n::{self, Lang};
use crate::state::AppState;
use domain::field::FieldError;
use domain::ids::{JobId, TenantId, UserId};
use store::job::{Job, JobFilter, JobStatus, LIST};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
}

/// A background job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobOut {
    id: JobId,
    /// What it does: `customer.import`, `housekeeping.purge`, …
    kind: String,
    /// `queued`, `running`, `done` or `failed`.
    status: String,
    tenant_id: Option<TenantId>,
    /// Who asked for it (absent for the system's own work).
    created_by: Option<UserId>,
    /// How far it got; for an import `{"done": rows dealt with, "total": rows}`.
    #[schema(value_type = Option<Object>)]
    progress: Option<Value>,
    /// What it did, once done; for an import the report (rows, created, errors with their
    /// line, field, code and message).
    #[schema(value_type = Option<Object>)]
    result: Option<Value>,
    /// Why its last attempt failed.
    last_error: Option<String>,
    attempts: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl JobOut {
    /// The API view of a stored job, its messages in `lang`.
    pub fn from_model(job: &Job, lang: Lang) -> Self {
        let parse =
            |text: &Option<String>| text.as_deref().and_then(|t| serde_json::from_str(t).ok());
        let mut result: Option<Value> = parse(&job.result);
        if let Some(errors) = result
            .as_mut()
            .and_then(|r| r.get_mut("errors"))
            .and_then(Value::as_array_mut)
        {
            for error in errors {
                with_message(error, lang);
            }
        }
        Self {
            id: JobId(job.id),
            kind: job.kind.clone(),
            status: job.status.code().to_owned(),
            tenant_id: job.tenant_id.map(TenantId),
            created_by: job.created_by.map(UserId),
            progress: parse(&job.progress),
            result,
            last_error: job.last_error.clone(),
            attempts: job.attempts,
            created_at: job.created_at,
            updated_at: job.updated_at,
            finished_at: job.finished_at,
        }
    }
}

/// 202 Accepted with the queued `job` and its address (`Location`), as every operation run
/// as a job answers.
pub fn accepted(job: &Job) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let location = format!("/api/v1/jobs/{}", job.id);
    (
        axum::http::StatusCode::ACCEPTED,
        [(axum::http::header::LOCATION, location)],
        Json(JobOut::from_model(job, Lang::En)),
    )
        .into_response()
}

/// Adds the message of a reported row error (`{"code", "params": [[name, value]]}`).
pub fn with_message(error: &mut Value, lang: Lang) {
    let code = error["code"].as_str().unwrap_or("invalid").to_owned();
    let params: Vec<(String, String)> = error["params"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|pair| {
                    Some((
                        pair.get(0)?.as_str()?.to_owned(),
                        pair.get(1)?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let params: Vec<(&str, String)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let message = i18n::format(lang, &format!("error.{code}"), &params);
    if let Some(object) = error.as_object_mut() {
        object.insert("message".to_owned(), Value::String(message));
    }
}

/// Filters and paging of the job list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// Jobs of this kind.
    kind: Option<String>,
    /// `queued`, `running`, `done` or `failed`.
    status: Option<String>,
    tenant_id: Option<i64>,
    /// `-id` (default, newest first) or `id`.
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

impl JobQuery {
    /// The store filter.
    pub fn filter(&self) -> Result<JobFilter, ApiError> {
        let status = match self.status.as_deref() {
            None => None,
            Some(s) => Some(JobStatus::parse(s).ok_or_else(|| {
                ApiError::invalid(&FieldError::new("status", "unknown_status").into())
            })?),
        };
        Ok(JobFilter {
            kind: self.kind.clone(),
            status,
            tenant_id: self.tenant_id.map(TenantId),
        })
    }
}

/// Lists the jobs the caller sees, newest first.
#[utoipa::path(get, path = "/jobs", tag = "jobs", security(("bearer" = [])), params(JobQuery),
    responses((status = 200, body = ListResponse<JobOut>), (status = 422, body = ErrorBody)))]
async fn list_jobs(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<JobQuery>,
) -> Result<Json<ListResponse<JobOut>>, ApiError> {
    let page = page_request(
        &LIST,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let jobs = ops::job::list(&state.ctx(), &caller.actor, &query.filter()?, &page).await?;
    Ok(Json(ListResponse::from_page(jobs, |j| {
        JobOut::from_model(&j, Lang::En)
    })))
}

/// One job, with its progress and, once done, its result.
#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = JobOut), (status = 404, body = ErrorBody)))]
async fn get_job(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<JobOut>, ApiError> {
    let job = ops::job::get(&state.ctx(), &caller.actor, JobId(id)).await?;
    Ok(Json(JobOut::from_model(&job, Lang::En)))
}
