//! The billing runs, every five minutes (`ops::billing_run`): each tenant's postpaid
//! invoices, overdue suspensions and reminders once per local day (the first pass of the
//! day does them; a crash resumes from the run's cursor), and the expiry pass every time.

use serde_json::{Value, json};

use super::JobError;
use web::AppState;

/// The job kind.
pub const KIND: &str = "billing.run";

/// How often the scheduler queues it, in seconds.
pub const EVERY_SECONDS: i64 = 300;

/// Runs one pass over every active tenant.
pub async fn run(state: &AppState) -> Result<Value, JobError> {
    let reports = ops::billing_run::run(&state.ctx(), None, false)
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?;
    let done: Vec<Value> = reports
        .iter()
        .filter(|r| !r.already_done && (r.customers > 0 || r.notices > 0))
        .map(|r| json!(r))
        .collect();
    Ok(json!({ "runs": reports.len(), "worked": done }))
}
