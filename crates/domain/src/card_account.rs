//! What card distributors pay for their cards (hotspot-design §3.3, billing-design §1.5),
//! the rules. A distributor sells cards for their face price and keeps its batch's
//! commission; it owes the rest, the card's *cost*, to the reseller above it (its parent,
//! an operator or sub-operator), whose balance then pays the chain when the card is
//! redeemed, as for any recharge that reseller makes. When the cost moves depends on the
//! distributor's account terms (`crate::ledger::AccountTerms`):
//!
//! - **prepaid**: it pays for its cards when it is handed them, from what it holds: a
//!   hand-over it cannot pay for is refused;
//! - **on credit** (the reference's consignment): it owes each card's cost when the card is
//!   redeemed, up to its credit limit: past the limit its cards stop redeeming until it pays.
//!
//! A card paid for ahead remembers who paid and how much. It is refunded to that
//! distributor when it leaves it unredeemed (taken back, handed to another holder, or
//! voided), and never charged again when it is redeemed; suspending it moves no money. A card that expires unsold is not
//! refunded: the distributor held it for its whole life. Every move of money is a ledger
//! journal between the distributor's account and its parent's.

use std::collections::BTreeMap;

use crate::card::State;
use crate::field::FieldError;

/// What a distributor pays for a card of face `price` with `commission` kept: never below
/// zero.
pub fn cost(price: i64, commission: i64) -> i64 {
    price.saturating_sub(commission).max(0)
}

/// A batch's commission as asked: absent is none; it may not be negative nor above the
/// face `price`.
pub fn check_commission(price: i64, commission: Option<i64>) -> Result<i64, FieldError> {
    match commission {
        None => Ok(0),
        Some(c) if c < 0 => Err(FieldError::new("commission", "negative")),
        Some(c) if c > price => {
            Err(FieldError::new("commission", "above_price").with("max", price))
        }
        Some(c) => Ok(c),
    }
}

/// A card a move took, as the move left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    /// The card.
    pub id: i64,
    /// Who holds it now (`None`: the tenant's stock).
    pub holder: Option<i64>,
    /// Its state now.
    pub state: State,
    /// Who paid for it ahead, and how much.
    pub paid: Option<(i64, i64)>,
    /// What a distributor pays for it.
    pub cost: i64,
}

/// What one distributor gets back or pays for a move: the cards and their sum.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Due {
    /// Each card with its amount.
    pub cards: Vec<(i64, i64)>,
    /// Their sum.
    pub total: i64,
}

impl Due {
    fn add(&mut self, card: i64, amount: i64) {
        self.cards.push((card, amount));
        self.total = self.total.saturating_add(amount);
    }
}

/// What a move owes, by distributor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settlement {
    /// Refunds to who paid ahead for a card that left it unredeemed.
    pub refunds: BTreeMap<i64, Due>,
    /// Charges to the prepaid distributors now holding cards they have not paid for.
    pub charges: BTreeMap<i64, Due>,
}

/// What the cards `moved` owe (see the module documentation); `prepaid` says whether a
/// holder is a distributor that pays ahead.
pub fn settle(moved: &[Moved], prepaid: impl Fn(i64) -> bool) -> Settlement {
    let mut out = Settlement::default();
    for card in moved {
        let live = matches!(card.state, State::Assigned | State::Sold);
        let kept_state = live || card.state == State::Suspended;
        let kept = match card.paid {
            Some((by, amount)) if card.holder != Some(by) || !kept_state => {
                out.refunds.entry(by).or_default().add(card.id, amount);
                false
            }
            Some(_) => true,
            None => false,
        };
        if let Some(holder) = card.holder
            && !kept
            && live
            && prepaid(holder)
        {
            out.charges
                .entry(holder)
                .or_default()
                .add(card.id, card.cost);
        }
    }
    out
}

/// Whether redeeming a card held by a distributor charges it now: unless that very
/// distributor paid for it ahead.
pub fn charge_at_redemption(holder: i64, paid_by: Option<i64>) -> bool {
    paid_by != Some(holder)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(id: i64, holder: Option<i64>, state: State, paid: Option<(i64, i64)>) -> Moved {
        Moved {
            id,
            holder,
            state,
            paid,
            cost: 480,
        }
    }

    const D: i64 = 7;
    const E: i64 = 8;

    #[test]
    fn cost_and_commission() {
        assert_eq!(cost(500, 20), 480);
        assert_eq!(cost(500, 600), 0);
        assert_eq!(check_commission(500, None), Ok(0));
        assert_eq!(check_commission(500, Some(500)), Ok(500));
        assert_eq!(
            check_commission(500, Some(-1)).unwrap_err().code,
            "negative"
        );
        assert_eq!(
            check_commission(500, Some(501)).unwrap_err().code,
            "above_price"
        );
    }

    #[test]
    fn a_prepaid_distributor_pays_for_cards_handed_to_it() {
        let moved = [
            card(1, Some(D), State::Assigned, None),
            card(2, Some(D), State::Assigned, None),
        ];
        let s = settle(&moved, |h| h == D);
        assert!(s.refunds.is_empty());
        assert_eq!(s.charges[&D].total, 960);
        assert_eq!(s.charges[&D].cards, vec![(1, 480), (2, 480)]);
        // A distributor on credit pays at redemption instead.
        assert_eq!(settle(&moved, |_| false), Settlement::default());
    }

    #[test]
    fn a_card_leaving_its_payer_unredeemed_is_refunded() {
        let moved = [
            // Taken back to the operator's stock.
            card(1, Some(2), State::Assigned, Some((D, 480))),
            // Voided.
            card(2, None, State::Void, Some((D, 470))),
            // Handed from D to E, a prepaid distributor: D refunded, E charged.
            card(3, Some(E), State::Assigned, Some((D, 480))),
            // Suspended and resumed, or sold, with D: nothing moves.
            card(4, Some(D), State::Sold, Some((D, 480))),
        ];
        let s = settle(&moved, |h| h == D || h == E);
        assert_eq!(s.refunds[&D].total, 480 + 470 + 480);
        assert_eq!(s.refunds.len(), 1);
        assert_eq!(s.charges[&E].cards, vec![(3, 480)]);
        assert!(!s.charges.contains_key(&D));
    }

    #[test]
    fn a_suspended_card_stays_paid_for() {
        // Suspending holds a card back with its holder: no money moves either way.
        let suspended = [card(1, Some(D), State::Suspended, Some((D, 480)))];
        assert_eq!(settle(&suspended, |_| true), Settlement::default());
        let resumed = [card(1, Some(D), State::Assigned, Some((D, 480)))];
        assert_eq!(settle(&resumed, |_| true), Settlement::default());
        // A card held on credit and suspended is not charged.
        let unpaid = [card(1, Some(D), State::Suspended, None)];
        assert_eq!(settle(&unpaid, |_| true), Settlement::default());
    }

    #[test]
    fn redemption_charges_unless_paid_by_the_holder() {
        assert!(charge_at_redemption(D, None));
        assert!(charge_at_redemption(D, Some(E)));
        assert!(!charge_at_redemption(D, Some(D)));
    }
}
