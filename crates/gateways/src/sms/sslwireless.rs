//! SSL Wireless ISMS (Bangladesh), JSON API v3: `POST {base}/api/v3/send-sms` with
//! `{"api_token", "sid", "msisdn", "sms", "csms_id"}`, `msisdn` the digits with the country
//! code (`8801712345678`), `csms_id` our reference: SSL Wireless takes a `csms_id` once,
//! which makes a retried send safe. The answer:
//! `{"status": "SUCCESS"|"FAILED", "status_code": 200, "error_message": "",
//! "smsinfo": [{"sms_status": "SUCCESS", "status_message", "msisdn", "csms_id",
//! "reference_id"}]}`. Taken means `status` and the first `smsinfo[].sms_status` both
//! `SUCCESS`; the provider's id is its `reference_id` (else our reference). A `FAILED`
//! answer is final unless its `status_code` is 5xx.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::transport::{self, Answer};
use super::{Accepted, OutgoingSms, SmsError, digits, hidden};

/// An SSL Wireless account's settings.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SslWirelessConfig {
    /// The API base: `https://smsplus.sslwireless.com` (the default), or the simulator's.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The API token (also called the API key). Secret.
    pub api_token: String,
    /// The SID: the sender identity SSL Wireless assigned (a masking name or a number).
    pub sid: String,
}

fn default_base_url() -> String {
    "https://smsplus.sslwireless.com".to_owned()
}

impl fmt::Debug for SslWirelessConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SslWirelessConfig")
            .field("base_url", &self.base_url)
            .field("api_token", &hidden(&self.api_token))
            .field("sid", &self.sid)
            .finish()
    }
}

/// The body of a send.
#[derive(Debug, Serialize)]
struct SendBody<'a> {
    api_token: &'a str,
    sid: &'a str,
    msisdn: &'a str,
    sms: &'a str,
    csms_id: &'a str,
}

/// The answer to a send, the fields we read.
#[derive(Debug, Deserialize)]
struct SendAnswer {
    status: Option<String>,
    status_code: Option<serde_json::Value>,
    error_message: Option<String>,
    #[serde(default)]
    smsinfo: Vec<SmsInfo>,
}

#[derive(Debug, Deserialize)]
struct SmsInfo {
    sms_status: Option<String>,
    status_message: Option<String>,
    reference_id: Option<serde_json::Value>,
}

/// The SSL Wireless driver.
#[derive(Debug)]
pub(super) struct SslWireless {
    config: SslWirelessConfig,
    url: reqwest::Url,
    http: reqwest::Client,
}

impl SslWireless {
    /// Checks the base URL and that the token and the SID are set.
    pub(super) fn new(config: SslWirelessConfig, http: reqwest::Client) -> Result<Self, SmsError> {
        if config.api_token.is_empty() || config.sid.is_empty() {
            return Err(SmsError::Invalid(
                "sslwireless needs api_token and sid".to_owned(),
            ));
        }
        let url = transport::endpoint(&config.base_url, &["api", "v3", "send-sms"])?;
        Ok(SslWireless { config, url, http })
    }

    /// Sends `message`, with its reference as the `csms_id`.
    pub(super) async fn send(&self, message: &OutgoingSms) -> Result<Accepted, SmsError> {
        let body = SendBody {
            api_token: &self.config.api_token,
            sid: &self.config.sid,
            msisdn: digits(&message.to),
            sms: &message.text,
            csms_id: &message.reference,
        };
        let request = self
            .http
            .post(self.url.clone())
            .header(http::header::ACCEPT, "application/json")
            .json(&body);
        accepted(&transport::exchange(request).await?, &message.reference)
    }
}

/// Reads the answer to a send.
fn accepted(answer: &Answer, reference: &str) -> Result<Accepted, SmsError> {
    let parsed: Option<SendAnswer> = serde_json::from_slice(&answer.body).ok();
    let code = parsed
        .as_ref()
        .and_then(|p| p.status_code.as_ref())
        .and_then(transport::scalar);
    let message = parsed.as_ref().and_then(|p| p.error_message.clone());
    if !answer.status.is_success() {
        return Err(transport::refusal(answer.status, code, message));
    }
    let Some(parsed) = parsed else {
        return Err(transport::malformed("the answer is not SSL Wireless JSON"));
    };
    if parsed.status.as_deref() != Some("SUCCESS") {
        let code = code.unwrap_or_else(|| "FAILED".to_owned());
        let message = message
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "failed".to_owned());
        if code
            .trim()
            .parse::<u16>()
            .is_ok_and(|c| (500..600).contains(&c))
        {
            return Err(SmsError::Transient(format!(
                "sslwireless {code}: {message}"
            )));
        }
        return Err(transport::rejected(&code, &message));
    }
    let Some(info) = parsed.smsinfo.first() else {
        return Err(transport::malformed("the answer has no smsinfo"));
    };
    if info.sms_status.as_deref() != Some("SUCCESS") {
        return Err(transport::rejected(
            info.sms_status.as_deref().unwrap_or("FAILED"),
            info.status_message
                .as_deref()
                .unwrap_or("the message was not taken"),
        ));
    }
    let provider_id = match info.reference_id.as_ref().and_then(transport::scalar) {
        Some(id) if !id.is_empty() => transport::provider_id(&id)?,
        _ => reference.to_owned(),
    };
    Ok(Accepted { provider_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str) -> Answer {
        Answer {
            status: reqwest::StatusCode::OK,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn success_needs_both_statuses_and_gives_the_reference_id() {
        let ok = accepted(
            &answer(
                r#"{"status":"SUCCESS","status_code":200,"error_message":"","smsinfo":[{"sms_status":"SUCCESS","status_message":"Success","msisdn":"8801712345678","csms_id":"r1","reference_id":"7f3a"}]}"#,
            ),
            "r1",
        );
        assert_eq!(ok.unwrap().provider_id, "7f3a");
        let refused = accepted(
            &answer(
                r#"{"status":"SUCCESS","smsinfo":[{"sms_status":"FAILED","status_message":"Invalid Mobile No"}]}"#,
            ),
            "r1",
        );
        assert!(
            matches!(refused, Err(SmsError::Rejected { message, .. }) if message == "Invalid Mobile No")
        );
    }

    #[test]
    fn failed_answers_are_final_unless_5xx() {
        let auth = accepted(
            &answer(r#"{"status":"FAILED","status_code":4001,"error_message":"Unauthorized"}"#),
            "r",
        );
        assert_eq!(
            auth,
            Err(SmsError::Rejected {
                code: "4001".into(),
                message: "Unauthorized".into()
            })
        );
        let busy = accepted(
            &answer(r#"{"status":"FAILED","status_code":500,"error_message":"busy"}"#),
            "r",
        );
        assert!(busy.unwrap_err().is_retryable());
        assert!(matches!(
            accepted(&answer("[]"), "r"),
            Err(SmsError::Rejected { .. })
        ));
    }
}
