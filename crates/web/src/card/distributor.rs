//! `/api/v1/distributor/...` (`ops::card::distributor`, hotspot-design §3.4): the API a
//! card distributor's phone app speaks, and a reseller holding cards may speak too: who
//! it is and its stock, its cards (never their PINs), an e-PIN sale that gives one PIN
//! once, an e-top-up that sells one of its cards to a customer found by id or mobile, its
//! sales, and the mobiles of the customers it sells to. Every POST honours
//! `Idempotency-Key`: a sale retried with its key answers what the first did.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::api::CardOut;
use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::http::list::{ListResponse, page_request};
use crate::http::query::Query;
use crate::state::AppState;
use domain::card::State as CardState;
use ops::card::CardQuery;
use ops::card::distributor::SaleInput;

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(own_cards))
        .routes(routes!(reveal))
        .routes(routes!(list_sales, sell))
        .routes(routes!(mobiles))
}

/// Cards of one package in one state.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockOut {
    package_id: i64,
    package: String,
    state: String,
    cards: i64,
}

/// The holder and its stock.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeOut {
    user_id: i64,
    name: String,
    /// `card_distributor`, `operator` or `sub_operator`.
    role: String,
    /// The reseller it sells for (itself for a reseller).
    seller_id: i64,
    stock: Vec<StockOut>,
    /// Its account with its parent, in minor units: positive is funds held, negative what
    /// it owes for cards.
    balance: i64,
    /// What it may still spend or owe (absent: no limit).
    available: Option<i64>,
    /// `prepaid` (pays for cards when handed them) or `credit` (owes each when redeemed).
    account_type: String,
    /// The most it may owe, on credit (absent: no limit).
    credit_limit: Option<i64>,
    currency: String,
}

/// A PIN given once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevealOut {
    serial: String,
    /// As printed: `4821 0937 5512 0`.
    pin: String,
}

/// A sale to make: the customer by id or by mobile (nationally or in E.164).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleBody {
    customer_id: Option<i64>,
    mobile: Option<String>,
    /// A card of the caller's stock.
    serial: String,
}

/// A sale made.
#[derive(Debug, Serialize, ToSchema)]
pub struct SaleOut {
    serial: String,
    customer_id: i64,
    /// The customer's name, masked.
    customer: String,
    package_id: i64,
    /// What the customer was charged, minor units.
    amount: i64,
    currency: String,
    /// The customer's new expiry.
    expires_at: DateTime<Utc>,
    journal_id: Option<i64>,
    /// Print it at `/invoices/{receipt_id}/print`.
    receipt_id: Option<i64>,
}

/// Paging of the caller's cards and sales.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OwnQuery {
    /// In this state (cards only).
    state: Option<String>,
    /// `id` (default) or `-id`.
    sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Which mobiles.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MobilesQuery {
    /// Only customers changed at or after this instant (a delta since the last sync).
    updated_since: Option<DateTime<Utc>>,
    /// `next_after` of the previous page.
    after: Option<i64>,
    /// Rows per page, 1 to 1 000 (default 1 000).
    limit: Option<u64>,
}

/// One customer's mobile.
#[derive(Debug, Serialize, ToSchema)]
pub struct MobileOut {
    customer_id: i64,
    /// E.164: `+8801712345678`.
    mobile: String,
    /// As dialled at home: `01712345678`.
    national: String,
    updated_at: DateTime<Utc>,
}

/// A page of mobiles.
#[derive(Debug, Serialize, ToSchema)]
pub struct MobilesOut {
    items: Vec<MobileOut>,
    /// Pass as `?after=` for the next page; absent on the last.
    next_after: Option<i64>,
}

/// Who the caller is as a card holder, and its cards by package and state.
#[utoipa::path(get, path = "/distributor/me", tag = "cards", security(("bearer" = [])),
    responses((status = 200, body = MeOut), (status = 403, body = ErrorBody)))]
