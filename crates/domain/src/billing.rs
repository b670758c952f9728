//! Recharge math (billing-design.md §1.5, §1.6, §2): what a customer pays for some minutes
//! of a package, how that money splits along the reseller chain ("funds flow down, margins
//! flow up"), what unused time of earlier grants is worth, the new expiry, and the journal
//! legs that record it all. Exact integers, half-up rounding to the currency's step; no
//! clock, no database.
//!
//! Departures from the reference system, on purpose: a package change credits the unused
//! time at what was *paid* for it (the stored grant), not at the old package's list price,
//! so custom prices and later price changes can neither mint nor destroy money; a credit
//! larger than the new charge stays on the customer's wallet instead of becoming a negative
//! payable, and what a wallet holds pays the next recharge before the collector takes
//! anything; a sale debits only the collector, and every reseller above it is credited its
//! margin, so only the collector's balance is a gate.

use chrono::{
    DateTime, Days, LocalResult, NaiveDateTime, Offset as _, SubsecRound as _, TimeDelta,
    TimeZone as _, Utc,
};
use chrono_tz::Tz;

use crate::field::{FieldError, FieldErrors};
use crate::ids::UserId;
use crate::ledger::{Account, Leg};
use crate::package::VALIDITY_MAX_MINUTES;

/// Minutes in a day: prices count nominal days, so a 23- or 25-hour day costs the same.
pub const DAY_MINUTES: i64 = 24 * 60;

/// The rounding step of amounts in `currency`, in minor units: one taka (100 poisha) for
/// BDT, as the reference rounds; one minor unit elsewhere.
pub fn rounding_step(currency: &str) -> i64 {
    if currency.eq_ignore_ascii_case("BDT") {
        100
    } else {
        1
    }
}

/// `price × part / whole`, rounded half up to a multiple of `step`; the whole price when
/// `part == whole` (a whole validity is never rounded). Inputs are not negative and
/// `whole > 0`.
pub fn prorate(price: i64, part: i64, whole: i64, step: i64) -> i64 {
    if part == whole || price == 0 {
        return price;
    }
    let step = i128::from(step.max(1));
    let num = i128::from(price) * i128::from(part);
    let den = i128::from(whole.max(1)) * step;
    let units = (num * 2 + den) / (den * 2);
    i64::try_from(units * step).unwrap_or(i64::MAX)
}

/// The VAT inside `gross` at `rate_bp` basis points (500 = 5%): `gross − round(gross / (1 +
/// rate))`, so `net + vat == gross` always.
pub fn vat_included(gross: i64, rate_bp: i64) -> i64 {
    if rate_bp <= 0 {
        return 0;
    }
    let num = i128::from(gross) * 10_000;
    let den = 10_000 + i128::from(rate_bp);
    let net = (num * 2 + den) / (den * 2);
    gross - i64::try_from(net).unwrap_or(gross)
}

/// VAT on a tenant's sales: the rate in basis points (500 = 5%), and whether prices include
/// it (the customer pays the price) or not (the customer pays the price plus VAT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vat {
    /// The rate, in basis points.
    pub rate_bp: i64,
    /// True when prices include it.
    pub inclusive: bool,
}

/// The highest VAT rate accepted: 100%.
pub const VAT_MAX_BP: i64 = 10_000;

impl Vat {
    /// The VAT asked for: a rate from 0 to 100% in basis points.
    pub fn parse(rate_bp: i64, inclusive: bool) -> Result<Self, FieldError> {
        if !(0..=VAT_MAX_BP).contains(&rate_bp) {
            return Err(FieldError::new("rate_bp", "out_of_range")
                .with("min", 0)
                .with("max", VAT_MAX_BP));
        }
        Ok(Self { rate_bp, inclusive })
    }

    /// What the customer is charged for `price`, and the VAT in it: the price itself when
    /// prices include VAT (the VAT carved out), else the price plus its VAT (rounded half
    /// up to the minor unit).
    pub fn charge(self, price: i64) -> (i64, i64) {
        if self.inclusive {
            (price, vat_included(price, self.rate_bp))
        } else {
            let vat = prorate(price, self.rate_bp, 10_000, 1);
            (price + vat, vat)
        }
    }
}

/// One reseller on a customer's chain and what it owes upward for its package's whole
/// validity (its package's cost price).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Level {
    /// The reseller.
    pub reseller: UserId,
    /// What it owes upward.
    pub cost: i64,
}

