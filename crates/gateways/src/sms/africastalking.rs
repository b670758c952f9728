//! Africa's Talking bulk SMS: `POST {base}/version1/messaging` with the header `apiKey`,
//! `Accept: application/json`, and the form `username`, `to` (E.164), `message`, and `from`
//! when a sender id is set (else the account's default). The answer (201) is
//! `{"SMSMessageData": {"Message": "Sent to 1/1 Total Cost: KES 0.8000", "Recipients":
//! [{"statusCode": 101, "number", "status": "Success", "cost", "messageId"}]}}`: status
//! codes 100 (processed), 101 (sent) and 102 (queued) are taken, with `messageId` as the
//! provider id; 500 to 502 (internal, gateway errors) are transient; the rest (401 risk
//! hold, 402 invalid sender id, 403 invalid phone number, 405 insufficient balance, 406
//! blacklisted, …) are final. No recipient at all is a refusal, with the summary
//! `Message` as the reason. A non-2xx answer (401 for a bad key, as text) is refused by its
//! status. The sandbox is `https://api.sandbox.africastalking.com` with the username
//! `sandbox`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::transport::{self, Answer};
use super::{Accepted, OutgoingSms, SmsError, hidden};

/// An Africa's Talking account's settings.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AfricasTalkingConfig {
    /// The API base: `https://api.africastalking.com` (the default), the sandbox's, or the
    /// simulator's.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The application's username (`sandbox` in the sandbox). Not secret.
    pub username: String,
    /// The API key. Secret.
    pub api_key: String,
    /// The sender id or short code (`from`); empty uses the account's default.
    #[serde(default)]
    pub sender: String,
}

fn default_base_url() -> String {
    "https://api.africastalking.com".to_owned()
}

impl fmt::Debug for AfricasTalkingConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AfricasTalkingConfig")
            .field("base_url", &self.base_url)
            .field("username", &self.username)
            .field("api_key", &hidden(&self.api_key))
            .field("sender", &self.sender)
            .finish()
    }
}

#[derive(Debug, Deserialize)]
struct SendAnswer {
    #[serde(rename = "SMSMessageData")]
    data: MessageData,
}

#[derive(Debug, Deserialize)]
struct MessageData {
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "Recipients", default)]
    recipients: Vec<Recipient>,
}

#[derive(Debug, Deserialize)]
struct Recipient {
    #[serde(rename = "statusCode")]
    status_code: Option<i64>,
    status: Option<String>,
    #[serde(rename = "messageId")]
    message_id: Option<String>,
}

/// The Africa's Talking driver.
#[derive(Debug)]
pub(super) struct AfricasTalking {
    config: AfricasTalkingConfig,
    url: reqwest::Url,
    http: reqwest::Client,
}

impl AfricasTalking {
    /// Checks the base URL and that the username and the key are set.
    pub(super) fn new(
        config: AfricasTalkingConfig,
        http: reqwest::Client,
    ) -> Result<Self, SmsError> {
        if config.username.is_empty() || config.api_key.is_empty() {
            return Err(SmsError::Invalid(
                "africastalking needs username and api_key".to_owned(),
            ));
        }
        let url = transport::endpoint(&config.base_url, &["version1", "messaging"])?;
        Ok(AfricasTalking { config, url, http })
    }

    /// Sends `message`.
    pub(super) async fn send(&self, message: &OutgoingSms) -> Result<Accepted, SmsError> {
        let mut form = vec![
            ("username", self.config.username.as_str()),
            ("to", message.to.as_str()),
            ("message", message.text.as_str()),
        ];
        if !self.config.sender.is_empty() {
            form.push(("from", self.config.sender.as_str()));
        }
        let request = self
            .http
            .post(self.url.clone())
            .header("apiKey", &self.config.api_key)
            .header(http::header::ACCEPT, "application/json")
            .form(&form);
        accepted(&transport::exchange(request).await?)
    }
}

/// Reads the answer to a send.
fn accepted(answer: &Answer) -> Result<Accepted, SmsError> {
    if !answer.status.is_success() {
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        return Err(transport::refusal(answer.status, None, Some(text)));
    }
    let parsed: SendAnswer = serde_json::from_slice(&answer.body)
        .map_err(|_| transport::malformed("the answer is not Africa's Talking JSON"))?;
    let Some(recipient) = parsed.data.recipients.first() else {
        return Err(transport::rejected("no_recipient", &parsed.data.message));
    };
    let code = recipient.status_code.unwrap_or_default();
    let status = recipient.status.as_deref().unwrap_or_default();
    match code {
        100..=102 => {
            let id = recipient
                .message_id
                .as_deref()
                .ok_or_else(|| transport::malformed("the recipient has no messageId"))?;
            Ok(Accepted {
                provider_id: transport::provider_id(id)?,
            })
        }
        500..=599 => Err(SmsError::Transient(format!(
            "africastalking {code}: {}",
            crate::wire::excerpt(status)
        ))),
        _ => Err(transport::rejected(&code.to_string(), status)),
    }
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
    fn a_sent_recipient_gives_its_message_id() {
        let ok = accepted(&answer(
            201,
            r#"{"SMSMessageData":{"Message":"Sent to 1/1 Total Cost: KES 0.8000","Recipients":[{"statusCode":101,"number":"+254711000111","status":"Success","cost":"KES 0.8000","messageId":"ATXid_1"}]}}"#,
        ));
        assert_eq!(ok.unwrap().provider_id, "ATXid_1");
    }

    #[test]
    fn recipient_codes_decide_final_or_transient() {
        let invalid = accepted(&answer(
            201,
            r#"{"SMSMessageData":{"Message":"Sent to 0/1","Recipients":[{"statusCode":403,"status":"InvalidPhoneNumber","messageId":"None"}]}}"#,
        ));
        assert_eq!(
            invalid,
            Err(SmsError::Rejected {
                code: "403".into(),
                message: "InvalidPhoneNumber".into()
            })
        );
        let gateway = accepted(&answer(
            201,
            r#"{"SMSMessageData":{"Recipients":[{"statusCode":501,"status":"GatewayError"}]}}"#,
        ));
        assert!(gateway.unwrap_err().is_retryable());
        let none = accepted(&answer(
            201,
            r#"{"SMSMessageData":{"Message":"InvalidSenderId","Recipients":[]}}"#,
        ));
        assert!(
            matches!(none, Err(SmsError::Rejected { message, .. }) if message == "InvalidSenderId")
        );
        let auth = accepted(&answer(401, "The supplied authentication is invalid"));
        assert!(matches!(auth, Err(SmsError::Rejected { code, .. }) if code == "401"));
    }
}
