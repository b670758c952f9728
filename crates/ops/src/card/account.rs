//! What card distributors pay for their cards, the database side (the rules are
//! `domain::card_account`): each move of cards, a batch handed over as it is made, and a
//! redemption settle their distributors in the same transaction, as ledger journals between
//! the distributor's account (`reseller:<id>`) and its parent's, and the cards remember who
//! paid for them ahead. A prepaid distributor that cannot pay for cards handed to it
//! refuses the hand-over (`distributor_balance_short`); a distributor past its credit
//! limit refuses the redemption of its cards (`seller_over_limit`).

use std::collections::HashMap;

use sha2::{Digest as _, Sha256};

use crate::error::OpError;
use domain::access::Role;
use domain::card_account::{self, Due, Moved};
use domain::field::{FieldError, FieldErrors};
use domain::ids::{TenantId, UserId};
use domain::ledger::{Account, AccountTerms, Journal, JournalKind, Leg};
use store::card::{Batch, Card};
use store::ledger::{PostMeta, Posted};
use store::tenant::Tenant;

/// A distributor and the reseller it pays.
#[derive(Debug, Clone, Copy)]
struct Payer {
    id: i64,
    parent: i64,
    prepaid: bool,
}

/// The distributor `user` as a payer, read in `w`; `None` when `user` is no card
/// distributor (resellers pay for their cards when they are redeemed, as recharges).
async fn payer(w: &store::Write, tenant: &Tenant, user: i64) -> Result<Option<Payer>, OpError> {
    let Some(found) = store::user::find_self(w.tx(), UserId(user)).await? else {
        return Ok(None);
    };
    if Role::from_level(found.role) != Some(Role::CardDistributor) {
        return Ok(None);
    }
    let parent = found
        .parent_id
        .ok_or_else(|| OpError::field("holder_id", "not_a_holder"))?;
    let account = store::ledger::find(
        w.tx(),
        TenantId(tenant.id),
        &tenant.currency,
        Account::Reseller(UserId(user)),
    )
    .await?;
    let terms = AccountTerms::of_floor(account.map_or(Some(0), |a| a.floor_amount));
    Ok(Some(Payer {
        id: user,
        parent,
        prepaid: terms == AccountTerms::Prepaid,
    }))
}

/// Posts in `w` the journal `key` moving `amount` from `from` to `to` (a card sale or
/// return); what a short balance refuses is the caller's to name.
#[allow(clippy::too_many_arguments)] // a journal's parts, each used once
async fn post(
    w: &mut store::Write,
    tenant: &Tenant,
    kind: JournalKind,
    key: String,
    (from, to): (Account, Account),
    amount: i64,
    memo: String,
) -> Result<i64, OpError> {
    let journal = Journal::new(
        kind,
        key,
        vec![Leg::debit(from, amount), Leg::credit(to, amount)],
        memo,
    )
    .map_err(|e| OpError::Internal(e.to_string()))?;
    let hash = hex::encode(Sha256::digest(format!(
        "{}|{}|{}|{amount}",
        kind.as_str(),
        from.key(),
        to.key()
    )));
    let meta = PostMeta {
        tenant: TenantId(tenant.id),
        currency: &tenant.currency,
        request_hash: &hash,
        customer_id: None,
        reverses: None,
    };
    Ok(match store::ledger::post(w, &meta, &journal).await? {
        Posted::New(id) | Posted::Replay(id) => id,
    })
}

fn fresh_key(prefix: &str) -> String {
    format!(
        "{prefix}:{}",
        store::crypto::random_text(b"0123456789abcdefghijklmnopqrstuvwxyz", 24)
    )
}

/// Posts in `w` what `payer` pays for `count` cards handed to it, `total` in all; a
/// balance that does not cover it refuses (`distributor_balance_short`, with what it may
/// spend).
async fn charge(
    w: &mut store::Write,
    tenant: &Tenant,
    payer: Payer,
    total: i64,
    count: usize,
) -> Result<(), OpError> {
    if total <= 0 {
        return Ok(());
    }
    let posted = post(
        w,
        tenant,
        JournalKind::CardSale,
        fresh_key("card-sale"),
        (
            Account::Reseller(UserId(payer.id)),
            Account::Reseller(UserId(payer.parent)),
        ),
        total,
        format!("{count} cards handed to the distributor"),
    )
    .await;
    match posted {
        Err(OpError::InsufficientBalance { available }) => Err(OpError::Invalid(FieldErrors::one(
            FieldError::new("holder_id", "distributor_balance_short").with("available", available),
        ))),
        other => other.map(|_| ()),
    }
}

/// Records on the cards of `due` what `payer` paid for each.
async fn mark_paid(w: &store::Write, payer: i64, due: &Due) -> Result<(), OpError> {
    let mut by_amount: HashMap<i64, Vec<i64>> = HashMap::new();
    for (card, amount) in &due.cards {
        by_amount.entry(*amount).or_default().push(*card);
    }
    for (amount, ids) in by_amount {
        store::card::set_paid(w, &ids, Some((payer, amount))).await?;
    }
    Ok(())
}