/// What a package costs along its chain, for its whole validity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceList {
    /// The customer price.
    pub price: i64,
    /// The package's validity in minutes.
    pub validity_minutes: i64,
    /// The resellers from the customer's own (lowest) up to the operator under the owner.
    pub levels: Vec<Level>,
    /// The VAT on the price.
    pub vat: Vat,
}

/// The most a customer's own price may be, in minor units.
pub const MAX_CUSTOM_PRICE: i64 = 1_000_000_000_000;

/// Checks `price` as a monthly customer's own price for one validity of the package whose
/// price list (along the customer's chain) is `list`: at least one minor unit, at most
/// [`MAX_CUSTOM_PRICE`], and, sold through resellers, no less (VAT out) than what its own
/// reseller owes upward for it, so that no margin comes out negative.
pub fn check_custom_price(price: i64, list: &PriceList) -> Result<(), FieldError> {
    if !(1..=MAX_CUSTOM_PRICE).contains(&price) {
        return Err(FieldError::new("custom_price", "out_of_range")
            .with("min", 1)
            .with("max", MAX_CUSTOM_PRICE));
    }
    let (charged, vat) = list.vat.charge(price);
    match list.levels.first() {
        Some(own) if charged - vat < own.cost => {
            Err(FieldError::new("custom_price", "below_cost").with("min_net", own.cost))
        }
        _ => Ok(()),
    }
}

/// A sale of some minutes split along the chain: the customer price, the VAT in it, and
/// what each reseller owes upward for it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Split {
    /// What the customer is charged.
    pub price: i64,
    /// The VAT inside it.
    pub vat: i64,
    /// Each reseller's cost, lowest first.
    pub levels: Vec<Level>,
}

impl Split {
    /// `list` pro-rated to `minutes`, each level independently (billing-design.md P1).
    pub fn of(list: &PriceList, minutes: i64, step: i64) -> Self {
        let whole = list.validity_minutes;
        let (price, vat) = list.vat.charge(prorate(list.price, minutes, whole, step));
        Split {
            price,
            vat,
            levels: list
                .levels
                .iter()
                .map(|l| Level {
                    reseller: l.reseller,
                    cost: prorate(l.cost, minutes, whole, step),
                })
                .collect(),
        }
    }

    /// The part of this split worth `part` of `whole` minutes (each amount pro-rated).
    pub fn part(&self, part: i64, whole: i64, step: i64) -> Self {
        Split {
            price: prorate(self.price, part, whole, step),
            vat: prorate(self.vat, part, whole, step),
            levels: self
                .levels
                .iter()
                .map(|l| Level {
                    reseller: l.reseller,
                    cost: prorate(l.cost, part, whole, step),
                })
                .collect(),
        }
    }

    /// What the owner earns: the top reseller's cost, or the net price when no reseller
    /// sells.
    pub fn revenue(&self) -> i64 {
        self.levels.last().map_or(self.net(), |l| l.cost)
    }

    /// The price without its VAT.
    pub fn net(&self) -> i64 {
        self.price - self.vat
    }

    /// Each reseller's margin: what it sells for (the net price, or the cost of the level
    /// below) minus what it owes upward. Negative when a price list undercuts itself.
    pub fn margins(&self) -> Vec<(UserId, i64)> {
        let mut sells_for = self.net();
        self.levels
            .iter()
            .map(|l| {
                let margin = sells_for - l.cost;
                sells_for = l.cost;
                (l.reseller, margin)
            })
            .collect()
    }

    /// The legs that record this sale to `customer`: the customer is debited the price, and
    /// every reseller its margin, the owner its revenue and the tax authority the VAT are
    /// credited. Together they balance.
    pub fn sale_legs(&self, customer: i64) -> Vec<Leg> {
        let mut legs = Vec::with_capacity(self.levels.len() + 3);
        legs.extend(Leg::signed(Account::Customer(customer), -self.price));
        for (reseller, margin) in self.margins() {
            legs.extend(Leg::signed(Account::Reseller(reseller), margin));
        }
        legs.extend(Leg::signed(Account::Revenue, self.revenue()));
        legs.extend(Leg::signed(Account::VatPayable, self.vat));
        legs
    }

    /// The legs that give this (unused) part back to `customer`: the customer is credited
    /// its price, every reseller gives back its margin, the owner's part goes to
    /// adjustments and the VAT comes off what is payable.
    pub fn credit_legs(&self, customer: i64) -> Vec<Leg> {
        let mut legs = Vec::with_capacity(self.levels.len() + 3);
        legs.extend(Leg::signed(Account::Customer(customer), self.price));
        for (reseller, margin) in self.margins() {
            legs.extend(Leg::signed(Account::Reseller(reseller), -margin));
        }
        // Adjustments is debit-normal: the owner's give-back is a debit to it.
        legs.extend(Leg::signed(Account::Adjustments, -self.revenue()));
        legs.extend(Leg::signed(Account::VatPayable, -self.vat));
        legs
    }
}

