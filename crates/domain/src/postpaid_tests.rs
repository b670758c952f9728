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

/// Sums the legs of `journals` per account, credits positive.
fn net_of(journals: &[Vec<Leg>]) -> Vec<(Account, i64)> {
    let mut total: Vec<(Account, i64)> = Vec::new();
    for legs in journals {
        let signed: i64 = legs
            .iter()
            .map(|l| match l.side {
                crate::ledger::Side::Credit => l.amount,
                crate::ledger::Side::Debit => -l.amount,
            })
            .sum();
        assert_eq!(signed, 0, "unbalanced: {legs:?}");
        for l in legs {
            let amount = match l.side {
                crate::ledger::Side::Credit => l.amount,
                crate::ledger::Side::Debit => -l.amount,
            };
            match total.iter_mut().find(|(a, _)| *a == l.account) {
                Some((_, sum)) => *sum += amount,
                None => total.push((l.account, amount)),
            }
        }
    }
    total
}

fn on(total: &[(Account, i64)], account: Account) -> i64 {
    total
        .iter()
        .find(|(a, _)| *a == account)
        .map_or(0, |(_, s)| *s)
}

#[test]
fn a_credit_note_takes_its_share_off_what_is_owed_with_its_vat() {
    let split = chain();
    // 100 taka off a 500 invoice with 5% VAT inside: 95.24 net and 4.76 VAT.
    assert_eq!(credit_share(&split, 0, 100 * TAKA), (100 * TAKA, 480));
    let legs = credit_legs(&split, 7, 0, 100 * TAKA);
    let books = net_of(&[issue_legs(&split, 7), legs]);
    assert_eq!(on(&books, Account::Customer(7)), -400 * TAKA);
    assert_eq!(on(&books, Account::VatPayable), 24 * TAKA - 480);
    assert_eq!(on(&books, Account::Billed), 476 * TAKA - (100 * TAKA - 480));
    assert_eq!(due(split.price, 0, 100 * TAKA), 400 * TAKA);
    assert_eq!(due(split.price, 400 * TAKA, 100 * TAKA), 0);
    // The owner's own customer: the net comes off its revenue.
    let own = Split {
        levels: Vec::new(),
        ..chain()
    };
    let books = net_of(&[issue_legs(&own, 7), credit_legs(&own, 7, 0, 500 * TAKA)]);
    assert_eq!(on(&books, Account::Revenue), 0);
    assert_eq!(on(&books, Account::VatPayable), 0);
    assert_eq!(on(&books, Account::Customer(7)), 0);
    assert!(close_legs(&own, 0, 500 * TAKA).is_empty());
}

proptest::proptest! {
    /// Payments and credit notes in any order and any parts settle an invoice with nothing
    /// of it left in `Billed`, nothing owed, the VAT payable less exactly the notes' VAT,
    /// and every journal balanced.
    #[test]
    fn payments_and_credit_notes_in_any_order_leave_nothing_billed(
        price in 1i64..2_000_000,
        vat_bp in 0i64..2_000,
        costs in proptest::collection::vec(0i64..=100, 0..3),
        cuts in proptest::collection::vec((0i64..=1_000, proptest::bool::ANY), 1..6),
    ) {
        let vat = crate::billing::vat_included(price, vat_bp);
        let net = price - vat;
        let mut levels = Vec::new();
        let mut cost = net;
        for (i, c) in costs.iter().enumerate() {
            cost = cost * c / 100;
            levels.push(Level { reseller: UserId(10 + i as i64), cost });
        }
        let split = Split { price, vat, levels };
        let mut journals = vec![issue_legs(&split, 7)];
        let (mut paid, mut credited, mut notes_vat) = (0, 0, 0);
        for (i, (per_mille, is_credit)) in cuts.iter().enumerate() {
            let left = due(price, paid, credited);
            let amount = if i + 1 == cuts.len() { left } else { left * per_mille / 1_000 };
            if amount == 0 {
                continue;
            }
            let mut legs = if *is_credit {
                let (_, v) = credit_share(&split, credited, credited + amount);
                notes_vat += v;
                let legs = credit_legs(&split, 7, credited, credited + amount);
                credited += amount;
                legs
            } else {
                let mut legs = vec![
                    Leg::debit(Account::Cash(UserId(1)), amount),
                    Leg::credit(Account::Customer(7), amount),
                ];
                legs.extend(settle_legs(&split, paid, paid + amount));
                paid += amount;
                legs
            };
            legs.extend(close_legs(&split, paid, credited));
            journals.push(legs);
        }
        proptest::prop_assert_eq!(paid + credited, price);
        let books = net_of(&journals);
        proptest::prop_assert_eq!(on(&books, Account::Billed), 0);
        proptest::prop_assert_eq!(on(&books, Account::Customer(7)), 0);
        proptest::prop_assert_eq!(on(&books, Account::VatPayable), vat - notes_vat);
        proptest::prop_assert!(notes_vat <= vat);
    }
}
