//! The API's error answer: `{"error": {"code", "message", "fields"}}` with a stable
//! snake_case code, an English message from the catalog, and per-field errors for 422.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n::{self, Lang};
use domain::field::FieldErrors;
use ops::OpError;

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: Vec<FieldMessage>,
    retry_after: Option<u64>,
}

/// The JSON body of an error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code (`validation_failed`, `not_found`, ...).
    code: &'static str,
    /// English description.
    message: String,
    /// Per-field errors (422 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldMessage>,
}

/// One invalid field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldMessage {
    /// The input field (`email`, `rows[3].mobile`).
    field: String,
    /// Stable snake_case reason (`required`, `too_long`, ...).
    code: &'static str,
    /// English description.
    message: String,
}

impl ApiError {
    /// An error with a status and code; the message is the catalog's `api.<code>`.
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        Self {
            status,
            code,
            message: i18n::text(Lang::En, &format!("api.{code}")).to_owned(),
            fields: Vec::new(),
            retry_after: None,
        }
    }

    /// A 400 for a request the API cannot read, with a message saying why.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::new(StatusCode::BAD_REQUEST, code)
        }
    }

    /// A 422 with field errors.
    pub fn invalid(errors: &FieldErrors) -> Self {
        let fields = errors
            .0
            .iter()
            .map(|e| FieldMessage {
                field: e.field.clone(),
                code: e.code,
                message: i18n::format(Lang::En, &format!("error.{}", e.code), &e.params),
            })
            .collect();
        Self {
            fields,
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<OpError> for ApiError {
    fn from(error: OpError) -> Self {
        match error {
            OpError::Invalid(fields) => ApiError::invalid(&fields),
            OpError::Unauthenticated(code) => ApiError::new(StatusCode::UNAUTHORIZED, code),
            OpError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found"),
            OpError::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "forbidden"),
            OpError::VersionMismatch => {
                ApiError::new(StatusCode::PRECONDITION_FAILED, "version_mismatch")
            }
            OpError::TooMany(seconds) => ApiError {
                retry_after: Some(seconds.max(1)),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
            },
            OpError::Busy => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy"),
            OpError::InsufficientBalance { available } => ApiError {
                message: i18n::format(
                    Lang::En,
                    "api.insufficient_balance",
                    &[("available", available.to_string())],
                ),
                ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "insufficient_balance")
            },
            OpError::KeyReused => ApiError::new(StatusCode::CONFLICT, "idempotency_key_reused"),
            OpError::Internal(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<domain::field::FieldError> for ApiError {
    fn from(error: domain::field::FieldError) -> Self {
        ApiError::invalid(&FieldErrors::one(error))
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::invalid(&errors)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after;
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                fields: self.fields,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
