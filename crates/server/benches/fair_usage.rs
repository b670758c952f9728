//! Fair usage at scale: what volume caps and FUP steps cost the usage watcher and the
//! built-in server's start, on data shaped like an ISP's.
//!
//! ```text
//! cargo bench -p lastmile --bench fair_usage [-- CUSTOMERS]
//! ```
//!
//! For each backend, an installation seeded with CUSTOMERS (default 100 000; `lastmile
//! bench seed`, which puts seven in ten customers in service online with a week of usage,
//! 1 MB to 20 GB a day). Then, with the seeded data as it is:
//!
//! 1. the built-in server's state loaded (`aaa::state::AaaState::load`) with no package
//!    capped: the baseline;
//! 2. half the master packages (and the packages derived from them) given 20 GB a period,
//!    slowed after 8 GB, in the database (the seed's usage puts some customers past the
//!    step and some past the volume);
//! 3. the state loaded again: each capped account reads its period's usage;
//! 4. the watcher's passes (`ops::fair_usage::watch`, what the `usage.watch` job runs):
//!    the first looks at every online capped customer and records each standing (the
//!    slowed and used-up ones also queue their enforcements), the next ones find nothing
//!    moved, which is what every interval costs from then on.
//!
//! Printed: the load times and their ratio, and per pass its time, customers looked at,
//! standings moved and the time per customer looked at (median of three steady passes).
//!
//! - `LASTMILE_BENCH_BACKENDS`: `sqlite,postgres` (default both).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark prints, and fails loudly

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Install, ms, ratio};
use sea_orm::ConnectionTrait as _;
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
    println!("fair usage, {customers} customers");
    for backend in common::backends() {
        run(backend, customers).await;
    }
}

async fn run(backend: Backend, customers: usize) {
    println!("\n{backend:?}");
    let install = Install::new(backend).await;
    install.run(&["bench", "seed", "--customers", &customers.to_string()]);
    let key = std::fs::read_to_string(install.dir().join("secret.key")).unwrap();
    let keyring = store::crypto::Keyring::parse(&key).unwrap();
    let db = store::Db::connect(&install.database_url(), 4, keyring)
        .await
        .unwrap();
    let clock = ops::clock::Clock::system();
    let now: aaa::clock::Now = Arc::new(move || clock.now());

    let (plain, accounts) = load(&db, &now).await;
    let capped = cap_half(&db).await;
    let (with_caps, _) = load(&db, &now).await;
    println!(
        "  state load, {accounts} accounts: {} uncapped, {} with {capped} packages capped ({})",
        ms(plain),
        ms(with_caps),
        ratio(with_caps, plain)
    );

    let hasher = ops::auth::password::Hasher::new(1024, 1, 1, 8).unwrap();
    let mut steady = Vec::new();
    for n in 1..=4 {
        let ctx = ops::Ctx::new(&db, &hasher, now());
        let started = Instant::now();
        let pass = ops::fair_usage::watch(&ctx).await.unwrap();
        let took = started.elapsed();
        let per = took / u32::try_from(pass.checked.max(1)).unwrap_or(u32::MAX);
        println!(
            "  watcher pass {n}: {} for {} customers looked at ({} moved, {} slowed or sped up live, {} cut): {:.0} µs each",
            ms(took),
            pass.checked,
            pass.changed,
            pass.rated,
            pass.cut,
            per.as_secs_f64() * 1e6,
        );
        if n > 1 {
            steady.push(took);
            let expected = candidates(&db, now()).await;
            assert_eq!(
                i64::try_from(pass.checked).unwrap_or(i64::MAX),
                expected,
                "the watcher looked at every customer it must, once"
            );
        }
    }
    steady.sort();
    println!("  steady pass, median of 3: {}", ms(steady[1]));
    let queued: i64 = scalar(&db, "SELECT COUNT(*) FROM enforcement").await;
    println!("  enforcements queued by the first pass: {queued}");
    db.close().await.unwrap();
}

/// The built-in server's state loaded from scratch: the time and the accounts.
async fn load(db: &store::Db, now: &aaa::clock::Now) -> (Duration, usize) {
    let started = Instant::now();
    let state = aaa::state::AaaState::load(db, Arc::clone(now))
        .await
        .unwrap();
    (started.elapsed(), state.account_count())
}

/// Gives half the master packages (and those derived from them) 20 GB a period, slowed to
/// 2M/1M after 8 GB; returns how many packages that is.
async fn cap_half(db: &store::Db) -> i64 {
    let masters: i64 = scalar(db, "SELECT COUNT(*) FROM package WHERE level = 'master'").await;
    let fup = r#"[{"after_bytes":8000000000,"download_kbps":2000,"upload_kbps":1000}]"#;
    let sql = format!(
        "UPDATE package SET volume_bytes = 20000000000, fup = '{fup}' \
         WHERE master_id IN (SELECT id FROM package WHERE level = 'master' ORDER BY id LIMIT {})",
        (masters + 1) / 2
    );
    let conn = db.conn();
    let done = conn
        .execute_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            sql,
        ))
        .await
        .unwrap();
    i64::try_from(done.rows_affected()).unwrap_or(i64::MAX)
}

/// The customers a pass must look at, counted in one query: the live customers online on a
/// capped package or with a standing slowed, used up or at a period's end.
async fn candidates(db: &store::Db, now: chrono::DateTime<chrono::Utc>) -> i64 {
    let day = (now + chrono::TimeDelta::days(1)).date_naive();
    let sql = format!(
        "SELECT COUNT(*) FROM (\
           SELECT o.customer_id FROM customer_online o \
             JOIN customer c ON c.id = o.customer_id JOIN package p ON p.id = c.package_id \
             WHERE c.archived_at IS NULL AND (p.volume_bytes IS NOT NULL OR p.fup <> '') \
           UNION \
           SELECT q.customer_id FROM customer_quota q JOIN customer c ON c.id = q.customer_id \
             WHERE c.archived_at IS NULL AND (q.level <> 0 OR q.period_last <= '{day}')) x"
    );
    scalar(db, &sql).await
}

async fn scalar(db: &store::Db, sql: &str) -> i64 {
    let conn = db.conn();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}
