//! `customer.import`: runs a queued CSV import as the user who asked, reporting rows done
//! of all rows as the job's progress after each batch, and keeps the report (rows, created,
//! the refused rows with line, field and code) as its result. The file goes once the job is
//! done with it.
//!
//! A run cut short (the worker died, the database went away) runs again from the start:
//! the rows it had created are then reported as taken, never created twice.

use serde_json::{Value, json};

use super::JobError;
use domain::ids::{JobId, UserId};
use ops::OpError;
use ops::customer::import::Progress;
use ops::customer::import_job::ImportJob;
use store::Db;
use store::job::Job;
use web::AppState;

pub use ops::customer::import_job::KIND;

/// Progress written to the job row, at most once per batch.
struct JobProgress<'a> {
    db: &'a Db,
    job: JobId,
    clock: &'a ops::clock::Clock,
}

impl Progress for JobProgress<'_> {
    async fn report(&mut self, done: usize, total: usize) {
        let progress = json!({"done": done, "total": total});
        if let Err(error) =
            store::job::set_progress(self.db, self.job, progress, self.clock.now()).await
        {
            tracing::warn!(%error, job = self.job.0, "cannot record an import's progress");
        }
    }
}

/// Runs one import job.
pub async fn run(state: &AppState, job: &Job) -> Result<Value, JobError> {
    let payload: ImportJob = serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
    let ctx = state.ctx();
    let (actor, author) = ops::auth::acting_user(&ctx, UserId(payload.user_id))
        .await
        .map_err(|e| JobError::Permanent(format!("the user who asked cannot act: {e}")))?;
    let csv = store::upload::read(&state.db, payload.upload_id)
        .await?
        .ok_or_else(|| JobError::Permanent("the file is no longer kept".to_owned()))?;
    let mut progress = JobProgress {
        db: &state.db,
        job: JobId(job.id),
        clock: &state.clock,
    };
    let outcome = ops::customer::import::import(
        &ctx,
        &actor,
        author,
        &csv,
        &payload.options(),
        &mut progress,
    )
    .await;
    let report = match outcome {
        Ok(report) => report,
        // Our side broke (the database, most likely): worth another attempt.
        Err(error @ (OpError::Internal(_) | OpError::Busy)) => {
            return Err(JobError::Retry(error.to_string()));
        }
        Err(error) => {
            store::upload::delete(&state.db, payload.upload_id).await?;
            return Err(JobError::Permanent(error.to_string()));
        }
    };
    store::upload::delete(&state.db, payload.upload_id).await?;
    super::statistics::after_bulk(state, report.created as u64).await;
    serde_json::to_value(&report).map_err(|e| JobError::Permanent(e.to_string()))
}
