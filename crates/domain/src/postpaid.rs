//! Monthly postpaid billing (billing-design.md §1.6 "Postpaid monthly invoice", §2.3, §5):
//! the tenant's terms (the day periods start, the days to pay, the grace before suspension,
//! the days before an expiry or a due date that a reminder goes out), the period a day falls
//! in, what a period's invoice charges (by days, for a customer that joined mid-period), the
//! legs that issue it, and the legs that split a payment along the chain as it comes in.
//!
//! Invoices are issued in advance for the period that starts on the billing day. The
//! customer owes the gross from the issue, and the VAT is payable from the issue (the tax
//! point). Under resellers the net waits in [`Account::Billed`] until paid: each payment
//! moves its share (the paid fraction of every level, cumulated, less what earlier payments
//! moved) to the resellers' margins and the owner's revenue, so that a reseller earns its
//! margin only on money collected. A customer of the owner's own earns revenue at issue.

use chrono::{Datelike as _, Months, NaiveDate, TimeDelta};

use crate::billing::Split;
use crate::field::{FieldError, FieldErrors};
use crate::ledger::{Account, Leg};

/// The day of the month a billing period starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingDay {
    /// This day (1 to 28: every month has it).
    Day(u8),
    /// The month's last day.
    Last,
}

impl BillingDay {
    /// The day stored as `n` (0 is the last day).
    pub fn from_stored(n: i16) -> Self {
        match n {
            1..=28 => Self::Day(n as u8),
            _ => Self::Last,
        }
    }

    /// How it is stored (0 for the last day).
    pub fn stored(self) -> i16 {
        match self {
            Self::Day(d) => i16::from(d),
            Self::Last => 0,
        }
    }

    /// The day read from `text`: `1` to `28`, or `last`.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("last") {
            return Ok(Self::Last);
        }
        match text.parse::<u8>() {
            Ok(d @ 1..=28) => Ok(Self::Day(d)),
            _ => Err(FieldError::new("billing_day", "invalid")),
        }
    }

    /// How it reads (`1` … `28`, `last`).
    pub fn text(self) -> String {
        match self {
            Self::Day(d) => d.to_string(),
            Self::Last => "last".to_owned(),
        }
    }

    /// This day in the month of `year` and `month`.
    pub fn in_month(self, year: i32, month: u32) -> NaiveDate {
        let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN);
        match self {
            Self::Day(d) => first.with_day(u32::from(d)).unwrap_or(first),
            Self::Last => first
                .checked_add_months(Months::new(1))
                .and_then(|next| next.pred_opt())
                .unwrap_or(first),
        }
    }
}

/// A tenant's postpaid terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    /// The day periods start (and invoices are issued).
    pub billing_day: BillingDay,
    /// Days from the issue to the due date.
    pub due_days: u32,
    /// Days after the due date before an unpaid customer is suspended.
    pub grace_days: u32,
    /// Days before an expiry or a due date that a reminder is queued (0: none).
    pub remind_days: u32,
}

/// The most days any of the terms may be.
pub const MAX_DAYS: u32 = 90;

impl Default for Terms {
    fn default() -> Self {
        Self {
            billing_day: BillingDay::Day(1),
            due_days: 7,
            grace_days: 3,
            remind_days: 3,
        }
    }
}

impl Terms {
    /// Terms from their parts as given, each checked: the days are 0 to [`MAX_DAYS`].
    pub fn parse(
        billing_day: &str,
        due_days: i64,
        grace_days: i64,
        remind_days: i64,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let day = errors.take(BillingDay::parse(billing_day));
        let days = |field: &'static str, n: i64| match u32::try_from(n) {
            Ok(n) if n <= MAX_DAYS => Ok(n),
            _ => Err(FieldError::new(field, "out_of_range")
                .with("min", 0)
                .with("max", MAX_DAYS)),
        };
        let due_days = errors.take(days("due_days", due_days));
        let grace_days = errors.take(days("grace_days", grace_days));
        let remind_days = errors.take(days("remind_days", remind_days));
        errors.finish(|| {
            Some(Self {
                billing_day: day?,
                due_days: due_days?,
                grace_days: grace_days?,
                remind_days: remind_days?,
            })
        })
    }

    /// The local date an invoice issued on `issued` falls due (at the midnight that begins
    /// it).
    pub fn due_date(&self, issued: NaiveDate) -> NaiveDate {
        issued + TimeDelta::days(i64::from(self.due_days))
    }

    /// The local date from which an invoice due on `due` leaves its customer suspended.
    pub fn suspend_date(&self, due: NaiveDate) -> NaiveDate {
        due + TimeDelta::days(i64::from(self.grace_days))
    }
}

/// A billing period: from `start` up to (not including) `end`, local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Its first day.
    pub start: NaiveDate,
    /// The day after its last.
    pub end: NaiveDate,
}

impl Period {
    /// How many days it has.
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days()
    }

    /// The period `day` falls in, for periods starting on `billing_day`.
    pub fn of(day: NaiveDate, billing_day: BillingDay) -> Self {
        let this = billing_day.in_month(day.year(), day.month());
        let shift = |d: NaiveDate, forward: bool| {
            let month = if forward {
                d.checked_add_months(Months::new(1))
            } else {
                d.checked_sub_months(Months::new(1))
            }
            .unwrap_or(d);
            billing_day.in_month(month.year(), month.month())
        };
        if day >= this {
            Self {
                start: this,
                end: shift(this, true),
            }
        } else {
            Self {
                start: shift(this, false),
                end: this,
            }
        }
    }
}

