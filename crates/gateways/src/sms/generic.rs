//! The generic HTTP template driver, for the many gateways whose API is "call this URL with
//! the number and the text in it" (PHPNuxBill's `sms_url`, most Bangladeshi resellers). The
//! settings give a method, a URL template and, for POST, an optional body template (a form
//! or JSON); placeholders are replaced by the message's values:
//!
//! | placeholder   | value                                                            |
//! |---------------|------------------------------------------------------------------|
//! | `{to}`        | the number in E.164, `+8801712345678`                            |
//! | `{to_digits}` | the same without `+`, `8801712345678`                            |
//! | `{to_local}`  | Bangladeshi numbers as dialled at home, `01712345678`; others as `{to_digits}` |
//! | `{text}`      | the text                                                         |
//! | `{sender}`    | the configured sender id                                         |
//! | `{reference}` | our reference                                                    |
//! | `{secret}`    | the configured secret (an API key)                               |
//!
//! Values are percent-encoded in the URL and in form bodies, and escaped as the inside of a
//! JSON string in JSON bodies (`{"to": "{to}"}`); replacement is one pass, so a value that
//! looks like a placeholder stays as it is. A `{` not followed by a lower-case name and `}`
//! is literal, so JSON braces need no escaping; an unknown name is refused when the gateway
//! is built.
//!
//! Success is a 2xx answer whose body contains `success_substring`, when one is set. The
//! provider's id is read at `id_pointer` (a JSON pointer such as `/data/message_id`) when one
//! is set and found, else it is our reference. Its delivery reports are read by
//! [`super::report::generic`] with the field names its `report` setting gives.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Url;
use serde::{Deserialize, Serialize};

use super::report::ReportFields;
use super::transport::{self, Answer};
use super::{Accepted, OutgoingSms, SmsError, digits, hidden, to_local};
use crate::wire;

/// The longest URL template accepted.
const MAX_URL_TEMPLATE: usize = 2048;

/// The longest body template accepted.
const MAX_BODY_TEMPLATE: usize = 8192;

/// What a value keeps unescaped in a URL or a form: RFC 3986's unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The HTTP method of a generic template.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HttpMethod {
    /// `GET`: everything in the URL.
    #[default]
    #[serde(rename = "GET", alias = "get")]
    Get,
    /// `POST`: the URL, and the body template when there is one.
    #[serde(rename = "POST", alias = "post")]
    Post,
}

/// How a generic template's body is encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyFormat {
    /// `application/x-www-form-urlencoded`: values percent-encoded.
    #[default]
    Form,
    /// `application/json`: values escaped as the inside of a JSON string.
    Json,
}

/// A generic template gateway's settings (see the module's header for the placeholders).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericConfig {
    /// `GET` (the default) or `POST`.
    #[serde(default)]
    pub method: HttpMethod,
    /// The URL template, at most 2,048 bytes:
    /// `https://sms.example/api?key={secret}&to={to_local}&msg={text}`. HTTPS, or plain HTTP
    /// to loopback, unless `allow_plain_http`.
    pub url: String,
    /// The body template for `POST`, at most 8,192 bytes; none sends an empty body.
    #[serde(default)]
    pub body: Option<String>,
    /// How the body is encoded: `form` (the default) or `json`.
    #[serde(default)]
    pub body_format: BodyFormat,
    /// The sender id `{sender}` stands for. Not secret.
    #[serde(default)]
    pub sender: String,
    /// The key `{secret}` stands for. Secret.
    #[serde(default)]
    pub secret: String,
    /// What a successful answer's body contains (`"202"`, `"\"status\":\"ok\""`); none
    /// means any 2xx is success.
    #[serde(default)]
    pub success_substring: Option<String>,
    /// Where the provider's message id is in a JSON answer (`/message_id`); none, or not
    /// found, means our reference is the id.
    #[serde(default)]
    pub id_pointer: Option<String>,
    /// Allows plain HTTP to hosts other than loopback (a gateway box on the LAN). The secret
    /// then crosses the network in clear.
    #[serde(default)]
    pub allow_plain_http: bool,
    /// Which fields its delivery reports carry, for [`super::report::generic`].
    #[serde(default)]
    pub report: ReportFields,
}

