//! SMS gateways (hotspot-design.md §4): handing one text message to a provider, and reading
//! the delivery reports it sends back. What it owns: the driver interface ([`SmsGateway`],
//! [`OutgoingSms`], [`Accepted`], [`SmsError`]), each driver's settings ([`SmsConfig`]) and
//! wire shapes, the bounds on what a provider may answer, and [`report`], the pure readers
//! of delivery-report webhooks. What it does not: the outbox, templates, segment counting,
//! retry scheduling, cost control and OTPs belong to the caller, which builds one
//! [`SmsGateway`] per configured gateway, calls [`SmsGateway::send`] from its sending job,
//! retries only what [`SmsError::is_retryable`] says may succeed later, and feeds inbound
//! reports to the matching function in [`report`]. Credentials come in as plain strings,
//! sealed and unsealed by the caller; no driver logs one, nor a message's text (it may be an
//! OTP).
//!
//! Drivers, one module each: `generic` (an HTTP template for the many local gateways with a
//! "URL with placeholders" API), `bulksmsbd`, `sslwireless` (ISMS JSON API v3), `twilio`,
//! `africastalking` and `log` (records to `tracing`, sends nothing). `transport` holds what
//! they share: base URLs (HTTPS, or plain HTTP to loopback), bounded reads of answers, and
//! the mapping of HTTP failures onto [`SmsError`]. [`sim`] is a simulated gateway speaking
//! all five providers' APIs, for tests and the demo.

mod africastalking;
mod bulksmsbd;
mod generic;
mod log;
pub mod report;
pub mod sim;
mod sslwireless;
mod transport;
mod twilio;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use africastalking::AfricasTalkingConfig;
pub use bulksmsbd::BulkSmsBdConfig;
pub use generic::{BodyFormat, GenericConfig, HttpMethod};
pub use sslwireless::SslWirelessConfig;
pub use twilio::TwilioConfig;

/// How long one request to a provider may take, answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest text accepted: Twilio's limit, ten UCS-2 segments and then some.
pub const MAX_TEXT_CHARS: usize = 1600;

/// The longest reference accepted.
pub const MAX_REFERENCE: usize = 64;

/// One message to send, built by the caller from its outbox row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingSms {
    /// The recipient in E.164 without spaces: `+`, then 7 to 15 digits, the first not 0
    /// (`+8801712345678`).
    pub to: String,
    /// The text: 1 to [`MAX_TEXT_CHARS`] characters, any script; line breaks allowed, no
    /// other control characters.
    pub text: String,
    /// Our idempotency reference, unique per message: 1 to [`MAX_REFERENCE`] characters of
    /// `[A-Za-z0-9_-]`. Providers that take one (SSL Wireless's `csms_id`, a generic
    /// template's `{reference}`) send a retried message once.
    pub reference: String,
}

impl OutgoingSms {
    /// Checks the three fields against the bounds above.
    pub fn validate(&self) -> Result<(), SmsError> {
        let invalid = |m: &str| Err(SmsError::Invalid(m.to_owned()));
        let digits = self.to.strip_prefix('+').unwrap_or_default();
        if !(7..=15).contains(&digits.len())
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || digits.starts_with('0')
        {
            return invalid("to is not an E.164 number (+ and 7 to 15 digits)");
        }
        if self.text.is_empty() {
            return invalid("text is empty");
        }
        if self.text.chars().count() > MAX_TEXT_CHARS {
            return invalid("text is longer than 1600 characters");
        }
        if self
            .text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
        {
            return invalid("text has control characters other than line breaks");
        }
        if !is_reference(&self.reference) {
            return invalid("reference is not 1 to 64 characters of [A-Za-z0-9_-]");
        }
        Ok(())
    }
}

/// Whether `value` is a reference: 1 to [`MAX_REFERENCE`] characters of `[A-Za-z0-9_-]`.
pub(crate) fn is_reference(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_REFERENCE
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A message the provider has taken. Taken is not delivered: delivery comes later, if at
/// all, as a [`report::DeliveryReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// The provider's id of the message (Twilio's `SM…` sid, Africa's Talking's
    /// `messageId`, SSL Wireless's `reference_id`, BulkSMSBD's `message_id`; our reference
    /// where the provider gives none): 1 to 255 printable ASCII characters. Delivery
    /// reports name the message by it.
    pub provider_id: String,
}

