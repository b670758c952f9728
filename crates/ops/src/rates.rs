//! A package's new speed reaching the live sessions of its customers. A change of a master
//! package's rate or FUP steps (`package::update`) queues, in its own transaction, a
//! [`KIND`] job naming the packages it reached (the master and those derived from it);
//! after commit the job reads the online customers of those packages by ranges of
//! `customer_online`'s key and, in batches of [`BATCH`], gives each live session of a
//! customer in service the rate its next login would get (its projection's
//! `Mikrotik-Rate-Limit`: the package's, or the FUP step its standing has reached) through
//! the enforcement ladder (a CoA, escalating as `domain::enforcement` says). Customers
//! suspended, disabled, expired or used up are left alone: their sessions are not on the
//! package's speed. Each batch is one transaction with one audit entry.
//!
//! A job run again (after a crash, or two nodes) sends the same rate again: a CoA with the
//! rate a session has is harmless.

use domain::customer::{CustomerStatus, is_expired};
use domain::ids::TenantId;
use serde::{Deserialize, Serialize};
use store::customer::{Customer, Projector};
use store::online::OnPackages;
use store::{Author, Write};

use crate::Ctx;
use crate::error::OpError;

/// The job's kind.
pub const KIND: &str = "package.rates";

/// The author of the job's changes in the audit log.
pub const AUTHOR: &str = "package-rates";

/// Customers per transaction.
const BATCH: usize = 200;

/// Online customers read per range of `customer_online`'s key.
const ONLINE_RANGE: u64 = 1_000;

/// The job's payload: the packages whose speed changed, and the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rates {
    /// The tenant of the packages.
    pub tenant_id: i64,
    /// The packages.
    pub packages: Vec<i64>,
    /// The change, `area.verb`.
    pub change: String,
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reached {
    /// Online customers of the packages looked at.
    pub checked: u64,
    /// Customers whose live sessions were given the new rate.
    pub rated: u64,
}

/// In the change's transaction `w`: queues the job that gives the online customers of
/// `packages` their new rate once the change commits.
pub(crate) async fn queue(w: &mut Write, rates: &Rates) -> Result<(), OpError> {
    let created_by = w.author().user_id;
    w.enqueue(store::job::NewJob {
        kind: KIND,
        payload: serde_json::to_value(rates).map_err(|e| OpError::Internal(e.to_string()))?,
        run_at: w.now(),
        dedupe_key: None,
        max_attempts: 5,
        tenant_id: Some(TenantId(rates.tenant_id)),
        created_by,
    })
    .await?
    .ok_or(OpError::Busy)?;
    Ok(())
}

/// Gives every online customer in service of `rates.packages` its rate (see the module
/// documentation).
pub async fn reach(ctx: &Ctx<'_>, rates: &Rates) -> Result<Reached, OpError> {
    let mut reached = Reached::default();
    let on = OnPackages::AnyOf(rates.packages.clone());
    let mut after = 0;
    loop {
        let (online, next) =
            store::online::online_after(ctx.db.conn(), &on, after, ONLINE_RANGE).await?;
        for ids in online.chunks(BATCH) {
            rate_batch(ctx, rates, ids, &mut reached).await?;
        }
        match next {
            Some(next) => after = next,
            None => return Ok(reached),
        }
    }
}

/// Gives the customers `ids` their rate, in one transaction.
async fn rate_batch(
    ctx: &Ctx<'_>,
    rates: &Rates,
    ids: &[i64],
    reached: &mut Reached,
) -> Result<(), OpError> {
    let mut w = ctx.db.write(Author::system(AUTHOR), ctx.now).await?;
    let customers = store::customer::find_live_many(w.tx(), ids).await?;
    let mut projector = Projector::default();
    let mut rated: Vec<(Customer, Option<String>)> = Vec::new();
    for c in customers {
        // Read in the transaction: a customer moved off the packages meanwhile is not theirs.
        if c.tenant_id != rates.tenant_id || !rates.packages.contains(&c.package_id) {
            continue;
        }
        reached.checked += 1;
        if c.status.0 != CustomerStatus::Active
            || is_expired(c.billing_type.0, c.expires_at, w.now())
        {
            continue;
        }
        let projection = projector.project(w.tx(), w.keyring(), &c).await?;
        if projection.rejects() {
            continue;
        }
        if let Some(rate) = projection.rate_limit() {
            rated.push((c, Some(rate.to_owned())));
        }
    }
    if rated.is_empty() {
        return Ok(());
    }
    let tenant = TenantId(rates.tenant_id);
    let made = crate::enforcement::reach_many(&mut w, tenant, &rated, "package").await?;
    let customers = crate::enforcement::customers_reached(&made);
    reached.rated += customers.len() as u64;
    if !customers.is_empty() {
        w.audit(store::AuditEntry {
            tenant_id: Some(tenant),
            action: "package.rates",
            entity: "package",
            entity_id: rates.packages.first().copied(),
            before: None,
            after: Some(serde_json::json!({
                "change": rates.change, "packages": rates.packages, "customers": customers,
            })),
        })
        .await?;
    }
    w.commit().await?;
    Ok(())
}