impl fmt::Debug for GenericConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL template is shown: the secret is a placeholder in it, not its value.
        f.debug_struct("GenericConfig")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("body", &self.body)
            .field("body_format", &self.body_format)
            .field("sender", &self.sender)
            .field("secret", &hidden(&self.secret))
            .field("success_substring", &self.success_substring)
            .field("id_pointer", &self.id_pointer)
            .field("allow_plain_http", &self.allow_plain_http)
            .field("report", &self.report)
            .finish()
    }
}

/// A value a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    To,
    ToDigits,
    ToLocal,
    Text,
    Sender,
    Reference,
    Secret,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "to" => Field::To,
            "to_digits" => Field::ToDigits,
            "to_local" => Field::ToLocal,
            "text" => Field::Text,
            "sender" => Field::Sender,
            "reference" => Field::Reference,
            "secret" => Field::Secret,
            _ => return None,
        })
    }
}

/// How values are escaped where they land.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Escape {
    /// Percent-encoded: URLs and form bodies.
    Percent,
    /// The inside of a JSON string.
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Field(Field),
}

/// A parsed template: literal text and placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Template {
    pieces: Vec<Piece>,
}

/// The values of one message, by placeholder.
#[derive(Debug)]
pub(super) struct Values<'a> {
    pub(super) to: &'a str,
    pub(super) text: &'a str,
    pub(super) sender: &'a str,
    pub(super) reference: &'a str,
    pub(super) secret: &'a str,
}

impl Values<'_> {
    fn get(&self, field: Field) -> String {
        match field {
            Field::To => self.to.to_owned(),
            Field::ToDigits => digits(self.to).to_owned(),
            Field::ToLocal => to_local(self.to),
            Field::Text => self.text.to_owned(),
            Field::Sender => self.sender.to_owned(),
            Field::Reference => self.reference.to_owned(),
            Field::Secret => self.secret.to_owned(),
        }
    }
}

impl Template {
    /// Parses `text`: `{name}` with a lower-case name (letters and `_`) is a placeholder and
    /// must be known; any other `{` is literal.
    pub(super) fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name_len = after
                .bytes()
                .take_while(|b| b.is_ascii_lowercase() || *b == b'_')
                .count();
            if name_len > 0 && after[name_len..].starts_with('}') {
                let name = &after[..name_len];
                let field = Field::parse(name)
                    .ok_or_else(|| format!("unknown placeholder {{{}}}", wire::excerpt(name)))?;
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Field(field));
                rest = &after[name_len + 1..];
            } else {
                literal.push('{');
                rest = after;
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Template { pieces })
    }

    /// The template with each placeholder replaced by its value, escaped per `escape`.
    pub(super) fn render(&self, values: &Values<'_>, escape: Escape) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Field(field) => {
                    let value = values.get(*field);
                    match escape {
                        Escape::Percent => out.extend(utf8_percent_encode(&value, COMPONENT)),
                        Escape::Json => out.push_str(&json_inner(&value)),
                    }
                }
            }
        }
        out
    }
}

/// `value` escaped as the inside of a JSON string (no surrounding quotes).
fn json_inner(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned()
}

/// The generic driver, its templates parsed.
#[derive(Debug)]
pub(super) struct Generic {
    config: GenericConfig,
    url: Template,
    body: Option<Template>,
    http: reqwest::Client,
}

