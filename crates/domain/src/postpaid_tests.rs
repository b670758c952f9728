use super::*;
use crate::billing::Level;
use crate::ids::UserId;

const TAKA: i64 = 100;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// Package "10M" at 500 with 5% VAT inside (476 + 24); the operator owes 400, its
/// sub-operator 450 (billing-design.md §1.6).
fn chain() -> Split {
    Split {
        price: 500 * TAKA,
        vat: 24 * TAKA,
        levels: vec![
            Level {
                reseller: UserId(3),
                cost: 450 * TAKA,
            },
            Level {
                reseller: UserId(2),
                cost: 400 * TAKA,
            },
        ],
    }
}

fn effect_on(legs: &[Leg], account: Account) -> i64 {
    legs.iter()
        .filter(|l| l.account == account)
        .map(|l| l.effect())
        .sum()
}

#[test]
fn billing_days_read_and_land_in_every_month() {
    assert_eq!(BillingDay::parse("5"), Ok(BillingDay::Day(5)));
    assert_eq!(BillingDay::parse(" LAST "), Ok(BillingDay::Last));
    for bad in ["0", "29", "31", "-1", "", "x"] {
        assert!(BillingDay::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(BillingDay::Last.in_month(2028, 2), day("2028-02-29"));
    assert_eq!(BillingDay::Last.in_month(2027, 2), day("2027-02-28"));
    assert_eq!(BillingDay::Day(28).in_month(2027, 2), day("2027-02-28"));
    for n in 0..=28 {
        assert_eq!(
            BillingDay::from_stored(BillingDay::from_stored(n).stored()),
            BillingDay::from_stored(n)
        );
    }
}

#[test]
fn a_day_falls_in_the_period_that_started_on_or_before_it() {
    let p = Period::of(day("2026-12-05"), BillingDay::Day(1));
    assert_eq!((p.start, p.end), (day("2026-12-01"), day("2027-01-01")));
    assert_eq!(p.days(), 31);
    let p = Period::of(day("2026-12-04"), BillingDay::Day(5));
    assert_eq!((p.start, p.end), (day("2026-11-05"), day("2026-12-05")));
    let p = Period::of(day("2027-03-30"), BillingDay::Last);
    assert_eq!((p.start, p.end), (day("2027-02-28"), day("2027-03-31")));
    assert_eq!(p.days(), 31);
    let p = Period::of(day("2027-03-31"), BillingDay::Last);
    assert_eq!((p.start, p.end), (day("2027-03-31"), day("2027-04-30")));
    // Every day of four years lies in exactly its period.
    let mut d = day("2026-01-01");
    while d < day("2030-01-01") {
        for billing_day in [BillingDay::Day(1), BillingDay::Day(28), BillingDay::Last] {
            let p = Period::of(d, billing_day);
            assert!(p.start <= d && d < p.end, "{d} {billing_day:?}");
            assert!((28..=31).contains(&p.days()), "{d} {billing_day:?}");
        }
        d = d.succ_opt().unwrap();
    }
}

#[test]
fn terms_are_checked_field_by_field() {
    let t = Terms::parse("last", 10, 0, 2).unwrap();
    assert_eq!(t.billing_day, BillingDay::Last);
    assert_eq!(t.due_date(day("2026-12-31")), day("2027-01-10"));
    assert_eq!(t.suspend_date(day("2027-01-10")), day("2027-01-10"));
    let errors = Terms::parse("31", -1, 91, i64::MAX).unwrap_err();
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["billing_day", "due_days", "grace_days", "remind_days"]
    );
}

#[test]
fn a_customer_joining_mid_period_pays_its_days() {
    let p = Period::of(day("2026-11-10"), BillingDay::Day(1));
    let full = chain();
    assert_eq!(
        charge(&full, &p, day("2026-10-01"), 100),
        Some(full.clone())
    );
    let part = charge(&full, &p, day("2026-11-16"), 100).unwrap();
    // 15 of 30 days.
    assert_eq!(part.price, 250 * TAKA);
    assert_eq!(part.vat, 12 * TAKA);
    assert_eq!(part.levels[0].cost, 225 * TAKA);
    assert_eq!(part.levels[1].cost, 200 * TAKA);
    assert_eq!(charge(&full, &p, day("2026-12-01"), 100), None);
}

#[test]
fn issuing_owes_the_gross_and_holds_the_net_until_paid() {
    let legs = issue_legs(&chain(), 7);
    assert_eq!(effect_on(&legs, Account::Customer(7)), -500 * TAKA);
    assert_eq!(effect_on(&legs, Account::Billed), 476 * TAKA);
    assert_eq!(effect_on(&legs, Account::VatPayable), 24 * TAKA);
    let own = Split {
        levels: Vec::new(),
        ..chain()
    };
    let legs = issue_legs(&own, 7);
    assert_eq!(effect_on(&legs, Account::Revenue), 476 * TAKA);
    assert_eq!(effect_on(&legs, Account::Billed), 0);
    assert!(settle_legs(&own, 0, 500 * TAKA).is_empty());
}

#[test]
fn payments_split_the_paid_share_and_the_last_one_empties_billed() {
    let split = chain();
    let full = settle_legs(&split, 0, 500 * TAKA);
    assert_eq!(effect_on(&full, Account::Billed), -476 * TAKA);
    assert_eq!(effect_on(&full, Account::Reseller(UserId(3))), 26 * TAKA);
    assert_eq!(effect_on(&full, Account::Reseller(UserId(2))), 50 * TAKA);
    assert_eq!(effect_on(&full, Account::Revenue), 400 * TAKA);
    // In three awkward parts: each balances, and together they are the whole.
    let cuts = [0, (333 * TAKA + 33), (333 * TAKA + 34), 500 * TAKA];
    let mut total: Vec<(Account, i64)> = Vec::new();
    for pair in cuts.windows(2) {
        let legs = settle_legs(&split, pair[0], pair[1]);
        assert_eq!(legs.iter().map(|l| l.effect()).sum::<i64>(), 0, "{pair:?}");
        for l in legs {
            match total.iter_mut().find(|(a, _)| *a == l.account) {
                Some((_, sum)) => *sum += l.effect(),
                None => total.push((l.account, l.effect())),
            }
        }
    }
    for leg in &full {
        let got = total
            .iter()
            .find(|(a, _)| *a == leg.account)
            .map_or(0, |(_, s)| *s);
        assert_eq!(got, leg.effect(), "{:?}", leg.account);
    }
}
