//! `router.pools`: pushing lastmile's pools, and a PPP profile per pool, to a router
//! (`ops::pool_push`), as the user who asked. It reads the router's `/ip/pool` and
//! `/ppp/profile`, plans by name, and unless only the plan was asked for applies it step by
//! step, rolling back what it applied when a step fails (`netops::provision`). The result is
//! the plan and what was applied; the audit log keeps the steps.

use serde_json::{Value, json};

use super::{JobError, from_op, permanent};
use domain::ids::UserId;
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
    let request: PushRequest =
        serde_json::from_str(&job.payload).map_err(|e| permanent(format!("bad payload: {e}")))?;
    let asked_by = job
        .created_by
        .ok_or_else(|| permanent("nobody asked for this push"))?;
    let ctx = state.ctx();
    let (actor, author) = ops::auth::acting_user(&ctx, UserId(asked_by))
        .await
        .map_err(|e| permanent(format!("the user who asked cannot act: {e}")))?;
    let router = ops::provision::provisionable(&ctx, &actor, request.router_id)
        .await
        .map_err(from_op)?;
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
    let reconnect = || async {
        netops::router::connect(&state.db, &router, enforce.api_timeout)
            .await
            .map_err(|e| e.to_string())
    };
    let applied = netops::provision::apply(client, &steps, reconnect).await;
    let outcome = serde_json::to_value(&applied).map_err(permanent)?;
    ops::pool_push::record(
        &state.ctx(),
        author,
        &router,
        &steps[..applied.applied],
        outcome.clone(),
    )
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
    result["applied"] = outcome;
    Ok(result)
}
