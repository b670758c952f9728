//! The ledger's rules (billing-design.md §1): a double-entry book per tenant and currency.
//! Accounts are named by what they hold ([`Account`]); a [`Journal`] is a set of legs that
//! balance (debits equal credits), made here and only here, so the store can post nothing
//! unbalanced. Money moves only by journals; a mistake is corrected by a reversing journal,
//! never by editing one.
//!
//! Balances are read on the account's normal side: a liability (a reseller's funds, a
//! customer's wallet) or an income grows with credits, an asset (cash) with debits. A
//! floored account (a reseller's position) may not go below its floor: that is the gate a
//! sale must pass, checked by the store inside the write.

use crate::ids::UserId;

/// Which side of an account a leg goes to. Stored as −1 (debit) and +1 (credit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// Debit: raises assets and expenses, lowers liabilities and income.
    Debit,
    /// Credit: raises liabilities and income, lowers assets and expenses.
    Credit,
}

impl Side {
    /// −1 for a debit, +1 for a credit, as stored.
    pub fn sign(self) -> i64 {
        match self {
            Side::Debit => -1,
            Side::Credit => 1,
        }
    }

    /// The side stored as `sign`.
    pub fn from_sign(sign: i64) -> Option<Self> {
        match sign {
            -1 => Some(Side::Debit),
            1 => Some(Side::Credit),
            _ => None,
        }
    }
}

/// An account of a tenant's book (billing-design.md §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    /// A reseller's (operator's or sub-operator's) funds: positive is money it holds on
    /// account, negative what it owes. Floored: prepaid at 0, credit at −limit.
    Reseller(UserId),
    /// A customer's position: positive is prepaid credit (a wallet), negative an amount due.
    Customer(i64),
    /// Cash taken by a staff user of the tenant (the owner, a manager, staff).
    Cash(UserId),
    /// Owed to the tenant by a payment gateway (one of its merchant accounts) until it
    /// settles: online payments land here.
    GatewayClearing(i64),
    /// The owner's service revenue.
    Revenue,
    /// Credits given back for unused time, discounts and refunds (contra-revenue).
    Adjustments,
    /// Output VAT owed to the tax authority.
    VatPayable,
    /// Postpaid invoice value (without its VAT) issued to customers under resellers and not
    /// yet paid: split along the chain as the customer pays.
    Billed,
    /// Opening balances and imports.
    Opening,
}

/// The kind of an account, as stored beside its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountKind {
    /// [`Account::Reseller`].
    Reseller,
    /// [`Account::Customer`].
    Customer,
    /// [`Account::Cash`].
    Cash,
    /// [`Account::GatewayClearing`].
    GatewayClearing,
    /// [`Account::Revenue`].
    Revenue,
    /// [`Account::Adjustments`].
    Adjustments,
    /// [`Account::VatPayable`].
    VatPayable,
    /// [`Account::Billed`].
    Billed,
    /// [`Account::Opening`].
    Opening,
}

impl AccountKind {
    /// Every kind.
    pub const ALL: [AccountKind; 9] = [
        Self::Reseller,
        Self::Customer,
        Self::Cash,
        Self::GatewayClearing,
        Self::Revenue,
        Self::Adjustments,
        Self::VatPayable,
        Self::Billed,
        Self::Opening,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reseller => "reseller",
            Self::Customer => "customer",
            Self::Cash => "cash",
            Self::GatewayClearing => "gateway_clearing",
            Self::Revenue => "revenue",
            Self::Adjustments => "adjustments",
            Self::VatPayable => "vat_payable",
            Self::Billed => "billed",
            Self::Opening => "opening",
        }
    }

    /// The kind stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl Account {
    /// Its kind.
    pub fn kind(self) -> AccountKind {
        match self {
            Account::Reseller(_) => AccountKind::Reseller,
            Account::Customer(_) => AccountKind::Customer,
            Account::Cash(_) => AccountKind::Cash,
            Account::GatewayClearing(_) => AccountKind::GatewayClearing,
            Account::Revenue => AccountKind::Revenue,
            Account::Adjustments => AccountKind::Adjustments,
            Account::VatPayable => AccountKind::VatPayable,
            Account::Billed => AccountKind::Billed,
            Account::Opening => AccountKind::Opening,
        }
    }

    /// The party it belongs to: the reseller, the customer or the staff user.
    pub fn party(self) -> Option<i64> {
        match self {
            Account::Reseller(u) | Account::Cash(u) => Some(u.0),
            Account::Customer(c) | Account::GatewayClearing(c) => Some(c),
            _ => None,
        }
    }

    /// The account of `kind` for `party`, if the two fit.
    pub fn of(kind: AccountKind, party: Option<i64>) -> Option<Self> {
        Some(match (kind, party) {
            (AccountKind::Reseller, Some(p)) => Account::Reseller(UserId(p)),
            (AccountKind::Customer, Some(p)) => Account::Customer(p),
            (AccountKind::Cash, Some(p)) => Account::Cash(UserId(p)),
            (AccountKind::GatewayClearing, Some(p)) => Account::GatewayClearing(p),
            (AccountKind::Revenue, None) => Account::Revenue,
            (AccountKind::Adjustments, None) => Account::Adjustments,
            (AccountKind::VatPayable, None) => Account::VatPayable,
            (AccountKind::Billed, None) => Account::Billed,
            (AccountKind::Opening, None) => Account::Opening,
            _ => return None,
        })
    }

    /// The key that names it in its book, unique per tenant and currency (`reseller:42`,
    /// `revenue`).
    pub fn key(self) -> String {
        match self.party() {
            Some(party) => format!("{}:{party}", self.kind().as_str()),
            None => self.kind().as_str().to_owned(),
        }
    }

    /// The side its balance grows on.
    pub fn normal(self) -> Side {
        match self {
            Account::Cash(_) | Account::GatewayClearing(_) | Account::Adjustments => Side::Debit,
            _ => Side::Credit,
        }
    }
}

