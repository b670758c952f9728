//! Twilio Programmable Messaging: `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`
//! with HTTP Basic auth (the Account SID and the Auth Token) and the form `To`, `From` (or
//! `MessagingServiceSid`, which then picks the sender), `Body`, and `StatusCallback` when
//! one is set. Taken is a 2xx (Twilio answers 201) whose JSON has the message's `sid`
//! (`SM…`), its provider id. A refusal is `{"code": 21211, "message": "…", "status": 400}`:
//! final for 4xx (bad number, bad credentials, unverified sender…), transient for 429 and
//! 5xx. Twilio keeps no idempotency key for this call: a retried send after a timeout may
//! send twice. Delivery reports go to `StatusCallback`, signed (see
//! [`super::report::verify_twilio`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::transport::{self, Answer};
use super::{Accepted, OutgoingSms, SmsError, hidden};

/// A Twilio account's settings.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioConfig {
    /// The API base: `https://api.twilio.com` (the default), or the simulator's.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The Account SID (`AC…`): the Basic auth user and part of the path. Not secret.
    pub account_sid: String,
    /// The Auth Token: the Basic auth password, and the key status callbacks are signed
    /// with. Secret.
    pub auth_token: String,
    /// The `From` number or alphanumeric sender id; may be empty when
    /// `messaging_service_sid` is set.
    #[serde(default)]
    pub sender: String,
    /// A Messaging Service (`MG…`) to send through instead of `From`.
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    /// Where Twilio sends this gateway's delivery reports (`StatusCallback`).
    #[serde(default)]
    pub status_callback: Option<String>,
}

fn default_base_url() -> String {
    "https://api.twilio.com".to_owned()
}

impl fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &hidden(&self.auth_token))
            .field("sender", &self.sender)
            .field("messaging_service_sid", &self.messaging_service_sid)
            .field("status_callback", &self.status_callback)
            .finish()
    }
}

/// A Twilio answer, the fields we read (success and refusal alike).
#[derive(Debug, Deserialize)]
struct MessageAnswer {
    sid: Option<String>,
    code: Option<serde_json::Value>,
    message: Option<String>,
}

/// The Twilio driver.
#[derive(Debug)]
pub(super) struct Twilio {
    config: TwilioConfig,
    url: reqwest::Url,
    http: reqwest::Client,
}

impl Twilio {
    /// Checks the base URL, the account, and that there is a sender.
    pub(super) fn new(config: TwilioConfig, http: reqwest::Client) -> Result<Self, SmsError> {
        let invalid = |m: &str| Err(SmsError::Invalid(m.to_owned()));
        if config.account_sid.is_empty()
            || !config
                .account_sid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric())
        {
            return invalid("twilio account_sid must be letters and digits");
        }
        if config.auth_token.is_empty() {
            return invalid("twilio needs auth_token");
        }
        let service = config.messaging_service_sid.as_deref().unwrap_or_default();
        if config.sender.is_empty() && service.is_empty() {
            return invalid("twilio needs sender or messaging_service_sid");
        }
        if let Some(callback) = &config.status_callback {
            let url = reqwest::Url::parse(callback);
            if !url.is_ok_and(|u| matches!(u.scheme(), "https" | "http")) {
                return invalid("twilio status_callback is not an http(s) URL");
            }
        }
        let url = transport::endpoint(
            &config.base_url,
            &[
                "2010-04-01",
                "Accounts",
                &config.account_sid,
                "Messages.json",
            ],
        )?;
        Ok(Twilio { config, url, http })
    }

    /// Sends `message`.
    pub(super) async fn send(&self, message: &OutgoingSms) -> Result<Accepted, SmsError> {
        let mut form = vec![("To", message.to.as_str()), ("Body", message.text.as_str())];
        match self.config.messaging_service_sid.as_deref() {
            Some(service) if !service.is_empty() => form.push(("MessagingServiceSid", service)),
            _ => form.push(("From", self.config.sender.as_str())),
        }
        if let Some(callback) = &self.config.status_callback {
            form.push(("StatusCallback", callback.as_str()));
        }
        let request = self
            .http
            .post(self.url.clone())
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .header(http::header::ACCEPT, "application/json")
            .form(&form);
        accepted(&transport::exchange(request).await?)
    }
}

/// Reads the answer to a send.
fn accepted(answer: &Answer) -> Result<Accepted, SmsError> {
    let parsed: Option<MessageAnswer> = serde_json::from_slice(&answer.body).ok();
    if !answer.status.is_success() {
        let code = parsed
            .as_ref()
            .and_then(|p| p.code.as_ref())
            .and_then(transport::scalar);
        let message = parsed.and_then(|p| p.message);
        return Err(transport::refusal(answer.status, code, message));
    }
    let sid = parsed
        .and_then(|p| p.sid)
        .ok_or_else(|| transport::malformed("the answer has no sid"))?;
    Ok(Accepted {
        provider_id: transport::provider_id(&sid)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_201_gives_the_sid() {
        let ok = accepted(&answer(
            201,
            r#"{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}"#,
        ));
        assert_eq!(
            ok.unwrap().provider_id,
            "SM0123456789abcdef0123456789abcdef"
        );
        assert!(matches!(
            accepted(&answer(201, "{}")),
            Err(SmsError::Rejected { .. })
        ));
    }

    #[test]
    fn errors_carry_twilios_code_and_429_and_5xx_are_transient() {
        let bad = accepted(&answer(
            400,
            r#"{"code":21211,"message":"The 'To' number is not a valid phone number.","status":400}"#,
        ));
        assert_eq!(
            bad,
            Err(SmsError::Rejected {
                code: "21211".into(),
                message: "The 'To' number is not a valid phone number.".into()
            })
        );
        assert!(
            accepted(&answer(
                429,
                r#"{"code":20429,"message":"Too Many Requests"}"#
            ))
            .unwrap_err()
            .is_retryable()
        );
        assert!(accepted(&answer(500, "")).unwrap_err().is_retryable());
    }
}
