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

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{Backend, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_lastmile");
const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "correct horse battery staple";

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

/// A data directory and a database, migrated by `lastmile migrate`, with one Developer
/// account created by `lastmile admin create` with the default Argon2 settings.
struct Install {
    db: TestDb,
}

impl Install {
    async fn new(backend: Backend) -> Self {
        let db = testkit::db::fresh(
            backend,
            &store::migration::fingerprint(),
            |url| async move {
                let keyring =
                    store::crypto::Keyring::parse(&store::crypto::Keyring::generate_line("b"))
                        .map_err(|e| e.to_string())?;
                let db = store::Db::connect(&url, 2, keyring)
                    .await
                    .map_err(|e| e.to_string())?;
                db.migrate().await.map_err(|e| e.to_string())?;
                db.close().await.map_err(|e| e.to_string())
            },
        )
        .await;
        let install = Self { db };
        install.run(&["migrate"]);
        install.run(&["admin", "create", "--email", EMAIL, "--password", PASSWORD]);
        install
    }

    fn dir(&self) -> &Path {
        self.db.dir()
    }

    fn lastmile(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command.args(args).arg("--data-dir").arg(self.dir());
        if self.db.backend == Backend::Postgres {
            command.arg("--database-url").arg(&self.db.url);
        }
        command.current_dir(self.dir());
        for (name, _) in std::env::vars() {
            if name.starts_with("LASTMILE_") || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        command
    }

    fn run(&self, args: &[&str]) {
        let output = self.lastmile(args).output().unwrap();
        assert!(
            output.status.success(),
            "lastmile {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts `lastmile serve` with extra environment; returns it once `/healthz` answers,
    /// with the time from spawn to that answer.
    async fn serve(&self, env: &[(&str, &str)], poll: &reqwest::Client) -> (Server, Duration) {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(self.dir().join("serve.log")).unwrap();
        let mut command = self.lastmile(&["serve", "--listen", &listen]);
        command
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let health = format!("http://{listen}/healthz");
        let spawned = Instant::now();
        let mut child = command.spawn().unwrap();
        loop {
            if let Ok(response) = poll.get(&health).send().await
                && response.status() == StatusCode::OK
            {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                let log = std::fs::read_to_string(self.dir().join("serve.log"));
                panic!(
                    "lastmile serve exited ({status}): {}",
                    log.unwrap_or_default()
                );
            }
            assert!(spawned.elapsed() < Duration::from_secs(60), "never ready");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let ready = spawned.elapsed();
        let server = Server {
            child,
            base: format!("http://{listen}"),
        };
        (server, ready)
    }
}

/// A running `lastmile serve`, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Stops the server with SIGTERM and waits for it to exit.
    async fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Signs in; the token and the account's id.
    async fn sign_in(&self, client: &reqwest::Client) -> (String, i64) {
        let response = client
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"email": EMAIL, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        (
            body["token"].as_str().unwrap().to_owned(),
            body["user"]["id"].as_i64().unwrap(),
        )
    }
}

/// A port nothing listens on right now (the OS's pick for port 0, released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// An HTTP/1.1 client keeping connections alive, one per concurrent request.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// One authenticated `GET /api/v1/users/{id}`; its latency, or `None` unless it was a 200.
async fn get_user(client: &reqwest::Client, url: &str, token: &str) -> Option<Duration> {
    let started = Instant::now();
    let response = client.get(url).bearer_auth(token).send().await.ok()?;
    let ok = response.status() == StatusCode::OK;
    response.bytes().await.ok()?;
    ok.then(|| started.elapsed())
}

/// Latencies, sorted.
#[derive(Debug, Default)]
struct Latencies(Vec<Duration>);

impl Latencies {
    fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self(samples)
    }

    /// The `q` quantile (0 < q ≤ 1), nearest rank.
    fn quantile(&self, q: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * self.0.len() as f64).ceil() as usize).clamp(1, self.0.len());
        self.0[rank - 1]
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
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

fn ratio(value: Duration, baseline: Duration) -> String {
    if baseline.is_zero() {
        return "-".to_owned();
    }
    format!("{:.2}x", value.as_secs_f64() / baseline.as_secs_f64())
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