/// What a journal records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JournalKind {
    /// A recharge: the customer buys time, the chain takes its margins.
    Recharge,
    /// Funds moved down to a reseller (by the owner, who received them, or by its parent).
    Topup,
    /// A reversal of another journal.
    Reversal,
    /// A postpaid invoice issued: the customer owes it.
    Invoice,
    /// A payment taken from a customer, and its split along the chain.
    Payment,
    /// A credit note: part of an invoice's amount due taken off, with its VAT.
    CreditNote,
    /// A card distributor pays its parent for cards (handed to it, or redeemed).
    CardSale,
    /// A card distributor paid back for cards that left it unredeemed.
    CardReturn,
}

impl JournalKind {
    /// Every kind.
    pub const ALL: [JournalKind; 8] = [
        Self::Recharge,
        Self::Topup,
        Self::Reversal,
        Self::Invoice,
        Self::Payment,
        Self::CreditNote,
        Self::CardSale,
        Self::CardReturn,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recharge => "recharge",
            Self::Topup => "topup",
            Self::Reversal => "reversal",
            Self::Invoice => "invoice",
            Self::Payment => "payment",
            Self::CreditNote => "credit_note",
            Self::CardSale => "card_sale",
            Self::CardReturn => "card_return",
        }
    }

    /// The kind stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One leg of a journal: an amount (positive) to one side of one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leg {
    /// The account.
    pub account: Account,
    /// The side.
    pub side: Side,
    /// The amount, in minor units, above zero.
    pub amount: i64,
}

impl Leg {
    /// A debit of `amount` to `account`.
    pub fn debit(account: Account, amount: i64) -> Self {
        Self {
            account,
            side: Side::Debit,
            amount,
        }
    }

    /// A credit of `amount` to `account`.
    pub fn credit(account: Account, amount: i64) -> Self {
        Self {
            account,
            side: Side::Credit,
            amount,
        }
    }

    /// A credit of `amount` when positive, a debit of its opposite when negative, nothing
    /// at zero (a margin that came out negative is taken back, not credited).
    pub fn signed(account: Account, amount: i64) -> Option<Self> {
        match amount {
            0 => None,
            a if a > 0 => Some(Self::credit(account, a)),
            a => Some(Self::debit(account, a.checked_neg()?)),
        }
    }

    /// What the leg does to the account's balance on its normal side.
    pub fn effect(self) -> i64 {
        if self.side == self.account.normal() {
            self.amount
        } else {
            -self.amount
        }
    }
}

/// Why legs do not make a journal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// No legs at all.
    #[error("a journal needs legs")]
    Empty,
    /// A leg of zero or less.
    #[error("a leg's amount must be above zero")]
    NotPositive,
    /// Debits and credits differ (or overflow).
    #[error("debits {debits} and credits {credits} differ")]
    Unbalanced {
        /// Σ debits.
        debits: i64,
        /// Σ credits.
        credits: i64,
    },
}

/// A balanced set of legs under an idempotency key: the only thing the store posts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Journal {
    kind: JournalKind,
    key: String,
    legs: Vec<Leg>,
    memo: String,
}

