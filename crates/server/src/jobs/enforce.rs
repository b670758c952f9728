//! `session.enforce` (and `session.enforce.one`, one customer's, on the express lane):
//! climbs the enforcement ladder (`netops::enforce`) for each enforcement the job names, up
//! to `netops::Settings::job_concurrency` at once (each request through its router's gate). One the router asked to wait for makes the job
//! retry later (the others are not asked again: they are no longer pending).

use futures::StreamExt as _;
use serde_json::{Value, json};

use super::JobError;
use netops::enforce::Outcome;
use store::job::Job;
use web::AppState;

pub use store::enforcement::{KIND, ONE_KIND};

/// Runs one job.
pub async fn run(
    state: &AppState,
    settings: &netops::Settings,
    job: &Job,
) -> Result<Value, JobError> {
    let payload: Value = serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
    let ids: Vec<i64> = payload["ids"]
        .as_array()
        .ok_or_else(|| JobError::Permanent("bad payload: no ids".to_owned()))?
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    let clock = state.clock.clone();
    let now = move || clock.now();
    // Several at once, each as soon as a place is free: one router slow to answer (a lost
    // request waits out its timeout) holds only its own place, not the job's order. Each
    // request still waits at its router's gate.
    let mut outcomes: Vec<(i64, Result<Outcome, netops::enforce::EnforceError>)> =
        futures::stream::iter(ids)
            .map(|id| {
                let now = &now;
                async move { (id, netops::run(&state.db, settings, now, id).await) }
            })
            .buffer_unordered(settings.job_concurrency.max(1))
            .collect()
            .await;
    outcomes.sort_by_key(|(id, _)| *id);
    let mut results = Vec::with_capacity(outcomes.len());
    let mut later = false;
    for (id, outcome) in outcomes {
        let status = match outcome.map_err(|e| JobError::Retry(e.to_string()))? {
            Outcome::Finished(status) => status.as_str(),
            Outcome::Later => {
                later = true;
                "pending"
            }
        };
        results.push(json!({ "id": id, "status": status }));
    }
    if later {
        return Err(JobError::Retry(
            "a router is out of resources; trying again later".to_owned(),
        ));
    }
    Ok(json!({ "enforcements": results }))
}
