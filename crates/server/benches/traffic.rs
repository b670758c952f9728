//! Traffic graphs as an ISP meets them, on an installation seeded like an ISP's.
//!
//! ```text
//! cargo bench -p lastmile --bench traffic [-- CUSTOMERS]
//! ```
//!
//! For each backend (`LASTMILE_BENCH_BACKENDS`, default both), CUSTOMERS (default 100 000;
//! `lastmile bench seed`: resellers, skewed packages, shared name prefixes) and:
//!
//! 1. storage, first, on an empty ring table: 2 000 customers' rings filled (two days of
//!    five-minute buckets, 32 days of hourly ones), the bytes they take a customer;
//! 2. the accounting path: Interim-Updates of 20 000 sessions through the built-in server's
//!    writer (`store::accounting::record`, batches of 512), with the traffic trigger; the
//!    same shape without it (dropped at the end) is the baseline, in the same command;
//! 3. the roll-up (`ops::traffic::roll_up`) of what (2) appended (with the seed's sessions,
//!    first heard of with days of counters: each spread over a ring's reach), then of 500 000
//!    five-minute deltas of customers drawn at random over the last two days (median of
//!    three): points a second;
//! 4. every customer with its last two hours of buckets, then, over HTTP as the tenant's
//!    Admin, a 30-day graph as JSON and as SVG for customers drawn at random among those with
//!    full rings, against reading the customer itself (p50 and p95 of 300 each).
//!
//! `LASTMILE_BENCH_ONLY=graphs` measures (1) and (4) only.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark prints, and fails loudly

mod common;

use std::time::{Duration, Instant};

use common::{Install, Latencies, ms, ratio, rows};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use sea_orm::DatabaseBackend;
use store::accounting::{AcctKind, AcctRecord};
use testkit::Backend;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let customers = common::customers_arg(100_000);
    println!("traffic graphs, {customers} customers");
    for backend in common::backends() {
        run(backend, customers).await;
    }
}

/// Sessions the accounting phase keeps open.
const SESSIONS: usize = 20_000;
/// Interim-Updates each of them sends.
const ROUNDS: i64 = 5;
/// Customers whose rings are filled.
const FULL: i64 = 2_000;
/// Deltas of the roll-up's synthetic backlog.
const BACKLOG: i64 = 500_000;

async fn scalar(db: &store::Db, sql: &str) -> i64 {
    let found = rows(db.conn(), sql).await;
    found[0]
        .try_get_by_index::<Option<i64>>(0)
        .unwrap()
        .unwrap_or(0)
}

