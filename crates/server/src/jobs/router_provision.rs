//! `router.provision`: zero-touch provisioning of a router, as the user who asked and with
//! that user's rights as they are now. It reads the router (its RouterOS version, for
//! Message-Authenticator, and the menus lastmile provisions; a menu the router lacks is
//! reported before anything changes), plans (`domain::network::provision`), and unless only
//! the plan was asked for applies it step by step, rolling back what it applied when a step
//! fails (`netops::provision`). The result is the plan and what was applied and undone; the
//! audit log keeps the steps applied. Each command to the router is bounded by
//! `netops::Settings::api_timeout`.

use serde_json::{Value, json};

use super::{JobError, RouterJob, apply_planned, from_op, permanent};
use domain::ids::JobId;
use ops::provision::ProvisionRequest;
use store::job::Job;
use web::AppState;

pub use ops::provision::{KIND, ROLLBACK_KIND};

/// Runs one provisioning (or its plan).
pub async fn run(
    state: &AppState,
    enforce: &netops::Settings,
    job: &Job,
) -> Result<Value, JobError> {
    let RouterJob {
        request,
        author,
        router,
    } = RouterJob::<ProvisionRequest>::read(state, job, |r| Some(r.router_id)).await?;
    let ctx = state.ctx();
    let set_phase = |phase: &'static str| {
        let db = state.db.clone();
        let now = state.clock.now();
        async move {
            if let Err(error) =
                store::job::set_progress(&db, JobId(job.id), json!({ "phase": phase }), now).await
            {
                tracing::warn!(%error, job = job.id, "cannot record provisioning's progress");
            }
        }
    };
    set_phase("reading").await;
    let client = netops::router::connect(&state.db, &router, enforce.api_timeout)
        .await
        .map_err(permanent)?;
    let version = routeros::menu::RESOURCE
        .get(&client)
        .await
        .map_err(permanent)?
        .version;
    let settings = ops::provision::settings(
        &ctx,
        &router,
        &request,
        enforce.coa_port,
        ops::provision::has_message_auth(&version),
    )
    .await
    .map_err(from_op)?;
    let wants = domain::network::provision::wants(&settings);
    let current = netops::provision::read(&client, &wants)
        .await
        .map_err(permanent)?;
    let steps = netops::provision::plan(&wants, &current).map_err(permanent)?;
    let mut result = json!({
        "router_id": router.id,
        "version": version,
        "dry_run": request.dry_run,
        "steps": domain::network::provision::redacted(&steps),
    });
    if request.dry_run || steps.is_empty() {
        client.close().await;
        return Ok(result);
    }
    set_phase("applying").await;
    let record = async |applied: netops::provision::Applied, outcome| {
        let done = &steps[..applied.applied];
        let completed = applied.complete();
        ops::provision::record(&ctx, author, &router, &request, done, completed, outcome).await
    };
    result["applied"] = apply_planned(state, enforce, &router, client, &steps, record).await?;
    Ok(result)
}

/// Rolls back the latest completed provisioning of a router, on request: every step undone,
/// newest first (an added item found by its key and removed, a set set back to what it
/// replaced). It is marked rolled back only when every undo worked.
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
    let provisioning = request["provisioning_id"]
        .as_i64()
        .ok_or_else(|| permanent("bad payload: no provisioning"))?;
    let ctx = state.ctx();
    let steps = ops::provision::to_revert(&ctx, &router, provisioning)
        .await
        .map_err(from_op)?;
    let client = netops::router::connect(&state.db, &router, enforce.api_timeout)
        .await
        .map_err(permanent)?;
    let undone = netops::provision::revert(&client, &steps).await;
    client.close().await;
    ops::provision::reverted(&ctx, author, &router, provisioning, &undone)
        .await
        .map_err(from_op)?;
    let failed: Vec<String> = undone
        .iter()
        .filter_map(|(i, r)| r.as_ref().err().map(|e| format!("step {}: {e}", i + 1)))
        .collect();
    if !failed.is_empty() {
        return Err(permanent(format!(
            "some steps could not be undone: {}",
            failed.join("; ")
        )));
    }
    Ok(json!({ "router_id": router.id, "provisioning_id": provisioning, "undone": steps.len() }))
}
