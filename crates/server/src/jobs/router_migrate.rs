//! `router.migrate`: moving a router's PPP customers from its local secrets to lastmile's
//! RADIUS, as the user who asked and with that user's rights as they are now. It checks the
//! router sends PPP logins to lastmile (`netops::migrate::preflight`), reads its secrets and
//! sessions, chooses what lastmile takes over (`domain::network::migration`), records the
//! migration, and migrates batch by batch, the canary's return through RADIUS being the test
//! login; a batch that does not come back enables again every secret disabled. The result
//! says what was taken, left (and why), dropped and seen back. The job keeps its claim while
//! it moves (`store::job::hold`): a large router's migration outlasts a claim.

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::{JobError, RouterJob, from_op, permanent};
use domain::ids::JobId;
use domain::network::migration::{self, LocalSecret};
use netops::migrate::{Progress, Watch};
use ops::router_migration::MigrationRequest;
use store::job::Job;
use store::network::Router;
use web::AppState;

pub use ops::router_migration::{KIND, ROLLBACK_KIND};

/// How long each sign of progress extends the job's claim.
const HOLD: TimeDelta = TimeDelta::minutes(10);

/// Names listed in a result at most, per reason.
const LISTED: usize = 100;

/// What the migration reads and tells through lastmile's database and the router's API.
struct Lastmile<'a> {
    state: &'a AppState,
    enforce: &'a netops::Settings,
    router: &'a Router,
    job: JobId,
    migration: i64,
}

impl Watch for Lastmile<'_> {
    async fn reconnected(
        &mut self,
        customers: &[i64],
        since: DateTime<Utc>,
    ) -> Result<HashSet<i64>, String> {
        let open = store::online::open_of(self.state.db.conn(), customers)
            .await
            .map_err(|e| e.to_string())?;
        Ok(open
            .into_iter()
            .filter(|s| s.nas_ip == self.router.nas_address)
            .filter(|s| s.started_at.is_some_and(|at| at >= since))
            .filter_map(|s| s.customer_id)
            .collect())
    }

    async fn observe(&mut self, progress: Progress<'_>) -> Result<(), String> {
        store::network::note_disabled(self.state.db.conn(), self.migration, progress.disabled)
            .await
            .map_err(|e| format!("cannot note the secrets disabled: {e}"))?;
        let now = self.state.clock.now();
        let shown = json!({ "phase": progress.phase, "batch": progress.batch,
                            "batches": progress.batches, "disabled": progress.disabled.len() });
        if let Err(error) = store::job::hold(&self.state.db, self.job, shown, now, now + HOLD).await
        {
            tracing::warn!(%error, job = self.job.0, "cannot record the migration's progress");
        }
        Ok(())
    }

    fn now(&self) -> DateTime<Utc> {
        self.state.clock.now()
    }

    async fn reconnect(&mut self) -> Result<routeros::Client, String> {
        netops::router::connect(&self.state.db, self.router, self.enforce.api_timeout)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Runs one migration.
pub async fn run(
    state: &AppState,
    enforce: &netops::Settings,
    job: &Job,
) -> Result<Value, JobError> {
    let RouterJob {
        request,
        author,
        router,
    } = RouterJob::<MigrationRequest>::read(state, job, |r| Some(r.router_id)).await?;
    let ctx = state.ctx();
    let client = netops::router::connect(&state.db, &router, enforce.api_timeout)
        .await
        .map_err(permanent)?;
    netops::migrate::preflight(&client)
        .await
        .map_err(permanent)?;
    let read = netops::migrate::read(&client).await.map_err(permanent)?;
    let names: Vec<String> = read.secrets.iter().map(|(_, s)| s.name.clone()).collect();
    let held = ops::router_migration::held(&ctx, &router, &names)
        .await
        .map_err(from_op)?;
    let secrets: Vec<LocalSecret> = read.secrets.iter().map(|(_, s)| s.clone()).collect();
    let choice = migration::choose(
        &secrets,
        |key| held.get(key).cloned(),
        |name| read.sessions.contains_key(name),
    );
    let left = json!({
        "already_disabled": choice.already_disabled,
        "not_ours": choice.not_ours.len(),
        "not_ours_names": first(&choice.not_ours),
        "password_differs": choice.password_differs.len(),
        "password_differs_names": first(&choice.password_differs),
    });
    let batches = match migration::batches(&choice.take, &request.pace) {
        Ok(batches) => batches,
        Err(refusal) => {
            client.close().await;
            return Err(permanent(format!("{refusal} (nothing was changed)")));
        }
    };
    let planned = json!({ "take": choice.take.len(), "batches": batches.len(), "left": left });
    let migration_id =
        ops::router_migration::begin(&ctx, author.clone(), &router, &request, planned)
            .await
            .map_err(from_op)?;
    let mut watch = Lastmile {
        state,
        enforce,
        router: &router,
        job: JobId(job.id),
        migration: migration_id,
    };
    let outcome =
        netops::migrate::migrate(client, &read, &batches, &request.pace, &mut watch).await;
    let rolled_back = matches!(outcome.rolled_back, Some(Ok(())));
    let shown = serde_json::to_value(&outcome).map_err(permanent)?;
    ops::router_migration::finish(
        &state.ctx(),
        author,
        &router,
        migration_id,
        outcome.failed.is_none(),
        rolled_back,
        shown.clone(),
    )
    .await
    .map_err(from_op)?;
    if let Some(why) = &outcome.failed {
        let after = match &outcome.rolled_back {
            Some(Ok(())) | None => "every secret disabled was enabled again".to_owned(),
            Some(Err(e)) => format!(
                "enabling the secrets again failed ({e}): roll the migration back on request"
            ),
        };
        return Err(permanent(format!("{why}; {after}")));
    }
    Ok(json!({
        "router_id": router.id,
        "migration_id": migration_id,
        "taken": choice.take.len(),
        "left": left,
        "outcome": shown,
    }))
}

fn first(names: &[String]) -> &[String] {
    &names[..names.len().min(LISTED)]
}

/// Rolls back the latest migration of a router on request: every secret it disabled is
/// enabled again (found by name), and its customers log in locally from their next dial.
pub async fn rollback(
    state: &AppState,
    enforce: &netops::Settings,
    job: &Job,
) -> Result<Value, JobError> {
    let RouterJob {
        request,
        author,
        router,
    } = RouterJob::<Value>::read(state, job, |p| p["router_id"].as_i64()).await?;
    let migration_id = request["migration_id"]
        .as_i64()
        .ok_or_else(|| permanent("bad payload: no migration"))?;
    let ctx = state.ctx();
    let names = ops::router_migration::to_revert(&ctx, &router, migration_id)
        .await
        .map_err(from_op)?;
    let client = netops::router::connect(&state.db, &router, enforce.api_timeout)
        .await
        .map_err(permanent)?;
    let enabled = netops::migrate::enable(&client, &names).await;
    client.close().await;
    let enabled = enabled.map_err(permanent)?;
    ops::router_migration::reverted(&ctx, author, &router, migration_id, enabled)
        .await
        .map_err(from_op)?;
    Ok(json!({ "router_id": router.id, "migration_id": migration_id, "enabled": enabled }))
}