/// Time bought earlier and recorded: the minutes, when they run, and what was paid along
/// the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The package granted.
    pub package_id: i64,
    /// Its first instant.
    pub starts_at: DateTime<Utc>,
    /// Its end.
    pub ends_at: DateTime<Utc>,
    /// The minutes paid for.
    pub minutes: i64,
    /// What was paid, split.
    pub split: Split,
}

impl Grant {
    /// The minutes of it not yet used at `now` (whole minutes, at most those paid for).
    pub fn unused_minutes(&self, now: DateTime<Utc>) -> i64 {
        let from = now.max(self.starts_at);
        let left = (self.ends_at - from).num_minutes();
        left.clamp(0, self.minutes)
    }

    /// What its unused time is worth at `now`, at what was paid for it.
    pub fn unused(&self, now: DateTime<Utc>, step: i64) -> Split {
        self.split
            .part(self.unused_minutes(now), self.minutes.max(1), step)
    }
}

/// The end of `minutes` of service from `start` in `zone`: whole days are calendar days
/// (the same wall-clock time, RFC 5545: a time in a gap moves forward by the gap, an
/// ambiguous one takes its first occurrence), the rest exact minutes.
pub fn add_validity(start: DateTime<Utc>, minutes: i64, zone: Tz) -> DateTime<Utc> {
    let days = u64::try_from(minutes / DAY_MINUTES).unwrap_or(0);
    let rest = TimeDelta::minutes(minutes % DAY_MINUTES);
    let local = start.with_timezone(&zone).naive_local();
    let shifted = local
        .checked_add_days(Days::new(days))
        .map_or(start + TimeDelta::days(days as i64), |wall| {
            resolve(zone, wall)
        });
    shifted + rest
}

/// The instant of wall-clock time `wall` in `zone`: the first of two, or, for a time in a
/// gap, the time read with the offset in force before the gap (so it moves forward by the
/// gap's length).
fn resolve(zone: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&wall) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
        LocalResult::None => {
            let before = zone
                .offset_from_utc_datetime(&(wall - TimeDelta::days(1)))
                .fix();
            (wall - TimeDelta::seconds(i64::from(before.local_minus_utc()))).and_utc()
        }
    }
}

/// The most days a recharge may buy at once (ten years).
pub const MAX_DAYS: i64 = VALIDITY_MAX_MINUTES / DAY_MINUTES;

/// The minutes a recharge asks for: `days` and `hours`, or `None` for one whole validity
/// of the package when both are absent. At least an hour, at most ten years.
pub fn recharge_minutes(days: Option<i64>, hours: Option<i64>) -> Result<Option<i64>, FieldErrors> {
    if days.is_none() && hours.is_none() {
        return Ok(None);
    }
    let mut errors = FieldErrors::new();
    let days = days.unwrap_or(0);
    let hours = hours.unwrap_or(0);
    if !(0..=MAX_DAYS).contains(&days) {
        errors.push(
            FieldError::new("days", "out_of_range")
                .with("min", 0)
                .with("max", MAX_DAYS),
        );
    }
    if !(0..=MAX_DAYS * 24).contains(&hours) {
        errors.push(
            FieldError::new("hours", "out_of_range")
                .with("min", 0)
                .with("max", MAX_DAYS * 24),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let minutes = days * DAY_MINUTES + hours * 60;
    if minutes == 0 {
        return Err(FieldErrors::one(FieldError::new("days", "required")));
    }
    if minutes > VALIDITY_MAX_MINUTES {
        return Err(FieldErrors::one(
            FieldError::new("days", "out_of_range")
                .with("min", 0)
                .with("max", MAX_DAYS),
        ));
    }
    Ok(Some(minutes))
}

/// Who takes the customer's money, and so whose balance pays the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collector {
    /// A reseller, from its balance (the gate).
    Reseller(UserId),
    /// A staff user of the owner, in cash.
    Cash(UserId),
    /// A payment gateway's merchant account of the owner, online.
    Gateway(i64),
}

impl Collector {
    /// Its account.
    pub fn account(self) -> Account {
        match self {
            Collector::Reseller(u) => Account::Reseller(u),
            Collector::Cash(u) => Account::Cash(u),
            Collector::Gateway(g) => Account::GatewayClearing(g),
        }
    }
}

/// What a recharge will do: the time, the money and the legs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recharge {
    /// The package bought.
    pub package_id: i64,
    /// The minutes bought.
    pub minutes: i64,
    /// When the new time starts: the live expiry of the same package (stacked), else now.
    pub starts_at: DateTime<Utc>,
    /// The new expiry.
    pub expires_at: DateTime<Utc>,
    /// The sale, split along the chain.
    pub split: Split,
    /// What the unused time of each earlier grant gives back (a package change).
    pub credits: Vec<Split>,
    /// What the customer's wallet pays: what it holds, at most the price less the credit.
    pub wallet: i64,
    /// What the collector takes from the customer: the price less the credit and the
    /// wallet, never below zero (a larger credit stays on the customer's wallet).
    pub amount: i64,
    /// The grants whose unused time is credited (they end now).
    pub replaced: Vec<i64>,
    /// The legs, empty when nothing is paid (a free package).
    pub legs: Vec<Leg>,
}