/// Why a message was not taken. The messages never carry a secret nor the text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SmsError {
    /// The provider refused it for good: a bad number, bad credentials, no credit, a sender
    /// id it does not allow, an answer we cannot read. Do not retry.
    #[error("the SMS gateway refused the message ({code}): {message}")]
    Rejected {
        /// The provider's code (an HTTP status or the code in its body), or one of ours:
        /// `malformed_answer`, `oversized_answer`, `unexpected_answer`.
        code: String,
        /// The provider's message, at most 200 characters.
        message: String,
    },
    /// No usable answer now: a timeout, a refused connection, 429 or 5xx, a provider's
    /// in-body "internal error". Retry later. A timeout may hide a message that went out;
    /// the reference makes the retry safe where the provider dedupes on it.
    #[error("the SMS gateway is unavailable: {0}")]
    Transient(String),
    /// Our side is wrong: the message breaks a bound, or the gateway's settings are not
    /// usable. Nothing was sent.
    #[error("invalid SMS request or settings: {0}")]
    Invalid(String),
}

impl SmsError {
    /// Whether trying again later may succeed: [`SmsError::Transient`] only.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SmsError::Transient(_))
    }
}

/// The providers the drivers speak (the `log` driver speaks to none); their stable names
/// are also the simulator's path prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsProvider {
    /// A generic HTTP template.
    Generic,
    /// BulkSMSBD (Bangladesh).
    Bulksmsbd,
    /// SSL Wireless ISMS (Bangladesh).
    Sslwireless,
    /// Twilio Programmable Messaging.
    Twilio,
    /// Africa's Talking.
    Africastalking,
}

impl SmsProvider {
    /// Every provider, in a stable order.
    pub const ALL: [SmsProvider; 5] = [
        SmsProvider::Generic,
        SmsProvider::Bulksmsbd,
        SmsProvider::Sslwireless,
        SmsProvider::Twilio,
        SmsProvider::Africastalking,
    ];

    /// Its stable name: `generic`, `bulksmsbd`, `sslwireless`, `twilio` or
    /// `africastalking`.
    pub fn as_str(self) -> &'static str {
        match self {
            SmsProvider::Generic => "generic",
            SmsProvider::Bulksmsbd => "bulksmsbd",
            SmsProvider::Sslwireless => "sslwireless",
            SmsProvider::Twilio => "twilio",
            SmsProvider::Africastalking => "africastalking",
        }
    }
}

impl fmt::Display for SmsProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One gateway's settings, tagged by `driver`
/// (`{"driver": "twilio", "account_sid": …}` or `driver = "twilio"` in TOML). Each
/// variant's `Debug` form hides its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "driver", rename_all = "snake_case")]
pub enum SmsConfig {
    /// A generic HTTP template (`driver = "http_template"`, or `"generic"`).
    #[serde(rename = "http_template", alias = "generic")]
    Generic(GenericConfig),
    /// BulkSMSBD.
    Bulksmsbd(BulkSmsBdConfig),
    /// SSL Wireless ISMS JSON API v3.
    Sslwireless(SslWirelessConfig),
    /// Twilio.
    Twilio(TwilioConfig),
    /// Africa's Talking.
    Africastalking(AfricasTalkingConfig),
    /// Records to `tracing` and sends nothing (development, the demo, and the gateway of
    /// last resort that suppresses messages).
    Log,
}

impl SmsConfig {
    /// The provider it speaks to; `None` for the log driver.
    pub fn provider(&self) -> Option<SmsProvider> {
        match self {
            SmsConfig::Generic(_) => Some(SmsProvider::Generic),
            SmsConfig::Bulksmsbd(_) => Some(SmsProvider::Bulksmsbd),
            SmsConfig::Sslwireless(_) => Some(SmsProvider::Sslwireless),
            SmsConfig::Twilio(_) => Some(SmsProvider::Twilio),
            SmsConfig::Africastalking(_) => Some(SmsProvider::Africastalking),
            SmsConfig::Log => None,
        }
    }
}

/// A driver, ready to send: built once per configured gateway, cheap to share behind an
/// `Arc`, and safe to use from many tasks at once.
#[derive(Debug)]
pub struct SmsGateway {
    driver: Driver,
}

