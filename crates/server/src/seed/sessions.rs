//! Sessions for the seeded customers, written as the built-in server writes accounting
//! (`store::accounting::record`), so the database counts them online and rolls their usage
//! up as it does live: a share of the customers in service (seven in ten unless told) have a
//! live session on their home router, with the traffic of its last Interim-Update; with
//! `history_days`, each of them also had a session on each of the days before, so the
//! usage pages show days.

use chrono::{DateTime, TimeDelta, Utc};
use rand::RngExt as _;

use domain::customer::{BillingType, CustomerStatus};
use store::accounting::{AcctKind, AcctRecord};
use store::customer::Customer;
use store::{Db, StoreError};

/// Who is online, and for how long before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Online {
    /// Percent of the customers in service with a live session.
    pub percent: u32,
    /// Days of sessions before today for each of them.
    pub history_days: i64,
}

/// Records sessions for `customers`, whose routers are `routers` (id, RADIUS address).
pub async fn record(
    db: &Db,
    customers: &[Customer],
    routers: &[(i64, String)],
    now: DateTime<Utc>,
    online: Online,
    rng: &mut impl rand::Rng,
) -> Result<(), StoreError> {
    let Online {
        percent,
        history_days,
    } = online;
    let mut records = Vec::new();
    for c in customers {
        if !in_service(c, now) || rng.random_range(0..100) >= percent {
            continue;
        }
        let nas_ip = routers
            .iter()
            .find(|(id, _)| Some(*id) == c.router_id)
            .map_or_else(String::new, |(_, a)| a.clone());
        for day in (1..=history_days).rev() {
            let at = now - TimeDelta::days(day);
            records.push(session(c, &nas_ip, AcctKind::Stop, at, day, rng));
        }
        records.push(session(c, &nas_ip, AcctKind::Interim, now, 0, rng));
    }
    store::accounting::record(db, &records, &[]).await
}

/// Whether `c` gets service at `now`: active, and not past a prepaid expiry.
fn in_service(c: &Customer, now: DateTime<Utc>) -> bool {
    c.status.get() == CustomerStatus::Active
        && (c.billing_type.get() != BillingType::Prepaid || c.expires_at.is_some_and(|e| e > now))
}

/// A session of `c` on the router at `nas_ip` (the `n`th of the customer's), up for up to
/// a day, as a record of `kind` at `at` reports it.
fn session(
    c: &Customer,
    nas_ip: &str,
    kind: AcctKind,
    at: DateTime<Utc>,
    n: i64,
    rng: &mut impl rand::Rng,
) -> AcctRecord {
    let up = rng.random_range(60..86_400);
    let down: i64 = rng.random_range(1_000_000..20_000_000_000);
    AcctRecord {
        kind,
        at,
        nas_ip: nas_ip.to_owned(),
        session_id: format!("{:08x}{n:04x}", c.id),
        unique_id: format!("seed-{}-{n}", c.id),
        username: c.username.clone(),
        nas_port_id: c.id.to_string(),
        nas_port_type: "Ethernet".to_owned(),
        session_time: Some(up),
        input_octets: down / 8,
        output_octets: down,
        called_station: String::new(),
        calling_station: c.mac.clone().unwrap_or_default(),
        framed_ip: format!("100.64.{}.{}", (c.id >> 8) & 0xff, c.id & 0xff),
        terminate_cause: if kind == AcctKind::Stop {
            "User-Request".to_owned()
        } else {
            String::new()
        },
        tenant_id: Some(c.tenant_id),
        customer_id: Some(c.id),
    }
}
