//! `GET /api/v1/sessions` (subscribers' sessions, live and past),
//! `GET /api/v1/customers/{id}/usage` (bytes per day and for the current period), and
//! ending a customer's live sessions: `POST /api/v1/customers/{id}/disconnect` (202, the
//! enforcements the ladder climbs after the answer) and
//! `GET /api/v1/customers/{id}/enforcements` (each with its attempts and outcomes).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::http::StatusCode;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::list::{ListResponse, page_request};
use crate::http::path::Id;
use crate::http::query::Query;
use crate::state::AppState;
use domain::fup::Level;
use domain::ids::TenantId;
use ops::online::{SessionQuery, Usage};
use store::enforcement::{Attempt, Enforcement};
use store::online::{DayUsage, SESSIONS, Session};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(customer_usage))
        .routes(routes!(disconnect_customer))
        .routes(routes!(customer_enforcements))
}

/// A subscriber's session, as the NAS reported it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    id: i64,
    /// The customer, when the user name is a customer's.
    customer_id: Option<i64>,
    /// The router the session came from, when its address is a router's.
    router_id: Option<i64>,
    tenant_id: Option<TenantId>,
    username: String,
    acct_session_id: String,
    /// The router's address as the session names it.
    nas_ip: String,
    framed_ip: Option<String>,
    /// Calling-Station-Id: the subscriber's MAC on PPPoE and hotspot.
    mac: String,
    started_at: Option<DateTime<Utc>>,
    /// The last record heard.
    updated_at: Option<DateTime<Utc>>,
    /// Absent while the session is open.
    stopped_at: Option<DateTime<Utc>>,
    /// Why it ended (`User-Request`, `Lost-Carrier`, `NAS-Reboot`, `Stale-Session`, ...).
    terminate_cause: String,
    /// Bytes from the subscriber (64-bit).
    input_octets: i64,
    /// Bytes to the subscriber (64-bit).
    output_octets: i64,
}

impl SessionOut {
    /// The API view of a session.
    pub fn from_session(s: Session) -> Self {
        Self {
            id: s.id,
            customer_id: s.customer_id,
            router_id: s.router_id,
            tenant_id: s.tenant_id.map(TenantId),
            username: s.username,
            acct_session_id: s.acct_session_id,
            nas_ip: s.nas_ip,
            framed_ip: s.framed_ip,
            mac: s.mac,
            started_at: s.started_at,
            updated_at: s.updated_at,
            stopped_at: s.stopped_at,
            terminate_cause: s.terminate_cause,
            input_octets: s.input_octets,
            output_octets: s.output_octets,
        }
    }
}

/// Filters and paging of the sessions list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SessionsQuery {
    tenant_id: Option<i64>,
    customer_id: Option<i64>,
    router_id: Option<i64>,
    /// `true`: live sessions only; `false`: ended ones only.
    open: Option<bool>,
    /// `-id` (default, newest first) or `id`.
    sort: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl SessionsQuery {
    /// The operation's query.
    pub fn query(&self) -> SessionQuery {
        SessionQuery {
            tenant_id: self.tenant_id.map(TenantId),
            customer_id: self.customer_id,
            router_id: self.router_id,
            open: self.open,
        }
    }
}

/// Lists the sessions of the customers the caller sees.
#[utoipa::path(get, path = "/sessions", tag = "sessions", security(("bearer" = [])), params(SessionsQuery),
    responses((status = 200, body = ListResponse<SessionOut>), (status = 422, body = ErrorBody)))]
async fn list_sessions(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<SessionsQuery>,
) -> Result<Json<ListResponse<SessionOut>>, ApiError> {
    let page = page_request(
        &SESSIONS,
        query.sort.as_deref(),
        query.limit,
        query.cursor.as_deref(),
    )?;
    let sessions =
        ops::online::sessions(&state.ctx(), &caller.actor, &query.query(), &page).await?;
    Ok(Json(ListResponse::from_page(
        sessions,
        SessionOut::from_session,
    )))
}

/// Bytes on one day (the tenant's day).
#[derive(Debug, Serialize, ToSchema)]
pub struct DayOut {
    day: NaiveDate,
    input_octets: i64,
    output_octets: i64,
}

impl From<DayUsage> for DayOut {
    fn from(d: DayUsage) -> Self {
        Self {
            day: d.day,
            input_octets: d.input_octets,
            output_octets: d.output_octets,
        }
    }
}

/// The current period and its bytes.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodOut {
    /// `service` (a prepaid customer's service up to its expiry) or `month` (the calendar
    /// month in the tenant's zone).
    kind: String,
    first_day: NaiveDate,
    last_day: NaiveDate,
    input_octets: i64,
    output_octets: i64,
}

/// A customer's usage.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageOut {
    customer_id: i64,
    /// Today in the tenant's zone.
    today: NaiveDate,
    /// The last 30 days, oldest first, days without traffic included.
    days: Vec<DayOut>,
    period: PeriodOut,
    /// What the package allows in the period, when it caps it.
    fair_usage: Option<FairUsageOut>,
}

/// A capped package's allowance and where the customer stands in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FairUsageOut {
    /// The volume per period, if the package has one.
    volume_bytes: Option<i64>,
    /// The period's bytes, up and down.
    used_bytes: i64,
    /// `full` (the package's speed), `slowed` (past a FUP step) or `exhausted` (the volume
    /// used up: refused until the next period).
    level: String,
    /// The FUP steps passed (0 at full speed).
    steps_passed: u8,
    /// The rate it gets now (`Mikrotik-Rate-Limit`).
    rate_limit: String,
}

