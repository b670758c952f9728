//! Notice deliveries: which notices a completed payment sends, under the scenario
//! (duplicates, drops, reordering, a tampered amount, a wrong secret, a stale timestamp,
//! a delay), and sending them one after another from a spawned task, each retried after
//! 100 ms, 300 ms and 1 s until it is taken. Stripe and generic webhooks are JSON POSTs
//! signed in a header (afresh at each attempt, as providers do); SSLCommerz IPNs are form
//! POSTs signed in the body; bKash callbacks are GETs, as the customer's browser makes them,
//! and are taken by a 2xx or a 3xx (the receiver redirects the browser on).

use std::time::Duration;

use super::{Scenario, SimPayment, bkash, generic, now_unix, sslcommerz, stripe};
use crate::sim_server::Deliverable;
use crate::{Provider, signature};

/// The most extra copies of a notice sent, whatever the scenario asks.
const MAX_DUPLICATES: u32 = 100;

/// How old a stale signature is.
const STALE_BY: i64 = 600;

/// The secrets notices are signed with.
#[derive(Debug, Clone, Copy)]
pub(super) struct Secrets<'a> {
    /// Stripe's and generic webhooks' HMAC key.
    pub(super) webhook: &'a str,
    /// SSLCommerz's store password, which its `verify_sign` hashes.
    pub(super) store_passwd: &'a str,
}

/// How one notice travels.
#[derive(Debug, Clone)]
enum Shape {
    /// A JSON POST signed in `header` with `secret` (ten minutes old when `stale`).
    Signed {
        header: &'static str,
        secret: String,
        stale: bool,
    },
    /// A form POST, signed (or not) inside its body.
    Form,
    /// A GET of the URL, no body.
    Callback,
}

/// One notice to send.
#[derive(Debug)]
pub(super) struct Delivery {
    url: String,
    shape: Shape,
    body: Vec<u8>,
    delay: Duration,
}

/// The deliveries for `payment`, just paid, in order; none without a notice URL or under
/// `drop_webhooks`, and no bKash callback when a browser on the hosted page makes it.
pub(super) fn plan(
    payment: &SimPayment,
    scenario: &Scenario,
    secrets: Secrets<'_>,
    browser: bool,
) -> Vec<Delivery> {
    let Some(url) = &payment.webhook_url else {
        return Vec::new();
    };
    if scenario.drop_webhooks || (browser && payment.provider == Provider::Bkash) {
        return Vec::new();
    }
    let wrong = |secret: &str| {
        if scenario.wrong_secret {
            format!("{secret}-not-this-one")
        } else {
            secret.to_owned()
        }
    };
    let now = now_unix();
    let claimed = if scenario.tamper_amount {
        payment.amount.checked_mul(10).unwrap_or(1)
    } else {
        payment.amount
    };
    let (notices, shape): (Vec<(String, Vec<u8>)>, _) = match payment.provider {
        Provider::Stripe | Provider::Generic => {
            let bodies = if payment.provider == Provider::Stripe {
                stripe::events(payment, scenario.reorder, claimed, now)
            } else {
                generic::events(payment, scenario.reorder, claimed, now)
            };
            let header = payment.provider.signature_header().unwrap_or_default();
            let shape = Shape::Signed {
                header,
                secret: wrong(secrets.webhook),
                stale: scenario.stale_signature,
            };
            (
                bodies.into_iter().map(|b| (url.clone(), b)).collect(),
                shape,
            )
        }
        Provider::Sslcommerz => {
            let bodies = sslcommerz::ipns(payment, scenario.reorder, &wrong(secrets.store_passwd));
            (
                bodies.into_iter().map(|b| (url.clone(), b)).collect(),
                Shape::Form,
            )
        }
        Provider::Bkash => (
            bkash::callbacks(payment, scenario.reorder)
                .into_iter()
                .map(|u| (u, Vec::new()))
                .collect(),
            Shape::Callback,
        ),
    };
    let copies = 1 + scenario.duplicates.min(MAX_DUPLICATES);
    let delay = Duration::from_millis(scenario.delay_ms);
    notices
        .into_iter()
        .flat_map(|notice| std::iter::repeat_n(notice, copies as usize))
        .map(|(url, body)| Delivery {
            url,
            shape: shape.clone(),
            body,
            delay,
        })
        .collect()
}

impl Deliverable for Delivery {
    fn delay(&self) -> Duration {
        self.delay
    }

    async fn attempt(&self, http: &reqwest::Client, attempt: usize) -> bool {
        let request = match &self.shape {
            Shape::Signed {
                header,
                secret,
                stale,
            } => {
                let timestamp = now_unix() - if *stale { STALE_BY } else { 0 };
                http.post(&self.url)
                    .header(*header, signature::sign(secret, timestamp, &self.body))
                    .header(
                        http::header::CONTENT_TYPE,
                        "application/json; charset=utf-8",
                    )
                    .body(self.body.clone())
            }
            Shape::Form => http
                .post(&self.url)
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(self.body.clone()),
            Shape::Callback => http.get(&self.url),
        };
        let taken = |status: http::StatusCode| {
            status.is_success()
                || (matches!(self.shape, Shape::Callback) && status.is_redirection())
        };
        match request.send().await {
            Ok(response) if taken(response.status()) => return true,
            Ok(response) => {
                tracing::debug!(attempt, status = %response.status(), url = %self.url, "notice refused");
            }
            Err(error) => {
                tracing::debug!(attempt, %error, url = %self.url, "notice not delivered");
            }
        }
        false
    }

    fn give_up(&self) {
        tracing::warn!(url = %self.url, "notice given up after its retries");
    }
}
