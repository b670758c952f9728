//! The query planner's statistics, kept current by lastmile itself: refreshed every six
//! hours (`db.statistics`) and at the end of any job that wrote many customers (an import,
//! a convergence), so that a bulk change never leaves the planner judging by the old shape
//! of the data until the engine's own daemon comes around (PostgreSQL's autovacuum), or
//! forever (SQLite has none).

use serde_json::{Value, json};

use super::JobError;
use web::AppState;

/// The job kind.
pub const KIND: &str = "db.statistics";

/// Rows a job must have written for its end to refresh the statistics.
pub const BULK: u64 = 1_000;

/// Runs one refresh.
pub async fn run(state: &AppState) -> Result<Value, JobError> {
    let took = state.db.refresh_statistics().await?;
    Ok(json!({ "ms": took.as_millis() }))
}

/// After a job that wrote `rows` customers: refreshes the statistics if that is a bulk
/// change. A failure is logged, not the job's: its rows are written.
pub async fn after_bulk(state: &AppState, rows: u64) {
    if rows < BULK {
        return;
    }
    match state.db.refresh_statistics().await {
        Ok(took) => tracing::info!(rows, ms = took.as_millis(), "planner statistics refreshed"),
        Err(error) => tracing::warn!(%error, "cannot refresh the planner statistics"),
    }
}
