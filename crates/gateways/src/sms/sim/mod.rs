//! A simulated SMS gateway speaking five providers' send APIs on loopback, each under its
//! own prefix (what [`SimSms::base_url`] gives): Twilio's under `/twilio`, BulkSMSBD's
//! under `/bulksmsbd`, SSL Wireless's under `/sslwireless`, Africa's Talking's under
//! `/africastalking` and a generic one under `/generic`. Tests, the demo and
//! `lastmile dev fake-sms` start one; an [`SmsScenario`] and [`SimSms::fail_next`] make it
//! misbehave the ways real gateways do. It keeps every message it took in memory
//! ([`SimSms::messages`], also served as JSON at `GET /_messages?to=`, where a browser test
//! reads its OTP) and knows nothing of lastmile.
//!
//! Credentials, from [`SimSmsConfig`]: `secret` is Twilio's Auth Token, Africa's Talking's
//! and BulkSMSBD's API key, SSL Wireless's API token and the generic API's `key`;
//! `username` is Twilio's Account SID and Africa's Talking's username. SSL Wireless's `sid`
//! and BulkSMSBD's `senderid` may be anything not empty.
//!
//! Routes, answering as the provider does (see the drivers' modules for the shapes):
//!
//! - `POST /twilio/2010-04-01/Accounts/{sid}/Messages.json` (Basic auth, form): 201 with
//!   the message; 401 `20003`; 400 `21211` for a refused number;
//! - `GET|POST /bulksmsbd/api/smsapi` (query or form): `response_code` 202 with a
//!   `message_id`; 1011 for a bad key, 1002 without a sender id, 1001 (the simulator's)
//!   for a refused number;
//! - `GET|POST /sslwireless/api/v3/send-sms` (query or JSON): `SUCCESS` with `smsinfo`;
//!   `FAILED` 4001 for bad credentials; `smsinfo[].sms_status` `FAILED` for a refused
//!   number. A `csms_id` seen before gets the first answer again and is not sent twice;
//! - `POST /africastalking/version1/messaging` (`apiKey` header, form): 201 with
//!   `Recipients`; 401 text for bad credentials; recipient `statusCode` 403
//!   `InvalidPhoneNumber` for a refused number;
//! - `GET|POST /generic/send` (query, form or JSON: `key`, `to`, `text`, `from`, `ref`):
//!   200 `{"ok": true, "id": "gen_…"}`; 401 for a bad key; 400 for a refused number. A
//!   `ref` seen before gets the first answer again and is not sent twice.
//!
//! Under [`SimSms::fail_next`] each of them answers 503 (with a body in the provider's
//! shape). A taken message sends one delivery report, unless the scenario says otherwise,
//! from a spawned task, retried after 100 ms, 300 ms and 1 s without a 2xx: Twilio's to the
//! message's `StatusCallback` (a form signed with `X-Twilio-Signature`), the others' to
//! the configured `callback_url` (Africa's Talking's and BulkSMSBD's as forms, SSL
//! Wireless's as JSON, the generic one as a GET with a query string; see
//! [`super::report`] for the fields). The pieces: `routes` (the APIs) and `deliver` (the
//! reports).

mod deliver;
mod routes;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use rand::RngExt as _;
use serde::Serialize;
use subtle::ConstantTimeEq as _;

use super::SmsProvider;
use crate::sim_server::{Deliveries, Running, lock};

/// The largest request body the simulator reads.
const MAX_REQUEST: usize = 64 * 1024;

/// The most messages it keeps; past it, sends are answered 503.
const MAX_MESSAGES: usize = 10_000;

/// What the delivery report of a taken message says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReportOutcome {
    /// Delivered to the handset.
    #[default]
    Delivered,
    /// Not delivered (Twilio `undelivered` with error 30003, Africa's Talking `Failed`…).
    Failed,
    /// No report at all, as from a provider or a network that sends none.
    Silent,
}

/// How the simulator misbehaves. Everything off by default: a well-behaved gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsScenario {
    /// Numbers starting with this E.164 prefix (`+88019`) are refused for good, in each
    /// provider's way.
    pub reject_prefix: Option<String>,
    /// How long every API request waits before it is answered, in milliseconds.
    pub delay_ms: u64,
    /// What the delivery reports say.
    pub report: ReportOutcome,
    /// How long after the send each report leaves, in milliseconds.
    pub report_delay_ms: u64,
    /// Extra copies of each report (the same report again, as providers redeliver).
    pub duplicate_reports: u32,
}

/// What to run.
#[derive(Clone)]
pub struct SimSmsConfig {
    /// Where to listen (port 0 for any).
    pub listen: SocketAddr,
    /// Twilio's Account SID and Africa's Talking's username. Not secret.
    pub username: String,
    /// The key every API checks (see the module's header). Secret.
    pub secret: String,
    /// Where the reports of every provider but Twilio go (Twilio's go to each message's
    /// `StatusCallback`); none sends none.
    pub callback_url: Option<String>,
    /// How it behaves at first ([`SimSms::set_scenario`] changes it).
    pub scenario: SmsScenario,
}

