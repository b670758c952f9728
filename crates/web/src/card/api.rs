//! `/api/v1/card-batches` and `/api/v1/cards` (`ops::card`): recharge card batches made,
//! listed and exported, cards listed (never their PINs) and moved through their life
//! (assigned, taken back, sold, suspended, resumed, voided), and a card redeemed for a
//! customer. Guessing is limited: past the limit the answer is 429 with `Retry-After`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::http::list::{ListResponse, page_request};
use crate::http::path::Id;
use crate::http::query::Query;
use crate::ledger::api::RechargeOut;
use crate::state::AppState;
use domain::card::State as CardState;
use domain::ids::TenantId;
use ops::card::{BatchInput, CardAction, CardQuery, Selection};
use store::card::{Batch, Card};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_batches, create_batch))
        .routes(routes!(get_batch))
        .routes(routes!(export_batch))
        .routes(routes!(list_cards))
        .routes(routes!(move_cards))
        .routes(routes!(redeem_card))
}

/// A batch of recharge cards.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchOut {
    id: i64,
    tenant_id: TenantId,
    /// `recharge`.
    kind: String,
    /// The package its cards apply.
    package_id: i64,
    quantity: i32,
    /// The face price printed, in minor units.
    price: i64,
    /// What a card distributor keeps of each card's face price; it pays its parent the rest.
    commission: i64,
    /// Unused after this, its cards expire.
    valid_until: Option<DateTime<Utc>>,
    /// Its PINs are kept sealed for reprint and export.
    keeps_pins: bool,
    /// How many times its PINs were exported.
    exported: i32,
    note: String,
    created_at: DateTime<Utc>,
}

impl BatchOut {
    fn from_model(b: &Batch) -> Self {
        Self {
            id: b.id,
            tenant_id: TenantId(b.tenant_id),
            kind: b.kind.code().to_owned(),
            package_id: b.package_id,
            quantity: b.quantity,
            price: b.price,
            commission: b.commission,
            valid_until: b.valid_until,
            keeps_pins: b.keeps_pins,
            exported: b.exported,
            note: b.note.clone(),
            created_at: b.created_at,
        }
    }
}

/// A card: its serial and where it is in its life; never its PIN.
#[derive(Debug, Serialize, ToSchema)]
pub struct CardOut {
    id: i64,
    batch_id: i64,
    serial: String,
    /// The PIN's last two digits.
    pin_tail: String,
    /// `in_stock`, `assigned`, `sold`, `redeemed`, `suspended`, `void` or `expired`.
    state: String,
    /// The reseller or distributor holding it (absent: the tenant's own stock).
    holder_id: Option<i64>,
    valid_until: Option<DateTime<Utc>>,
    assigned_at: Option<DateTime<Utc>>,
    sold_at: Option<DateTime<Utc>>,
    redeemed_at: Option<DateTime<Utc>>,
    /// The customer it was redeemed for.
    redeemed_by: Option<i64>,
    /// The recharge's journal.
    journal_id: Option<i64>,
}

impl CardOut {
    pub(crate) fn from_model(c: Card) -> Self {
        Self {
            id: c.id,
            batch_id: c.batch_id,
            serial: c.serial,
            pin_tail: c.tail,
            state: c.state.code().to_owned(),
            holder_id: c.holder_id,
            valid_until: c.valid_until,
            assigned_at: c.assigned_at,
            sold_at: c.sold_at,
            redeemed_at: c.redeemed_at,
            redeemed_by: c.redeemed_by,
            journal_id: c.journal_id,
        }
    }
}

/// A new batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBatchBody {
    /// The tenant (platform roles); others make batches in their own.
    tenant_id: Option<i64>,
    /// `recharge` (the default): PINs that apply the package to an existing account;
    /// `access`: vouchers of a hotspot package, each code a walk-up account at the portal.
    #[serde(default)]
    kind: domain::card::Kind,
    /// A master package of the tenant.
    package_id: i64,
    /// How many cards, 1 to 100 000.
    quantity: i64,
    /// The face price printed, minor units (the package's price when absent).
    price: Option<i64>,
    /// What a card distributor keeps of each card's face price, minor units (none when
    /// absent; at most the price). A prepaid distributor pays the rest when it is handed
    /// the card, one on credit when the card is redeemed.
    commission: Option<i64>,
    /// Unused after this instant, the cards expire.
    valid_until: Option<DateTime<Utc>>,
    /// Keep the PINs sealed for reprint and export (the default). When false, the PINs are
    /// in this answer and nowhere else, ever.
    #[serde(default = "yes")]
    keep_pins: bool,
    /// A reseller or card distributor of the tenant to hand the whole batch to.
    holder_id: Option<i64>,
    /// What staff call it (up to 200 characters).
    #[serde(default)]
    note: String,
}

