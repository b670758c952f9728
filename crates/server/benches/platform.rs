//! The platform's figures, measured on the release `lastmile` binary run as a separate
//! process, as an operator runs it:
//!
//! - start-up to HTTP-ready on an existing database (migrated, with an account): from the
//!   spawn of `lastmile serve` to the first `200` from `/healthz`, on SQLite and PostgreSQL;
//! - `GET /api/v1/users/{id}` with a bearer token under 64 concurrent keep-alive clients:
//!   requests per second and latency, on SQLite and PostgreSQL;
//! - the cost of one sign-in with the default Argon2id settings;
//! - what a flood of wrong sign-ins does to other requests: the latency of the same `GET` at
//!   a fixed rate alone and during the flood, with the default throttle (most attempts are
//!   refused with 429 before any hashing) and with the throttle off (every attempt is hashed,
//!   bounded by the hasher's concurrency and queue), as ratios against the baseline measured
//!   on the same server in the same run.
//!
//! Run with `cargo bench -p lastmile --bench platform`. It needs PostgreSQL (as the tests do:
//! `PG_TEST_URL`, by default the local trust-auth server). The load generator runs in this
//! process on the same machine, so it competes with the server for CPU: read the figures as
//! a floor, and compare ratios rather than absolute numbers across machines.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "a benchmark harness: it fails loudly and prints its table"
)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use testkit::Backend;

use common::{EMAIL, Install, Latencies, Server, client, ms, ratio};

const STARTS: usize = 10;
const CLIENTS: usize = 64;
const WARM_UP: Duration = Duration::from_secs(2);
const MEASURE: Duration = Duration::from_secs(10);
const SIGN_INS: usize = 15;
/// The rate of the requests whose latency the flood phases watch.
const PROBE_RATE: u32 = 100;
const PROBE_TIME: Duration = Duration::from_secs(5);
/// Concurrent tasks sending wrong sign-ins as fast as they are answered: more than the
/// hasher's queue (32 by default), so its bound is reached.
const FLOODERS: usize = 48;

/// One authenticated `GET /api/v1/users/{id}`; its latency, or `None` unless it was a 200.
async fn get_user(client: &reqwest::Client, url: &str, token: &str) -> Option<Duration> {
    let started = Instant::now();
    let response = client.get(url).bearer_auth(token).send().await.ok()?;
    let ok = response.status() == StatusCode::OK;
    response.bytes().await.ok()?;
    ok.then(|| started.elapsed())
}

/// Start-up to HTTP-ready, `STARTS` times.
async fn startup(install: &Install) -> Latencies {
    let poll = client();
    let mut samples = Vec::new();
    for _ in 0..STARTS {
        let (server, ready) = install.serve(&[], &poll).await;
        samples.push(ready);
        server.stop().await;
    }
    Latencies::new(samples)
}

/// `CLIENTS` clients sending `GET /api/v1/users/{id}` back to back: warm-up, then
/// `MEASURE`. Returns requests per second, latencies and failed requests.
async fn throughput(server: &Server, token: &str, id: i64) -> (f64, Latencies, usize) {
    let client = client();
    let url = format!("{}/api/v1/users/{id}", server.base);
    let started = Instant::now();
    let measure_from = started + WARM_UP;
    let end = measure_from + MEASURE;
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, url, token) = (client.clone(), url.clone(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            let (mut samples, mut failed) = (Vec::new(), 0usize);
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let latency = get_user(&client, &url, &token).await;
                if sent >= measure_from {
                    match latency {
                        Some(latency) => samples.push(latency),
                        None => failed += 1,
                    }
                }
            }
            (samples, failed)
        }));
    }
    let (mut samples, mut failed) = (Vec::new(), 0);
    for task in tasks {
        let (more, more_failed) = task.await.unwrap();
        samples.extend(more);
        failed += more_failed;
    }
    let rate = samples.len() as f64 / MEASURE.as_secs_f64();
    (rate, Latencies::new(samples), failed)
}

/// `GET /api/v1/users/{id}` at `PROBE_RATE` per second for `PROBE_TIME`, each request on its
/// own task so a slow answer does not delay the next one.
async fn probe(server: &Server, token: &str, id: i64) -> (Latencies, usize) {
    let client = client();
    let url = format!("{}/api/v1/users/{id}", server.base);
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / PROBE_RATE);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let count = PROBE_RATE as usize * PROBE_TIME.as_secs() as usize;
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        ticks.tick().await;
        let (client, url, token) = (client.clone(), url.clone(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            get_user(&client, &url, &token).await
        }));
    }
    let (mut samples, mut failed) = (Vec::new(), 0);
    for task in tasks {
        match task.await.unwrap() {
            Some(latency) => samples.push(latency),
            None => failed += 1,
        }
    }
    (Latencies::new(samples), failed)
}

/// Wrong sign-ins from `FLOODERS` tasks until `stop`; answers counted by status.
fn flood(server: &Server, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<BTreeMap<u16, u64>> {
    let url = format!("{}/api/v1/auth/login", server.base);
    tokio::spawn(async move {
        let client = client();
        let body = json!({"email": EMAIL, "password": "not the password"});
        let mut tasks = Vec::new();
        for _ in 0..FLOODERS {
            let (client, url, body, stop) =
                (client.clone(), url.clone(), body.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let mut answers = BTreeMap::<u16, u64>::new();
                while !stop.load(Ordering::Relaxed) {
                    let status = match client.post(&url).json(&body).send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let _ = response.bytes().await;
                            status
                        }
                        Err(_) => 0,
                    };
                    *answers.entry(status).or_default() += 1;
                }
                answers
            }));
        }
        let mut answers = BTreeMap::new();
        for task in tasks {
            for (status, count) in task.await.unwrap() {
                *answers.entry(status).or_default() += count;
            }
        }
        answers
    })
}

