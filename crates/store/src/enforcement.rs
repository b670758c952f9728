//! The enforcement ladder's records: the sessions a change must end (`enforcement`), each
//! rung tried and its outcome (`enforcement_attempt`), and what the ladder reads and writes
//! as it climbs (its router; the session's row is read and closed by `accounting`). Created in the causing change's
//! transaction with the job that climbs it (`KIND`, `ONE_KIND`); the job's own writes are bookkeeping
//! of the attempt, not changes of anyone's record, and are not audited.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::db::Db;
use crate::entity::code::Stored;
use crate::entity::enforcement::{ActiveModel, Column, Entity, Model};
use crate::entity::{enforcement_attempt, router};
use crate::error::StoreResult;
use crate::online::Session;
use crate::write::Write;
use domain::enforcement::{EnforcementStatus, Rung};

/// The job that climbs the ladder for a set of enforcements (`{"ids": [...]}`).
pub const KIND: &str = "session.enforce";

/// The same job for one customer's enforcements: someone waits for it at a screen (a phone
/// at the captive portal ending its account's other session, staff who pressed
/// disconnect), so it runs on the workers' express lane.
pub const ONE_KIND: &str = "session.enforce.one";

/// An enforcement as stored.
pub type Enforcement = Model;

/// An attempt as stored.
pub type Attempt = enforcement_attempt::Model;

/// Records one enforcement per session in `sessions` (the customer's, of `tenant`), for
/// `reason`, pending: to give each the rate `rate_limit` by CoA, or to end each when `None`.
pub async fn create(
    w: &mut Write,
    tenant: i64,
    customer: i64,
    sessions: &[Session],
    reason: &str,
    rate_limit: Option<&str>,
) -> StoreResult<Vec<Enforcement>> {
    let now = w.now();
    let created_by = w.author().user_id.map(|u| u.0);
    let mut out = Vec::with_capacity(sessions.len());
    for s in sessions {
        let row = ActiveModel {
            id: NotSet,
            tenant_id: Set(tenant),
            customer_id: Set(customer),
            radacct_id: Set(Some(s.id)),
            router_id: Set(s.router_id),
            username: Set(s.username.clone()),
            acct_session_id: Set(s.acct_session_id.clone()),
            nas_ip: Set(s.nas_ip.clone()),
            framed_ip: Set(s.framed_ip.clone()),
            rate_limit: Set(rate_limit.map(str::to_owned)),
            reason: Set(reason.to_owned()),
            status: Set(Stored(EnforcementStatus::Pending)),
            rung: Set(None),
            detail: Set(String::new()),
            created_by: Set(created_by),
            created_at: Set(now),
            updated_at: Set(now),
            done_at: Set(None),
        };
        out.push(row.insert(w.tx()).await?);
    }
    Ok(out)
}

/// The customer's latest enforcements (at most `limit`), newest first, each with its
/// attempts in order.
pub async fn for_customer<C: ConnectionTrait>(
    conn: &C,
    customer: i64,
    limit: u64,
) -> StoreResult<Vec<(Enforcement, Vec<Attempt>)>> {
    let rows = Entity::find()
        .filter(Column::CustomerId.eq(customer))
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut attempts = enforcement_attempt::Entity::find()
        .filter(enforcement_attempt::Column::EnforcementId.is_in(ids))
        .order_by_asc(enforcement_attempt::Column::Id)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (mine, rest): (Vec<Attempt>, Vec<Attempt>) =
                attempts.drain(..).partition(|a| a.enforcement_id == r.id);
            attempts = rest;
            (r, mine)
        })
        .collect())
}

/// One enforcement with the router it goes to (`None` when the session names no router
/// lastmile knows), for the job: read without a caller's scope.
pub async fn target(db: &Db, id: i64) -> StoreResult<Option<(Enforcement, Option<router::Model>)>> {
    let Some(e) = Entity::find_by_id(id).one(db.conn()).await? else {
        return Ok(None);
    };
    let router = match e.router_id {
        Some(r) => router::Entity::find_by_id(r).one(db.conn()).await?,
        None => None,
    };
    Ok(Some((e, router)))
}

