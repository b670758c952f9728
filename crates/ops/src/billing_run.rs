//! Billing runs (billing-design.md §5), per tenant in its own zone, set-based in batches,
//! each batch one transaction that also commits the run's cursor:
//!
//! - **invoice** (daily): every postpaid customer without an invoice for the current period
//!   gets one (`domain::postpaid`): the whole month, or its days when it joined during the
//!   period; the journals are posted and the invoices numbered with a few statements per
//!   batch. A customer added later in the period is invoiced by the next day's run.
//! - **invoice_late** (daily): the previous period's invoice for customers that joined
//!   during it after its last invoice run began (the next day's run is already in a new
//!   period), for their days of it. Only they: no one is billed for a period in which no
//!   invoice run went.
//! - **overdue** (daily): customers with an invoice open past its due date and the grace
//!   are suspended (`suspended_for = unpaid`), their RADIUS rows rewritten to the tenant's
//!   suspension policy, and their live sessions ended through the enforcement ladder so
//!   they come back under it. Paying resumes them (`ops::payment`). Who owes is read once
//!   per run; each batch's suspension checks the debt again in its own statement, so one
//!   who paid meanwhile is left alone.
//! - **remind** (daily): a reminder is queued before a prepaid expiry and before a due date.
//! - **expiry** (every pass, no run row): a prepaid customer whose time ran out since the
//!   last pass gets its notice, and any session the router kept past the session timeout is
//!   ended. Refusing it at the next login is AAA's (the expiry is in its projection).
//!
//! A daily kind has one run row per tenant and local date: a done run is not redone, a
//! crashed one resumes from its cursor, and every selection leaves out what was done, so
//! a re-run writes nothing. Notifications are queued once per key.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use domain::billing::{self, PriceList, Split};
use domain::ids::TenantId;
use domain::ledger::{Journal, JournalKind};
use domain::postpaid::{BillingDay, Period, Terms};
use store::billing::{NewInvoice, NewNotification, UNPAID};
use store::customer::{Customer, Projector};
use store::ledger::BatchJournal;
use store::tenant::Tenant;
use store::{AuditEntry, Author};

use crate::Ctx;
use crate::error::OpError;

/// The author of the runs' changes in the audit log.
pub const AUTHOR: &str = "billing";

/// Customers per batch (one transaction each).
const BATCH: u64 = 2_000;

/// How far back an expiry pass looks for time that ran out.
const EXPIRY_LOOKBACK: TimeDelta = TimeDelta::days(1);

/// What one kind of run did (or, dry, would do) for one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunReport {
    /// The tenant.
    pub tenant_id: i64,
    /// `invoice`, `overdue`, `remind` or `expiry`.
    pub kind: &'static str,
    /// The period it ran for (the tenant's local date).
    pub period: String,
    /// True when the period's run was done before: nothing was done now.
    pub already_done: bool,
    /// Customers invoiced, suspended or reached.
    pub customers: u64,
    /// What the invoices total (invoice runs), in minor units.
    pub amount: i64,
    /// The tenant's currency.
    pub currency: String,
    /// Notifications queued.
    pub notices: u64,
}

/// The tenant's postpaid terms.
pub fn terms_of(t: &Tenant) -> Terms {
    let days = |n: i32| u32::try_from(n).unwrap_or(0);
    Terms {
        billing_day: BillingDay::from_stored(i16::try_from(t.billing_day).unwrap_or(1)),
        due_days: days(t.due_days),
        grace_days: days(t.grace_days),
        remind_days: days(t.remind_days),
    }
}

/// Runs every kind due now for each active tenant (or tenant `only`); with `dry_run`,
/// counts what each would do and writes nothing.
pub async fn run(
    ctx: &Ctx<'_>,
    only: Option<TenantId>,
    dry_run: bool,
) -> Result<Vec<RunReport>, OpError> {
    let mut reports = Vec::new();
    for t in store::billing::tenants(ctx.db.conn(), only).await? {
        let tenant = Tenancy::of(ctx, t).await?;
        let period = Period::of(tenant.today, tenant.terms.billing_day);
        reports.push(invoice(ctx, &tenant, dry_run, "invoice", &period, None).await?);
        reports.push(late(ctx, &tenant, dry_run, &period).await?);
        reports.push(overdue(ctx, &tenant, dry_run).await?);
        reports.push(remind(ctx, &tenant, dry_run).await?);
        reports.push(expiry(ctx, &tenant, dry_run).await?);
    }
    Ok(reports)
}

