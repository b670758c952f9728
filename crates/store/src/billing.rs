//! Billing runs' persistence (billing-design.md §5): the run rows with their committed
//! cursors, the set-based selections a run's batches read (postpaid customers without the
//! period's invoice, customers whose invoices are overdue, prepaid expiries in a window),
//! the bulk writes they make (invoices numbered in one counter move per batch, suspensions
//! by one conditional `UPDATE … RETURNING`), and the notifications they queue once per key.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Query};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, PaginatorTrait as _, QueryFilter, QueryOrder, QuerySelect,
};

use crate::customer::Customer;
use crate::entity::code::Stored;
use crate::entity::{billing_run, customer, invoice, notification};
use crate::error::{StoreError, StoreResult};
use crate::write::Write;
use domain::customer::{BillingType, CustomerStatus};
use domain::ids::TenantId;
use domain::invoice::Series;

/// A stored run.
pub type BillingRun = billing_run::Model;
/// A queued notification.
pub type Notification = notification::Model;

/// Why a run suspended a customer: its invoice is overdue.
pub const UNPAID: &str = "unpaid";

/// A run's row for `tenant`, `kind` and `period`: made now (running, cursor 0), or the
/// one already there (done, or running: a crashed run, resumed from its cursor).
pub async fn begin<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    kind: &str,
    period: &str,
    now: DateTime<Utc>,
) -> StoreResult<BillingRun> {
    let row = billing_run::ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant.0),
        kind: Set(kind.to_owned()),
        period_key: Set(period.to_owned()),
        status: Set("running".to_owned()),
        cursor_id: Set(0),
        counts: Set("{}".to_owned()),
        started_at: Set(now),
        finished_at: Set(None),
    };
    let insert = billing_run::Entity::insert(row).on_conflict(
        OnConflict::columns([
            billing_run::Column::TenantId,
            billing_run::Column::Kind,
            billing_run::Column::PeriodKey,
        ])
        .do_nothing()
        .to_owned(),
    );
    match insert.exec_without_returning(conn).await {
        Ok(_) | Err(DbErr::RecordNotInserted) => {}
        Err(error) => return Err(error.into()),
    }
    find(conn, tenant, kind, period)
        .await?
        .ok_or(StoreError::NotFound)
}

/// The run of `tenant`, `kind` and `period`, if one began.
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    kind: &str,
    period: &str,
) -> StoreResult<Option<BillingRun>> {
    Ok(billing_run::Entity::find()
        .filter(billing_run::Column::TenantId.eq(tenant.0))
        .filter(billing_run::Column::Kind.eq(kind))
        .filter(billing_run::Column::PeriodKey.eq(period))
        .one(conn)
        .await?)
}

/// The latest run of `kind` for `tenant` on a local date from `first` to `last` (both
/// included), if any.
pub async fn last_run_between<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    kind: &str,
    (first, last): (NaiveDate, NaiveDate),
) -> StoreResult<Option<BillingRun>> {
    // Keys are ISO dates: their order is the dates'.
    Ok(billing_run::Entity::find()
        .filter(billing_run::Column::TenantId.eq(tenant.0))
        .filter(billing_run::Column::Kind.eq(kind))
        .filter(billing_run::Column::PeriodKey.gte(first.to_string()))
        .filter(billing_run::Column::PeriodKey.lte(last.to_string()))
        .order_by_desc(billing_run::Column::PeriodKey)
        .one(conn)
        .await?)
}