impl fmt::Debug for SimSmsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimSmsConfig")
            .field("listen", &self.listen)
            .field("username", &self.username)
            .field("secret", &super::hidden(&self.secret))
            .field("callback_url", &self.callback_url)
            .field("scenario", &self.scenario)
            .finish()
    }
}

/// One message the simulator took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Received {
    /// Which API took it.
    pub provider: SmsProvider,
    /// The number as the request gave it (`+8801712345678`, `8801712345678` or
    /// `01712345678`, per API and template).
    pub to: String,
    /// The text, exactly as sent.
    pub text: String,
    /// The sender id (`From`, `from`, `senderid`, `sid`), or the Messaging Service SID;
    /// empty when none was given.
    pub sender: String,
    /// Our reference, for the APIs that carry one (SSL Wireless's `csms_id`, the generic
    /// `ref`).
    pub reference: Option<String>,
    /// The id the simulator answered with.
    pub provider_id: String,
    /// Where its delivery report goes, if anywhere.
    pub callback_url: Option<String>,
}

/// What a send asks the simulator to keep.
#[derive(Debug)]
struct Draft {
    provider: SmsProvider,
    to: String,
    text: String,
    sender: String,
    reference: Option<String>,
    callback_url: Option<String>,
}

/// State every route shares.
struct Shared {
    username: String,
    secret: String,
    callback_url: Option<String>,
    scenario: Mutex<SmsScenario>,
    fail_next: AtomicU32,
    attempts: AtomicU64,
    next_number: AtomicU64,
    messages: Mutex<Vec<Received>>,
    deliveries: Deliveries,
}

/// `prefix` and 32 random lower-case hex digits.
fn new_hex_id(prefix: &str) -> String {
    let mut rng = rand::rng();
    let tail: String = (0..32)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16usize)]))
        .collect();
    format!("{prefix}{tail}")
}

/// Whether `given` is `expected`, in constant time; an empty `expected` matches nothing.
fn same_secret(given: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// A number as an API gave it, read back into E.164: `+…` as it is, `880…` and other
/// country codes with a `+`, `01…` as a Bangladeshi number. `None` unless it has 7 to 15
/// digits.
fn e164(number: &str) -> Option<String> {
    let number = number.trim();
    let digits = number.strip_prefix('+').unwrap_or(number);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let full = match digits.strip_prefix('0') {
        Some(national) if !number.starts_with('+') => format!("880{national}"),
        _ => digits.to_owned(),
    };
    (7..=15).contains(&full.len()).then(|| format!("+{full}"))
}

/// Why a message was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// The number is unusable, or refused by the scenario.
    Number,
    /// The simulator holds as many messages as it will.
    Full,
}

impl Shared {
    fn scenario(&self) -> SmsScenario {
        lock(&self.scenario).clone()
    }

    /// What every API does first: count the attempt, wait the scenario's delay, and say
    /// whether this request is one of the `fail_next` that get a 503.
    async fn arrive(&self) -> bool {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        let delay = self.scenario().delay_ms;
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        self.fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// A fresh BulkSMSBD-style numeric id.
    fn next_number(&self) -> u64 {
        self.next_number.fetch_add(1, Ordering::Relaxed)
    }

    /// Keeps `draft` under the id `new_id` makes and plans its report; a reference seen
    /// before for the same provider gives back the first message instead, sending nothing.
    fn take(&self, draft: Draft, new_id: impl FnOnce() -> String) -> Result<Received, Refusal> {
        let Some(number) = e164(&draft.to) else {
            return Err(Refusal::Number);
        };
        let scenario = self.scenario();
        if scenario
            .reject_prefix
            .as_deref()
            .is_some_and(|prefix| !prefix.is_empty() && number.starts_with(prefix))
        {
            return Err(Refusal::Number);
        }
        let received = {
            let mut messages = lock(&self.messages);
            if let Some(reference) = &draft.reference
                && let Some(first) = messages.iter().find(|m| {
                    m.provider == draft.provider && m.reference.as_ref() == Some(reference)
                })
            {
                return Ok(first.clone());
            }
            if messages.len() >= MAX_MESSAGES {
                return Err(Refusal::Full);
            }
            let received = Received {
                provider: draft.provider,
                to: draft.to,
                text: draft.text,
                sender: draft.sender,
                reference: draft.reference,
                provider_id: new_id(),
                callback_url: draft.callback_url,
            };
            messages.push(received.clone());
            received
        };
        let credentials = deliver::Credentials {
            username: &self.username,
            secret: &self.secret,
        };
        let plan = deliver::plan(&received, &scenario, credentials);
        self.deliveries.send(plan);
        Ok(received)
    }
}

/// A running simulated SMS gateway. Dropping it stops it.
pub struct SimSms {
    shared: Arc<Shared>,
    running: Running,
}

impl fmt::Debug for SimSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimSms")
            .field("addr", &self.running.addr())
            .field("scenario", &self.shared.scenario())
            .finish_non_exhaustive()
    }
}

