//! Online payments at the edge (billing-design.md §4.1; the database side is
//! `ops::gateway`, the provider calls the `gateways` crate's):
//!
//! - `POST /api/v1/gateway-accounts` (a tenant's merchant account: provider, API base, API
//!   key and webhook secret, sealed at rest and never shown again) and `GET` the list, with
//!   each account's webhook address to give the provider.
//! - `POST /api/v1/payments/online` (`customer_id`, `gateway_account_id`): an intent for
//!   what the customer owes, or one validity of its package, and the provider's checkout
//!   made for it: 201 with `checkout_url` to send the customer to. `GET
//!   /api/v1/payments/online/{id}`: where it stands.
//! - `POST /hooks/payments/{account}`: the provider's notices. The raw body's signature is
//!   checked with the account's secret (a bad one is refused and kept nowhere); a good
//!   notice goes to the inbox with the job that asks the provider and settles it, and the
//!   answer is 200 at once, for duplicates too.
//! - `GET /hooks/payments/{account}?paymentID=…&status=…`: a provider that sends the
//!   customer's browser back instead of signing a notice (bKash). Unsigned, so it is kept
//!   only when it names one of the account's intents, and it only says which payment to
//!   ask the provider about; the browser is sent on to the return page.
//! - `GET /pay/return/{merchant_ref}`: where the provider sends the customer back; it says
//!   where the payment stands (the redirect proves nothing: settling waits for the
//!   provider's API), and asks again every few seconds while it is pending.
//!
//! These three answer anyone, so a client address whose requests were refused (a bad
//! signature, an unknown account or payment) too often in a minute (`[security]
//! hook_refusals_per_minute`, 30 by default) is answered 429 unread until the minute has
//! passed; a provider's good notices never count.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zeroize::Zeroizing;

use crate::http::auth::ApiCaller;
use crate::http::client::ClientIp;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::http::path::Id;
use crate::state::AppState;
use ops::OpError;
use ops::gateway::{AccountInput, Credentials, IntentInput, Notice};
use store::gateway::{GatewayAccount, Intent};

/// The largest notice accepted.
const HOOK_BODY_LIMIT: usize = 64 * 1024;

/// Answers with `handle` unless `ip` has had too many refusals this minute; a refusal
/// (400, 404) stays counted against it.
async fn guarded(
    state: &AppState,
    ip: std::net::IpAddr,
    handle: impl Future<Output = Response>,
) -> Response {
    let keys = [format!("ip:{ip}")];
    let started = Instant::now();
    if let Err(wait) = state.hook_throttle.attempt(&keys, started) {
        state.metrics.payment_notice("throttled");
        let seconds = wait.as_secs().max(1).to_string();
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, seconds)],
        )
            .into_response();
    }
    let response = handle.await;
    if !matches!(
        response.status(),
        StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND
    ) {
        state.hook_throttle.forgive(&keys, started, None);
    }
    response
}

/// The API routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_account, list_accounts))
        .routes(routes!(start_payment))
        .routes(routes!(get_payment))
}

/// The routes providers and customers reach without signing in.
pub fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/hooks/payments/{account}", post(notice).get(callback))
        // SSLCommerz sends the customer back with a form POST; what it posts proves
        // nothing and is not read.
        .route(
            "/pay/return/{merchant_ref}",
            get(return_page).post(return_page),
        )
        .layer(DefaultBodyLimit::max(HOOK_BODY_LIMIT))
}

/// The provider settings of `credentials`.
pub fn config(credentials: &Credentials) -> Option<gateways::GatewayConfig> {
    Some(gateways::GatewayConfig {
        provider: gateways::Provider::parse(&credentials.provider)?,
        base_url: credentials.base_url.clone(),
        key_id: credentials.key_id.clone(),
        username: credentials.username.clone(),
        secret_key: credentials.secret_key.to_string(),
        webhook_secret: credentials.webhook_secret.to_string(),
    })
}

/// How lastmile is reached: the configured public address, else the request's host.
pub(crate) fn base_of(state: &AppState, headers: &HeaderMap) -> String {
    if !state.settings.public_url.is_empty() {
        return state.settings.public_url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.len() <= 255 && !h.contains(['/', ' ', '\\']))
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// A merchant account to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountBody {
    /// The tenant (a tenant's own Admin leaves it out).
    tenant_id: Option<i64>,
    /// `stripe`, `generic`, `bkash` or `sslcommerz`.
    provider: String,
    /// What staff call it (unique in the tenant).
    name: String,
    /// The provider's API base: `https://api.stripe.com`, or `http://` on a loopback
    /// address for a simulator.
    base_url: String,
    /// The API key (bKash: the app secret; SSLCommerz: the store password, which also
    /// checks its notices), sealed at rest, never shown again.
    secret_key: String,
    /// The webhook signing secret (bKash: the password; SSLCommerz does not use it: its
    /// notices are checked with the store password, `secret_key`), sealed at rest, never
    /// shown again.
    webhook_secret: String,
    /// bKash's app key, or SSLCommerz's store id (required for them, absent otherwise).
    key_id: Option<String>,
    /// bKash's user name (required for it, absent otherwise).
    username: Option<String>,
}

