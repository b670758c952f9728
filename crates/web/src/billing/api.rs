//! The billing API:
//!
//! - `POST /api/v1/payments`: a cash payment of a postpaid customer (`customer_id`,
//!   `amount`, optional `invoice_id`): 201 with the payment, its journal, its receipt and
//!   what it paid of each invoice; 422 `exceeds_due` (with what is due) when it pays more
//!   than is owed, `not_postpaid`, `insufficient_balance` when a reseller collecting cannot
//!   cover what it owes upward. Honours `Idempotency-Key`.
//! - `GET /api/v1/payments?customer_id=`: a customer's payments, newest first.
//! - `GET /api/v1/billing/runs`: the latest billing runs of the caller's books.
//! - `GET /api/v1/invoices` (the list contract) and `GET /api/v1/invoices/{id}`: receipts,
//!   postpaid invoices and credit notes, gaplessly numbered per tenant, series and fiscal
//!   year.
//! - `PUT /api/v1/customers/{id}/custom-price` (`custom_price`: minor units, or null for
//!   the package's; `version`): a monthly PPPoE customer's own price, which its next
//!   postpaid invoices charge; 422 `not_monthly_pppoe`, `below_cost` (VAT out, below what
//!   its reseller owes upward), `out_of_range`; 412 on a stale version.
//! - `POST /api/v1/invoices/{id}/credit-notes` (`amount` VAT included, `reason`): a credit
//!   note taking part of an open invoice's amount due off, for the tenant's Admin or a
//!   Manager granted `receive_payments`: 201 with the note and the invoice as it stands;
//!   422 `not_open`, `not_an_invoice`, or `amount` out of range (`max`: what is due).
//!   Honours `Idempotency-Key`. `GET` lists an invoice's credit notes.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
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
use crate::state::AppState;
use ops::payment::{CashPayment, PaymentOutcome};
use store::invoice::{Invoice, InvoiceFilter};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(take_payment, list_payments))
        .routes(routes!(list_runs))
        .routes(routes!(list_invoices))
        .routes(routes!(get_invoice))
        .routes(routes!(credit_invoice, list_credit_notes))
        .routes(routes!(set_custom_price))
}

/// A monthly customer's own price to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomPriceBody {
    /// Minor units for one validity of its package; null: its package's price again.
    /// Required: an absent price is not taken for null.
    #[serde(deserialize_with = "Option::deserialize")]
    custom_price: Option<i64>,
    /// The customer's version as read.
    version: i32,
}

/// Sets a monthly PPPoE customer's own price.
#[utoipa::path(put, path = "/customers/{id}/custom-price", tag = "money", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body = CustomPriceBody,
    responses((status = 200, body = crate::customer::api::CustomerOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_custom_price(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    JsonBody(body): JsonBody<CustomPriceBody>,
) -> Result<Json<crate::customer::api::CustomerOut>, ApiError> {
    let customer = ops::billing::set_custom_price(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        body.version,
        body.custom_price,
    )
    .await?;
    let online = ops::online::is_online(&state.ctx(), &customer).await?;
    Ok(Json(crate::customer::api::CustomerOut::from_model(
        &customer,
        state.clock.now(),
        online,
    )))
}

/// A credit note to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditBody {
    /// How much to take off, VAT included, in the currency's minor unit (1 to what is due).
    amount: i64,
    /// Why (1 to 200 characters): printed on the note.
    reason: String,
}

/// A credit note issued, and the invoice it reduced.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditOut {
    /// Print it at `/invoices/{id}/print`.
    credit_note: InvoiceOut,
    invoice: InvoiceOut,
    journal_id: i64,
    /// True when it resumed a customer that non-payment had suspended.
    resumed: bool,
}

/// Issues a credit note on an open postpaid invoice.
#[utoipa::path(post, path = "/invoices/{id}/credit-notes", tag = "money", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "the same key issues the note once")),
    request_body = CreditBody,
    responses((status = 201, body = CreditOut), (status = 200, body = CreditOut, description = "a replay of a note already issued"),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "the key made another request"),
              (status = 412, body = ErrorBody, description = "a payment moved the invoice meanwhile"),
              (status = 422, body = ErrorBody, description = "invalid, `not_open` or `not_an_invoice`")))]
async fn credit_invoice(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreditBody>,
) -> Result<Response, ApiError> {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty());
    let done = ops::invoice::credit(
        &state.ctx(),
        &caller.actor,
        caller.author,
        id,
        body.amount,
        &body.reason,
        key,
    )
    .await?;
    state.jobs_wake.notify_one();
    let status = if done.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let out = CreditOut {
        credit_note: InvoiceOut::new(done.note)?,
        invoice: InvoiceOut::new(done.invoice)?,
        journal_id: done.journal_id,
        resumed: done.resumed,
    };
    Ok((status, Json(out)).into_response())
}

