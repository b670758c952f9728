//! The panel's audit log page: newest first, filterable by actor, record kind, action and
//! date, paged by cursor. Each entry shows its time in its tenant's zone, the actor and the
//! record by name with links to their pages, and the fields it changed before the rest.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use chrono::{NaiveDate, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};

use crate::i18n::Tr;
use crate::page::lookup::Tenants;
use crate::page::session::PanelUser;
use crate::page::ui::{self, Pager, Section, Ui, render};
use crate::state::AppState;
use domain::ids::UserId;
use store::audit::{AuditFilter, Entry, LIST};
use store::list::PageRequest;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new().route("/panel/audit", get(list))
}

/// An audit entry as a row: its time in its tenant's zone, the actor and the record by name
/// with links, and the fields it changed.
#[derive(Debug)]
pub struct AuditRow {
    /// When, in the entry's tenant's time zone (else UTC), with the offset.
    pub at: String,
    /// Who: the actor's name, else its label (the e-mail, `system:…`).
    pub actor: String,
    /// The actor's page, when it is a user.
    pub actor_link: Option<String>,
    /// What.
    pub action: String,
    /// On what: the record's kind and name (or number).
    pub entity: String,
    /// The record's page, when the panel has one.
    pub entity_link: Option<String>,
    /// From where.
    pub ip: String,
    /// The fields, those the entry changed first.
    pub fields: Vec<FieldChange>,
}

/// One field of an audited record: its value before and after, and whether it changed.
#[derive(Debug)]
pub struct FieldChange {
    /// The field.
    pub name: String,
    /// Its value before (empty for a creation).
    pub before: String,
    /// Its value after (empty for a deletion).
    pub after: String,
    /// True when the entry changed it.
    pub changed: bool,
}

impl AuditRow {
    /// The row of a stored entry, read with what `names` knows.
    pub fn new(e: &Entry, names: &Names) -> Self {
        let zone = e
            .tenant_id
            .map_or(chrono_tz::UTC, |t| names.tenants.zone(t));
        let before = parse_object(e.before.as_deref());
        let after = parse_object(e.after.as_deref());
        let record = after.as_ref().or(before.as_ref());
        let title = record.and_then(|r| {
            ["name", "username", "email"]
                .iter()
                .find_map(|k| r.get(*k).and_then(Value::as_str))
                .map(str::to_owned)
        });
        let entity = match (&title, e.entity_id) {
            (Some(title), _) => format!("{} {title}", e.entity),
            (None, Some(id)) => format!("{} #{id}", e.entity),
            (None, None) => e.entity.clone(),
        };
        Self {
            at: e
                .at
                .with_timezone(&zone)
                .format("%Y-%m-%d %H:%M:%S %Z")
                .to_string(),
            actor: e
                .actor_id
                .and_then(|id| names.actors.get(&id).cloned())
                .unwrap_or_else(|| e.actor_label.clone()),
            actor_link: e.actor_id.map(|id| format!("/panel/users/{id}")),
            action: e.action.clone(),
            entity,
            entity_link: e.entity_id.and_then(|id| page_of(&e.entity, id)),
            ip: e.ip.clone().unwrap_or_default(),
            fields: changes(before.as_ref(), after.as_ref()),
        }
    }

    /// The fields the entry changed.
    pub fn changed(&self) -> impl Iterator<Item = &FieldChange> {
        self.fields.iter().filter(|f| f.changed)
    }

    /// True when some fields stayed as they were.
    pub fn has_unchanged(&self) -> bool {
        self.fields.iter().any(|f| !f.changed)
    }

    /// The fields the entry left as they were.
    pub fn unchanged(&self) -> impl Iterator<Item = &FieldChange> {
        self.fields.iter().filter(|f| !f.changed)
    }
}

/// What a page of entries needs to name things: each tenant's time zone and each actor's
/// name, read once per page for the tenants and actors on it that the viewer may see.
#[derive(Debug, Default)]
pub struct Names {
    tenants: Tenants,
    actors: HashMap<i64, String>,
}

impl Names {
    /// Reads the names of `entries` as `user` may see them; what it may not see (an actor of
    /// another subtree, a tenant no longer visible) keeps its label and UTC.
    pub async fn of(state: &AppState, user: &PanelUser, entries: &[Entry]) -> Self {
        let ctx = state.ctx();
        let tenants = entries.iter().filter_map(|e| e.tenant_id);
        let mut names = Names {
            tenants: Tenants::load(state, &user.actor, tenants)
                .await
                .unwrap_or_default(),
            actors: HashMap::new(),
        };
        let actors: BTreeSet<i64> = entries.iter().filter_map(|e| e.actor_id).collect();
        for id in actors {
            if let Ok(actor) = ops::user::get(&ctx, &user.actor, UserId(id)).await {
                names.actors.insert(id, actor.name);
            }
        }
        names
    }
}

