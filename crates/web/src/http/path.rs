//! The `{id}` of a path: a positive 64-bit integer, or the resource is not found (404) —
//! a malformed id names nothing.

use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::error::ApiError;

/// A record id from the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<i64>::from_request_parts(parts, state).await {
            Ok(Path(id)) if id > 0 => Ok(Id(id)),
            _ => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found")),
        }
    }
}
