//! `radius.converge`: brings the FreeRADIUS rows of the customers a wide change reached
//! (a package's service, a pool's name, a tenant's suspension policy) in line with it,
//! after the change committed: batches of `store::customer::CONVERGE_BATCH` customers, each
//! its own short audited transaction, so no write waits long behind it. Progress is
//! customers done of all reached.
//!
//! Rewriting is idempotent: a run cut short runs again from the first customer, and a
//! change made meanwhile is written by its own transaction and kept by the rewrite, which
//! reads each customer as it stands.

use serde_json::{Value, json};

use super::JobError;
use domain::ids::JobId;
use store::Author;
use store::customer::Converge;
use store::job::Job;
use web::AppState;

pub use store::customer::CONVERGE_KIND as KIND;

/// Runs one convergence job.
pub async fn run(state: &AppState, job: &Job) -> Result<Value, JobError> {
    let converge: Converge = serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
    let total = store::customer::reached(state.db.conn(), &converge.reach).await?;
    let mut done = 0_u64;
    let mut after = 0_i64;
    loop {
        let mut w = state
            .db
            .write(Author::system("system:converge"), state.clock.now())
            .await?;
        let Some((last, rewritten)) =
            store::customer::converge_batch(&mut w, &converge, after).await?
        else {
            break;
        };
        w.commit().await?;
        done += rewritten;
        after = last;
        let progress = json!({"done": done, "total": total});
        if let Err(error) =
            store::job::set_progress(&state.db, JobId(job.id), progress, state.clock.now()).await
        {
            tracing::warn!(%error, job = job.id, "cannot record a convergence's progress");
        }
    }
    tracing::info!(job = job.id, change = %converge.change, customers = done, "rows converged");
    super::statistics::after_bulk(state, done).await;
    Ok(json!({"change": converge.change, "customers": done}))
}
