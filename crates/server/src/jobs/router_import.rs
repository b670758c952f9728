//! `router.import`: reads a router's pools, PPP profiles and secrets (`netops::import`), keeps
//! the file of everything read (sealed: it holds passwords) before anything is written,
//! plans the import (`domain::network::import`) and, unless only the plan was asked for,
//! writes it (`ops::router_import::apply`), as the user who asked and with that user's
//! rights as they are now. Progress is the phase, then customers done of all; the result is
//! the plan, the file's id and, when written, what was created and refused, by item.
//!
//! A run cut short runs again from the start: the plan then finds the customers it created
//! on this router as already imported and the pools as unchanged, so nothing is made twice.

use std::time::Duration;

use serde_json::{Value, json};

use super::{JobError, from_op, permanent};
use domain::ids::{JobId, UserId};
use ops::customer::import::Progress;
use ops::router_import::ImportRequest;
use store::Db;
use store::job::Job;
use web::AppState;

pub use ops::router_import::KIND;

/// How long each step of the router's API may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Progress written to the job row.
struct JobProgress<'a> {
    db: &'a Db,
    job: JobId,
    clock: &'a ops::clock::Clock,
}

impl JobProgress<'_> {
    async fn phase(&self, phase: &str) {
        self.write(json!({ "phase": phase })).await;
    }

    async fn write(&self, progress: Value) {
        if let Err(error) =
            store::job::set_progress(self.db, self.job, progress, self.clock.now()).await
        {
            tracing::warn!(%error, job = self.job.0, "cannot record an import's progress");
        }
    }
}

impl Progress for JobProgress<'_> {
    async fn report(&mut self, done: usize, total: usize) {
        self.write(json!({ "phase": "customers", "done": done, "total": total }))
            .await;
    }
}

/// Runs one import (or its plan).
pub async fn run(state: &AppState, job: &Job) -> Result<Value, JobError> {
    let request: ImportRequest =
        serde_json::from_str(&job.payload).map_err(|e| permanent(format!("bad payload: {e}")))?;
    let asked_by = job
        .created_by
        .ok_or_else(|| permanent("nobody asked for this import"))?;
    let ctx = state.ctx();
    let (actor, author) = ops::auth::acting_user(&ctx, UserId(asked_by))
        .await
        .map_err(|e| permanent(format!("the user who asked cannot act: {e}")))?;
    let router = ops::router_import::importable(&ctx, &actor, request.router_id)
        .await
        .map_err(from_op)?;
    let progress = JobProgress {
        db: &state.db,
        job: JobId(job.id),
        clock: &state.clock,
    };
    progress.phase("reading").await;
    let client = netops::router::connect(&state.db, &router, TIMEOUT)
        .await
        .map_err(permanent)?;
    let read = netops::import::read(&client).await;
    client.close().await;
    let snapshot = read.map_err(permanent)?;

    // The file of everything read, kept before anything is written.
    let file =
        ops::router_import::keep_snapshot(&ctx, author.clone(), &router, JobId(job.id), &snapshot)
            .await
            .map_err(from_op)?;

    progress.phase("planning").await;
    let existing = ops::router_import::existing(&ctx, &router, &snapshot)
        .await
        .map_err(from_op)?;
    let plan = domain::network::import::plan(&snapshot, &existing, &request.choices);
    let mut result = json!({
        "router_id": router.id,
        "dry_run": request.dry_run,
        "file": file,
        "plan": plan,
    });
    if request.dry_run {
        return Ok(result);
    }
    let mut progress = progress;
    let applied = ops::router_import::apply(
        &ctx,
        &actor,
        author,
        &router,
        &snapshot,
        &plan,
        request.first_bill,
        &mut progress,
    )
    .await
    .map_err(from_op)?;
    super::statistics::after_bulk(state, applied.customers.created as u64).await;
    result["applied"] = serde_json::to_value(&applied).map_err(permanent)?;
    Ok(result)
}
