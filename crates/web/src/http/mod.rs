//! The JSON API's edge: bearer-token callers, the error contract, JSON bodies and query
//! strings that deny unknown fields, idempotency keys, versions (`If-Match`/`ETag`), the list
//! contract's paging, path ids and metrics. The routes are assembled in `crate::routes`.

pub mod auth;
pub mod client;
pub mod error;
pub mod idempotency;
pub mod json;
pub mod list;
pub mod metrics;
pub mod path;
pub mod query;
pub mod version;
