//! The scheduler: every tick, enqueues each recurring job for the current period with the
//! dedupe key `kind@period`, so that however many nodes tick, and however often, each
//! period's job is queued once, and a crash and restart queue nothing twice. The usage
//! watcher's period is the configuration's (`jobs.usage_watch_seconds`), and the scheduler
//! ticks at least that often; no pass is queued while one is unfinished. It also takes the
//! scheduled backups (`[backup]`), each period's once, on a task of its own.

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
    Recurring {
        kind: super::billing::KIND,
        every_seconds: super::billing::EVERY_SECONDS,
    },
    Recurring {
        kind: super::gateway::RECONCILE,
        every_seconds: super::gateway::RECONCILE_EVERY,
    },
    Recurring {
        kind: super::sms_send::KIND,
        every_seconds: super::sms_send::EVERY_SECONDS,
    },
    Recurring {
        kind: super::sms_send::NOTICES_KIND,
        every_seconds: super::sms_send::EVERY_SECONDS,
    },
    Recurring {
        kind: super::traffic::KIND,
        every_seconds: super::traffic::EVERY_SECONDS,
    },
];

const TICK: Duration = Duration::from_secs(30);

/// The scheduler loop; the usage watcher is queued every `usage_watch_seconds` and the
/// routers' health check every `router_health_seconds` (never when 0).
pub async fn run(
    state: AppState,
    usage_watch_seconds: u32,
    router_health_seconds: u32,
    billing_runs: bool,
    backup: Option<crate::backup::Schedule>,
    mut shutdown: watch::Receiver<bool>,
) {
    let backing_up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let health_every = i64::from(router_health_seconds);
    let usage_every = i64::from(usage_watch_seconds);
    let sleep = match usage_watch_seconds {
        0 => TICK,
        n => TICK.min(Duration::from_secs(u64::from(n))),
    };
    loop {
        if *shutdown.borrow() {
            return;
        }
        tick(&state, billing_runs).await;
        if let Some(schedule) = &backup {
            back_up(&state, schedule, &backing_up);
        }
        if usage_every > 0 {
            watch_usage(&state, usage_every).await;
        }
        if health_every > 0 {
            let kind = super::router_health::KIND;
            let period = state.clock.now().timestamp().div_euclid(health_every);
            let key = format!("{kind}@{health_every}@{period}");
            queue(&state, kind, key, serde_json::json!({ "period": period })).await;
        }
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Queues the usage watcher's pass of the current `every`-second period, unless a pass is
/// queued or running. The next is queued only after it ends: a pass longer than the
/// interval (every capped customer of a large ISP online) then delays the next rather than
/// piling passes up behind it, to run side by side on several workers and nodes, or one
/// after another ever later.
pub async fn watch_usage(state: &AppState, every: i64) {
    let kind = super::fair_usage::KIND;
    match store::job::unfinished(state.db.conn(), kind).await {
        Ok(false) => {}
        Ok(true) => return,
        Err(error) => {
            tracing::warn!(%error, "cannot tell whether the usage watcher is running");
            return;
        }
    }
    let period = state.clock.now().timestamp().div_euclid(every);
    let key = format!("{kind}@{every}@{period}");
    queue(state, kind, key, serde_json::json!({ "period": period })).await;
}

/// Takes the scheduled backup of the current period on a task of its own (a copy of a
/// large database takes minutes; the other recurring jobs do not wait), one at a time.
fn back_up(
    state: &AppState,
    schedule: &crate::backup::Schedule,
    busy: &std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::sync::atomic::Ordering;
    let now = state.clock.now();
    if schedule.file_at(now).exists() || busy.swap(true, Ordering::AcqRel) {
        return;
    }
    let (state, schedule, busy) = (state.clone(), schedule.clone(), std::sync::Arc::clone(busy));
    tokio::spawn(async move {
        match schedule.run(&state.db, now).await {
            Ok(Some(path)) => tracing::info!(path = %path.display(), "scheduled backup written"),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "the scheduled backup failed"),
        }
        busy.store(false, Ordering::Release);
    });
}

/// How often, at most, missing planner statistics are taken out of turn.
const MISSING_STATISTICS_EVERY: i64 = 600;

/// Enqueues the current period's job of each recurring kind (idempotent), and the
/// statistics job out of turn when the planner has none of the customer table (at most
/// once per [`MISSING_STATISTICS_EVERY`]). The billing runs only when `billing_runs`.
pub async fn tick(state: &AppState, billing_runs: bool) {
    let now = state.clock.now();
    for recurring in RECURRING {
        if recurring.kind == super::billing::KIND && !billing_runs {
            continue;
        }
        let period = now.timestamp().div_euclid(recurring.every_seconds);
        let key = format!("{}@{period}", recurring.kind);
        queue(
            state,
            recurring.kind,
            key,
            serde_json::json!({ "period": period }),
        )
        .await;
    }
    match state.db.statistics_missing().await {
        Ok(true) => {
            let period = now.timestamp().div_euclid(MISSING_STATISTICS_EVERY);
            let kind = super::statistics::KIND;
            let payload = serde_json::json!({ "period": period, "missing": true });
            queue(state, kind, format!("{kind}@missing@{period}"), payload).await;
        }
        Ok(false) => {}
        Err(error) => tracing::warn!(%error, "cannot tell whether planner statistics exist"),
    }
}

/// Queues a `kind` job now under `dedupe_key`, unless one with that key exists.
async fn queue(
    state: &AppState,
    kind: &'static str,
    dedupe_key: String,
    payload: serde_json::Value,
) {
    let now = state.clock.now();
    let job = NewJob {
        kind,
        payload,
        run_at: now,
        dedupe_key: Some(dedupe_key),
        max_attempts: 3,
        tenant_id: None,
        created_by: None,
    };
    match store::job::schedule(&state.db, job, now).await {
        Ok(Some(_)) => state.jobs_wake.notify_one(),
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, kind, "cannot schedule a job"),
    }
}
