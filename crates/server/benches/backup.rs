//! Backups as an operator takes them: `lastmile backup` and `lastmile restore` of the
//! release binary on an installation seeded like an ISP's.
//!
//! ```text
//! cargo bench -p lastmile --bench backup [-- CUSTOMERS]
//! ```
//!
//! On SQLite (a PostgreSQL backup is the keyring beside `pg_dump`'s copy), an installation
//! seeded with CUSTOMERS (default 100 000; `lastmile bench seed`: resellers, skewed
//! packages, shared name prefixes, their FreeRADIUS rows), then:
//!
//! 1. the database's size, and a plain copy of its file as the baseline (median of three);
//! 2. `lastmile backup --out`, three times (median), the archive's size, per customer, and
//!    the time against the plain copy's;
//! 3. the same backup while `lastmile serve` answers customer-list reads beside it, the
//!    list's p50 with and without the backup running;
//! 4. `lastmile restore` of the archive into an empty data directory (its checks
//!    included: integrity, migrations, `ledger verify`, `radius verify`).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark prints, and fails loudly

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{BIN, Install, Latencies, ms, ratio};
use testkit::Backend;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Reads the customer list as the tenant's Admin, `n` times; the latencies.
async fn reads(
    server: &common::Server,
    http: &reqwest::Client,
    token: &str,
    n: usize,
) -> Latencies {
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        let path = format!("/api/v1/customers?limit=50&q=ra{}", i % 10);
        server.get_json(http, token, &path).await;
        samples.push(started.elapsed());
    }
    Latencies::new(samples)
}

async fn bench() {
    let customers = common::customers_arg(100_000);
    println!("backup, {customers} customers, SQLite");
    let install = Install::new(Backend::Sqlite).await;
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
    install.run(&["db", "analyze"]);
    let db = install.dir().join("lastmile.db");
    // Everything in the main file: the copy's baseline reads one file.
    install.execute("PRAGMA wal_checkpoint(TRUNCATE)").await;
    let size = std::fs::metadata(&db).unwrap().len();

    // 1. The baseline: a plain copy of the file.
    let mut copies = Vec::new();
    for n in 0..3 {
        let to = install.dir().join(format!("plain-{n}.db"));
        let started = Instant::now();
        std::fs::copy(&db, &to).unwrap();
        copies.push(started.elapsed());
        std::fs::remove_file(&to).unwrap();
    }
    let copy = median(copies);
    println!(
        "  database             {} ({} a customer)",
        mib(size),
        size / customers.max(1) as u64
    );
    println!(
        "  plain file copy      {} (baseline, median of 3)",
        ms(copy)
    );

    // 2. The backup.
    let mut took = Vec::new();
    let mut archive = 0;
    for n in 0..3 {
        let out = install.dir().join(format!("backup-{n}.tar.gz"));
        let started = Instant::now();
        install.run(&["backup", "--out", out.to_str().unwrap()]);
        took.push(started.elapsed());
        archive = std::fs::metadata(&out).unwrap().len();
        if n > 0 {
            std::fs::remove_file(&out).unwrap();
        }
    }
    let backup = median(took);
    println!(
        "  lastmile backup      {} (median of 3; {} the plain copy's), archive {} ({} bytes a customer)",
        ms(backup),
        ratio(backup, copy),
        mib(archive),
        archive / customers.max(1) as u64
    );

    // 3. Beside a serving lastmile: the list's reads without, then with, a backup running.
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
    let quiet = reads(&server, &http, &token, 200).await;
    let out = install.dir().join("beside.tar.gz");
    let mut running = install.lastmile(&["backup", "--out", out.to_str().unwrap()]);
    running.stdout(std::process::Stdio::null());
    let started = Instant::now();
    let mut child = running.spawn().unwrap();
    let mut busy = Vec::new();
    while child.try_wait().unwrap().is_none() {
        busy.extend(reads(&server, &http, &token, 10).await.0);
    }
    let beside = started.elapsed();
    assert!(child.wait().unwrap().success());
    let busy = Latencies::new(busy);
    println!(
        "  backup beside serve  {}; list p50 {} while it ran ({} reads) against {} without ({} the quiet p50)",
        ms(beside),
        ms(busy.quantile(0.5)),
        busy.count(),
        ms(quiet.quantile(0.5)),
        ratio(busy.quantile(0.5), quiet.quantile(0.5))
    );
    server.stop().await;

    // 4. The restore, with its checks.
    let elsewhere = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let restored = Command::new(BIN)
        .args([
            "restore",
            install.dir().join("backup-0.tar.gz").to_str().unwrap(),
        ])
        .arg("--data-dir")
        .arg(elsewhere.path())
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let restore = started.elapsed();
    let said = String::from_utf8_lossy(&restored.stdout);
    assert!(
        restored.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    println!("  lastmile restore     {} (with its checks)", ms(restore));
    for line in said.lines().filter(|l| l.contains("checks:")) {
        println!("  {}", line.trim());
    }
}
