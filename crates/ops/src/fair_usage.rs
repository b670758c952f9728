//! The usage watcher: volume caps and FUP steps reaching live sessions (`domain::fup`). At
//! login the decision already counts the period's usage (the built-in server from memory,
//! FreeRADIUS from the rows); this pass catches the crossings that happen during a session,
//! and the periods that end.
//!
//! Every pass looks at the customers online on a capped package and at those whose standing
//! (`store::quota`) is slowed, used up or in a period that may have ended. For each it sums
//! the period's usage per day, takes its level, and when the level or the period differs from
//! the standing, in one transaction: records the new standing, rewrites the customer's
//! FreeRADIUS rows and notes the change for the built-in server, writes the audit entry
//! (`customer.fair_usage`: a first look, a new period or a new level), and, when the level
//! moved, reaches the live sessions through the enforcement ladder: a CoA with the step's
//! rate when the level is a slower (or, in a new period, faster) one, a disconnect at the
//! cap.

use chrono::TimeDelta;
use domain::fup::{self, Level};
use domain::ids::TenantId;
use store::customer::{Customer, Projector};
use store::online::OnPackages;
use store::quota::Standing;
use store::{Author, Write};

use crate::Ctx;
use crate::error::OpError;

/// The author of the watcher's changes in the audit log.
pub const AUTHOR: &str = "fair-usage";

/// Customers looked at per transaction.
const BATCH: usize = 200;

/// Online customers read per range of `customer_online`'s key.
const ONLINE_RANGE: u64 = 1_000;

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Customers looked at.
    pub checked: u64,
    /// Standings written (a first look, a new period, a new level).
    pub changed: u64,
    /// Customers whose sessions get a new rate.
    pub rated: u64,
    /// Customers whose sessions are ended at the cap.
    pub cut: u64,
}

/// One pass over every customer the watcher must look at (see the module documentation):
/// the online customers read by ranges of `customer_online`'s key (each read a range of
/// its index, however few of them are capped), the standings due in one read; each batch's
/// customers, standings and usage read in a few queries, and written in one transaction
/// only if a standing moves.
pub async fn watch(ctx: &Ctx<'_>) -> Result<Pass, OpError> {
    let mut pass = Pass::default();
    // A period ending on the UTC day after today may have ended in a zone east of UTC.
    let day = (ctx.now + TimeDelta::days(1)).date_naive();
    // The standings due are few but may lie anywhere: read once, and taken with the online
    // customers of the same range of ids.
    let mut due = store::quota::due(ctx.db.conn(), day)
        .await?
        .into_iter()
        .peekable();
    let mut after = 0;
    let mut pending: Vec<i64> = Vec::new();
    loop {
        let (online, next) =
            store::online::online_after(ctx.db.conn(), &OnPackages::Capped, after, ONLINE_RANGE)
                .await?;
        let upto = next.unwrap_or(i64::MAX);
        pending.extend(online);
        while let Some(id) = due.next_if(|id| *id <= upto) {
            pending.push(id);
        }
        pending.sort_unstable();
        pending.dedup();
        for ids in pending.chunks(BATCH) {
            settle(ctx, ids, &mut pass).await?;
        }
        pending.clear();
        match next {
            Some(next) => after = next,
            None => break,
        }
    }
    Ok(pass)
}

/// Looks at the customers `ids` and writes what moved, in one transaction.
async fn settle(ctx: &Ctx<'_>, ids: &[i64], pass: &mut Pass) -> Result<(), OpError> {
    {
        let steps = look(ctx, ids, pass).await?;
        if steps.is_empty() {
            return Ok(());
        }
        let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
        let mut batch = Batch::default();
        for step in steps {
            match step {
                Step::Forget(id) => {
                    store::quota::remove(&w, id).await?;
                }
                Step::Move(m) => apply(&mut w, &mut batch, *m, pass).await?,
            }
        }
        for (tenant, ids) in &batch.changed {
            w.aaa_changed_many(TenantId(*tenant), ids, "customer.fair_usage")
                .await?;
        }
        for (tenant, moved) in std::mem::take(&mut batch.sessions) {
            let (cut, rated): (Vec<_>, Vec<_>) = moved.into_iter().partition(|(_, r)| r.is_none());
            let tenant = TenantId(tenant);
            let made = crate::enforcement::reach_many(&mut w, tenant, &rated, "fup").await?;
            pass.rated += crate::enforcement::customers_reached(&made).len() as u64;
            let made = crate::enforcement::reach_many(&mut w, tenant, &cut, "volume_cap").await?;
            pass.cut += crate::enforcement::customers_reached(&made).len() as u64;
        }
        w.audit_many(batch.audits).await?;
        w.commit().await?;
    }
    Ok(())
}