/// The probe alone, then during a flood of wrong sign-ins, on one server.
struct FloodResult {
    alone: Latencies,
    flooded: Latencies,
    failed: usize,
    answers: BTreeMap<u16, u64>,
}

async fn under_flood(server: &Server, token: &str, id: i64) -> FloodResult {
    let (alone, failed_alone) = probe(server, token, id).await;
    let stop = Arc::new(AtomicBool::new(false));
    let flooding = flood(server, stop.clone());
    let (flooded, failed_flooded) = probe(server, token, id).await;
    stop.store(true, Ordering::Relaxed);
    let answers = flooding.await.unwrap();
    FloodResult {
        alone,
        flooded,
        failed: failed_alone + failed_flooded,
        answers,
    }
}

fn answers(answers: &BTreeMap<u16, u64>) -> String {
    let total: u64 = answers.values().sum();
    let per_second = total as f64 / PROBE_TIME.as_secs_f64();
    let by_status: Vec<String> = answers
        .iter()
        .map(|(status, count)| match status {
            0 => format!("{count} failed"),
            _ => format!("{count}x{status}"),
        })
        .collect();
    format!("{per_second:.0}/s: {}", by_status.join(", "))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let begun = Instant::now();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!("lastmile platform benchmark ({cores} cores; the load runs on the same machine)");
    println!();

    let sqlite = Install::new(Backend::Sqlite).await;
    let postgres = Install::new(Backend::Postgres).await;

    println!("Start-up to HTTP-ready, existing database ({STARTS} starts; target < 300 ms)");
    println!(
        "  {:<12} {:>12} {:>12} {:>12}",
        "backend", "median", "p90", "max"
    );
    for (name, install) in [("SQLite", &sqlite), ("PostgreSQL", &postgres)] {
        let starts = startup(install).await;
        println!(
            "  {name:<12} {:>12} {:>12} {:>12}",
            ms(starts.quantile(0.5)),
            ms(starts.quantile(0.9)),
            ms(starts.quantile(1.0))
        );
    }
    println!();

    println!(
        "GET /api/v1/users/{{id}}, {CLIENTS} keep-alive clients, {}s after {}s warm-up",
        MEASURE.as_secs(),
        WARM_UP.as_secs()
    );
    println!(
        "  {:<12} {:>12} {:>12} {:>12} {:>8}",
        "backend", "requests/s", "p50", "p99", "failed"
    );
    let poll = client();
    for (name, install) in [("SQLite", &sqlite), ("PostgreSQL", &postgres)] {
        let (server, _) = install.serve(&[], &poll).await;
        let (token, id) = server.sign_in(&client()).await;
        let (rate, latencies, failed) = throughput(&server, &token, id).await;
        println!(
            "  {name:<12} {rate:>12.0} {:>12} {:>12} {failed:>8}",
            ms(latencies.quantile(0.5)),
            ms(latencies.quantile(0.99))
        );
        server.stop().await;
    }
    println!();

    // Sign-in cost and floods, on SQLite, the default engine.
    let (server, _) = sqlite.serve(&[], &poll).await;
    let signing_in = client();
    let mut sign_ins = Vec::new();
    for _ in 0..SIGN_INS {
        let started = Instant::now();
        server.sign_in(&signing_in).await;
        sign_ins.push(started.elapsed());
    }
    let sign_ins = Latencies::new(sign_ins);
    println!(
        "Sign-in (POST /api/v1/auth/login, default Argon2id), {SIGN_INS} in a row: median {}, \
         max {}",
        ms(sign_ins.quantile(0.5)),
        ms(sign_ins.quantile(1.0))
    );
    println!();

    let (token, id) = server.sign_in(&signing_in).await;
    let throttled = under_flood(&server, &token, id).await;
    server.stop().await;
    let (server, _) = sqlite
        .serve(
            &[("LASTMILE_SECURITY_SIGN_IN_FAILURES_PER_MINUTE", "0")],
            &poll,
        )
        .await;
    let (token, id) = server.sign_in(&signing_in).await;
    let unthrottled = under_flood(&server, &token, id).await;
    server.stop().await;

    println!(
        "GET /api/v1/users/{{id}} at {PROBE_RATE}/s for {}s, alone and during a flood of wrong \
         sign-ins from {FLOODERS} tasks (SQLite)",
        PROBE_TIME.as_secs()
    );
    println!(
        "  {:<22} {:>10} {:>10} {:>10} {:>10} {:>8}  flood answers",
        "throttle", "p50", "p99", "p50 ratio", "p99 ratio", "failed"
    );
    for (name, result) in [
        ("default (10/min)", &throttled),
        ("off (every one hashed)", &unthrottled),
    ] {
        let (alone, flooded) = (&result.alone, &result.flooded);
        println!(
            "  {:<22} {:>10} {:>10} {:>10} {:>10} {:>8}",
            format!("{name}, alone"),
            ms(alone.quantile(0.5)),
            ms(alone.quantile(0.99)),
            "1.00x",
            "1.00x",
            ""
        );
        println!(
            "  {:<22} {:>10} {:>10} {:>10} {:>10} {:>8}  {}",
            format!("{name}, flood"),
            ms(flooded.quantile(0.5)),
            ms(flooded.quantile(0.99)),
            ratio(flooded.quantile(0.5), alone.quantile(0.5)),
            ratio(flooded.quantile(0.99), alone.quantile(0.99)),
            result.failed,
            answers(&result.answers)
        );
    }
    println!();
    println!("total {:.0} s", begun.elapsed().as_secs_f64());
}
