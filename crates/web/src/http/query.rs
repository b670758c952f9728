//! Query strings at the edge: unknown parameters and values of the wrong type are a 422
//! naming the problem, in the API's error format.

use axum::extract::{FromRequestParts, Query as AxumQuery};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use domain::field::{FieldError, FieldErrors};

/// A query string parsed into `T` (which denies unknown fields).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match AxumQuery::<T>::from_request_parts(parts, state).await {
            Ok(AxumQuery(value)) => Ok(Query(value)),
            Err(rejection) => {
                let text = rejection.body_text();
                let quoted = text.split('`').nth(1).unwrap_or("query").to_owned();
                let code = if text.contains("unknown field") {
                    "unknown_field"
                } else {
                    "wrong_type"
                };
                Err(ApiError::invalid(&FieldErrors::one(FieldError::new(
                    quoted, code,
                ))))
            }
        }
    }
}
