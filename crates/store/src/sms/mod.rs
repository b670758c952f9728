//! The SMS outbox's persistence (hotspot-design.md §4.2): gateways (`gateway`: their
//! sealed settings, the inheritance of the platform's default), and messages: enqueued
//! once per reference, claimed by the sender with a lease (one statement on both engines,
//! as jobs are), their outcomes and delivery reports applied by conditional `UPDATE`s from
//! the state they move from, and the counts the budgets read.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde_json::{Value, json};

use crate::db::Db;
use crate::entity::{sms_gateway, sms_message, sms_report};
use crate::error::{StoreError, StoreResult};
use crate::list::{ListSpec, Page, PageRequest, SortColumn, SortKind};
use crate::write::{AuditEntry, Write};
use domain::ids::TenantId;

/// A stored gateway.
pub type Gateway = sms_gateway::Model;
/// A stored message.
pub type Message = sms_message::Model;

mod gateway;

pub use gateway::{
    GatewayChanges, NewGateway, SETTINGS_CONTEXT, create_gateway, effective_gateway, gateway,
    gateway_json, gateways, keys_of, settings, settings_keys, tenant_ids, update_gateway,
};

/// A message to enqueue.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// Its tenant; `None` for the platform's own.
    pub tenant: Option<TenantId>,
    /// The gateway it must go through (a test); `None`: the tenant's at sending time.
    pub gateway_id: Option<i64>,
    /// The recipient, E.164.
    pub to: &'a str,
    /// The text.
    pub text: &'a str,
    /// Its kind.
    pub kind: &'a str,
    /// The idempotency key, unique.
    pub reference: &'a str,
    /// Its parts.
    pub parts: i32,
    /// `gsm7` or `ucs2`.
    pub encoding: &'a str,
}

/// What the audit log shows of a message: never its text (it may be an OTP).
pub fn message_json(m: &Message) -> Value {
    json!({
        "id": m.id,
        "tenant_id": m.tenant_id,
        "gateway_id": m.gateway_id,
        "to": m.to_number,
        "kind": m.kind,
        "reference": m.reference,
        "parts": m.parts,
        "encoding": m.encoding,
        "status": m.status,
    })
}

/// The message with idempotency key `reference`.
pub async fn by_reference<C: ConnectionTrait>(
    conn: &C,
    reference: &str,
) -> StoreResult<Option<Message>> {
    Ok(sms_message::Entity::find()
        .filter(sms_message::Column::Reference.eq(reference))
        .one(conn)
        .await?)
}

/// Message `id`.
pub async fn message<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Option<Message>> {
    Ok(sms_message::Entity::find_by_id(id).one(conn).await?)
}

/// Enqueues `new`, due now, or gives back the message its reference already made (a
/// concurrent enqueue of the same reference inserts nothing): `(message, created)`. A
/// created one is audited.
pub async fn enqueue(w: &mut Write, new: &NewMessage<'_>) -> StoreResult<(Message, bool)> {
    use sms_message::Column;
    let now = w.now();
    let row = sms_message::ActiveModel {
        id: NotSet,
        tenant_id: Set(new.tenant.map(|t| t.0)),
        gateway_id: Set(new.gateway_id),
        to_number: Set(new.to.to_owned()),
        text: Set(new.text.to_owned()),
        kind: Set(new.kind.to_owned()),
        reference: Set(new.reference.to_owned()),
        parts: Set(new.parts),
        encoding: Set(new.encoding.to_owned()),
        status: Set("queued".to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        provider_id: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        delivered_at: Set(None),
    };
    let inserted = sms_message::Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::Reference)
                .do_nothing()
                .to_owned(),
        )
        .exec(w.tx())
        .await;
    let created = match inserted {
        Ok(_) => true,
        Err(sea_orm::DbErr::RecordNotInserted) => false,
        Err(error) => return Err(error.into()),
    };
    let saved = by_reference(w.tx(), new.reference)
        .await?
        .ok_or(StoreError::NotFound)?;
    if created {
        w.audit(AuditEntry {
            tenant_id: new.tenant,
            action: "sms.queue",
            entity: "sms_message",
            entity_id: Some(saved.id),
            before: None,
            after: Some(message_json(&saved)),
        })
        .await?;
    }
    Ok((saved, created))
}

/// What a count of messages covers.
#[derive(Debug, Clone, Default)]
pub struct CountFilter<'a> {
    /// To this number only.
    pub to: Option<&'a str>,
    /// Of this kind only.
    pub kind: Option<&'a str>,
}

