//! The panel's audit log page: newest first, filterable by actor, record kind, action and
//! date, paged by cursor.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Deserialize;

use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, render};
use crate::state::AppState;
use domain::ids::UserId;
use store::audit::{AuditFilter, Entry, LIST};
use store::list::PageRequest;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new().route("/panel/audit", get(list))
}

/// An audit entry as a row.
#[derive(Debug)]
pub struct AuditRow {
    /// When, UTC, to the second.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub entity: String,
    /// From where.
    pub ip: String,
    /// Before, as JSON text.
    pub before: String,
    /// After, as JSON text.
    pub after: String,
}

impl AuditRow {
    /// The row of a stored entry.
    pub fn from_model(e: &Entry) -> Self {
        Self {
            at: e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
            actor: e.actor_label.clone(),
            action: e.action.clone(),
            entity: match e.entity_id {
                Some(id) => format!("{} #{id}", e.entity),
                None => e.entity.clone(),
            },
            ip: e.ip.clone().unwrap_or_default(),
            before: e.before.clone().unwrap_or_default(),
            after: e.after.clone().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    actor_id: Option<String>,
    entity: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<AuditRow>,
    total: String,
    next: Option<String>,
    actor_id: String,
    entity: String,
    action: String,
    from: String,
    to: String,
}

fn day(text: Option<&str>) -> Option<chrono::DateTime<Utc>> {
    let date = NaiveDate::parse_from_str(text?.trim(), "%Y-%m-%d").ok()?;
    Utc.from_local_datetime(&date.and_hms_opt(0, 0, 0)?)
        .single()
}

async fn list(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let Ok(page) = PageRequest::parse(&LIST, None, None, query.cursor.as_deref()) else {
        return ui::error_page(&user, &headers, StatusCode::BAD_REQUEST, "error.bad_list");
    };
    let nonblank = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
    let filter = AuditFilter {
        actor_id: query
            .actor_id
            .as_deref()
            .and_then(|a| a.trim().parse().ok())
            .map(UserId),
        entity: nonblank(&query.entity),
        action: nonblank(&query.action),
        from: day(query.from.as_deref()),
        // "to" is a day, inclusive.
        to: day(query.to.as_deref()).map(|d| d + chrono::TimeDelta::days(1)),
        ..Default::default()
    };
    match ops::audit::list(&state.ctx(), &user.actor, &filter, &page).await {
        Ok(found) => {
            let keep = |v: Option<String>| v.unwrap_or_default();
            let (actor_id, entity, action, from, to) = (
                keep(query.actor_id),
                keep(query.entity),
                keep(query.action),
                keep(query.from),
                keep(query.to),
            );
            let next = found.next_cursor.as_ref().map(|c| {
                format!(
                    "/panel/audit?actor_id={}&entity={}&action={}&from={}&to={}&cursor={c}",
                    ui::encode(&actor_id),
                    ui::encode(&entity),
                    ui::encode(&action),
                    ui::encode(&from),
                    ui::encode(&to)
                )
            });
            render(&ListPage {
                ui: Ui::new(&user, Section::Audit, &headers, "/panel/audit"),
                rows: found.items.iter().map(AuditRow::from_model).collect(),
                total: if found.total_capped {
                    format!("{}+", found.total)
                } else {
                    found.total.to_string()
                },
                next,
                actor_id,
                entity,
                action,
                from,
                to,
            })
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
