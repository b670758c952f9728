//! Delivery reports: which report a taken message sends under the scenario (delivered,
//! failed or none, copies, a delay), in its provider's shape, and sending them one after
//! another from a spawned task, each retried after 100 ms, 300 ms and 1 s until it gets a
//! 2xx. Twilio's is a form signed with `X-Twilio-Signature` over the callback URL; Africa's
//! Talking's and BulkSMSBD's are forms, SSL Wireless's JSON, the generic one a GET.

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;

use super::{Received, ReportOutcome, SmsScenario};
use crate::sim_server::Deliverable;
use crate::sms::SmsProvider;
use crate::sms::report::twilio_signature;

/// The most extra copies of a report sent, whatever the scenario asks.
const MAX_DUPLICATES: u32 = 100;

/// What a form value keeps unescaped.
const FORM_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The account a report is signed for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Credentials<'a> {
    /// Twilio's Account SID.
    pub(super) username: &'a str,
    /// Twilio's Auth Token, which signs its reports.
    pub(super) secret: &'a str,
}

/// How one report travels.
#[derive(Debug, Clone)]
enum Shape {
    /// A form POST, signed when `signature` is set.
    Form { signature: Option<String> },
    /// A JSON POST.
    Json,
    /// A GET of the URL, the fields in its query string.
    Get,
}

/// One report to send.
#[derive(Debug)]
pub(super) struct Delivery {
    url: String,
    shape: Shape,
    body: Vec<u8>,
    delay: Duration,
}

/// The deliveries for `message`, just taken: none without a callback URL or when the
/// scenario is silent, else its report and the copies asked for.
pub(super) fn plan(
    message: &Received,
    scenario: &SmsScenario,
    credentials: Credentials<'_>,
) -> Vec<Delivery> {
    let Some(url) = &message.callback_url else {
        return Vec::new();
    };
    let delivered = match scenario.report {
        ReportOutcome::Delivered => true,
        ReportOutcome::Failed => false,
        ReportOutcome::Silent => return Vec::new(),
    };
    let id = message.provider_id.as_str();
    let (url, shape, body) = match message.provider {
        SmsProvider::Twilio => {
            let status = if delivered {
                "delivered"
            } else {
                "undelivered"
            };
            let mut fields = vec![
                ("SmsSid", id),
                ("SmsStatus", status),
                ("MessageStatus", status),
                ("To", message.to.as_str()),
                ("MessageSid", id),
                ("AccountSid", credentials.username),
                ("From", message.sender.as_str()),
                ("ApiVersion", "2010-04-01"),
            ];
            if !delivered {
                fields.push(("ErrorCode", "30003"));
            }
            let params: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            let signature = twilio_signature(credentials.secret, url, &params);
            let shape = Shape::Form {
                signature: Some(signature),
            };
            (url.clone(), shape, encode(&fields).into_bytes())
        }
        SmsProvider::Africastalking => {
            let mut fields = vec![
                ("id", id),
                ("status", if delivered { "Success" } else { "Failed" }),
                ("phoneNumber", message.to.as_str()),
                ("networkCode", "63902"),
                ("retryCount", "0"),
            ];
            if !delivered {
                fields.push(("failureReason", "UserIsInactive"));
            }
            let shape = Shape::Form { signature: None };
            (url.clone(), shape, encode(&fields).into_bytes())
        }
        SmsProvider::Bulksmsbd => {
            let mut fields = vec![
                ("message_id", id),
                ("number", message.to.as_str()),
                ("status", if delivered { "Delivered" } else { "Failed" }),
            ];
            if !delivered {
                fields.push(("error", "Absent subscriber"));
            }
            let shape = Shape::Form { signature: None };
            (url.clone(), shape, encode(&fields).into_bytes())
        }
        SmsProvider::Sslwireless => {
            let body = json!({
                "reference_id": id,
                "csms_id": message.reference,
                "msisdn": message.to,
                "status": if delivered { "DELIVERED" } else { "FAILED" },
                "error_message": if delivered { "" } else { "Absent subscriber" },
            });
            (url.clone(), Shape::Json, body.to_string().into_bytes())
        }
        SmsProvider::Generic => {
            let mut fields = vec![
                ("id", id),
                ("ref", message.reference.as_deref().unwrap_or_default()),
                ("to", message.to.as_str()),
                ("status", if delivered { "delivered" } else { "failed" }),
            ];
            if !delivered {
                fields.push(("error", "absent subscriber"));
            }
            let separator = if url.contains('?') { '&' } else { '?' };
            let url = format!("{url}{separator}{}", encode(&fields));
            (url, Shape::Get, Vec::new())
        }
    };
    let copies = 1 + scenario.duplicate_reports.min(MAX_DUPLICATES);
    let delay = Duration::from_millis(scenario.report_delay_ms);
    (0..copies)
        .map(|_| Delivery {
            url: url.clone(),
            shape: shape.clone(),
            body: body.clone(),
            delay,
        })
        .collect()
}

/// `name=value&…`, values percent-encoded.
fn encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, FORM_VALUE)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Deliverable for Delivery {
    fn delay(&self) -> Duration {
        self.delay
    }

    async fn attempt(&self, http: &reqwest::Client, attempt: usize) -> bool {
        let request = match &self.shape {
            Shape::Form { signature } => {
                let request = http
                    .post(&self.url)
                    .header(
                        http::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(self.body.clone());
                match signature {
                    Some(signature) => request.header("x-twilio-signature", signature),
                    None => request,
                }
            }
            Shape::Json => http
                .post(&self.url)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(self.body.clone()),
            Shape::Get => http.get(&self.url),
        };
        match request.send().await {
            Ok(response) if response.status().is_success() => return true,
            Ok(response) => {
                tracing::debug!(attempt, status = %response.status(), "SMS report refused");
            }
            Err(error) => {
                tracing::debug!(attempt, error = %error.without_url(), "SMS report not delivered");
            }
        }
        false
    }

    fn give_up(&self) {
        tracing::warn!("SMS report given up after its retries");
    }
}
