//! Webhook deliveries: which signed bodies a completed payment sends, under the scenario
//! (duplicates, drops, reordering, a tampered amount, a wrong secret, a stale timestamp,
//! a delay), and sending them one after another from a spawned task, each retried after
//! 100 ms, 300 ms and 1 s until it gets a 2xx.

use std::time::Duration;

use super::{Scenario, SimPayment, generic, now_unix, stripe};
use crate::{Provider, signature};

/// Waits before the retries of a failed delivery.
const BACKOFF: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_millis(300),
    Duration::from_secs(1),
];

/// The most extra copies of a webhook sent, whatever the scenario asks.
const MAX_DUPLICATES: u32 = 100;

/// How old a stale signature is.
const STALE_BY: i64 = 600;

/// One webhook to send.
#[derive(Debug)]
pub(super) struct Delivery {
    url: String,
    header: &'static str,
    body: Vec<u8>,
    secret: String,
    stale: bool,
    delay: Duration,
}

/// The deliveries for `payment`, just completed, in order; none without a webhook URL or
/// under `drop_webhooks`.
pub(super) fn plan(
    payment: &SimPayment,
    scenario: &Scenario,
    webhook_secret: &str,
) -> Vec<Delivery> {
    let Some(url) = &payment.webhook_url else {
        return Vec::new();
    };
    if scenario.drop_webhooks {
        return Vec::new();
    }
    let claimed = if scenario.tamper_amount {
        payment.amount.checked_mul(10).unwrap_or(1)
    } else {
        payment.amount
    };
    let now = now_unix();
    let bodies = match payment.provider {
        Provider::Stripe => stripe::events(payment, scenario.reorder, claimed, now),
        Provider::Generic => generic::events(payment, scenario.reorder, claimed, now),
    };
    let secret = if scenario.wrong_secret {
        format!("{webhook_secret}-not-this-one")
    } else {
        webhook_secret.to_owned()
    };
    let copies = 1 + scenario.duplicates.min(MAX_DUPLICATES);
    bodies
        .into_iter()
        .flat_map(|body| std::iter::repeat_n(body, copies as usize))
        .map(|body| Delivery {
            url: url.clone(),
            header: payment.provider.signature_header(),
            body,
            secret: secret.clone(),
            stale: scenario.stale_signature,
            delay: Duration::from_millis(scenario.delay_ms),
        })
        .collect()
}

/// Sends every delivery in order.
pub(super) async fn run(http: reqwest::Client, plan: Vec<Delivery>) {
    for delivery in plan {
        tokio::time::sleep(delivery.delay).await;
        send(&http, &delivery).await;
    }
}

/// One delivery, with its retries; each attempt is signed afresh, as providers do.
async fn send(http: &reqwest::Client, delivery: &Delivery) {
    let waits = std::iter::once(Duration::ZERO).chain(BACKOFF);
    for (attempt, wait) in waits.enumerate() {
        tokio::time::sleep(wait).await;
        let timestamp = now_unix() - if delivery.stale { STALE_BY } else { 0 };
        let signed = signature::sign(&delivery.secret, timestamp, &delivery.body);
        let result = http
            .post(&delivery.url)
            .header(delivery.header, signed)
            .header(
                http::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .body(delivery.body.clone())
            .send()
            .await;
        match result {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => {
                tracing::debug!(attempt, status = %response.status(), url = %delivery.url, "webhook refused");
            }
            Err(error) => {
                tracing::debug!(attempt, %error, url = %delivery.url, "webhook not delivered");
            }
        }
    }
    tracing::warn!(url = %delivery.url, "webhook given up after its retries");
}
