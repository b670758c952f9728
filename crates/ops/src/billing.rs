//! Recharging a customer (billing-design.md §1.5–§2): the preview that writes nothing, and
//! the recharge itself, which in one transaction posts the journal (the collector pays the
//! chain, the chain takes its margins), records the grant of time, moves the customer's
//! package and expiry, resumes it, rewrites its projection and queues what reaches its live
//! sessions. A collector that cannot afford it is refused and nothing changes.

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use crate::Ctx;
use crate::error::OpError;
use domain::access::{self, Actor, Owner, customer_scope, tenant_scope};
use domain::billing::{self, Collector, Current, Level, PriceList, Purchase, Recharge};
use domain::customer::{BillingType, CustomerChanges, CustomerStatus};
use domain::ids::{TenantId, UserId};
use domain::ledger::{Account, Journal, JournalKind};
use domain::package::PackageLevel;
use store::customer::Customer;
use store::ledger::{PostMeta, Posted};
use store::package::Package;
use store::{AuditEntry, Author};

/// What a recharge asks for: a package (the customer's own when absent) and the time (one
/// whole validity when both `days` and `hours` are absent).
#[derive(Debug, Clone, Default)]
pub struct RechargeInput {
    /// The package to buy; a different one is a package change.
    pub package_id: Option<i64>,
    /// Days.
    pub days: Option<i64>,
    /// Hours.
    pub hours: Option<i64>,
}

/// What a recharge does or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RechargeOutcome {
    /// The package bought.
    pub package_id: i64,
    /// What the customer pays, in minor units.
    pub amount: i64,
    /// What the collector's balance pays (the amount less its own margin).
    pub cost: i64,
    /// What unused time of earlier grants was credited.
    pub credit: i64,
    /// What the customer's wallet (its prepaid credit) paid.
    pub wallet: i64,
    /// The full price of the time bought.
    pub price: i64,
    /// When the time bought starts.
    pub starts_at: DateTime<Utc>,
    /// The new expiry.
    pub expires_at: DateTime<Utc>,
    /// The tenant's currency.
    pub currency: String,
    /// The journal that records it (`None` for free time, and for a preview).
    pub journal_id: Option<i64>,
    /// The receipt for the money taken (`None` when nothing was taken, and for a preview).
    pub receipt_id: Option<i64>,
    /// True when the same request had already been made: nothing was written now.
    pub replayed: bool,
}

/// Everything a recharge is computed from.
pub(crate) struct Plan {
    customer: Customer,
    tenant: TenantId,
    currency: String,
    country: String,
    zone: chrono_tz::Tz,
    collector: Collector,
    package: Package,
    recharge: Recharge,
    request_hash: String,
}

/// What a recharge of customer `id` would do now; writes nothing.
pub async fn preview(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: i64,
    input: &RechargeInput,
) -> Result<RechargeOutcome, OpError> {
    let plan = plan(ctx, actor, id, input).await?;
    Ok(outcome(&plan, None, None))
}

/// Recharges customer `id`. `key` (the client's idempotency key) makes a retry of the same
/// request answer with what the first did, without paying twice.
pub async fn recharge(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    input: &RechargeInput,
    key: Option<&str>,
) -> Result<RechargeOutcome, OpError> {
    let plan = plan(ctx, actor, id, input).await?;
    let journal_key = format!(
        "recharge:{}:{}",
        actor.user_id,
        key.map_or_else(
            || store::crypto::random_text(b"0123456789abcdefghijklmnopqrstuvwxyz", 24),
            str::to_owned
        )
    );
    let mut w = ctx.db.write(author, ctx.now).await?;
    let scope = customer_scope(actor);
    match write(
        ctx,
        &mut w,
        &plan,
        journal_key,
        Some(actor.user_id.0),
        &scope,
    )
    .await?
    {
        Written::New(result) => {
            w.commit().await?;
            Ok(result)
        }
        Written::Replay(journal_id) => {
            // Made earlier: undo this attempt and answer with what the first did.
            w.rollback().await?;
            replayed(ctx, &plan, journal_id).await
        }
    }
}

/// How [`write`] ended.
pub(crate) enum Written {
    /// Written now (not committed).
    New(RechargeOutcome),
    /// Its journal was posted before under the same key: nothing written now.
    Replay(i64),
}

