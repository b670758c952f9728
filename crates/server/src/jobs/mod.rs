//! Background jobs (design.md §6): the workers that claim and run queued jobs, the
//! scheduler that enqueues recurring ones once per period, and the handlers by kind.
//!
//! A handler does one unit of work and returns its result as JSON; an error is retried with
//! exponential backoff until the job's attempts are used up. Workers and the scheduler stop
//! when the server shuts down, after finishing the job in hand.

mod billing;
mod converge;
mod enforce;
mod fair_usage;
mod gateway;
mod housekeeping;
mod import;
mod package_rates;
mod readdress;
mod router_health;
mod router_import;
mod router_migrate;
mod router_pools;
mod router_probe;
mod router_provision;
mod scheduler;
mod sms_send;
mod statistics;
mod traffic;
mod vpn_sync;
mod worker;

use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use store::job::Job;
use web::AppState;

pub use scheduler::{RECURRING, tick, watch_usage};

/// Why a job failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth retrying later.
    #[error("{0}")]
    Retry(String),
    /// Will never succeed; give up now.
    #[error("{0}")]
    Permanent(String),
}

impl From<store::StoreError> for JobError {
    fn from(error: store::StoreError) -> Self {
        JobError::Retry(error.to_string())
    }
}

/// A failure that will never succeed, from its reason.
fn permanent(error: impl std::fmt::Display) -> JobError {
    JobError::Permanent(error.to_string())
}

/// An operation's failure as a job's: our side breaking (the database, a busy write) is
/// worth another attempt; a refusal is not.
fn from_op(error: ops::OpError) -> JobError {
    match error {
        ops::OpError::Internal(_) | ops::OpError::Busy => JobError::Retry(error.to_string()),
        other => permanent(other),
    }
}

/// A router operation's job as it runs: what it was asked (its payload), who asked (acting
/// with that user's rights as they are now), and the router, which that user may still
/// provision. `router_of` names the router in the payload.
struct RouterJob<T> {
    request: T,
    author: store::Author,
    router: store::network::Router,
}

impl<T: serde::de::DeserializeOwned> RouterJob<T> {
    async fn read(
        state: &AppState,
        job: &Job,
        router_of: impl Fn(&T) -> Option<i64>,
    ) -> Result<Self, JobError> {
        let request: T = serde_json::from_str(&job.payload)
            .map_err(|e| permanent(format!("bad payload: {e}")))?;
        let router_id = router_of(&request).ok_or_else(|| permanent("bad payload: no router"))?;
        let asked_by = job
            .created_by
            .ok_or_else(|| permanent("nobody asked for this operation"))?;
        let ctx = state.ctx();
        let (actor, author) = ops::auth::acting_user(&ctx, domain::ids::UserId(asked_by))
            .await
            .map_err(|e| permanent(format!("the user who asked cannot act: {e}")))?;
        let router = ops::provision::provisionable(&ctx, &actor, router_id)
            .await
            .map_err(from_op)?;
        Ok(RouterJob {
            request,
            author,
            router,
        })
    }
}

/// Applies `steps` to the router `client` is logged in to, rolling back what it applied when
/// a step fails (reconnecting when the connection is gone); `record` keeps the steps applied
/// and the outcome. A failed step fails the job, saying whether the router is as it was.
async fn apply_planned<F, Fut>(
    state: &AppState,
    enforce: &netops::Settings,
    router: &store::network::Router,
    client: routeros::Client,
    steps: &[domain::network::provision::Step],
    record: F,
) -> Result<Value, JobError>
where
    F: FnOnce(netops::provision::Applied, Value) -> Fut,
    Fut: std::future::Future<Output = Result<(), ops::OpError>>,
{
    let reconnect = || async {
        netops::router::connect(&state.db, router, enforce.api_timeout)
            .await
            .map_err(|e| e.to_string())
    };
    let applied = netops::provision::apply(client, steps, reconnect).await;
    let outcome = serde_json::to_value(&applied).map_err(permanent)?;
    record(applied.clone(), outcome.clone())
        .await
        .map_err(from_op)?;
    if let Some((step, error)) = &applied.failed {
        let state_of = if applied.rolled_back() {
            "every step applied was undone"
        } else {
            "some undos failed: see the audit log"
        };
        return Err(permanent(format!(
            "step {} of {} ({}) failed: {error}; {state_of}",
            step + 1,
            steps.len(),
            steps[*step].menu
        )));
    }
    Ok(outcome)
}

