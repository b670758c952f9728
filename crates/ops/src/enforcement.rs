//! Reaching a customer's live sessions through the enforcement ladder
//! (`domain::enforcement`): the change records one enforcement per open session and queues
//! the job that climbs the ladder, in its own transaction with its audit entry; the job (in
//! `netops`) talks to the router after commit. A disconnect asked for ends the sessions;
//! suspending, disabling and deleting a customer do it too (`customer::update`,
//! `customer::archive`); another package gives them its rate by CoA (`change_rate`). A pass
//! over many customers (the usage watcher's FUP steps and caps, a package's new speed)
//! reaches a batch's sessions at once (`reach_many`: one read of the sessions, one job).
//! Whoever may change the customer may disconnect it; whoever sees it sees the outcomes.

use domain::access::{self, Actor};
use domain::ids::TenantId;
use store::customer::Customer;
use store::enforcement::{Attempt, Enforcement, KIND, ONE_KIND};
use store::{Author, Write};

use crate::Ctx;
use crate::error::OpError;

/// Enforcements the customer's outcomes list at most.
pub const RECENT: u64 = 20;

/// Ends every live session of customer `id`: one enforcement per session, climbed by a job
/// after commit. A customer without a live session is refused (`not_online`).
pub async fn disconnect(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
) -> Result<Vec<Enforcement>, OpError> {
    let customer = visible(ctx, actor, id).await?;
    access::manage_customers_of(actor, store::customer::owner(&customer))?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let made = end_sessions(&mut w, &customer, "disconnect").await?;
    if made.is_empty() {
        return Err(OpError::field("id", "not_online"));
    }
    let ids: Vec<i64> = made.iter().map(|e| e.id).collect();
    let sessions: Vec<&str> = made.iter().map(|e| e.acct_session_id.as_str()).collect();
    w.audit(store::AuditEntry {
        tenant_id: Some(TenantId(customer.tenant_id)),
        action: "customer.disconnect",
        entity: "customer",
        entity_id: Some(customer.id),
        before: None,
        after: Some(serde_json::json!({ "enforcements": ids, "sessions": sessions })),
    })
    .await?;
    w.commit().await?;
    Ok(made)
}

/// In the change's transaction `w`: one enforcement per live session of `customer`, for
/// `reason`, and the job that climbs the ladder for them after commit (none when the
/// customer has no live session). A change that must end a customer's sessions (suspend,
/// disable, delete, a disconnect asked for) calls this before it commits; the caller found
/// the customer in its scope.
pub(crate) async fn end_sessions(
    w: &mut Write,
    customer: &Customer,
    reason: &str,
) -> Result<Vec<Enforcement>, OpError> {
    let tenant = TenantId(customer.tenant_id);
    reach_many(w, tenant, &[(customer.clone(), None)], reason).await
}

/// In the change's transaction `w`: one enforcement per live session of `customer` from the
/// device `mac` (its Calling-Station-Id), for `reason`, and the job after commit; a device
/// removed from an account goes offline with it.
pub(crate) async fn end_device_sessions(
    w: &mut Write,
    customer: &Customer,
    mac: domain::network::MacAddr,
    reason: &str,
) -> Result<Vec<Enforcement>, OpError> {
    let live: Vec<store::online::Session> = store::online::open_of(w.tx(), &[customer.id])
        .await?
        .into_iter()
        .filter(|s| domain::network::MacAddr::parse(&s.mac) == Some(mac))
        .collect();
    if live.is_empty() {
        return Ok(Vec::new());
    }
    let made =
        store::enforcement::create(w, customer.tenant_id, customer.id, &live, reason, None).await?;
    climb(w, customer.tenant_id, &made).await?;
    Ok(made)
}

/// In the change's transaction `w`: one enforcement per live session of `customer` giving it
/// the rate `rate_limit` (RouterOS notation) by CoA, and the job after commit.
pub(crate) async fn change_rate(
    w: &mut Write,
    customer: &Customer,
    reason: &str,
    rate_limit: &str,
) -> Result<Vec<Enforcement>, OpError> {
    let tenant = TenantId(customer.tenant_id);
    let reach = [(customer.clone(), Some(rate_limit.to_owned()))];
    reach_many(w, tenant, &reach, reason).await
}

/// In the change's transaction `w`: for each of `customers` (of one tenant), one
/// enforcement per live session, giving it the rate named (by CoA) or, without one, ending
/// it; all climbed by one job after commit. The sessions are read in one go; returns the
/// enforcements made (none for a customer without a live session).
pub(crate) async fn reach_many(
    w: &mut Write,
    tenant: TenantId,
    customers: &[(Customer, Option<String>)],
    reason: &str,
) -> Result<Vec<Enforcement>, OpError> {
    let ids: Vec<i64> = customers.iter().map(|(c, _)| c.id).collect();
    let mut sessions: std::collections::HashMap<i64, Vec<store::online::Session>> =
        std::collections::HashMap::new();
    for s in store::online::open_of(w.tx(), &ids).await? {
        if let Some(customer) = s.customer_id {
            sessions.entry(customer).or_default().push(s);
        }
    }
    let mut made = Vec::new();
    for (c, rate) in customers {
        let Some(live) = sessions.get(&c.id) else {
            continue;
        };
        made.extend(
            store::enforcement::create(w, tenant.0, c.id, live, reason, rate.as_deref()).await?,
        );
    }
    if !made.is_empty() {
        climb(w, tenant.0, &made).await?;
    }
    Ok(made)
}

/// The customers the enforcements `made` reach, in order.
pub(crate) fn customers_reached(made: &[Enforcement]) -> Vec<i64> {
    let mut customers: Vec<i64> = made.iter().map(|e| e.customer_id).collect();
    customers.sort_unstable();
    customers.dedup();
    customers
}

/// Queues the job that climbs the ladder for the enforcements `made`, after commit: on
/// the express lane when they are one customer's (`ONE_KIND`).
async fn climb(w: &mut Write, tenant: i64, made: &[Enforcement]) -> Result<(), OpError> {
    let ids: Vec<i64> = made.iter().map(|e| e.id).collect();
    let created_by = w.author().user_id;
    // One customer's: someone is waiting for it; many (a billing run's): no one is.
    let one = made
        .windows(2)
        .all(|p| p[0].customer_id == p[1].customer_id);
    w.enqueue(store::job::NewJob {
        kind: if one { ONE_KIND } else { KIND },
        payload: serde_json::json!({ "ids": ids }),
        run_at: w.now(),
        dedupe_key: None,
        max_attempts: 5,
        tenant_id: Some(TenantId(tenant)),
        created_by,
    })
    .await?
    .ok_or(OpError::Busy)?;
    Ok(())
}

/// The latest enforcements of customer `id`, newest first, with their attempts.
pub async fn list(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: i64,
) -> Result<Vec<(Enforcement, Vec<Attempt>)>, OpError> {
    let customer = visible(ctx, actor, id).await?;
    Ok(store::enforcement::for_customer(ctx.db.conn(), customer.id, RECENT).await?)
}

/// Customer `id`, if the caller sees it (as `customer::get`, which calls into this module).
async fn visible(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Customer, OpError> {
    store::customer::find(ctx.db.conn(), &access::customer_scope(actor), id)
        .await?
        .ok_or(OpError::NotFound)
}
