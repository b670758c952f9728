//! Online payments' jobs (`ops::gateway`): settling a notice the edge kept
//! (`gateway.event`: the provider's own API is asked what the notice is about, and what it
//! says settles the intent), and reconciliation every minute (`gateway.reconcile`: intents
//! still pending after two minutes are asked about the same way, so a lost notice or a
//! provider that never sends one still gets the payment credited; one that never reached
//! the provider is closed when its time is up). The provider calls happen here, outside
//! any transaction.

use chrono::TimeDelta;
use serde_json::{Value, json};

use super::JobError;
use ops::gateway::{Confirmed, ConfirmedStatus, Settled};
use store::gateway::Intent;
use store::job::Job;
use web::AppState;

/// The job that settles a kept notice.
pub const EVENT: &str = ops::gateway::EVENT_JOB;

/// The reconciliation job.
pub const RECONCILE: &str = "gateway.reconcile";

/// How often reconciliation runs, in seconds.
pub const RECONCILE_EVERY: i64 = 60;

/// How long an intent may stay pending before reconciliation asks about it.
const QUIET: TimeDelta = TimeDelta::minutes(2);

/// Intents asked about per reconciliation.
const BATCH: u64 = 200;

fn retry(error: impl std::fmt::Display) -> JobError {
    JobError::Retry(error.to_string())
}

/// Settles the notice the job names.
pub async fn event(state: &AppState, job: &Job) -> Result<Value, JobError> {
    let payload: Value = serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
    let id = payload["event_id"]
        .as_i64()
        .ok_or_else(|| JobError::Permanent("no event_id".into()))?;
    let ctx = state.ctx();
    let (event, intent) = ops::gateway::event(&ctx, id).await.map_err(retry)?;
    if event.processed_at.is_some() {
        return Ok(json!({ "outcome": event.outcome }));
    }
    let outcome = match intent {
        Some(intent) => confirm_and_settle(state, &intent).await?,
        None => "unknown_payment",
    };
    ops::gateway::processed(&state.ctx(), id, outcome)
        .await
        .map_err(retry)?;
    Ok(json!({ "outcome": outcome }))
}

/// Asks the provider about `intent` and settles it with the answer. An intent paid, failed
/// or refused here is not asked about: settling it would change nothing, and for bKash
/// asking is executing, which would capture money for a payment closed here. One that
/// expired is: the customer may have paid on a page still open, and that money is
/// credited late.
async fn confirm_and_settle(state: &AppState, intent: &Intent) -> Result<&'static str, JobError> {
    let Some(provider_payment_id) = intent.provider_payment_id.as_deref() else {
        return Ok("no_checkout");
    };
    if !matches!(intent.status.as_str(), "pending" | "expired") {
        return Ok("already_settled");
    }
    let ctx = state.ctx();
    let credentials = ops::gateway::credentials(&ctx, intent.gateway_account_id)
        .await
        .map_err(retry)?;
    let cfg = web::billing::online::config(&credentials)
        .ok_or_else(|| JobError::Permanent(format!("unknown provider {}", credentials.provider)))?;
    let client = state
        .payments
        .as_ref()
        .ok_or_else(|| retry("no payment provider client"))?;
    let answer = client
        .confirm(&cfg, provider_payment_id)
        .await
        .map_err(retry)?;
    let confirmed = Confirmed {
        status: match answer.status {
            gateways::PaymentStatus::Succeeded => ConfirmedStatus::Succeeded,
            gateways::PaymentStatus::Pending => ConfirmedStatus::Pending,
            gateways::PaymentStatus::Failed => ConfirmedStatus::Failed,
        },
        amount: answer.amount,
        currency: answer.currency,
        merchant_ref: answer.merchant_ref,
        txn_id: answer.txn_id,
    };
    let settled = ops::gateway::settle(&state.ctx(), intent.id, &confirmed)
        .await
        .map_err(retry)?;
    Ok(match settled {
        Settled::Paid(_) => "paid",
        Settled::Already => "already_settled",
        Settled::Pending => "pending",
        Settled::Closed => "closed",
        Settled::Mismatch => "mismatch",
    })
}

/// One reconciliation pass (see the module documentation).
pub async fn reconcile(state: &AppState) -> Result<Value, JobError> {
    let ctx = state.ctx();
    let intents = ops::gateway::pending(&ctx, ctx.now - QUIET, BATCH)
        .await
        .map_err(retry)?;
    let mut outcomes: std::collections::BTreeMap<&'static str, u64> = Default::default();
    for intent in &intents {
        let outcome = if intent.provider_payment_id.is_none() {
            match ops::gateway::expire_unsent(&state.ctx(), intent).await {
                Ok(Settled::Closed) => "closed",
                Ok(_) => "pending",
                Err(error) => {
                    tracing::warn!(%error, intent = intent.id, "cannot close an intent");
                    "error"
                }
            }
        } else {
            match confirm_and_settle(state, intent).await {
                Ok(outcome) => outcome,
                Err(error) => {
                    tracing::warn!(%error, intent = intent.id, "cannot reconcile an intent");
                    "error"
                }
            }
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    Ok(json!({ "checked": intents.len(), "outcomes": outcomes }))
}