/// Writes the recharge `plan` in `w` under `journal_key`: the customer's package, expiry
/// and status (as `scope` sees it), the journal, the grants, the audit entry, what reaches
/// the live sessions and the receipt (taken by `collector_user`). The caller commits.
pub(crate) async fn write(
    ctx: &Ctx<'_>,
    w: &mut store::Write,
    plan: &Plan,
    journal_key: String,
    collector_user: Option<i64>,
    scope: &domain::access::CustomerScope,
) -> Result<Written, OpError> {
    let id = plan.customer.id;
    let before = &plan.customer;
    let changes = CustomerChanges {
        package_id: (plan.package.id != before.package_id).then_some(plan.package.id),
        expires_at: Some(Some(plan.recharge.expires_at)),
        status: (before.status.get() == CustomerStatus::Suspended)
            .then_some(CustomerStatus::Active),
        ..CustomerChanges::default()
    };
    let after = store::customer::update(w, scope, id, before.version, &changes).await?;
    let journal_id = if plan.recharge.legs.is_empty() {
        None
    } else {
        let journal = Journal::new(
            JournalKind::Recharge,
            journal_key,
            plan.recharge.legs.clone(),
            format!("recharge of customer {}", before.username),
        )
        .map_err(|e| OpError::Internal(e.to_string()))?;
        let meta = PostMeta {
            tenant: plan.tenant,
            currency: &plan.currency,
            request_hash: &plan.request_hash,
            customer_id: Some(id),
            reverses: None,
        };
        let journal_id = match store::ledger::post(w, &meta, &journal).await? {
            Posted::New(journal_id) => journal_id,
            Posted::Replay(journal_id) => return Ok(Written::Replay(journal_id)),
        };
        if plan.recharge.wallet > 0 {
            // The wallet was read before this transaction: a payment or note that moved it
            // since makes the plan stale, and the customer may not end up owing for it.
            let account =
                store::ledger::find(w.tx(), plan.tenant, &plan.currency, Account::Customer(id))
                    .await?;
            if account.is_none_or(|a| store::ledger::balance(&a) < 0) {
                return Err(OpError::VersionMismatch);
            }
        }
        Some(journal_id)
    };
    store::grant::end(w, &plan.recharge.replaced).await?;
    store::grant::insert(
        w,
        &store::grant::NewGrant {
            tenant: plan.tenant,
            customer_id: id,
            package_id: plan.package.id,
            journal_id,
            starts_at: plan.recharge.starts_at,
            ends_at: plan.recharge.expires_at,
            minutes: plan.recharge.minutes,
            split: &plan.recharge.split,
        },
    )
    .await?;
    let mut result = outcome(plan, journal_id, None);
    w.audit(AuditEntry {
        tenant_id: Some(plan.tenant),
        action: "customer.recharge",
        entity: "customer",
        entity_id: Some(id),
        before: None,
        after: Some(serde_json::json!({
            "package_id": result.package_id,
            "amount": result.amount,
            "cost": result.cost,
            "credit": result.credit,
            "currency": result.currency,
            "starts_at": result.starts_at,
            "expires_at": result.expires_at,
            "journal_id": result.journal_id,
        })),
    })
    .await?;
    crate::customer::reach_sessions(w, before, &after, ctx.now).await?;
    // The customer hears of it by SMS, from the notice, after commit.
    store::billing::notify_many(
        w,
        plan.tenant,
        &[store::billing::NewNotification {
            customer_id: Some(id),
            kind: "recharge",
            dedupe_key: format!("recharge:{id}:{}", plan.recharge.expires_at.timestamp()),
            params: serde_json::json!({
                "amount": result.amount,
                "expires_at": result.expires_at,
                "package": plan.package.name,
            }),
        }],
    )
    .await?;
    // Last: the receipt's number is the tenant's to take one at a time until the commit.
    if result.amount > 0 {
        let lines = receipt_lines(plan);
        let vat =
            plan.recharge.split.vat - plan.recharge.credits.iter().map(|c| c.vat).sum::<i64>();
        let vat = vat.clamp(0, result.amount);
        let local = ctx.now.with_timezone(&plan.zone).date_naive();
        let new = store::invoice::NewDocument {
            tenant: plan.tenant,
            country: &plan.country,
            series: domain::invoice::Series::Receipt,
            customer_id: id,
            journal_id,
            collector_id: collector_user,
            currency: &plan.currency,
            subtotal: result.amount - vat,
            vat,
            total: result.amount,
            fiscal_year: domain::invoice::fiscal_year(local, &plan.country),
            buyer: serde_json::json!({
                "name": after.name,
                "username": after.username,
                "mobile": after.mobile,
                "address": after.address,
            }),
            lines: &lines,
        };
        result.receipt_id = Some(store::invoice::issue(w, &new).await?.id);
    }
    Ok(Written::New(result))
}