impl Drop for SimSms {
    fn drop(&mut self) {
        self.shared.deliveries.abort_all();
    }
}

impl SimSms {
    /// Binds `config.listen` and serves on a spawned task.
    pub async fn start(config: SimSmsConfig) -> std::io::Result<SimSms> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let deliveries = Deliveries::new()?;
        let shared = Arc::new(Shared {
            username: config.username,
            secret: config.secret,
            callback_url: config.callback_url,
            scenario: Mutex::new(config.scenario),
            fail_next: AtomicU32::new(0),
            attempts: AtomicU64::new(0),
            next_number: AtomicU64::new(100_001),
            messages: Mutex::new(Vec::new()),
            deliveries,
        });
        let app = routes(Arc::clone(&shared));
        let running = Running::serve(listener, app, "simulated SMS gateway")?;
        Ok(SimSms { shared, running })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.running.addr()
    }

    /// The API base for `provider`, for its driver's `base_url`: `http://ADDR/twilio`,
    /// `http://ADDR/bulksmsbd`… (for the generic API, `http://ADDR/generic`, under which
    /// `/send` takes messages).
    pub fn base_url(&self, provider: SmsProvider) -> String {
        format!("http://{}/{}", self.running.addr(), provider.as_str())
    }

    /// Changes how it behaves from now on (reports already planned keep their scenario).
    pub fn set_scenario(&self, scenario: SmsScenario) {
        *lock(&self.shared.scenario) = scenario;
    }

    /// Answers the next `n` API requests, of any provider, with 503.
    pub fn fail_next(&self, n: u32) {
        self.shared.fail_next.store(n, Ordering::SeqCst);
    }

    /// How many API requests it has had, refused and failed ones included.
    pub fn attempts(&self) -> u64 {
        self.shared.attempts.load(Ordering::Relaxed)
    }

    /// Every message it took, oldest first (a message sent twice under the same reference
    /// is here once).
    pub fn messages(&self) -> Vec<Received> {
        lock(&self.shared.messages).clone()
    }

    /// Stops serving (requests in progress finish) and abandons reports not yet sent.
    pub async fn shutdown(mut self) {
        self.running.shutdown().await;
    }
}

fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/twilio/2010-04-01/Accounts/{sid}/Messages.json",
            post(routes::twilio),
        )
        .route(
            "/bulksmsbd/api/smsapi",
            get(routes::bulksmsbd).post(routes::bulksmsbd),
        )
        .route(
            "/sslwireless/api/v3/send-sms",
            get(routes::sslwireless).post(routes::sslwireless),
        )
        .route(
            "/africastalking/version1/messaging",
            post(routes::africastalking),
        )
        .route("/generic/send", get(routes::generic).post(routes::generic))
        .route("/_messages", get(routes::messages))
        .layer(DefaultBodyLimit::max(MAX_REQUEST))
        .with_state(shared)
}

/// The fields of a request: its query string's and its body's (a form or a JSON object),
/// each name at most once across both.
fn request_fields(query: Option<&str>, body: &[u8]) -> Result<HashMap<String, String>, String> {
    let read =
        |bytes: &[u8]| super::report::fields_within(bytes, MAX_REQUEST).map_err(|e| e.to_string());
    let mut fields = read(query.unwrap_or_default().as_bytes())?;
    for (key, value) in read(body)? {
        if fields.contains_key(&key) {
            return Err(format!(
                "field {} is given twice",
                crate::wire::excerpt(&key)
            ));
        }
        fields.insert(key, value);
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_back_into_e164() {
        assert_eq!(e164("+8801712345678").as_deref(), Some("+8801712345678"));
        assert_eq!(e164("8801712345678").as_deref(), Some("+8801712345678"));
        assert_eq!(e164("01712345678").as_deref(), Some("+8801712345678"));
        assert_eq!(e164("+254711000111").as_deref(), Some("+254711000111"));
        assert_eq!(e164(""), None);
        assert_eq!(e164("+"), None);
        assert_eq!(e164("017-1234"), None);
        assert_eq!(e164("1234"), None);
    }

    #[test]
    fn ids_are_random_hex() {
        let id = new_hex_id("SM");
        assert_eq!(id.len(), 34);
        assert!(id[2..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, new_hex_id("SM"));
    }

    #[test]
    fn request_fields_join_query_and_body_once_each() {
        let fields = request_fields(Some("a=1"), b"b=2").unwrap();
        assert_eq!(fields.len(), 2);
        let json = request_fields(None, br#"{"to":"8801712345678","n":5}"#).unwrap();
        assert_eq!(json["n"], "5");
        assert!(request_fields(Some("a=1"), b"a=2").is_err());
    }
}
