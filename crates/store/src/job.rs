//! Jobs: the outbox and the background queue (design.md §6). A job is inserted in the write
//! transaction of the change that causes it ([`crate::write::Write::enqueue`]), claimed by a
//! worker with one statement that works on both backends (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL; SQLite's single writer makes the plain statement atomic), and finished with
//! its result or failed with a retry time. A claim holds a lease: a job whose worker died is
//! claimed again once the lease runs out.
//!
//! Job bookkeeping (claim, progress, finish) is not a business change and is not audited;
//! what a job changes goes through the write path like any other change.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use serde_json::Value;

use crate::db::{Backend, Db};
use crate::entity::code::Stored;
pub use crate::entity::job::JobStatus;
use crate::entity::job::{self, Column, Entity};
use crate::error::StoreResult;
use crate::list::{ListSpec, Page, PageRequest, SortColumn, SortKind};
use domain::access::JobScope;
use domain::ids::{JobId, TenantId, UserId};

/// A job to run after commit.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// The handler's name (`housekeeping.purge`).
    pub kind: &'static str,
    /// Its input.
    pub payload: Value,
    /// Not before this time.
    pub run_at: DateTime<Utc>,
    /// A key that makes a second enqueue of the same work do nothing.
    pub dedupe_key: Option<String>,
    /// How many times to try before giving up.
    pub max_attempts: i32,
    /// The tenant the job works for.
    pub tenant_id: Option<TenantId>,
    /// The user who asked for it (`None` for the system's own work).
    pub created_by: Option<UserId>,
}

/// A claimed job, as a worker sees it.
pub type Job = job::Model;

pub(crate) async fn insert<C: ConnectionTrait>(
    conn: &C,
    new: NewJob,
    now: DateTime<Utc>,
) -> StoreResult<Option<JobId>> {
    let deduped = new.dedupe_key.is_some();
    let insert = Entity::insert(job_row(new, now));
    let result = if deduped {
        insert
            .on_conflict(
                OnConflict::column(Column::DedupeKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec(conn)
            .await
    } else {
        insert.exec(conn).await
    };
    match result {
        Ok(done) => Ok(Some(JobId(done.last_insert_id))),
        Err(sea_orm::DbErr::RecordNotInserted) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Enqueues recurring work outside any change (the scheduler): `None` when the dedupe key is
/// already there, so a period's job is enqueued once however often the scheduler ticks.
pub async fn schedule(db: &Db, new: NewJob, now: DateTime<Utc>) -> StoreResult<Option<JobId>> {
    insert(db.conn(), new, now).await
}

// The columns are named, not `*`: a statement prepared before a migration added a column
// would otherwise keep its old width in the driver's statement cache.
const RETURNING: &str = "RETURNING id, kind, payload, status, run_at, attempts, max_attempts, \
     locked_by, locked_until, dedupe_key, progress, result, last_error, tenant_id, created_by, \
     created_at, updated_at, finished_at";

/// Which jobs a worker takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Any due job.
    Any,
    /// Only due jobs of these kinds: a worker kept for short work someone is waiting for
    /// (a sign-in code, a disconnect), so a long router job never stands in front of it.
    Only(&'static [&'static str]),
}

/// The claim statement for `backend` and `lane`: the due job first by time, taken with
/// `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite's single writer makes the plain statement
/// atomic). Parameters: worker, lease end, now, then the lane's kinds.
fn claim_sql(backend: Backend, lane: Lane) -> String {
    let (p, skip) = match backend {
        Backend::Postgres => ("$", " FOR UPDATE SKIP LOCKED"),
        Backend::Sqlite => ("?", ""),
    };
    let kinds = match lane {
        Lane::Any => String::new(),
        Lane::Only(kinds) => {
            let marks: Vec<String> = (0..kinds.len()).map(|i| format!("{p}{}", i + 4)).collect();
            format!(" AND kind IN ({})", marks.join(", "))
        }
    };
    format!(
        "UPDATE job SET status = 'running', attempts = attempts + 1, \
         locked_by = {p}1, locked_until = {p}2, updated_at = {p}3 \
         WHERE id = (SELECT id FROM job \
            WHERE ((status = 'queued' AND run_at <= {p}3) \
               OR (status = 'running' AND locked_until < {p}3)){kinds} \
            ORDER BY run_at, id LIMIT 1{skip}) {RETURNING}"
    )
}

/// Claims the next due job of `lane` for `worker` with a lease until `lease_until`.
pub async fn claim(
    db: &Db,
    worker: &str,
    lane: Lane,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> StoreResult<Option<Job>> {
    let backend = match db.backend() {
        Backend::Postgres => DatabaseBackend::Postgres,
        Backend::Sqlite => DatabaseBackend::Sqlite,
    };
    let mut values: Vec<sea_orm::Value> = vec![worker.into(), lease_until.into(), now.into()];
    if let Lane::Only(kinds) = lane {
        values.extend(kinds.iter().map(|k| (*k).into()));
    }
    let statement = Statement::from_sql_and_values(backend, claim_sql(db.backend(), lane), values);
    Ok(Entity::find()
        .from_raw_sql(statement)
        .one(db.conn())
        .await?)
}

/// Records a running job's progress (shown in the panel and the API).
pub async fn set_progress(
    db: &Db,
    id: JobId,
    progress: Value,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(Column::Progress, Expr::value(progress.to_string()))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id.0))
        .exec(db.conn())
        .await?;
    Ok(())
}

/// Records a running job's progress and extends its claim to `until`: a long job (a
/// router's migration waits for customers to reconnect, batch after batch) keeps its claim
/// while it is seen to move, so no other worker takes it over.
pub async fn hold(
    db: &Db,
    id: JobId,
    progress: Value,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(Column::Progress, Expr::value(progress.to_string()))
        .col_expr(Column::LockedUntil, Expr::value(Some(until)))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id.0))
        .filter(Column::Status.eq(Stored(JobStatus::Running)))
        .exec(db.conn())
        .await?;
    Ok(())
}