fn yes() -> bool {
    true
}

/// One card's PIN, given once.
#[derive(Debug, Serialize, ToSchema)]
pub struct PinOut {
    serial: String,
    /// As printed: `4821 0937 5512 0`, or a voucher's `K7QF2-9XWMD-R`.
    pin: String,
}

/// A batch made.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchCreated {
    batch: BatchOut,
    /// The PINs, when the batch does not keep them.
    pins: Vec<PinOut>,
}

/// A batch with how many of its cards are in each state.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchDetail {
    batch: BatchOut,
    /// State → cards.
    counts: std::collections::BTreeMap<String, i64>,
}

/// Which batches.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchQuery {
    /// The tenant (platform roles).
    tenant_id: Option<i64>,
    /// One package's.
    package_id: Option<i64>,
    /// `-id` (default, newest first) or `id`.
    sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Which cards.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CardsQuery {
    /// The tenant (platform roles).
    tenant_id: Option<i64>,
    /// One batch's.
    batch_id: Option<i64>,
    /// In this state.
    state: Option<String>,
    /// Held by this reseller or distributor.
    holder_id: Option<i64>,
    /// `id` (default) or `-id`.
    sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A move of cards: a batch's, or the serials named (both: those of the batch).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// The tenant (platform roles).
    tenant_id: Option<i64>,
    batch_id: Option<i64>,
    /// Up to 10 000 serials.
    #[serde(default)]
    serials: Vec<String>,
    /// `assign` (with `holder_id`), `unassign`, `sell`, `suspend`, `resume` or `void`.
    action: String,
    /// Who gets the cards (`assign`).
    holder_id: Option<i64>,
}

/// How many cards moved (those the move could not start from are left as they were).
#[derive(Debug, Serialize, ToSchema)]
pub struct Moved {
    moved: u64,
}

/// A redemption.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    customer_id: i64,
    /// As typed: spaces, dashes and Bengali digits are fine.
    pin: String,
}

/// A card redeemed: the recharge it made.
#[derive(Debug, Serialize, ToSchema)]
pub struct RedeemOut {
    serial: String,
    recharge: RechargeOut,
}

