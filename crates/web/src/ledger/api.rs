//! The money API. Amounts are integers in the currency's minor unit, with the currency
//! beside them.
//!
//! - `POST /api/v1/customers/{id}/recharge`: with `preview`, what it would cost (200, writes
//!   nothing); without, the recharge (201 with its `journal_id`); 422
//!   `insufficient_balance` when the collector cannot afford it. Honours `Idempotency-Key`.
//! - `GET /api/v1/users/{id}/balance`, `POST /api/v1/users/{id}/topup`.
//! - `GET /api/v1/ledger/entries` (the list contract), the same as CSV
//!   (`GET /api/v1/ledger/entries.csv`, oldest first), and `GET /api/v1/ledger/journals/{id}`.
//! - `POST /api/v1/ledger/journals/{id}/reverse` `{"reason"}`: the tenant's Admin books a
//!   mistaken top-up back (201; 200 with the first reversal when it was reversed before;
//!   422 `not_reversible` for other journals, `insufficient_balance` when the funds are
//!   spent).
//! - `GET /api/v1/dashboard`: the caller's day (expiring, to collect, collected by whom,
//!   new, renewed, online, collections of the last 30 days), kept 30 s unless `?refresh=1`.
//! - `GET /api/v1/reports/resellers` (and `.csv`): the accountant's report of collections
//!   and margins per reseller over a period.

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
use domain::field::FieldError;
use domain::ids::UserId;
use domain::ledger::AccountKind;
use ops::billing::{RechargeInput, RechargeOutcome};
use ops::ledger::{Balance, StatementFilter};
use store::ledger::{ENTRIES, LedgerAccount, LedgerEntry};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(recharge_customer))
        .routes(routes!(user_balance))
        .routes(routes!(topup_user))
        .routes(routes!(list_entries))
        .routes(routes!(entries_csv))
        .routes(routes!(get_journal))
        .routes(routes!(reverse_journal))
        .routes(routes!(dashboard))
        .routes(routes!(reseller_report))
        .routes(routes!(reseller_report_csv))
}

/// The client's `Idempotency-Key`, if it sent one (the idempotency layer checked its form).
fn idempotency_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
}

/// A recharge to make or to price.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RechargeBody {
    /// The package to buy (default: the customer's own); another one is a package change,
    /// which credits the unused time of what was paid.
    package_id: Option<i64>,
    /// Days to buy; with `hours`, or neither for one whole validity of the package.
    days: Option<i64>,
    /// Hours to buy.
    hours: Option<i64>,
    /// True: answer what it would cost and write nothing.
    #[serde(default)]
    preview: bool,
}

/// What a recharge costs or cost.
#[derive(Debug, Serialize, ToSchema)]
pub struct RechargeOut {
    customer_id: i64,
    package_id: i64,
    /// What the customer pays (the price less the credit and the wallet, never below zero).
    amount: i64,
    /// What the collector's balance pays: the amount less its own margin.
    cost: i64,
    /// The unused time of earlier grants credited (a package change).
    credit: i64,
    /// What the customer's wallet (its prepaid credit on account) paid.
    wallet: i64,
    /// The full price of the time bought.
    price: i64,
    currency: String,
    starts_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    /// The journal; absent for a preview and for free time.
    journal_id: Option<i64>,
    /// The receipt for the money taken; absent when nothing was taken, and for a preview.
    /// Print it at `/invoices/{receipt_id}/print`.
    receipt_id: Option<i64>,
}

impl RechargeOut {
    pub(crate) fn new(customer_id: i64, o: RechargeOutcome) -> Self {
        Self {
            customer_id,
            package_id: o.package_id,
            amount: o.amount,
            cost: o.cost,
            credit: o.credit,
            wallet: o.wallet,
            price: o.price,
            currency: o.currency,
            starts_at: o.starts_at,
            expires_at: o.expires_at,
            journal_id: o.journal_id,
            receipt_id: o.receipt_id,
        }
    }
}

/// Recharges a customer, or prices a recharge (`preview`).
#[utoipa::path(post, path = "/customers/{id}/recharge", tag = "money", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "the same key posts once")),
    request_body = RechargeBody,
    responses((status = 200, body = RechargeOut, description = "the preview, or a replay of a recharge already made"),
              (status = 201, body = RechargeOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "the key made another request"),
              (status = 422, body = ErrorBody, description = "invalid, or `insufficient_balance`")))]