/// Finishes a job with its result.
pub async fn complete(db: &Db, id: JobId, result: Value, now: DateTime<Utc>) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(Column::Status, Expr::value(Stored(JobStatus::Done)))
        .col_expr(Column::Result, Expr::value(result.to_string()))
        .col_expr(Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(
            Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::FinishedAt, Expr::value(now))
        .filter(Column::Id.eq(id.0))
        .exec(db.conn())
        .await?;
    Ok(())
}

/// Records a failed attempt: the job runs again at `retry_at`, or fails for good when it has
/// used its attempts (`retry_at` is `None`).
pub async fn fail(
    db: &Db,
    id: JobId,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let mut update = Entity::update_many()
        .col_expr(Column::LastError, Expr::value(truncate(error, 2000)))
        .col_expr(Column::LockedBy, Expr::value(Option::<String>::None))
        .col_expr(
            Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::UpdatedAt, Expr::value(now));
    update = match retry_at {
        Some(at) => update
            .col_expr(Column::Status, Expr::value(Stored(JobStatus::Queued)))
            .col_expr(Column::RunAt, Expr::value(at)),
        None => update
            .col_expr(Column::Status, Expr::value(Stored(JobStatus::Failed)))
            .col_expr(Column::FinishedAt, Expr::value(now)),
    };
    update.filter(Column::Id.eq(id.0)).exec(db.conn()).await?;
    Ok(())
}

/// Deletes finished jobs older than `before`; returns how many went.
pub async fn purge_finished(db: &Db, before: DateTime<Utc>) -> StoreResult<u64> {
    let done = Entity::delete_many()
        .filter(Column::Status.is_in([Stored(JobStatus::Done), Stored(JobStatus::Failed)]))
        .filter(Column::FinishedAt.lt(before))
        .exec(db.conn())
        .await?;
    Ok(done.rows_affected)
}

/// A job by id (unscoped: for workers and tests; the API lists jobs through its scope).
pub async fn find(db: &Db, id: JobId) -> StoreResult<Option<Job>> {
    Ok(Entity::find_by_id(id.0).one(db.conn()).await?)
}

/// Whether a job of `kind` is queued or running (read on `job_due_idx`: the unfinished
/// jobs are few).
pub async fn unfinished<C: ConnectionTrait>(conn: &C, kind: &str) -> StoreResult<bool> {
    Ok(Entity::find()
        .filter(Column::Status.is_in([Stored(JobStatus::Queued), Stored(JobStatus::Running)]))
        .filter(Column::Kind.eq(kind))
        .one(conn)
        .await?
        .is_some())
}

