//! BulkSMSBD (Bangladesh), single-SMS API: `POST {base}/api/smsapi` with the form
//! `api_key`, `type=text`, `number` (digits with the country code, `8801712345678`),
//! `senderid`, `message` (the API takes GET too; POST keeps the key out of access logs).
//! The answer is JSON whatever happened, `{"response_code": 202, "message_id": …,
//! "success_message": …, "error_message": …}`: 202 is "SMS Submitted Successfully"; 1005
//! ("Internal Error") is transient; every other code is a final refusal (1002 sender id,
//! 1007 balance insufficient, 1011 user id not found, 1012 "Masking SMS must be sent in
//! Bengali", …). An answer without a `message_id` takes our reference as the id.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::transport::{self, Answer};
use super::{Accepted, OutgoingSms, SmsError, digits, hidden};

/// The code of a submitted message.
const SUBMITTED: i64 = 202;

/// The code of BulkSMSBD's own failure, worth a retry.
const INTERNAL_ERROR: i64 = 1005;

/// A BulkSMSBD account's settings.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkSmsBdConfig {
    /// The API base: `https://bulksmsbd.net` (the default), or the simulator's.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The API key. Secret.
    pub api_key: String,
    /// The approved sender id (`senderid`): a number, or a masking name.
    pub sender: String,
}

fn default_base_url() -> String {
    "https://bulksmsbd.net".to_owned()
}

impl fmt::Debug for BulkSmsBdConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkSmsBdConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &hidden(&self.api_key))
            .field("sender", &self.sender)
            .finish()
    }
}

/// The BulkSMSBD driver.
#[derive(Debug)]
pub(super) struct BulkSmsBd {
    config: BulkSmsBdConfig,
    url: reqwest::Url,
    http: reqwest::Client,
}

impl BulkSmsBd {
    /// Checks the base URL and that the key and the sender id are set.
    pub(super) fn new(config: BulkSmsBdConfig, http: reqwest::Client) -> Result<Self, SmsError> {
        if config.api_key.is_empty() || config.sender.is_empty() {
            return Err(SmsError::Invalid(
                "bulksmsbd needs api_key and sender".to_owned(),
            ));
        }
        let url = transport::endpoint(&config.base_url, &["api", "smsapi"])?;
        Ok(BulkSmsBd { config, url, http })
    }

    /// Sends `message`.
    pub(super) async fn send(&self, message: &OutgoingSms) -> Result<Accepted, SmsError> {
        let form = [
            ("api_key", self.config.api_key.as_str()),
            ("type", "text"),
            ("number", digits(&message.to)),
            ("senderid", self.config.sender.as_str()),
            ("message", message.text.as_str()),
        ];
        let request = self
            .http
            .post(self.url.clone())
            .header(http::header::ACCEPT, "application/json")
            .form(&form);
        accepted(&transport::exchange(request).await?, &message.reference)
    }
}

/// Reads the answer to a send.
fn accepted(answer: &Answer, reference: &str) -> Result<Accepted, SmsError> {
    let json: Option<serde_json::Value> = serde_json::from_slice(&answer.body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(transport::scalar)
    };
    let code = field("response_code");
    let message = field("error_message")
        .filter(|m| !m.is_empty())
        .or_else(|| field("success_message"));
    if !answer.status.is_success() {
        return Err(transport::refusal(answer.status, code, message));
    }
    let Some(code) = code else {
        return Err(transport::malformed("the answer has no response_code"));
    };
    match code.trim().parse::<i64>() {
        Ok(SUBMITTED) => {
            let provider_id = match field("message_id").filter(|id| !id.is_empty()) {
                Some(id) => transport::provider_id(&id)?,
                None => reference.to_owned(),
            };
            Ok(Accepted { provider_id })
        }
        Ok(INTERNAL_ERROR) => Err(SmsError::Transient(format!(
            "bulksmsbd {code}: {}",
            message.as_deref().unwrap_or("Internal Error")
        ))),
        _ => Err(transport::rejected(
            &code,
            message.as_deref().unwrap_or_else(|| describe(&code)),
        )),
    }
}

/// BulkSMSBD's meaning of a code, for answers that carry no message.
fn describe(code: &str) -> &'static str {
    match code {
        "1002" => "sender id not correct or disabled",
        "1003" => "required fields missing",
        "1006" => "balance validity not available",
        "1007" => "balance insufficient",
        "1011" => "user id not found",
        "1012" => "masking SMS must be sent in Bengali",
        "1013" | "1015" => "no gateway found for this sender id",
        "1018" => "account disabled",
        _ => "refused",
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
    fn code_202_is_accepted_with_the_message_id() {
        let ok = accepted(
            &answer(
                200,
                r#"{"response_code":202,"message_id":81234,"success_message":"SMS Submitted Successfully","error_message":""}"#,
            ),
            "r1",
        );
        assert_eq!(ok.unwrap().provider_id, "81234");
        let no_id = accepted(&answer(200, r#"{"response_code":"202"}"#), "r1");
        assert_eq!(no_id.unwrap().provider_id, "r1");
    }

    #[test]
    fn other_codes_are_refusals_and_1005_is_transient() {
        let balance = accepted(
            &answer(
                200,
                r#"{"response_code":1007,"error_message":"Balance Insufficient"}"#,
            ),
            "r",
        );
        assert_eq!(
            balance,
            Err(SmsError::Rejected {
                code: "1007".into(),
                message: "Balance Insufficient".into()
            })
        );
        let bengali = accepted(&answer(200, r#"{"response_code":1012}"#), "r");
        assert!(
            matches!(bengali, Err(SmsError::Rejected { message, .. }) if message.contains("Bengali"))
        );
        assert!(
            accepted(&answer(200, r#"{"response_code":1005}"#), "r")
                .unwrap_err()
                .is_retryable()
        );
        assert!(
            accepted(&answer(503, "<html>"), "r")
                .unwrap_err()
                .is_retryable()
        );
        assert!(
            matches!(accepted(&answer(200, "<html>"), "r"), Err(SmsError::Rejected { code, .. }) if code == "malformed_answer")
        );
    }
}