async fn me(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<MeOut>, ApiError> {
    let view = ops::card::distributor::me(&state.ctx(), &caller.actor).await?;
    let account = view.account;
    Ok(Json(MeOut {
        balance: account.balance,
        available: account.available,
        account_type: account.terms.type_name().to_owned(),
        credit_limit: match account.terms {
            domain::ledger::AccountTerms::Credit(limit) => limit,
            domain::ledger::AccountTerms::Prepaid => Some(0),
        },
        currency: account.currency,
        user_id: view.user_id,
        name: view.name,
        role: view.role,
        seller_id: view.seller_id,
        stock: view
            .stock
            .into_iter()
            .map(|s| StockOut {
                package_id: s.package_id,
                package: s.package,
                state: s.state,
                cards: s.cards,
            })
            .collect(),
    }))
}

/// The caller's own cards (never their PINs).
async fn own(
    state: &AppState,
    caller: &ApiCaller,
    query: &OwnQuery,
    only: Option<CardState>,
) -> Result<Json<ListResponse<CardOut>>, ApiError> {
    let page = page_request(
        &store::card::CARDS,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let state_filter = match (only, query.state.as_deref()) {
        (Some(s), _) => Some(s),
        (None, None) => None,
        (None, Some(text)) => Some(
            CardState::parse(text)
                .ok_or_else(|| ApiError::from(ops::OpError::field("state", "invalid")))?,
        ),
    };
    let q = CardQuery {
        tenant_id: None,
        batch_id: None,
        state: state_filter,
        holder_id: Some(caller.actor.user_id.0),
    };
    let found = ops::card::cards(&state.ctx(), &caller.actor, &q, &page).await?;
    Ok(Json(ListResponse::from_page(found, CardOut::from_model)))
}

/// The caller's own cards.
#[utoipa::path(get, path = "/distributor/cards", tag = "cards", security(("bearer" = [])), params(OwnQuery),
    responses((status = 200, body = ListResponse<CardOut>), (status = 403, body = ErrorBody)))]
async fn own_cards(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<OwnQuery>,
) -> Result<Json<ListResponse<CardOut>>, ApiError> {
    own(&state, &caller, &query, None).await
}

/// The caller's sales: its cards redeemed, with the customer and the recharge's journal.
#[utoipa::path(get, path = "/distributor/sales", tag = "cards", security(("bearer" = [])), params(OwnQuery),
    responses((status = 200, body = ListResponse<CardOut>), (status = 403, body = ErrorBody)))]
async fn list_sales(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<OwnQuery>,
) -> Result<Json<ListResponse<CardOut>>, ApiError> {
    own(&state, &caller, &query, Some(CardState::Redeemed)).await
}

/// An e-PIN sale: the PIN of one of the caller's assigned cards, given once; the card is
/// then sold (`already_sold` after). Audited.
#[utoipa::path(post, path = "/distributor/cards/{serial}/reveal", tag = "cards", security(("bearer" = [])),
    params(("serial" = String, Path)),
    responses((status = 200, body = RevealOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "`already_sold`, `pins_not_kept`, `invalid_card`")))]
async fn reveal(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(serial): Path<String>,
) -> Result<Response, ApiError> {
    let (card, pin) =
        ops::card::distributor::reveal(&state.ctx(), &caller.actor, caller.author, &serial).await?;
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(RevealOut {
            serial: card.serial,
            pin,
        }),
    )
        .into_response())
}

/// An e-top-up: one of the caller's cards sold to a customer of the reseller it sells
/// for, found by id or by mobile; the customer's time is extended as by a recharge.
#[utoipa::path(post, path = "/distributor/sales", tag = "cards", security(("bearer" = [])), request_body = SaleBody,
    responses((status = 201, body = SaleOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "`invalid_card`, `not_found`, `invalid_mobile`, `insufficient_balance`")))]
async fn sell(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<SaleBody>,
) -> Result<Response, ApiError> {
    let input = SaleInput {
        customer_id: body.customer_id,
        mobile: body.mobile,
        serial: body.serial,
    };
    let sale =
        ops::card::distributor::sell(&state.ctx(), &caller.actor, caller.author, &input).await?;
    state.jobs_wake.notify_one();
    let r = sale.redeemed.recharge;
    let out = SaleOut {
        serial: sale.redeemed.serial,
        customer_id: sale.customer_id,
        customer: sale.customer,
        package_id: r.package_id,
        amount: r.amount,
        currency: r.currency,
        expires_at: r.expires_at,
        journal_id: r.journal_id,
        receipt_id: r.receipt_id,
    };
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// The mobiles of the customers the caller sells to, by customer id, E.164 and as dialled
/// at home; `updated_since` gives only what changed since the last sync.
#[utoipa::path(get, path = "/distributor/mobiles", tag = "cards", security(("bearer" = [])), params(MobilesQuery),
    responses((status = 200, body = MobilesOut), (status = 403, body = ErrorBody)))]
async fn mobiles(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<MobilesQuery>,
) -> Result<Json<MobilesOut>, ApiError> {
    let (rows, next_after) = ops::card::distributor::mobiles(
        &state.ctx(),
        &caller.actor,
        query.updated_since,
        query.after.unwrap_or(0),
        query.limit.unwrap_or(ops::card::distributor::MOBILES_PAGE),
    )
    .await?;
    Ok(Json(MobilesOut {
        items: rows
            .into_iter()
            .map(|r| MobileOut {
                customer_id: r.customer_id,
                mobile: r.mobile,
                national: r.national,
                updated_at: r.updated_at,
            })
            .collect(),
        next_after,
    }))
}
