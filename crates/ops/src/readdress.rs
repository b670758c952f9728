//! Giving many customers new addresses (reference §2.13): a pool's customers moved to
//! another pool ([`submit_pool_move`]), a package's customers switched between static
//! addresses and dynamic ones ([`submit_allocation`]). Each is a job: the capacity is
//! checked when it is asked and again in every batch (`store::customer::readdress`: a batch
//! that finds too few free addresses writes nothing, so no customer is left without an
//! address), and each batch ([`step`]) is one transaction with the customers' new
//! addresses, their FreeRADIUS rows projected again, the AAA change log told, their live
//! sessions ended so they reconnect with the new address (the enforcement ladder, after
//! commit) and an audit entry. A job cut short is asked again: what was moved is not
//! moved twice.

use serde::{Deserialize, Serialize};

use crate::Ctx;
use crate::error::OpError;
use domain::access::{Actor, network_scope};
use domain::field::{FieldError, FieldErrors};
use domain::ids::TenantId;
use domain::network::usable;
use store::Author;
use store::customer::readdress::{self, Among};
use store::job::Job;
use store::network::IpPool;

/// The job kind.
pub const KIND: &str = "customers.readdress";

/// Customers given new addresses per transaction.
pub const BATCH: u64 = 500;

/// How a package's customers get their addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// Each its own address from the package's pool, kept by lastmile.
    Static,
    /// From the package's pool by the router at each login.
    Dynamic,
}

/// One pass of a readdressing job: the customers it takes, and the pool their new addresses
/// come from (`None`: no static address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pass {
    /// The customers.
    pub among: Among,
    /// The pool of their new addresses.
    pub to: Option<i64>,
}

/// What a readdressing job does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readdressing {
    /// The tenant.
    pub tenant_id: i64,
    /// Pool moves: these packages (those that gave addresses from the old pool when it was
    /// asked) are pointed at this pool before the passes; their customers are a pass of
    /// their own. Pointing again is harmless, so a job asked again redoes it.
    pub repoint: Option<(Vec<i64>, i64)>,
    /// The passes, in order.
    pub passes: Vec<Pass>,
}

/// The free addresses of `pool`.
async fn free_in(ctx: &Ctx<'_>, pool: &IpPool) -> Result<u64, OpError> {
    let ranges = store::network::pool_ranges(pool)?;
    let used = store::network::used_counts(ctx.db.conn(), &[pool.id])
        .await?
        .first()
        .map_or(0, |(_, n)| *n);
    Ok(usable(&ranges).saturating_sub(u64::try_from(used).unwrap_or(u64::MAX)))
}

/// Refuses when `pool` has fewer than `needed` free addresses (`field: pool_too_small`).
async fn check_room(ctx: &Ctx<'_>, pool: &IpPool, needed: u64, field: &str) -> Result<(), OpError> {
    let free = free_in(ctx, pool).await?;
    if needed > free {
        return Err(OpError::Invalid(FieldErrors::one(
            FieldError::new(field, "pool_too_small")
                .with("needed", needed)
                .with("free", free),
        )));
    }
    Ok(())
}

/// The pool `id` in the caller's scope.
async fn pool(ctx: &Ctx<'_>, actor: &Actor, id: i64, field: &str) -> Result<IpPool, OpError> {
    store::network::find_pool(ctx.db.conn(), &network_scope(actor), id)
        .await?
        .ok_or_else(|| OpError::field(field, "not_found"))
}

async fn queue(
    ctx: &Ctx<'_>,
    author: Author,
    job: &Readdressing,
    entity: &'static str,
    entity_id: i64,
) -> Result<Job, OpError> {
    let payload = serde_json::to_value(job).map_err(|e| OpError::Internal(e.to_string()))?;
    let once = crate::job::Once {
        tenant: TenantId(job.tenant_id),
        kind: KIND,
        // One readdressing per tenant at a time: two would compete for the same addresses.
        key: format!("{KIND}:{}", job.tenant_id),
        payload,
        max_attempts: 3,
        entity,
        entity_id,
    };
    crate::job::queue_once(ctx, author, once).await
}

/// Queues moving every customer of pool `from` to pool `to` (same tenant): those with a
/// static address from `from` get one from `to`, the packages giving addresses from `from`
/// give them from `to`, and their customers reconnect. Refused when `to` has too few free
/// addresses for the static ones.
pub async fn submit_pool_move(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    from: i64,
    to: i64,
) -> Result<Job, OpError> {
    let source = pool(ctx, actor, from, "id").await?;
    crate::network::may_change(ctx, actor, source.tenant_id).await?;
    let target = pool(ctx, actor, to, "to_pool_id").await?;
    if target.tenant_id != source.tenant_id {
        return Err(OpError::field("to_pool_id", "not_found"));
    }
    if target.id == source.id {
        return Err(OpError::field("to_pool_id", "same_pool"));
    }
    let statics = Among::StaticIn(source.id);
    let needed = readdress::count(ctx.db.conn(), &statics).await?;
    check_room(ctx, &target, needed, "to_pool_id").await?;
    let packages =
        store::package::using_pool(ctx.db.conn(), TenantId(source.tenant_id), source.id).await?;
    let mut passes = vec![Pass {
        among: statics,
        to: Some(target.id),
    }];
    if !packages.is_empty() {
        passes.push(Pass {
            among: Among::DynamicOn(packages.clone()),
            to: None,
        });
    }
    let job = Readdressing {
        tenant_id: source.tenant_id,
        repoint: (!packages.is_empty()).then_some((packages, target.id)),
        passes,
    };
    queue(ctx, author, &job, "ip_pool", source.id).await
}

