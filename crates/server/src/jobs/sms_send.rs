//! The SMS sender (`sms.send`, `ops::sms`): claims due messages in batches, sign-in codes
//! first (each claim a short transaction holding them for two minutes), hands each to its
//! gateway (the one it was queued for, else its tenant's, else the platform's default)
//! outside any transaction, [`IN_FLIGHT`] at a time, and records the batch's outcomes in
//! one: taken is `sent` with the provider's id, a transient failure is tried again with
//! backoff up to five attempts, any other failure (or no gateway) fails the message at once
//! with the reason. Queued by every new message, by the scheduler every 30 s, and by itself
//! for the next retry that falls due, so queued messages go out without anyone asking; it
//! runs on the workers' express lane (`jobs::EXPRESS`), so a code never waits behind a
//! router's job.
//!
//! Also the notices' job (`sms.notices`): writes the notices queued since its last run
//! (`notification`: welcome, recharge, payment, invoices, reminders, suspensions, expiries)
//! as messages in their tenant's language (`ops::sms::template`), which wakes the sender.
//! It is a job of its own on the common lane: a thousand reminders being written never
//! hold a code back.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt as _;
use serde_json::{Value, json};

use super::JobError;
use gateways::sms::{OutgoingSms, SmsConfig, SmsError, SmsGateway};
use store::NewJob;
use store::sms::{Message, Outcome};
use web::AppState;

/// The job kind.
pub const KIND: &str = ops::sms::SEND_KIND;

/// The notices' job kind.
pub const NOTICES_KIND: &str = ops::sms::NOTICES_KIND;

/// How often the scheduler queues it, in seconds.
pub const EVERY_SECONDS: i64 = 30;

/// Messages claimed at a time.
const BATCH: u64 = 50;

/// Batches one run sends before it hands over to the next run.
const BATCHES: usize = 20;

/// Messages handed to providers at once: a provider's answer takes from tens of
/// milliseconds to a second, and a batch of codes should not wait for each in turn.
const IN_FLIGHT: usize = 8;

/// Batches of notices one run of `sms.notices` writes as messages before it hands over to
/// the next run.
const NOTICE_BATCHES: usize = 10;

fn retry(error: impl std::fmt::Display) -> JobError {
    JobError::Retry(error.to_string())
}

/// A gateway ready to send, or why none is.
type Ready = Result<(i64, Arc<SmsGateway>), String>;

/// Sends what is due (see the module documentation).
pub async fn run(state: &AppState) -> Result<Value, JobError> {
    let http = gateways::sms::http_client().map_err(retry)?;
    // Per tenant and pinned gateway: which gateway a message takes depends on both.
    let mut ready: HashMap<(Option<i64>, Option<i64>), Ready> = HashMap::new();
    let (mut sent, mut retried, mut failed) = (0u64, 0u64, 0u64);
    let mut drained = false;
    for _ in 0..BATCHES {
        let claimed = ops::sms::claim(&state.ctx(), BATCH).await.map_err(retry)?;
        if claimed.is_empty() {
            drained = true;
            break;
        }
        let mut gateways = Vec::with_capacity(claimed.len());
        for message in &claimed {
            let key = (message.tenant_id, message.gateway_id);
            let gateway = match ready.get(&key) {
                Some(found) => found.clone(),
                None => {
                    let built = configured(state, message).await?.and_then(|(id, config)| {
                        SmsGateway::new(config, http.clone())
                            .map(|driver| (id, Arc::new(driver)))
                            .map_err(|e| e.to_string())
                    });
                    ready.insert(key, built.clone());
                    built
                }
            };
            gateways.push(gateway);
        }
        let sends: Vec<_> = claimed
            .iter()
            .zip(gateways)
            .map(|(message, gateway)| send(state, gateway, message))
            .collect();
        let outcomes: Vec<(i64, Outcome)> = futures::stream::iter(sends)
            .buffered(IN_FLIGHT)
            .collect()
            .await;
        for (_, outcome) in &outcomes {
            match outcome {
                Outcome::Sent { .. } => sent += 1,
                Outcome::Retry { .. } => retried += 1,
                Outcome::Failed { .. } => failed += 1,
            }
        }
        ops::sms::record(&state.ctx(), &outcomes)
            .await
            .map_err(retry)?;
    }
    if drained {
        follow_up(state).await;
    } else {
        again_now(state, KIND).await;
    }
    Ok(json!({ "sent": sent, "retry": retried, "failed": failed }))
}

