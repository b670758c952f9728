use super::*;
use crate::ledger::{Journal, JournalKind};
use proptest::prelude::*;

const O: UserId = UserId(10);
const S: UserId = UserId(20);

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn effect(legs: &[Leg], account: Account) -> i64 {
    legs.iter()
        .filter(|l| l.account == account)
        .map(|l| l.effect())
        .sum()
}

#[test]
fn rounding_is_half_up_to_the_step_and_whole_validities_are_exact() {
    // 300 taka for 30 days, 10 days left: 100 taka.
    assert_eq!(prorate(30_000, 14_400, 43_200, 100), 10_000);
    // 500 taka for 7 of 30 days: 116.67 → 117.
    assert_eq!(prorate(50_000, 10_080, 43_200, 100), 11_700);
    assert_eq!(prorate(40_000, 10_080, 43_200, 100), 9_300);
    // Exactly half rounds up.
    assert_eq!(prorate(100, 1, 2, 100), 100);
    assert_eq!(prorate(3, 1, 2, 1), 2);
    // A whole validity keeps its odd price.
    assert_eq!(prorate(49_950, 43_200, 43_200, 100), 49_950);
    assert_eq!(rounding_step("BDT"), 100);
    assert_eq!(rounding_step("USD"), 1);
}

#[test]
fn vat_is_carved_out_of_the_price_or_added_to_it() {
    // 500 at 5%: net 476, VAT 24 (billing-design.md §1.6).
    assert_eq!(vat_included(500, 500), 24);
    assert_eq!(vat_included(500, 0), 0);
    let inclusive = Vat::parse(500, true).unwrap();
    assert_eq!(inclusive.charge(500), (500, 24));
    let exclusive = Vat::parse(500, false).unwrap();
    assert_eq!(exclusive.charge(500), (525, 25));
    assert_eq!(exclusive.charge(30), (32, 2));
    assert_eq!(Vat::parse(10_001, true).unwrap_err().code, "out_of_range");
    assert_eq!(Vat::parse(-1, true).unwrap_err().code, "out_of_range");
}

#[test]
fn with_vat_the_margins_are_net_of_it() {
    // billing-design.md §1.6: 500 including 5%; S owes 450, O owes 400.
    let list = PriceList {
        price: 500,
        validity_minutes: 43_200,
        levels: vec![
            Level {
                reseller: S,
                cost: 450,
            },
            Level {
                reseller: O,
                cost: 400,
            },
        ],
        vat: Vat::parse(500, true).unwrap(),
    };
    let split = Split::of(&list, 43_200, 1);
    assert_eq!((split.price, split.vat, split.net()), (500, 24, 476));
    assert_eq!(split.margins(), vec![(S, 26), (O, 50)]);
    assert_eq!(split.revenue(), 400);
}

#[test]
fn margins_flow_up_the_chain_and_sum_to_the_price() {
    let split = Split {
        price: 500,
        vat: 24,
        levels: vec![
            Level {
                reseller: S,
                cost: 450,
            },
            Level {
                reseller: O,
                cost: 400,
            },
        ],
    };
    assert_eq!(split.margins(), vec![(S, 26), (O, 50)]);
    assert_eq!(split.revenue(), 400);
    let mut legs = split.sale_legs(7);
    legs.push(Leg::debit(Account::Reseller(S), 500));
    legs.push(Leg::credit(Account::Customer(7), 500));
    let journal = Journal::new(JournalKind::Recharge, "k", legs.clone(), "").unwrap();
    // The collector S pays 474; O gains 50, the owner 400, the tax authority 24.
    assert_eq!(effect(journal.legs(), Account::Reseller(S)), -474);
    assert_eq!(effect(journal.legs(), Account::Reseller(O)), 50);
    assert_eq!(effect(journal.legs(), Account::Revenue), 400);
    assert_eq!(effect(journal.legs(), Account::VatPayable), 24);
    assert_eq!(effect(journal.legs(), Account::Customer(7)), 0);
}

