//! What the HTTP drivers share: building a provider URL from a configured base (HTTPS, or
//! plain HTTP to loopback only, so a mistyped base cannot send a key in clear), making one
//! request and reading its answer up to [`MAX_ANSWER`] bytes, and mapping failures onto
//! [`SmsError`]: no answer, 429 and 5xx are transient; other refusals are final. Error
//! messages never carry a URL (a generic template's may hold a key).

use std::error::Error as _;

use percent_encoding::utf8_percent_encode;
use reqwest::{StatusCode, Url};

use super::SmsError;
use crate::wire;

/// The largest answer read from a provider: SMS answers are a few hundred bytes.
pub(super) const MAX_ANSWER: usize = 64 * 1024;

/// A provider's answer: its status and its body, read in full.
#[derive(Debug)]
pub(super) struct Answer {
    /// The HTTP status.
    pub(super) status: StatusCode,
    /// The body, at most [`MAX_ANSWER`] bytes.
    pub(super) body: Vec<u8>,
}

/// `{base_url}/{segments…}`, each segment escaped, checked by [`check_url`].
pub(super) fn endpoint(base_url: &str, segments: &[&str]) -> Result<Url, SmsError> {
    let mut text = base_url.trim_end_matches('/').to_owned();
    for segment in segments {
        text.push('/');
        text.extend(utf8_percent_encode(segment, wire::PATH_SEGMENT));
    }
    let url = Url::parse(&text).map_err(|_| invalid("base_url is not a URL"))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("base_url must not have a query or fragment"));
    }
    check_url(&url, false)?;
    Ok(url)
}

/// Whether `url` may carry a request: no credentials in it, and HTTPS, or plain HTTP to
/// loopback (anywhere when `allow_plain_http`).
pub(super) fn check_url(url: &Url, allow_plain_http: bool) -> Result<(), SmsError> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("the URL must not carry credentials"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_plain_http || crate::client::is_loopback(url) => Ok(()),
        "http" => Err(invalid(
            "the URL uses plain HTTP to a host other than loopback",
        )),
        _ => Err(invalid("the URL is neither https nor http")),
    }
}

/// Sends `request` and reads the answer, whatever its status. No answer (timeout, refused
/// connection, an answer cut short) is [`SmsError::Transient`]; an answer over
/// [`MAX_ANSWER`] is transient with a status that says so (429, 5xx) and otherwise
/// `Rejected { code: "oversized_answer" }`.
pub(super) async fn exchange(request: reqwest::RequestBuilder) -> Result<Answer, SmsError> {
    let mut response = request.send().await.map_err(transport)?;
    let status = response.status();
    let oversized = || {
        let message = format!("the answer is larger than {MAX_ANSWER} bytes");
        if is_transient(status) {
            SmsError::Transient(message)
        } else {
            rejected("oversized_answer", &message)
        }
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER as u64)
    {
        return Err(oversized());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(oversized());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer { status, body })
}

/// Whether a status asks to come back later: 429 and 5xx.
pub(super) fn is_transient(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The error for a non-2xx answer: transient for 429 and 5xx, else rejected with `code`
/// (the provider's, else the status) and `message` (else the status's reason).
pub(super) fn refusal(
    status: StatusCode,
    code: Option<String>,
    message: Option<String>,
) -> SmsError {
    let message = message
        .filter(|m| !m.trim().is_empty())
        .or_else(|| status.canonical_reason().map(str::to_owned))
        .unwrap_or_default();
    if is_transient(status) {
        SmsError::Transient(format!(
            "HTTP {}: {}",
            status.as_u16(),
            wire::excerpt(&message)
        ))
    } else {
        rejected(
            &code.unwrap_or_else(|| status.as_u16().to_string()),
            &message,
        )
    }
}

/// A final refusal with `code` and `message`, both cut to an excerpt.
pub(super) fn rejected(code: &str, message: &str) -> SmsError {
    SmsError::Rejected {
        code: wire::excerpt(code),
        message: wire::excerpt(message),
    }
}

/// A 2xx answer we cannot read: final, since retrying might send the message twice.
pub(super) fn malformed(message: &str) -> SmsError {
    rejected("malformed_answer", message)
}

/// The provider's id of a message: 1 to 255 printable ASCII characters.
pub(super) fn provider_id(value: &str) -> Result<String, SmsError> {
    wire::identifier("the provider's message id", value).map_err(|m| malformed(&m))
}

/// A JSON scalar as text: a string as it is, a number as written; anything else `None`.
pub(super) fn scalar(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn invalid(message: &str) -> SmsError {
    SmsError::Invalid(message.to_owned())
}

/// A request that got no answer. The URL is dropped from the message: a generic template's
/// may hold a key.
fn transport(error: reqwest::Error) -> SmsError {
    if error.is_timeout() {
        return SmsError::Transient("no answer in time".to_owned());
    }
    if error.is_builder() {
        return SmsError::Invalid(
            "the request cannot be built (a credential with characters a header cannot carry?)"
                .to_owned(),
        );
    }
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    SmsError::Transient(wire::excerpt(&message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_must_be_https_or_loopback() {
        let url = endpoint(
            "https://api.twilio.com/",
            &["2010-04-01", "Accounts", "AC 1"],
        );
        assert_eq!(
            url.unwrap().as_str(),
            "https://api.twilio.com/2010-04-01/Accounts/AC%201"
        );
        assert!(endpoint("http://127.0.0.1:9/twilio", &["x"]).is_ok());
        for base in [
            "http://bulksmsbd.net",
            "ftp://127.0.0.1",
            "https://u:p@api.example",
            "https://api.example/?k=1",
            "not a url",
        ] {
            assert!(
                matches!(endpoint(base, &["x"]), Err(SmsError::Invalid(_))),
                "{base}"
            );
        }
    }

    #[test]
    fn refusals_are_transient_for_429_and_5xx_only() {
        assert!(refusal(StatusCode::SERVICE_UNAVAILABLE, None, None).is_retryable());
        assert!(refusal(StatusCode::TOO_MANY_REQUESTS, None, None).is_retryable());
        assert_eq!(
            refusal(
                StatusCode::BAD_REQUEST,
                Some("21211".into()),
                Some("bad To".into())
            ),
            SmsError::Rejected {
                code: "21211".into(),
                message: "bad To".into()
            }
        );
        assert_eq!(
            refusal(StatusCode::UNAUTHORIZED, None, None),
            SmsError::Rejected {
                code: "401".into(),
                message: "Unauthorized".into()
            }
        );
    }
}
