//! The ledger's oracle for `money_sequences`: a pure in-memory book written from the posting
//! rules of billing-design.md §1.5–1.6 and the proration of §2 (half up to the taka, each
//! level pro-rated on its own, unused time credited at what its grant was paid), not from
//! the code under test. Balances are kept on each account's normal side.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

/// BDT amounts round to the whole taka.
const STEP: i64 = 100;

/// `amount × part / whole`, half up to a multiple of `step`; the whole amount for the whole.
pub fn prorate(amount: i64, part: i64, whole: i64, step: i64) -> i64 {
    if part == whole || amount == 0 {
        return amount;
    }
    let exact = i128::from(amount) * i128::from(part);
    let unit = i128::from(whole) * i128::from(step);
    i64::try_from((2 * exact + unit) / (2 * unit) * i128::from(step)).unwrap()
}

/// The tenant's VAT: rate in basis points, and whether prices include it.
#[derive(Debug, Clone, Copy)]
pub struct Vat {
    pub rate_bp: i64,
    pub inclusive: bool,
}

impl Vat {
    /// What the customer is charged for `price`, and the VAT in it.
    pub fn charge(self, price: i64) -> (i64, i64) {
        if self.inclusive {
            let net = prorate(price, 10_000, 10_000 + self.rate_bp, 1);
            (price, price - net)
        } else {
            let vat = prorate(price, self.rate_bp, 10_000, 1);
            (price + vat, vat)
        }
    }
}

/// A package along its chain, for one whole validity.
#[derive(Debug, Clone)]
pub struct Priced {
    pub id: i64,
    pub minutes: i64,
    pub price: i64,
    /// Each reseller's account and cost, the customer's own first.
    pub costs: Vec<(String, i64)>,
}

/// A sale (or the unused part of one) split along the chain.
#[derive(Debug, Clone)]
pub struct Sale {
    pub price: i64,
    pub vat: i64,
    pub costs: Vec<(String, i64)>,
}

impl Sale {
    pub fn of(p: &Priced, minutes: i64, vat: Vat) -> Self {
        let (price, vat) = vat.charge(prorate(p.price, minutes, p.minutes, STEP));
        Sale {
            price,
            vat,
            costs: p
                .costs
                .iter()
                .map(|(r, c)| (r.clone(), prorate(*c, minutes, p.minutes, STEP)))
                .collect(),
        }
    }

    pub fn part(&self, part: i64, whole: i64) -> Self {
        Sale {
            price: prorate(self.price, part, whole, STEP),
            vat: prorate(self.vat, part, whole, STEP),
            costs: self
                .costs
                .iter()
                .map(|(r, c)| (r.clone(), prorate(*c, part, whole, STEP)))
                .collect(),
        }
    }

    /// Each reseller's margin (what it sells for less what it owes up) and the owner's part.
    pub fn margins(&self) -> (Vec<(String, i64)>, i64) {
        let mut sells_for = self.price - self.vat;
        let margins = self
            .costs
            .iter()
            .map(|(r, c)| {
                let m = sells_for - c;
                sells_for = *c;
                (r.clone(), m)
            })
            .collect();
        (margins, sells_for)
    }
}

#[derive(Debug, Clone)]
pub struct Grant {
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub minutes: i64,
    pub sale: Sale,
}

#[derive(Debug, Clone)]
pub struct Customer {
    pub account: String,
    pub package: i64,
    pub expires: DateTime<Utc>,
    pub grants: Vec<Grant>,
}

/// What a recharge answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub amount: i64,
    pub cost: i64,
    pub credit: i64,
    pub wallet: i64,
    pub starts: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

/// The book as the rules say it must be. Balances are on each account's normal side.
#[derive(Debug, Clone)]
pub struct Model {
    pub now: DateTime<Utc>,
    pub vat: Vat,
    pub balance: BTreeMap<String, i64>,
    pub held: BTreeMap<String, i64>,
    /// Reseller floors (`None`: unlimited); a reseller without an entry is prepaid.
    pub floor: BTreeMap<String, Option<i64>>,
    pub cover: BTreeMap<String, String>,
    pub customers: BTreeMap<i64, Customer>,
    pub journals: i64,
}

/// Debit-normal accounts: their balance grows with debits.
pub fn debit_normal(account: &str) -> bool {
    account.starts_with("cash:") || account == "adjustments"
}

impl Model {
    pub fn bal(&self, account: &str) -> i64 {
        self.balance.get(account).copied().unwrap_or(0)
    }

    pub fn floor_of(&self, account: &str) -> Option<i64> {
        self.floor.get(account).copied().unwrap_or(Some(0))
    }

    pub fn available(&self, account: &str) -> Option<i64> {
        let held = self.held.get(account).copied().unwrap_or(0);
        self.floor_of(account).map(|f| self.bal(account) - held - f)
    }

    /// A debit (`amount > 0`) or credit (`amount < 0`) leg, as its effect on the balance.
    pub fn debit(&mut self, account: &str, amount: i64) {
        let effect = if debit_normal(account) {
            amount
        } else {
            -amount
        };
        *self.balance.entry(account.to_owned()).or_default() += effect;
    }

