//! Traffic graphs, shared by the API, the panel and the jobs: a customer's graph for whoever
//! sees the customer (`domain::access::customer_scope`), a router's and the tenant's for
//! those who run or staff the tenant (`domain::access::view_network_traffic`), and the
//! roll-up that turns the accounting's deltas into the graphs' buckets (`store::traffic`).

use std::time::{Duration, Instant};

use chrono_tz::Tz;
use domain::access::{self, Actor, tenant_scope};
use domain::ids::TenantId;
use domain::traffic::{Period, Series, series};
use store::traffic::{Owner, RollUp};

use crate::Ctx;
use crate::error::OpError;

/// Deltas one roll-up transaction takes at most.
pub const BATCH: usize = 20_000;

/// A graph's data and the zone its times read in (its tenant's).
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// The series.
    pub series: Series,
    /// The tenant's zone.
    pub zone: Tz,
}

/// A customer's graph of `period`, for a caller that sees the customer.
pub async fn customer(
    ctx: &Ctx<'_>,
    actor: &Actor,
    customer_id: i64,
    period: Period,
) -> Result<Graph, OpError> {
    let customer = crate::customer::get(ctx, actor, customer_id).await?;
    // Whoever sees a customer sees its tenant.
    let tenant = store::tenant::find(
        ctx.db.conn(),
        &tenant_scope(actor),
        TenantId(customer.tenant_id),
    )
    .await?
    .ok_or(OpError::NotFound)?;
    of_customer(ctx, &customer, &tenant, period).await
}

/// The graph of `customer` of `tenant`, found by the caller in its scope (or by the
/// customer's own session).
pub async fn of_customer(
    ctx: &Ctx<'_>,
    customer: &store::customer::Customer,
    tenant: &store::tenant::Tenant,
    period: Period,
) -> Result<Graph, OpError> {
    of(ctx, Owner::Customer(customer.id), period, tenant).await
}

/// A router's graph of `period`: its customers' sessions together.
pub async fn router(
    ctx: &Ctx<'_>,
    actor: &Actor,
    router_id: i64,
    period: Period,
) -> Result<Graph, OpError> {
    let router = crate::network::get_router(ctx, actor, router_id).await?;
    let tenant = may_view(ctx, actor, TenantId(router.tenant_id)).await?;
    of(ctx, Owner::Router(router.id), period, &tenant).await
}

/// A tenant's graph of `period`: all its customers' sessions together.
pub async fn tenant(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant_id: TenantId,
    period: Period,
) -> Result<Graph, OpError> {
    let tenant = may_view(ctx, actor, tenant_id).await?;
    of(ctx, Owner::Tenant(tenant_id.0), period, &tenant).await
}

/// The tenant, when `actor` sees its aggregate traffic; a tenant it does not see is not
/// found.
pub async fn may_view(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant: TenantId,
) -> Result<store::tenant::Tenant, OpError> {
    let tenant = store::tenant::find(ctx.db.conn(), &tenant_scope(actor), tenant)
        .await?
        .ok_or(OpError::NotFound)?;
    access::view_network_traffic(actor, &store::tenant::facts(&tenant))?;
    Ok(tenant)
}

/// The graph of `owner` for `period`, at the context's time.
async fn of(
    ctx: &Ctx<'_>,
    owner: Owner,
    period: Period,
    tenant: &store::tenant::Tenant,
) -> Result<Graph, OpError> {
    let now = ctx.now.timestamp();
    let (from, to) = period.window(now);
    let stored = store::traffic::points(ctx.db.conn(), owner, period.ring(), from, to).await?;
    Ok(Graph {
        series: series(period, now, &stored),
        zone: crate::customer::zone(tenant),
    })
}

/// What [`roll_up`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RolledUp {
    /// Deltas rolled up.
    pub deltas: usize,
    /// Buckets written.
    pub buckets: usize,
    /// Transactions.
    pub batches: usize,
}

/// Rolls up what the accounting appended, batch after batch, until none is left or `budget`
/// is spent (what is left waits for the next run).
pub async fn roll_up(db: &store::Db, budget: Duration) -> Result<RolledUp, OpError> {
    let started = Instant::now();
    let mut done = RolledUp::default();
    loop {
        let RollUp { deltas, buckets } = store::traffic::roll_up(db, BATCH).await?;
        done.deltas += deltas;
        done.buckets += buckets;
        done.batches += 1;
        if deltas < BATCH || started.elapsed() >= budget {
            return Ok(done);
        }
    }
}
