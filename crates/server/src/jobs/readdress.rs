//! `customers.readdress`: a pool's customers moved to another pool, or a package's switched
//! between static and dynamic addresses (`ops::readdress`), as the user who asked. For a
//! pool move the packages giving addresses from the old pool are pointed at the new one
//! first; then each pass walks its customers batch by batch, a transaction each, holding
//! the job's claim as it goes. The result counts what each pass readdressed and the live
//! sessions ended so their customers reconnect with the new address.

use chrono::TimeDelta;
use serde_json::{Value, json};

use super::{JobError, from_op, permanent};
use domain::ids::{JobId, UserId};
use ops::readdress::Readdressing;
use store::job::Job;
use web::AppState;

pub use ops::readdress::KIND;

/// How long each batch extends the job's claim.
const HOLD: TimeDelta = TimeDelta::minutes(10);

/// Runs one readdressing.
pub async fn run(state: &AppState, job: &Job) -> Result<Value, JobError> {
    let request: Readdressing =
        serde_json::from_str(&job.payload).map_err(|e| permanent(format!("bad payload: {e}")))?;
    let asked_by = job
        .created_by
        .ok_or_else(|| permanent("nobody asked for this readdressing"))?;
    let (_, author) = ops::auth::acting_user(&state.ctx(), UserId(asked_by))
        .await
        .map_err(|e| permanent(format!("the user who asked cannot act: {e}")))?;
    let passes = &request.passes;
    let mut repointed = 0;
    if let Some((packages, to)) = &request.repoint {
        let ctx = state.ctx();
        repointed =
            ops::readdress::repoint(&ctx, author.clone(), request.tenant_id, (packages, *to))
                .await
                .map_err(from_op)?;
    }
    let mut done = Vec::with_capacity(passes.len());
    for (n, pass) in passes.iter().enumerate() {
        let (mut after, mut readdressed, mut ended) = (0i64, 0usize, 0usize);
        loop {
            let ctx = state.ctx();
            let Some(batch) =
                ops::readdress::step(&ctx, author.clone(), request.tenant_id, pass, after)
                    .await
                    .map_err(from_op)?
            else {
                break;
            };
            after = batch.last;
            readdressed += batch.readdressed;
            ended += batch.ended;
            let now = state.clock.now();
            let progress = json!({ "pass": n + 1, "passes": passes.len(),
                                   "readdressed": readdressed, "ended": ended });
            if let Err(error) =
                store::job::hold(&state.db, JobId(job.id), progress, now, now + HOLD).await
            {
                tracing::warn!(%error, job = job.id, "cannot record the readdressing's progress");
            }
        }
        done.push(json!({ "pass": pass, "readdressed": readdressed, "ended": ended }));
    }
    Ok(json!({ "tenant_id": request.tenant_id, "repointed": repointed, "passes": done }))
}
