//! lastmile's operations: what the JSON API, the panel, the command line and the jobs do,
//! written once. Each is a verb-named free function, `verb(ctx, actor, author, input)`: it
//! asks `domain::access` whether the actor may, parses what came in through `domain`, and
//! writes through the store's write path (one transaction, its audit entry, its AAA change
//! and its outbox jobs).
//!
//! An operation sees only a narrow [`Ctx`]: the database (with its keyring), the time the
//! request was read at, and the password hasher. No HTTP, no templates, no translations, no
//! network IO: a side effect on a router or a NAS is queued as a job in the same
//! transaction, and the job runs after commit.
//!
//! Areas line up with `domain` and `store`: `tenant`, `user`, `audit`, `auth`, `network`,
//! `package`, `customer`, `online`, `enforcement`, `job`, `billing` (recharges), `ledger`
//! (balances, top-ups, statements) and `invoice` (receipts); and the passes the jobs run:
//! `fair_usage` (the usage watcher) and `rates` (a package's new speed reaching sessions).

pub mod audit;
pub mod auth;
pub mod billing;
pub mod billing_run;
pub mod card;
pub mod clock;
pub mod custom_field;
pub mod customer;
pub mod dashboard;
pub mod enforcement;
pub mod error;
pub mod fair_usage;
pub mod first_bill;
pub mod gateway;
pub mod hotspot;
pub mod invoice;
pub mod job;
pub mod ledger;
pub mod libreqos;
pub mod network;
pub mod online;
pub mod otp;
pub mod package;
pub mod payment;
pub mod pool_push;
pub mod provision;
pub mod rates;
pub mod readdress;
pub mod router_health;
pub mod router_import;
pub mod router_migration;
pub mod selfcare;
pub mod sms;
pub mod tenant;
pub mod traffic;
pub mod user;
pub mod vpn;

use chrono::{DateTime, Utc};

pub use auth::password::Hasher;
pub use error::OpError;

/// What an operation may use: the database, the time of the request, the hasher.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// The database (and the keyring that seals secrets in it).
    pub db: &'a store::Db,
    /// The time the operation happens at, read once at the edge.
    pub now: DateTime<Utc>,
    /// The password hasher (bounded, off the async workers).
    pub hasher: &'a Hasher,
}

impl<'a> Ctx<'a> {
    /// A context at `now`.
    pub fn new(db: &'a store::Db, hasher: &'a Hasher, now: DateTime<Utc>) -> Self {
        Self { db, now, hasher }
    }
}