impl Generic {
    /// Parses the templates and checks that the URL they make is usable.
    pub(super) fn new(config: GenericConfig, http: reqwest::Client) -> Result<Generic, SmsError> {
        let invalid = |m: String| SmsError::Invalid(m);
        if config.url.len() > MAX_URL_TEMPLATE {
            return Err(invalid(format!(
                "url is longer than {MAX_URL_TEMPLATE} bytes"
            )));
        }
        let url = Template::parse(&config.url).map_err(|m| invalid(format!("url: {m}")))?;
        let body = match &config.body {
            Some(_) if config.method == HttpMethod::Get => {
                return Err(invalid("a GET template has no body".to_owned()));
            }
            Some(text) if text.len() > MAX_BODY_TEMPLATE => {
                return Err(invalid(format!(
                    "body is longer than {MAX_BODY_TEMPLATE} bytes"
                )));
            }
            Some(text) => Some(Template::parse(text).map_err(|m| invalid(format!("body: {m}")))?),
            None => None,
        };
        if let Some(pointer) = &config.id_pointer
            && !pointer.is_empty()
            && !pointer.starts_with('/')
        {
            return Err(invalid(
                "id_pointer is not a JSON pointer (/a/b)".to_owned(),
            ));
        }
        let driver = Generic {
            config,
            url,
            body,
            http,
        };
        // A sample message shows now whether the URL the template makes is usable.
        let sample = OutgoingSms {
            to: "+8801700000000".to_owned(),
            text: "sample".to_owned(),
            reference: "sample".to_owned(),
        };
        driver.url_for(&sample)?;
        Ok(driver)
    }

    fn values<'a>(&'a self, message: &'a OutgoingSms) -> Values<'a> {
        Values {
            to: &message.to,
            text: &message.text,
            sender: &self.config.sender,
            reference: &message.reference,
            secret: &self.config.secret,
        }
    }

    fn url_for(&self, message: &OutgoingSms) -> Result<Url, SmsError> {
        let text = self.url.render(&self.values(message), Escape::Percent);
        let url = Url::parse(&text)
            .map_err(|_| SmsError::Invalid("url does not make a URL".to_owned()))?;
        transport::check_url(&url, self.config.allow_plain_http)?;
        Ok(url)
    }

    /// Sends `message` through the template.
    pub(super) async fn send(&self, message: &OutgoingSms) -> Result<Accepted, SmsError> {
        let url = self.url_for(message)?;
        let request = match self.config.method {
            HttpMethod::Get => self.http.get(url),
            HttpMethod::Post => {
                let request = self.http.post(url);
                match &self.body {
                    Some(body) => {
                        let (escape, content_type) = match self.config.body_format {
                            BodyFormat::Form => {
                                (Escape::Percent, "application/x-www-form-urlencoded")
                            }
                            BodyFormat::Json => (Escape::Json, "application/json; charset=utf-8"),
                        };
                        request
                            .header(http::header::CONTENT_TYPE, content_type)
                            .body(body.render(&self.values(message), escape))
                    }
                    None => request,
                }
            }
        };
        let answer = transport::exchange(request).await?;
        accepted(&self.config, &answer, &message.reference)
    }
}

