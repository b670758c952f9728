//! Who is online and what they used, in the caller's scope: subscribers' sessions (live
//! and past) and a customer's usage per day and for its current period. Whoever may see a
//! customer may see its sessions and usage (`domain::access::customer_scope`).

use chrono::{NaiveDate, TimeDelta};
use domain::access::{Actor, customer_scope, tenant_scope};
use domain::customer::{UsagePeriod, usage_period};
use domain::fup::{self, Level};
use domain::ids::TenantId;
use std::collections::HashSet;

use store::customer::Customer;
use store::list::{Page, PageRequest};
use store::online::{DayUsage, Session, SessionFilter};

use crate::Ctx;
use crate::error::OpError;

/// The sessions list's filters as asked.
#[derive(Debug, Clone, Default)]
pub struct SessionQuery {
    /// Only this tenant's.
    pub tenant_id: Option<TenantId>,
    /// Only this customer's.
    pub customer_id: Option<i64>,
    /// Only this router's.
    pub router_id: Option<i64>,
    /// Open or closed.
    pub open: Option<bool>,
}

/// The sessions the caller sees, newest first. A router the caller cannot see is refused
/// as an unknown one.
pub async fn sessions(
    ctx: &Ctx<'_>,
    actor: &Actor,
    query: &SessionQuery,
    page: &PageRequest,
) -> Result<Page<Session>, OpError> {
    let nas_address = match query.router_id {
        Some(id) => match crate::network::get_router(ctx, actor, id).await {
            Ok(router) => Some(router.nas_address),
            Err(OpError::NotFound) => return Err(OpError::field("router_id", "not_found")),
            Err(e) => return Err(e),
        },
        None => None,
    };
    let filter = SessionFilter {
        tenant_id: query.tenant_id,
        customer_id: query.customer_id,
        nas_address,
        open: query.open,
    };
    Ok(store::online::list(ctx.db.conn(), &customer_scope(actor), &filter, page).await?)
}

/// Which of `customers` (found in the caller's scope) are online.
pub async fn online_among(ctx: &Ctx<'_>, customers: &[Customer]) -> Result<HashSet<i64>, OpError> {
    let ids: Vec<i64> = customers.iter().map(|c| c.id).collect();
    Ok(store::online::online_among(ctx.db.conn(), &ids).await?)
}

/// Whether `customer` (found in the caller's scope) is online.
pub async fn is_online(ctx: &Ctx<'_>, customer: &Customer) -> Result<bool, OpError> {
    Ok(store::online::is_online(ctx.db.conn(), customer.id).await?)
}

/// A customer's usage: each of the last [`USAGE_DAYS`] days and the current period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// The tenant's day today.
    pub today: NaiveDate,
    /// Every day from `today - USAGE_DAYS + 1` to today, oldest first (zeros included).
    pub days: Vec<DayUsage>,
    /// The current period.
    pub period: Period,
    /// What the package allows in the period, if it caps it (a volume or FUP steps).
    pub allowance: Option<Allowance>,
}

/// A capped package's allowance and where the customer stands in it now
/// (`domain::fup`; the usage watcher brings live sessions to it within its interval).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    /// The volume per period, if any.
    pub volume_bytes: Option<i64>,
    /// The period's bytes, up and down.
    pub used_bytes: i64,
    /// Where that puts the customer.
    pub level: Level,
    /// The rate it gets now (`Mikrotik-Rate-Limit` notation).
    pub rate_limit: String,
}

/// A customer's current period and its usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// `service`: the service paid for, up to the expiry (a prepaid customer with one);
    /// `month`: the calendar month in the tenant's zone (anyone else).
    pub kind: &'static str,
    /// Its first day.
    pub first: NaiveDate,
    /// Its last day.
    pub last: NaiveDate,
    /// Bytes from the subscriber.
    pub input_octets: i64,
    /// Bytes to the subscriber.
    pub output_octets: i64,
}

/// The allowance of package `p` for a customer that used `used_bytes`, if `p` caps usage.
fn allowance(p: &store::package::Package, used_bytes: i64) -> Result<Option<Allowance>, OpError> {
    let fup = store::package::fup(p)?;
    if p.volume_bytes.is_none() && fup.is_empty() {
        return Ok(None);
    }
    let rate = store::package::rate(p)?;
    Ok(Some(Allowance {
        volume_bytes: p.volume_bytes,
        used_bytes,
        level: fup::level(p.volume_bytes, &fup, used_bytes),
        rate_limit: fup::rate_at(rate, &fup, used_bytes).mikrotik(),
    }))
}

/// Days the usage shows one by one.
pub const USAGE_DAYS: i64 = 30;

/// The usage of a customer the caller sees.
pub async fn usage(ctx: &Ctx<'_>, actor: &Actor, customer_id: i64) -> Result<Usage, OpError> {
    let customer = crate::customer::get(ctx, actor, customer_id).await?;
    // Whoever sees a customer sees its tenant.
    let tenant = store::tenant::find(
        ctx.db.conn(),
        &tenant_scope(actor),
        TenantId(customer.tenant_id),
    )
    .await?
    .ok_or(OpError::NotFound)?;
    usage_of(ctx, &customer, &tenant).await
}

/// The usage of `customer` of `tenant`, found by the caller in its scope.
pub(crate) async fn usage_of(
    ctx: &Ctx<'_>,
    customer: &store::customer::Customer,
    tenant: &store::tenant::Tenant,
) -> Result<Usage, OpError> {
    let zone = crate::customer::zone(tenant);
    let today = ctx.now.with_timezone(&zone).date_naive();
    let first_day = today - TimeDelta::days(USAGE_DAYS - 1);
    let package = store::package::find_any(ctx.db.conn(), customer.package_id).await?;
    let validity = package.as_ref().map_or(0, |p| p.validity_minutes);
    let UsagePeriod { kind, first, last } = usage_period(
        customer.billing_type.get(),
        customer.expires_at,
        validity,
        today,
        zone,
    );
    let span_first = first_day.min(first);
    let span_last = today.max(last);
    let used = store::online::usage(ctx.db.conn(), customer.id, span_first, span_last).await?;
    let days = first_day
        .iter_days()
        .take_while(|d| *d <= today)
        .map(|day| {
            used.iter()
                .find(|u| u.day == day)
                .copied()
                .unwrap_or(DayUsage {
                    day,
                    input_octets: 0,
                    output_octets: 0,
                })
        })
        .collect();
    let in_period = used.iter().filter(|u| u.day >= first && u.day <= last);
    let period = Period {
        kind,
        first,
        last,
        input_octets: in_period.clone().map(|u| u.input_octets).sum(),
        output_octets: in_period.map(|u| u.output_octets).sum(),
    };
    let allowance = match &package {
        Some(p) => allowance(p, period.input_octets.saturating_add(period.output_octets))?,
        None => None,
    };
    Ok(Usage {
        today,
        days,
        period,
        allowance,
    })
}
