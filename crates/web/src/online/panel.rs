//! The panel's sessions page (live and past sessions of the customers the user sees,
//! filtered by router, customer and open or ended, newest first, paged by cursor), and the
//! sessions and usage the customer's page shows. Times are in the tenant's zone; bytes are
//! shown in binary units, down (to the subscriber) before up.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;

use crate::i18n::Tr;
use crate::page::input;
use crate::page::lookup::{self, Choice, Tenants};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Pager, Section, Ui, bytes, field_messages, render};
use crate::state::AppState;
use domain::access::Actor;
use ops::OpError;
use ops::online::{SessionQuery, Usage};
use store::list::PageRequest;
use store::online::{SESSIONS, Session};

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new().route("/panel/sessions", get(list))
}

/// A session as a table row.
#[derive(Debug)]
pub struct SessionRow {
    /// The customer's page, when the session is a customer's.
    pub customer_link: Option<String>,
    /// The user name.
    pub username: String,
    /// The router's name, else the address the session came from.
    pub router: String,
    /// The subscriber's address.
    pub framed_ip: String,
    /// The subscriber's MAC.
    pub mac: String,
    /// Started, in the tenant's zone.
    pub started: String,
    /// How long it ran, or runs.
    pub uptime: String,
    /// Bytes to the subscriber.
    pub down: String,
    /// Bytes from the subscriber.
    pub up: String,
    /// The last record heard, in the tenant's zone.
    pub updated: String,
    /// Stopped, in the tenant's zone (empty while open).
    pub stopped: String,
    /// Why it ended.
    pub cause: String,
    /// True while open.
    pub open: bool,
}

impl SessionRow {
    /// The row of `s` at `now`, times in `zone`, routers named from `routers`.
    pub fn new(s: &Session, now: DateTime<Utc>, zone: chrono_tz::Tz, routers: &[Choice]) -> Self {
        let time = |at: Option<DateTime<Utc>>| input::local_time_text(at, zone);
        let router = s
            .router_id
            .and_then(|id| {
                let id = id.to_string();
                routers
                    .iter()
                    .find(|(v, _)| *v == id)
                    .map(|(_, n)| n.clone())
            })
            .unwrap_or_else(|| s.nas_ip.clone());
        let uptime = s
            .started_at
            .map(|start| duration(s.stopped_at.unwrap_or(now) - start))
            .unwrap_or_default();
        Self {
            customer_link: s.customer_id.map(|id| format!("/panel/customers/{id}")),
            username: s.username.clone(),
            router,
            framed_ip: s.framed_ip.clone().unwrap_or_default(),
            mac: s.mac.clone(),
            started: time(s.started_at),
            uptime,
            down: bytes(s.output_octets),
            up: bytes(s.input_octets),
            updated: time(s.updated_at),
            stopped: time(s.stopped_at),
            cause: s.terminate_cause.clone(),
            open: s.stopped_at.is_none(),
        }
    }
}

/// A span as people read it: `2d 3h`, `3h 4m`, `4m 5s`, `5s`.
pub fn duration(span: TimeDelta) -> String {
    let s = span.num_seconds().max(0);
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60, s % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{sec}s"),
        (0, 0, _) => format!("{m}m {sec}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h"),
    }
}

/// What the customer's page shows of its sessions and usage.
#[derive(Debug)]
pub struct CustomerOnline {
    /// Its open sessions.
    pub live: Vec<SessionRow>,
    /// Its latest ended sessions.
    pub recent: Vec<SessionRow>,
    /// The usage: the current period's kind, span and bytes down and up.
    pub period: (String, String, String, String),
    /// Each day of the last month with traffic, newest first: day, down, up.
    pub days: Vec<(String, String, String)>,
    /// A capped package's allowance: the level's message key, the rate now, the bytes
    /// used and the volume (empty without one).
    pub fair_usage: Option<(String, String, String, String)>,
    /// Its latest enforcements, newest first.
    pub enforcements: Vec<EnforcementRow>,
}

/// An enforcement as a row: when, the session, where it stands, and each attempt.
#[derive(Debug)]
pub struct EnforcementRow {
    /// Asked at, in the tenant's zone.
    pub at: String,
    /// Acct-Session-Id.
    pub session: String,
    /// Why, as a message key.
    pub reason: String,
    /// The rate a CoA gives the session, if that is the change.
    pub rate_limit: Option<String>,
    /// `pending`, `done` or `failed`.
    pub status: &'static str,
    /// The status's message key.
    pub label: String,
    /// What the last rung came to.
    pub detail: String,
    /// Each attempt: rung, outcome, round trip.
    pub attempts: Vec<String>,
}

