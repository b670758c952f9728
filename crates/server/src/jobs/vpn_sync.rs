//! `vpn.sync`: bringing a VPN router to what its accounts need (`ops::vpn::wants`): the
//! tunnel server and its profile, one `dst-nat` rule per account found by the account's own
//! comment, and the rules of deleted accounts removed (lastmile's VPN rules only: every
//! other rule stays). Read, planned, and unless only the plan was asked for applied step
//! by step with the rollback of a failed step (`netops::provision`), as the user who asked.
//! The router must already send PPP logins to lastmile (provisioned): otherwise nothing
//! changes. The result and the audit log show the steps with the IPsec key hidden.

use serde_json::{Value, json};

use super::{JobError, RouterJob, apply_planned, from_op, permanent};
use domain::network::provision::{redacted, strays};
use ops::vpn::SyncRequest;
use store::job::Job;
use web::AppState;

pub use ops::vpn::SYNC_KIND as KIND;

/// Rounds of plan and apply at most in one run.
const ROUNDS: u32 = 3;

/// Connects, checks that the router sends PPP logins to lastmile, and plans: the steps to
/// what `server`'s accounts want now, the rules of deleted accounts removed.
async fn plan(
    state: &AppState,
    enforce: &netops::Settings,
    router: &store::network::Router,
    server: &store::vpn::Server,
) -> Result<
    (
        routeros::Client,
        Vec<domain::network::provision::Step>,
        Result<(), netops::migrate::MigrateError>,
    ),
    JobError,
> {
    let wants = ops::vpn::wants(&state.ctx(), server)
        .await
        .map_err(from_op)?;
    let client = netops::router::connect(&state.db, router, enforce.api_timeout)
        .await
        .map_err(permanent)?;
    let ready = netops::migrate::preflight(&client).await;
    let current = netops::provision::read_with(
        &client,
        &wants,
        &[("/ip/firewall/nat", domain::vpn::RULE_PROPS)],
    )
    .await
    .map_err(permanent)?;
    let mut steps = netops::provision::plan(&wants, &current).map_err(permanent)?;
    steps.extend(strays(
        "/ip/firewall/nat",
        domain::vpn::is_rule,
        &wants,
        &current.menus,
        "the rule of a deleted VPN account",
    ));
    Ok((client, steps, ready))
}

/// Runs one synchronisation (or its plan).
pub async fn run(
    state: &AppState,
    enforce: &netops::Settings,
    job: &Job,
) -> Result<Value, JobError> {
    let RouterJob {
        request,
        author,
        router,
    } = RouterJob::<SyncRequest>::read(state, job, |r| Some(r.router_id)).await?;
    let ctx = state.ctx();
    let server = store::vpn::find_server(ctx.db.conn(), request.server_id)
        .await
        .map_err(|e| from_op(e.into()))?
        .filter(|s| s.router_id == router.id)
        .ok_or_else(|| permanent("the VPN server is gone"))?;
    let mut result = json!({
        "server_id": server.id,
        "router_id": router.id,
        "dry_run": request.dry_run,
    });
    // Accounts changed while a round was applied (their own synchronisation answered with
    // this running one) are caught by the next round, read afresh.
    for round in 1..=ROUNDS {
        let (client, steps, ready) = plan(state, enforce, &router, &server).await?;
        if round == 1 {
            result["steps"] = json!(redacted(&steps));
            if let Err(not_ready) = &ready {
                result["not_ready"] = json!(not_ready.to_string());
            }
        }
        if request.dry_run || steps.is_empty() {
            client.close().await;
            break;
        }
        if let Err(not_ready) = ready {
            client.close().await;
            return Err(permanent(not_ready));
        }
        let record = async |applied: netops::provision::Applied, outcome| {
            let done = &steps[..applied.applied];
            ops::vpn::record(&state.ctx(), author.clone(), &server, done, outcome).await
        };
        result["applied"] = apply_planned(state, enforce, &router, client, &steps, record).await?;
        result["rounds"] = json!(round);
    }
    Ok(result)
}