/// A tenant as a run sees it.
struct Tenancy {
    t: Tenant,
    id: TenantId,
    zone: Tz,
    today: NaiveDate,
    terms: Terms,
}

impl Tenancy {
    async fn of(ctx: &Ctx<'_>, t: Tenant) -> Result<Self, OpError> {
        let zone = crate::customer::zone(&t);
        Ok(Self {
            id: TenantId(t.id),
            today: ctx.now.with_timezone(&zone).date_naive(),
            terms: terms_of(&t),
            zone,
            t,
        })
    }

    fn report(&self, kind: &'static str) -> RunReport {
        RunReport {
            tenant_id: self.t.id,
            kind,
            period: self.today.to_string(),
            currency: self.t.currency.clone(),
            ..RunReport::default()
        }
    }

    /// The instant local midnight begins `day` (the first valid instant on a gap).
    fn midnight(&self, day: NaiveDate) -> DateTime<Utc> {
        local_midnight(self.zone, day)
    }
}

/// The instant local midnight begins `day` in `zone` (the first valid instant when a
/// daylight-saving change skips it).
pub(crate) fn local_midnight(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    let naive = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    (0..4)
        .find_map(|h| {
            naive
                .checked_add_signed(TimeDelta::hours(h))
                .and_then(|n| n.and_local_timezone(zone).earliest())
        })
        .map_or_else(|| naive.and_utc(), |at| at.with_timezone(&Utc))
}

/// The latest due instant whose grace is over at `now` for tenant `t`: invoices due at or
/// before it leave their customer suspended. Counted in the tenant's local days
/// ([`Terms::suspend_date`]), not in 24-hour blocks, so a daylight-saving change moves it
/// by no day.
pub(crate) fn grace_over(t: &Tenant, now: DateTime<Utc>) -> DateTime<Utc> {
    let zone = crate::customer::zone(t);
    let today = now.with_timezone(&zone).date_naive();
    let grace = i64::from(terms_of(t).grace_days);
    local_midnight(zone, today - TimeDelta::days(grace))
}

/// The run row of `kind` for the tenant's day, or `None` when it is done (dry runs make no
/// row: `Some(None)` is "go, from the start").
async fn begin(
    ctx: &Ctx<'_>,
    t: &Tenancy,
    kind: &str,
    dry_run: bool,
) -> Result<Option<Option<store::billing::BillingRun>>, OpError> {
    let period = t.today.to_string();
    let found = if dry_run {
        store::billing::find(ctx.db.conn(), t.id, kind, &period).await?
    } else {
        Some(store::billing::begin(ctx.db.conn(), t.id, kind, &period, ctx.now).await?)
    };
    match found {
        Some(run) if run.status == "done" => Ok(None),
        Some(run) if !dry_run => Ok(Some(Some(run))),
        _ => Ok(Some(None)),
    }
}

fn counts(r: &RunReport) -> serde_json::Value {
    serde_json::json!({ "customers": r.customers, "amount": r.amount, "notices": r.notices })
}