/// What the invoice for `period` charges a customer whose service began on `joined`: the
/// whole month's `full` split, or its part by days when it joined during the period. `None`
/// when it joined after the period.
pub fn charge(full: &Split, period: &Period, joined: NaiveDate, step: i64) -> Option<Split> {
    let start = joined.max(period.start);
    if start >= period.end {
        return None;
    }
    let days = (period.end - start).num_days();
    Some(full.part(days, period.days(), step))
}

/// The legs that issue an invoice of `split` to `customer`: the customer owes the gross, the
/// VAT is payable; the net waits to be split when paid (under resellers), or is the owner's
/// revenue (a customer of its own).
pub fn issue_legs(split: &Split, customer: i64) -> Vec<Leg> {
    let waits = if split.levels.is_empty() {
        Account::Revenue
    } else {
        Account::Billed
    };
    let mut legs = Vec::with_capacity(3);
    legs.extend(Leg::signed(Account::Customer(customer), -split.price));
    legs.extend(Leg::signed(waits, split.net()));
    legs.extend(Leg::signed(Account::VatPayable, split.vat));
    legs
}

/// The legs that split a payment of an invoice of `split` that takes what was paid of it
/// from `paid_before` to `paid_after`: the paid share of the net leaves `Billed` for each
/// reseller's margin and the owner's revenue. Shares are cumulative, so a last payment
/// leaves nothing of the invoice in `Billed` however the earlier ones rounded. None for a
/// customer of the owner's own (its revenue was earned at issue).
pub fn settle_legs(split: &Split, paid_before: i64, paid_after: i64) -> Vec<Leg> {
    if split.levels.is_empty() || split.price <= 0 {
        return Vec::new();
    }
    let mut moves: Vec<(Account, i64)> = Vec::new();
    let mut add =
        |account: Account, amount: i64| match moves.iter_mut().find(|(a, _)| *a == account) {
            Some((_, sum)) => *sum += amount,
            None => moves.push((account, amount)),
        };
    for (sign, paid) in [(-1, paid_before), (1, paid_after)] {
        let share = split.part(paid.clamp(0, split.price), split.price, 1);
        add(Account::Billed, -sign * share.net());
        for (reseller, margin) in share.margins() {
            add(Account::Reseller(reseller), sign * margin);
        }
        add(Account::Revenue, sign * share.revenue());
    }
    moves
        .into_iter()
        .filter_map(|(account, amount)| Leg::signed(account, amount))
        .collect()
}

/// What an invoice of `split` still asks: its price less what was paid and what credit
/// notes took off (never below zero).
pub fn due(split_price: i64, paid: i64, credited: i64) -> i64 {
    (split_price - paid - credited).max(0)
}

/// The share of an invoice of `split` that credit notes taking what was credited of it from
/// `before` to `after` take off: its price is the note's total, its VAT the note's VAT.
/// Cumulative, like [`settle_legs`], so notes in parts add up to the whole.
pub fn credit_share(split: &Split, before: i64, after: i64) -> (i64, i64) {
    let whole = split.price.max(1);
    let at = |credited: i64| split.part(credited.clamp(0, split.price), whole, 1);
    let (b, a) = (at(before), at(after));
    (a.price - b.price, a.vat - b.vat)
}

/// The legs of a credit note that takes what was credited of an invoice of `split` to
/// `customer` from `before` to `after`: the customer owes the note's total less, the VAT
/// payable falls by its VAT, and its net leaves what the invoice put it in (`Billed` under
/// resellers, the owner's revenue otherwise).
pub fn credit_legs(split: &Split, customer: i64, before: i64, after: i64) -> Vec<Leg> {
    let waits = if split.levels.is_empty() {
        Account::Revenue
    } else {
        Account::Billed
    };
    let (total, vat) = credit_share(split, before, after);
    let mut legs = Vec::with_capacity(3);
    legs.extend(Leg::signed(Account::Customer(customer), total));
    legs.extend(Leg::signed(waits, -(total - vat)));
    legs.extend(Leg::signed(Account::VatPayable, -vat));
    legs
}

/// The legs that close an invoice of `split` settled by `paid` and `credited` together
/// (their sum is its price): payments and credit notes each took their own rounded shares
/// of the net out of `Billed`, and what those roundings left there (a minor unit either
/// way) goes to the owner's revenue, so that `Billed` holds nothing of a settled invoice.
/// None while it is not settled, or when nothing was credited (payments alone leave
/// nothing by construction).
pub fn close_legs(split: &Split, paid: i64, credited: i64) -> Vec<Leg> {
    if split.levels.is_empty() || credited <= 0 || paid + credited != split.price {
        return Vec::new();
    }
    let whole = split.price.max(1);
    let left =
        split.net() - split.part(paid, whole, 1).net() - split.part(credited, whole, 1).net();
    let mut legs = Vec::with_capacity(2);
    legs.extend(Leg::signed(Account::Billed, -left));
    legs.extend(Leg::signed(Account::Revenue, left));
    legs
}

#[cfg(test)]
#[path = "postpaid_tests.rs"]
mod tests;