impl Journal {
    /// A journal of `legs` if they balance and each is above zero. `key` makes posting it
    /// idempotent: the same key posts once.
    pub fn new(
        kind: JournalKind,
        key: impl Into<String>,
        legs: Vec<Leg>,
        memo: impl Into<String>,
    ) -> Result<Self, JournalError> {
        if legs.is_empty() {
            return Err(JournalError::Empty);
        }
        if legs.iter().any(|l| l.amount <= 0) {
            return Err(JournalError::NotPositive);
        }
        let sum = |side: Side| {
            legs.iter()
                .filter(|l| l.side == side)
                .try_fold(0i64, |acc, l| acc.checked_add(l.amount))
        };
        match (sum(Side::Debit), sum(Side::Credit)) {
            (Some(debits), Some(credits)) if debits == credits => Ok(Self {
                kind,
                key: key.into(),
                legs,
                memo: memo.into(),
            }),
            (debits, credits) => Err(JournalError::Unbalanced {
                debits: debits.unwrap_or(i64::MAX),
                credits: credits.unwrap_or(i64::MAX),
            }),
        }
    }

    /// What it records.
    pub fn kind(&self) -> JournalKind {
        self.kind
    }

    /// Its idempotency key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Its legs, in the order given.
    pub fn legs(&self) -> &[Leg] {
        &self.legs
    }

    /// Its memo.
    pub fn memo(&self) -> &str {
        &self.memo
    }

    /// The net change it makes to each account's normal balance, by account (sorted): the
    /// order the store locks and updates them in.
    pub fn net(&self) -> Vec<(Account, AccountMove)> {
        let mut moves: Vec<(Account, AccountMove)> = Vec::new();
        for leg in &self.legs {
            let at = match moves.binary_search_by(|(a, _)| a.cmp(&leg.account)) {
                Ok(i) => i,
                Err(i) => {
                    moves.insert(i, (leg.account, AccountMove::default()));
                    i
                }
            };
            let entry = &mut moves[at].1;
            match leg.side {
                Side::Debit => entry.debits += leg.amount,
                Side::Credit => entry.credits += leg.amount,
            }
        }
        moves
    }

    /// The journal that undoes this one: every leg on the other side, under `key`.
    pub fn reversal(&self, key: impl Into<String>) -> Self {
        let legs = self
            .legs
            .iter()
            .map(|l| Leg {
                side: match l.side {
                    Side::Debit => Side::Credit,
                    Side::Credit => Side::Debit,
                },
                ..*l
            })
            .collect();
        Self {
            kind: JournalKind::Reversal,
            key: key.into(),
            legs,
            memo: format!("reversal of {}", self.key),
        }
    }
}

/// What a journal adds to one account's debits and credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccountMove {
    /// Σ debits to the account.
    pub debits: i64,
    /// Σ credits to the account.
    pub credits: i64,
}

impl AccountMove {
    /// The change to a balance read on `normal`'s side.
    pub fn effect(self, normal: Side) -> i64 {
        match normal {
            Side::Credit => self.credits - self.debits,
            Side::Debit => self.debits - self.credits,
        }
    }
}

/// How a reseller may spend (reference: "debit" and "credit" accounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountTerms {
    /// Only what it holds: the balance may not go below zero.
    Prepaid,
    /// On credit: the balance may go down to −limit, or without a floor when `None`.
    Credit(Option<i64>),
}

impl AccountTerms {
    /// The lowest balance allowed; `None` for no floor.
    pub fn floor(self) -> Option<i64> {
        match self {
            AccountTerms::Prepaid => Some(0),
            AccountTerms::Credit(limit) => limit.map(|l| -l),
        }
    }

    /// The terms an account with `floor` has (a floor of 0 is prepaid).
    pub fn of_floor(floor: Option<i64>) -> Self {
        match floor {
            Some(0) => AccountTerms::Prepaid,
            Some(f) => AccountTerms::Credit(Some(f.saturating_neg())),
            None => AccountTerms::Credit(None),
        }
    }

    /// `prepaid` or `credit`.
    pub fn type_name(self) -> &'static str {
        match self {
            AccountTerms::Prepaid => "prepaid",
            AccountTerms::Credit(_) => "credit",
        }
    }

    /// The terms asked for as `account_type` and `credit_limit` (`None` = unlimited).
    pub fn parse(
        account_type: &str,
        credit_limit: Option<i64>,
    ) -> Result<Self, crate::field::FieldError> {
        use crate::field::FieldError;
        match account_type {
            "prepaid" => Ok(AccountTerms::Prepaid),
            "credit" => match credit_limit {
                Some(l) if l < 0 => Err(FieldError::new("credit_limit", "negative")),
                Some(l) if l > crate::money::MAX_AMOUNT => {
                    Err(FieldError::new("credit_limit", "out_of_range")
                        .with("min", 0)
                        .with("max", crate::money::MAX_AMOUNT))
                }
                limit => Ok(AccountTerms::Credit(limit)),
            },
            _ => Err(FieldError::new("account_type", "invalid_choice")),
        }
    }
}