/// The postpaid invoice run `kind` for `period` (see the module documentation), of the
/// customers that joined within `joined` (UTC instants) when it is given.
async fn invoice(
    ctx: &Ctx<'_>,
    t: &Tenancy,
    dry_run: bool,
    kind: &'static str,
    period: &Period,
    joined: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> Result<RunReport, OpError> {
    let mut report = t.report(kind);
    let Some(run) = begin(ctx, t, kind, dry_run).await? else {
        report.already_done = true;
        return Ok(report);
    };
    let conn = ctx.db.conn();
    let step = billing::rounding_step(&t.t.currency);
    let vat = store::tax::vat_at(conn, t.id, ctx.now).await?;
    let fiscal_year = domain::invoice::fiscal_year(t.today, &t.t.country);
    let due_at = t.midnight(t.terms.due_date(t.today));
    let mut prices: HashMap<(i64, Option<i64>, Option<i64>), Option<PriceList>> = HashMap::new();
    let mut cursor = run.as_ref().map_or(0, |r| r.cursor_id);
    loop {
        let batch =
            store::billing::to_invoice(conn, t.id, period.start, joined, cursor, BATCH).await?;
        let Some(last) = batch.last().map(|c| c.id) else {
            break;
        };
        let mut rows: Vec<(Customer, Split)> = Vec::new();
        for c in batch {
            let key = (c.package_id, c.operator_id, c.sub_operator_id);
            if let std::collections::hash_map::Entry::Vacant(slot) = prices.entry(key) {
                slot.insert(month_price(ctx, &c, vat).await?);
            }
            let Some(list) = prices.get(&key).and_then(Option::as_ref) else {
                continue;
            };
            let full = month_of(list, c.custom_price, step);
            let joined_on = c.created_at.with_timezone(&t.zone).date_naive();
            if let Some(split) = domain::postpaid::charge(&full, period, joined_on, step)
                && split.price > 0
            {
                rows.push((c, split));
            }
        }
        report.customers += rows.len() as u64;
        report.amount += rows.iter().map(|(_, s)| s.price).sum::<i64>();
        if let Some(run) = &run {
            report.notices += rows.len() as u64;
            let cursor = (last, counts(&report));
            issue(ctx, t, run.id, period, (fiscal_year, due_at), &rows, cursor).await?;
        }
        cursor = last;
    }
    if let Some(run) = run {
        store::billing::finish(conn, run.id, ctx.now, &counts(&report)).await?;
    }
    Ok(report)
}

/// A month of `list` along its chain, at the customer's own price when it has one that
/// still covers what its reseller owes upward (costs may have risen since it was set: the
/// package's price is charged then, and no margin comes out negative).
fn month_of(list: &PriceList, custom_price: Option<i64>, step: i64) -> Split {
    time_of(list, custom_price, list.validity_minutes, step)
}

/// `minutes` of `list` along its chain, at the customer's own price on the terms of
/// [`month_of`].
pub(crate) fn time_of(
    list: &PriceList,
    custom_price: Option<i64>,
    minutes: i64,
    step: i64,
) -> Split {
    match custom_price {
        Some(price) if billing::check_custom_price(price, list).is_ok() => {
            let own = PriceList {
                price,
                ..list.clone()
            };
            Split::of(&own, minutes, step)
        }
        _ => Split::of(list, minutes, step),
    }
}

/// The price list of customer `c`'s package along its chain; `None` when its package is
/// not sold through the customer's chain (left out, not guessed).
pub(crate) async fn month_price(
    ctx: &Ctx<'_>,
    c: &Customer,
    vat: billing::Vat,
) -> Result<Option<PriceList>, OpError> {
    let Some(package) = store::package::find_any(ctx.db.conn(), c.package_id).await? else {
        return Ok(None);
    };
    let owner = store::customer::owner(c);
    match crate::billing::price_list(ctx, &package, owner, vat).await {
        Ok(list) => Ok(Some(list)),
        Err(OpError::Invalid(_)) => Ok(None),
        Err(error) => Err(error),
    }
}

/// The late invoice run (see the module documentation): the period before `current`, for
/// the customers created after its last invoice run began and before it ended. None when
/// no invoice run went during it (no one is billed for a time before billing began).
async fn late(
    ctx: &Ctx<'_>,
    t: &Tenancy,
    dry_run: bool,
    current: &Period,
) -> Result<RunReport, OpError> {
    let last_day = current.start.pred_opt().unwrap_or(current.start);
    let previous = Period::of(last_day, t.terms.billing_day);
    let last_run = store::billing::last_run_between(
        ctx.db.conn(),
        t.id,
        "invoice",
        (previous.start, last_day),
    )
    .await?;
    let Some(last_run) = last_run else {
        return Ok(t.report("invoice_late"));
    };
    let joined = (last_run.started_at, t.midnight(previous.end));
    invoice(ctx, t, dry_run, "invoice_late", &previous, Some(joined)).await
}

/// Issues one batch's invoices in one transaction: their journals, the numbered invoices,
/// the notices, the audit entry and the run's cursor.
async fn issue(
    ctx: &Ctx<'_>,
    t: &Tenancy,
    run: i64,
    period: &Period,
    (fiscal_year, due_at): (i32, DateTime<Utc>),
    rows: &[(Customer, Split)],
    (last, done): (i64, serde_json::Value),
) -> Result<(), OpError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
    let start = period.start;
    let journals = rows
        .iter()
        .map(|(c, split)| {
            Ok(BatchJournal {
                journal: Journal::new(
                    JournalKind::Invoice,
                    format!("invoice:{}:{start}", c.id),
                    domain::postpaid::issue_legs(split, c.id),
                    format!("invoice of customer {} for {start}", c.username),
                )
                .map_err(|e| OpError::Internal(e.to_string()))?,
                customer_id: Some(c.id),
                request_hash: format!("invoice|{}|{start}", c.id),
            })
        })
        .collect::<Result<Vec<_>, OpError>>()?;
    let ids = store::ledger::post_many(&mut w, t.id, &t.t.currency, &journals).await?;
    let final_day = period.end.pred_opt().unwrap_or(period.end);
    let invoices = rows
        .iter()
        .zip(ids)
        .map(|((c, split), journal_id)| {
            let lines = vec![store::invoice::Line {
                kind: "service".to_owned(),
                description: format!("{start} – {final_day}"),
                amount: split.price,
            }];
            Ok(NewInvoice {
                customer_id: c.id,
                journal_id,
                subtotal: split.net(),
                vat: split.vat,
                total: split.price,
                period: (period.start, period.end),
                due_at,
                split: serde_json::to_string(split).map_err(|e| OpError::Internal(e.to_string()))?,
                buyer: serde_json::json!({
                    "name": c.name, "username": c.username, "mobile": c.mobile, "address": c.address,
                }),
                lines: serde_json::to_string(&lines).map_err(|e| OpError::Internal(e.to_string()))?,
            })
        })
        .collect::<Result<Vec<_>, OpError>>()?;
    store::billing::issue_invoices(
        &w,
        t.id,
        &t.t.country,
        &t.t.currency,
        fiscal_year,
        Some(run),
        &invoices,
    )
    .await?;
    let notices: Vec<NewNotification> = rows
        .iter()
        .map(|(c, split)| NewNotification {
            customer_id: Some(c.id),
            kind: "invoice_issued",
            dedupe_key: format!("invoice_issued:{}:{start}", c.id),
            params: serde_json::json!({ "amount": split.price, "due_at": due_at }),
        })
        .collect();
    store::billing::notify_many(&w, t.id, &notices).await?;
    w.audit(AuditEntry {
        tenant_id: Some(t.id),
        action: "billing.invoice",
        entity: "billing_run",
        entity_id: Some(run),
        before: None,
        after: Some(serde_json::json!({
            "period_start": start,
            "invoices": rows.len(),
            "amount": rows.iter().map(|(_, s)| s.price).sum::<i64>(),
            "customers": [rows.first().map(|(c, _)| c.id), rows.last().map(|(c, _)| c.id)],
        })),
    })
    .await?;
    store::billing::advance(&w, run, last, &done).await?;
    w.commit().await?;
    Ok(())
}