/// Moves run `id`'s cursor to `cursor` with what it did so far, in the batch's transaction.
pub async fn advance(
    w: &Write,
    id: i64,
    cursor: i64,
    counts: &serde_json::Value,
) -> StoreResult<()> {
    billing_run::Entity::update_many()
        .col_expr(billing_run::Column::CursorId, Expr::value(cursor))
        .col_expr(billing_run::Column::Counts, Expr::value(counts.to_string()))
        .filter(billing_run::Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    Ok(())
}

/// Marks run `id` done at `now` with what it did.
pub async fn finish<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    now: DateTime<Utc>,
    counts: &serde_json::Value,
) -> StoreResult<()> {
    billing_run::Entity::update_many()
        .col_expr(billing_run::Column::Status, Expr::value("done"))
        .col_expr(billing_run::Column::FinishedAt, Expr::value(now))
        .col_expr(billing_run::Column::Counts, Expr::value(counts.to_string()))
        .filter(billing_run::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The latest runs, of one tenant or all, newest first.
pub async fn recent<C: ConnectionTrait>(
    conn: &C,
    tenant: Option<TenantId>,
    limit: u64,
) -> StoreResult<Vec<BillingRun>> {
    let mut query = billing_run::Entity::find();
    if let Some(t) = tenant {
        query = query.filter(billing_run::Column::TenantId.eq(t.0));
    }
    Ok(query
        .order_by_desc(billing_run::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Up to `limit` postpaid customers of `tenant` after id `after` (active or suspended, not
/// archived, created within `joined` when it is given) that have no live invoice for the
/// period starting `period_start`, by id.
pub async fn to_invoice<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    period_start: NaiveDate,
    joined: Option<(DateTime<Utc>, DateTime<Utc>)>,
    after: i64,
    limit: u64,
) -> StoreResult<Vec<Customer>> {
    let invoiced = Query::select()
        .expr(Expr::val(1))
        .from(invoice::Entity)
        .and_where(
            Expr::col((invoice::Entity, invoice::Column::CustomerId))
                .equals((customer::Entity, customer::Column::Id)),
        )
        .and_where(Expr::col((invoice::Entity, invoice::Column::PeriodStart)).eq(period_start))
        .and_where(
            Expr::col((invoice::Entity, invoice::Column::Series)).eq(Series::Invoice.as_str()),
        )
        .and_where(Expr::col((invoice::Entity, invoice::Column::Status)).ne("void"))
        .to_owned();
    let mut joined_within = Condition::all();
    if let Some((from, to)) = joined {
        joined_within = joined_within
            .add(customer::Column::CreatedAt.gte(from))
            .add(customer::Column::CreatedAt.lt(to));
    }
    Ok(customer::Entity::find()
        .filter(customer::Column::TenantId.eq(tenant.0))
        .filter(customer::Column::ArchivedAt.is_null())
        .filter(joined_within)
        .filter(customer::Column::BillingType.eq(Stored(BillingType::Postpaid)))
        .filter(customer::Column::Status.is_in([
            Stored(CustomerStatus::Active),
            Stored(CustomerStatus::Suspended),
        ]))
        .filter(customer::Column::Id.gt(after))
        .filter(Condition::all().add(Expr::exists(invoiced).not()))
        .order_by_asc(customer::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// A postpaid invoice to issue.
#[derive(Debug, Clone)]
pub struct NewInvoice {
    /// The customer.
    pub customer_id: i64,
    /// The journal that records what it owes.
    pub journal_id: i64,
    /// The totals.
    pub subtotal: i64,
    /// The VAT in the total.
    pub vat: i64,
    /// The total.
    pub total: i64,
    /// The period, local dates: first day and the day after the last.
    pub period: (NaiveDate, NaiveDate),
    /// When it falls due.
    pub due_at: DateTime<Utc>,
    /// Its split along the chain (JSON).
    pub split: String,
    /// The customer as it is called now.
    pub buyer: serde_json::Value,
    /// The lines (JSON).
    pub lines: String,
}

/// Issues `rows` (all of `tenant`, in `currency`, numbered in `fiscal_year`) for run
/// `run` (none: a first bill), in `w`: their numbers taken with one move of the counter, in the order given.
pub async fn issue_invoices(
    w: &Write,
    tenant: TenantId,
    country: &str,
    currency: &str,
    fiscal_year: i32,
    run: Option<i64>,
    rows: &[NewInvoice],
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let count = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let first =
        crate::invoice::take_numbers(w, tenant, Series::Invoice, fiscal_year, count).await?;
    let now = w.now();
    let models: Vec<invoice::ActiveModel> = rows
        .iter()
        .zip(first..)
        .map(|(row, number)| invoice::ActiveModel {
            id: NotSet,
            tenant_id: Set(tenant.0),
            series: Set(Series::Invoice.as_str().to_owned()),
            fiscal_year: Set(fiscal_year),
            number: Set(number),
            number_text: Set(domain::invoice::number_text(
                Series::Invoice,
                fiscal_year,
                country,
                number,
            )),
            customer_id: Set(row.customer_id),
            journal_id: Set(Some(row.journal_id)),
            collector_id: Set(None),
            status: Set(if row.total > 0 { "open" } else { "paid" }.to_owned()),
            currency: Set(currency.to_owned()),
            subtotal: Set(row.subtotal),
            vat: Set(row.vat),
            total: Set(row.total),
            issued_at: Set(now),
            buyer: Set(row.buyer.to_string()),
            lines: Set(row.lines.clone()),
            period_start: Set(Some(row.period.0)),
            period_end: Set(Some(row.period.1)),
            due_at: Set(Some(row.due_at)),
            amount_paid: Set(0),
            split: Set(Some(row.split.clone())),
            run_id: Set(run),
            credited: Set(0),
            credits_invoice_id: Set(None),
            reason: Set(None),
        })
        .collect();
    for chunk in models.chunks(500) {
        invoice::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(w.tx())
            .await?;
    }
    Ok(())
}

/// The customers of `tenant` after id `after` with an invoice open and due at or before
/// `due_before`, by id: one read of the open invoices per run, however many batches it
/// suspends in (each batch checking the set again would read every open invoice each time).
pub async fn owing<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    due_before: DateTime<Utc>,
    after: i64,
) -> StoreResult<Vec<i64>> {
    Ok(invoice::Entity::find()
        .select_only()
        .column(invoice::Column::CustomerId)
        .distinct()
        .filter(owing_filter(tenant, due_before))
        .filter(invoice::Column::CustomerId.gt(after))
        .order_by_asc(invoice::Column::CustomerId)
        .into_tuple::<i64>()
        .all(conn)
        .await?)
}

/// Open invoices of `tenant` due at or before `due_before`.
fn owing_filter(tenant: TenantId, due_before: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(invoice::Column::TenantId.eq(tenant.0))
        .add(invoice::Column::Status.eq("open"))
        .add(invoice::Column::DueAt.lte(due_before))
}

/// How many of `ids` are active and not archived (what a dry run would suspend).
pub async fn active_among<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> StoreResult<u64> {
    let mut n = 0;
    for chunk in ids.chunks(500) {
        n += customer::Entity::find()
            .filter(customer::Column::Id.is_in(chunk.iter().copied()))
            .filter(customer::Column::Status.eq(Stored(CustomerStatus::Active)))
            .filter(customer::Column::ArchivedAt.is_null())
            .count(conn)
            .await?;
    }
    Ok(n)
}

/// Suspends for `reason`, in `w`, by one conditional `UPDATE` per chunk, those of `ids`
/// (customers of `tenant`) still active and still owing an invoice due at or before
/// `due_before`, checked in the same statement: a payment or a recharge that got there
/// first leaves its customer out. Returns the customers it suspended, by id.
pub async fn suspend_owing(
    w: &Write,
    tenant: TenantId,
    ids: &[i64],
    due_before: DateTime<Utc>,
    reason: &str,
) -> StoreResult<Vec<Customer>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let still_owing = Query::select()
            .column(invoice::Column::CustomerId)
            .from(invoice::Entity)
            .cond_where(owing_filter(tenant, due_before))
            .and_where(Expr::col(invoice::Column::CustomerId).is_in(chunk.iter().copied()))
            .to_owned();
        let done = customer::Entity::update_many()
            .col_expr(
                customer::Column::Status,
                Expr::value(Stored(CustomerStatus::Suspended)),
            )
            .col_expr(customer::Column::SuspendedFor, Expr::value(reason))
            .col_expr(
                customer::Column::Version,
                Expr::col(customer::Column::Version).add(1),
            )
            .col_expr(customer::Column::UpdatedAt, Expr::value(w.now()))
            .filter(customer::Column::TenantId.eq(tenant.0))
            .filter(customer::Column::Id.is_in(chunk.iter().copied()))
            .filter(customer::Column::Status.eq(Stored(CustomerStatus::Active)))
            .filter(customer::Column::ArchivedAt.is_null())
            .filter(customer::Column::Id.in_subquery(still_owing))
            .exec_with_returning(w.tx())
            .await?;
        out.extend(done);
    }
    out.sort_by_key(|c| c.id);
    Ok(out)
}

/// Prepaid customers of `tenant` (active, not archived) whose expiry lies in `from..=to`,
/// with it, by id.
pub async fn expiring<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<(i64, DateTime<Utc>)>> {
    Ok(customer::Entity::find()
        .select_only()
        .column(customer::Column::Id)
        .column(customer::Column::ExpiresAt)
        .filter(customer::Column::TenantId.eq(tenant.0))
        .filter(customer::Column::ArchivedAt.is_null())
        .filter(customer::Column::Status.eq(Stored(CustomerStatus::Active)))
        .filter(customer::Column::BillingType.eq(Stored(BillingType::Prepaid)))
        .filter(customer::Column::ExpiresAt.gte(from))
        .filter(customer::Column::ExpiresAt.lte(to))
        .order_by_asc(customer::Column::Id)
        .into_tuple::<(i64, DateTime<Utc>)>()
        .all(conn)
        .await?)
}

/// Open invoices of `tenant` due in `from..=to`: id, customer and due time.
pub async fn due_between<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<(i64, i64, DateTime<Utc>)>> {
    Ok(invoice::Entity::find()
        .select_only()
        .column(invoice::Column::Id)
        .column(invoice::Column::CustomerId)
        .column(invoice::Column::DueAt)
        .filter(invoice::Column::TenantId.eq(tenant.0))
        .filter(invoice::Column::Status.eq("open"))
        .filter(invoice::Column::DueAt.gte(from))
        .filter(invoice::Column::DueAt.lte(to))
        .order_by_asc(invoice::Column::Id)
        .into_tuple::<(i64, i64, Option<DateTime<Utc>>)>()
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|(id, customer, due)| due.map(|d| (id, customer, d)))
        .collect())
}

/// A notification to queue.
#[derive(Debug, Clone)]
pub struct NewNotification {
    /// The customer it is for.
    pub customer_id: Option<i64>,
    /// What it tells.
    pub kind: &'static str,
    /// The key that queues it once.
    pub dedupe_key: String,
    /// What the message is made from.
    pub params: serde_json::Value,
}

/// Which of `keys` were queued already.
pub async fn queued_keys<C: ConnectionTrait>(
    conn: &C,
    keys: &[String],
) -> StoreResult<std::collections::HashSet<String>> {
    let mut found = std::collections::HashSet::new();
    for chunk in keys.chunks(500) {
        let rows = notification::Entity::find()
            .select_only()
            .column(notification::Column::DedupeKey)
            .filter(notification::Column::DedupeKey.is_in(chunk.to_vec()))
            .into_tuple::<String>()
            .all(conn)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// Queues `rows` for SMS in `w` (of `tenant`), each once per dedupe key: a key queued
/// before is left as it is.
pub async fn notify_many(w: &Write, tenant: TenantId, rows: &[NewNotification]) -> StoreResult<()> {
    let now = w.now();
    for chunk in rows.chunks(500) {
        let models = chunk.iter().map(|n| notification::ActiveModel {
            id: NotSet,
            tenant_id: Set(tenant.0),
            customer_id: Set(n.customer_id),
            kind: Set(n.kind.to_owned()),
            channel: Set("sms".to_owned()),
            dedupe_key: Set(n.dedupe_key.clone()),
            params: Set(n.params.to_string()),
            status: Set("queued".to_owned()),
            created_at: Set(now),
            sent_at: Set(None),
        });
        let insert = notification::Entity::insert_many(models).on_conflict(
            OnConflict::column(notification::Column::DedupeKey)
                .do_nothing()
                .to_owned(),
        );
        match insert.exec_without_returning(w.tx()).await {
            Ok(_) | Err(DbErr::RecordNotInserted) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// The notifications queued for customer `id`, newest first.
pub async fn notifications_of<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    limit: u64,
) -> StoreResult<Vec<Notification>> {
    Ok(notification::Entity::find()
        .filter(notification::Column::CustomerId.eq(id))
        .order_by_desc(notification::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Up to `limit` notifications still queued for SMS, oldest first.
pub async fn queued_notifications<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> StoreResult<Vec<Notification>> {
    Ok(notification::Entity::find()
        .filter(notification::Column::Status.eq("queued"))
        .filter(notification::Column::Channel.eq("sms"))
        .order_by_asc(notification::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Moves notification `id` from queued to `status` (`sent`: its message is in the outbox;
/// `skipped`: nobody to send it to), in `w`; false when another sender moved it first.
pub async fn finish_notification(w: &Write, id: i64, status: &str) -> StoreResult<bool> {
    let done = notification::Entity::update_many()
        .col_expr(notification::Column::Status, Expr::value(status))
        .col_expr(notification::Column::SentAt, Expr::value(w.now()))
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::Status.eq("queued"))
        .exec(w.tx())
        .await?;
    Ok(done.rows_affected == 1)
}

/// The active tenants, or tenant `only` if it is active.
pub async fn tenants<C: ConnectionTrait>(
    conn: &C,
    only: Option<TenantId>,
) -> StoreResult<Vec<crate::tenant::Tenant>> {
    use crate::entity::tenant;
    let mut query = tenant::Entity::find()
        .filter(tenant::Column::Status.eq(Stored(domain::tenant::TenantStatus::Active)))
        .filter(tenant::Column::ArchivedAt.is_null());
    if let Some(t) = only {
        query = query.filter(tenant::Column::Id.eq(t.0));
    }
    Ok(query.order_by_asc(tenant::Column::Id).all(conn).await?)
}
