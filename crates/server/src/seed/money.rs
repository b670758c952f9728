//! The demo's money: the owner books funds to its operators, the first operator passes
//! some to its sub-operators and lends one of them credit, and every reseller recharges
//! some of its prepaid customers (a few onto another package, so the unused time is
//! credited), all through the same operations the panel and the API call.

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

/// Books the funds and makes the recharges; returns how many recharges were made.
pub async fn seed(
    db: &Db,
    hasher: &ops::auth::password::Hasher,
    now: DateTime<Utc>,
    people: &Resellers,
    customers: &[Customer],
    rng: &mut impl rand::Rng,
) -> Result<usize, SeedError> {
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
    let mut made = 0;
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
            Ok(_) => made += 1,
            // A reseller that ran out stops selling, as it would.
            Err(ops::OpError::InsufficientBalance { .. }) => {}
            Err(error) => return Err(SeedError::Data(format!("demo recharge: {error}"))),
        }
    }
    Ok(made)
}
