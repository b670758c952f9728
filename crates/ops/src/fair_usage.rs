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
use domain::access::system_customer_scope;
use domain::fup::{self, Level};
use domain::ids::TenantId;
use store::customer::{Customer, Projector};
use store::quota::Standing;
use store::{Author, Write};

use crate::Ctx;
use crate::error::OpError;

/// The author of the watcher's changes in the audit log.
pub const AUTHOR: &str = "fair-usage";

/// Customers looked at per transaction.
const BATCH: u64 = 200;

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

/// One pass over every customer the watcher must look at (see the module documentation).
pub async fn watch(ctx: &Ctx<'_>) -> Result<Pass, OpError> {
    let mut pass = Pass::default();
    // A period ending on the UTC day after today may have ended in a zone east of UTC.
    let day = (ctx.now + TimeDelta::days(1)).date_naive();
    let mut after = 0;
    loop {
        let ids = store::quota::candidates(ctx.db.conn(), after, day, BATCH).await?;
        let Some(&last) = ids.last() else { break };
        after = last;
        let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
        let mut projector = Projector::default();
        for id in ids {
            check(&mut w, &mut projector, id, &mut pass).await?;
        }
        w.commit().await?;
    }
    Ok(pass)
}

/// Looks at customer `id`, in the pass's transaction `w`.
async fn check(
    w: &mut Write,
    projector: &mut Projector,
    id: i64,
    pass: &mut Pass,
) -> Result<(), OpError> {
    let Some(c) = store::customer::find_live(w.tx(), id).await? else {
        return Ok(());
    };
    pass.checked += 1;
    let standing = store::quota::find(w.tx(), id).await?;
    let Some(period) = projector.period(w.tx(), &c, w.now()).await? else {
        // Its package is capped no more: its rows were rewritten with the package.
        store::quota::remove(w, id).await?;
        return Ok(());
    };
    let used = store::online::bytes_between(w.tx(), c.id, period.first, period.last).await?;
    let terms = projector.terms(w.tx(), &c).await?;
    let level = fup::level(terms.volume_bytes, &terms.fup, used);
    let was = standing
        .as_ref()
        .and_then(|s| Level::from_code(s.level))
        .unwrap_or(Level::Full);
    let same_period = standing
        .as_ref()
        .is_some_and(|s| (s.period_first, s.period_last) == (period.first, period.last));
    if same_period && was == level {
        return Ok(());
    }
    let new = Standing {
        customer_id: c.id,
        tenant_id: c.tenant_id,
        period_first: period.first,
        period_last: period.last,
        level: level.code(),
        used_bytes: used,
        checked_at: w.now(),
    };
    if !store::quota::replace(w, standing.as_ref(), &new).await? {
        // Another pass (another node) got there first and reaches the sessions.
        return Ok(());
    }
    pass.changed += 1;
    store::customer::rewrite_projection(w, &c).await?;
    let tenant = TenantId(c.tenant_id);
    w.aaa_changed(Some(tenant), Some(c.id), "customer.fair_usage")
        .await?;
    let rate = fup::rate_at(terms.rate, &terms.fup, used).mikrotik();
    if was != level {
        reach(w, &c, level, &rate, pass).await?;
    }
    w.audit(store::AuditEntry {
        tenant_id: Some(tenant),
        action: "customer.fair_usage",
        entity: "customer",
        entity_id: Some(c.id),
        before: standing.map(|s| {
            serde_json::json!({
                "level": s.level, "used_bytes": s.used_bytes,
                "period": [s.period_first, s.period_last],
            })
        }),
        after: Some(serde_json::json!({
            "level": level.code(), "used_bytes": used, "rate": rate,
            "period": [period.first, period.last],
        })),
    })
    .await?;
    Ok(())
}

/// Sends the new level to the customer's live sessions, if it has any.
async fn reach(
    w: &mut Write,
    c: &Customer,
    level: Level,
    rate: &str,
    pass: &mut Pass,
) -> Result<(), OpError> {
    let scope = system_customer_scope(TenantId(c.tenant_id));
    if level == Level::Exhausted {
        let made = crate::enforcement::end_sessions(w, &scope, c, "volume_cap").await?;
        pass.cut += u64::from(!made.is_empty());
    } else {
        let made = crate::enforcement::change_rate(w, &scope, c, "fup", rate).await?;
        pass.rated += u64::from(!made.is_empty());
    }
    Ok(())
}