async fn recharge_customer(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RechargeBody>,
) -> Result<Response, ApiError> {
    let input = RechargeInput {
        package_id: body.package_id,
        days: body.days,
        hours: body.hours,
    };
    let ctx = state.ctx();
    if body.preview {
        let done = ops::billing::preview(&ctx, &caller.actor, id, &input).await?;
        return Ok(Json(RechargeOut::new(id, done)).into_response());
    }
    let done = ops::billing::recharge(
        &ctx,
        &caller.actor,
        caller.author,
        id,
        &input,
        idempotency_key(&headers),
    )
    .await?;
    state.jobs_wake.notify_one();
    let status = if done.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(RechargeOut::new(id, done))).into_response())
}

/// A reseller's balance.
#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceOut {
    user_id: UserId,
    /// Funds held (negative: owed).
    balance: i64,
    /// What it may still spend (its balance less what it holds, above its floor); absent
    /// for unlimited credit.
    available: Option<i64>,
    /// What it holds for the credit its sub-operators use below zero.
    held: i64,
    currency: String,
    /// `prepaid` (spends what it holds) or `credit`.
    account_type: String,
    /// The credit line of a `credit` account; absent when unlimited or prepaid.
    credit_limit: Option<i64>,
}

impl From<Balance> for BalanceOut {
    fn from(b: Balance) -> Self {
        Self {
            user_id: b.user_id,
            balance: b.balance,
            available: b.available,
            held: b.held,
            currency: b.currency,
            account_type: b.terms.type_name().to_owned(),
            credit_limit: match b.terms {
                domain::ledger::AccountTerms::Credit(limit) => limit,
                domain::ledger::AccountTerms::Prepaid => None,
            },
        }
    }
}

/// The balance of an operator or sub-operator.
#[utoipa::path(get, path = "/users/{id}/balance", tag = "money", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = BalanceOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn user_balance(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<BalanceOut>, ApiError> {
    let balance = ops::ledger::balance(&state.ctx(), &caller.actor, UserId(id)).await?;
    Ok(Json(balance.into()))
}

/// Funds to move to a reseller.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopupBody {
    /// Minor units, above zero.
    amount: i64,
}

/// A top-up done.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopupOut {
    journal_id: i64,
    balance: BalanceOut,
}

/// Moves funds down to a reseller: from the caller's balance when it is the reseller's
/// operator, else as funds the tenant received.
#[utoipa::path(post, path = "/users/{id}/topup", tag = "money", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "the same key posts once")),
    request_body = TopupBody,
    responses((status = 201, body = TopupOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn topup_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    headers: HeaderMap,
    JsonBody(body): JsonBody<TopupBody>,
) -> Result<(StatusCode, Json<TopupOut>), ApiError> {
    let done = ops::ledger::topup(
        &state.ctx(),
        &caller.actor,
        caller.author,
        UserId(id),
        body.amount,
        idempotency_key(&headers),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(TopupOut {
            journal_id: done.journal_id,
            balance: done.balance.into(),
        }),
    ))
}

/// Filters and paging of ledger entries.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    /// One kind of account: `reseller`, `customer`, `cash`, `revenue`, `adjustments`,
    /// `vat_payable`, `opening`.
    account: Option<String>,
    /// A reseller's (or a staff user's cash) entries.
    user_id: Option<i64>,
    /// A customer's entries.
    customer_id: Option<i64>,
    /// From this instant (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Before this instant.
    to: Option<DateTime<Utc>>,
    /// `-id` (default, newest first) or `id`.
    sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The statement filter of a query: `account` must name a kind of account.
fn statement_filter(
    account: Option<&str>,
    user_id: Option<i64>,
    customer_id: Option<i64>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<StatementFilter, ApiError> {
    let account = match account {
        None => None,
        Some(text) => Some(
            AccountKind::parse(text).ok_or_else(|| FieldError::new("account", "invalid_choice"))?,
        ),
    };
    Ok(StatementFilter {
        account,
        user_id: user_id.map(UserId),
        customer_id,
        from,
        to,
    })
}

/// One leg of a journal, with its account and the account's balance after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryOut {
    id: i64,
    journal_id: i64,
    /// The account's key: `reseller:42`, `customer:7`, `cash:3`, `revenue`, ...
    account: String,
    /// `debit` or `credit`.
    side: String,
    amount: i64,
    /// The account's balance after this entry, on its normal side.
    balance_after: i64,
    currency: String,
    at: DateTime<Utc>,
}

impl EntryOut {
    fn new(e: &LedgerEntry, account: Option<&LedgerAccount>) -> Self {
        Self {
            id: e.id,
            journal_id: e.journal_id,
            account: account.map(|a| a.key.clone()).unwrap_or_default(),
            side: if e.side < 0 { "debit" } else { "credit" }.to_owned(),
            amount: e.amount,
            balance_after: e.balance_after,
            currency: account.map(|a| a.currency.clone()).unwrap_or_default(),
            at: e.at,
        }
    }
}