/// The reference's worked example: Basic 300/240 for 30 days with 10 days left, changed
/// to Pro 500/400 for 7 days, by the operator in cash: the charge is 117/93, the credit
/// 100/80, the payable 17/13.
#[test]
fn the_reference_package_change_pays_17_and_costs_the_operator_13() {
    let now = at("2026-03-01T12:00:00Z");
    let taka = 100;
    let basic = Grant {
        package_id: 1,
        starts_at: now - TimeDelta::days(20),
        ends_at: now + TimeDelta::days(10),
        minutes: 43_200,
        split: Split {
            price: 300 * taka,
            vat: 0,
            levels: vec![Level {
                reseller: O,
                cost: 240 * taka,
            }],
        },
    };
    let pro = PriceList {
        price: 500 * taka,
        validity_minutes: 43_200,
        levels: vec![Level {
            reseller: O,
            cost: 400 * taka,
        }],
        vat: Vat::default(),
    };
    let grants = [(5, basic)];
    let current = Current {
        customer: 7,
        package_id: 1,
        expires_at: Some(now + TimeDelta::days(10)),
        grants: &grants,
        wallet: 0,
    };
    let plan = recharge(
        &current,
        &Purchase {
            package_id: 2,
            list: &pro,
            minutes: Some(7 * DAY_MINUTES),
            collector: Collector::Reseller(O),
            step: taka,
        },
        now,
        chrono_tz::Asia::Dhaka,
    );
    assert_eq!(
        (plan.split.price, plan.split.levels[0].cost),
        (11_700, 9_300)
    );
    assert_eq!(
        (plan.credit(), plan.credits[0].levels[0].cost),
        (10_000, 8_000)
    );
    assert_eq!(plan.amount, 1_700);
    assert_eq!(plan.starts_at, now);
    assert_eq!(plan.expires_at, now + TimeDelta::days(7));
    assert_eq!(plan.replaced, vec![5]);
    let journal = Journal::new(JournalKind::Recharge, "k", plan.legs, "").unwrap();
    assert_eq!(effect(journal.legs(), Account::Reseller(O)), -1_300);
    assert_eq!(effect(journal.legs(), Account::Customer(7)), 0);
    assert_eq!(
        effect(journal.legs(), Account::Revenue) - effect(journal.legs(), Account::Adjustments),
        1_300
    );
}

#[test]
fn the_same_package_stacks_on_a_live_expiry_without_credit() {
    let now = at("2026-03-01T12:00:00Z");
    let expiry = now + TimeDelta::days(3);
    let list = PriceList {
        price: 50_000,
        validity_minutes: 43_200,
        levels: vec![],
        vat: Vat::default(),
    };
    let current = Current {
        customer: 7,
        package_id: 1,
        expires_at: Some(expiry),
        grants: &[],
        wallet: 0,
    };
    let plan = recharge(
        &current,
        &Purchase {
            package_id: 1,
            list: &list,
            minutes: None,
            collector: Collector::Cash(UserId(1)),
            step: 100,
        },
        now,
        chrono_tz::UTC,
    );
    assert_eq!(plan.starts_at, expiry);
    assert_eq!(plan.expires_at, expiry + TimeDelta::days(30));
    assert_eq!((plan.amount, plan.credit()), (50_000, 0));
    // Expired: starts now.
    let lapsed = Current {
        expires_at: Some(now - TimeDelta::hours(1)),
        ..current
    };
    let plan = recharge(
        &lapsed,
        &Purchase {
            package_id: 1,
            list: &list,
            minutes: Some(60),
            collector: Collector::Cash(UserId(1)),
            step: 1,
        },
        now,
        chrono_tz::UTC,
    );
    assert_eq!(
        (plan.starts_at, plan.expires_at),
        (now, now + TimeDelta::hours(1))
    );
    assert_eq!(plan.amount, 69);
}

#[test]
fn a_credit_above_the_charge_stays_on_the_wallet() {
    let now = at("2026-03-01T12:00:00Z");
    let grants = [(
        1,
        Grant {
            package_id: 1,
            starts_at: now,
            ends_at: now + TimeDelta::days(30),
            minutes: 43_200,
            split: Split {
                price: 1_000,
                vat: 0,
                levels: vec![],
            },
        },
    )];
    let list = PriceList {
        price: 300,
        validity_minutes: 43_200,
        levels: vec![],
        vat: Vat::default(),
    };
    let current = Current {
        customer: 7,
        package_id: 1,
        expires_at: Some(now + TimeDelta::days(30)),
        grants: &grants,
        wallet: 0,
    };
    let plan = recharge(
        &current,
        &Purchase {
            package_id: 2,
            list: &list,
            minutes: None,
            collector: Collector::Cash(UserId(1)),
            step: 1,
        },
        now,
        chrono_tz::UTC,
    );
    assert_eq!(plan.amount, 0);
    let journal = Journal::new(JournalKind::Recharge, "k", plan.legs, "").unwrap();
    assert_eq!(effect(journal.legs(), Account::Customer(7)), 700);
    assert_eq!(effect(journal.legs(), Account::Cash(UserId(1))), 0);
}

#[test]
fn a_wallet_pays_before_the_collector_takes_anything() {
    let now = at("2026-03-01T12:00:00Z");
    let list = PriceList {
        price: 500,
        validity_minutes: 43_200,
        levels: vec![],
        vat: Vat::default(),
    };
    let buy = |wallet: i64| {
        let current = Current {
            customer: 7,
            package_id: 1,
            expires_at: None,
            grants: &[],
            wallet,
        };
        recharge(
            &current,
            &Purchase {
                package_id: 1,
                list: &list,
                minutes: None,
                collector: Collector::Cash(UserId(1)),
                step: 1,
            },
            now,
            chrono_tz::UTC,
        )
    };
    // Part of the price from the wallet, the rest in cash.
    let plan = buy(200);
    assert_eq!((plan.wallet, plan.amount), (200, 300));
    let journal = Journal::new(JournalKind::Recharge, "k", plan.legs, "").unwrap();
    assert_eq!(effect(journal.legs(), Account::Customer(7)), -200);
    assert_eq!(effect(journal.legs(), Account::Cash(UserId(1))), 300);
    // All of it from the wallet: nothing taken, the rest stays.
    let plan = buy(800);
    assert_eq!((plan.wallet, plan.amount), (500, 0));
    let journal = Journal::new(JournalKind::Recharge, "k", plan.legs, "").unwrap();
    assert_eq!(effect(journal.legs(), Account::Customer(7)), -500);
    assert_eq!(effect(journal.legs(), Account::Cash(UserId(1))), 0);
}

