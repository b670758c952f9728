//! Paying online at the captive portal (hotspot-design §1.5): an account of the proved
//! mobile that must pay first pays through the tenant's first active merchant account
//! ([`pay`]: an intent for what it owes or one validity of its package, settled by the
//! provider's notice as every online payment is, `crate::gateway`); [`payment`] tells the
//! phone, back from the provider, where it stands. Another visit's payment is not found.

use chrono::TimeDelta;

use super::visit::{AUTHOR, Step, account_of};
use crate::Ctx;
use crate::error::OpError;
use domain::ids::TenantId;
use store::Author;

/// Online payments one account may start at the portal in an hour.
pub const PAYMENTS_PER_HOUR: usize = 5;

/// Whether the portal's phones may pay `step`'s tenant online.
pub async fn pays_online(ctx: &Ctx<'_>, step: &Step) -> Result<bool, OpError> {
    Ok(
        crate::gateway::portal_account(ctx, TenantId(step.tenant.id))
            .await?
            .is_some(),
    )
}

/// Starts an online payment for one of the proved mobile's accounts: what it owes, or one
/// validity of its package, through the tenant's first active merchant account. Refused
/// when the tenant takes none (`no_online_payment`), and past [`PAYMENTS_PER_HOUR`] for
/// the account. Returns the intent with the account's credentials for the checkout.
pub async fn pay(
    ctx: &Ctx<'_>,
    step: &Step,
    account: i64,
) -> Result<(store::gateway::Intent, crate::gateway::Credentials), OpError> {
    let customer = account_of(ctx, step, account).await?;
    let merchant = crate::gateway::portal_account(ctx, TenantId(step.tenant.id))
        .await?
        .ok_or_else(|| OpError::field("account", "no_online_payment"))?;
    let recent =
        store::gateway::intents_of(ctx.db.conn(), customer.id, PAYMENTS_PER_HOUR as u64).await?;
    let hour_ago = ctx.now - TimeDelta::hours(1);
    if recent.len() == PAYMENTS_PER_HOUR && recent.iter().all(|i| i.created_at > hour_ago) {
        let oldest = recent.iter().map(|i| i.created_at).min().unwrap_or(ctx.now);
        let wait = (oldest + TimeDelta::hours(1) - ctx.now)
            .num_seconds()
            .max(1);
        return Err(OpError::TooMany(u64::try_from(wait).unwrap_or(1)));
    }
    crate::gateway::open(ctx, Author::system(AUTHOR), &customer, merchant.id, None).await
}

/// The online payment `merchant_ref` of one of the proved mobile's accounts (another's is
/// not found).
pub async fn payment(
    ctx: &Ctx<'_>,
    step: &Step,
    merchant_ref: &str,
) -> Result<store::gateway::Intent, OpError> {
    let intent = crate::gateway::by_ref(ctx, merchant_ref).await?;
    account_of(ctx, step, intent.customer_id).await?;
    Ok(intent)
}