/// Ledger entries the caller may read, newest first.
#[utoipa::path(get, path = "/ledger/entries", tag = "money", security(("bearer" = [])), params(EntriesQuery),
    responses((status = 200, body = ListResponse<EntryOut>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_entries(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<EntriesQuery>,
) -> Result<Json<ListResponse<EntryOut>>, ApiError> {
    let page = page_request(
        &ENTRIES,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let filter = statement_filter(
        query.account.as_deref(),
        query.user_id,
        query.customer_id,
        query.from,
        query.to,
    )?;
    let statement = ops::ledger::entries(&state.ctx(), &caller.actor, &filter, &page).await?;
    let accounts = statement.accounts;
    Ok(Json(ListResponse::from_page(statement.page, |e| {
        let account = accounts.iter().find(|a| a.id == e.account_id);
        EntryOut::new(&e, account)
    })))
}

/// Filters of a CSV export of entries.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntriesCsvQuery {
    /// One kind of account.
    account: Option<String>,
    /// A reseller's (or a staff user's cash) entries.
    user_id: Option<i64>,
    /// A customer's entries.
    customer_id: Option<i64>,
    /// From this instant (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Before this instant.
    to: Option<DateTime<Utc>>,
}

/// A CSV answer to download.
pub fn csv_download(text: String) -> Response {
    use axum::http::header;
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"statement.csv\"",
            ),
        ],
        text,
    )
        .into_response()
}

/// The entries the caller may read, oldest first, as CSV (`at,journal_id,account,side,
/// amount,balance_after,currency`), at most 100 000: narrow the dates for more.
#[utoipa::path(get, path = "/ledger/entries.csv", tag = "money", security(("bearer" = [])), params(EntriesCsvQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn entries_csv(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<EntriesCsvQuery>,
) -> Result<Response, ApiError> {
    let filter = statement_filter(
        query.account.as_deref(),
        query.user_id,
        query.customer_id,
        query.from,
        query.to,
    )?;
    let text = ops::ledger::entries_csv(&state.ctx(), &caller.actor, &filter).await?;
    Ok(csv_download(text))
}

/// A journal and its legs.
#[derive(Debug, Serialize, ToSchema)]
pub struct JournalOut {
    id: i64,
    /// `recharge`, `topup` or `reversal`.
    kind: String,
    currency: String,
    customer_id: Option<i64>,
    /// The staff user who made it.
    actor_id: Option<i64>,
    memo: String,
    created_at: DateTime<Utc>,
    entries: Vec<EntryOut>,
}

/// One journal with its legs.
#[utoipa::path(get, path = "/ledger/journals/{id}", tag = "money", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = JournalOut), (status = 404, body = ErrorBody)))]
async fn get_journal(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<JournalOut>, ApiError> {
    let (journal, legs) = ops::ledger::journal(&state.ctx(), &caller.actor, id).await?;
    Ok(Json(JournalOut {
        id: journal.id,
        kind: journal.kind,
        currency: journal.currency,
        customer_id: journal.customer_id,
        actor_id: journal.actor_id,
        memo: journal.memo,
        created_at: journal.created_at,
        entries: legs
            .iter()
            .map(|(e, a)| EntryOut::new(e, Some(a)))
            .collect(),
    }))
}

/// Why a journal is reversed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseBody {
    /// 1 to 200 characters, kept in the audit log.
    reason: String,
}

/// A reversal.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReversedOut {
    /// The reversing journal.
    journal_id: i64,
    /// The journal it reverses.
    reverses: i64,
}

/// Reverses a top-up journal: its mirror image, once.
#[utoipa::path(post, path = "/ledger/journals/{id}/reverse", tag = "money", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = ReverseBody,
    responses((status = 201, body = ReversedOut), (status = 200, body = ReversedOut, description = "reversed before"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reverse_journal(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    JsonBody(body): JsonBody<ReverseBody>,
) -> Result<Response, ApiError> {
    let done =
        ops::ledger::reverse(&state.ctx(), &caller.actor, caller.author, id, &body.reason).await?;
    let status = if done.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let out = ReversedOut {
        journal_id: done.journal_id,
        reverses: done.reverses,
    };
    Ok((status, Json(out)).into_response())
}

/// `?refresh=1` computes the dashboard now.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// `1` or `true`: not the copy kept for up to 30 s.
    refresh: Option<String>,
}

/// Money one collector took today.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectedOut {
    /// The staff user (absent for money taken by no one named).
    user_id: Option<i64>,
    name: String,
    amount: i64,
    receipts: i64,
}