/// The receipt's lines for `plan`: the time bought, and the credit for unused time.
fn receipt_lines(plan: &Plan) -> Vec<store::invoice::Line> {
    let at = |t: DateTime<Utc>| {
        t.with_timezone(&plan.zone)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let mut lines = vec![store::invoice::Line {
        kind: "service".to_owned(),
        description: format!(
            "{} · {} – {}",
            plan.package.name,
            at(plan.recharge.starts_at),
            at(plan.recharge.expires_at)
        ),
        amount: plan.recharge.split.price,
    }];
    let credit = plan.recharge.credit();
    if credit > 0 {
        lines.push(store::invoice::Line {
            kind: "credit".to_owned(),
            description: String::new(),
            amount: -credit,
        });
    }
    if plan.recharge.wallet > 0 {
        lines.push(store::invoice::Line {
            kind: "wallet".to_owned(),
            description: String::new(),
            amount: -plan.recharge.wallet,
        });
    }
    lines
}

/// The answer to a request already made: its journal and the grant it paid for.
async fn replayed(ctx: &Ctx<'_>, plan: &Plan, journal_id: i64) -> Result<RechargeOutcome, OpError> {
    let conn = ctx.db.conn();
    let (_, legs) = store::ledger::journal(conn, None, journal_id)
        .await?
        .ok_or(OpError::NotFound)?;
    let grant = store::grant::by_journal(conn, journal_id)
        .await?
        .ok_or(OpError::NotFound)?;
    let collector = plan.collector.account().key();
    let customer = Account::Customer(plan.customer.id).key();
    // What the collector took is what its receipt says (none: nothing was taken).
    let receipt = store::invoice::by_journal(conn, journal_id).await?;
    let amount = receipt.as_ref().map_or(0, |r| r.total);
    let mut cost = 0;
    let mut customer_credits = 0;
    for (entry, account) in &legs {
        let signed = i64::from(entry.side) * entry.amount;
        if account.key == collector {
            cost -= signed * i64::from(account.normal);
        }
        if account.key == customer && entry.side > 0 {
            customer_credits += entry.amount;
        }
    }
    // The customer is credited the unused time and what the collector took; the rest of
    // the price came from its wallet.
    let credit = customer_credits - amount;
    if matches!(plan.collector, Collector::Cash(_) | Collector::Gateway(_)) {
        cost = amount;
    }
    Ok(RechargeOutcome {
        package_id: grant.package_id,
        amount,
        cost,
        credit,
        wallet: (grant.price - credit - amount).max(0),
        price: grant.price,
        starts_at: grant.starts_at,
        expires_at: grant.ends_at,
        currency: plan.currency.clone(),
        journal_id: Some(journal_id),
        receipt_id: receipt.map(|r| r.id),
        replayed: true,
    })
}

/// The outcome of `plan`, recorded as `journal_id` with receipt `receipt_id`.
fn outcome(plan: &Plan, journal_id: Option<i64>, receipt_id: Option<i64>) -> RechargeOutcome {
    let collector = plan.collector.account();
    let cost = -plan
        .recharge
        .legs
        .iter()
        .filter(|l| l.account == collector)
        .map(|l| l.effect())
        .sum::<i64>();
    RechargeOutcome {
        package_id: plan.package.id,
        amount: plan.recharge.amount,
        cost: if matches!(plan.collector, Collector::Cash(_) | Collector::Gateway(_)) {
            plan.recharge.amount
        } else {
            cost
        },
        credit: plan.recharge.credit(),
        wallet: plan.recharge.wallet,
        price: plan.recharge.split.price,
        starts_at: plan.recharge.starts_at,
        expires_at: plan.recharge.expires_at,
        currency: plan.currency.clone(),
        journal_id,
        receipt_id,
        replayed: false,
    }
}

/// Reads and checks everything a recharge of customer `id` by `actor` needs, and plans it.
async fn plan(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: i64,
    input: &RechargeInput,
) -> Result<Plan, OpError> {
    let customer = crate::customer::get(ctx, actor, id).await?;
    let owner = store::customer::owner(&customer);
    let collector = access::recharge_customers_of(actor, owner)?;
    let tenant = store::tenant::find(
        ctx.db.conn(),
        &tenant_scope(actor),
        TenantId(customer.tenant_id),
    )
    .await?
    .ok_or(OpError::NotFound)?;
    plan_for(ctx, customer, &tenant, collector, input).await
}

/// Plans a recharge of `customer` (of `tenant`) paid through `collector`; the caller found
/// the customer and checked who asks.
pub(crate) async fn plan_for(
    ctx: &Ctx<'_>,
    customer: Customer,
    tenant: &store::tenant::Tenant,
    collector: Collector,
    input: &RechargeInput,
) -> Result<Plan, OpError> {
    let id = customer.id;
    let owner = store::customer::owner(&customer);
    if customer.status.get() == CustomerStatus::Disabled {
        return Err(OpError::field("customer", "customer_disabled"));
    }
    if customer.billing_type.get() == BillingType::Free {
        // A free customer never expires: there is no time to buy.
        return Err(OpError::field("customer", "customer_free"));
    }
    let minutes = billing::recharge_minutes(input.days, input.hours)?;
    let package_id = input.package_id.unwrap_or(customer.package_id);
    let package =
        crate::customer::usable_package(ctx, owner, package_id, customer.connection_type.get())
            .await?;
    let vat = store::tax::vat_at(ctx.db.conn(), TenantId(tenant.id), ctx.now).await?;
    let list = price_list(ctx, &package, owner, vat).await?;
    let grants = store::grant::live(ctx.db.conn(), id, ctx.now).await?;
    let wallet = store::ledger::find(
        ctx.db.conn(),
        TenantId(tenant.id),
        &tenant.currency,
        Account::Customer(id),
    )
    .await?
    .map_or(0, |a| store::ledger::balance(&a).max(0));
    let current = Current {
        customer: id,
        package_id: customer.package_id,
        expires_at: customer.expires_at,
        grants: &grants,
        wallet,
    };
    let recharge = billing::recharge(
        &current,
        &Purchase {
            package_id: package.id,
            list: &list,
            minutes,
            collector,
            step: billing::rounding_step(&tenant.currency),
        },
        ctx.now,
        crate::customer::zone(tenant),
    );
    let request_hash = {
        let mut hasher = Sha256::new();
        hasher.update(format!(
            "recharge|{id}|{}|{}|{:?}",
            package.id, recharge.minutes, collector
        ));
        hex::encode(hasher.finalize())
    };
    Ok(Plan {
        customer,
        tenant: TenantId(tenant.id),
        zone: crate::customer::zone(tenant),
        country: tenant.country.clone(),
        currency: tenant.currency.clone(),
        collector,
        package,
        recharge,
        request_hash,
    })
}

impl Plan {
    /// What the customer pays for it.
    pub(crate) fn amount(&self) -> i64 {
        self.recharge.amount
    }
}

/// What `package` costs along its chain: the customer price, and each reseller's cost
/// price from the customer's own up (a sub-operator package's parent is its operator's).
pub(crate) async fn price_list(
    ctx: &Ctx<'_>,
    package: &Package,
    owner: Owner,
    vat: billing::Vat,
) -> Result<PriceList, OpError> {
    let mut levels = Vec::new();
    let mut at = Some(package.clone());
    while let Some(p) = at.take() {
        if p.level.get() == PackageLevel::Master {
            break;
        }
        let reseller = p
            .owner_id
            .map(UserId)
            .ok_or_else(|| OpError::Internal(format!("package {} has no owner", p.id)))?;
        levels.push(Level {
            reseller,
            cost: p.cost_price,
        });
        if let Some(parent) = p.parent_id {
            at = store::package::find_any(ctx.db.conn(), parent).await?;
        }
    }
    // The chain must be the customer's: its own reseller first.
    let owns = |u: Option<UserId>| u.is_none_or(|u| levels.iter().any(|l| l.reseller == u));
    if !(owns(owner.sub_operator()) && owns(owner.operator())) {
        return Err(OpError::field("package_id", "not_usable"));
    }
    Ok(PriceList {
        price: package.price,
        validity_minutes: package.validity_minutes.max(1),
        levels,
        vat,
    })
}

/// Sets a monthly PPPoE customer's own price (`None`: its package's again), which its
/// next postpaid invoices charge instead of the package's; invoices already issued keep
/// theirs. For its seller ([`access::set_customer_price`]), checked against its package's
/// price list along its chain ([`billing::check_custom_price`]); a billing run checks it
/// again and charges the package's price when costs have moved above it.
pub async fn set_custom_price(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    version: i32,
    price: Option<i64>,
) -> Result<Customer, OpError> {
    let customer = crate::customer::get(ctx, actor, id).await?;
    let owner = store::customer::owner(&customer);
    access::set_customer_price(actor, owner)?;
    let monthly = customer.billing_type.get() == BillingType::Postpaid
        && customer.connection_type.get() == domain::package::ConnectionType::Pppoe;
    if !monthly {
        return Err(OpError::field("custom_price", "not_monthly_pppoe"));
    }
    if let Some(price) = price {
        let conn = ctx.db.conn();
        let package = store::package::find_any(conn, customer.package_id)
            .await?
            .ok_or(OpError::NotFound)?;
        let vat = store::tax::vat_at(conn, TenantId(customer.tenant_id), ctx.now).await?;
        let list = price_list(ctx, &package, owner, vat).await?;
        billing::check_custom_price(price, &list)
            .map_err(|e| OpError::Invalid(domain::field::FieldErrors::one(e)))?;
    }
    let mut w = ctx.db.write(author, ctx.now).await?;
    let after =
        store::customer::set_custom_price(&mut w, &customer_scope(actor), id, version, price)
            .await?;
    w.commit().await?;
    Ok(after)
}
