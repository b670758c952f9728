//! `router.pools`: pushing lastmile's pools, and a PPP profile per pool, to a router
//! (`ops::pool_push`), as the user who asked. It reads the router's `/ip/pool` and
//! `/ppp/profile`, plans by name, and unless only the plan was asked for applies it step by
//! step, rolling back what it applied when a step fails (`netops::provision`). The result is
//! the plan and what was applied; the audit log keeps the steps.

use serde_json::{Value, json};

use super::{JobError, RouterJob, apply_planned, from_op, permanent};
use ops::pool_push::PushRequest;
use store::job::Job;
use web::AppState;

pub use ops::pool_push::KIND;

/// Runs one push (or its plan).
pub async fn run(
    state: &AppState,
    enforce: &netops::Settings,
    job: &Job,
) -> Result<Value, JobError> {
    let RouterJob {
        request,
        author,
        router,
    } = RouterJob::<PushRequest>::read(state, job, |r| Some(r.router_id)).await?;
    let ctx = state.ctx();
    let pools = ops::pool_push::pools(&ctx, &router, &request)
        .await
        .map_err(from_op)?;
    let wants = domain::network::provision::pool_wants(&pools, request.gateway);
    let client = netops::router::connect(&state.db, &router, enforce.api_timeout)
        .await
        .map_err(permanent)?;
    let current = netops::provision::read(&client, &wants)
        .await
        .map_err(permanent)?;
    let steps = netops::provision::plan(&wants, &current).map_err(permanent)?;
    let mut result = json!({
        "router_id": router.id,
        "dry_run": request.dry_run,
        "pools": pools.len(),
        "steps": steps,
    });
    if request.dry_run || steps.is_empty() {
        client.close().await;
        return Ok(result);
    }
    let record = async |applied: netops::provision::Applied, outcome| {
        let done = &steps[..applied.applied];
        ops::pool_push::record(&state.ctx(), author, &router, done, outcome).await
    };
    result["applied"] = apply_planned(state, enforce, &router, client, &steps, record).await?;
    Ok(result)
}