/// Money taken on one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayAmountOut {
    day: chrono::NaiveDate,
    amount: i64,
}

/// The caller's day, over the customers it sees, in its tenant's local day.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardOut {
    /// The currency of the amounts (empty across tenants).
    currency: String,
    /// Prepaid customers in service whose expiry falls today: suspended today unless they pay.
    expiring_today: i64,
    /// What those would pay to renew their package once.
    to_collect_today: i64,
    /// Money taken today in all.
    collected_today: i64,
    /// By who took it.
    collected_by: Vec<CollectedOut>,
    new_today: i64,
    /// Customers who paid for time today.
    renewed_today: i64,
    online_now: i64,
    /// The last 30 days, oldest first.
    collections: Vec<DayAmountOut>,
}

impl From<ops::dashboard::Dashboard> for DashboardOut {
    fn from(d: ops::dashboard::Dashboard) -> Self {
        let f = d.figures;
        let name = |id: Option<i64>| {
            id.and_then(|id| d.collectors.iter().find(|(c, _)| *c == id))
                .map(|(_, n)| n.clone())
                .unwrap_or_default()
        };
        Self {
            currency: d.currency,
            expiring_today: f.expiring_today,
            to_collect_today: f.to_collect_today,
            collected_today: f.collected_today.iter().map(|(_, a, _)| a).sum(),
            collected_by: f
                .collected_today
                .iter()
                .map(|(id, amount, receipts)| CollectedOut {
                    user_id: *id,
                    name: name(*id),
                    amount: *amount,
                    receipts: *receipts,
                })
                .collect(),
            new_today: f.new_today,
            renewed_today: f.renewed_today,
            online_now: f.online_now,
            collections: f
                .collections
                .into_iter()
                .map(|(day, amount)| DayAmountOut { day, amount })
                .collect(),
        }
    }
}

/// The caller's dashboard.
#[utoipa::path(get, path = "/dashboard", tag = "money", security(("bearer" = [])), params(DashboardQuery),
    responses((status = 200, body = DashboardOut)))]
async fn dashboard(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<DashboardQuery>,
) -> Result<Json<DashboardOut>, ApiError> {
    let refresh = matches!(query.refresh.as_deref(), Some("1" | "true"));
    let found = state.dashboard(&caller.actor, refresh).await?;
    Ok(Json(found.into()))
}

/// The period of a report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// From this instant (RFC 3339).
    from: DateTime<Utc>,
    /// Before this instant.
    to: DateTime<Utc>,
}

/// One reseller's money over the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportLineOut {
    user_id: i64,
    name: String,
    /// `operator` or `sub_operator`.
    role: String,
    /// What it took from customers for recharges.
    collected: i64,
    /// The margins it earned on recharges (its own and its sub-operators').
    margins: i64,
    /// What it owed upward for what it collected: collected less margins.
    owed_upward: i64,
    /// Funds it received.
    topped_up: i64,
    /// Funds it passed down to its sub-operators.
    passed_down: i64,
    /// Its balance now.
    balance: i64,
}

/// The accountant's report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportOut {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    currency: String,
    resellers: Vec<ReportLineOut>,
}

fn report_lines(lines: Vec<ops::ledger::ReportLine>) -> Vec<ReportLineOut> {
    lines
        .into_iter()
        .map(|l| ReportLineOut {
            user_id: l.money.user_id,
            name: l.name,
            role: l.role.to_owned(),
            collected: l.money.collected,
            margins: l.money.margins,
            owed_upward: l.money.collected - l.money.margins,
            topped_up: l.money.topped_up,
            passed_down: l.money.passed_down,
            balance: l.balance,
        })
        .collect()
}

/// Collections and margins per reseller over a period, for who reads the tenant's books.
#[utoipa::path(get, path = "/reports/resellers", tag = "money", security(("bearer" = [])), params(PeriodQuery),
    responses((status = 200, body = ReportOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reseller_report(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<ReportOut>, ApiError> {
    let (currency, lines) =
        ops::ledger::reseller_report(&state.ctx(), &caller.actor, query.from, query.to).await?;
    Ok(Json(ReportOut {
        from: query.from,
        to: query.to,
        currency,
        resellers: report_lines(lines),
    }))
}

/// The same report as CSV.
#[utoipa::path(get, path = "/reports/resellers.csv", tag = "money", security(("bearer" = [])), params(PeriodQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reseller_report_csv(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let (currency, lines) =
        ops::ledger::reseller_report(&state.ctx(), &caller.actor, query.from, query.to).await?;
    Ok(csv_download(ops::ledger::report_csv(&currency, &lines)?))
}
