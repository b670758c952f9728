//! A job worker: claims the next due job of its lane, runs it, and records the outcome;
//! sleeps until woken (a job was queued on this node) or until the poll interval passes.

use std::time::Duration;

use chrono::TimeDelta;
use tokio::sync::watch;

use super::JobError;
use domain::ids::JobId;
use store::job::Lane;
use web::AppState;

/// How long a claim holds before another worker may take the job over.
const LEASE: TimeDelta = TimeDelta::minutes(10);

/// One worker.
pub struct Worker {
    /// Its name, which its claims carry.
    pub name: String,
    /// The jobs it takes.
    pub lane: Lane,
    /// How long it sleeps when nothing is due and nobody wakes it.
    pub poll: Duration,
}

/// The worker loop.
pub async fn run(
    state: AppState,
    enforce: netops::Settings,
    worker: Worker,
    mut shutdown: watch::Receiver<bool>,
) {
    let Worker { name, lane, poll } = worker;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let now = state.clock.now();
        match store::job::claim(&state.db, &name, lane, now, now + LEASE).await {
            Ok(Some(job)) => {
                // A wake-up is for one worker: passed on, another due job (one of
                // another lane, say) does not wait for the poll.
                state.jobs_wake.notify_one();
                let outcome = super::run(&state, &enforce, &job).await;
                record(&state, &job, outcome).await;
                continue;
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "cannot claim a job"),
        }
        tokio::select! {
            () = state.jobs_wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
            _ = shutdown.changed() => {}
        }
    }
}

async fn record(
    state: &AppState,
    job: &store::job::Job,
    outcome: Result<serde_json::Value, JobError>,
) {
    let now = state.clock.now();
    let id = JobId(job.id);
    let stored = match outcome {
        Ok(result) => {
            state.metrics.job(&job.kind, "done");
            store::job::complete(&state.db, id, result, now).await
        }
        Err(error) => {
            let retry = matches!(error, JobError::Retry(_)) && job.attempts < job.max_attempts;
            tracing::warn!(kind = %job.kind, id = job.id, attempt = job.attempts, %error, retry, "job failed");
            let retry_at = retry.then(|| now + backoff(job.attempts));
            state
                .metrics
                .job(&job.kind, if retry { "retry" } else { "failed" });
            store::job::fail(&state.db, id, &error.to_string(), retry_at, now).await
        }
    };
    if let Err(error) = stored {
        tracing::error!(%error, id = job.id, "cannot record a job's outcome");
    }
}

/// 10 s, 20 s, 40 s … doubling per attempt, at most an hour.
pub fn backoff(attempts: i32) -> TimeDelta {
    let exponent = u32::try_from(attempts.clamp(1, 16) - 1).unwrap_or(0);
    TimeDelta::seconds((10_i64 << exponent).min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps_at_an_hour() {
        assert_eq!(backoff(1), TimeDelta::seconds(10));
        assert_eq!(backoff(2), TimeDelta::seconds(20));
        assert_eq!(backoff(4), TimeDelta::seconds(80));
        assert_eq!(backoff(30), TimeDelta::seconds(3600));
    }
}