/// The overdue run (see the module documentation).
async fn overdue(ctx: &Ctx<'_>, t: &Tenancy, dry_run: bool) -> Result<RunReport, OpError> {
    let mut report = t.report("overdue");
    let Some(run) = begin(ctx, t, "overdue", dry_run).await? else {
        report.already_done = true;
        return Ok(report);
    };
    // Due at or before this instant, the grace is over.
    let due_before = grace_over(&t.t, ctx.now);
    let cursor = run.as_ref().map_or(0, |r| r.cursor_id);
    let owing = store::billing::owing(ctx.db.conn(), t.id, due_before, cursor).await?;
    for ids in owing.chunks(BATCH as usize) {
        let Some(&last) = ids.last() else {
            break;
        };
        match &run {
            None => report.customers += store::billing::active_among(ctx.db.conn(), ids).await?,
            Some(run) => {
                let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
                let suspended =
                    store::billing::suspend_owing(&w, t.id, ids, due_before, UNPAID).await?;
                if suspended.is_empty() {
                    // Paid or recharged since the set was read: nothing to write.
                    w.rollback().await?;
                    continue;
                }
                report.customers += suspended.len() as u64;
                report.notices += suspended.len() as u64;
                rewrite(&mut w, t.id, &suspended, "customer.suspend").await?;
                let reach: Vec<(Customer, Option<String>)> =
                    suspended.iter().map(|c| (c.clone(), None)).collect();
                crate::enforcement::reach_many(&mut w, t.id, &reach, UNPAID).await?;
                let notices: Vec<NewNotification> = suspended
                    .iter()
                    .map(|c| NewNotification {
                        customer_id: Some(c.id),
                        kind: "suspended_unpaid",
                        dedupe_key: format!("suspended_unpaid:{}:{}", c.id, t.today),
                        params: serde_json::json!({}),
                    })
                    .collect();
                store::billing::notify_many(&w, t.id, &notices).await?;
                let audits = suspended
                    .iter()
                    .map(|c| AuditEntry {
                        tenant_id: Some(t.id),
                        action: "customer.suspend",
                        entity: "customer",
                        entity_id: Some(c.id),
                        before: Some(serde_json::json!({ "status": "active" })),
                        after: Some(serde_json::json!({
                            "status": "suspended", "suspended_for": UNPAID,
                        })),
                    })
                    .collect();
                w.audit_many(audits).await?;
                store::billing::advance(&w, run.id, last, &counts(&report)).await?;
                w.commit().await?;
            }
        }
    }
    if let Some(run) = run {
        store::billing::finish(ctx.db.conn(), run.id, ctx.now, &counts(&report)).await?;
    }
    Ok(report)
}

