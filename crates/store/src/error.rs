//! The store's errors. Database errors that mean something to a caller (a unique key taken,
//! a stale version, a missing row) become variants of their own; the rest stay `Db`.

use sea_orm::{DbErr, SqlErr};

use crate::crypto::CryptoError;

/// What a store call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist in the caller's scope.
    #[error("not found")]
    NotFound,
    /// A unique value is already taken; `field` names the input it came from.
    #[error("{field} is already taken")]
    Taken {
        /// The input field.
        field: &'static str,
    },
    /// The row changed since the caller read it (optimistic concurrency).
    #[error("the record changed since it was read")]
    VersionMismatch,
    /// The change is refused by a rule that needs the stored state to decide.
    #[error("{field}: {code}")]
    Refused {
        /// The input field.
        field: &'static str,
        /// A stable snake_case reason.
        code: &'static str,
    },
    /// A posting would take an account below its floor: `available` is what it may still
    /// spend.
    #[error("insufficient balance: {available} available")]
    InsufficientBalance {
        /// What the account may still spend.
        available: i64,
    },
    /// An idempotency key already posted another request.
    #[error("the idempotency key was used for another request")]
    KeyReused,
    /// A write transaction was committed without its audit entry.
    #[error("a write was committed without an audit entry")]
    Unaudited,
    /// A sealed secret could not be sealed or opened.
    #[error("secret: {0}")]
    Crypto(#[from] CryptoError),
    /// The database is too busy: another writer held SQLite's lock past the busy timeout.
    #[error("the database is busy")]
    Busy,
    /// A stored row does not hold what the schema promises.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database: {0}")]
    Db(DbErr),
}

impl From<DbErr> for StoreError {
    fn from(error: DbErr) -> Self {
        busy_or(error)
    }
}

/// Result alias of the store.
pub type StoreResult<T> = Result<T, StoreError>;

/// Maps a unique violation of one of `keys` (index name, or `table.column` as SQLite names
/// it) to [`StoreError::Taken`] for the matching field; other errors pass through.
pub(crate) fn on_unique(error: DbErr, keys: &[(&str, &'static str)]) -> StoreError {
    if let Some(SqlErr::UniqueConstraintViolation(message)) = error.sql_err() {
        for (key, field) in keys {
            if message.contains(key) {
                return StoreError::Taken { field };
            }
        }
    }
    StoreError::Db(error)
}

/// [`StoreError::Busy`] when SQLite gave up waiting for its lock (`SQLITE_BUSY`, "database
/// is locked"), else the error as it is.
pub(crate) fn busy_or(error: DbErr) -> StoreError {
    if error.to_string().contains("database is locked") {
        StoreError::Busy
    } else {
        StoreError::Db(error)
    }
}
