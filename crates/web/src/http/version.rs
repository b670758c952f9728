//! Optimistic concurrency on PATCH: the caller says which version it read, in `If-Match`
//! (`"3"`, `W/"3"` or `3`) or as a `version` field; a stale version is answered 412, a
//! missing one 428. Responses carry the current version as an `ETag`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// The version named in `If-Match`, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<i32>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = value.to_str().unwrap_or("").trim();
        let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
        text.parse::<i32>().map(|v| IfMatch(Some(v))).map_err(|_| {
            ApiError::bad_request(
                "bad_if_match",
                "If-Match must hold a version number, e.g. \"3\"",
            )
        })
    }
}

impl IfMatch {
    /// The version the change expects: from the header or the body (they must agree).
    pub fn resolve(self, body: Option<i32>) -> Result<i32, ApiError> {
        match (self.0, body) {
            (Some(a), Some(b)) if a != b => Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "version_mismatch",
            )),
            (Some(v), _) | (None, Some(v)) => Ok(v),
            (None, None) => Err(ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "version_required",
            )),
        }
    }
}

/// A JSON answer with an `ETag` of the record's version.
pub fn with_etag(version: i32, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}
