//! `GET /api/v1/sessions` (subscribers' sessions, live and past) and
//! `GET /api/v1/customers/{id}/usage` (bytes per day and for the current period).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::list::{ListResponse, page_request};
use crate::http::path::Id;
use crate::http::query::Query;
use crate::state::AppState;
use domain::ids::TenantId;
use ops::online::{SessionQuery, Usage};
use store::online::{DayUsage, SESSIONS, Session};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(customer_usage))
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