/// The most recent jobs of a kind, newest first.
pub async fn recent(db: &Db, kind: &str, limit: u64) -> StoreResult<Vec<Job>> {
    Ok(Entity::find()
        .filter(Column::Kind.eq(kind))
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(db.conn())
        .await?)
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The job list: by id (newest first by default).
pub static LIST: ListSpec<Entity> = ListSpec {
    sorts: &[SortColumn {
        name: "id",
        column: Column::Id,
        kind: SortKind::Int,
    }],
    id: Column::Id,
    default_sort: "-id",
};

/// Filters of the job list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Jobs of this kind (`customer.import`).
    pub kind: Option<String>,
    /// Jobs in this state.
    pub status: Option<JobStatus>,
    /// Jobs of this tenant.
    pub tenant_id: Option<TenantId>,
}

/// A page of the jobs in the caller's scope.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &JobScope,
    filter: &JobFilter,
    page: &PageRequest,
) -> StoreResult<Page<Job>> {
    let mut select = Entity::find().filter(crate::scope::jobs(scope));
    if let Some(kind) = &filter.kind {
        select = select.filter(Column::Kind.eq(kind.as_str()));
    }
    if let Some(status) = filter.status {
        select = select.filter(Column::Status.eq(Stored(status)));
    }
    if let Some(tenant) = filter.tenant_id {
        select = select.filter(Column::TenantId.eq(tenant.0));
    }
    crate::list::fetch(conn, &LIST, select, page).await
}

/// A job in the caller's scope.
pub async fn find_scoped<C: ConnectionTrait>(
    conn: &C,
    scope: &JobScope,
    id: JobId,
) -> StoreResult<Option<Job>> {
    Ok(Entity::find_by_id(id.0)
        .filter(crate::scope::jobs(scope))
        .one(conn)
        .await?)
}

/// The job holding dedupe key `key`, if one does.
pub async fn by_dedupe_key<C: ConnectionTrait>(conn: &C, key: &str) -> StoreResult<Option<Job>> {
    Ok(Entity::find()
        .filter(Column::DedupeKey.eq(key))
        .one(conn)
        .await?)
}

/// The job that still holds dedupe key `key`: one not finished, or one finished but
/// created after `held_after`. A finished job older than that lets the key go (in the
/// transaction that queues the work again) and `None` is returned.
pub async fn holder_of_dedupe_key<C: ConnectionTrait>(
    conn: &C,
    key: &str,
    held_after: chrono::DateTime<chrono::Utc>,
) -> StoreResult<Option<Job>> {
    let Some(earlier) = by_dedupe_key(conn, key).await? else {
        return Ok(None);
    };
    if !earlier.status.finished() || earlier.created_at > held_after {
        return Ok(Some(earlier));
    }
    release_dedupe_key(conn, key).await?;
    Ok(None)
}

/// Lets a finished job's dedupe key go, so the same work may be asked for again (in the
/// transaction that queues it again).
pub async fn release_dedupe_key<C: ConnectionTrait>(conn: &C, key: &str) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(Column::DedupeKey, Expr::value(Option::<String>::None))
        .filter(Column::DedupeKey.eq(key))
        .exec(conn)
        .await?;
    Ok(())
}

/// The job row for `new`.
fn job_row(new: NewJob, now: DateTime<Utc>) -> job::ActiveModel {
    job::ActiveModel {
        id: NotSet,
        kind: Set(new.kind.to_owned()),
        payload: Set(new.payload.to_string()),
        status: Set(Stored(JobStatus::Queued)),
        run_at: Set(new.run_at),
        attempts: Set(0),
        max_attempts: Set(new.max_attempts.max(1)),
        locked_by: Set(None),
        locked_until: Set(None),
        dedupe_key: Set(new.dedupe_key),
        progress: Set(None),
        result: Set(None),
        last_error: Set(None),
        tenant_id: Set(new.tenant_id.map(|t| t.0)),
        created_by: Set(new.created_by.map(|u| u.0)),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
    }
}