async fn run(backend: Backend, customers: usize) {
    println!("\n{backend:?}");
    let install = Install::new(backend).await;
    let seed = install.run(&[
        "bench",
        "seed",
        "--customers",
        &customers.to_string(),
        "--with-staff",
    ]);
    let (email, password) = seed
        .lines()
        .find_map(|line| {
            let mut parts = line.strip_prefix("account admin ")?.splitn(2, ' ');
            Some((parts.next()?.to_owned(), parts.next()?.trim().to_owned()))
        })
        .unwrap();
    let key = std::fs::read_to_string(install.dir().join("secret.key")).unwrap();
    let keyring = store::crypto::Keyring::parse(&key).unwrap();
    let db = store::Db::connect(&install.database_url(), 4, keyring)
        .await
        .unwrap();
    let engine = db.conn().get_database_backend();
    let people: Vec<(i64, i64, String)> = rows(
        db.conn(),
        "SELECT id, tenant_id, username FROM customer WHERE archived_at IS NULL ORDER BY id",
    )
    .await
    .iter()
    .map(|r| {
        (
            r.try_get_by_index(0).unwrap(),
            r.try_get_by_index(1).unwrap(),
            r.try_get_by_index(2).unwrap(),
        )
    })
    .collect();
    let nas: String = rows(
        db.conn(),
        "SELECT nas_address FROM router ORDER BY id LIMIT 1",
    )
    .await[0]
        .try_get_by_index(0)
        .unwrap();
    let mut rng = StdRng::seed_from_u64(7);

    // 1. Storage of full rings, on an empty ring table (before any roll-up).
    let (first, last) = (people[0].0, people[people.len() - 1].0);
    let before = size(&db, engine).await;
    let now = ops::clock::Clock::system().now().timestamp();
    fill(&db, engine, first, FULL, now, true).await;
    let after = size(&db, engine).await;
    println!(
        "  storage: full rings (576 five-minute + 768 hourly buckets) {} bytes a customer",
        (after - before) / FULL
    );

    // `LASTMILE_BENCH_ONLY=graphs`: the storage and the graphs only (at 10^6 customers the
    // seed's sessions alone are millions of buckets to roll up first).
    let only_graphs = std::env::var("LASTMILE_BENCH_ONLY").is_ok_and(|v| v == "graphs");
    let with = if only_graphs {
        Duration::ZERO
    } else {
        phases(&db, &people, &nas, &mut rng, engine).await
    };

    // 4. Every customer with its last two hours; the graphs over HTTP.
    let started = Instant::now();
    fill(
        &db,
        engine,
        first + FULL,
        last - first + 1 - FULL,
        now,
        false,
    )
    .await;
    let total = scalar(&db, "SELECT COUNT(*) FROM traffic_point").await;
    println!(
        "  {total} buckets in all after every customer's last two hours ({})",
        ms(started.elapsed())
    );
    install.run(&["db", "analyze"]);
    let http = common::client();
    let (server, _) = install.serve(&[], &http).await;
    let login: serde_json::Value = http
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let mut read = Vec::new();
    let mut json = Vec::new();
    let mut svg = Vec::new();
    for _ in 0..300 {
        let id = first + rng.random_range(0..FULL);
        let started = Instant::now();
        server
            .get_json(&http, &token, &format!("/api/v1/customers/{id}"))
            .await;
        read.push(started.elapsed());
        let started = Instant::now();
        let body = server
            .get_json(
                &http,
                &token,
                &format!("/api/v1/customers/{id}/traffic?period=month"),
            )
            .await;
        json.push(started.elapsed());
        assert_eq!(body["points"].as_array().map(Vec::len), Some(720));
        let started = Instant::now();
        let drawn = http
            .get(format!(
                "{}/api/v1/customers/{id}/traffic.svg?period=month",
                server.base
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(drawn.status().is_success());
        let text = drawn.text().await.unwrap();
        svg.push(started.elapsed());
        assert!(text.starts_with("<svg"));
    }
    let (read, json, svg) = (
        Latencies::new(read),
        Latencies::new(json),
        Latencies::new(svg),
    );
    for (what, l) in [
        ("customer read (baseline)", &read),
        ("30-day graph, JSON", &json),
        ("30-day graph, SVG", &svg),
    ] {
        println!(
            "  {what:<26} p50 {} ({} the baseline's)  p95 {}",
            ms(l.quantile(0.5)),
            ratio(l.quantile(0.5), read.quantile(0.5)),
            ms(l.quantile(0.95))
        );
    }
    server.stop().await;

    // 2'. The accounting path without the trigger: the baseline.
    let drop = match backend {
        Backend::Sqlite => {
            "DROP TRIGGER radacct_traffic_insert; DROP TRIGGER radacct_traffic_update"
        }
        Backend::Postgres => {
            "DROP TRIGGER radacct_traffic_insert ON radacct; \
             DROP TRIGGER radacct_traffic_update ON radacct"
        }
    };
    use sea_orm::ConnectionTrait as _;
    if only_graphs {
        db.close().await.unwrap();
        return;
    }
    db.conn().execute_unprepared(drop).await.unwrap();
    let without = accounting(&db, &people, &nas, &mut rng, "b").await;
    println!(
        "  accounting without the trigger (baseline): {:.0} records/s; with it {} the time",
        (SESSIONS as i64 * ROUNDS) as f64 / without.as_secs_f64(),
        ratio(with, without)
    );
    db.close().await.unwrap();
}

/// Phases 2 and 3: the accounting path with the trigger (its time), and the roll-ups.
async fn phases(
    db: &store::Db,
    people: &[(i64, i64, String)],
    nas: &str,
    rng: &mut StdRng,
    engine: DatabaseBackend,
) -> Duration {
    let (first, last) = (people[0].0, people[people.len() - 1].0);
    let with = accounting(db, people, nas, rng, "a").await;
    let appended = scalar(db, "SELECT COUNT(*) FROM traffic_delta").await;
    println!(
        "  accounting, {} Interim-Updates of {SESSIONS} sessions: {:.0} records/s with the traffic trigger ({appended} deltas appended)",
        SESSIONS as i64 * ROUNDS,
        (SESSIONS as i64 * ROUNDS) as f64 / with.as_secs_f64()
    );

    // 3. The roll-up: what the accounting appended, then a random backlog.
    let started = Instant::now();
    let done = ops::traffic::roll_up(db, Duration::from_secs(3_600))
        .await
        .unwrap();
    let took = started.elapsed();
    println!(
        "  roll-up of the accounting's deltas: {} deltas in {} = {:.0} points/s ({} buckets written)",
        done.deltas,
        ms(took),
        done.deltas as f64 / took.as_secs_f64(),
        done.buckets
    );
    let mut runs = Vec::new();
    for _ in 0..3 {
        backlog(db, engine, first, last, people[0].1, nas).await;
        let started = Instant::now();
        let done = ops::traffic::roll_up(db, Duration::from_secs(3_600))
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(done.deltas as i64, BACKLOG);
        runs.push((took, done.buckets));
    }
    runs.sort();
    let (took, buckets) = runs[1];
    println!(
        "  roll-up of {BACKLOG} random deltas (median of 3): {} = {:.0} points/s ({buckets} buckets written)",
        ms(took),
        BACKLOG as f64 / took.as_secs_f64()
    );

    with
}

/// Starts `SESSIONS` sessions of customers drawn at random (`tag` keeps each run's apart),
/// then sends `ROUNDS` Interim-Updates of each, five minutes apart; the Interims' time.
async fn accounting(
    db: &store::Db,
    people: &[(i64, i64, String)],
    nas: &str,
    rng: &mut StdRng,
    tag: &str,
) -> Duration {
    let now = ops::clock::Clock::system().now();
    let base = now - chrono::TimeDelta::seconds(300 * (ROUNDS + 1));
    let sessions: Vec<(&(i64, i64, String), String)> = (0..SESSIONS)
        .map(|n| {
            (
                &people[rng.random_range(0..people.len())],
                format!("{tag}-{n}"),
            )
        })
        .collect();
    let record = |kind, round: i64, (who, id): &(&(i64, i64, String), String)| {
        let grown = 5_000_000 * round;
        AcctRecord {
            kind,
            at: base + chrono::TimeDelta::seconds(300 * round),
            nas_ip: nas.to_owned(),
            session_id: id.clone(),
            unique_id: format!("bench-{id}"),
            username: who.2.clone(),
            nas_port_id: String::new(),
            nas_port_type: "Ethernet".to_owned(),
            session_time: Some(300 * round),
            input_octets: grown / 10,
            output_octets: grown,
            called_station: String::new(),
            calling_station: String::new(),
            framed_ip: String::new(),
            terminate_cause: String::new(),
            tenant_id: Some(who.1),
            customer_id: Some(who.0),
        }
    };
    let starts: Vec<AcctRecord> = sessions
        .iter()
        .map(|s| record(AcctKind::Start, 0, s))
        .collect();
    for chunk in starts.chunks(512) {
        store::accounting::record(db, chunk, &[]).await.unwrap();
    }
    let started = Instant::now();
    for round in 1..=ROUNDS {
        let interims: Vec<AcctRecord> = sessions
            .iter()
            .map(|s| record(AcctKind::Interim, round, s))
            .collect();
        for chunk in interims.chunks(512) {
            store::accounting::record(db, chunk, &[]).await.unwrap();
        }
    }
    started.elapsed()
}

/// Appends `BACKLOG` deltas of customers `first..=last` at random times of the last two
/// days, five minutes each.
async fn backlog(
    db: &store::Db,
    engine: DatabaseBackend,
    first: i64,
    last: i64,
    tenant: i64,
    nas: &str,
) {
    use sea_orm::ConnectionTrait as _;
    let span = last - first + 1;
    let now = ops::clock::Clock::system().now().timestamp();
    let sql = match engine {
        DatabaseBackend::Sqlite => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {BACKLOG}), \
             times(t) AS MATERIALIZED (SELECT {now} - abs(random()) % 172800 FROM n) \
             INSERT INTO traffic_delta (customer_id, tenant_id, nas_ip, since, until, input, output) \
             SELECT {first} + abs(random()) % {span}, {tenant}, '{nas}', t - 300, t, \
                    abs(random()) % 10000000, abs(random()) % 100000000 \
             FROM times"
        ),
        _ => format!(
            "INSERT INTO traffic_delta (customer_id, tenant_id, nas_ip, since, until, input, output) \
             SELECT {first} + floor(random() * {span})::bigint, {tenant}, '{nas}', t - 300, t, \
                    floor(random() * 10000000)::bigint, floor(random() * 100000000)::bigint \
             FROM (SELECT {now} - floor(random() * 172800)::bigint AS t \
                   FROM generate_series(1, {BACKLOG}) OFFSET 0) AS s"
        ),
    };
    db.conn().execute_unprepared(&sql).await.unwrap();
}