/// A merchant account, without its secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOut {
    id: i64,
    tenant_id: i64,
    provider: String,
    name: String,
    base_url: String,
    /// `active` or `disabled`.
    status: String,
    /// The address to give the provider for its notices.
    webhook_path: String,
    created_at: DateTime<Utc>,
}

impl From<GatewayAccount> for AccountOut {
    fn from(a: GatewayAccount) -> Self {
        Self {
            webhook_path: format!("/hooks/payments/{}", a.id),
            id: a.id,
            tenant_id: a.tenant_id,
            provider: a.provider,
            name: a.name,
            base_url: a.base_url,
            status: a.status,
            created_at: a.created_at,
        }
    }
}

/// Adds a merchant account to a tenant.
#[utoipa::path(post, path = "/gateway-accounts", tag = "money", security(("bearer" = [])),
    request_body = AccountBody,
    responses((status = 201, body = AccountOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<AccountBody>,
) -> Result<(StatusCode, Json<AccountOut>), ApiError> {
    let input = AccountInput {
        tenant_id: body.tenant_id,
        provider: body.provider,
        name: body.name,
        base_url: body.base_url,
        secret_key: Zeroizing::new(body.secret_key),
        webhook_secret: Zeroizing::new(body.webhook_secret),
        key_id: body.key_id.unwrap_or_default(),
        username: body.username.unwrap_or_default(),
    };
    let account =
        ops::gateway::add_account(&state.ctx(), &caller.actor, caller.author, &input).await?;
    Ok((StatusCode::CREATED, Json(account.into())))
}

/// The merchant accounts of the caller's books.
#[utoipa::path(get, path = "/gateway-accounts", tag = "money", security(("bearer" = [])),
    responses((status = 200, body = Vec<AccountOut>), (status = 403, body = ErrorBody)))]
async fn list_accounts(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Vec<AccountOut>>, ApiError> {
    let accounts = ops::gateway::accounts(&state.ctx(), &caller.actor).await?;
    Ok(Json(accounts.into_iter().map(AccountOut::from).collect()))
}

/// An online payment to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    /// Who pays: a postpaid customer pays what it owes, a prepaid one one validity of its
    /// package.
    customer_id: i64,
    /// Through which of the tenant's merchant accounts.
    gateway_account_id: i64,
}

/// An online payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntentOut {
    id: i64,
    customer_id: i64,
    gateway_account_id: i64,
    /// Our reference, carried by the provider.
    merchant_ref: String,
    /// `invoices` or `recharge`.
    purpose: String,
    amount: i64,
    currency: String,
    /// `pending`, `succeeded`, `failed` or `expired`.
    status: String,
    /// What settling it found: `paid`, `recharged`, `on_account`, `declined`,
    /// `amount_mismatch`, `expired`, `checkout_failed`.
    outcome: Option<String>,
    /// Where to send the customer to pay.
    checkout_url: Option<String>,
    /// The payment that fulfilled it.
    payment_id: Option<i64>,
    expires_at: DateTime<Utc>,
}

impl From<Intent> for IntentOut {
    fn from(i: Intent) -> Self {
        Self {
            id: i.id,
            customer_id: i.customer_id,
            gateway_account_id: i.gateway_account_id,
            merchant_ref: i.merchant_ref,
            purpose: i.purpose,
            amount: i.amount,
            currency: i.currency,
            status: i.status,
            outcome: i.outcome,
            checkout_url: i.redirect_url,
            payment_id: i.payment_id,
            expires_at: i.expires_at,
        }
    }
}

/// Starts an online payment: the amount is lastmile's (what is owed, or the package's
/// price), the checkout the provider's.
#[utoipa::path(post, path = "/payments/online", tag = "money", security(("bearer" = [])),
    request_body = StartBody,
    responses((status = 201, body = IntentOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody, description = "invalid, or `nothing_due`"),
              (status = 502, body = ErrorBody, description = "the provider refused or did not answer")))]