/// What an account may still spend: its balance above its floor (`None`: no floor).
pub fn available(balance: i64, floor: Option<i64>) -> Option<i64> {
    floor.map(|f| balance.saturating_sub(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_journal_must_balance_with_legs_above_zero() {
        let s = Account::Reseller(UserId(3));
        assert_eq!(
            Journal::new(JournalKind::Topup, "k", vec![], "").unwrap_err(),
            JournalError::Empty
        );
        assert_eq!(
            Journal::new(
                JournalKind::Topup,
                "k",
                vec![Leg::debit(Account::Cash(UserId(1)), 5), Leg::credit(s, 4)],
                ""
            )
            .unwrap_err(),
            JournalError::Unbalanced {
                debits: 5,
                credits: 4
            }
        );
        assert_eq!(
            Journal::new(
                JournalKind::Topup,
                "k",
                vec![Leg::debit(Account::Cash(UserId(1)), 0), Leg::credit(s, 0)],
                ""
            )
            .unwrap_err(),
            JournalError::NotPositive
        );
        assert!(
            Journal::new(
                JournalKind::Topup,
                "k",
                vec![
                    Leg::debit(Account::Cash(UserId(1)), i64::MAX),
                    Leg::debit(Account::Cash(UserId(1)), 1),
                    Leg::credit(s, 1)
                ],
                ""
            )
            .is_err()
        );
    }

    #[test]
    fn keys_name_the_account_and_read_back() {
        for account in [
            Account::Reseller(UserId(42)),
            Account::Customer(7),
            Account::Cash(UserId(1)),
            Account::Revenue,
            Account::Adjustments,
            Account::VatPayable,
            Account::Opening,
        ] {
            assert_eq!(Account::of(account.kind(), account.party()), Some(account));
            assert_eq!(
                AccountKind::parse(account.kind().as_str()),
                Some(account.kind())
            );
        }
        assert_eq!(Account::Reseller(UserId(42)).key(), "reseller:42");
        assert_eq!(Account::Revenue.key(), "revenue");
        assert_eq!(Account::of(AccountKind::Revenue, Some(1)), None);
    }

    #[test]
    fn terms_are_floors() {
        assert_eq!(AccountTerms::Prepaid.floor(), Some(0));
        assert_eq!(AccountTerms::Credit(Some(500)).floor(), Some(-500));
        assert_eq!(AccountTerms::Credit(None).floor(), None);
        for terms in [
            AccountTerms::Prepaid,
            AccountTerms::Credit(Some(500)),
            AccountTerms::Credit(None),
        ] {
            assert_eq!(AccountTerms::of_floor(terms.floor()), terms);
        }
        assert_eq!(
            AccountTerms::parse("credit", Some(-1)).unwrap_err().code,
            "negative"
        );
        assert_eq!(
            AccountTerms::parse("gold", None).unwrap_err().code,
            "invalid_choice"
        );
        assert_eq!(available(300, Some(-500)), Some(800));
        assert_eq!(available(300, None), None);
    }

    fn account() -> impl Strategy<Value = Account> {
        prop_oneof![
            (1i64..4).prop_map(|u| Account::Reseller(UserId(u))),
            (1i64..4).prop_map(Account::Customer),
            Just(Account::Revenue),
            Just(Account::Cash(UserId(1))),
        ]
    }

    proptest! {
        #[test]
        fn the_net_moves_of_a_balanced_journal_sum_to_zero(
            legs in proptest::collection::vec((account(), 1i64..1_000_000), 1..8),
            sink in account(),
        ) {
            // Debit each account, credit the sink the total: always balanced.
            let total: i64 = legs.iter().map(|(_, a)| a).sum();
            let mut all: Vec<Leg> = legs.iter().map(|(a, n)| Leg::debit(*a, *n)).collect();
            all.push(Leg::credit(sink, total));
            let journal = Journal::new(JournalKind::Topup, "k", all, "").unwrap();
            let signed: i64 = journal
                .net()
                .iter()
                .map(|(_, m)| m.credits - m.debits)
                .sum();
            prop_assert_eq!(signed, 0);
            let accounts: Vec<Account> = journal.net().iter().map(|(a, _)| *a).collect();
            let mut sorted = accounts.clone();
            sorted.sort();
            sorted.dedup();
            prop_assert_eq!(accounts, sorted);
            // Its reversal undoes every account's move.
            let back = journal.reversal("r");
            for ((a, m), (b, n)) in journal.net().iter().zip(back.net().iter()) {
                prop_assert_eq!(a, b);
                prop_assert_eq!(m.debits, n.credits);
                prop_assert_eq!(m.credits, n.debits);
            }
        }
    }
}
