//! The HTTP client for server-to-server calls: [`Client::create`] starts a hosted checkout,
//! [`Client::confirm`] asks what became of a payment. One `Client` serves every merchant
//! account; each call takes the account's [`GatewayConfig`]. It also keeps bKash's tokens,
//! per account, until shortly before they expire (a token bKash refuses with 401 or 403 is
//! forgotten and granted anew, once).
//!
//! TLS is rustls with the ring provider and the webpki root certificates, verified always.
//! Plain HTTP is allowed to loopback addresses only (the simulator), so a mistyped base URL
//! cannot send a secret key in clear. Redirects are not followed; every answer is read up to
//! 1 MiB; every field is checked before it is handed on.

use std::error::Error as _;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use percent_encoding::utf8_percent_encode;
use reqwest::Url;
use serde::Deserialize;
use thiserror::Error;

use crate::{Checkout, Confirmation, Created, GatewayConfig, Provider};
use crate::{bkash, generic, sslcommerz, stripe, wire};

/// How long one request may take, answer included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a call to a provider did not give an answer we can use. The messages never carry a
/// secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GatewayError {
    /// No answer in time (10 s a request, 5 s to connect). The call may still have taken
    /// effect: retry a create (it is idempotent) or confirm later.
    #[error("the payment provider did not answer in time")]
    Timeout,
    /// The provider cannot be reached: refused connection, DNS, TLS, a base URL that is not
    /// usable (plain HTTP to a host other than loopback, for one).
    #[error("the payment provider cannot be reached: {0}")]
    Unreachable(String),
    /// The provider answered with a non-2xx status (401 bad key, 400 invalid, 404 unknown
    /// payment, 5xx its own failure) and, when it said one, its message. bKash and
    /// SSLCommerz refuse with HTTP 200 and a code in the body; those refusals come as
    /// status 422 with the provider's code and message.
    #[error("the payment provider refused the request ({status}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The provider's message, at most 200 characters.
        message: String,
    },
    /// The answer (or what we were asked to send) does not fit the protocol.
    #[error("the payment provider's answer cannot be used: {0}")]
    Malformed(String),
}

impl GatewayError {
    /// Whether trying again later may succeed: timeouts, unreachable providers, 429 and 5xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            GatewayError::Timeout | GatewayError::Unreachable(_) => true,
            GatewayError::Rejected { status, .. } => *status == 429 || *status >= 500,
            GatewayError::Malformed(_) => false,
        }
    }
}