impl EnforcementRow {
    fn new(
        e: &store::enforcement::Enforcement,
        attempts: &[store::enforcement::Attempt],
        zone: chrono_tz::Tz,
    ) -> Self {
        Self {
            at: input::local_time_text(Some(e.created_at), zone),
            session: e.acct_session_id.clone(),
            reason: format!("online.reason_{}", e.reason),
            rate_limit: e.rate_limit.clone(),
            status: e.status.code(),
            label: format!("online.enforcement_{}", e.status.code()),
            detail: e.detail.clone(),
            attempts: attempts
                .iter()
                .map(|a| {
                    let rtt = a.rtt_ms.map(|ms| format!(" ({ms} ms)")).unwrap_or_default();
                    format!("{}: {}{rtt}", a.rung.code(), a.outcome)
                })
                .collect(),
        }
    }
}

/// Sessions each part of the customer's page shows at most.
const CUSTOMER_SESSIONS: u64 = 10;

impl CustomerOnline {
    /// The sessions and usage of customer `id` (whom `actor` sees), times in `zone`,
    /// routers named from `routers` (the page's own choices).
    pub async fn load(
        state: &AppState,
        actor: &Actor,
        id: i64,
        zone: chrono_tz::Tz,
        routers: &[Choice],
    ) -> Result<Self, OpError> {
        let t_now = state.clock.now();
        let page = PageRequest::first(&SESSIONS, CUSTOMER_SESSIONS).map_err(OpError::Invalid)?;
        let rows = |open: bool| {
            let query = SessionQuery {
                customer_id: Some(id),
                open: Some(open),
                ..Default::default()
            };
            let page = page.clone();
            async move {
                let found = ops::online::sessions(&state.ctx(), actor, &query, &page).await?;
                Ok::<_, OpError>(
                    found
                        .items
                        .iter()
                        .map(|s| SessionRow::new(s, t_now, zone, routers))
                        .collect::<Vec<_>>(),
                )
            }
        };
        let live = rows(true).await?;
        let recent = rows(false).await?;
        let usage: Usage = ops::online::usage(&state.ctx(), actor, id).await?;
        let period = (
            usage.period.kind.to_owned(),
            format!("{} – {}", usage.period.first, usage.period.last),
            bytes(usage.period.output_octets),
            bytes(usage.period.input_octets),
        );
        let days = usage
            .days
            .iter()
            .rev()
            .filter(|d| d.input_octets > 0 || d.output_octets > 0)
            .map(|d| {
                (
                    d.day.to_string(),
                    bytes(d.output_octets),
                    bytes(d.input_octets),
                )
            })
            .collect();
        let fair_usage = usage.allowance.as_ref().map(|a| {
            let level = match a.level {
                domain::fup::Level::Full => "online.fup_full",
                domain::fup::Level::Step(_) => "online.fup_slowed",
                domain::fup::Level::Exhausted => "online.fup_exhausted",
            };
            (
                level.to_owned(),
                a.rate_limit.clone(),
                bytes(a.used_bytes),
                a.volume_bytes.map(bytes).unwrap_or_default(),
            )
        });
        let enforcements = ops::enforcement::list(&state.ctx(), actor, id)
            .await?
            .iter()
            .map(|(e, attempts)| EnforcementRow::new(e, attempts, zone))
            .collect();
        Ok(Self {
            live,
            recent,
            period,
            days,
            fair_usage,
            enforcements,
        })
    }
}

/// The sessions page's query as typed.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    router_id: Option<String>,
    customer_id: Option<String>,
    /// `true` (live), `false` (ended), or all.
    open: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    /// The cursors of the pages before this one (see `ui::Pager::keyset`).
    trail: Option<String>,
}

impl ListQuery {
    fn value(&self, name: &str) -> &str {
        let v = match name {
            "router_id" => &self.router_id,
            "customer_id" => &self.customer_id,
            "open" => &self.open,
            "limit" => &self.limit,
            _ => &None,
        };
        v.as_deref().map_or("", str::trim)
    }