impl FairUsageOut {
    fn from_allowance(a: ops::online::Allowance) -> Self {
        let (level, steps_passed) = match a.level {
            Level::Full => ("full", 0),
            Level::Step(n) => ("slowed", n),
            Level::Exhausted => ("exhausted", 0),
        };
        Self {
            volume_bytes: a.volume_bytes,
            used_bytes: a.used_bytes,
            level: level.to_owned(),
            steps_passed,
            rate_limit: a.rate_limit,
        }
    }
}

impl UsageOut {
    /// The API view of a customer's usage.
    pub fn from_usage(customer_id: i64, u: Usage) -> Self {
        Self {
            customer_id,
            today: u.today,
            days: u.days.into_iter().map(DayOut::from).collect(),
            period: PeriodOut {
                kind: u.period.kind.to_owned(),
                first_day: u.period.first,
                last_day: u.period.last,
                input_octets: u.period.input_octets,
                output_octets: u.period.output_octets,
            },
            fair_usage: u.allowance.map(FairUsageOut::from_allowance),
        }
    }
}

/// A customer's bytes up and down per day and for its current period.
#[utoipa::path(get, path = "/customers/{id}/usage", tag = "sessions", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = UsageOut), (status = 404, body = ErrorBody)))]
async fn customer_usage(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<UsageOut>, ApiError> {
    let usage = ops::online::usage(&state.ctx(), &caller.actor, id).await?;
    Ok(Json(UsageOut::from_usage(id, usage)))
}

/// One rung tried and what came of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptOut {
    /// `disconnect` (Disconnect-Request) or `router_api` (removed through the router's API).
    rung: String,
    at: DateTime<Utc>,
    /// `ack`, `nak`, `timeout`, `no_stop` (an ACK no Stop followed), `removed`,
    /// `not_listed` or `error`.
    outcome: String,
    /// The Error-Cause of a NAK (RFC 5176: 503 no such session, 506 busy, ...).
    error_cause: Option<i32>,
    rtt_ms: Option<i64>,
    detail: String,
}

/// A live session to end, and where that stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnforcementOut {
    id: i64,
    customer_id: i64,
    router_id: Option<i64>,
    /// The session's row in the sessions list.
    session_id: Option<i64>,
    username: String,
    acct_session_id: String,
    nas_ip: String,
    framed_ip: Option<String>,
    /// Why: `disconnect` (asked for), `suspended`, `disabled`, `archive`, `fup` (a FUP
    /// step or a new period) or `volume_cap` (the volume used up).
    reason: String,
    /// The rate a CoA gives the session (`Mikrotik-Rate-Limit`); none when it is ended.
    rate_limit: Option<String>,
    /// `pending`, `done` (a Stop arrived or the router no longer lists the session) or
    /// `failed`.
    status: String,
    /// The last rung tried.
    rung: Option<String>,
    /// What it came to, in words.
    detail: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
    attempts: Vec<AttemptOut>,
}

impl EnforcementOut {
    /// The API view of an enforcement and its attempts.
    pub fn from_model(e: Enforcement, attempts: Vec<Attempt>) -> Self {
        Self {
            id: e.id,
            customer_id: e.customer_id,
            router_id: e.router_id,
            session_id: e.radacct_id,
            username: e.username,
            acct_session_id: e.acct_session_id,
            nas_ip: e.nas_ip,
            framed_ip: e.framed_ip,
            reason: e.reason,
            rate_limit: e.rate_limit,
            status: e.status.code().to_owned(),
            rung: e.rung.map(|r| r.code().to_owned()),
            detail: e.detail,
            created_at: e.created_at,
            updated_at: e.updated_at,
            done_at: e.done_at,
            attempts: attempts
                .into_iter()
                .map(|a| AttemptOut {
                    rung: a.rung.code().to_owned(),
                    at: a.at,
                    outcome: a.outcome,
                    error_cause: a.error_cause,
                    rtt_ms: a.rtt_ms,
                    detail: a.detail,
                })
                .collect(),
        }
    }
}

/// The enforcements a disconnect queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisconnectOut {
    /// One per live session, pending: follow them at `/customers/{id}/enforcements`.
    enforcements: Vec<EnforcementOut>,
}

/// Ends every live session of a customer through the enforcement ladder (Disconnect-Request,
/// then the router's API), after the answer.
#[utoipa::path(post, path = "/customers/{id}/disconnect", tag = "sessions", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 202, body = DisconnectOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody, description = "the customer has no live session")))]
async fn disconnect_customer(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<(StatusCode, Json<DisconnectOut>), ApiError> {
    let made = ops::enforcement::disconnect(&state.ctx(), &caller.actor, caller.author, id).await?;
    state.jobs_wake.notify_one();
    let enforcements = made
        .into_iter()
        .map(|e| EnforcementOut::from_model(e, Vec::new()))
        .collect();
    Ok((StatusCode::ACCEPTED, Json(DisconnectOut { enforcements })))
}

/// A customer's latest enforcements (20), newest first, each with its attempts.
#[utoipa::path(get, path = "/customers/{id}/enforcements", tag = "sessions", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = Vec<EnforcementOut>), (status = 404, body = ErrorBody)))]
async fn customer_enforcements(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<Vec<EnforcementOut>>, ApiError> {
    let found = ops::enforcement::list(&state.ctx(), &caller.actor, id).await?;
    Ok(Json(
        found
            .into_iter()
            .map(|(e, attempts)| EnforcementOut::from_model(e, attempts))
            .collect(),
    ))
}