/// The batches of the tenant, newest first, for those who reach its stock.
#[utoipa::path(get, path = "/card-batches", tag = "cards", security(("bearer" = [])), params(BatchQuery),
    responses((status = 200, body = ListResponse<BatchOut>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_batches(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<BatchQuery>,
) -> Result<Json<ListResponse<BatchOut>>, ApiError> {
    let page = page_request(
        &store::card::BATCHES,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let found = ops::card::batches(
        &state.ctx(),
        &caller.actor,
        query.tenant_id,
        query.package_id,
        &page,
    )
    .await?;
    Ok(Json(ListResponse::from_page(found, |b| {
        BatchOut::from_model(&b)
    })))
}

/// Makes a batch of recharge cards (PINs of 12 random digits and a check digit) or access
/// vouchers (codes of 10 Crockford symbols and a check symbol), only their keyed hash kept
/// (and the secrets sealed, unless `keep_pins` is false).
#[utoipa::path(post, path = "/card-batches", tag = "cards", security(("bearer" = [])), request_body = CreateBatchBody,
    responses((status = 201, body = BatchCreated), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_batch(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<CreateBatchBody>,
) -> Result<Response, ApiError> {
    let input = BatchInput {
        tenant_id: body.tenant_id,
        kind: body.kind,
        package_id: body.package_id,
        quantity: body.quantity,
        price: body.price,
        commission: body.commission,
        valid_until: body.valid_until,
        keep_pins: body.keep_pins,
        holder_id: body.holder_id,
        note: body.note,
    };
    let made = ops::card::create_batch(&state.ctx(), &caller.actor, caller.author, &input).await?;
    let out = BatchCreated {
        batch: BatchOut::from_model(&made.batch),
        pins: made
            .pins
            .into_iter()
            .map(|(serial, pin)| PinOut { serial, pin })
            .collect(),
    };
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(out),
    )
        .into_response())
}

/// One batch, with how many of its cards are in each state.
#[utoipa::path(get, path = "/card-batches/{id}", tag = "cards", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = BatchDetail), (status = 404, body = ErrorBody)))]
async fn get_batch(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<BatchDetail>, ApiError> {
    let view = ops::card::batch(&state.ctx(), &caller.actor, id).await?;
    Ok(Json(BatchDetail {
        batch: BatchOut::from_model(&view.batch),
        counts: view.counts.into_iter().collect(),
    }))
}

/// A batch's PINs as CSV for a print house (serial, PIN, package, price, valid until,
/// state), when the batch keeps them; every export is audited and counted.
#[utoipa::path(get, path = "/card-batches/{id}/export", tag = "cards", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "`pins_not_kept`")))]
async fn export_batch(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let csv = ops::card::export(&state.ctx(), &caller.actor, caller.author, id).await?;
    let name = format!("attachment; filename=\"cards-{id}.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        csv,
    )
        .into_response())
}

/// The cards the caller reaches: the tenant's stock for its people, the cards it holds
/// (and an operator's handed down) for a reseller or distributor.
#[utoipa::path(get, path = "/cards", tag = "cards", security(("bearer" = [])), params(CardsQuery),
    responses((status = 200, body = ListResponse<CardOut>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_cards(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<CardsQuery>,
) -> Result<Json<ListResponse<CardOut>>, ApiError> {
    let page = page_request(
        &store::card::CARDS,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let state_filter = match query.state.as_deref() {
        None => None,
        Some(text) => Some(
            CardState::parse(text)
                .ok_or_else(|| ApiError::from(ops::OpError::field("state", "invalid")))?,
        ),
    };
    let q = CardQuery {
        tenant_id: query.tenant_id,
        batch_id: query.batch_id,
        state: state_filter,
        holder_id: query.holder_id,
    };
    let found = ops::card::cards(&state.ctx(), &caller.actor, &q, &page).await?;
    Ok(Json(ListResponse::from_page(found, CardOut::from_model)))
}

/// Moves cards through their life; the cards the action cannot start from, or the caller
/// does not reach, are left as they are.
#[utoipa::path(post, path = "/cards/move", tag = "cards", security(("bearer" = [])), request_body = MoveBody,
    responses((status = 200, body = Moved), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn move_cards(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<MoveBody>,
) -> Result<Json<Moved>, ApiError> {
    let action = match (body.action.as_str(), body.holder_id) {
        ("assign", Some(holder)) => CardAction::Assign(holder),
        ("assign", None) => return Err(ops::OpError::field("holder_id", "required").into()),
        ("unassign", _) => CardAction::Unassign,
        ("sell", _) => CardAction::Sell,
        ("suspend", _) => CardAction::Suspend,
        ("resume", _) => CardAction::Resume,
        ("void", _) => CardAction::Void,
        _ => return Err(ops::OpError::field("action", "invalid").into()),
    };
    let selection = Selection {
        tenant_id: body.tenant_id,
        batch_id: body.batch_id,
        serials: body.serials,
    };
    let moved = ops::card::move_cards(
        &state.ctx(),
        &caller.actor,
        caller.author,
        &selection,
        action,
    )
    .await?;
    Ok(Json(Moved { moved }))
}

/// Redeems a card for a customer the caller sees: its package (or the customer's reseller
/// package made from it) for one validity, paid as a recharge by the card's holder. An
/// unknown, used, suspended, void, expired or out-of-reach card is `invalid_card`; a typo
/// the check digit catches is `invalid_pin`; too many failures answer 429.
#[utoipa::path(post, path = "/cards/redeem", tag = "cards", security(("bearer" = [])), request_body = RedeemBody,
    responses((status = 201, body = RedeemOut), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "`invalid_card`, `invalid_pin`, `already_redeemed`, `insufficient_balance`"),
        (status = 429, body = ErrorBody)))]
async fn redeem_card(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<RedeemBody>,
) -> Result<Response, ApiError> {
    let done = ops::card::redeem(
        &state.ctx(),
        &caller.actor,
        caller.author,
        body.customer_id,
        &body.pin,
    )
    .await?;
    state.jobs_wake.notify_one();
    let out = RedeemOut {
        serial: done.serial,
        recharge: RechargeOut::new(body.customer_id, done.recharge),
    };
    Ok((StatusCode::CREATED, Json(out)).into_response())
}