/// Writes queued notices as messages (see the module documentation), and queues the next
/// run at once when some are left.
pub async fn notices(state: &AppState) -> Result<Value, JobError> {
    let (mut queued, mut skipped, mut drained) = (0u64, 0u64, false);
    for _ in 0..NOTICE_BATCHES {
        let pass = ops::sms::template::deliver_notifications(&state.ctx())
            .await
            .map_err(retry)?;
        queued += pass.queued;
        skipped += pass.skipped;
        if pass.read < ops::sms::template::DELIVERY_BATCH {
            drained = true;
            break;
        }
    }
    if !drained {
        again_now(state, NOTICES_KIND).await;
    }
    Ok(json!({ "queued": queued, "skipped": skipped }))
}

/// The gateway `message` goes through and its driver's configuration, from its sealed
/// settings.
async fn configured(
    state: &AppState,
    message: &Message,
) -> Result<Result<(i64, SmsConfig), String>, JobError> {
    let found = ops::sms::gateway_for(&state.ctx(), message)
        .await
        .map_err(retry)?;
    let Some((gateway, settings)) = found else {
        return Ok(Err("no SMS gateway".to_owned()));
    };
    if gateway.status != "active" && message.gateway_id.is_none() {
        return Ok(Err("the SMS gateway is disabled".to_owned()));
    }
    Ok(
        web::sms::api::config(&settings, gateway.id, &state.settings.public_url)
            .map(|config| (gateway.id, config))
            .map_err(|e| format!("the SMS gateway's settings do not read: {e}")),
    )
}

/// Sends one claimed message and says what came of it, with the message's id.
async fn send(state: &AppState, gateway: Ready, message: &Message) -> (i64, Outcome) {
    (message.id, outcome_of(state, gateway, message).await)
}

/// What came of sending one claimed message.
async fn outcome_of(state: &AppState, gateway: Ready, message: &Message) -> Outcome {
    let (gateway_id, driver) = match gateway {
        Ok(ready) => ready,
        Err(error) => {
            return Outcome::Failed {
                gateway_id: message.gateway_id,
                error,
            };
        }
    };
    let outgoing = OutgoingSms {
        to: message.to_number.clone(),
        text: message.text.clone(),
        reference: format!("lm{}", message.id),
    };
    match driver.send(&outgoing).await {
        Ok(accepted) => Outcome::Sent {
            gateway_id,
            provider_id: accepted.provider_id,
        },
        Err(error) => {
            tracing::warn!(
                id = message.id,
                gateway = gateway_id,
                to = %gateways::sms::mask_number(&message.to_number),
                attempt = message.attempts,
                %error,
                "an SMS was not taken"
            );
            let retry_at = match &error {
                SmsError::Transient(_) => ops::sms::retry_at(state.clock.now(), message.attempts),
                SmsError::Rejected { .. } | SmsError::Invalid(_) => None,
            };
            match retry_at {
                Some(at) => Outcome::Retry {
                    gateway_id: Some(gateway_id),
                    error: error.to_string(),
                    at,
                },
                None => Outcome::Failed {
                    gateway_id: Some(gateway_id),
                    error: error.to_string(),
                },
            }
        }
    }
}

/// Queues a run for when the next queued message falls due (a retry), once per instant.
async fn follow_up(state: &AppState) {
    let next = match store::sms::next_due(&state.db).await {
        Ok(Some(next)) => next,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(%error, "cannot read when the next SMS is due");
            return;
        }
    };
    let now = state.clock.now();
    let run_at = next.max(now);
    schedule(
        state,
        KIND,
        run_at,
        format!("{KIND}@retry@{}", run_at.timestamp()),
    )
    .await;
}

/// Queues another `kind` run at once: this one stopped with work left.
async fn again_now(state: &AppState, kind: &'static str) {
    let now = state.clock.now();
    schedule(
        state,
        kind,
        now,
        format!("{kind}@more@{}", now.timestamp_millis()),
    )
    .await;
}

async fn schedule(
    state: &AppState,
    kind: &'static str,
    run_at: chrono::DateTime<chrono::Utc>,
    key: String,
) {
    let job = NewJob {
        kind,
        payload: json!({}),
        run_at,
        dedupe_key: Some(key),
        max_attempts: 3,
        tenant_id: None,
        created_by: None,
    };
    match store::job::schedule(&state.db, job, state.clock.now()).await {
        Ok(Some(_)) => state.jobs_wake.notify_one(),
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, kind, "cannot queue an SMS job"),
    }
}