/// The panel page of a record of kind `entity`, if the panel has one.
fn page_of(entity: &str, id: i64) -> Option<String> {
    let list = match entity {
        "customer" => "customers",
        "user" => "users",
        "tenant" => "tenants",
        "router" => "routers",
        "zone" => "zones",
        "ip_pool" => "ip-pools",
        "package" => "packages",
        "job" => "jobs",
        _ => return None,
    };
    Some(format!("/panel/{list}/{id}"))
}

fn parse_object(text: Option<&str>) -> Option<Map<String, Value>> {
    match serde_json::from_str(text?) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// Fields every change moves, which say nothing of what it changed.
const BOOKKEEPING: &[&str] = &["version", "updated_at"];

/// The fields of a record before and after, those that changed first (each group in the
/// record's own order).
fn changes(
    before: Option<&Map<String, Value>>,
    after: Option<&Map<String, Value>>,
) -> Vec<FieldChange> {
    let empty = Map::new();
    let (b, a) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
    let names = a
        .keys()
        .chain(b.keys().filter(|k| !a.contains_key(*k)))
        .filter(|k| !BOOKKEEPING.contains(&k.as_str()));
    let (mut changed, mut same): (Vec<_>, Vec<_>) = names
        .map(|name| {
            let (old, new) = (b.get(name), a.get(name));
            FieldChange {
                name: name.clone(),
                before: old.map(shown).unwrap_or_default(),
                after: new.map(shown).unwrap_or_default(),
                changed: old != new,
            }
        })
        .partition(|f| f.changed);
    changed.append(&mut same);
    changed
}

/// A JSON value as a cell shows it: text without its quotes, `null` as empty.
fn shown(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
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
    /// The cursors of the pages before this one (see `ui::Pager::keyset`).
    trail: Option<String>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<AuditRow>,
    total: String,
    pager: Pager,
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
            let first = format!(
                "/panel/audit?actor_id={}&entity={}&action={}&from={}&to={}",
                ui::encode(&actor_id),
                ui::encode(&entity),
                ui::encode(&action),
                ui::encode(&from),
                ui::encode(&to)
            );
            let total = ui::total(found.total, found.total_capped);
            let (trail, cursor) = (query.trail.as_deref(), query.cursor.as_deref());
            let pager = Pager::of_page(
                Tr { lang: user.lang },
                first,
                trail,
                cursor,
                &found,
                page.limit(),
            );
            render(&ListPage {
                ui: Ui::new(&user, Section::Audit, &headers, "/panel/audit"),
                rows: {
                    let names = Names::of(&state, &user, &found.items).await;
                    found
                        .items
                        .iter()
                        .map(|e| AuditRow::new(e, &names))
                        .collect()
                },
                total,
                pager,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> Map<String, Value> {
        parse_object(Some(text)).unwrap_or_default()
    }

    #[test]
    fn a_change_lists_what_it_changed_first_and_leaves_out_the_bookkeeping() {
        let before = object(r#"{"name":"Rahim","status":"active","version":1,"zone_id":null}"#);
        let after = object(r#"{"name":"Rahim","status":"suspended","version":2,"zone_id":7}"#);
        let fields = changes(Some(&before), Some(&after));
        let shown: Vec<(&str, &str, &str, bool)> = fields
            .iter()
            .map(|f| {
                (
                    f.name.as_str(),
                    f.before.as_str(),
                    f.after.as_str(),
                    f.changed,
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("status", "active", "suspended", true),
                ("zone_id", "", "7", true),
                ("name", "Rahim", "Rahim", false),
            ]
        );
    }

    #[test]
    fn a_creation_and_a_deletion_change_every_field() {
        let record = object(r#"{"name":"North","parent_id":3}"#);
        let created = changes(None, Some(&record));
        assert!(created.iter().all(|f| f.changed && f.before.is_empty()));
        let deleted = changes(Some(&record), None);
        assert!(deleted.iter().all(|f| f.changed && f.after.is_empty()));
        assert_eq!(created.len(), 2);
        assert!(changes(None, None).is_empty());
    }

    #[test]
    fn records_link_to_their_pages_when_the_panel_has_one() {
        assert_eq!(page_of("ip_pool", 4).as_deref(), Some("/panel/ip-pools/4"));
        assert_eq!(
            page_of("customer", 9).as_deref(),
            Some("/panel/customers/9")
        );
        assert_eq!(page_of("session", 1), None);
    }
}
