//! `package.rates` (`ops::rates`): a package's new speed reaches the live sessions of its
//! online customers, after the change committed.

use serde_json::{Value, json};

use super::JobError;
use store::job::Job;
use web::AppState;

pub use ops::rates::KIND;

/// Runs one job.
pub async fn run(state: &AppState, job: &Job) -> Result<Value, JobError> {
    let rates: ops::rates::Rates = serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
    let reached = ops::rates::reach(&state.ctx(), &rates)
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?;
    tracing::info!(job = job.id, change = %rates.change, checked = reached.checked, rated = reached.rated, "package rate sent to live sessions");
    Ok(json!({
        "change": rates.change,
        "checked": reached.checked,
        "rated": reached.rated,
    }))
}