/// Rewrites the RADIUS rows of `customers` (of one tenant) as they are now, and tells the
/// built-in server, in `w`.
pub(crate) async fn rewrite(
    w: &mut store::Write,
    tenant: TenantId,
    customers: &[Customer],
    kind: &str,
) -> Result<(), OpError> {
    if customers.is_empty() {
        return Ok(());
    }
    let mut projector = Projector::default();
    let mut rows = Vec::with_capacity(customers.len());
    for c in customers {
        let projection = projector.project(w.tx(), w.keyring(), c).await?;
        rows.push((c.id, c.username.clone(), projection));
    }
    store::radius::write_many(w, tenant, &rows).await?;
    let ids: Vec<i64> = customers.iter().map(|c| c.id).collect();
    w.aaa_changed_many(tenant, &ids, kind).await?;
    Ok(())
}

/// The reminder run (see the module documentation).
async fn remind(ctx: &Ctx<'_>, t: &Tenancy, dry_run: bool) -> Result<RunReport, OpError> {
    let mut report = t.report("remind");
    if t.terms.remind_days == 0 {
        return Ok(report);
    }
    let Some(run) = begin(ctx, t, "remind", dry_run).await? else {
        report.already_done = true;
        return Ok(report);
    };
    let conn = ctx.db.conn();
    let until = ctx.now + TimeDelta::days(i64::from(t.terms.remind_days));
    let mut notices: Vec<NewNotification> = store::billing::expiring(conn, t.id, ctx.now, until)
        .await?
        .into_iter()
        .map(|(id, at)| NewNotification {
            customer_id: Some(id),
            kind: "expiry_reminder",
            dedupe_key: format!("expiry_reminder:{id}:{}", at.timestamp()),
            params: serde_json::json!({ "expires_at": at }),
        })
        .collect();
    notices.extend(
        store::billing::due_between(conn, t.id, ctx.now, until)
            .await?
            .into_iter()
            .map(|(invoice, customer, due)| NewNotification {
                customer_id: Some(customer),
                kind: "due_reminder",
                dedupe_key: format!("due_reminder:{invoice}"),
                params: serde_json::json!({ "invoice_id": invoice, "due_at": due }),
            }),
    );
    let notices = unqueued(ctx, notices).await?;
    report.customers = notices.len() as u64;
    report.notices = notices.len() as u64;
    if let Some(run) = run {
        if notices.is_empty() {
            store::billing::finish(conn, run.id, ctx.now, &counts(&report)).await?;
            return Ok(report);
        }
        let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
        store::billing::notify_many(&w, t.id, &notices).await?;
        w.audit(AuditEntry {
            tenant_id: Some(t.id),
            action: "billing.remind",
            entity: "billing_run",
            entity_id: Some(run.id),
            before: None,
            after: Some(counts(&report)),
        })
        .await?;
        store::billing::advance(&w, run.id, 0, &counts(&report)).await?;
        w.commit().await?;
        store::billing::finish(conn, run.id, ctx.now, &counts(&report)).await?;
    }
    Ok(report)
}