    pub fn credit(&mut self, account: &str, amount: i64) {
        self.debit(account, -amount);
    }

    /// Posts `sale` to `customer` (`sign` 1) or gives it back (`sign` −1).
    pub fn post_sale(&mut self, customer: &str, sale: &Sale, sign: i64) {
        let (margins, owner) = sale.margins();
        self.debit(customer, sign * sale.price);
        for (reseller, m) in margins {
            self.credit(&reseller, sign * m);
        }
        if sign > 0 {
            self.credit("revenue", owner);
        } else {
            self.debit("adjustments", owner);
        }
        self.credit("vat_payable", sign * sale.vat);
    }

    /// Moves the holds after a posting from `before`, and whether every floored reseller
    /// that was lowered (or made to hold more) can still spend.
    pub fn settle(&mut self, before: &Model) -> bool {
        let covered: Vec<(String, String)> = self
            .cover
            .iter()
            .map(|(a, c)| (a.clone(), c.clone()))
            .collect();
        let mut raised = Vec::new();
        for (account, cover) in covered {
            let more = (-self.bal(&account)).max(0) - (-before.bal(&account)).max(0);
            *self.held.entry(cover.clone()).or_default() += more;
            if more > 0 {
                raised.push(cover);
            }
        }
        let resellers: Vec<String> = self
            .balance
            .keys()
            .filter(|k| k.starts_with("reseller:"))
            .cloned()
            .collect();
        resellers
            .iter()
            .filter(|r| self.bal(r) < before.bal(r))
            .chain(raised.iter())
            .all(|r| self.available(r).is_none_or(|a| a >= 0))
    }

    /// A transfer of `amount` from `from` to reseller `to`: the book after, if allowed.
    pub fn topup(&self, from: &str, to: &str, amount: i64) -> Option<Model> {
        let mut after = self.clone();
        after.debit(from, amount);
        after.credit(to, amount);
        after.journals += 1;
        after.settle(self).then_some(after)
    }

    /// Reseller `account`'s terms set to `floor`, its overdraft covered by `cover`.
    pub fn terms(&self, account: &str, floor: Option<i64>, cover: Option<&str>) -> Option<Model> {
        let mut after = self.clone();
        let owed = (-self.bal(account)).max(0);
        let old = self.cover.get(account).cloned();
        if old.as_deref() != cover {
            if let Some(old) = &old {
                *after.held.entry(old.clone()).or_default() -= owed;
            }
            if let Some(new) = cover {
                *after.held.entry(new.to_owned()).or_default() += owed;
                if after.available(new).is_some_and(|a| a < 0) {
                    return None;
                }
            }
        }
        after.floor.insert(account.to_owned(), floor);
        match cover {
            Some(c) => after.cover.insert(account.to_owned(), c.to_owned()),
            None => after.cover.remove(account),
        };
        Some(after)
    }

    /// A recharge of `customer` with `minutes` (`None`: one validity) of `package`, paid
    /// through `collector`: what it answers, and the book after if it is allowed.
    pub fn recharge(
        &self,
        customer: i64,
        package: &Priced,
        minutes: Option<i64>,
        collector: &str,
    ) -> (Answer, Option<Model>) {
        let now = self.now;
        let c = &self.customers[&customer];
        let minutes = minutes.unwrap_or(package.minutes);
        let sale = Sale::of(package, minutes, self.vat);
        let stacked = c.package == package.id && c.expires > now;
        let starts = if stacked { c.expires } else { now };
        let credits: Vec<Sale> = if stacked {
            Vec::new()
        } else {
            c.grants
                .iter()
                .filter(|g| g.ends > now)
                .map(|g| {
                    let unused = (g.ends - now.max(g.starts))
                        .num_minutes()
                        .clamp(0, g.minutes);
                    g.sale.part(unused, g.minutes)
                })
                .collect()
        };
        let credit: i64 = credits.iter().map(|s| s.price).sum();
        // What the customer holds on account pays first.
        let due = (sale.price - credit).max(0);
        let wallet = self.bal(&c.account).clamp(0, due);
        let amount = due - wallet;
        let mut after = self.clone();
        for s in &credits {
            after.post_sale(&c.account, s, -1);
        }
        after.post_sale(&c.account, &sale, 1);
        if amount > 0 {
            after.debit(collector, amount);
            after.credit(&c.account, amount);
        }
        after.journals += 1;
        let expires = starts + TimeDelta::minutes(minutes);
        let cost = if debit_normal(collector) {
            after.bal(collector) - self.bal(collector)
        } else {
            self.bal(collector) - after.bal(collector)
        };
        let answer = Answer {
            amount,
            cost,
            credit,
            wallet,
            starts,
            expires,
        };
        let allowed = after.settle(self);
        let c = after.customers.get_mut(&customer).unwrap();
        if !stacked {
            c.grants.retain(|g| g.ends <= now);
        }
        c.grants.push(Grant {
            starts,
            ends: expires,
            minutes,
            sale,
        });
        c.package = package.id;
        c.expires = expires;
        (answer, allowed.then_some(after))
    }
}