/// Messages of `tenant` (`None`: the platform's own) created in `[since, until)`.
pub async fn count_between<C: ConnectionTrait>(
    conn: &C,
    tenant: Option<i64>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    filter: &CountFilter<'_>,
) -> StoreResult<u64> {
    use sms_message::Column;
    let mut q = sms_message::Entity::find();
    q = match tenant {
        Some(t) => q.filter(Column::TenantId.eq(t)),
        None => q.filter(Column::TenantId.is_null()),
    };
    if let Some(to) = filter.to {
        q = q.filter(Column::ToNumber.eq(to));
    }
    q = q
        .filter(Column::CreatedAt.gte(since))
        .filter(Column::CreatedAt.lt(until));
    if let Some(kind) = filter.kind {
        q = q.filter(Column::Kind.eq(kind));
    }
    Ok(q.count(conn).await?)
}

/// Messages of `tenant` created in `[since, until)` by status.
pub async fn status_counts<C: ConnectionTrait>(
    conn: &C,
    tenant: i64,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<Vec<(String, i64)>> {
    use sms_message::Column;
    Ok(sms_message::Entity::find()
        .select_only()
        .column(Column::Status)
        .column_as(Column::Id.count(), "n")
        .filter(Column::TenantId.eq(tenant))
        .filter(Column::CreatedAt.gte(since))
        .filter(Column::CreatedAt.lt(until))
        .group_by(Column::Status)
        .into_tuple::<(String, i64)>()
        .all(conn)
        .await?)
}

// The columns are named, not `*` (see `job::claim`).
const COLUMNS: &str = "id, tenant_id, gateway_id, to_number, text, kind, reference, parts, \
     encoding, status, attempts, next_attempt_at, provider_id, last_error, created_at, sent_at, \
     delivered_at";

/// Claims up to `limit` due messages (queued and due, or sending with a lapsed lease) for
/// sending: `sending`, one more attempt, held until `lease_until`. Sign-in codes first
/// (someone is waiting at a captive portal for each), then the rest in the order they fall
/// due.
pub async fn claim(w: &Write, lease_until: DateTime<Utc>, limit: u64) -> StoreResult<Vec<Message>> {
    let mut claimed = claim_of(w, Some(OTP), lease_until, limit).await?;
    let left = limit.saturating_sub(claimed.len() as u64);
    if left > 0 {
        claimed.extend(claim_of(w, None, lease_until, left).await?);
    }
    Ok(claimed)
}

/// The kind of a sign-in code's message.
const OTP: &str = "otp";

/// [`claim`] of the messages of `kind` (all when `None`), in the order they fall due.
async fn claim_of(
    w: &Write,
    kind: Option<&str>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> StoreResult<Vec<Message>> {
    let now = w.now();
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let backend = w.tx().get_database_backend();
    let (p, skip) = match backend {
        DatabaseBackend::Postgres => ("$", " FOR UPDATE SKIP LOCKED"),
        _ => ("?", ""),
    };
    let of_kind = if kind.is_some() {
        format!(" AND kind = {p}4")
    } else {
        String::new()
    };
    let sql = format!(
        "UPDATE sms_message SET status = 'sending', attempts = attempts + 1, \
             next_attempt_at = {p}1 WHERE id IN (SELECT id FROM sms_message \
             WHERE ((status = 'queued' AND next_attempt_at <= {p}2) \
                OR (status = 'sending' AND next_attempt_at < {p}2)){of_kind} \
             ORDER BY next_attempt_at, id LIMIT {p}3{skip}) \
             RETURNING {COLUMNS}"
    );
    let mut values: Vec<sea_orm::Value> = vec![lease_until.into(), now.into(), limit.into()];
    if let Some(kind) = kind {
        values.push(kind.into());
    }
    let statement = Statement::from_sql_and_values(backend, sql, values);
    let mut claimed = sms_message::Entity::find()
        .from_raw_sql(statement)
        .all(w.tx())
        .await?;
    claimed.sort_by_key(|m| (m.next_attempt_at, m.id));
    Ok(claimed)
}

/// What became of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The provider took it under this id.
    Sent {
        /// The gateway it went through.
        gateway_id: i64,
        /// The provider's id.
        provider_id: String,
    },
    /// Not taken now; try again at `at`.
    Retry {
        /// The gateway tried, if one was.
        gateway_id: Option<i64>,
        /// Why.
        error: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Not taken, for good.
    Failed {
        /// The gateway tried, if one was.
        gateway_id: Option<i64>,
        /// Why.
        error: String,
    },
}

/// Records what sending message `id` (claimed, `sending`) came to. `false` when it was not
/// `sending` any more (a delivery report or another sender got there first).
pub async fn record(w: &Write, id: i64, outcome: &Outcome) -> StoreResult<bool> {
    use sms_message::Column;
    let now = w.now();
    let update = sms_message::Entity::update_many();
    let update = match outcome {
        Outcome::Sent {
            gateway_id,
            provider_id,
        } => update
            .col_expr(Column::Status, Expr::value("sent"))
            .col_expr(Column::GatewayId, Expr::value(*gateway_id))
            .col_expr(Column::ProviderId, Expr::value(provider_id.as_str()))
            .col_expr(Column::SentAt, Expr::value(now))
            .col_expr(Column::LastError, Expr::value(Option::<String>::None)),
        Outcome::Retry {
            gateway_id,
            error,
            at,
        } => update
            .col_expr(Column::Status, Expr::value("queued"))
            .col_expr(Column::GatewayId, Expr::value(*gateway_id))
            .col_expr(Column::NextAttemptAt, Expr::value(*at))
            .col_expr(Column::LastError, Expr::value(excerpt(error))),
        Outcome::Failed { gateway_id, error } => update
            .col_expr(Column::Status, Expr::value("failed"))
            .col_expr(Column::GatewayId, Expr::value(*gateway_id))
            .col_expr(Column::LastError, Expr::value(excerpt(error))),
    };
    let done = update
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq("sending"))
        .exec(w.tx())
        .await?;
    if done.rows_affected != 1 {
        return Ok(false);
    }
    if let Outcome::Sent {
        gateway_id,
        provider_id,
    } = outcome
    {
        apply_held(w, id, *gateway_id, provider_id).await?;
    }
    Ok(true)
}

/// Locks gateways `ids` in ascending order for the rest of the transaction (PostgreSQL;
/// SQLite's write lock is already held). The sender's recording of sent messages and a
/// delivery report of the same gateway take this lock first, so a report either finds its
/// message recorded or is held before the sender looks for held reports.
pub async fn lock_gateways(w: &Write, ids: &[i64]) -> StoreResult<()> {
    let backend = w.tx().get_database_backend();
    if backend != DatabaseBackend::Postgres || ids.is_empty() {
        return Ok(());
    }
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    w.tx()
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT id FROM sms_gateway WHERE id IN ({list}) ORDER BY id FOR UPDATE"),
        ))
        .await?;
    Ok(())
}