/// Whether customer `id` is a hotspot subscriber (its session is in the router's hotspot
/// list, not the PPP one).
pub async fn is_hotspot<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<bool> {
    use crate::entity::customer;
    let kind: Option<Stored<domain::package::ConnectionType>> = customer::Entity::find_by_id(id)
        .select_only()
        .column(customer::Column::ConnectionType)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(kind.is_some_and(|k| k.0 == domain::package::ConnectionType::Hotspot))
}

/// What one rung came to.
#[derive(Debug, Clone)]
pub struct NewAttempt<'a> {
    /// The rung.
    pub rung: Rung,
    /// `ack`, `nak`, `timeout`, `stopped`, `removed`, `not_listed` or `error`.
    pub outcome: &'a str,
    /// The Error-Cause of a NAK.
    pub error_cause: Option<u32>,
    /// From sending to the answer, in milliseconds.
    pub rtt_ms: Option<i64>,
    /// What happened, in words.
    pub detail: String,
}

/// Records an attempt at `at` and makes it the enforcement's last word.
pub async fn attempt(db: &Db, id: i64, at: DateTime<Utc>, a: &NewAttempt<'_>) -> StoreResult<()> {
    attempt_row(id, at, a).insert(db.conn()).await?;
    Entity::update_many()
        .col_expr(Column::Rung, Expr::value(Stored(a.rung)))
        .col_expr(Column::Detail, Expr::value(a.detail.clone()))
        .col_expr(Column::UpdatedAt, Expr::value(at))
        .filter(Column::Id.eq(id))
        .exec(db.conn())
        .await?;
    Ok(())
}

/// The end of an enforcement: `done` (the session is gone or took its rate) or `failed`,
/// with the reason, and the attempt that decided it if it is not recorded yet.
#[derive(Debug, Clone)]
pub struct Conclusion {
    /// The enforcement.
    pub id: i64,
    /// When it ended.
    pub at: DateTime<Utc>,
    /// The attempt that decided it, not recorded yet.
    pub last: Option<NewAttempt<'static>>,
    /// `done` or `failed`.
    pub status: EnforcementStatus,
    /// Why, in words.
    pub detail: String,
}

/// Ends enforcements, each with the attempt that decided it, in one transaction: the
/// common path of a rung answered at once costs a share of one commit.
pub async fn conclude(db: &Db, ends: &[Conclusion]) -> StoreResult<()> {
    use sea_orm::TransactionTrait as _;
    if ends.is_empty() {
        return Ok(());
    }
    let _turn = db.write_turn().await?;
    let tx = db
        .conn()
        .begin_with_options(sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    let attempts: Vec<enforcement_attempt::ActiveModel> = ends
        .iter()
        .filter_map(|e| e.last.as_ref().map(|a| attempt_row(e.id, e.at, a)))
        .collect();
    for chunk in attempts.chunks(200) {
        enforcement_attempt::Entity::insert_many(chunk.to_vec())
            .exec(&tx)
            .await?;
    }
    for e in ends {
        let mut update = Entity::update_many()
            .col_expr(Column::Status, Expr::value(Stored(e.status)))
            .col_expr(Column::Detail, Expr::value(e.detail.clone()))
            .col_expr(Column::UpdatedAt, Expr::value(e.at))
            .col_expr(Column::DoneAt, Expr::value(Some(e.at)))
            .filter(Column::Id.eq(e.id));
        if let Some(a) = &e.last {
            update = update.col_expr(Column::Rung, Expr::value(Stored(a.rung)));
        }
        update.exec(&tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn attempt_row(id: i64, at: DateTime<Utc>, a: &NewAttempt<'_>) -> enforcement_attempt::ActiveModel {
    enforcement_attempt::ActiveModel {
        id: NotSet,
        enforcement_id: Set(id),
        rung: Set(Stored(a.rung)),
        at: Set(at),
        outcome: Set(a.outcome.to_owned()),
        error_cause: Set(a.error_cause.and_then(|c| i32::try_from(c).ok())),
        rtt_ms: Set(a.rtt_ms),
        detail: Set(a.detail.clone()),
    }
}