/// The credit notes of an invoice, oldest first.
#[utoipa::path(get, path = "/invoices/{id}/credit-notes", tag = "money", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<InvoiceOut>), (status = 404, body = ErrorBody)))]
async fn list_credit_notes(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<Vec<InvoiceOut>>, ApiError> {
    let notes = ops::invoice::credit_notes(&state.ctx(), &caller.actor, id).await?;
    notes
        .into_iter()
        .map(InvoiceOut::new)
        .collect::<Result<Vec<_>, _>>()
        .map(Json)
}

/// A cash payment to take.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    /// The customer who pays (postpaid).
    customer_id: i64,
    /// How much, in the currency's minor unit (1 to 10^12; at most what is owed).
    amount: i64,
    /// `cash` (the default; online payments go through a gateway).
    #[serde(default)]
    method: Option<String>,
    /// The invoice it pays; absent: the customer's open invoices, oldest due first.
    invoice_id: Option<i64>,
}

/// What a payment paid of one invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedOut {
    invoice_id: i64,
    amount: i64,
}

/// A payment taken.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentOut {
    payment_id: i64,
    customer_id: i64,
    amount: i64,
    currency: String,
    journal_id: i64,
    /// Print it at `/invoices/{receipt_id}/print`.
    receipt_id: Option<i64>,
    /// What it paid of each invoice.
    applied: Vec<AppliedOut>,
    /// True when it resumed a customer that non-payment had suspended.
    resumed: bool,
}

impl PaymentOut {
    fn new(customer_id: i64, o: PaymentOutcome) -> Self {
        Self {
            payment_id: o.payment_id,
            customer_id,
            amount: o.amount,
            currency: o.currency,
            journal_id: o.journal_id,
            receipt_id: o.receipt_id,
            applied: o
                .applied
                .into_iter()
                .map(|(invoice_id, amount)| AppliedOut { invoice_id, amount })
                .collect(),
            resumed: o.resumed,
        }
    }
}

/// Takes a cash payment from a postpaid customer.
#[utoipa::path(post, path = "/payments", tag = "money", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "the same key takes the payment once")),
    request_body = PaymentBody,
    responses((status = 201, body = PaymentOut), (status = 200, body = PaymentOut, description = "a replay of a payment already taken"),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "the key made another request"),
              (status = 422, body = ErrorBody, description = "invalid, `exceeds_due`, `not_postpaid` or `insufficient_balance`")))]
async fn take_payment(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PaymentBody>,
) -> Result<Response, ApiError> {
    if body.method.as_deref().is_some_and(|m| m != "cash") {
        return Err(ops::OpError::field("method", "invalid").into());
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty());
    let input = CashPayment {
        customer_id: body.customer_id,
        amount: body.amount,
        invoice_id: body.invoice_id,
    };
    let done =
        ops::payment::take_cash(&state.ctx(), &caller.actor, caller.author, &input, key).await?;
    state.jobs_wake.notify_one();
    let status = if done.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(PaymentOut::new(body.customer_id, done))).into_response())
}

/// Whose payments to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PaymentsQuery {
    /// The customer.
    customer_id: i64,
}

/// A payment, as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentRow {
    id: i64,
    customer_id: i64,
    /// `cash`.
    method: String,
    amount: i64,
    currency: String,
    collector_id: Option<i64>,
    journal_id: i64,
    receipt_id: Option<i64>,
    received_at: DateTime<Utc>,
}

/// A customer's latest payments (up to 100), newest first.
#[utoipa::path(get, path = "/payments", tag = "money", security(("bearer" = [])), params(PaymentsQuery),
    responses((status = 200, body = Vec<PaymentRow>), (status = 404, body = ErrorBody)))]
async fn list_payments(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<PaymentsQuery>,
) -> Result<Json<Vec<PaymentRow>>, ApiError> {
    let found = ops::payment::of_customer(&state.ctx(), &caller.actor, query.customer_id).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|p| PaymentRow {
                id: p.id,
                customer_id: p.customer_id,
                method: p.method,
                amount: p.amount,
                currency: p.currency,
                collector_id: p.collector_id,
                journal_id: p.journal_id,
                receipt_id: p.receipt_id,
                received_at: p.received_at,
            })
            .collect(),
    ))
}

/// A billing run.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunOut {
    id: i64,
    tenant_id: i64,
    /// `invoice`, `overdue` or `remind`.
    kind: String,
    /// The tenant's local date it ran for.
    period: String,
    /// `running` (or crashed: the next pass resumes it) or `done`.
    status: String,
    /// What it did: `customers`, `amount`, `notices`.
    #[schema(value_type = Object)]
    counts: serde_json::Value,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

/// The latest billing runs (up to 100) of the caller's books, newest first.
#[utoipa::path(get, path = "/billing/runs", tag = "money", security(("bearer" = [])),
    responses((status = 200, body = Vec<RunOut>), (status = 403, body = ErrorBody)))]