/// Applies to message `id`, just recorded as sent, the report its provider sent before
/// that (held by [`hold_report`]), and lets the report go.
async fn apply_held(w: &Write, id: i64, gateway_id: i64, provider_id: &str) -> StoreResult<()> {
    use sms_message::Column;
    let Some(held) = sms_report::Entity::find()
        .filter(sms_report::Column::GatewayId.eq(gateway_id))
        .filter(sms_report::Column::ProviderId.eq(provider_id))
        .one(w.tx())
        .await?
    else {
        return Ok(());
    };
    let update = sms_message::Entity::update_many();
    let update = if held.delivered {
        update
            .col_expr(Column::Status, Expr::value("delivered"))
            .col_expr(Column::DeliveredAt, Expr::value(held.received_at))
    } else {
        update
            .col_expr(Column::Status, Expr::value("failed"))
            .col_expr(
                Column::LastError,
                Expr::value(excerpt(held.error.as_deref().unwrap_or("undelivered"))),
            )
    };
    update
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq("sent"))
        .exec(w.tx())
        .await?;
    sms_report::Entity::delete_by_id(held.id)
        .exec(w.tx())
        .await?;
    Ok(())
}

/// How long a held report waits for its message.
const HOLD: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Holds a report for gateway `gateway_id`'s message `provider_id` that no sent message
/// answers to yet, while some message is being sent (its provider may report before the
/// sender records the id): true when held. Reports held longer than an hour are let go
/// first; a second report of the same message keeps the first.
pub async fn hold_report(
    w: &mut Write,
    gateway_id: i64,
    provider_id: &str,
    delivered: bool,
    error: Option<&str>,
) -> StoreResult<bool> {
    let sending = sms_message::Entity::find()
        .filter(sms_message::Column::Status.eq("sending"))
        .one(w.tx())
        .await?
        .is_some();
    if !sending || provider_id.is_empty() || provider_id.chars().count() > 128 {
        return Ok(false);
    }
    let now = w.now();
    sms_report::Entity::delete_many()
        .filter(sms_report::Column::ReceivedAt.lt(now - HOLD))
        .exec(w.tx())
        .await?;
    sms_report::Entity::insert(sms_report::ActiveModel {
        id: NotSet,
        gateway_id: Set(gateway_id),
        provider_id: Set(provider_id.to_owned()),
        delivered: Set(delivered),
        error: Set(error.map(excerpt)),
        received_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            sms_report::Column::GatewayId,
            sms_report::Column::ProviderId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(w.tx())
    .await?;
    w.audit(AuditEntry {
        tenant_id: None,
        action: "sms.report_held",
        entity: "sms_gateway",
        entity_id: Some(gateway_id),
        before: None,
        after: Some(json!({ "provider_id": provider_id, "delivered": delivered })),
    })
    .await?;
    Ok(true)
}

/// Keeps a stored error short.
fn excerpt(error: &str) -> String {
    error.chars().take(500).collect()
}

/// Applies a delivery report to the message gateway `gateway_id` knows as `provider_id`:
/// `delivered` (with `delivered_at`) or `failed` (with the reason) from `sent`. `None` when
/// no such message is there or it is not `sent` (an unknown id, a repeated report, one that
/// arrives after a final one): nothing changes.
pub async fn apply_report(
    w: &mut Write,
    gateway_id: i64,
    provider_id: &str,
    delivered: bool,
    error: Option<&str>,
) -> StoreResult<Option<Message>> {
    use sms_message::Column;
    let Some(found) = sms_message::Entity::find()
        .filter(Column::GatewayId.eq(gateway_id))
        .filter(Column::ProviderId.eq(provider_id))
        .one(w.tx())
        .await?
    else {
        return Ok(None);
    };
    let update = sms_message::Entity::update_many();
    let update = if delivered {
        update
            .col_expr(Column::Status, Expr::value("delivered"))
            .col_expr(Column::DeliveredAt, Expr::value(w.now()))
    } else {
        update
            .col_expr(Column::Status, Expr::value("failed"))
            .col_expr(
                Column::LastError,
                Expr::value(excerpt(error.unwrap_or("undelivered"))),
            )
    };
    let done = update
        .filter(Column::Id.eq(found.id))
        .filter(Column::Status.eq("sent"))
        .exec(w.tx())
        .await?;
    if done.rows_affected != 1 {
        return Ok(None);
    }
    let after = message(w.tx(), found.id)
        .await?
        .ok_or(StoreError::NotFound)?;
    w.audit(AuditEntry {
        tenant_id: found.tenant_id.map(TenantId),
        action: "sms.delivery",
        entity: "sms_message",
        entity_id: Some(found.id),
        before: Some(message_json(&found)),
        after: Some(json!({ "status": after.status, "last_error": after.last_error })),
    })
    .await?;
    Ok(Some(after))
}

/// When the next queued message falls due, if one is queued.
pub async fn next_due(db: &Db) -> StoreResult<Option<DateTime<Utc>>> {
    use sms_message::Column;
    Ok(sms_message::Entity::find()
        .filter(Column::Status.eq("queued"))
        .order_by_asc(Column::NextAttemptAt)
        .one(db.conn())
        .await?
        .map(|m| m.next_attempt_at))
}

/// The message list: by id (newest first by default).
pub static LIST: ListSpec<sms_message::Entity> = ListSpec {
    sorts: &[SortColumn {
        name: "id",
        column: sms_message::Column::Id,
        kind: SortKind::Int,
    }],
    id: sms_message::Column::Id,
    default_sort: "-id",
};

/// Filters of the message list.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    /// In this status.
    pub status: Option<String>,
    /// Of this kind.
    pub kind: Option<String>,
    /// Of this tenant.
    pub tenant_id: Option<i64>,
}

/// A page of the messages of `tenants` (every one's, the platform's included, when `None`).
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    tenants: Option<&[i64]>,
    filter: &MessageFilter,
    page: &PageRequest,
) -> StoreResult<Page<Message>> {
    use sms_message::Column;
    let mut select = sms_message::Entity::find();
    if let Some(t) = tenants {
        select = select.filter(Column::TenantId.is_in(t.iter().copied()));
    }
    if let Some(tenant) = filter.tenant_id {
        select = select.filter(Column::TenantId.eq(tenant));
    }
    if let Some(status) = &filter.status {
        select = select.filter(Column::Status.eq(status.as_str()));
    }
    if let Some(kind) = &filter.kind {
        select = select.filter(Column::Kind.eq(kind.as_str()));
    }
    crate::list::fetch(conn, &LIST, select, page).await
}