async fn start_payment(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<StartBody>,
) -> Result<(StatusCode, Json<IntentOut>), ApiError> {
    let input = IntentInput {
        customer_id: body.customer_id,
        gateway_account_id: body.gateway_account_id,
    };
    match start(&state, &caller.actor, caller.author, input, &headers).await {
        Ok(intent) => Ok((StatusCode::CREATED, Json(intent.into()))),
        Err(StartError::Op(error)) => Err(error.into()),
        Err(StartError::Gateway) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "gateway_unavailable",
        )),
    }
}

/// Why an online payment did not start.
#[derive(Debug)]
pub(crate) enum StartError {
    /// Refused, or failed, here.
    Op(OpError),
    /// The provider refused or did not answer (the intent is closed).
    Gateway,
}

impl From<OpError> for StartError {
    fn from(error: OpError) -> Self {
        StartError::Op(error)
    }
}

/// Starts an online payment for `actor` (the API's and the panel's): the intent, then the
/// provider's checkout for it.
pub(crate) async fn start(
    state: &AppState,
    actor: &domain::access::Actor,
    author: store::Author,
    input: IntentInput,
    headers: &HeaderMap,
) -> Result<Intent, StartError> {
    let (intent, credentials) = ops::gateway::begin(&state.ctx(), actor, author, input).await?;
    let back = format!(
        "{}/pay/return/{}",
        base_of(state, headers),
        intent.merchant_ref
    );
    checkout(state, headers, intent, &credentials, &back).await
}

/// Asks the provider for the checkout of `intent` (through the merchant account whose
/// `credentials` these are), the customer sent back to `back` paid or not, and records it;
/// a provider that refuses or does not answer closes the intent.
pub(crate) async fn checkout(
    state: &AppState,
    headers: &HeaderMap,
    intent: Intent,
    credentials: &ops::gateway::Credentials,
    back: &str,
) -> Result<Intent, StartError> {
    let base = base_of(state, headers);
    let checkout = gateways::Checkout {
        merchant_ref: intent.merchant_ref.clone(),
        amount: intent.amount,
        currency: intent.currency.clone(),
        description: format!("Internet service {}", intent.merchant_ref),
        success_url: back.to_owned(),
        cancel_url: back.to_owned(),
        webhook_url: format!("{base}/hooks/payments/{}", intent.gateway_account_id),
    };
    let created = match (config(credentials), state.payments.as_ref()) {
        (Some(cfg), Some(client)) => client.create(&cfg, &checkout).await,
        _ => Err(gateways::GatewayError::Malformed("no client".into())),
    };
    let ctx = state.ctx();
    match created {
        Ok(created) => Ok(ops::gateway::checkout_created(
            &ctx,
            intent.id,
            &created.provider_payment_id,
            &created.redirect_url,
        )
        .await?),
        Err(error) => {
            tracing::warn!(%error, intent = intent.id, "the provider made no checkout");
            ops::gateway::checkout_failed(&ctx, intent.id, &error.to_string()).await?;
            Err(StartError::Gateway)
        }
    }
}