/// Those of `notices` whose key was not queued before.
async fn unqueued(
    ctx: &Ctx<'_>,
    notices: Vec<NewNotification>,
) -> Result<Vec<NewNotification>, OpError> {
    let keys: Vec<String> = notices.iter().map(|n| n.dedupe_key.clone()).collect();
    let queued = store::billing::queued_keys(ctx.db.conn(), &keys).await?;
    Ok(notices
        .into_iter()
        .filter(|n| !queued.contains(&n.dedupe_key))
        .collect())
}

/// The expiry pass (see the module documentation).
async fn expiry(ctx: &Ctx<'_>, t: &Tenancy, dry_run: bool) -> Result<RunReport, OpError> {
    let mut report = t.report("expiry");
    let conn = ctx.db.conn();
    let ran_out = store::billing::expiring(conn, t.id, ctx.now - EXPIRY_LOOKBACK, ctx.now).await?;
    let notices: Vec<NewNotification> = ran_out
        .into_iter()
        .map(|(id, at)| NewNotification {
            customer_id: Some(id),
            kind: "expired",
            dedupe_key: format!("expired:{id}:{}", at.timestamp()),
            params: serde_json::json!({ "expires_at": at }),
        })
        .collect();
    let notices = unqueued(ctx, notices).await?;
    report.customers = notices.len() as u64;
    report.notices = notices.len() as u64;
    if dry_run || notices.is_empty() {
        return Ok(report);
    }
    for chunk in notices.chunks(BATCH as usize) {
        let ids: Vec<i64> = chunk.iter().filter_map(|n| n.customer_id).collect();
        let customers = store::customer::find_live_many(conn, &ids).await?;
        let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
        store::billing::notify_many(&w, t.id, chunk).await?;
        let reach: Vec<(Customer, Option<String>)> =
            customers.into_iter().map(|c| (c, None)).collect();
        let made = crate::enforcement::reach_many(&mut w, t.id, &reach, "expired").await?;
        w.audit(AuditEntry {
            tenant_id: Some(t.id),
            action: "billing.expiry",
            entity: "tenant",
            entity_id: Some(t.id.0),
            before: None,
            after: Some(serde_json::json!({
                "expired": ids.len(),
                "sessions_ended": crate::enforcement::customers_reached(&made),
            })),
        })
        .await?;
        w.commit().await?;
    }
    Ok(report)
}

/// The latest runs of the tenants whose books the caller reads, newest first.
pub async fn recent(
    ctx: &Ctx<'_>,
    actor: &domain::access::Actor,
    limit: u64,
) -> Result<Vec<store::billing::BillingRun>, OpError> {
    if !crate::ledger::reads_books(actor) {
        return Err(OpError::Forbidden);
    }
    let tenant = match crate::ledger::book_tenants(actor)? {
        None => None,
        Some(ids) => Some(TenantId(*ids.first().ok_or(OpError::Forbidden)?)),
    };
    Ok(store::billing::recent(ctx.db.conn(), tenant, limit.clamp(1, 200)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::billing::{Level, Vat};
    use domain::ids::UserId;

    #[test]
    fn an_own_price_below_what_the_seller_now_owes_gives_way_to_the_packages() {
        // 500 a month with 5% VAT inside; the sub-operator owes 450.
        let list = PriceList {
            price: 50_000,
            validity_minutes: 30 * 1440,
            levels: vec![
                Level {
                    reseller: UserId(3),
                    cost: 45_000,
                },
                Level {
                    reseller: UserId(2),
                    cost: 40_000,
                },
            ],
            vat: Vat {
                rate_bp: 500,
                inclusive: true,
            },
        };
        assert_eq!(month_of(&list, None, 1).price, 50_000);
        // 480 leaves 457.14 net: it covers 450.
        let own = month_of(&list, Some(48_000), 1);
        assert_eq!((own.price, own.vat), (48_000, 2_286));
        assert_eq!(own.levels, list.levels);
        // 470 leaves 447.62 net: no longer, so the package's price is charged.
        assert_eq!(month_of(&list, Some(47_000), 1).price, 50_000);
    }
}