async fn list_runs(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Vec<RunOut>>, ApiError> {
    let runs = ops::billing_run::recent(&state.ctx(), &caller.actor, 100).await?;
    Ok(Json(
        runs.into_iter()
            .map(|r| RunOut {
                id: r.id,
                tenant_id: r.tenant_id,
                kind: r.kind,
                period: r.period_key,
                status: r.status,
                counts: serde_json::from_str(&r.counts).unwrap_or_default(),
                started_at: r.started_at,
                finished_at: r.finished_at,
            })
            .collect(),
    ))
}

/// Filters and paging of documents.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvoicesQuery {
    /// One customer's.
    customer_id: Option<i64>,
    /// `receipt` or `invoice`.
    series: Option<String>,
    /// `open`, `paid` or `void`.
    status: Option<String>,
    /// Issued from this instant (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Issued before this instant.
    to: Option<DateTime<Utc>>,
    /// `-id` (default, newest first) or `id`.
    sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// One line of a document.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineOut {
    /// `service` (time bought, or a postpaid period), `credit` (unused time given back) or
    /// `payment` (what a payment paid of the invoice numbered in `description`).
    kind: String,
    description: String,
    amount: i64,
}

/// A document: a receipt for money taken, or a postpaid invoice for money owed.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceOut {
    id: i64,
    /// `receipt` (money taken), `invoice` (a postpaid invoice: money owed) or
    /// `credit_note` (money taken off an invoice).
    series: String,
    /// As printed: `RC-2026/27-000042`.
    number: String,
    /// The fiscal year it is numbered in (the calendar year the fiscal year starts in).
    fiscal_year: i32,
    customer_id: i64,
    journal_id: Option<i64>,
    /// The staff user who took the money.
    collector_id: Option<i64>,
    /// `paid`, `open` (an invoice still owed) or `void`.
    status: String,
    currency: String,
    subtotal: i64,
    vat: i64,
    total: i64,
    issued_at: DateTime<Utc>,
    lines: Vec<LineOut>,
    /// A postpaid invoice's period: its first day and the day after its last (local dates).
    period_start: Option<chrono::NaiveDate>,
    period_end: Option<chrono::NaiveDate>,
    /// When a postpaid invoice falls due.
    due_at: Option<DateTime<Utc>>,
    /// What was paid of it.
    amount_paid: i64,
    /// What is still owed.
    amount_due: i64,
    /// What credit notes took off a postpaid invoice.
    credited: i64,
    /// A credit note's invoice.
    credits_invoice_id: Option<i64>,
    /// Why a credit note was issued.
    reason: Option<String>,
}

impl InvoiceOut {
    /// The document `i` as answered.
    pub(crate) fn new(i: Invoice) -> Result<Self, ApiError> {
        let lines = store::invoice::lines(&i)
            .map_err(|e| ApiError::from(ops::OpError::Internal(e.to_string())))?
            .into_iter()
            .map(|l| LineOut {
                kind: l.kind,
                description: l.description,
                amount: l.amount,
            })
            .collect();
        let amount_due = store::invoice::due(&i);
        Ok(Self {
            id: i.id,
            series: i.series,
            number: i.number_text,
            fiscal_year: i.fiscal_year,
            customer_id: i.customer_id,
            journal_id: i.journal_id,
            collector_id: i.collector_id,
            status: i.status,
            currency: i.currency,
            subtotal: i.subtotal,
            vat: i.vat,
            total: i.total,
            issued_at: i.issued_at,
            lines,
            period_start: i.period_start,
            period_end: i.period_end,
            due_at: i.due_at,
            amount_paid: i.amount_paid,
            amount_due,
            credited: i.credited,
            credits_invoice_id: i.credits_invoice_id,
            reason: i.reason,
        })
    }
}

/// Documents the caller may read, newest first: the whole tenant's for who reads its
/// books, else those the caller took the money for (or one visible customer's).
#[utoipa::path(get, path = "/invoices", tag = "money", security(("bearer" = [])), params(InvoicesQuery),
    responses((status = 200, body = ListResponse<InvoiceOut>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_invoices(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<InvoicesQuery>,
) -> Result<Json<ListResponse<InvoiceOut>>, ApiError> {
    let page = page_request(
        &store::invoice::LIST,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let series = match query.series.as_deref() {
        None => None,
        Some(text) => Some(
            domain::invoice::Series::parse(text)
                .ok_or_else(|| ApiError::from(ops::OpError::field("series", "invalid")))?,
        ),
    };
    let status = match query.status.as_deref() {
        None => None,
        Some(s @ ("open" | "paid" | "void")) => Some(s.to_owned()),
        Some(_) => return Err(ops::OpError::field("status", "invalid").into()),
    };
    let filter = InvoiceFilter {
        customer_id: query.customer_id,
        from: query.from,
        to: query.to,
        series,
        status,
        ..InvoiceFilter::default()
    };
    let found = ops::invoice::list(&state.ctx(), &caller.actor, &filter, &page).await?;
    let mut items = Vec::with_capacity(found.items.len());
    for i in found.items {
        items.push(InvoiceOut::new(i)?);
    }
    Ok(Json(ListResponse {
        items,
        next_cursor: found.next_cursor,
        total: found.total,
        total_capped: found.total_capped,
    }))
}

/// One document.
#[utoipa::path(get, path = "/invoices/{id}", tag = "money", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = InvoiceOut), (status = 404, body = ErrorBody)))]
async fn get_invoice(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<InvoiceOut>, ApiError> {
    let invoice = ops::invoice::get(&state.ctx(), &caller.actor, id).await?;
    Ok(Json(InvoiceOut::new(invoice)?))
}
