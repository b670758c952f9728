//! A seeded, replayable simulation of months of postpaid billing, on both engines: one
//! tenant in a zone with daylight saving time (the window spans both of its changes), the
//! chain of resellers, a dozen postpaid customers (more join on the way), random billing
//! terms, and two merchant accounts at simulated providers (`gateways::sim`, one per
//! protocol) that duplicate, reorder, delay and tamper with their notices, sign some with
//! the wrong secret or an old timestamp, drop some, fail their confirm API for a while, or
//! decline. The clock walks day by day at random local hours (the DST hours included, and
//! some days skipped as a server would be down); each day's billing runs go once, some
//! crashed mid-way (a timeout drops the run's future) and run again, some run again later
//! in the day; customers pay cash (whole, in parts, too much, retried with their key, sent
//! twice at once), online (paid, declined, reconciled after a lost or refused notice, raced
//! by a second settle that may itself crash, with cash taken meanwhile, abandoned, paid
//! late), and the server restarts now and then.
//!
//! A model of its own (periods, pro-rating, due dates at local midnight, suspension on the
//! local date `due + grace`, payments applied oldest due first) is checked against the
//! database after every step and through the API every month:
//!
//! - every customer has exactly one invoice per period it was live in once billing began
//!   (one that joined after a period's last run is billed for its days by the next day's),
//!   with the right amount, period and due date (none missing across the DST changes, none
//!   doubled by crashes, re-runs or the scheduler's own runs), and a re-run writes nothing;
//! - every cash payment is taken once (a too large one is refused and writes nothing), and
//!   what each invoice has been paid is what the model applied;
//! - every payment the provider took at the intent's amount is credited exactly once,
//!   whatever the notices did (amounts in notices are never trusted), a declined one never;
//! - a customer is suspended by the first run of the day its unpaid invoice's grace ends,
//!   and resumed by the payment that leaves nothing past the grace;
//! - invoice and receipt numbers are gapless and `ledger verify` is clean.
//!
//! The provider simulator signs its notices with the wall clock, lastmile checks them
//! against its own (simulated) clock: notices pass through a relay (lastmile's public URL)
//! that translates the timestamp of a well-signed notice into simulated time and forwards
//! everything else as it came, so a notice signed with the wrong secret or ten minutes ago
//! stays so.
//!
//! A disagreement with the model does not stop the run: it is recorded with the seed, the
//! step and the simulated instant (UTC and local), the model takes the database's word, and
//! the test fails at the end with every disagreement found. Replay a seed with
//! `LASTMILE_TEST_SEEDS=7 cargo nextest run -p lastmile --test billing_simulation`
//! (comma-separated seeds replace the default ones); `LASTMILE_SIM_TRACE=1` prints each step.
//!
//! One file, long by nature: the driver, the model and the checks are one state machine
//! that must be read together (each check names the model's field it compares), laid out
//! in that order: the world and its setup, the day's runs, the payments, the checks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus, Uri};
use chrono::{
    DateTime, Datelike as _, NaiveDate, NaiveTime, Offset as _, TimeDelta, TimeZone as _, Utc,
};
use chrono_tz::Tz;
use gateways::Provider;
use gateways::sim::{Scenario, SimConfig, SimGateway};
use ops::clock::Clock;
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde_json::{Value, json};
use store::entity::{customer, gateway_event, invoice, job, payment, payment_intent};
use support::money::{TAKA, chain, postpaid, priced, topup};
use support::{Backend, TestApp, spawn_with};

const KEY: &str = "sk_test_lastmile_sim";
const WEBHOOK_SECRET: &str = "whsec_lastmile_sim";

/// Zones with daylight saving time, by seed: two change at 01:00 or 02:00, Havana and
/// Santiago at midnight (a day without a 00:00, and one with two), Lord Howe by half an
/// hour.
const ZONES: [&str; 5] = [
    "Australia/Lord_Howe",
    "Europe/London",
    "America/Havana",
    "America/New_York",
    "America/Santiago",
];