    /// The page's address with these filters.
    fn link(&self) -> String {
        let mut link = "/panel/sessions?".to_owned();
        for name in ["router_id", "customer_id", "open", "limit"] {
            let value = self.value(name);
            if !value.is_empty() {
                link.push_str(&format!("{name}={}&", ui::encode(value)));
            }
        }
        link.trim_end_matches(['&', '?']).to_owned()
    }

    /// The operation's query; a value no select offers is refused by field.
    fn query(&self) -> Result<SessionQuery, domain::field::FieldErrors> {
        let mut errors = domain::field::FieldErrors::new();
        let mut id = |name: &'static str| match self.value(name) {
            "" => None,
            text => errors.take(
                text.parse::<i64>()
                    .map_err(|_| domain::field::FieldError::new(name, "invalid")),
            ),
        };
        let router_id = id("router_id");
        let customer_id = id("customer_id");
        let open = match self.value("open") {
            "" => None,
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                errors.push(domain::field::FieldError::new("open", "invalid"));
                None
            }
        };
        errors.finish(|| {
            Some(SessionQuery {
                router_id,
                customer_id,
                open,
                ..Default::default()
            })
        })
    }
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<SessionRow>,
    total: String,
    pager: Pager,
    query: ListQuery,
    errors: Vec<(String, String)>,
    routers: Vec<Choice>,
    states: Vec<Choice>,
}

impl ListPage {
    fn v(&self, name: &str) -> &str {
        self.query.value(name)
    }
}

async fn list(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let limit = input::id(Some(query.value("limit"))).and_then(|l| u64::try_from(l).ok());
    let cursor = query.cursor.as_deref().filter(|c| !c.is_empty());
    let Ok(page) = PageRequest::parse(&SESSIONS, None, limit, cursor) else {
        return ui::error_page(&user, &headers, StatusCode::BAD_REQUEST, "error.bad_list");
    };
    match list_page(&state, &user, &headers, query, &page).await {
        Ok(page) if page.errors.is_empty() => render(&page),
        Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response(),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

async fn list_page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    query: ListQuery,
    page: &PageRequest,
) -> Result<ListPage, OpError> {
    let t = Tr { lang: user.lang };
    let actor = &user.actor;
    let now = state.clock.now();
    let routers = lookup::router_choices(state, actor).await?;
    let (found, errors) = match query.query() {
        Ok(q) => match ops::online::sessions(&state.ctx(), actor, &q, page).await {
            Ok(found) => (Some(found), Vec::new()),
            Err(OpError::Invalid(errors)) => (None, field_messages(t, &errors)),
            Err(e) => return Err(e),
        },
        Err(errors) => (None, field_messages(t, &errors)),
    };
    let items = found.as_ref().map_or(&[][..], |f| &f.items[..]);
    let zones = Tenants::load(state, actor, items.iter().filter_map(|s| s.tenant_id)).await?;
    let rows = items
        .iter()
        .map(|s| {
            let zone = s.tenant_id.map_or(chrono_tz::UTC, |t| zones.zone(t));
            SessionRow::new(s, now, zone, &routers)
        })
        .collect();
    let first = query.link();
    let (total, next) = match &found {
        Some(f) => (ui::total(f.total, f.total_capped), f.next_cursor.clone()),
        None => ("0".to_owned(), None),
    };
    let pager = Pager::keyset(
        t,
        first.clone(),
        query.trail.as_deref().unwrap_or(""),
        query.cursor.as_deref().filter(|c| !c.is_empty()),
        next.as_deref(),
        items.len(),
        page.limit(),
        &total,
    );
    Ok(ListPage {
        ui: Ui::new(user, Section::Sessions, headers, &first),
        rows,
        total,
        pager,
        query,
        errors,
        routers,
        states: [("true", "online.live"), ("false", "online.ended")]
            .into_iter()
            .map(|(value, label)| (value.to_owned(), t.t(label).to_owned()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_in_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(-5), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024 + 1), "5.0 GiB");
    }

    #[test]
    fn spans_read_in_their_two_largest_units() {
        assert_eq!(duration(TimeDelta::seconds(5)), "5s");
        assert_eq!(duration(TimeDelta::seconds(245)), "4m 5s");
        assert_eq!(duration(TimeDelta::seconds(3 * 3600 + 240)), "3h 4m");
        assert_eq!(duration(TimeDelta::seconds(2 * 86_400 + 3 * 3600)), "2d 3h");
        assert_eq!(duration(TimeDelta::seconds(-3)), "0s");
    }
}