/// An online payment, as it stands.
#[utoipa::path(get, path = "/payments/online/{id}", tag = "money", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = IntentOut), (status = 404, body = ErrorBody)))]
async fn get_payment(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<IntentOut>, ApiError> {
    Ok(Json(
        ops::gateway::get(&state.ctx(), &caller.actor, id)
            .await?
            .into(),
    ))
}

/// `POST /hooks/payments/{account}`: a provider's notice (see the module documentation).
async fn notice(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    guarded(&state, ip, take_notice(&state, account, headers, body)).await
}

async fn take_notice(
    state: &AppState,
    account: String,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(account) = account.parse::<i64>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let ctx = state.ctx();
    let credentials = match ops::gateway::credentials(&ctx, account).await {
        Ok(c) => c,
        Err(OpError::NotFound) => return StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, account, "cannot read a merchant account");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let Some(cfg) = config(&credentials) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let verified = gateways::webhook::verify(&cfg, &headers, &body, ctx.now.timestamp());
    let notice = match verified {
        Ok(notice) => notice,
        Err(error) => {
            tracing::warn!(account, ?error, "a payment notice failed its check");
            state.metrics.payment_notice("refused");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    let raw = String::from_utf8_lossy(&body);
    let kept = ops::gateway::receive(
        &ctx,
        &credentials,
        &Notice {
            event_id: &notice.event_id,
            provider_payment_id: &notice.provider_payment_id,
            kind: &notice.kind,
            raw_body: &raw,
        },
    )
    .await;
    match kept {
        Ok(Some(_)) => {
            state.metrics.payment_notice("kept");
            state.jobs_wake.notify_one();
            StatusCode::OK.into_response()
        }
        // A duplicate delivery: received before, nothing to do.
        Ok(None) => {
            state.metrics.payment_notice("duplicate");
            StatusCode::OK.into_response()
        }
        Err(OpError::Invalid(_)) => StatusCode::BAD_REQUEST.into_response(),
        Err(error) => {
            tracing::error!(%error, account, "cannot keep a payment notice");
            // The provider delivers it again later.
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// `GET /hooks/payments/{account}`: a provider's browser callback (see the module
/// documentation).
async fn callback(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(account): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    guarded(&state, ip, take_callback(&state, account, query)).await
}

async fn take_callback(state: &AppState, account: String, query: Option<String>) -> Response {
    let refused = |status: StatusCode, text: &str| {
        (status, Html(page("Not found", text, false))).into_response()
    };
    let Ok(account) = account.parse::<i64>() else {
        return refused(StatusCode::NOT_FOUND, "No such payment.");
    };
    let ctx = state.ctx();
    let credentials = match ops::gateway::credentials(&ctx, account).await {
        Ok(c) => c,
        Err(OpError::NotFound) => return refused(StatusCode::NOT_FOUND, "No such payment."),
        Err(error) => {
            tracing::error!(%error, account, "cannot read a merchant account");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let Some(cfg) = config(&credentials) else {
        return refused(StatusCode::NOT_FOUND, "No such payment.");
    };
    let query = query.unwrap_or_default();
    let notice = match gateways::webhook::callback(&cfg, &query) {
        Ok(notice) => notice,
        Err(error) => {
            tracing::warn!(account, ?error, "a payment callback failed its check");
            state.metrics.payment_notice("refused");
            return refused(StatusCode::BAD_REQUEST, "This payment link is not valid.");
        }
    };
    let Ok(intent) = ops::gateway::by_provider(&ctx, account, &notice.provider_payment_id).await
    else {
        state.metrics.payment_notice("refused");
        return refused(StatusCode::NOT_FOUND, "No such payment.");
    };
    if !matches!(intent.status.as_str(), "pending" | "expired") {
        // Paid or refused already: nothing to ask the provider; the return page says
        // where it stands. (An expired one may still have been paid on its page.)
        state.metrics.payment_notice("duplicate");
        return Redirect::to(&format!("/pay/return/{}", intent.merchant_ref)).into_response();
    }
    let kept = ops::gateway::receive(
        &ctx,
        &credentials,
        &Notice {
            event_id: &notice.event_id,
            provider_payment_id: &notice.provider_payment_id,
            kind: &notice.kind,
            raw_body: &query,
        },
    )
    .await;
    match kept {
        Ok(Some(_)) => {
            state.metrics.payment_notice("kept");
            state.jobs_wake.notify_one();
        }
        Ok(None) => state.metrics.payment_notice("duplicate"),
        // The reconciliation job asks the provider about the intent anyway.
        Err(error) => tracing::error!(%error, account, "cannot keep a payment callback"),
    }
    Redirect::to(&format!("/pay/return/{}", intent.merchant_ref)).into_response()
}

/// `GET /pay/return/{merchant_ref}`: where the payment stands, for the customer coming back.
async fn return_page(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(merchant_ref): Path<String>,
) -> Response {
    guarded(&state, ip, show_return(&state, merchant_ref)).await
}

async fn show_return(state: &AppState, merchant_ref: String) -> Response {
    let intent = match ops::gateway::by_ref(&state.ctx(), &merchant_ref).await {
        Ok(intent) => intent,
        Err(_) => {
            return (
                StatusCode::NOT_FOUND,
                Html(page("Not found", "No such payment.", false)),
            )
                .into_response();
        }
    };
    let (title, text, pending) = match intent.status.as_str() {
        "succeeded" => (
            "Payment received",
            "Thank you: your payment is received.",
            false,
        ),
        "pending" => (
            "Payment being confirmed",
            "Your payment is being confirmed with the provider. This page updates itself.",
            true,
        ),
        _ => (
            "Payment not completed",
            "The payment was not completed. Nothing was charged by lastmile.",
            false,
        ),
    };
    Html(page(title, text, pending)).into_response()
}

/// A small page for the customer (no sign-in, no script).
fn page(title: &str, text: &str, refresh: bool) -> String {
    let refresh = if refresh {
        r#"<meta http-equiv="refresh" content="3">"#
    } else {
        ""
    };
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">{refresh}<title>{title}</title><link rel="stylesheet" href="/static/app.css"></head><body class="receipt-page"><h1 id="payment-title">{title}</h1><p id="payment-status">{text}</p></body></html>"#
    )
}
