//! `router.health`: checks routers lastmile has API access to (all of them when the
//! scheduler queues it, one when an operator asks): the API answers, its RouterOS version,
//! identity, uptime and CPU load; and, for a router with a kept provisioning, whether
//! lastmile's RADIUS entry is there and right and what drifted (the steps that would bring
//! it back, planned from the same request). Each check replaces the router's last; a router
//! that does not answer keeps when it was last seen. Nothing is changed on the routers.

use std::time::Duration;

use futures::StreamExt as _;
use serde_json::{Value, json};

use super::JobError;
use ops::provision::ProvisionRequest;
use store::job::Job;
use store::network::{Health, Router};
use web::AppState;

pub use ops::router_health::KIND;

/// Routers checked at once.
const AT_ONCE: usize = 16;
/// How long each step of one check may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Checks the router the payload names, or every router.
pub async fn run(
    state: &AppState,
    enforce: &netops::Settings,
    job: &Job,
) -> Result<Value, JobError> {
    let payload: Value = serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
    let routers =
        store::network::routers_to_check(state.db.conn(), payload["router_id"].as_i64()).await?;
    let checks: Vec<Health> = futures::stream::iter(routers)
        .map(|router| {
            let (state, enforce) = (state.clone(), enforce.clone());
            async move { check(&state, &enforce, &router).await }
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    let mut answered = 0;
    let mut drifted = 0;
    for health in &checks {
        answered += usize::from(health.error.is_none());
        drifted += usize::from(health.drift.is_some());
        store::network::record_health(state.db.conn(), health).await?;
    }
    Ok(json!({ "routers": checks.len(), "answered": answered, "drifted": drifted }))
}

/// One router's check; a failure is recorded in it, never raised.
async fn check(state: &AppState, enforce: &netops::Settings, router: &Router) -> Health {
    let now = state.clock.now();
    let mut health = Health {
        router_id: router.id,
        tenant_id: router.tenant_id,
        checked_at: now,
        seen_at: None,
        version: None,
        identity: None,
        uptime: None,
        cpu_load: None,
        radius_ok: None,
        drift: None,
        error: None,
    };
    if let Err(error) = observe(state, enforce, router, &mut health).await {
        health.error = Some(error);
    }
    health
}

async fn observe(
    state: &AppState,
    enforce: &netops::Settings,
    router: &Router,
    health: &mut Health,
) -> Result<(), String> {
    let client = netops::router::connect(&state.db, router, TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    let resource = routeros::menu::RESOURCE
        .get(&client)
        .await
        .map_err(|e| e.to_string())?;
    let identity = routeros::menu::IDENTITY
        .get(&client)
        .await
        .map_err(|e| e.to_string())?;
    health.seen_at = Some(health.checked_at);
    health.version = Some(resource.version.clone());
    health.uptime = Some(resource.uptime);
    health.cpu_load = resource.cpu_load.and_then(|c| i32::try_from(c).ok());
    health.identity = Some(identity.name);
    // Drift from the kept provisioning, planned from the same request.
    let kept = store::network::latest_provisioning(state.db.conn(), router.id)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(kept) = kept {
        let request: ProvisionRequest =
            serde_json::from_str(&kept.request).map_err(|e| e.to_string())?;
        let ctx = state.ctx();
        let settings = ops::provision::settings(
            &ctx,
            router,
            &request,
            enforce.coa_port,
            ops::provision::has_message_auth(&resource.version),
        )
        .await
        .map_err(|e| e.to_string())?;
        let wants = domain::network::provision::wants(&settings);
        let current = netops::provision::read(&client, &wants)
            .await
            .map_err(|e| e.to_string())?;
        let steps = netops::provision::plan(&wants, &current).map_err(|e| e.to_string())?;
        health.radius_ok = Some(!steps.iter().any(|s| s.menu == "/radius"));
        if !steps.is_empty() {
            let shown = domain::network::provision::redacted(&steps);
            health.drift = Some(serde_json::to_string(&shown).map_err(|e| e.to_string())?);
        }
    }
    client.close().await;
    Ok(())
}
