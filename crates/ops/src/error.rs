//! The errors of lastmile's operations ([`OpError`]), shared by the API and the panel. Each
//! says what the caller did wrong (invalid input, not found, forbidden, stale version) or
//! that something broke on our side; internal causes are logged, never shown.

use domain::access::{Denied, PlacementError};
use domain::field::{FieldError, FieldErrors};
use store::StoreError;

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// The input is invalid (HTTP 422), field by field.
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// The caller did not prove who it is (HTTP 401); the code says what is missing
    /// (`unauthenticated`, `invalid_credentials`, `totp_required`, `invalid_totp`,
    /// `account_disabled`).
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    /// The target does not exist, or not for this caller (HTTP 404).
    #[error("not found")]
    NotFound,
    /// The caller sees the target but may not do this (HTTP 403).
    #[error("forbidden")]
    Forbidden,
    /// The target changed since the caller read it (HTTP 412).
    #[error("the record changed since it was read")]
    VersionMismatch,
    /// The collector's balance cannot pay for this (HTTP 422 `insufficient_balance`);
    /// `available` is what it may still spend.
    #[error("insufficient balance")]
    InsufficientBalance {
        /// What the collector may still spend.
        available: i64,
    },
    /// The idempotency key already made another request (HTTP 409).
    #[error("idempotency key reused")]
    KeyReused,
    /// Too many attempts; try again after this many seconds (HTTP 429).
    #[error("too many attempts")]
    TooMany(u64),
    /// The server is too busy for this now (HTTP 503).
    #[error("busy")]
    Busy,
    /// Something broke on our side (HTTP 500); the cause is logged.
    #[error("internal error: {0}")]
    Internal(String),
}

impl OpError {
    /// One invalid field.
    pub fn field(field: &str, code: &'static str) -> Self {
        OpError::Invalid(FieldErrors::one(FieldError::new(field, code)))
    }
}

impl From<FieldErrors> for OpError {
    fn from(errors: FieldErrors) -> Self {
        OpError::Invalid(errors)
    }
}

impl From<FieldError> for OpError {
    fn from(error: FieldError) -> Self {
        OpError::Invalid(FieldErrors::one(error))
    }
}

impl From<Denied> for OpError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::NotFound => OpError::NotFound,
            Denied::Forbidden => OpError::Forbidden,
        }
    }
}

impl From<PlacementError> for OpError {
    fn from(error: PlacementError) -> Self {
        match error {
            PlacementError::Invalid(fields) => OpError::Invalid(fields),
            PlacementError::Forbidden => OpError::Forbidden,
        }
    }
}

impl From<StoreError> for OpError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => OpError::NotFound,
            StoreError::Taken { field } => OpError::field(field, "taken"),
            StoreError::VersionMismatch => OpError::VersionMismatch,
            StoreError::Refused { field, code } => OpError::field(field, code),
            StoreError::Busy => OpError::Busy,
            StoreError::InsufficientBalance { available } => {
                OpError::InsufficientBalance { available }
            }
            StoreError::KeyReused => OpError::KeyReused,
            other => {
                tracing::error!(error = %other, "store error");
                OpError::Internal(other.to_string())
            }
        }
    }
}
