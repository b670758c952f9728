//! The demo's money: the owner books funds to its operators, the first operator passes
//! some to its sub-operators and lends one of them credit, and every reseller recharges
//! some of its prepaid customers (a few onto another package, so the unused time is
//! credited); the billing run invoices the postpaid customers for the rest of the month,
//! and some of them pay in cash, in full or in part. All through the same operations the
//! panel, the API and the jobs call.

use chrono::{DateTime, Utc};
use rand::RngExt as _;

use domain::access::{Actor, PermissionSet, Role};
use domain::customer::{BillingType, CustomerStatus};
use domain::ids::{TenantId, UserId};
use domain::ledger::AccountTerms;
use ops::billing::RechargeInput;
use store::customer::Customer;
use store::{Author, Db};

use super::SeedError;

/// One taka in poisha: the demo tenant's currency.
const TAKA: i64 = 100;

/// The demo tenant's people who move money.
#[derive(Debug)]
pub struct Resellers {
    /// The tenant.
    pub tenant: TenantId,
    /// Its Admin.
    pub admin: UserId,
    /// The operators.
    pub operators: Vec<UserId>,
    /// The sub-operators, with their operator.
    pub sub_operators: Vec<(UserId, UserId)>,
}

fn op(result: Result<impl Sized, ops::OpError>) -> Result<(), SeedError> {
    result
        .map(|_| ())
        .map_err(|e| SeedError::Data(format!("demo money: {e}")))
}

/// What the demo's money made.
#[derive(Debug, Clone, Copy, Default)]
pub struct Made {
    /// Recharges.
    pub recharges: usize,
    /// Postpaid invoices.
    pub invoices: usize,
    /// Cash payments of them.
    pub payments: usize,
}

/// Books the funds, makes the recharges, invoices the postpaid customers and takes some of
/// their payments.
pub async fn seed(
    db: &Db,
    hasher: &ops::auth::password::Hasher,
    now: DateTime<Utc>,
    people: &Resellers,
    customers: &[Customer],
    rng: &mut impl rand::Rng,
) -> Result<Made, SeedError> {
    let ctx = ops::Ctx::new(db, hasher, now);
    let actor =
        |id: UserId, role: Role| Actor::new(id, role, Some(people.tenant), PermissionSet::EMPTY);
    let author = |id: UserId| Author::user(id, format!("demo:{id}"), None);
    let admin = actor(people.admin, Role::Admin);
    for (n, operator) in people.operators.iter().enumerate() {
        let amount = 50_000 * TAKA / (n as i64 + 1);
        op(ops::ledger::topup(&ctx, &admin, author(people.admin), *operator, amount, None).await)?;
    }
    for (n, (sub, operator)) in people.sub_operators.iter().enumerate() {
        let by = actor(*operator, Role::Operator);
        op(ops::ledger::topup(&ctx, &by, author(*operator), *sub, 8_000 * TAKA, None).await)?;
        if n == 1 {
            let terms = AccountTerms::Credit(Some(3_000 * TAKA));
            op(ops::ledger::set_terms(&ctx, &by, author(*operator), *sub, terms).await)?;
        }
    }
    let mut made = Made::default();
    for c in customers {
        let prepaid = c.billing_type.get() == BillingType::Prepaid
            && c.status.get() != CustomerStatus::Disabled;
        if !prepaid || rng.random_range(0..3) != 0 {
            continue;
        }
        let (by, role) = match (c.sub_operator_id, c.operator_id) {
            (Some(sub), _) => (UserId(sub), Role::SubOperator),
            (None, Some(operator)) => (UserId(operator), Role::Operator),
            (None, None) => (people.admin, Role::Admin),
        };
        let input = RechargeInput {
            package_id: None,
            days: Some(rng.random_range(1..=30)),
            hours: None,
        };
        match ops::billing::recharge(&ctx, &actor(by, role), author(by), c.id, &input, None).await {
            Ok(_) => made.recharges += 1,
            // A reseller that ran out stops selling, as it would.
            Err(ops::OpError::InsufficientBalance { .. }) => {}
            Err(error) => return Err(SeedError::Data(format!("demo recharge: {error}"))),
        }
    }
    let reports = ops::billing_run::run(&ctx, Some(people.tenant), false)
        .await
        .map_err(|e| SeedError::Data(format!("demo billing run: {e}")))?;
    made.invoices = reports
        .iter()
        .filter(|r| r.kind.starts_with("invoice"))
        .map(|r| r.customers as usize)
        .sum();
    for c in customers {
        if c.billing_type.get() != BillingType::Postpaid || rng.random_range(0..2) != 0 {
            continue;
        }
        let Some(owed) = store::invoice::open_of(db.conn(), c.id)
            .await?
            .first()
            .map(store::invoice::due)
        else {
            continue;
        };
        let (by, role) = match (c.sub_operator_id, c.operator_id) {
            (Some(sub), _) => (UserId(sub), Role::SubOperator),
            (None, Some(operator)) => (UserId(operator), Role::Operator),
            (None, None) => (people.admin, Role::Admin),
        };
        // One in three pays half now.
        let amount = if rng.random_range(0..3) == 0 {
            (owed / 2).max(1)
        } else {
            owed
        };
        let input = ops::payment::CashPayment {
            customer_id: c.id,
            amount,
            invoice_id: None,
        };
        match ops::payment::take_cash(&ctx, &actor(by, role), author(by), &input, None).await {
            Ok(_) => made.payments += 1,
            Err(ops::OpError::InsufficientBalance { .. }) => {}
            Err(error) => return Err(SeedError::Data(format!("demo payment: {error}"))),
        }
    }
    Ok(made)
}

