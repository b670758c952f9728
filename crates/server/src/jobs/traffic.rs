//! The traffic graphs' roll-up, every minute: the deltas the accounting appended become the
//! graphs' buckets (`ops::traffic::roll_up`). A run stops after [`BUDGET`] and leaves the
//! rest to the next, so a backlog (after an outage) never holds a worker for long.

use std::time::Duration;

use serde_json::{Value, json};

use super::JobError;
use web::AppState;

/// The job kind.
pub const KIND: &str = "traffic.roll_up";

/// How often it runs, seconds.
pub const EVERY_SECONDS: i64 = 60;

/// How long one run rolls up at most.
pub const BUDGET: Duration = Duration::from_secs(40);

/// Runs one roll-up.
pub async fn run(state: &AppState) -> Result<Value, JobError> {
    let done = ops::traffic::roll_up(&state.db, BUDGET)
        .await
        .map_err(super::from_op)?;
    Ok(json!({
        "deltas": done.deltas,
        "buckets": done.buckets,
        "batches": done.batches,
    }))
}