/// Runs one job by its kind.
async fn run(state: &AppState, enforce: &netops::Settings, job: &Job) -> Result<Value, JobError> {
    match job.kind.as_str() {
        billing::KIND => billing::run(state).await,
        gateway::EVENT => gateway::event(state, job).await,
        gateway::RECONCILE => gateway::reconcile(state).await,
        enforce::KIND | enforce::ONE_KIND => enforce::run(state, enforce, job).await,
        fair_usage::KIND => fair_usage::run(state).await,
        housekeeping::KIND => housekeeping::run(state).await,
        import::KIND => import::run(state, job).await,
        converge::KIND => converge::run(state, job).await,
        package_rates::KIND => package_rates::run(state, job).await,
        readdress::KIND => readdress::run(state, job).await,
        router_health::KIND => router_health::run(state, enforce, job).await,
        router_import::KIND => router_import::run(state, job).await,
        router_migrate::KIND => router_migrate::run(state, enforce, job).await,
        router_migrate::ROLLBACK_KIND => router_migrate::rollback(state, enforce, job).await,
        router_pools::KIND => router_pools::run(state, enforce, job).await,
        vpn_sync::KIND => vpn_sync::run(state, enforce, job).await,
        router_probe::KIND => router_probe::run(state, job).await,
        router_provision::KIND => router_provision::run(state, enforce, job).await,
        router_provision::ROLLBACK_KIND => router_provision::rollback(state, enforce, job).await,
        statistics::KIND => statistics::run(state).await,
        traffic::KIND => traffic::run(state).await,
        sms_send::KIND => sms_send::run(state).await,
        sms_send::NOTICES_KIND => sms_send::notices(state).await,
        other => Err(JobError::Permanent(format!(
            "no handler for job kind {other}"
        ))),
    }
}

/// The kinds of the express lane: short work someone is waiting for at a screen (a
/// sign-in code at a captive portal, one customer's sessions ended). One worker takes only
/// these, so a router's long provisioning or a billing run never stands in front of them;
/// the common workers take them too.
pub const EXPRESS: &[&str] = &[sms_send::KIND, enforce::ONE_KIND];

/// Starts the configured number of workers, one more on the express lane ([`EXPRESS`]),
/// and the scheduler.
pub fn start(
    state: AppState,
    config: &crate::config::Jobs,
    enforce: netops::Settings,
    backup: Option<crate::backup::Schedule>,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    let workers = config.workers;
    if workers == 0 {
        return tasks;
    }
    let poll = Duration::from_secs(u64::from(config.poll_seconds.max(1)));
    let lanes = (0..workers)
        .map(|n| (n.to_string(), store::job::Lane::Any))
        .chain([("express".to_owned(), store::job::Lane::Only(EXPRESS))]);
    for (n, lane) in lanes {
        let name = format!("{}-{}-{n}", hostname(), std::process::id());
        tasks.push(tokio::spawn(worker::run(
            state.clone(),
            enforce.clone(),
            worker::Worker { name, lane, poll },
            shutdown.clone(),
        )));
    }
    tasks.push(tokio::spawn(scheduler::run(
        state,
        config.usage_watch_seconds,
        config.router_health_seconds,
        config.billing_runs,
        backup,
        shutdown,
    )));
    tasks
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map_or_else(|_| "node".to_owned(), |h| h.trim().to_owned())
}
