//! The scheduler: every tick, enqueues each recurring job for the current period with the
//! dedupe key `kind@period`, so that however many nodes tick, and however often, each
//! period's job is queued once, and a crash and restart queue nothing twice.

use std::time::Duration;

use tokio::sync::watch;

use store::NewJob;
use web::AppState;

/// A recurring job: its kind and period in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Recurring {
    /// The job kind.
    pub kind: &'static str,
    /// Its period.
    pub every_seconds: i64,
}

/// The recurring jobs.
pub const RECURRING: &[Recurring] = &[
    Recurring {
        kind: super::housekeeping::KIND,
        every_seconds: 3600,
    },
    Recurring {
        kind: super::statistics::KIND,
        every_seconds: 6 * 3600,
    },
];

const TICK: Duration = Duration::from_secs(30);

/// The scheduler loop.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        tick(&state).await;
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Enqueues the current period's job of each recurring kind (idempotent).
pub async fn tick(state: &AppState) {
    let now = state.clock.now();
    for recurring in RECURRING {
        let period = now.timestamp().div_euclid(recurring.every_seconds);
        let job = NewJob {
            kind: recurring.kind,
            payload: serde_json::json!({ "period": period }),
            run_at: now,
            dedupe_key: Some(format!("{}@{period}", recurring.kind)),
            max_attempts: 3,
            tenant_id: None,
            created_by: None,
        };
        match store::job::schedule(&state.db, job, now).await {
            Ok(Some(_)) => state.jobs_wake.notify_one(),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, kind = recurring.kind, "cannot schedule a job"),
        }
    }
}