/// What the watcher does to one customer.
enum Step {
    /// Its package is capped no more (its rows were rewritten with the package): its
    /// standing goes.
    Forget(i64),
    /// Its standing moves.
    Move(Box<Move>),
}

struct Move {
    customer: Customer,
    old: Option<Standing>,
    new: Standing,
    was: Level,
    level: Level,
    rate: String,
}

/// Reads the customers `ids`, their standings, periods and usage, and returns the steps
/// to take.
async fn look(ctx: &Ctx<'_>, ids: &[i64], pass: &mut Pass) -> Result<Vec<Step>, OpError> {
    let conn = ctx.db.conn();
    let customers = store::customer::find_live_many(conn, ids).await?;
    let mut standings = store::quota::find_many(conn, ids).await?;
    let mut projector = Projector::default();
    let mut steps = Vec::new();
    let mut capped = Vec::new();
    for c in customers {
        pass.checked += 1;
        match projector.period(conn, &c, ctx.now).await? {
            Some(period) => capped.push((c, period)),
            None if standings.contains_key(&c.id) => steps.push(Step::Forget(c.id)),
            None => {}
        }
    }
    let (Some(first), Some(last)) = (
        capped.iter().map(|(_, p)| p.first).min(),
        capped.iter().map(|(_, p)| p.last).max(),
    ) else {
        return Ok(steps);
    };
    let ids: Vec<i64> = capped.iter().map(|(c, _)| c.id).collect();
    let usage = store::online::usage_many(conn, &ids, first, last).await?;
    for (c, period) in capped {
        let used = usage.get(&c.id).map_or(0, |days| {
            store::online::bytes_within(days, period.first, period.last)
        });
        let terms = projector.terms(conn, &c).await?;
        let level = fup::level(terms.volume_bytes, &terms.fup, used);
        let old = standings.remove(&c.id);
        let was = old
            .as_ref()
            .and_then(|s| Level::from_code(s.level))
            .unwrap_or(Level::Full);
        let same_period = old
            .as_ref()
            .is_some_and(|s| (s.period_first, s.period_last) == (period.first, period.last));
        if same_period && was == level {
            continue;
        }
        let new = Standing {
            customer_id: c.id,
            tenant_id: c.tenant_id,
            period_first: period.first,
            period_last: period.last,
            level: level.code(),
            used_bytes: used,
            checked_at: ctx.now,
        };
        steps.push(Step::Move(Box::new(Move {
            rate: fup::rate_at(terms.rate, &terms.fup, used).mikrotik(),
            customer: c,
            old,
            new,
            was,
            level,
        })));
    }
    Ok(steps)
}

/// What a batch's moves leave to write once, before it commits.
#[derive(Default)]
struct Batch {
    /// Packages, pools and tenants read once for the batch's rows.
    projector: Projector,
    /// Per tenant, the customers whose rows changed.
    changed: std::collections::BTreeMap<i64, Vec<i64>>,
    /// Per tenant, the customers whose level moved: the rate their live sessions take, or
    /// none to end them (at the cap).
    sessions: std::collections::BTreeMap<i64, Vec<(Customer, Option<String>)>>,
    audits: Vec<store::AuditEntry>,
}

/// Moves one standing, in the batch's transaction `w`: the standing and the rows; the
/// change log, the sessions (when the level moved) and the audit entries are the batch's,
/// written once for all its customers.
async fn apply(w: &mut Write, batch: &mut Batch, m: Move, pass: &mut Pass) -> Result<(), OpError> {
    let Move {
        customer: c,
        old,
        new,
        was,
        level,
        rate,
    } = m;
    if !store::quota::replace(w, old.as_ref(), &new).await? {
        // Another pass (another node) got there first and reaches the sessions.
        return Ok(());
    }
    pass.changed += 1;
    let tenant = TenantId(c.tenant_id);
    let projection = batch.projector.project(w.tx(), w.keyring(), &c).await?;
    store::radius::write(w, tenant, c.id, &c.username, &projection).await?;
    batch.changed.entry(c.tenant_id).or_default().push(c.id);
    if was != level {
        let rate = (level != Level::Exhausted).then(|| rate.clone());
        batch
            .sessions
            .entry(c.tenant_id)
            .or_default()
            .push((c.clone(), rate));
    }
    batch.audits.push(store::AuditEntry {
        tenant_id: Some(tenant),
        action: "customer.fair_usage",
        entity: "customer",
        entity_id: Some(c.id),
        before: old.map(|s| {
            serde_json::json!({
                "level": s.level, "used_bytes": s.used_bytes,
                "period": [s.period_first, s.period_last],
            })
        }),
        after: Some(serde_json::json!({
            "level": new.level, "used_bytes": new.used_bytes, "rate": rate,
            "period": [new.period_first, new.period_last],
        })),
    });
    Ok(())
}
