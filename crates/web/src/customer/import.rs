//! `POST /api/v1/customers/import`: the CSV import over the API. The import itself (columns,
//! validation, batches) is `ops::customer::import`; this handler reads the body within its
//! limit and reports each refused row with its message.

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::query::Query;
use crate::i18n::{self, Lang};
use crate::state::AppState;
use ops::customer::import::{ImportOptions, ImportReport, MAX_BYTES, RowError, import};

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
}

/// One invalid field of one row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowErrorOut {
    /// The line in the file (the header is line 1).
    pub line: usize,
    /// The column.
    pub field: String,
    /// A stable snake_case reason.
    pub code: String,
    /// English description.
    pub message: String,
}

impl RowErrorOut {
    /// A refused row as the API tells it, with its message in `lang`.
    pub fn new(error: &RowError, lang: Lang) -> Self {
        Self {
            line: error.line,
            field: error.field.clone(),
            code: error.code.clone(),
            message: i18n::format(lang, &format!("error.{}", error.code), &error.params),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReportOut {
    /// Data rows read.
    pub rows: usize,
    /// Customers created.
    pub created: usize,
    /// Rows refused, with their errors.
    pub errors: Vec<RowErrorOut>,
    /// True when nothing was meant to be created.
    pub dry_run: bool,
}

impl ImportReportOut {
    /// The report as the API tells it.
    pub fn new(report: &ImportReport, lang: Lang) -> Self {
        Self {
            rows: report.rows,
            created: report.created,
            errors: report
                .errors
                .iter()
                .map(|e| RowErrorOut::new(e, lang))
                .collect(),
            dry_run: report.dry_run,
        }
    }
}

/// Imports customers from a CSV body (see the module documentation for the columns).
#[utoipa::path(post, path = "/customers/import", tag = "customers", security(("bearer" = [])), params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReportOut), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(super) async fn import_customers(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<ImportQuery>,
    body: Body,
) -> Result<Json<ImportReportOut>, ApiError> {
    let bytes = to_bytes(body, MAX_BYTES)
        .await
        .map_err(|_| ApiError::new(axum::http::StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"))?;
    let options = ImportOptions {
        tenant_id: query.tenant_id,
        dry_run: query.dry_run,
        all_or_nothing: query.all_or_nothing,
    };
    let report = import(&state.ctx(), &caller.actor, caller.author, &bytes, &options).await?;
    Ok(Json(ImportReportOut::new(&report, Lang::En)))
}
