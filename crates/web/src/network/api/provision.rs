//! `POST /api/v1/routers/{id}/provision`: zero-touch provisioning of a router
//! (`ops::provision`), queued as a job whose result is the plan (every step with what it
//! replaces) and, unless only the plan was asked for, what was applied;
//! `POST /api/v1/routers/{id}/provision/rollback`, rolling the latest one back; and
//! `POST /api/v1/routers/{id}/pools`, pushing lastmile's pools and their PPP profiles.

use std::net::Ipv4Addr;

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::job::api::{JobOut, accepted};
use crate::state::AppState;
use ops::provision::ProvisionRequest;

/// What to provision the router with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionBody {
    /// Only plan: read the router and list the steps, changing nothing.
    dry_run: bool,
    /// Where the router reaches lastmile's RADIUS server.
    #[schema(value_type = String)]
    radius_address: Ipv4Addr,
    /// lastmile's authentication port as the router reaches it (1812).
    #[serde(default = "auth_port")]
    auth_port: u16,
    /// lastmile's accounting port as the router reaches it (1813).
    #[serde(default = "acct_port")]
    acct_port: u16,
    /// The captive portal's address, let through the hotspot's walled garden and the
    /// suspended customers' firewall rule.
    #[schema(value_type = Option<String>)]
    portal_address: Option<Ipv4Addr>,
    /// The router's identity (`/system identity`), if lastmile sets it.
    identity: Option<String>,
    /// An SNMP community for lastmile, if wanted.
    snmp_community: Option<String>,
    /// Where phones reach lastmile, for the captive portal's pages when the router has a
    /// portal (default: this installation's public address).
    portal_url: Option<String>,
}

fn auth_port() -> u16 {
    1812
}

fn acct_port() -> u16 {
    1813
}

/// Queues provisioning of the router (or, with `dry_run`, its plan); answers 202 with the
/// job, whose progress and result `GET /api/v1/jobs/{id}` gives. Items lastmile adds carry a
/// `lastmile:` comment and are found by it, so a second run plans nothing; a failed step
/// rolls back what was applied.
#[utoipa::path(post, path = "/routers/{id}/provision", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ProvisionBody,
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(super) async fn provision_router(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<ProvisionBody>,
) -> Result<Response, ApiError> {
    let request = ProvisionRequest {
        router_id: id,
        radius_address: body.radius_address,
        auth_port: body.auth_port,
        acct_port: body.acct_port,
        portal_address: body.portal_address,
        identity: body.identity,
        snmp_community: body.snmp_community,
        dry_run: body.dry_run,
        portal_url: body
            .portal_url
            .or_else(|| Some(state.settings.public_url.clone()))
            .filter(|u| !u.trim().is_empty()),
    };
    let job = ops::provision::submit(&state.ctx(), &caller.actor, caller.author, &request).await?;
    state.jobs_wake.notify_one();
    Ok(accepted(&job))
}

/// Queues the rollback of the router's latest completed provisioning (every step undone,
/// newest first); answers 202 with the job. Refused when there is none
/// (`nothing_to_roll_back`).
#[utoipa::path(post, path = "/routers/{id}/provision/rollback", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(super) async fn rollback_provisioning(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let job =
        ops::provision::submit_rollback(&state.ctx(), &caller.actor, caller.author, id).await?;
    state.jobs_wake.notify_one();
    Ok(accepted(&job))
}

/// Which pools to push, and how.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoolsBody {
    /// Only plan: read the router and list the steps, changing nothing.
    dry_run: bool,
    /// The pools (of the router's tenant), at most 1 000; absent: every pool a live package
    /// gives addresses from.
    pool_ids: Option<Vec<i64>>,
    /// The router's own end of each PPP link (`local-address` of the profiles): an address
    /// outside every customer pool.
    #[schema(value_type = Option<String>)]
    gateway: Option<Ipv4Addr>,
}

/// Queues pushing lastmile's pools to the router (or, with `dry_run`, the plan): `/ip/pool`
/// with each pool's exact ranges and a `/ppp/profile` per pool giving addresses from it,
/// found by name, so a second push plans nothing; a failed step rolls back what was
/// applied. Answers 202 with the job.
#[utoipa::path(post, path = "/routers/{id}/pools", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PoolsBody,
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(super) async fn push_pools(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<PoolsBody>,
) -> Result<Response, ApiError> {
    let request = ops::pool_push::PushRequest {
        router_id: id,
        pool_ids: body.pool_ids,
        gateway: body.gateway,
        dry_run: body.dry_run,
    };
    let job = ops::pool_push::submit(&state.ctx(), &caller.actor, caller.author, &request).await?;
    state.jobs_wake.notify_one();
    Ok(accepted(&job))
}
