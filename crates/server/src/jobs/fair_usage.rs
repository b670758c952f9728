//! The usage watcher, every minute (`ops::fair_usage`): volume caps and FUP steps reach the
//! sessions that cross them, and a new period lifts them.

use serde_json::{Value, json};

use super::JobError;
use web::AppState;

/// The job kind.
pub const KIND: &str = "usage.watch";

/// Runs one pass.
pub async fn run(state: &AppState) -> Result<Value, JobError> {
    let pass = ops::fair_usage::watch(&state.ctx())
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?;
    Ok(json!({
        "checked": pass.checked,
        "changed": pass.changed,
        "rated": pass.rated,
        "cut": pass.cut,
    }))
}