fn seeds() -> Vec<u64> {
    std::env::var("LASTMILE_TEST_SEEDS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2])
}

fn tracing_steps() -> bool {
    std::env::var("LASTMILE_SIM_TRACE").is_ok_and(|v| !v.is_empty() && v != "0")
}

// ---------------------------------------------------------------------------------------
// Local time, periods and prices: the model's own arithmetic.

fn local_date(zone: Tz, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

fn local_text(zone: Tz, at: DateTime<Utc>) -> String {
    at.with_timezone(&zone)
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// The instant local day `day` begins: its midnight; the first instant after a gap that
/// swallows midnight; the first of two midnights.
fn day_start(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    match zone.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(at) => at.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        chrono::LocalResult::None => {
            // The wall time read with the offset in force before the gap is the instant
            // the gap ends.
            let before = zone
                .offset_from_utc_datetime(&(midnight - TimeDelta::hours(12)))
                .fix()
                .local_minus_utc();
            (midnight - TimeDelta::seconds(i64::from(before))).and_utc()
        }
    }
}

/// The day of `year`-`month` periods start on (`0`: the month's last).
fn anchor(year: i32, month: u32, billing_day: u32) -> NaiveDate {
    if billing_day == 0 {
        let (y, m) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        NaiveDate::from_ymd_opt(y, m, 1)
            .unwrap()
            .pred_opt()
            .unwrap()
    } else {
        NaiveDate::from_ymd_opt(year, month, billing_day).unwrap()
    }
}

fn month_step(year: i32, month: u32, forward: bool) -> (i32, u32) {
    match (forward, month) {
        (true, 12) => (year + 1, 1),
        (true, m) => (year, m + 1),
        (false, 1) => (year - 1, 12),
        (false, m) => (year, m - 1),
    }
}

/// The billing period `day` falls in: `[start, end)`.
fn period_of(day: NaiveDate, billing_day: u32) -> (NaiveDate, NaiveDate) {
    let this = anchor(day.year(), day.month(), billing_day);
    if day >= this {
        let (y, m) = month_step(day.year(), day.month(), true);
        (this, anchor(y, m, billing_day))
    } else {
        let (y, m) = month_step(day.year(), day.month(), false);
        (anchor(y, m, billing_day), this)
    }
}

/// `price × part / whole` rounded half up to whole taka (the whole price for a whole period).
fn prorate(price: i64, part: i64, whole: i64) -> i64 {
    if part == whole {
        return price;
    }
    let unit = whole * TAKA;
    (2 * price * part + unit).div_euclid(2 * unit) * TAKA
}

/// The local dates on which `zone`'s UTC offset changes, from `from` for `days` days.
fn offset_changes(zone: Tz, from: NaiveDate, days: i64) -> Vec<NaiveDate> {
    let offset = |d: NaiveDate| {
        zone.offset_from_utc_datetime(&d.and_hms_opt(12, 0, 0).unwrap())
            .fix()
            .local_minus_utc()
    };
    (0..days)
        .map(|n| from + TimeDelta::days(n))
        .filter(|d| offset(*d) != offset(*d + TimeDelta::days(1)))
        .map(|d| d + TimeDelta::days(1))
        .collect()
}

/// The tenant's terms: random, but often aimed at a DST change (an invoice falls due in the
/// days before it and its grace ends after it).
fn draw_terms(rng: &mut StdRng, changes: &[NaiveDate]) -> Terms {
    let mut terms = Terms {
        billing_day: match rng.random_range(0..10) {
            0..=2 => 0,
            3 => 1,
            4 => 28,
            _ => rng.random_range(1..=28),
        },
        due_days: rng.random_range(0..=12),
        grace_days: rng.random_range(0..=6),
        remind_days: rng.random_range(0..=3),
    };
    let aim = match rng.random_range(0..10) {
        0..=3 => changes.get(1),
        4..=6 => changes.first(),
        _ => None,
    };
    if let Some(&change) = aim {
        let grace = rng.random_range(2..=6);
        let before = rng.random_range(1..grace);
        let due_days = rng.random_range(0..=10);
        let issue = change - TimeDelta::days(before + due_days);
        let last = anchor(issue.year(), issue.month(), 0);
        terms.grace_days = grace;
        terms.due_days = due_days;
        terms.billing_day = match issue.day() {
            d @ 1..=28 => d,
            _ if issue == last => 0,
            _ => terms.billing_day,
        };
    }
    terms
}

// ---------------------------------------------------------------------------------------
// The relay between the simulated providers and lastmile.

/// Where notices go now (lastmile's address changes when it restarts) and its clock.
#[derive(Clone, Default)]
struct Relay {
    target: Arc<Mutex<Option<(String, Clock)>>>,
}

impl Relay {
    async fn start() -> (Relay, String) {
        let relay = Relay::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .fallback(relay_forward)
            .with_state(relay.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (relay, url)
    }

    fn point_at(&self, app: &TestApp) {
        *self.target.lock().unwrap() = Some((app.base.clone(), app.clock().clone()));
    }
}

/// The signature header with its timestamp moved by `offset` seconds, when it is signed
/// with the account's secret; as it came otherwise.
fn translated(header: &str, body: &[u8], offset: i64) -> String {
    let Some(t) = header
        .split(',')
        .find_map(|part| part.trim().strip_prefix("t="))
        .and_then(|t| t.parse::<i64>().ok())
    else {
        return header.to_owned();
    };
    if gateways::webhook::sign(WEBHOOK_SECRET, t, body) == header {
        gateways::webhook::sign(WEBHOOK_SECRET, t + offset, body)
    } else {
        header.to_owned()
    }
}

async fn relay_forward(
    State(relay): State<Relay>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> AxumStatus {
    let Some((base, clock)) = relay.target.lock().unwrap().clone() else {
        return AxumStatus::SERVICE_UNAVAILABLE;
    };
    let offset = clock.now().timestamp() - Clock::system().now().timestamp();
    let http = support::http_client().build().unwrap();
    let mut request = http.post(format!("{base}{}", uri.path()));
    for (name, value) in &headers {
        match name.as_str() {
            "stripe-signature" | "x-signature" => {
                let text = value.to_str().unwrap_or_default();
                request = request.header(name.as_str(), translated(text, &body, offset));
            }
            "content-type" => request = request.header(name.as_str(), value.clone()),
            _ => {}
        }
    }
    match request.body(body.to_vec()).send().await {
        Ok(answer) => {
            AxumStatus::from_u16(answer.status().as_u16()).unwrap_or(AxumStatus::BAD_GATEWAY)
        }
        Err(_) => AxumStatus::BAD_GATEWAY,
    }
}

// ---------------------------------------------------------------------------------------
// The model.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Admin,
    Op,
    Sub,
}

#[derive(Debug, Clone)]
struct Cust {
    id: i64,
    name: String,
    owner: Owner,
    /// A month's price, minor units.
    price: i64,
    created_at: DateTime<Utc>,
    /// The local date it joined.
    joined: NaiveDate,
    suspended: bool,
    /// Paid in all, and what of it paid no invoice.
    paid: i64,
    on_account: i64,
    payments: i64,
}

#[derive(Debug, Clone)]
struct Inv {
    /// 0 until the database's invoice is matched.
    id: i64,
    customer: i64,
    period: (NaiveDate, NaiveDate),
    total: i64,
    due_at: DateTime<Utc>,
    issued_on: NaiveDate,
    paid: i64,
}

#[derive(Debug, Clone, Copy)]
struct Terms {
    /// 1 to 28, or 0 for the month's last day.
    billing_day: u32,
    due_days: i64,
    grace_days: i64,
    remind_days: i64,
}

impl Terms {
    fn body(&self) -> Value {
        let day = if self.billing_day == 0 {
            "last".to_owned()
        } else {
            self.billing_day.to_string()
        };
        json!({"billing_day": day, "due_days": self.due_days, "grace_days": self.grace_days,
               "remind_days": self.remind_days})
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Paid; the notices (duplicated, reordered, delayed, tampered as the account's
    /// scenario says) settle it.
    Normal,
    /// Paid, then lastmile restarts while the notices are on their way.
    Restart,
    /// Paid, and a second settle (another node's reconciliation) races the notices; it may
    /// crash mid-way.
    Racing,
    /// The customer pays cash at the counter after starting the online payment.
    CashMeanwhile,
    Declined,
    WrongSecret,
    Stale,
    Dropped,
    /// The provider's confirm API fails for a while.
    ConfirmOutage,
    /// Never paid (perhaps late: see `late_payment`).
    Abandoned,
}

#[derive(Debug, Clone)]
struct IntentRec {
    id: i64,
    customer: i64,
    amount: i64,
    gateway: usize,
    provider_payment_id: String,
    mode: Mode,
    expires_at: DateTime<Utc>,
    /// Paid at the provider after lastmile closed it.
    paid_late: bool,
}

struct Gateway {
    sim: SimGateway,
    provider: Provider,
    account: i64,
    scenario: Scenario,
}

#[derive(Debug, Default)]
struct Stats {
    steps: u64,
    days_run: u64,
    invoices: u64,
    crashes: u64,
    run_errors: u64,
    reruns: u64,
    cash_taken: u64,
    cash_refused: u64,
    cash_replays: u64,
    online: BTreeMap<String, u64>,
    settles_raced: u64,
    settles_aborted: u64,
    settles_won_by_the_racer: u64,
    reconciles: u64,
    restarts: u64,
    suspensions: u64,
    resumptions: u64,
    joined_late: u64,
    terms_changed: u64,
    /// Wall-clock seconds spent, by what.
    seconds: BTreeMap<&'static str, f64>,
}

impl Stats {
    fn spent(&mut self, what: &'static str, since: std::time::Instant) {
        *self.seconds.entry(what).or_default() += since.elapsed().as_secs_f64();
    }
}

struct Sim {
    seed: u64,
    app: TestApp,
    relay: Relay,
    rng: StdRng,
    zone: Tz,
    terms: Terms,
    tenant: i64,
    admin: String,
    op: String,
    sub: String,
    /// Packages by owner: (package, month's price).
    packages: Vec<(Owner, i64, i64)>,
    customers: Vec<Cust>,
    invoices: Vec<Inv>,
    intents: Vec<IntentRec>,
    gateways: Vec<Gateway>,
    /// The local days a billing run went on, with the instant the first began.
    days_run: BTreeMap<NaiveDate, DateTime<Utc>>,
    /// The periods found never invoiced (reported once).
    unbilled: BTreeSet<(i64, NaiveDate)>,
    /// The total of the payment rows the model expects.
    payment_rows: i64,
    step: u64,
    step_at: DateTime<Utc>,
    end: DateTime<Utc>,
    failures: Vec<String>,
    stats: Stats,
    next_name: u32,
    last_month: Option<(i32, u32)>,
}

impl Sim {
    // -- set-up -----------------------------------------------------------------------

    async fn new(backend: Backend, seed: u64) -> Sim {
        let mut rng = StdRng::seed_from_u64(seed);
        let zone_name = ZONES[(seed % ZONES.len() as u64) as usize];
        let zone: Tz = zone_name.parse().unwrap();
        // The window: from a couple of weeks before the first change after September 2027
        // to a week or so after the next one.
        let from = NaiveDate::from_ymd_opt(2027, 9, 1).unwrap();
        let changes = offset_changes(zone, from, 400);
        assert!(
            changes.len() >= 2,
            "seed {seed}: {zone_name} has no daylight saving time: {changes:?}"
        );
        let first = changes[0] - TimeDelta::days(rng.random_range(8..=20));
        let last = changes[1] + TimeDelta::days(rng.random_range(4..=10));
        // Late morning: the tenant is made in Asia/Dhaka before it moves to its zone, and
        // the day is the same in both then (a run of the scheduler's in between marks the
        // local date it saw as done).
        let start = day_start(zone, first) + TimeDelta::hours(rng.random_range(9..=11));
        let end = day_start(zone, last);

        let (relay, relay_url) = Relay::start().await;
        let app = spawn_with(backend, |config| {
            config.security.token_days = 3650;
            config.public_url = relay_url;
            // Months of misbehaving providers reach it from one address within seconds:
            // their bad notices would soon throttle the good ones.
            config.security.hook_refusals_per_minute = 0;
        })
        .await;
        relay.point_at(&app);
        let shift = (start - app.clock().now()).num_seconds() + 1;
        assert!(
            shift > 0,
            "seed {seed}: the simulation starts in the future"
        );
        app.clock().shift(shift);

        let c = chain(&app).await;
        let (status, tenant) = app
            .get(&format!("/api/v1/tenants/{}", c.tenant), &c.dev)
            .await;
        assert_eq!(status, StatusCode::OK, "{tenant}");
        let (status, changed) = app
            .patch(
                &format!("/api/v1/tenants/{}", c.tenant),
                &c.dev,
                json!({"time_zone": zone_name, "version": tenant["version"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["time_zone"], zone_name, "{changed}");

        let terms = draw_terms(&mut rng, &changes);
        let (status, set) = app
            .call(
                Method::PUT,
                &format!("/api/v1/tenants/{}/billing-terms", c.tenant),
                Some(&c.admin),
                Some(terms.body()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{set}");

        let (fibre, fibre_op, fibre_sub) = priced(
            &app,
            &c.dev,
            c.tenant,
            c.pool,
            "Fibre",
            [1_200, 1_000, 1_100],
            c.op_id,
            c.sub_id,
        )
        .await;
        let packages = vec![
            (Owner::Admin, c.master, 500 * TAKA),
            (Owner::Op, c.op_pkg, 500 * TAKA),
            (Owner::Sub, c.sub_pkg, 500 * TAKA),
            (Owner::Admin, fibre, 1_200 * TAKA),
            (Owner::Op, fibre_op, 1_200 * TAKA),
            (Owner::Sub, fibre_sub, 1_200 * TAKA),
        ];
        // Enough for every payment the resellers take in cash to be covered upward.
        let (status, _) = topup(&app, &c.admin, c.op_id, 2_000_000 * TAKA).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = topup(&app, &c.op, c.sub_id, 1_000_000 * TAKA).await;
        assert_eq!(status, StatusCode::CREATED);

        // Two simulated providers, one per protocol, each misbehaving its own way.
        let mut gateways = Vec::new();
        for provider in [Provider::Stripe, Provider::Generic] {
            let scenario = Scenario {
                duplicates: rng.random_range(0..=3),
                reorder: rng.random_bool(0.6),
                tamper_amount: rng.random_bool(0.4),
                delay_ms: rng.random_range(0..=30),
                ..Scenario::default()
            };
            let sim = SimGateway::start(SimConfig {
                listen: "127.0.0.1:0".parse().unwrap(),
                secret_key: KEY.to_owned(),
                webhook_secret: WEBHOOK_SECRET.to_owned(),
                scenario: scenario.clone(),
            })
            .await
            .unwrap();
            let (status, account) = app
                .post(
                    "/api/v1/gateway-accounts",
                    &c.admin,
                    json!({"provider": provider.as_str(), "name": format!("{} sim", provider.as_str()),
                           "base_url": sim.base_url(provider), "secret_key": KEY,
                           "webhook_secret": WEBHOOK_SECRET}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{account}");
            gateways.push(Gateway {
                sim,
                provider,
                account: account["id"].as_i64().unwrap(),
                scenario,
            });
        }

        // The day's runs before any customer exists (the scheduler's may have gone
        // already): the customers made now are invoiced by the first step's runs.
        let ctx = ops::Ctx::new(&app.state.db, &app.state.hasher, app.clock().now());
        ops::billing_run::run(&ctx, Some(domain::ids::TenantId(c.tenant)), false)
            .await
            .unwrap();
        let mut days_run = BTreeMap::new();
        days_run.insert(local_date(zone, app.clock().now()), app.clock().now());

        let mut sim = Sim {
            seed,
            relay,
            rng,
            zone,
            terms,
            tenant: c.tenant,
            admin: c.admin.clone(),
            op: c.op.clone(),
            sub: c.sub.clone(),
            packages,
            customers: Vec::new(),
            invoices: Vec::new(),
            intents: Vec::new(),
            gateways,
            days_run,
            unbilled: BTreeSet::new(),
            payment_rows: 0,
            step: 0,
            step_at: start,
            end,
            failures: Vec::new(),
            stats: Stats::default(),
            next_name: 0,
            last_month: None,
            app,
        };
        let n = sim.rng.random_range(8..=12);
        for _ in 0..n {
            sim.new_customer().await;
        }
        eprintln!(
            "seed {seed}: {zone_name}, {} → {} (offset changes on {} and {}), terms {:?}, {n} customers, providers {:?}",
            local_text(zone, start),
            local_text(zone, end),
            changes[0],
            changes[1],
            sim.terms,
            sim.gateways
                .iter()
                .map(|g| (g.provider.as_str(), g.scenario.clone()))
                .collect::<Vec<_>>()
        );
        sim
    }

    fn token(&self, owner: Owner) -> &str {
        match owner {
            Owner::Admin => &self.admin,
            Owner::Op => &self.op,
            Owner::Sub => &self.sub,
        }
    }

    /// Who may take a customer's money: its reseller, the operator above it, the Admin.
    fn collector(&mut self, owner: Owner) -> Owner {
        let choices: &[Owner] = match owner {
            Owner::Sub => &[Owner::Sub, Owner::Sub, Owner::Op, Owner::Admin],
            Owner::Op => &[Owner::Op, Owner::Op, Owner::Admin],
            Owner::Admin => &[Owner::Admin],
        };
        choices[self.rng.random_range(0..choices.len())]
    }

    fn db(&self) -> &sea_orm::DatabaseConnection {
        self.app.state.db.conn()
    }

    fn now(&self) -> DateTime<Utc> {
        self.app.clock().now()
    }

    fn here(&self) -> String {
        let now = self.now();
        format!(
            "seed {}, step {}, at {} ({})",
            self.seed,
            self.step,
            now.format("%Y-%m-%dT%H:%M:%SZ"),
            local_text(self.zone, now)
        )
    }

    fn fail(&mut self, what: &str, detail: String) {
        let line = format!("{}: [{what}] {detail}", self.here());
        eprintln!("DISAGREEMENT {line}");
        self.failures.push(line);
    }

    fn cust(&self, id: i64) -> &Cust {
        self.customers.iter().find(|c| c.id == id).unwrap()
    }

    fn cust_mut(&mut self, id: i64) -> &mut Cust {
        self.customers.iter_mut().find(|c| c.id == id).unwrap()
    }

    fn name_of(&self, id: i64) -> String {
        format!("{} (#{id})", self.cust(id).name)
    }

    async fn new_customer(&mut self) -> i64 {
        let owner = match self.rng.random_range(0..4) {
            0 => Owner::Admin,
            1 => Owner::Op,
            _ => Owner::Sub,
        };
        let fibre = self.rng.random_bool(0.3);
        let (_, package, price) = *self
            .packages
            .iter()
            .filter(|(o, _, _)| *o == owner)
            .nth(usize::from(fibre))
            .unwrap();
        self.next_name += 1;
        let name = format!("s{}c{}", self.seed, self.next_name);
        let id = postpaid(&self.app, self.token(owner), package, &name).await;
        let row = customer::Entity::find_by_id(id)
            .one(self.db())
            .await
            .unwrap()
            .unwrap();
        self.customers.push(Cust {
            id,
            name,
            owner,
            price,
            created_at: row.created_at,
            joined: local_date(self.zone, row.created_at),
            suspended: false,
            paid: 0,
            on_account: 0,
            payments: 0,
        });
        id
    }

    // -- the clock --------------------------------------------------------------------

    /// Moves the clock to just after `target` (never back).
    fn set_clock(&self, target: DateTime<Utc>) {
        let ms = (target - self.now()).num_milliseconds();
        assert!(ms > 0, "the clock moves forward only");
        self.app.clock().shift(ms.div_euclid(1000) + 1);
    }

    /// The next step's instant: mostly the next local day, sometimes later the same day,
    /// sometimes days later (the server was down); at a random local time, the hours
    /// around midnight and the DST hours weighted, either side of a repeated hour; never
    /// after 23:30 local, so that what a step does stays in its day.
    fn next_instant(&mut self) -> DateTime<Utc> {
        let now = self.now();
        let today = local_date(self.zone, now);
        for _ in 0..200 {
            let advance = match self.rng.random_range(0..100) {
                0..=14 => 0,
                15..=93 => 1,
                _ => self.rng.random_range(2..=4),
            };
            let day = today + TimeDelta::days(advance);
            // In production the scheduler's first pass of a day comes within five minutes
            // of local midnight: most days start there.
            let (hour, minutes) = match self.rng.random_range(0..20) {
                0..=8 => (0, 0..10),
                9..=11 => (self.rng.random_range(0..=2), 10..60),
                12..=13 => (23, 0..30),
                _ => (self.rng.random_range(3..=22), 0..60),
            };
            let wall = day
                .and_hms_opt(hour, self.rng.random_range(minutes), 0)
                .unwrap();
            let at = match self.zone.from_local_datetime(&wall) {
                chrono::LocalResult::Single(at) => at,
                chrono::LocalResult::Ambiguous(first, second) => {
                    if self.rng.random_bool(0.5) {
                        first
                    } else {
                        second
                    }
                }
                chrono::LocalResult::None => continue,
            }
            .with_timezone(&Utc);
            if at > now + TimeDelta::minutes(40) {
                return at;
            }
        }
        now + TimeDelta::days(1)
    }

    // -- billing runs -----------------------------------------------------------------

    /// Runs the billing runs at `at`, maybe crashing the first attempt after a few
    /// milliseconds; retries a run that fails (a concurrent run of the scheduler's may
    /// make one fail); returns the completed run's reports.
    async fn run_billing(
        &mut self,
        at: DateTime<Utc>,
        crash: bool,
    ) -> Option<Vec<ops::billing_run::RunReport>> {
        if crash {
            let budget = Duration::from_micros(self.rng.random_range(200..20_000));
            let ctx = ops::Ctx::new(&self.app.state.db, &self.app.state.hasher, at);
            let run = ops::billing_run::run(&ctx, Some(domain::ids::TenantId(self.tenant)), false);
            if tokio::time::timeout(budget, run).await.is_err() {
                self.stats.crashes += 1;
            }
        }
        let mut last_error = String::new();
        for attempt in 0..6 {
            let ctx = ops::Ctx::new(&self.app.state.db, &self.app.state.hasher, at);
            match ops::billing_run::run(&ctx, Some(domain::ids::TenantId(self.tenant)), false).await
            {
                Ok(reports) => return Some(reports),
                Err(error) => {
                    self.stats.run_errors += 1;
                    last_error = error.to_string();
                    eprintln!(
                        "{}: billing run attempt {attempt} failed: {error}",
                        self.here()
                    );
                    tokio::time::sleep(Duration::from_millis(50 * (attempt + 1))).await;
                }
            }
        }
        self.fail(
            "run",
            format!("the billing run at {at} fails six times running: {last_error}"),
        );
        None
    }

    /// The first run of local day `day` at `at`: the model's expectations of it.
    async fn first_run_of_the_day(&mut self, at: DateTime<Utc>) {
        let day = local_date(self.zone, at);
        let crash = self.rng.random_bool(0.3);
        let Some(reports) = self.run_billing(at, crash).await else {
            return;
        };
        if tracing_steps() {
            eprintln!(
                "{}: the day's runs{}: {reports:?}",
                self.here(),
                if crash { " (crashed first)" } else { "" }
            );
        }
        self.days_run.entry(day).or_insert(at);
        self.stats.days_run += 1;
        // The invoice run: every live customer without this period's invoice gets one.
        let period = period_of(day, self.terms.billing_day);
        let whole = (period.1 - period.0).num_days();
        let due_at = day_start(self.zone, day + TimeDelta::days(self.terms.due_days));
        let mut new = Vec::new();
        for c in &self.customers {
            let has = self
                .invoices
                .iter()
                .any(|i| i.customer == c.id && i.period.0 == period.0);
            if has || c.created_at > at || c.joined >= period.1 {
                continue;
            }
            let days = (period.1 - c.joined.max(period.0)).num_days();
            let total = prorate(c.price, days, whole);
            if total > 0 {
                new.push(Inv {
                    id: 0,
                    customer: c.id,
                    period,
                    total,
                    due_at,
                    issued_on: day,
                    paid: 0,
                });
            }
        }
        // The late run: the previous period's invoice for those who joined during it after
        // its last invoice run began (none when no run went in it).
        let previous = period_of(period.0 - TimeDelta::days(1), self.terms.billing_day);
        if let Some((_, &last_at)) = self.days_run.range(previous.0..previous.1).next_back() {
            let ended = day_start(self.zone, previous.1);
            let whole = (previous.1 - previous.0).num_days();
            for c in &self.customers {
                let has = self
                    .invoices
                    .iter()
                    .chain(&new)
                    .any(|i| i.customer == c.id && i.period.0 == previous.0);
                if has || c.created_at < last_at || c.created_at >= ended || c.created_at > at {
                    continue;
                }
                let days = (previous.1 - c.joined.max(previous.0)).num_days();
                let total = prorate(c.price, days, whole);
                if total > 0 {
                    new.push(Inv {
                        id: 0,
                        customer: c.id,
                        period: previous,
                        total,
                        due_at,
                        issued_on: day,
                        paid: 0,
                    });
                }
            }
        }
        self.stats.invoices += new.len() as u64;
        self.invoices.extend(new);
        // No period a customer was live in goes without its invoice, though no run of
        // that period came after it joined (it joined after the period's last run).
        for n in 0..self.customers.len() {
            let c = self.customers[n].clone();
            let mut p = period_of(c.joined, self.terms.billing_day);
            while p.0 < period.0 {
                let billed = self
                    .invoices
                    .iter()
                    .any(|i| i.customer == c.id && i.period.0 == p.0);
                if !billed && self.unbilled.insert((c.id, p.0)) {
                    let last_run = self.days_run.range(p.0..p.1).next_back().map(|(d, _)| *d);
                    self.fail(
                        "invoice",
                        format!(
                            "{} (joined {} at {}) was live in {} – {} and is never invoiced for it: that period's last run was on {last_run:?}, the runs now bill {} – {}",
                            self.name_of(c.id),
                            c.joined,
                            local_text(self.zone, c.created_at),
                            p.0,
                            p.1,
                            period.0,
                            period.1
                        ),
                    );
                }
                p = period_of(p.1, self.terms.billing_day);
            }
        }
        // The overdue run: suspended when an invoice is unpaid on or after the local date
        // its grace ends.
        let ids: Vec<i64> = self.customers.iter().map(|c| c.id).collect();
        for id in ids {
            if !self.cust(id).suspended && self.overdue(id, at).is_some() {
                self.cust_mut(id).suspended = true;
                self.stats.suspensions += 1;
            }
        }
        self.check_state("after the day's first billing run").await;
    }

    /// A run later the same day: nothing more is issued, suspended or posted.
    async fn rerun(&mut self) {
        let at = self.now();
        let before = self.counts().await;
        let Some(reports) = self.run_billing(at, false).await else {
            return;
        };
        self.stats.reruns += 1;
        for kind in ["invoice", "overdue"] {
            let report = reports.iter().find(|r| r.kind == kind);
            if !report.is_some_and(|r| r.already_done) {
                self.fail(
                    "rerun",
                    format!("the {kind} run went again the same day: {report:?}"),
                );
            }
        }
        let after = self.counts().await;
        if after != before {
            self.fail(
                "rerun",
                format!("a re-run wrote (invoices, journals, payments, notifications) {before:?} → {after:?}"),
            );
        }
    }

    async fn counts(&self) -> (i64, i64, i64, i64) {
        (
            self.app.count("invoice").await,
            self.app.count("ledger_journal").await,
            self.app.count("payment").await,
            self.app.count("notification").await,
        )
    }

    /// An unpaid invoice of customer `id` whose grace is over on the local date of `at`.
    fn overdue(&self, id: i64, at: DateTime<Utc>) -> Option<&Inv> {
        let today = local_date(self.zone, at);
        self.invoices.iter().find(|i| {
            i.customer == id
                && i.paid < i.total
                && today >= local_date(self.zone, i.due_at) + TimeDelta::days(self.terms.grace_days)
        })
    }

    fn due(&self, id: i64) -> i64 {
        self.invoices
            .iter()
            .filter(|i| i.customer == id)
            .map(|i| i.total - i.paid)
            .sum()
    }

    /// Applies a payment of `amount` to customer `id`'s open invoices, oldest due first;
    /// returns what it paid of each, and whether it resumed the customer.
    fn apply(&mut self, id: i64, amount: i64, at: DateTime<Utc>) -> (Vec<(i64, i64)>, bool) {
        let mut open: Vec<usize> = (0..self.invoices.len())
            .filter(|&n| {
                self.invoices[n].customer == id && self.invoices[n].paid < self.invoices[n].total
            })
            .collect();
        open.sort_by_key(|&n| (self.invoices[n].due_at, self.invoices[n].id));
        let mut left = amount;
        let mut applied = Vec::new();
        for n in open {
            if left == 0 {
                break;
            }
            let inv = &mut self.invoices[n];
            let pays = left.min(inv.total - inv.paid);
            inv.paid += pays;
            left -= pays;
            applied.push((inv.id, pays));
        }
        let resumed = self.cust(id).suspended && self.overdue(id, at).is_none();
        let c = self.cust_mut(id);
        c.paid += amount;
        c.on_account += left;
        c.payments += 1;
        if resumed {
            c.suspended = false;
        }
        self.payment_rows += 1;
        (applied, resumed)
    }

    // -- the state check --------------------------------------------------------------

    /// Compares the database with the model; a disagreement is recorded and the model then
    /// takes the database's word.
    async fn check_state(&mut self, when: &str) {
        let rows = invoice::Entity::find()
            .filter(invoice::Column::TenantId.eq(self.tenant))
            .filter(invoice::Column::Series.eq("invoice"))
            .all(self.db())
            .await
            .unwrap();
        // Every invoice the model knows, and those it expects now.
        let mut seen = BTreeSet::new();
        let mut keep = Vec::new();
        let expected = std::mem::take(&mut self.invoices);
        for mut inv in expected {
            let row = if inv.id != 0 {
                rows.iter().find(|r| r.id == inv.id)
            } else {
                rows.iter().find(|r| {
                    r.customer_id == inv.customer
                        && r.period_start == Some(inv.period.0)
                        && !seen.contains(&r.id)
                        && !self_knows(&keep, r.id)
                })
            };
            let Some(row) = row else {
                let name = self.name_of(inv.customer);
                self.fail(
                    "invoice",
                    format!(
                        "{when}: no invoice of {name} for {} – {} (expected {} due {}, issued {})",
                        inv.period.0,
                        inv.period.1,
                        inv.total,
                        local_text(self.zone, inv.due_at),
                        inv.issued_on
                    ),
                );
                continue;
            };
            seen.insert(row.id);
            if inv.id == 0 {
                inv.id = row.id;
                let mut wrong = Vec::new();
                if row.total != inv.total {
                    wrong.push(format!("total {} (expected {})", row.total, inv.total));
                }
                if row.period_end != Some(inv.period.1) {
                    wrong.push(format!(
                        "period end {:?} (expected {})",
                        row.period_end, inv.period.1
                    ));
                }
                if row.due_at != Some(inv.due_at) {
                    wrong.push(format!(
                        "due {} (expected {} = {})",
                        row.due_at
                            .map_or("none".to_owned(), |d| local_text(self.zone, d)),
                        inv.due_at,
                        local_text(self.zone, inv.due_at)
                    ));
                }
                if local_date(self.zone, row.issued_at) != inv.issued_on {
                    wrong.push(format!(
                        "issued {} (expected on {})",
                        local_text(self.zone, row.issued_at),
                        inv.issued_on
                    ));
                }
                if !wrong.is_empty() {
                    let name = self.name_of(inv.customer);
                    self.fail(
                        "invoice",
                        format!(
                            "{when}: {name}'s invoice {} for {}: {}",
                            row.number_text,
                            inv.period.0,
                            wrong.join(", ")
                        ),
                    );
                    inv.total = row.total;
                    inv.due_at = row.due_at.unwrap_or(inv.due_at);
                }
            }
            let status = if inv.paid >= inv.total {
                "paid"
            } else {
                "open"
            };
            if row.amount_paid != inv.paid || row.status != status {
                let name = self.name_of(inv.customer);
                self.fail(
                    "paid",
                    format!(
                        "{when}: {name}'s invoice {} ({}): paid {} {} (the model: {} {status})",
                        row.number_text, inv.period.0, row.amount_paid, row.status, inv.paid
                    ),
                );
                inv.paid = row.amount_paid;
            }
            keep.push(inv);
        }
        for row in rows.iter().filter(|r| !seen.contains(&r.id)) {
            let known = self.customers.iter().any(|c| c.id == row.customer_id);
            let name = if known {
                self.name_of(row.customer_id)
            } else {
                format!("#{}", row.customer_id)
            };
            self.fail(
                "invoice",
                format!("{when}: an invoice the model does not expect: {} of {name} for {:?} – {:?}, {} due {:?}, issued {}",
                    row.number_text, row.period_start, row.period_end, row.total,
                    row.due_at.map(|d| local_text(self.zone, d)), local_text(self.zone, row.issued_at)),
            );
            keep.push(Inv {
                id: row.id,
                customer: row.customer_id,
                period: (
                    row.period_start.unwrap_or_default(),
                    row.period_end.unwrap_or_default(),
                ),
                total: row.total,
                due_at: row.due_at.unwrap_or_default(),
                issued_on: local_date(self.zone, row.issued_at),
                paid: row.amount_paid,
            });
        }
        self.invoices = keep;

        // Statuses.
        let rows = customer::Entity::find()
            .filter(customer::Column::TenantId.eq(self.tenant))
            .all(self.db())
            .await
            .unwrap();
        for n in 0..self.customers.len() {
            let c = self.customers[n].clone();
            let Some(row) = rows.iter().find(|r| r.id == c.id) else {
                self.fail("customer", format!("{} is gone", c.name));
                continue;
            };
            let suspended = row.status.code() == "suspended";
            if suspended != c.suspended
                || (suspended && row.suspended_for.as_deref() != Some("unpaid"))
            {
                let why = self.explain_suspension(c.id);
                self.fail(
                    "suspension",
                    format!(
                        "{when}: {} is {} (for {:?}); the model says {} ({why})",
                        self.name_of(c.id),
                        row.status.code(),
                        row.suspended_for,
                        if c.suspended { "suspended" } else { "active" }
                    ),
                );
                self.customers[n].suspended = suspended;
            }
        }

        // Payments.
        let rows = payment::Entity::find()
            .filter(payment::Column::TenantId.eq(self.tenant))
            .all(self.db())
            .await
            .unwrap();
        if rows.len() as i64 != self.payment_rows {
            self.fail(
                "payment",
                format!(
                    "{when}: {} payment rows, the model made {}",
                    rows.len(),
                    self.payment_rows
                ),
            );
            self.payment_rows = rows.len() as i64;
        }
        for n in 0..self.customers.len() {
            let c = self.customers[n].clone();
            let taken: i64 = rows
                .iter()
                .filter(|p| p.customer_id == c.id)
                .map(|p| p.amount)
                .sum();
            if taken != c.paid {
                self.fail(
                    "payment",
                    format!(
                        "{when}: {} paid {taken} in all, the model says {}",
                        self.name_of(c.id),
                        c.paid
                    ),
                );
                self.customers[n].paid = taken;
            }
        }
        let mut per_intent: BTreeMap<i64, u32> = BTreeMap::new();
        let mut per_txn: BTreeMap<(Option<i64>, String), u32> = BTreeMap::new();
        for p in rows.iter().filter(|p| p.method == "online") {
            *per_intent.entry(p.intent_id.unwrap_or(0)).or_default() += 1;
            *per_txn
                .entry((
                    p.gateway_account_id,
                    p.provider_txn_id.clone().unwrap_or_default(),
                ))
                .or_default() += 1;
        }
        for (intent, n) in per_intent.iter().filter(|(_, n)| **n != 1) {
            self.fail(
                "online",
                format!("{when}: intent {intent} credited {n} times"),
            );
        }
        for (txn, n) in per_txn.iter().filter(|(_, n)| **n != 1) {
            self.fail(
                "online",
                format!("{when}: provider transaction {txn:?} credited {n} times"),
            );
        }
    }

    /// Why the model says what it says of customer `id`'s suspension.
    fn explain_suspension(&self, id: i64) -> String {
        let now = self.now();
        let open: Vec<String> = self
            .invoices
            .iter()
            .filter(|i| i.customer == id && i.paid < i.total)
            .map(|i| {
                let by_days = local_date(self.zone, i.due_at) + TimeDelta::days(self.terms.grace_days);
                let by_hours = i.due_at + TimeDelta::days(self.terms.grace_days);
                format!(
                    "invoice for {} due {}, owing {}: grace over on local date {by_days}; due + {}×24 h = {}",
                    i.period.0,
                    local_text(self.zone, i.due_at),
                    i.total - i.paid,
                    self.terms.grace_days,
                    local_text(self.zone, by_hours)
                )
            })
            .collect();
        let days: Vec<String> = self
            .days_run
            .keys()
            .rev()
            .take(3)
            .map(ToString::to_string)
            .collect();
        format!(
            "now {}, grace {} days, open: [{}], last run days {days:?}",
            local_text(self.zone, now),
            self.terms.grace_days,
            open.join("; ")
        )
    }

    /// Through the API, once a month: each customer's invoices and payments as its reseller
    /// sees them, and the ledger verified.
    async fn monthly(&mut self) {
        for n in 0..self.customers.len() {
            let c = self.customers[n].clone();
            let token = self.token(c.owner).to_owned();
            let (status, list) = self
                .app
                .get(
                    &format!(
                        "/api/v1/invoices?series=invoice&customer_id={}&limit=500",
                        c.id
                    ),
                    &token,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{}: {list}", self.here());
            let items = list["items"].as_array().unwrap();
            let mine: Vec<&Inv> = self
                .invoices
                .iter()
                .filter(|i| i.customer == c.id)
                .collect();
            let due: i64 = items
                .iter()
                .map(|i| i["amount_due"].as_i64().unwrap())
                .sum();
            let mut periods: Vec<String> = items
                .iter()
                .map(|i| i["period_start"].as_str().unwrap().to_owned())
                .collect();
            periods.sort();
            let mut expected: Vec<String> = mine.iter().map(|i| i.period.0.to_string()).collect();
            expected.sort();
            if periods != expected || due != self.due(c.id) {
                self.fail(
                    "api",
                    format!("{}'s invoices through the API: periods {periods:?} owing {due}; the model: {expected:?} owing {}",
                        self.name_of(c.id), self.due(c.id)),
                );
            }
            let (status, paid) = self
                .app
                .get(&format!("/api/v1/payments?customer_id={}", c.id), &token)
                .await;
            assert_eq!(status, StatusCode::OK, "{}: {paid}", self.here());
            let count = paid.as_array().unwrap().len() as i64;
            if count != c.payments.min(100) {
                self.fail(
                    "api",
                    format!(
                        "{}: {count} payments through the API, the model made {}",
                        self.name_of(c.id),
                        c.payments
                    ),
                );
            }
        }
        self.verify_ledger().await;
    }

    async fn verify_ledger(&mut self) {
        let breaches = store::ledger::verify(self.db(), None).await.unwrap();
        if !breaches.is_empty() {
            self.fail("ledger", format!("ledger verify: {breaches:?}"));
        }
    }

    // -- cash -------------------------------------------------------------------------

    async fn cash(&mut self) {
        let id = self.customers[self.rng.random_range(0..self.customers.len())].id;
        let due = self.due(id);
        let owner = self.cust(id).owner;
        let by = self.collector(owner);
        let token = self.token(by).to_owned();
        let kind = self.rng.random_range(0..100);
        let amount = match kind {
            _ if due == 0 => self.rng.random_range(1..=600) * TAKA,
            0..=34 => due,
            35..=69 => self.rng.random_range(1..=due),
            70..=84 => due + self.rng.random_range(1..=50_000),
            _ => due,
        };
        let keyed = kind >= 85 && amount <= due;
        let before = self.counts().await;
        let at = self.now();
        let body = json!({"customer_id": id, "amount": amount});
        let answers = if keyed {
            self.next_name += 1;
            let key = format!("sim-{}-{}-{}", self.seed, self.step, self.next_name);
            let headers = [("Idempotency-Key", key.as_str())];
            let send = || {
                self.app.call_full(
                    Method::POST,
                    "/api/v1/payments",
                    Some(&token),
                    Some(body.clone()),
                    &headers,
                )
            };
            if self.rng.random_bool(0.5) {
                // Sent twice at once (a double click), then once more later.
                let (a, b) = tokio::join!(send(), send());
                let c = send().await;
                vec![a, b, c]
            } else {
                let a = send().await;
                let b = send().await;
                vec![a, b]
            }
        } else {
            vec![
                self.app
                    .call_full(
                        Method::POST,
                        "/api/v1/payments",
                        Some(&token),
                        Some(body.clone()),
                        &[],
                    )
                    .await,
            ]
        };
        let after = self.counts().await;
        let what = format!(
            "{by:?} takes {amount} in cash from {} owing {due}",
            self.name_of(id)
        );
        if amount > due {
            let (status, _, refused) = &answers[0];
            self.stats.cash_refused += 1;
            if *status != StatusCode::UNPROCESSABLE_ENTITY
                || !refused.to_string().contains("exceeds_due")
                || !refused.to_string().contains(&due.to_string())
            {
                self.fail(
                    "cash",
                    format!("{what}: {status} {refused} (expected 422 exceeds_due, due {due})"),
                );
            }
            if after != before {
                self.fail(
                    "cash",
                    format!("{what}: refused, yet wrote {before:?} → {after:?}"),
                );
            }
            return;
        }
        // The first answer with a key is replayed (201 again, or 200 once the key is
        // forgotten); a copy sent while the first still runs is told so (409).
        let taken: Vec<&(StatusCode, _, Value)> =
            answers.iter().filter(|(s, _, _)| s.is_success()).collect();
        let waiting = answers
            .iter()
            .filter(|(s, _, b)| *s == StatusCode::CONFLICT && b.to_string().contains("in_flight"))
            .count();
        if taken.is_empty() || taken.len() + waiting != answers.len() {
            let got: Vec<String> = answers.iter().map(|(s, _, b)| format!("{s} {b}")).collect();
            self.fail(
                "cash",
                format!("{what}: answers {got:?} (the payment, its replays)"),
            );
            if taken.is_empty() {
                return;
            }
        }
        self.stats.cash_taken += 1;
        self.stats.cash_replays += (answers.len() - 1) as u64;
        let first = taken[0].2.clone();
        for (_, _, other) in &taken {
            if *other != first {
                self.fail(
                    "cash",
                    format!("{what}: a replay answered otherwise: {other} vs {first}"),
                );
            }
        }
        if after.2 != before.2 + 1 {
            self.fail(
                "cash",
                format!("{what}: {} payment rows written", after.2 - before.2),
            );
        }
        let was_suspended = self.cust(id).suspended;
        let (applied, resumed) = self.apply(id, amount, at);
        let answered: Vec<(i64, i64)> = first["applied"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["invoice_id"].as_i64().unwrap(),
                    a["amount"].as_i64().unwrap(),
                )
            })
            .collect();
        if answered != applied {
            self.fail(
                "cash",
                format!("{what}: applied {answered:?}, the model {applied:?}"),
            );
        }
        if first["resumed"].as_bool() != Some(resumed) {
            let why = self.explain_suspension(id);
            self.fail(
                "suspension",
                format!(
                    "{what}: resumed {} (the model says {resumed}: {why})",
                    first["resumed"]
                ),
            );
            let resumed_now = first["resumed"].as_bool() == Some(true);
            self.cust_mut(id).suspended = was_suspended && !resumed_now;
        }
        if resumed {
            self.stats.resumptions += 1;
        }
    }

    // -- online -----------------------------------------------------------------------

    fn pick_mode(&mut self) -> Mode {
        match self.rng.random_range(0..100) {
            0..=27 => Mode::Normal,
            28..=31 => Mode::Restart,
            32..=43 => Mode::Racing,
            44..=52 => Mode::CashMeanwhile,
            53..=59 => Mode::Declined,
            60..=66 => Mode::WrongSecret,
            67..=73 => Mode::Stale,
            74..=80 => Mode::Dropped,
            81..=88 => Mode::ConfirmOutage,
            _ => Mode::Abandoned,
        }
    }

    async fn intent_row(&self, id: i64) -> payment_intent::Model {
        payment_intent::Entity::find_by_id(id)
            .one(self.db())
            .await
            .unwrap()
            .unwrap()
    }

    /// The intent once it is no longer pending, or after `seconds` as it is.
    async fn settled(&self, id: i64, seconds: u64) -> payment_intent::Model {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            let row = self.intent_row(id).await;
            if row.status != "pending" || tokio::time::Instant::now() > deadline {
                return row;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Reconciliation comes due: the clock moves past the quiet time, the scheduler ticks.
    async fn reconcile(&mut self) {
        self.app.clock().shift(150);
        lastmile::jobs::tick(&self.app.state, false).await;
        self.stats.reconciles += 1;
    }

    async fn events_of(&self, provider_payment_id: &str) -> Vec<gateway_event::Model> {
        gateway_event::Entity::find()
            .filter(gateway_event::Column::ProviderPaymentId.eq(provider_payment_id))
            .all(self.db())
            .await
            .unwrap()
    }

    async fn restart(&mut self) {
        self.app.restart().await;
        self.relay.point_at(&self.app);
        self.stats.restarts += 1;
    }

    async fn online(&mut self) {
        let id = self.customers[self.rng.random_range(0..self.customers.len())].id;
        let due = self.due(id);
        let owner = self.cust(id).owner;
        let g = self.rng.random_range(0..self.gateways.len());
        let account = self.gateways[g].account;
        let token = self.token(owner).to_owned();
        let intents_before = self.app.count("payment_intent").await;
        let (status, intent) = self
            .app
            .post(
                "/api/v1/payments/online",
                &token,
                json!({"customer_id": id, "gateway_account_id": account}),
            )
            .await;
        if due == 0 {
            if status != StatusCode::UNPROCESSABLE_ENTITY
                || !intent.to_string().contains("nothing_due")
            {
                self.fail(
                    "online",
                    format!(
                        "{} owes nothing, yet the intent answered {status} {intent}",
                        self.name_of(id)
                    ),
                );
            }
            if self.app.count("payment_intent").await != intents_before {
                self.fail(
                    "online",
                    format!("a refused intent for {} was written", self.name_of(id)),
                );
            }
            return;
        }
        if status != StatusCode::CREATED {
            self.fail(
                "online",
                format!(
                    "{} owes {due}: the intent answered {status} {intent}",
                    self.name_of(id)
                ),
            );
            return;
        }
        let intent_id = intent["id"].as_i64().unwrap();
        let amount = intent["amount"].as_i64().unwrap();
        if amount != due || intent["purpose"] != "invoices" || intent["status"] != "pending" {
            self.fail(
                "online",
                format!("{} owes {due}: intent {intent}", self.name_of(id)),
            );
        }
        let merchant_ref = intent["merchant_ref"].as_str().unwrap().to_owned();
        let provider_payment_id = self.gateways[g]
            .sim
            .payments()
            .into_iter()
            .find(|p| p.merchant_ref == merchant_ref)
            .map(|p| p.id)
            .unwrap();
        let mode = self.pick_mode();
        *self.stats.online.entry(format!("{mode:?}")).or_default() += 1;
        let expires_at: DateTime<Utc> = intent["expires_at"].as_str().unwrap().parse().unwrap();
        self.intents.push(IntentRec {
            id: intent_id,
            customer: id,
            amount,
            gateway: g,
            provider_payment_id: provider_payment_id.clone(),
            mode,
            expires_at,
            paid_late: false,
        });
        if mode == Mode::Abandoned {
            return;
        }
        if mode == Mode::CashMeanwhile {
            self.cash_for(id).await;
        }
        let mut scenario = self.gateways[g].scenario.clone();
        match mode {
            Mode::Declined => scenario.declined = true,
            Mode::WrongSecret => scenario.wrong_secret = true,
            Mode::Stale => scenario.stale_signature = true,
            Mode::Dropped => scenario.drop_webhooks = true,
            Mode::ConfirmOutage => scenario.fail_confirm = true,
            _ => {}
        }
        self.gateways[g].sim.set_scenario(scenario);
        let paid = self.gateways[g].sim.pay(&provider_payment_id).await;
        if let Err(error) = paid {
            self.fail(
                "online",
                format!("the simulator cannot take intent {intent_id}: {error}"),
            );
        }
        let racer = (mode == Mode::Racing).then(|| {
            let budget = if self.rng.random_bool(0.5) {
                Duration::from_micros(self.rng.random_range(100..8_000))
            } else {
                Duration::from_secs(10)
            };
            tokio::spawn(race_settle(
                self.app.state.clone(),
                account,
                intent_id,
                provider_payment_id.clone(),
                budget,
            ))
        });
        if mode == Mode::Restart {
            self.restart().await;
        }
        let what = format!(
            "{mode:?} online payment {intent_id} of {amount} by {}",
            self.name_of(id)
        );
        let row = match mode {
            Mode::WrongSecret | Mode::Stale | Mode::Dropped | Mode::ConfirmOutage => {
                if mode == Mode::ConfirmOutage {
                    // The notices are kept; their confirmations fail.
                    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
                    while self.events_of(&provider_payment_id).await.is_empty()
                        && tokio::time::Instant::now() < deadline
                    {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
                let still = self.intent_row(intent_id).await;
                let events = self.events_of(&provider_payment_id).await.len();
                let kept_ok = if mode == Mode::ConfirmOutage {
                    events > 0
                } else {
                    events == 0
                };
                if still.status != "pending" || !kept_ok {
                    self.fail(
                        "online",
                        format!(
                            "{what}: before reconciliation {} {:?} with {events} notices kept",
                            still.status, still.outcome
                        ),
                    );
                }
                self.gateways[g]
                    .sim
                    .set_scenario(self.gateways[g].scenario.clone());
                self.reconcile().await;
                self.settled(intent_id, 15).await
            }
            Mode::Restart => {
                let row = self.settled(intent_id, 4).await;
                if row.status == "pending" {
                    // Every delivery fell on the restart: reconciliation finds it.
                    self.reconcile().await;
                    self.settled(intent_id, 15).await
                } else {
                    row
                }
            }
            _ => self.settled(intent_id, 15).await,
        };
        self.gateways[g]
            .sim
            .set_scenario(self.gateways[g].scenario.clone());
        if let Some(racer) = racer {
            self.stats.settles_raced += 1;
            match racer.await.unwrap() {
                None => self.stats.settles_aborted += 1,
                Some(Ok(ops::gateway::Settled::Paid(_))) => {
                    self.stats.settles_won_by_the_racer += 1
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => eprintln!("{}: the racing settle failed: {error}", self.here()),
            }
        }
        let credited = payment::Entity::find()
            .filter(payment::Column::IntentId.eq(intent_id))
            .all(self.db())
            .await
            .unwrap();
        if mode == Mode::Declined {
            if (row.status.as_str(), row.outcome.as_deref()) != ("failed", Some("declined"))
                || !credited.is_empty()
            {
                self.fail(
                    "online",
                    format!(
                        "{what}: {} {:?}, {} payments (expected failed/declined, none)",
                        row.status,
                        row.outcome,
                        credited.len()
                    ),
                );
            }
            return;
        }
        let sim_payment = self.gateways[g]
            .sim
            .payments()
            .into_iter()
            .find(|p| p.id == provider_payment_id)
            .unwrap();
        if (row.status.as_str(), row.outcome.as_deref()) != ("succeeded", Some("paid"))
            || credited.len() != 1
            || credited[0].amount != amount
            || credited[0].provider_txn_id != sim_payment.txn_id
            || credited[0].gateway_account_id != Some(account)
            || sim_payment.amount != amount
        {
            self.fail(
                "online",
                format!(
                    "{what}: {} {:?}, credited {:?}; the provider holds {:?}",
                    row.status,
                    row.outcome,
                    credited
                        .iter()
                        .map(|p| (p.amount, p.provider_txn_id.clone()))
                        .collect::<Vec<_>>(),
                    sim_payment
                ),
            );
        }
        if credited.len() == 1 {
            let at = credited[0].received_at;
            let (_, resumed) = self.apply(id, credited[0].amount, at);
            if resumed {
                self.stats.resumptions += 1;
            }
            // Nothing else says whether it resumed: the state check compares the status.
        }
    }

    /// A cash payment of part or all of what customer `id` owes (for `CashMeanwhile`).
    async fn cash_for(&mut self, id: i64) {
        let due = self.due(id);
        let amount = if self.rng.random_bool(0.5) {
            due
        } else {
            self.rng.random_range(1..=due)
        };
        let by = self.collector(self.cust(id).owner);
        let token = self.token(by).to_owned();
        let at = self.now();
        let (status, paid) = self
            .app
            .post(
                "/api/v1/payments",
                &token,
                json!({"customer_id": id, "amount": amount}),
            )
            .await;
        if status != StatusCode::CREATED {
            self.fail(
                "cash",
                format!(
                    "{by:?} takes {amount} of {due} from {}: {status} {paid}",
                    self.name_of(id)
                ),
            );
            return;
        }
        self.stats.cash_taken += 1;
        let was_suspended = self.cust(id).suspended;
        let (_, resumed) = self.apply(id, amount, at);
        if paid["resumed"].as_bool() != Some(resumed) {
            let why = self.explain_suspension(id);
            self.fail(
                "suspension",
                format!(
                    "{by:?} takes {amount} from {}: resumed {} (the model says {resumed}: {why})",
                    self.name_of(id),
                    paid["resumed"]
                ),
            );
            let resumed_now = paid["resumed"].as_bool() == Some(true);
            self.cust_mut(id).suspended = was_suspended && !resumed_now;
        }
    }

    /// An abandoned intent, closed by reconciliation once its hour is up, is paid at the
    /// provider after all (its checkout is still open there).
    async fn late_payment(&mut self) {
        let now = self.now();
        let Some(n) = self
            .intents
            .iter()
            .position(|i| i.mode == Mode::Abandoned && !i.paid_late && i.expires_at < now)
        else {
            return;
        };
        let rec = self.intents[n].clone();
        self.intents[n].paid_late = true;
        *self.stats.online.entry("PaidLate".to_owned()).or_default() += 1;
        self.reconcile().await;
        let closed = self.settled(rec.id, 15).await;
        if (closed.status.as_str(), closed.outcome.as_deref()) != ("expired", Some("expired")) {
            self.fail(
                "online",
                format!(
                    "abandoned intent {} of {}: {} {:?} after its hour (expected expired)",
                    rec.id,
                    self.name_of(rec.customer),
                    closed.status,
                    closed.outcome
                ),
            );
        }
        let g = rec.gateway;
        self.gateways[g]
            .sim
            .set_scenario(self.gateways[g].scenario.clone());
        if let Err(error) = self.gateways[g].sim.pay(&rec.provider_payment_id).await {
            self.fail(
                "online",
                format!("the simulator cannot take intent {} late: {error}", rec.id),
            );
            return;
        }
        // Its notices arrive and are settled.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let events = self.events_of(&rec.provider_payment_id).await;
            if (!events.is_empty() && events.iter().all(|e| e.processed_at.is_some()))
                || tokio::time::Instant::now() > deadline
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let sim_payment = self.gateways[g]
            .sim
            .payments()
            .into_iter()
            .find(|p| p.id == rec.provider_payment_id)
            .unwrap();
        let credited = payment::Entity::find()
            .filter(payment::Column::TenantId.eq(self.tenant))
            .filter(
                payment::Column::ProviderTxnId.eq(sim_payment.txn_id.clone().unwrap_or_default()),
            )
            .all(self.db())
            .await
            .unwrap();
        if credited.len() != 1 || sim_payment.amount != rec.amount {
            let outcomes: Vec<Option<String>> = self
                .events_of(&rec.provider_payment_id)
                .await
                .into_iter()
                .map(|e| e.outcome)
                .collect();
            self.fail(
                "online",
                format!(
                    "intent {} of {} ({} {:?}) was paid at the provider after lastmile closed it: the provider took {} {} as {:?} ({:?}); lastmile credited it {} times (notices settled as {outcomes:?})",
                    rec.id, self.name_of(rec.customer), closed.status, closed.outcome, sim_payment.amount,
                    sim_payment.currency, sim_payment.txn_id, sim_payment.status, credited.len()
                ),
            );
        }
        if let Some(p) = credited.first() {
            let (amount, at) = (p.amount, p.received_at);
            self.apply(rec.customer, amount, at);
        }
    }

    // -- the walk ---------------------------------------------------------------------

    async fn run(&mut self) {
        loop {
            let target = self.next_instant();
            if target >= self.end {
                break;
            }
            self.step += 1;
            self.stats.steps += 1;
            self.set_clock(target);
            self.step_at = target;
            let day = local_date(self.zone, target);
            if tracing_steps() {
                eprintln!("{}: step", self.here());
            }
            let since = std::time::Instant::now();
            if !self.days_run.contains_key(&day) {
                self.first_run_of_the_day(self.step_at).await;
            } else if self.rng.random_bool(0.5) {
                self.rerun().await;
            }
            self.stats.spent("runs", since);
            let actions = self.rng.random_range(0..=3);
            for _ in 0..actions {
                let since = std::time::Instant::now();
                // What moves the clock (reconciliation) waits for the next step late at
                // night: a step stays in its local day.
                let late = self.now().with_timezone(&self.zone).time()
                    > NaiveTime::from_hms_opt(23, 35, 0).unwrap();
                let pick = self.rng.random_range(0..100);
                let pick = if late { pick % 45 } else { pick };
                let what = match pick {
                    0..=44 => {
                        self.cash().await;
                        "cash"
                    }
                    45..=79 => {
                        self.online().await;
                        "online"
                    }
                    80..=84 => {
                        self.new_customer().await;
                        self.stats.joined_late += 1;
                        "join"
                    }
                    85..=89 => {
                        self.late_payment().await;
                        "late"
                    }
                    90..=91 => {
                        self.restart().await;
                        "restart"
                    }
                    92..=93 => {
                        self.change_terms().await;
                        "terms"
                    }
                    _ => {
                        self.rerun().await;
                        "runs"
                    }
                };
                self.stats.spent(what, since);
            }
            let since = std::time::Instant::now();
            self.check_state("after the step's payments").await;
            self.stats.spent("checks", since);
            let month = (day.year(), day.month());
            if self.last_month.is_some_and(|m| m != month) {
                let since = std::time::Instant::now();
                self.monthly().await;
                self.stats.spent("monthly", since);
            }
            self.last_month = Some(month);
        }
    }

    /// The Admin changes the days to pay and the grace (the billing day stays).
    async fn change_terms(&mut self) {
        let terms = Terms {
            due_days: self.rng.random_range(0..=12),
            grace_days: self.rng.random_range(0..=6),
            ..self.terms
        };
        let (status, set) = self
            .app
            .call(
                Method::PUT,
                &format!("/api/v1/tenants/{}/billing-terms", self.tenant),
                Some(&self.admin),
                Some(terms.body()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{}: {set}", self.here());
        self.terms = terms;
        self.stats.terms_changed += 1;
    }

    /// After the walk: the notices still on their way arrive, the jobs finish; every
    /// payment a provider took is credited exactly once, numbers are gapless, the ledger
    /// is clean.
    async fn finish(&mut self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let busy = job::Entity::find()
                .filter(job::Column::Kind.eq(ops::gateway::EVENT_JOB))
                .all(self.db())
                .await
                .unwrap()
                .into_iter()
                .filter(|j| !j.status.get().finished() && j.run_at <= self.now())
                .count();
            if busy == 0 || tokio::time::Instant::now() > deadline {
                break;
            }
        }
        self.check_state("at the end").await;

        // Every payment each provider took, credited once; none it did not take.
        let payments = payment::Entity::find()
            .filter(payment::Column::TenantId.eq(self.tenant))
            .all(self.db())
            .await
            .unwrap();
        for g in 0..self.gateways.len() {
            let account = self.gateways[g].account;
            for p in self.gateways[g].sim.payments() {
                let credited: Vec<&payment::Model> = payments
                    .iter()
                    .filter(|r| {
                        r.gateway_account_id == Some(account)
                            && p.txn_id.is_some()
                            && r.provider_txn_id == p.txn_id
                    })
                    .collect();
                let want = usize::from(p.status == gateways::PaymentStatus::Succeeded);
                if credited.len() != want || credited.iter().any(|r| r.amount != p.amount) {
                    let late = self
                        .intents
                        .iter()
                        .any(|i| i.provider_payment_id == p.id && i.paid_late);
                    if !late {
                        self.fail(
                            "online",
                            format!(
                                "at the end: the provider's {} {} ({:?}, {}) credited {} times",
                                p.id,
                                p.amount,
                                p.status,
                                p.merchant_ref,
                                credited.len()
                            ),
                        );
                    }
                }
            }
        }
        // Every intent: credited at most once, and only when it succeeded.
        let intents = payment_intent::Entity::find()
            .filter(payment_intent::Column::TenantId.eq(self.tenant))
            .all(self.db())
            .await
            .unwrap();
        for intent in &intents {
            let n = payments
                .iter()
                .filter(|p| p.intent_id == Some(intent.id))
                .count();
            if n != usize::from(intent.status == "succeeded")
                || (n == 1 && intent.payment_id.is_none())
            {
                self.fail(
                    "online",
                    format!(
                        "at the end: intent {} is {} {:?} with {n} payments",
                        intent.id, intent.status, intent.outcome
                    ),
                );
            }
        }
        // One invoice per customer and period; gapless numbers.
        let documents = invoice::Entity::find()
            .filter(invoice::Column::TenantId.eq(self.tenant))
            .all(self.db())
            .await
            .unwrap();
        let mut per_period: BTreeMap<(i64, Option<NaiveDate>), u32> = BTreeMap::new();
        let mut numbers: BTreeMap<(String, i32), Vec<i64>> = BTreeMap::new();
        for d in &documents {
            if d.series == "invoice" {
                *per_period
                    .entry((d.customer_id, d.period_start))
                    .or_default() += 1;
            }
            numbers
                .entry((d.series.clone(), d.fiscal_year))
                .or_default()
                .push(d.number);
        }
        for ((customer, period), n) in per_period.iter().filter(|(_, n)| **n != 1) {
            self.fail(
                "invoice",
                format!("at the end: customer {customer} has {n} invoices for {period:?}"),
            );
        }
        for ((series, year), mut list) in numbers {
            list.sort_unstable();
            let gapless = list.iter().zip(1..).all(|(n, want)| *n == want);
            if !gapless {
                self.fail(
                    "numbers",
                    format!("{series} {year}: numbers {list:?} are not 1..N"),
                );
            }
        }
        self.verify_ledger().await;
        let online: u64 = self.stats.online.values().sum();
        assert!(
            self.stats.invoices > 0 && self.stats.cash_taken > 0 && online > 0,
            "seed {}: the walk did too little: {:?}",
            self.seed,
            self.stats
        );
    }
}

/// True when `keep` already matched invoice `id`.
fn self_knows(keep: &[Inv], id: i64) -> bool {
    keep.iter().any(|i| i.id == id)
}

/// Another node's reconciliation of one intent, racing the notices' job: it asks the
/// provider and settles, unless `budget` runs out first (it crashes mid-way).
async fn race_settle(
    state: web::AppState,
    account: i64,
    intent: i64,
    provider_payment_id: String,
    budget: Duration,
) -> Option<Result<ops::gateway::Settled, String>> {
    let work = async {
        let ctx = state.ctx();
        let credentials = ops::gateway::credentials(&ctx, account)
            .await
            .map_err(|e| e.to_string())?;
        let cfg =
            web::billing::online::config(&credentials).ok_or_else(|| "no provider".to_owned())?;
        let client = state
            .payments
            .as_ref()
            .ok_or_else(|| "no client".to_owned())?;
        let answer = client
            .confirm(&cfg, &provider_payment_id)
            .await
            .map_err(|e| e.to_string())?;
        let confirmed = ops::gateway::Confirmed {
            status: match answer.status {
                gateways::PaymentStatus::Succeeded => ops::gateway::ConfirmedStatus::Succeeded,
                gateways::PaymentStatus::Pending => ops::gateway::ConfirmedStatus::Pending,
                gateways::PaymentStatus::Failed => ops::gateway::ConfirmedStatus::Failed,
            },
            amount: answer.amount,
            currency: answer.currency,
            merchant_ref: answer.merchant_ref,
            txn_id: answer.txn_id,
        };
        ops::gateway::settle(&state.ctx(), intent, &confirmed)
            .await
            .map_err(|e| e.to_string())
    };
    tokio::time::timeout(budget, work).await.ok()
}

async fn months_of_billing_credit_every_payment_once(backend: Backend) {
    let mut failures = Vec::new();
    for seed in seeds() {
        let started = std::time::Instant::now();
        let mut sim = Sim::new(backend, seed).await;
        sim.run().await;
        sim.finish().await;
        eprintln!(
            "seed {seed} on {backend:?}: {:.1} s, {:?}",
            started.elapsed().as_secs_f64(),
            sim.stats
        );
        if sim.failures.is_empty() {
            support::money::verify_clean(&sim.app).await;
        }
        failures.append(&mut sim.failures);
        sim.app.stop().await;
        for g in sim.gateways {
            g.sim.shutdown().await;
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements with the model:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

both_backends!(months_of_billing_credit_every_payment_once);