/// The customer facts a recharge depends on.
#[derive(Debug, Clone)]
pub struct Current<'a> {
    /// The customer.
    pub customer: i64,
    /// Its package now.
    pub package_id: i64,
    /// Its expiry now.
    pub expires_at: Option<DateTime<Utc>>,
    /// Its grants that have not ended, with their ids.
    pub grants: &'a [(i64, Grant)],
    /// What it holds on account (prepaid credit; 0 when it owes).
    pub wallet: i64,
}

/// What is bought: some minutes (`None`: one whole validity) of a package priced `list`,
/// collected by `collector`, amounts rounded to `step`.
#[derive(Debug, Clone, Copy)]
pub struct Purchase<'a> {
    /// The package.
    pub package_id: i64,
    /// Its prices along the chain.
    pub list: &'a PriceList,
    /// The minutes, or one whole validity.
    pub minutes: Option<i64>,
    /// Who takes the money.
    pub collector: Collector,
    /// The currency's rounding step.
    pub step: i64,
}

/// Plans `purchase` for `current` at `now` in `zone`.
pub fn recharge(
    current: &Current<'_>,
    purchase: &Purchase<'_>,
    now: DateTime<Utc>,
    zone: Tz,
) -> Recharge {
    let Purchase {
        package_id,
        list,
        minutes,
        collector,
        step,
    } = *purchase;
    let minutes = minutes.unwrap_or(list.validity_minutes).max(1);
    let split = Split::of(list, minutes, step);
    let live_expiry = current.expires_at.filter(|e| *e > now);
    let stacked = current.package_id == package_id && live_expiry.is_some();
    // Whole seconds: what every engine stores exactly.
    let starts_at = if stacked {
        live_expiry.unwrap_or(now)
    } else {
        now
    }
    .trunc_subsecs(0);
    let (credits, replaced) = if stacked {
        (Vec::new(), Vec::new())
    } else {
        unused_credits(current.grants, now, step)
    };
    let credit: i64 = credits.iter().map(|c| c.price).sum();
    let due = (split.price - credit).max(0);
    let wallet = current.wallet.clamp(0, due);
    let amount = due - wallet;
    let mut legs: Vec<Leg> = credits
        .iter()
        .flat_map(|c| c.credit_legs(current.customer))
        .collect();
    legs.extend(split.sale_legs(current.customer));
    if amount > 0 {
        legs.push(Leg::debit(collector.account(), amount));
        legs.push(Leg::credit(Account::Customer(current.customer), amount));
    }
    Recharge {
        package_id,
        minutes,
        starts_at,
        expires_at: add_validity(starts_at, minutes, zone),
        split,
        credits,
        wallet,
        amount,
        replaced,
        legs,
    }
}

/// The unused value of each of `grants` that has not ended at `now` (each at what its own
/// chain was paid), and the grants it comes from.
fn unused_credits(
    grants: &[(i64, Grant)],
    now: DateTime<Utc>,
    step: i64,
) -> (Vec<Split>, Vec<i64>) {
    grants
        .iter()
        .filter(|(_, g)| g.ends_at > now)
        .map(|(id, g)| (g.unused(now, step), *id))
        .unzip()
}

impl Recharge {
    /// What the unused time credits in all.
    pub fn credit(&self) -> i64 {
        self.credits.iter().map(|c| c.price).sum()
    }
}

#[cfg(test)]
#[path = "billing_tests.rs"]
mod tests;