/// The demo's online payments: the tenant's merchant account at `sim` (the simulated
/// provider on this machine, with its API key and webhook secret), and a few customers
/// paying through it; the provider's notices reach lastmile at `base`, which settles them
/// as it settles any. Returns how many were paid at the provider.
pub async fn online(
    ctx: &ops::Ctx<'_>,
    tenant: TenantId,
    admin: UserId,
    base: &str,
    sim: &gateways::sim::SimGateway,
    (secret_key, webhook_secret): (&str, &str),
) -> Result<usize, SeedError> {
    let db = ctx.db;
    let actor = Actor::new(admin, Role::Admin, Some(tenant), PermissionSet::EMPTY);
    let author = || Author::user(admin, format!("demo:{admin}"), None);
    let secret_key = zeroize::Zeroizing::new(secret_key.to_owned());
    let webhook_secret = zeroize::Zeroizing::new(webhook_secret.to_owned());
    let input = ops::gateway::AccountInput {
        tenant_id: Some(tenant.0),
        provider: "generic".to_owned(),
        name: "Demo Pay (simulated)".to_owned(),
        base_url: sim.base_url(gateways::Provider::Generic),
        secret_key,
        webhook_secret,
        key_id: String::new(),
        username: String::new(),
    };
    let account = ops::gateway::add_account(ctx, &actor, author(), &input)
        .await
        .map_err(|e| SeedError::Data(format!("demo merchant account: {e}")))?;
    let client = gateways::Client::new().map_err(|e| SeedError::Data(e.to_string()))?;
    let customers = store::customer::list_ids(db.conn(), tenant, 200).await?;
    let mut paid = 0;
    for id in customers {
        if paid == 5 {
            break;
        }
        let input = ops::gateway::IntentInput {
            customer_id: id,
            gateway_account_id: account.id,
        };
        // Customers with nothing to pay, or disabled, are passed over.
        let Ok((intent, credentials)) = ops::gateway::begin(ctx, &actor, author(), input).await
        else {
            continue;
        };
        let Some(cfg) = web::billing::online::config(&credentials) else {
            continue;
        };
        let back = format!("{base}/pay/return/{}", intent.merchant_ref);
        let checkout = gateways::Checkout {
            merchant_ref: intent.merchant_ref.clone(),
            amount: intent.amount,
            currency: intent.currency.clone(),
            description: format!("Internet service {}", intent.merchant_ref),
            success_url: back.clone(),
            cancel_url: back,
            webhook_url: format!("{base}/hooks/payments/{}", account.id),
        };
        let created = client
            .create(&cfg, &checkout)
            .await
            .map_err(|e| SeedError::Data(format!("demo checkout: {e}")))?;
        op(ops::gateway::checkout_created(
            ctx,
            intent.id,
            &created.provider_payment_id,
            &created.redirect_url,
        )
        .await)?;
        sim.pay(&created.provider_payment_id)
            .await
            .map_err(SeedError::Data)?;
        paid += 1;
    }
    Ok(paid)
}