/// Writes buckets for `count` customers from `first` on: full rings, or the last two hours
/// (24 five-minute and two hourly buckets).
async fn fill(
    db: &store::Db,
    engine: DatabaseBackend,
    first: i64,
    count: i64,
    now: i64,
    full: bool,
) {
    use sea_orm::ConnectionTrait as _;
    let (fine, coarse) = if full { (576, 768) } else { (24, 2) };
    for (step, slots) in [(300i64, fine), (3600i64, coarse)] {
        let ring = if step == 300 { 576 } else { 768 };
        let last = now.div_euclid(step) * step;
        let numbers = |n: i64| match engine {
            DatabaseBackend::Sqlite => format!(
                "(WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < {}) \
                 SELECT i FROM k)",
                n - 1
            ),
            _ => format!("(SELECT generate_series(0, {}) AS i)", n - 1),
        };
        let sql = format!(
            "INSERT INTO traffic_point (owner_kind, owner_id, step, slot, at, input, output) \
             SELECT 1, c.i + {first}, {step}, (({last} - b.i * {step}) / {step}) % {ring}, \
                    {last} - b.i * {step}, 1000 + b.i, 9000 + c.i \
             FROM {} AS c CROSS JOIN {} AS b WHERE true \
             ON CONFLICT (owner_kind, owner_id, step, slot) DO UPDATE SET \
               at = excluded.at, input = excluded.input, output = excluded.output",
            numbers(count),
            numbers(slots)
        );
        db.conn().execute_unprepared(&sql).await.unwrap();
    }
}

/// The database's size on disk, bytes (SQLite: the file's pages after a checkpoint;
/// PostgreSQL: the ring table with its index).
async fn size(db: &store::Db, engine: DatabaseBackend) -> i64 {
    match engine {
        DatabaseBackend::Sqlite => {
            let _ = rows(db.conn(), "PRAGMA wal_checkpoint(TRUNCATE)").await;
            let pages = scalar(db, "SELECT page_count FROM pragma_page_count()").await;
            let free = scalar(db, "SELECT freelist_count FROM pragma_freelist_count()").await;
            let page = scalar(db, "SELECT page_size FROM pragma_page_size()").await;
            (pages - free) * page
        }
        _ => scalar(db, "SELECT pg_total_relation_size('traffic_point')").await,
    }
}