#[derive(Debug)]
enum Driver {
    Generic(generic::Generic),
    Bulksmsbd(bulksmsbd::BulkSmsBd),
    Sslwireless(sslwireless::SslWireless),
    Twilio(twilio::Twilio),
    Africastalking(africastalking::AfricasTalking),
    Log,
}

impl SmsGateway {
    /// The driver `config` describes, sending with `http` (for real providers, one from
    /// [`http_client`]: rustls, verified certificates, no redirects, timeouts). The settings
    /// are checked here, so a gateway that builds has a usable base URL (HTTPS, or plain
    /// HTTP to loopback; a generic template may opt into plain HTTP elsewhere) and its
    /// credentials; anything else is [`SmsError::Invalid`].
    pub fn new(config: SmsConfig, http: reqwest::Client) -> Result<SmsGateway, SmsError> {
        let driver = match config {
            SmsConfig::Generic(c) => Driver::Generic(generic::Generic::new(c, http)?),
            SmsConfig::Bulksmsbd(c) => Driver::Bulksmsbd(bulksmsbd::BulkSmsBd::new(c, http)?),
            SmsConfig::Sslwireless(c) => {
                Driver::Sslwireless(sslwireless::SslWireless::new(c, http)?)
            }
            SmsConfig::Twilio(c) => Driver::Twilio(twilio::Twilio::new(c, http)?),
            SmsConfig::Africastalking(c) => {
                Driver::Africastalking(africastalking::AfricasTalking::new(c, http)?)
            }
            SmsConfig::Log => Driver::Log,
        };
        Ok(SmsGateway { driver })
    }

    /// The driver's stable name: a provider's ([`SmsProvider::as_str`]) or `log`.
    pub fn name(&self) -> &'static str {
        match &self.driver {
            Driver::Generic(_) => SmsProvider::Generic.as_str(),
            Driver::Bulksmsbd(_) => SmsProvider::Bulksmsbd.as_str(),
            Driver::Sslwireless(_) => SmsProvider::Sslwireless.as_str(),
            Driver::Twilio(_) => SmsProvider::Twilio.as_str(),
            Driver::Africastalking(_) => SmsProvider::Africastalking.as_str(),
            Driver::Log => "log",
        }
    }

    /// Hands `message` to the provider: one request, no retry (retrying is the caller's,
    /// for [`SmsError::Transient`] only). The message is checked first
    /// ([`OutgoingSms::validate`]); one that breaks a bound is [`SmsError::Invalid`] and
    /// nothing is sent.
    pub async fn send(&self, message: &OutgoingSms) -> Result<Accepted, SmsError> {
        message.validate()?;
        match &self.driver {
            Driver::Generic(d) => d.send(message).await,
            Driver::Bulksmsbd(d) => d.send(message).await,
            Driver::Sslwireless(d) => d.send(message).await,
            Driver::Twilio(d) => d.send(message).await,
            Driver::Africastalking(d) => d.send(message).await,
            Driver::Log => Ok(log::send(message)),
        }
    }
}

/// A reqwest client for the drivers: rustls with the webpki roots, certificates always
/// verified, redirects not followed, 10 s a request and 5 s to connect (the payment client's
/// settings).
pub fn http_client() -> Result<reqwest::Client, SmsError> {
    http_client_with_timeout(REQUEST_TIMEOUT)
}

/// [`http_client`] with another limit per request (an OTP send may rather fail fast and be
/// retried than keep a login page waiting).
pub fn http_client_with_timeout(timeout: Duration) -> Result<reqwest::Client, SmsError> {
    crate::client::http_client(timeout)
        .map_err(|e| SmsError::Invalid(format!("cannot build the HTTP client: {e}")))
}

/// `number` with every character but the last three replaced by `*`, for logs
/// (`+8801712345678` → `***********678`).
pub fn mask_number(number: &str) -> String {
    let count = number.chars().count();
    number
        .chars()
        .enumerate()
        .map(|(i, c)| if i + 3 < count { '*' } else { c })
        .collect()
}

/// An E.164 number's digits, without the `+` (`8801712345678`).
pub(crate) fn digits(to: &str) -> &str {
    to.strip_prefix('+').unwrap_or(to)
}