/// Settles in `w` the distributors of the cards a move left as `cards` (see
/// `domain::card_account::settle`): refunds first, so a card handed from one distributor
/// to another is paid back before it is paid for again.
pub(crate) async fn settle_moved(
    w: &mut store::Write,
    tenant: &Tenant,
    cards: &[Card],
) -> Result<(), OpError> {
    if cards.is_empty() {
        return Ok(());
    }
    let mut batches: Vec<i64> = cards.iter().map(|c| c.batch_id).collect();
    batches.sort_unstable();
    batches.dedup();
    let prices = store::card::prices(w.tx(), &batches).await?;
    let mut holders: Vec<i64> = cards.iter().filter_map(|c| c.holder_id).collect();
    holders.sort_unstable();
    holders.dedup();
    let mut payers = HashMap::new();
    for holder in holders {
        if let Some(p) = payer(w, tenant, holder).await? {
            payers.insert(holder, p);
        }
    }
    let moved: Vec<Moved> = cards
        .iter()
        .map(|c| {
            let (price, commission) = prices.get(&c.batch_id).copied().unwrap_or_default();
            Moved {
                id: c.id,
                holder: c.holder_id,
                state: c.state.get(),
                paid: c.paid_by.zip(c.paid),
                cost: card_account::cost(price, commission),
            }
        })
        .collect();
    let settlement = card_account::settle(&moved, |h| payers.get(&h).is_some_and(|p| p.prepaid));
    for (payer_id, due) in &settlement.refunds {
        let parent = match payers.get(payer_id) {
            Some(p) => p.parent,
            None => {
                let user = store::user::find_self(w.tx(), UserId(*payer_id))
                    .await?
                    .ok_or(OpError::NotFound)?;
                user.parent_id.ok_or(OpError::NotFound)?
            }
        };
        if due.total > 0 {
            post(
                w,
                tenant,
                JournalKind::CardReturn,
                fresh_key("card-return"),
                (
                    Account::Reseller(UserId(parent)),
                    Account::Reseller(UserId(*payer_id)),
                ),
                due.total,
                format!("{} cards back from the distributor", due.cards.len()),
            )
            .await?;
        }
        let ids: Vec<i64> = due.cards.iter().map(|(id, _)| *id).collect();
        store::card::set_paid(w, &ids, None).await?;
    }
    for (holder, due) in &settlement.charges {
        if let Some(p) = payers.get(holder) {
            charge(w, tenant, *p, due.total, due.cards.len()).await?;
            mark_paid(w, p.id, due).await?;
        }
    }
    Ok(())
}

/// Charges in `w` the holder of the new `batch` for its cards when it is a prepaid
/// distributor.
pub(crate) async fn settle_made(
    w: &mut store::Write,
    tenant: &Tenant,
    batch: &Batch,
    holder: i64,
) -> Result<(), OpError> {
    let Some(p) = payer(w, tenant, holder).await?.filter(|p| p.prepaid) else {
        return Ok(());
    };
    let cost = card_account::cost(batch.price, batch.commission);
    let count = usize::try_from(batch.quantity).unwrap_or_default();
    let total = cost.saturating_mul(i64::from(batch.quantity));
    charge(w, tenant, p, total, count).await?;
    store::card::set_paid_of_batch(w, batch.id, (p.id, cost)).await?;
    Ok(())
}

/// Charges in `w` the distributor holding `card` (of `batch`), redeemed now, unless it
/// paid for it ahead: under the key `card:<id>:sale`, so the card is charged once. A
/// distributor past its limit refuses (`seller_over_limit`).
pub(crate) async fn settle_redeemed(
    w: &mut store::Write,
    tenant: &Tenant,
    card: &Card,
    batch: &Batch,
) -> Result<(), OpError> {
    let Some(holder) = card.holder_id else {
        return Ok(());
    };
    if !card_account::charge_at_redemption(holder, card.paid_by) {
        return Ok(());
    }
    let Some(p) = payer(w, tenant, holder).await? else {
        return Ok(());
    };
    let cost = card_account::cost(batch.price, batch.commission);
    if cost > 0 {
        let posted = post(
            w,
            tenant,
            JournalKind::CardSale,
            format!("card:{}:sale", card.id),
            (
                Account::Reseller(UserId(p.id)),
                Account::Reseller(UserId(p.parent)),
            ),
            cost,
            format!("card {} redeemed", card.serial),
        )
        .await;
        if let Err(OpError::InsufficientBalance { .. }) = posted {
            return Err(OpError::field("pin", "seller_over_limit"));
        }
        posted?;
    }
    store::card::set_paid(w, &[card.id], Some((p.id, cost))).await?;
    Ok(())
}