/// Queues switching the customers of master package `id` (and of the operators' packages
/// under it) to `mode`: static gives each customer without a static address one from the
/// package's pool (refused when the pool has too few free), dynamic takes back the static
/// addresses they hold from it.
pub async fn submit_allocation(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    mode: Allocation,
) -> Result<Job, OpError> {
    let package = crate::package::get(ctx, actor, id).await?;
    crate::network::may_change(ctx, actor, package.tenant_id).await?;
    if package.parent_id.is_some() {
        return Err(OpError::field("id", "service_of_master"));
    }
    let Some(pool_id) = package.ip_pool_id else {
        return Err(OpError::field("ip_pool_id", "no_pool"));
    };
    let target = pool(ctx, actor, pool_id, "ip_pool_id").await?;
    let family = store::package::family(ctx.db.conn(), package.id).await?;
    let pass = match mode {
        Allocation::Static => {
            let among = Among::DynamicOn(family);
            let needed = readdress::count(ctx.db.conn(), &among).await?;
            check_room(ctx, &target, needed, "ip_pool_id").await?;
            Pass {
                among,
                to: Some(target.id),
            }
        }
        Allocation::Dynamic => Pass {
            among: Among::StaticOn {
                packages: family,
                pool: target.id,
            },
            to: None,
        },
    };
    let job = Readdressing {
        tenant_id: package.tenant_id,
        repoint: None,
        passes: vec![pass],
    };
    queue(ctx, author, &job, "package", package.id).await
}

/// Points the packages `ids` at pool `to` (audited when any changed); how many changed.
pub async fn repoint(
    ctx: &Ctx<'_>,
    author: Author,
    tenant: i64,
    (ids, to): (&[i64], i64),
) -> Result<usize, OpError> {
    let tenant = TenantId(tenant);
    let mut w = ctx.db.write(author, ctx.now).await?;
    let changed = store::package::repoint_pool(&w, tenant, ids, to).await?;
    if changed.is_empty() {
        return Ok(0);
    }
    w.audit(store::AuditEntry {
        tenant_id: Some(tenant),
        action: "package.repoint_pool",
        entity: "ip_pool",
        entity_id: Some(to),
        before: None,
        after: Some(serde_json::json!({ "packages": changed })),
    })
    .await?;
    w.commit().await?;
    Ok(changed.len())
}

/// What one batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Batch {
    /// The last customer's id (the next batch starts after it).
    pub last: i64,
    /// Customers given new addresses.
    pub readdressed: usize,
    /// Live sessions ended so that they reconnect.
    pub ended: usize,
}

/// Gives the next batch of `pass`'s customers (ids above `after`) their new addresses, in
/// one transaction; `None` when none is left.
pub async fn step(
    ctx: &Ctx<'_>,
    author: Author,
    tenant: i64,
    pass: &Pass,
    after: i64,
) -> Result<Option<Batch>, OpError> {
    let tenant = TenantId(tenant);
    let mut w = ctx.db.write(author, ctx.now).await?;
    let to = match pass.to {
        Some(id) => Some(
            readdress::pool_of(w.tx(), tenant, id)
                .await?
                .ok_or_else(|| OpError::field("to_pool_id", "not_found"))?,
        ),
        None => None,
    };
    let customers = readdress::batch(&w, &pass.among, after, BATCH).await?;
    let Some(last) = customers.last().map(|c| c.id) else {
        return Ok(None);
    };
    let moved = readdress::readdress(&mut w, &customers, to.as_ref(), KIND).await?;
    let reach: Vec<(store::customer::Customer, Option<String>)> =
        moved.iter().map(|(c, _)| (c.clone(), None)).collect();
    let ended = crate::enforcement::reach_many(&mut w, tenant, &reach, "readdress").await?;
    let addresses: Vec<serde_json::Value> = moved
        .iter()
        .take(20)
        .map(|(c, a)| serde_json::json!([c.id, a.map(|a| a.to_string())]))
        .collect();
    w.audit(store::AuditEntry {
        tenant_id: Some(tenant),
        action: "customers.readdress.batch",
        entity: "customer",
        entity_id: None,
        before: None,
        after: Some(serde_json::json!({
            "pass": pass, "customers": moved.len(), "last": last,
            "ended": ended.len(), "first_addresses": addresses,
        })),
    })
    .await?;
    w.commit().await?;
    Ok(Some(Batch {
        last,
        readdressed: moved.len(),
        ended: ended.len(),
    }))
}