/// An E.164 number as dialled at home in Bangladesh: `+880…` becomes `0…`
/// (`+8801712345678` → `01712345678`); any other number loses its `+` only.
pub(crate) fn to_local(to: &str) -> String {
    match to.strip_prefix("+880") {
        Some(rest) => format!("0{rest}"),
        None => digits(to).to_owned(),
    }
}

/// `"***"` for a secret that is set, `""` for one that is not: what `Debug` forms show.
fn hidden(secret: &str) -> &'static str {
    if secret.is_empty() { "" } else { "***" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms(to: &str, text: &str, reference: &str) -> OutgoingSms {
        OutgoingSms {
            to: to.to_owned(),
            text: text.to_owned(),
            reference: reference.to_owned(),
        }
    }

    #[test]
    fn messages_within_the_bounds_are_valid() {
        assert!(
            sms("+8801712345678", "123456 is your code", "otp_1-a")
                .validate()
                .is_ok()
        );
        assert!(
            sms("+8801712345678", "কোড ১২৩৪৫৬\n@portal #123456", "r")
                .validate()
                .is_ok()
        );
        assert!(sms("+1", "x", "r").validate().is_err());
        assert!(sms("8801712345678", "x", "r").validate().is_err());
        assert!(sms("+0801712345678", "x", "r").validate().is_err());
        assert!(sms("+880 1712345678", "x", "r").validate().is_err());
        assert!(sms("+8801712345678", "", "r").validate().is_err());
        assert!(sms("+8801712345678", "a\u{0}b", "r").validate().is_err());
        assert!(
            sms("+8801712345678", &"x".repeat(1601), "r")
                .validate()
                .is_err()
        );
        assert!(sms("+8801712345678", "x", "").validate().is_err());
        assert!(sms("+8801712345678", "x", "a b").validate().is_err());
        assert!(
            sms("+8801712345678", "x", &"r".repeat(65))
                .validate()
                .is_err()
        );
    }

    #[test]
    fn numbers_are_masked_but_their_last_three_digits() {
        assert_eq!(mask_number("+8801712345678"), "***********678");
        assert_eq!(mask_number("12"), "12");
    }

    #[test]
    fn bangladeshi_numbers_have_a_local_form() {
        assert_eq!(to_local("+8801712345678"), "01712345678");
        assert_eq!(to_local("+254711000111"), "254711000111");
        assert_eq!(digits("+8801712345678"), "8801712345678");
    }

    #[test]
    fn configs_are_tagged_by_driver() {
        let config: SmsConfig = serde_json::from_str(
            r#"{"driver":"twilio","account_sid":"AC1","auth_token":"t","sender":"+15005550006"}"#,
        )
        .unwrap();
        assert_eq!(config.provider(), Some(SmsProvider::Twilio));
        let log: SmsConfig = serde_json::from_str(r#"{"driver":"log"}"#).unwrap();
        assert_eq!(log, SmsConfig::Log);
        let generic: SmsConfig = serde_json::from_str(
            r#"{"driver":"generic","url":"https://sms.example/send?to={to}&text={text}"}"#,
        )
        .unwrap();
        assert_eq!(generic.provider(), Some(SmsProvider::Generic));
        let typo = serde_json::from_str::<SmsConfig>(
            r#"{"driver":"twilio","account_sid":"AC1","auth_token":"t","status_calback":"x"}"#,
        );
        assert!(typo.is_err());
    }

    #[test]
    fn the_debug_forms_show_no_secret() {
        let configs = [
            r#"{"driver":"twilio","account_sid":"AC1","auth_token":"s3cret-tw"}"#,
            r#"{"driver":"bulksmsbd","api_key":"s3cret-bd","sender":"8809601"}"#,
            r#"{"driver":"sslwireless","api_token":"s3cret-ssl","sid":"BRAND"}"#,
            r#"{"driver":"africastalking","username":"sandbox","api_key":"s3cret-at"}"#,
            r#"{"driver":"http_template","url":"https://x/?k={secret}","secret":"s3cret-gen"}"#,
        ];
        for json in configs {
            let config: SmsConfig = serde_json::from_str(json).unwrap();
            let shown = format!("{config:?}");
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("***"), "{shown}");
        }
    }
}