/// The client: one connection pool (and one cache of bKash tokens) for every merchant
/// account. Cheap to clone; clones share both.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    bkash_tokens: Arc<Mutex<bkash::TokenCache>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("request_timeout", &REQUEST_TIMEOUT)
            .field("connect_timeout", &CONNECT_TIMEOUT)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with rustls (ring, webpki roots), 10 s per request and 5 s to connect.
    pub fn new() -> Result<Self, GatewayError> {
        let http = http_client(REQUEST_TIMEOUT)
            .map_err(|e| GatewayError::Unreachable(format!("cannot build the client: {e}")))?;
        Ok(Client {
            http,
            bkash_tokens: Arc::default(),
        })
    }

    /// Creates a hosted checkout for `checkout` and returns where to send the customer.
    /// Retrying with the same `merchant_ref` returns the same checkout with Stripe and the
    /// generic protocol, and the same id (the `tran_id`) with SSLCommerz; bKash opens a new
    /// payment each time (only the one confirmed, so executed, is ever taken).
    ///
    /// bKash takes BDT only and SSLCommerz currencies with two decimals; both want a
    /// `merchant_ref` of printable ASCII (SSLCommerz: at most 30 characters). A checkout
    /// they cannot take is [`GatewayError::Malformed`] before anything is sent.
    pub async fn create(
        &self,
        cfg: &GatewayConfig,
        checkout: &Checkout,
    ) -> Result<Created, GatewayError> {
        match cfg.provider {
            Provider::Stripe => {
                let key = http::HeaderValue::from_str(&checkout.merchant_ref).map_err(|_| {
                    GatewayError::Malformed(
                        "merchant_ref cannot be sent as an Idempotency-Key".to_owned(),
                    )
                })?;
                let request = self
                    .http
                    .post(endpoint(cfg, &["v1", "checkout", "sessions"])?)
                    .header("Idempotency-Key", key)
                    .form(&stripe::create_form(checkout));
                let body = call(request.bearer_auth(&cfg.secret_key)).await?;
                stripe::created(&body).map_err(GatewayError::Malformed)
            }
            Provider::Generic => {
                let request = self
                    .http
                    .post(endpoint(cfg, &["v1", "checkout"])?)
                    .json(&generic::CreateRequest::new(checkout));
                let body = call(request.bearer_auth(&cfg.secret_key)).await?;
                generic::created(&body).map_err(GatewayError::Malformed)
            }
            Provider::Bkash => {
                let request =
                    bkash::CreateRequest::new(checkout).map_err(GatewayError::Malformed)?;
                let body = self.bkash_call(cfg, "create", &request).await?;
                bkash::created(&body)
            }
            Provider::Sslcommerz => {
                let form =
                    sslcommerz::create_form(cfg, checkout).map_err(GatewayError::Malformed)?;
                let url = endpoint(cfg, &["gwprocess", "v4", "api.php"])?;
                let body = call(self.http.post(url).form(&form)).await?;
                sslcommerz::created(&body, &checkout.merchant_ref)
            }
        }
    }

    /// Asks the provider, server-to-server, where the payment `provider_payment_id` stands:
    /// the truth to check against the caller's intent.
    ///
    /// For bKash this **executes** the payment (which is what takes the money the customer
    /// authorised), then, unless execute answered `Completed`, queries its status: so an
    /// execute refused because the customer has not authorised yet, or because it ran
    /// before, still gives the payment's true state. For SSLCommerz `provider_payment_id` is
    /// the `tran_id`, and every transaction under it is looked at.
    pub async fn confirm(
        &self,
        cfg: &GatewayConfig,
        provider_payment_id: &str,
    ) -> Result<Confirmation, GatewayError> {
        let id = wire::identifier("provider_payment_id", provider_payment_id)
            .map_err(GatewayError::Malformed)?;
        if id.bytes().all(|b| b == b'.') {
            return Err(GatewayError::Malformed(
                "provider_payment_id is not an identifier".to_owned(),
            ));
        }
        match cfg.provider {
            Provider::Stripe => {
                let url = endpoint(cfg, &["v1", "checkout", "sessions", &id])?;
                let body = call(self.http.get(url).bearer_auth(&cfg.secret_key)).await?;
                stripe::confirmation(&body, &id).map_err(GatewayError::Malformed)
            }
            Provider::Generic => {
                let url = endpoint(cfg, &["v1", "payments", &id])?;
                let body = call(self.http.get(url).bearer_auth(&cfg.secret_key)).await?;
                generic::confirmation(&body, &id).map_err(GatewayError::Malformed)
            }
            Provider::Bkash => self.bkash_confirm(cfg, &id).await,
            Provider::Sslcommerz => {
                let mut url = endpoint(
                    cfg,
                    &["validator", "api", "merchantTransIDvalidationAPI.php"],
                )?;
                url.query_pairs_mut()
                    .append_pair("tran_id", &id)
                    .append_pair("store_id", &cfg.key_id)
                    .append_pair("store_passwd", &cfg.secret_key)
                    .append_pair("format", "json");
                let body = call(self.http.get(url)).await?;
                sslcommerz::confirmation(&body, &id)
            }
        }
    }

    /// bKash's confirm: execute, then the status query unless execute said `Completed`.
    async fn bkash_confirm(
        &self,
        cfg: &GatewayConfig,
        payment_id: &str,
    ) -> Result<Confirmation, GatewayError> {
        let request = bkash::PaymentRequest::new(payment_id);
        let executed = self.bkash_call(cfg, "execute", &request).await?;
        match bkash::confirmation(&executed, payment_id) {
            Ok(confirmed) if confirmed.status == crate::PaymentStatus::Succeeded => {
                return Ok(confirmed);
            }
            // Refused (not authorised yet, executed before…) or not completed: ask.
            Ok(_) | Err(GatewayError::Rejected { .. }) => {}
            Err(error) => return Err(error),
        }
        let queried = self.bkash_call(cfg, "payment/status", &request).await?;
        bkash::confirmation(&queried, payment_id)
    }

    /// A bKash call to `{base}/tokenized/checkout/{path}` with a token: the cached one, or
    /// a new grant. A cached token refused with 401 or 403 is forgotten and the call made
    /// once more with a new one (such a refusal means nothing was done).
    async fn bkash_call(
        &self,
        cfg: &GatewayConfig,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<Vec<u8>, GatewayError> {
        let mut segments = vec!["tokenized", "checkout"];
        segments.extend(path.split('/'));
        let url = endpoint(cfg, &segments)?;
        let key = bkash::TokenKey::new(cfg);
        let cached = self.tokens().get(&key, Instant::now());
        let fresh = cached.is_none();
        let token = match cached {
            Some(token) => token,
            None => self.bkash_grant(cfg, &key).await?,
        };
        let send = |token: &str| {
            self.http
                .post(url.clone())
                .header(http::header::AUTHORIZATION, token)
                .header("x-app-key", &cfg.key_id)
                .header(http::header::ACCEPT, "application/json")
                .json(body)
        };
        let answer = match call(send(&token)).await {
            Err(GatewayError::Rejected {
                status: 401 | 403, ..
            }) if !fresh => {
                self.tokens().forget(&key);
                let token = self.bkash_grant(cfg, &key).await?;
                call(send(&token)).await?
            }
            answer => answer?,
        };
        Ok(answer)
    }

    /// Grants a bKash token for `cfg` and caches it under `key`.
    async fn bkash_grant(
        &self,
        cfg: &GatewayConfig,
        key: &bkash::TokenKey,
    ) -> Result<String, GatewayError> {
        let url = endpoint(cfg, &["tokenized", "checkout", "token", "grant"])?;
        let request = self
            .http
            .post(url)
            .header("username", &cfg.username)
            .header("password", &cfg.webhook_secret)
            .header(http::header::ACCEPT, "application/json")
            .json(&bkash::GrantRequest::new(cfg));
        let token = bkash::granted(&call(request).await?)?;
        self.tokens().put(key.clone(), &token, Instant::now());
        Ok(token.id_token)
    }

    /// The token cache; a poisoned lock still holds consistent tokens (each change is one
    /// map operation).
    fn tokens(&self) -> std::sync::MutexGuard<'_, bkash::TokenCache> {
        self.bkash_tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A reqwest client with our TLS settings; the simulator delivers webhooks with one too.
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("lastmile-gateways/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

/// `{base_url}/{segments…}`, each segment escaped; HTTPS, or plain HTTP to loopback.
fn endpoint(cfg: &GatewayConfig, segments: &[&str]) -> Result<Url, GatewayError> {
    let unusable = |why: &str| GatewayError::Unreachable(format!("base_url {why}"));
    let mut text = cfg.base_url.trim_end_matches('/').to_owned();
    for segment in segments {
        text.push('/');
        text.extend(utf8_percent_encode(segment, wire::PATH_SEGMENT));
    }
    let url = Url::parse(&text).map_err(|_| unusable("is not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(unusable("must not carry credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(unusable("must not have a query or fragment"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(unusable("uses plain HTTP to a host other than loopback")),
        _ => Err(unusable("is neither https nor http")),
    }
}

/// Whether `url` names `localhost` or a loopback address (the only hosts plain HTTP may reach).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// Sends `request` and returns the answer's body, or why there is none we can use.
async fn call(request: reqwest::RequestBuilder) -> Result<Vec<u8>, GatewayError> {
    let response = request.send().await.map_err(transport)?;
    let status = response.status();
    let body = read_bounded(response).await;
    if status.is_success() {
        return body;
    }
    let message = body
        .ok()
        .and_then(|body| error_message(&body))
        .or_else(|| status.canonical_reason().map(str::to_owned))
        .unwrap_or_default();
    Err(GatewayError::Rejected {
        status: status.as_u16(),
        message: wire::excerpt(&message),
    })
}

/// The body, up to [`wire::MAX_BODY`].
async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>, GatewayError> {
    let too_large = || {
        GatewayError::Malformed(format!(
            "the answer is larger than {} bytes",
            wire::MAX_BODY
        ))
    };
    if response
        .content_length()
        .is_some_and(|n| n > wire::MAX_BODY as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > wire::MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport(error: reqwest::Error) -> GatewayError {
    if error.is_timeout() {
        return GatewayError::Timeout;
    }
    if error.is_builder() {
        // The only inputs a request is built from are the key and the URL, checked already:
        // say what failed, not the value.
        return GatewayError::Malformed(
            "the request cannot be built (a secret key with characters a header cannot carry?)"
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
    GatewayError::Unreachable(wire::excerpt(&message))
}

/// The message in an error body: Stripe's and ours are `{"error": {"message": …}}`; a bare
/// `{"message": …}` or `{"error": "…"}` is taken too, and so are bKash's `statusMessage`
/// and `errorMessage` and SSLCommerz's `failedreason`.
fn error_message(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ErrorField {
        Object { message: Option<String> },
        Text(String),
    }
    #[derive(Deserialize)]
    struct ErrorBody {
        error: Option<ErrorField>,
        message: Option<String>,
        #[serde(rename = "statusMessage")]
        status_message: Option<String>,
        #[serde(rename = "errorMessage")]
        error_message: Option<String>,
        failedreason: Option<String>,
    }
    let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
    match parsed.error {
        Some(ErrorField::Object {
            message: Some(message),
        })
        | Some(ErrorField::Text(message)) => Some(message),
        _ => parsed
            .message
            .or(parsed.status_message)
            .or(parsed.error_message)
            .or(parsed.failedreason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(base_url: &str) -> GatewayConfig {
        GatewayConfig {
            provider: Provider::Generic,
            base_url: base_url.to_owned(),
            key_id: String::new(),
            username: String::new(),
            secret_key: "sk_x".to_owned(),
            webhook_secret: "whsec_x".to_owned(),
        }
    }

    #[test]
    fn https_and_loopback_http_are_usable_bases() {
        let url = endpoint(
            &cfg("https://api.stripe.com/"),
            &["v1", "payments", "a b/c"],
        );
        assert_eq!(
            url.unwrap().as_str(),
            "https://api.stripe.com/v1/payments/a%20b%2Fc"
        );
        assert!(endpoint(&cfg("http://127.0.0.1:9/generic"), &["v1"]).is_ok());
        assert!(endpoint(&cfg("http://[::1]:9/generic"), &["v1"]).is_ok());
        assert!(endpoint(&cfg("http://localhost:9"), &["v1"]).is_ok());
    }

    #[test]
    fn plain_http_elsewhere_and_odd_bases_are_refused() {
        for base in [
            "http://pay.example.com",
            "http://10.0.0.1",
            "ftp://127.0.0.1",
            "https://user:pw@pay.example.com",
            "https://pay.example.com/?x=1",
            "not a url",
        ] {
            assert!(
                matches!(
                    endpoint(&cfg(base), &["v1"]),
                    Err(GatewayError::Unreachable(_))
                ),
                "{base}"
            );
        }
    }

    #[test]
    fn error_messages_are_found_in_either_shape() {
        let stripe = br#"{"error":{"type":"invalid_request_error","message":"No such session"}}"#;
        assert_eq!(error_message(stripe).as_deref(), Some("No such session"));
        assert_eq!(
            error_message(br#"{"error":"nope"}"#).as_deref(),
            Some("nope")
        );
        assert_eq!(error_message(br#"{"message":"m"}"#).as_deref(), Some("m"));
        assert_eq!(error_message(b"<html>"), None);
    }

    #[test]
    fn retryable_errors_are_the_transient_ones() {
        assert!(GatewayError::Timeout.is_retryable());
        let rejected = |status| GatewayError::Rejected {
            status,
            message: String::new(),
        };
        assert!(rejected(503).is_retryable());
        assert!(rejected(429).is_retryable());
        assert!(!rejected(401).is_retryable());
        assert!(!GatewayError::Malformed(String::new()).is_retryable());
    }

    #[test]
    fn the_debug_form_shows_no_secret() {
        let shown = format!("{:?} {:?}", Client::new().unwrap(), cfg("https://x"));
        assert!(
            !shown.contains("sk_x") && !shown.contains("whsec_x"),
            "{shown}"
        );
    }
}