/// Reads the answer to a send.
fn accepted(
    config: &GenericConfig,
    answer: &Answer,
    reference: &str,
) -> Result<Accepted, SmsError> {
    let text = String::from_utf8_lossy(&answer.body);
    if !answer.status.is_success() {
        return Err(transport::refusal(
            answer.status,
            None,
            Some(text.into_owned()),
        ));
    }
    if let Some(needle) = &config.success_substring
        && !text.contains(needle.as_str())
    {
        return Err(transport::rejected("unexpected_answer", &text));
    }
    let found = config
        .id_pointer
        .as_deref()
        .filter(|p| !p.is_empty())
        .and_then(|pointer| {
            let json: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
            json.pointer(pointer).and_then(transport::scalar)
        });
    let provider_id = match found {
        Some(id) => transport::provider_id(&id)?,
        None => {
            if config.id_pointer.as_deref().is_some_and(|p| !p.is_empty()) {
                tracing::warn!(
                    reference,
                    "generic SMS answer has no id at id_pointer; using the reference"
                );
            }
            reference.to_owned()
        }
    };
    Ok(Accepted { provider_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(text: &'a str) -> Values<'a> {
        Values {
            to: "+8801712345678",
            text,
            sender: "ISP Net",
            reference: "ref-1",
            secret: "k&y=1",
        }
    }

    #[test]
    fn url_values_are_percent_encoded() {
        let template =
            Template::parse("https://sms.example/send?k={secret}&to={to}&n={to_local}&d={to_digits}&m={text}&s={sender}&r={reference}")
                .unwrap();
        let url = template.render(&values("a&b=c d+é/?#"), Escape::Percent);
        assert_eq!(
            url,
            "https://sms.example/send?k=k%26y%3D1&to=%2B8801712345678&n=01712345678\
             &d=8801712345678&m=a%26b%3Dc%20d%2B%C3%A9%2F%3F%23&s=ISP%20Net&r=ref-1"
        );
    }

    #[test]
    fn bangla_text_is_percent_encoded_as_utf8() {
        let template = Template::parse("{text}").unwrap();
        assert_eq!(
            template.render(&values("কোড"), Escape::Percent),
            "%E0%A6%95%E0%A7%8B%E0%A6%A1"
        );
    }

    #[test]
    fn json_values_are_escaped_inside_their_string() {
        let template =
            Template::parse(r#"{"to":"{to}","text":"{text}","nested":{"x":1}}"#).unwrap();
        let body = template.render(&values("say \"hi\" \\ \n\u{1}বাংলা"), Escape::Json);
        assert_eq!(
            body,
            r#"{"to":"+8801712345678","text":"say \"hi\" \\ \n\u0001বাংলা","nested":{"x":1}}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["text"], "say \"hi\" \\ \n\u{1}বাংলা");
    }

    #[test]
    fn replacement_is_one_pass() {
        let template = Template::parse("{text}|{to}").unwrap();
        assert_eq!(
            template.render(&values("{to}"), Escape::Json),
            "{to}|+8801712345678"
        );
    }

    #[test]
    fn unknown_placeholders_are_refused_and_other_braces_are_literal() {
        assert!(Template::parse("https://x/?a={number}").is_err());
        let template = Template::parse("{ {To} {1} {} {to").unwrap();
        assert_eq!(
            template.render(&values("t"), Escape::Percent),
            "{ {To} {1} {} {to"
        );
    }

    fn config(url: &str) -> GenericConfig {
        GenericConfig {
            method: HttpMethod::Get,
            url: url.to_owned(),
            body: None,
            body_format: BodyFormat::Form,
            sender: String::new(),
            secret: String::new(),
            success_substring: None,
            id_pointer: None,
            allow_plain_http: false,
            report: ReportFields::default(),
        }
    }

    #[test]
    fn templates_must_make_a_usable_url() {
        let http = crate::sms::http_client().unwrap();
        assert!(Generic::new(config("https://sms.example/?to={to}"), http.clone()).is_ok());
        assert!(Generic::new(config("http://127.0.0.1:9/?to={to}"), http.clone()).is_ok());
        assert!(Generic::new(config("http://192.0.2.1/?to={to}"), http.clone()).is_err());
        let mut lan = config("http://192.0.2.1/?to={to}");
        lan.allow_plain_http = true;
        assert!(Generic::new(lan, http.clone()).is_ok());
        assert!(Generic::new(config("{text}"), http.clone()).is_err());
        let mut get_with_body = config("https://sms.example/");
        get_with_body.body = Some("to={to}".to_owned());
        assert!(Generic::new(get_with_body, http).is_err());
    }

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn success_needs_2xx_and_the_substring_and_the_id_is_found_by_pointer() {
        let mut cfg = config("https://sms.example/");
        cfg.success_substring = Some("\"ok\":true".to_owned());
        cfg.id_pointer = Some("/data/id".to_owned());
        let ok = accepted(&cfg, &answer(200, r#"{"ok":true,"data":{"id":42}}"#), "r1");
        assert_eq!(ok.unwrap().provider_id, "42");
        let no_id = accepted(&cfg, &answer(200, r#"{"ok":true}"#), "r1");
        assert_eq!(no_id.unwrap().provider_id, "r1");
        assert!(matches!(
            accepted(&cfg, &answer(200, r#"{"ok":false}"#), "r1"),
            Err(SmsError::Rejected { .. })
        ));
        assert!(matches!(
            accepted(&cfg, &answer(400, "bad number"), "r1"),
            Err(SmsError::Rejected { code, .. }) if code == "400"
        ));
        assert!(
            accepted(&cfg, &answer(502, ""), "r1")
                .unwrap_err()
                .is_retryable()
        );
    }
}
