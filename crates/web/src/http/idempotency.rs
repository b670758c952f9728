//! `Idempotency-Key` on API POSTs: the same key with the same body gets the same answer,
//! replayed from the database without running the handler again; the same key with another
//! body is refused (409 `idempotency_key_reused`), and a repeat while the first request still
//! runs is told to wait (409 `idempotency_key_in_flight`). Keys are kept per user for a day. Answers of 5xx are not kept, so a retry after a
//! failure on our side runs again.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::state::AppState;
use ops::auth::token;
use store::idempotency::Claim;

/// The largest body an idempotent POST may carry: the API's limit, or the import's for the
/// one route that takes files.
fn body_limit(path: &str) -> usize {
    if path == IMPORT_PATH {
        ops::customer::import::MAX_BYTES
    } else {
        1024 * 1024
    }
}

/// The route that takes a CSV file.
const IMPORT_PATH: &str = "/api/v1/customers/import";

/// The middleware.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get("idempotency-key").cloned() else {
        return next.run(request).await;
    };
    let key = match key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => {
            k.to_owned()
        }
        _ => {
            return ApiError::bad_request(
                "bad_idempotency_key",
                "Idempotency-Key must be 1 to 255 printable ASCII characters",
            )
            .into_response();
        }
    };
    // Keys belong to a user; a request without a valid token goes on to be refused by its
    // handler.
    let now = state.clock.now();
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| token::hash(t.trim()));
    let user = match bearer {
        Some(hash) => match store::auth::find_token(&state.db, &hash, now).await {
            Ok(Some((token, _))) => domain::ids::UserId(token.user_id),
            _ => return next.run(request).await,
        },
        None => return next.run(request).await,
    };

    let (parts, body) = request.into_parts();
    let bytes = match to_bytes(body, body_limit(parts.uri.path())).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large").into_response();
        }
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str());
    hasher.update([0]);
    hasher.update(parts.uri.path());
    hasher.update([0]);
    hasher.update(&bytes);
    let request_hash = hex::encode(hasher.finalize());

    let reservation = match store::idempotency::claim(&state.db, user, &key, &request_hash, now)
        .await
    {
        Ok(Claim::Reserved(id)) => id,
        Ok(Claim::Replay { status, body }) => return replay(status, body),
        Ok(Claim::Mismatch) => {
            return ApiError::new(StatusCode::CONFLICT, "idempotency_key_reused").into_response();
        }
        Ok(Claim::InFlight) => {
            return ApiError::new(StatusCode::CONFLICT, "idempotency_key_in_flight")
                .into_response();
        }
        Err(error) => {
            tracing::error!(%error, "idempotency claim failed");
            return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal").into_response();
        }
    };

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let stored = if parts.status.is_server_error() {
        store::idempotency::release(&state.db, reservation).await
    } else {
        let text = String::from_utf8_lossy(&bytes);
        store::idempotency::finish(&state.db, reservation, parts.status.as_u16(), &text).await
    };
    if let Err(error) = stored {
        tracing::error!(%error, "cannot store an idempotent answer");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