#[test]
fn days_are_calendar_days_in_the_tenant_zone() {
    let ny = chrono_tz::America::New_York;
    // 2026-03-08 is the spring-forward day in New York: one calendar day from 09:00 on
    // the 7th is 09:00 on the 8th, 23 hours later.
    let start = at("2026-03-07T14:00:00Z");
    assert_eq!(
        add_validity(start, DAY_MINUTES, ny),
        at("2026-03-08T13:00:00Z")
    );
    // A wall time that falls in the gap (02:30) moves forward past it.
    let in_gap = at("2026-03-07T07:30:00Z"); // 02:30 EST on the 7th
    assert_eq!(
        add_validity(in_gap, DAY_MINUTES, ny),
        at("2026-03-08T07:30:00Z")
    );
    // Hours are exact.
    assert_eq!(add_validity(start, 90, ny), start + TimeDelta::minutes(90));
}

#[test]
fn recharge_minutes_read_days_and_hours() {
    assert_eq!(recharge_minutes(None, None).unwrap(), None);
    assert_eq!(recharge_minutes(Some(1), Some(2)).unwrap(), Some(1_560));
    assert_eq!(
        recharge_minutes(Some(0), Some(0)).unwrap_err().0[0].code,
        "required"
    );
    assert_eq!(
        recharge_minutes(Some(-1), None).unwrap_err().0[0].code,
        "out_of_range"
    );
    assert!(recharge_minutes(Some(MAX_DAYS), Some(1)).is_err());
    assert!(recharge_minutes(Some(i64::MAX), Some(i64::MAX)).is_err());
}

proptest! {
    /// Whatever the prices, minutes and earlier grants, the legs balance, the customer
    /// nets to what the credit leaves over, and the collector pays the amount less its
    /// own margin.
    #[test]
    fn every_recharge_balances(
        price in 0i64..10_000_000,
        cost_o_pct in 0i64..=100,
        cost_s_pct in 0i64..=100,
        minutes in 1i64..200_000,
        used in 0i64..=43_200,
        old_price in 0i64..10_000_000,
        vat_bp in 0i64..2_000,
        inclusive in proptest::bool::ANY,
        step in prop_oneof![Just(1i64), Just(100i64)],
        held in prop_oneof![Just(0i64), 0i64..10_000_000],
    ) {
        let now = at("2026-03-01T12:00:00Z");
        let cost_s = price * cost_s_pct / 100;
        let cost_o = cost_s * cost_o_pct / 100;
        let list = PriceList {
            price,
            validity_minutes: 43_200,
            levels: vec![Level { reseller: S, cost: cost_s }, Level { reseller: O, cost: cost_o }],
            vat: Vat { rate_bp: vat_bp, inclusive },
        };
        let old = Grant {
            package_id: 1,
            starts_at: now - TimeDelta::minutes(used),
            ends_at: now - TimeDelta::minutes(used) + TimeDelta::days(30),
            minutes: 43_200,
            split: Split::of(&PriceList { price: old_price, ..list.clone() }, 43_200, step),
        };
        let paid = old.split.price;
        let grants = [(1, old)];
        let current = Current { customer: 7, package_id: 1, expires_at: Some(now + TimeDelta::days(1)), grants: &grants, wallet: held };
        let plan = recharge(
        &current,
        &Purchase { package_id: 2, list: &list, minutes: Some(minutes), collector: Collector::Reseller(S), step },
        now,
        chrono_tz::UTC,
    );
        prop_assert!(plan.credit() <= paid);
        let due = (plan.split.price - plan.credit()).max(0);
        prop_assert_eq!(plan.wallet, held.min(due));
        prop_assert_eq!(plan.amount, due - plan.wallet);
        if plan.legs.is_empty() {
            prop_assert_eq!(plan.amount, 0);
        } else {
            let journal = Journal::new(JournalKind::Recharge, "k", plan.legs.clone(), "").unwrap();
            let wallet = effect(journal.legs(), Account::Customer(7));
            prop_assert_eq!(wallet, (plan.credit() - plan.split.price).max(0) - plan.wallet);
            let margin_s = plan.split.margins()[0].1 - plan.credits.iter().map(|c| c.margins()[0].1).sum::<i64>();
            prop_assert_eq!(effect(journal.legs(), Account::Reseller(S)), margin_s - plan.amount);
        }
    }
}
