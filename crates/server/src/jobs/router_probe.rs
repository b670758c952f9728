//! `router.tls_probe`: reads the certificate fingerprint a router's API-SSL presents (a
//! handshake that trusts anything and goes no further: no login, nothing sent), as the user
//! who asked and with that user's rights as they are now. The result names the fingerprint
//! and whether the router already pins it, so the operator can compare it with
//! `/certificate print` on the router and pin it on the router's page.

use std::time::Duration;

use serde_json::{Value, json};

use super::JobError;
use domain::ids::UserId;
use store::job::Job;
use web::AppState;

pub use ops::network::TLS_PROBE_KIND as KIND;

/// How long the handshake may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Runs one probe.
pub async fn run(state: &AppState, job: &Job) -> Result<Value, JobError> {
    let payload: Value = serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
    let id = payload["router_id"]
        .as_i64()
        .ok_or_else(|| JobError::Permanent("bad payload: no router_id".to_owned()))?;
    let asked_by = job
        .created_by
        .ok_or_else(|| JobError::Permanent("nobody asked for this probe".to_owned()))?;
    let ctx = state.ctx();
    let (actor, _) = ops::auth::acting_user(&ctx, UserId(asked_by))
        .await
        .map_err(|e| JobError::Permanent(format!("the user who asked cannot act: {e}")))?;
    let router = ops::network::get_router(&ctx, &actor, id)
        .await
        .map_err(|e| JobError::Permanent(e.to_string()))?;
    let address = router
        .api_address
        .as_deref()
        .ok_or_else(|| JobError::Permanent("the router has no API address".to_owned()))?;
    let default_port = u16::try_from(router.api_port).unwrap_or(routeros::client::API_SSL_PORT);
    let (host, port) = routeros::client::parse_address(address, default_port)
        .map_err(|e| JobError::Permanent(e.to_string()))?;
    let fingerprint = routeros::presented_fingerprint(&host, port, TIMEOUT)
        .await
        .map_err(|e| JobError::Permanent(e.to_string()))?
        .to_string();
    let pinned = router.api_tls_fingerprint.as_deref() == Some(fingerprint.as_str());
    Ok(json!({
        "router_id": id,
        "address": format!("{host}:{port}"),
        "fingerprint": fingerprint,
        "pinned": pinned,
    }))
}
