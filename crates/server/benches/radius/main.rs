//! lastmile's built-in RADIUS server against FreeRADIUS 3.2, over real UDP on this machine,
//! every server driven by the same load generator in one run.
//!
//! ```text
//! cargo bench -p lastmile --bench radius [-- CUSTOMERS]
//! ```
//!
//! For each backend, an installation seeded with CUSTOMERS (default 100 000;
//! `lastmile bench seed`), `lastmile serve` with its RADIUS ports, and one seeded router
//! moved to 127.0.0.1 with a known secret through the API (so the load comes from a
//! router lastmile knows, its state following the change). Loads start once the server
//! has done what a freshly seeded installation gives it at start (the day's billing pass
//! over every customer, the reminders it queues, statistics), which would otherwise run
//! beside the first measurements and be counted in them. The generator (this process,
//! one thread) keeps N requests in flight, each on its own socket, each request unique
//! (no duplicate cache helps): PAP Access-Requests with Message-Authenticator for active
//! customers drawn at random (offline ones: the seed puts most customers online), then
//! Accounting Start, Interim-Update and Stop of distinct sessions of those customers, so
//! the database counts them online and rolls their usage up as it does live. On PostgreSQL
//! the built-in server's accounting runs twice: acknowledged on its journal (the default),
//! with the time its database takes after the run to hold every record and the rate that
//! makes, and acknowledged on commit (`accounting_durability = "database"`). Each server's
//! authentication is then driven open-loop (`open_loop`) at 80%, 50% and 25% of the rate
//! it reached, for its latency under a load it keeps up with. Each line counts the
//! datagrams the kernel dropped meanwhile for a full receive buffer (any socket: the
//! server's or the generator's). Then, on PostgreSQL, FreeRADIUS with
//! `rlm_sql` on the same database and projection (the configuration `lastmile radius freeradius-config` writes, logged in as
//! its limited role), and FreeRADIUS with only a `users` file of one user. Printed per
//! server: requests/s, p50 and p99 latency, and CPU per request of the server process, of
//! PostgreSQL (all its processes, from /proc) and of the generator (this process, which
//! shares the cores: its open loop wakes on a clock, and costs more a request the fewer
//! requests each wake-up sends), so the ratios are explained as well as measured; then the
//! ratios of the built-in server to each FreeRADIUS. The open-loop lines add how late the
//! generator itself sent, and the latency from when each request left rather than from
//! when it was due (routers send from machines of their own; this generator waits for the
//! cores the server uses).
//!
//! - `LASTMILE_BENCH_BACKENDS`: `sqlite,postgres` (default both);
//! - `LASTMILE_BENCH_SECONDS`: seconds measured per server and phase (default 10);
//! - `LASTMILE_BENCH_IN_FLIGHT`: Access-Requests in flight (default 64);
//! - `LASTMILE_BENCH_ACCT_IN_FLIGHT`: Accounting-Requests in flight, one run per number
//!   (default `64,512`: a router sends each session's records without waiting for the
//!   others', so fifty routers keep hundreds in flight);
//! - `LASTMILE_BENCH_ONLINE`: percent of the customers in service the seed puts online
//!   (default 70). At 100 no customer is left to log in: the server's start (time, open
//!   sessions, memory) is measured and the loads are not run;
//! - `LASTMILE_BENCH_OPEN_RATES`: requests/s for the open-loop runs, in place of the shares
//!   of each server's closed-loop rate (for example `45000,30000,15000`), so that two builds
//!   whose maxima differ are compared at the same load; a server is not asked for more than
//!   its closed-loop rate;
//! - `LASTMILE_BENCH_BASELINE`: the path of another `lastmile` binary (an earlier build):
//!   its `serve` is started on the same seeded database first, and its start-up time and
//!   memory printed beside this build's.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark prints, and fails loudly

#[path = "../common/mod.rs"]
mod common;
#[path = "../../../radius/benches/server_loop/freeradius.rs"]
mod files;
mod freeradius_sql;
mod open_loop;
mod process;
#[path = "../../tests/support_raddb/mod.rs"]
mod raddb;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Install, Latencies, Server, client, ms};
use freeradius_sql::SqlRadius;
use process::{cpu_seconds, newest_freeradius, postgres_pids, resident, udp_receive_errors};
use radius::auth::pap;
use radius::{Code, Packet, attrs};
use sea_orm::ConnectionTrait as _;
use serde_json::json;
use testkit::Backend;
use tokio::net::UdpSocket;

/// The secret the benchmark's router gets.
pub const SECRET: &str = "bench-radius-secret-0123";
/// The password `lastmile bench seed` gives every customer.
const PASSWORD: &str = "bench-pass";

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

struct Settings {
    customers: u64,
    seconds: u64,
    in_flight: usize,
    /// Accounting runs, one per number of records in flight.
    acct_in_flight: Vec<usize>,
    backends: Vec<Backend>,
    /// `lastmile bench seed --online`, when set (left out otherwise, so that an earlier
    /// build without it can run the whole benchmark).
    online_percent: Option<u32>,
    /// Another `lastmile` binary whose start is measured on the same database.
    baseline: Option<String>,
    /// Fixed open-loop rates, requests/s (else [`OPEN_LOOP_SHARES`] of each server's rate).
    open_rates: Option<Vec<f64>>,
}

fn settings() -> Settings {
    let env = |name: &str| std::env::var(name).ok();
    let customers = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let backends = env("LASTMILE_BENCH_BACKENDS")
        .unwrap_or_else(|| "sqlite,postgres".into())
        .split(',')
        .map(|b| match b.trim() {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            other => panic!("unknown backend {other}"),
        })
        .collect();
    Settings {
        customers,
        seconds: env("LASTMILE_BENCH_SECONDS")
            .and_then(|s| s.parse().ok())
            .unwrap_or(10),
        in_flight: env("LASTMILE_BENCH_IN_FLIGHT")
            .and_then(|s| s.parse().ok())
            .unwrap_or(64),
        acct_in_flight: env("LASTMILE_BENCH_ACCT_IN_FLIGHT")
            .unwrap_or_else(|| "64,512".into())
            .split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .expect("LASTMILE_BENCH_ACCT_IN_FLIGHT: numbers")
            })
            .collect(),
        backends,
        online_percent: env("LASTMILE_BENCH_ONLINE")
            .map(|p| p.parse().expect("LASTMILE_BENCH_ONLINE: a percent")),
        baseline: env("LASTMILE_BENCH_BASELINE"),
        open_rates: env("LASTMILE_BENCH_OPEN_RATES").map(|rates| {
            rates
                .split(',')
                .map(|r| {
                    r.trim()
                        .parse()
                        .expect("LASTMILE_BENCH_OPEN_RATES: requests/s")
                })
                .collect()
        }),
    }
}

/// One server's figures in one phase.
struct Figures {
    name: String,
    /// Requests kept in flight.
    in_flight: usize,
    rate: f64,
    /// How long the run lasted.
    seconds: f64,
    /// Access-Accepts among the answers (auth only).
    accepted: f64,
    latencies: Latencies,
    lost: usize,
    server_cpu_us: f64,
    postgres_cpu_us: f64,
    /// The generator's (this process's) CPU per request.
    generator_cpu_us: f64,
    /// Datagrams the kernel dropped for a full receive buffer meanwhile (any socket).
    receive_errors: u64,
    /// Auth only: the same server open-loop at each of [`OPEN_LOOP_SHARES`] of `rate`.
    open: Vec<Open>,
    /// Accounting on the journal: how long after the run the database held every
    /// acknowledged record (the CPU figures include that time).
    caught_up: Option<Duration>,
}

/// One open-loop run of a server.
struct Open {
    share: f64,
    run: open_loop::OpenLoop,
    /// Server CPU per request.
    cpu_us: f64,
    /// The generator's CPU per request.
    generator_cpu_us: f64,
    receive_errors: u64,
}

/// The shares of a server's closed-loop rate its open-loop runs ask for.
const OPEN_LOOP_SHARES: [f64; 3] = [0.8, 0.5, 0.25];

impl Figures {
    fn print(&self) {
        println!(
            "  {:<34} {:>4} in flight {:>9.0}/s  accepted {:>5.1}%  p50 {:>9}  p99 {:>9}  lost {:>4} (buffer drops {:>5})  CPU/request: server {:>5.1} µs, PostgreSQL {:>5.1} µs, generator {:>5.1} µs",
            self.name,
            self.in_flight,
            self.rate,
            self.accepted * 100.0,
            ms(self.latencies.quantile(0.5)),
            ms(self.latencies.quantile(0.99)),
            self.lost,
            self.receive_errors,
            self.server_cpu_us,
            self.postgres_cpu_us,
            self.generator_cpu_us,
        );
        if let Some(caught_up) = self.caught_up {
            println!(
                "  {:<34} {:>4} in flight {:>9.0}/s  in the database: every record {:.2} s after the run",
                "",
                self.in_flight,
                self.in_database_rate(),
                caught_up.as_secs_f64()
            );
        }
    }

    /// Records in the database per second: those acknowledged in the run over the run and
    /// the time the database took to catch up after it.
    fn in_database_rate(&self) -> f64 {
        let caught_up = self.caught_up.unwrap_or_default().as_secs_f64();
        self.rate * self.seconds / (self.seconds + caught_up)
    }

    fn print_open(&self) {
        for open in &self.open {
            open.print(&self.name);
        }
    }
}

impl Open {
    fn print(&self, name: &str) {
        let run = &self.run;
        println!(
            "  {:<34} {:>3.0}%: {:>7.0}/s asked, {:>7.0}/s sent  accepted {:>5.1}%  p50 {:>9}  p99 {:>9}  p99.9 {:>9}  max {:>9}  lost {:>5} (buffer drops {:>5})  CPU/request: server {:>5.1} µs, generator {:>5.1} µs  sent late: p99 {:>9}, max {:>9}  from sending: p50 {:>9}, p99 {:>9}",
            name,
            self.share * 100.0,
            run.target,
            run.sent_rate,
            run.accepted as f64 * 100.0 / run.latencies.count().max(1) as f64,
            ms(run.latencies.quantile(0.5)),
            ms(run.latencies.quantile(0.99)),
            ms(run.latencies.quantile(0.999)),
            ms(run.latencies.quantile(1.0)),
            run.lost,
            self.receive_errors,
            self.cpu_us,
            self.generator_cpu_us,
            ms(run.sent_late.quantile(0.99)),
            ms(run.sent_late.quantile(1.0)),
            ms(run.from_sent.quantile(0.5)),
            ms(run.from_sent.quantile(0.99)),
        );
    }
}

async fn bench() {
    let s = settings();
    println!(
        "lastmile RADIUS benchmark: {} customers, {} in flight, {} s per server and phase (2 cores; the generator runs on the same machine)",
        s.customers, s.in_flight, s.seconds
    );
    let mut auth = Vec::new();
    let mut acct = Vec::new();
    for backend in &s.backends {
        let (a, b) = on_backend(*backend, &s).await;
        auth.extend(a);
        acct.extend(b);
    }
    if let Some(files) = files_baseline(&s).await {
        auth.push(files);
    }
    println!("\n== Access-Request (PAP), closed loop");
    for f in &auth {
        f.print();
    }
    match &s.open_rates {
        Some(rates) => println!(
            "\n== Access-Request (PAP), open loop at {rates:?} requests/s (latency from when each request was due)"
        ),
        None => println!(
            "\n== Access-Request (PAP), open loop at {OPEN_LOOP_SHARES:?} of each server's closed-loop rate (latency from when each request was due)"
        ),
    }
    for f in &auth {
        f.print_open();
    }
    println!("\n== Accounting-Request (Start, Interim-Update, Stop), acknowledged when durable");
    for f in &acct {
        f.print();
    }
    println!("\n== ratios");
    let find = |list: &[Figures], name: &str| {
        list.iter()
            .find(|f| f.name.starts_with(name))
            .map(|f| f.rate)
    };
    for ours in ["built-in, SQLite", "built-in, PostgreSQL"] {
        for theirs in ["FreeRADIUS + rlm_sql", "FreeRADIUS files"] {
            if let (Some(a), Some(b)) = (find(&auth, ours), find(&auth, theirs)) {
                println!("  auth: {ours} / {theirs}: {:.1}×", a / b);
            }
        }
    }
    for in_flight in &s.acct_in_flight {
        let at = |name: &str| {
            acct.iter()
                .find(|f| f.name.starts_with(name) && f.in_flight == *in_flight)
        };
        let Some(theirs) = at("FreeRADIUS + rlm_sql") else {
            continue;
        };
        for ours in [
            "built-in, SQLite",
            "built-in, PostgreSQL, journal",
            "built-in, PostgreSQL, on commit",
        ] {
            if let Some(f) = at(ours) {
                print!(
                    "  accounting, {in_flight} in flight: {ours} / FreeRADIUS + rlm_sql: {:.1}× acknowledged",
                    f.rate / theirs.rate
                );
                if f.caught_up.is_some() {
                    print!(
                        ", {:.1}× in the database",
                        f.in_database_rate() / theirs.rate
                    );
                }
                println!();
            }
        }
    }
}

/// The built-in server on `backend`, then (PostgreSQL) FreeRADIUS with `rlm_sql` on the
/// same database.
async fn on_backend(backend: Backend, s: &Settings) -> (Vec<Figures>, Vec<Figures>) {
    let label = match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    println!("\n== {label}: seeding {} customers", s.customers);
    let install = Install::new(backend).await;
    let started = Instant::now();
    let customers = s.customers.to_string();
    let online = s.online_percent.map(|p| p.to_string());
    let mut seed = vec!["bench", "seed", "--customers", &customers];
    if let Some(online) = &online {
        seed.extend(["--online", online]);
    }
    install.run(&seed);
    println!("  seeded in {:.1} s", started.elapsed().as_secs_f64());
    let open = open_sessions(&install).await;
    let http = client();
    if let Some(baseline) = &s.baseline {
        let (server, ready) = install.serve_binary(baseline, &[], &http).await;
        println!(
            "  baseline {baseline}: serve ready in {:.2} s; resident memory {}",
            ready.as_secs_f64(),
            resident(server.pid())
        );
        server.stop().await;
    }
    let (server, ports, ready) = install.serve_radius(&[], &http).await;
    println!(
        "  lastmile serve ready in {:.2} s (the RADIUS state of {} customers and {open} open sessions loaded first); resident memory {}",
        ready.as_secs_f64(),
        s.customers,
        resident(server.pid())
    );
    let (token, _) = server.sign_in(&http).await;
    let routers = server
        .get_json(&http, &token, "/api/v1/routers?limit=1")
        .await;
    let router = routers["items"][0].clone();
    server
        .send_json(
            &http,
            &token,
            reqwest::Method::PATCH,
            &format!("/api/v1/routers/{}", router["id"]),
            &json!({"nas_address": "127.0.0.1", "secret": SECRET, "version": router["version"]}),
        )
        .await;
    install.settled().await;
    let names = usernames(&install, router["tenant_id"].as_i64().unwrap()).await;
    println!("  {} active customers drawn from", names.len());
    if names.is_empty() {
        println!("  every customer in service is online: no load to run");
        server.stop().await;
        return (Vec::new(), Vec::new());
    }

    let auth_addr = SocketAddr::from(([127, 0, 0, 1], ports.auth));
    let acct_addr = SocketAddr::from(([127, 0, 0, 1], ports.acct));
    let pid = server.pid();
    let name = format!("built-in, {label}");
    let mut auth = vec![
        measure(&name, s, pid, None, None, || {
            Load::Auth(auth_addr, names.clone())
        })
        .await,
    ];
    // On PostgreSQL the server acknowledges accounting on its journal by default; it is
    // measured that way, with the time its database takes to catch up, and then
    // acknowledging on commit.
    let (acct_name, backlog) = match backend {
        Backend::Sqlite => (name.clone(), None),
        Backend::Postgres => (format!("{name}, journal"), Some((&server, &http))),
    };
    let mut acct = Vec::new();
    for in_flight in &s.acct_in_flight {
        acct.push(
            measure(&acct_name, s, pid, Some(*in_flight), backlog, || {
                Load::Acct(acct_addr, names.clone())
            })
            .await,
        );
    }
    println!("  resident memory after the load: {}", resident(pid));
    server.stop().await;

    if backend == Backend::Postgres {
        let (server, ports, _) = install
            .serve_radius(
                &[("LASTMILE_RADIUS_ACCOUNTING_DURABILITY", "database")],
                &http,
            )
            .await;
        install.settled().await;
        let acct_addr = SocketAddr::from(([127, 0, 0, 1], ports.acct));
        let pid = server.pid();
        for in_flight in &s.acct_in_flight {
            acct.push(
                measure(
                    &format!("{name}, on commit"),
                    s,
                    pid,
                    Some(*in_flight),
                    None,
                    || Load::Acct(acct_addr, names.clone()),
                )
                .await,
            );
        }
        server.stop().await;
    }

    if backend == Backend::Postgres {
        // The accounting runs leave sessions open (a Start whose Stop the run's end cut
        // off): FreeRADIUS would refuse those customers a second session, and its
        // Access-Rejects wait a second. The router's reboot closes them, as it would.
        install
            .execute(
                "UPDATE radacct SET acctstoptime = now(), acctterminatecause = 'NAS-Reboot' \
                 WHERE acctstoptime IS NULL AND nasipaddress = '127.0.0.1'",
            )
            .await;
        match SqlRadius::start(&install).await {
            Ok(freeradius) => {
                let pid = freeradius.child.id();
                let (auth_addr, acct_addr) = (freeradius.auth, freeradius.acct);
                let name = "FreeRADIUS + rlm_sql, PostgreSQL";
                auth.push(
                    measure(name, s, pid, None, None, || {
                        Load::Auth(auth_addr, names.clone())
                    })
                    .await,
                );
                for in_flight in &s.acct_in_flight {
                    acct.push(
                        measure(name, s, pid, Some(*in_flight), None, || {
                            Load::Acct(acct_addr, names.clone())
                        })
                        .await,
                    );
                }
            }
            Err(why) => println!("  FreeRADIUS + rlm_sql not measured: {why}"),
        }
    }
    (auth, acct)
}

/// FreeRADIUS with one user in its `users` file: the ceiling of a server that asks no
/// database.
async fn files_baseline(s: &Settings) -> Option<Figures> {
    match files::FreeRadius::start("files-user", PASSWORD) {
        Ok(freeradius) => {
            let addr = freeradius.auth;
            let pid = newest_freeradius();
            wait_answering(addr, "files-user", "testing123").await;
            Some(
                measure("FreeRADIUS files, 1 user", s, pid, None, None, || {
                    Load::AuthWith(addr, vec!["files-user".into()], "testing123")
                })
                .await,
            )
        }
        Err(why) => {
            println!("  FreeRADIUS files not measured: {why}");
            None
        }
    }
}

/// The sessions `radacct` holds open for a customer: what the server loads at start.
async fn open_sessions(install: &Install) -> i64 {
    let conn = install.connect().await;
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT COUNT(*) FROM radacct WHERE acctstoptime IS NULL AND customer_id IS NOT NULL",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index(0).unwrap()
}

/// Active, unbound customers of the router's tenant whose service has not ended and who
/// are offline (the seed puts most of the others online: a second login would be refused
/// as a simultaneous session). An anti-join: PostgreSQL runs `NOT IN (subquery)` row by
/// row once the subquery outgrows `work_mem`, which at 10^6 customers took minutes.
async fn usernames(install: &Install, tenant: i64) -> Vec<String> {
    let conn = install.connect().await;
    let backend = conn.get_database_backend();
    let now = match backend {
        sea_orm::DbBackend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%S', 'now')",
        _ => "now()",
    };
    let sql = format!(
        "SELECT username FROM customer WHERE tenant_id = {tenant} AND archived_at IS NULL \
         AND status = 'active' AND mac IS NULL \
         AND NOT EXISTS (SELECT 1 FROM customer_online o WHERE o.customer_id = customer.id) \
         AND (billing_type <> 'prepaid' OR expires_at > {now}) \
         ORDER BY id LIMIT 20000"
    );
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(backend, sql))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

#[derive(Clone)]
enum Load {
    Auth(SocketAddr, Vec<String>),
    AuthWith(SocketAddr, Vec<String>, &'static str),
    Acct(SocketAddr, Vec<String>),
}

/// Runs `load` for the configured time (after one second of warm-up) and measures it.
/// `in_flight`: how many requests in flight (else the configured number for auth).
/// `backlog`: a built-in server acknowledging accounting on its journal (and a client to
/// ask it with), whose database is
/// waited for after the warm-up and after the run.
async fn measure(
    name: &str,
    s: &Settings,
    pid: u32,
    in_flight: Option<usize>,
    backlog: Option<(&Server, &reqwest::Client)>,
    load: impl Fn() -> Load,
) -> Figures {
    let in_flight = in_flight.unwrap_or(s.in_flight);
    run_load(load(), in_flight, Duration::from_secs(1)).await;
    if let Some((server, http)) = backlog {
        server.accounting_caught_up(http).await;
    }
    let (server_before, pg_before) = (cpu_seconds(&[pid]), cpu_seconds(&postgres_pids()));
    let generator_before = cpu_seconds(&[std::process::id()]);
    let drops_before = udp_receive_errors();
    let started = Instant::now();
    let (latencies, lost, accepted) =
        run_load(load(), in_flight, Duration::from_secs(s.seconds)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let caught_up = match backlog {
        Some((server, http)) => Some(server.accounting_caught_up(http).await),
        None => None,
    };
    let done = latencies.len().max(1) as f64;
    let figures = Figures {
        name: name.to_owned(),
        in_flight,
        rate: latencies.len() as f64 / elapsed,
        seconds: elapsed,
        caught_up,
        accepted: accepted as f64 / done,
        server_cpu_us: (cpu_seconds(&[pid]) - server_before) / done * 1e6,
        postgres_cpu_us: (cpu_seconds(&postgres_pids()) - pg_before) / done * 1e6,
        generator_cpu_us: (cpu_seconds(&[std::process::id()]) - generator_before) / done * 1e6,
        latencies: Latencies::new(latencies),
        lost,
        receive_errors: udp_receive_errors() - drops_before,
        open: Vec::new(),
    };
    figures.print();
    let (addr, names, secret) = match load() {
        Load::Auth(addr, names) => (addr, names, SECRET),
        Load::AuthWith(addr, names, secret) => (addr, names, secret),
        Load::Acct(..) => return figures,
    };
    let mut open = Vec::new();
    let rates = match &s.open_rates {
        // A rate past the server's closed-loop maximum only builds a queue: left out.
        Some(rates) => rates
            .iter()
            .copied()
            .filter(|&rate| rate <= figures.rate)
            .collect(),
        None => OPEN_LOOP_SHARES.map(|share| figures.rate * share).to_vec(),
    };
    for rate in rates {
        let share = rate / figures.rate;
        let before = (
            cpu_seconds(&[pid]),
            udp_receive_errors(),
            cpu_seconds(&[std::process::id()]),
        );
        let time = Duration::from_secs(s.seconds);
        let names = names.clone();
        let run = tokio::task::spawn_blocking(move || {
            open_loop::run(addr, rate, time, move |n, id| {
                // Customers drawn by a multiplicative hash of the request's number.
                let pick = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 17;
                auth_request(&names[(pick % names.len() as u64) as usize], id, secret)
            })
        })
        .await
        .unwrap();
        let answered = run.latencies.count().max(1) as f64;
        let run = Open {
            share,
            cpu_us: (cpu_seconds(&[pid]) - before.0) / answered * 1e6,
            generator_cpu_us: (cpu_seconds(&[std::process::id()]) - before.2) / answered * 1e6,
            receive_errors: udp_receive_errors() - before.1,
            run,
        };
        run.print(name);
        open.push(run);
    }
    Figures { open, ..figures }
}

/// `in_flight` clients, each sending its next request when the last is answered (or lost
/// after a second), until `time` has passed.
async fn run_load(load: Load, in_flight: usize, time: Duration) -> (Vec<Duration>, usize, usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..in_flight)
        .map(|n| tokio::spawn(client_loop(load.clone(), n, Arc::clone(&stop))))
        .collect();
    tokio::time::sleep(time).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let (mut lost, mut accepted) = (0, 0);
    for task in tasks {
        let (l, missing, accepts) = task.await.unwrap();
        latencies.extend(l);
        lost += missing;
        accepted += accepts;
    }
    (latencies, lost, accepted)
}

async fn client_loop(load: Load, n: usize, stop: Arc<AtomicBool>) -> (Vec<Duration>, usize, usize) {
    let (addr, names, secret) = match &load {
        Load::Auth(a, names) | Load::Acct(a, names) => (*a, names.clone(), SECRET),
        Load::AuthWith(a, names, secret) => (*a, names.clone(), *secret),
    };
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.connect(addr).await.unwrap();
    let mut latencies = Vec::new();
    let (mut lost, mut accepted) = (0, 0);
    let mut buf = [0u8; 4096];
    // A small xorshift per client: customers drawn uniformly, no shared state.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1);
    let mut i: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let user = names[(state % names.len() as u64) as usize].clone();
        let id = (i % 256) as u8;
        let bytes = match &load {
            Load::Acct(..) => {
                // A session's three packets in turn: Start, Interim-Update, Stop.
                let session = format!("{n:04x}{:012x}", i / 3);
                let status = [
                    attrs::acct_status_type::START,
                    attrs::acct_status_type::INTERIM_UPDATE,
                    attrs::acct_status_type::STOP,
                ][(i % 3) as usize];
                // A customer's session, so the database counts it online and rolls its
                // usage up, as it does live.
                let spread = (i / 3 + n as u64 * 7_919).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let customer = &names[((spread >> 17) % names.len() as u64) as usize];
                let mut p = Packet::new(Code::AccountingRequest, id);
                p.add(attrs::USER_NAME, customer);
                p.add(attrs::ACCT_STATUS_TYPE, &status);
                p.add(attrs::ACCT_SESSION_ID, &session);
                p.add(attrs::NAS_IP_ADDRESS, &Ipv4Addr::LOCALHOST);
                p.add(attrs::NAS_PORT, &(n as u32));
                p.add(attrs::ACCT_SESSION_TIME, &((i % 3) as u32 * 60));
                p.add(attrs::ACCT_INPUT_OCTETS, &((i % 3) as u32 * 1_000_000));
                p.add(attrs::ACCT_OUTPUT_OCTETS, &((i % 3) as u32 * 5_000_000));
                p.add(
                    attrs::FRAMED_IP_ADDRESS,
                    &Ipv4Addr::new(10, 9, (n % 250) as u8, 1),
                );
                p.encode_request(secret.as_bytes()).unwrap()
            }
            _ => auth_request(&user, id, secret),
        };
        let sent = Instant::now();
        if socket.send(&bytes).await.is_err() {
            lost += 1;
            continue;
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        loop {
            match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
                Ok(Ok(len)) if buf.get(..len).and_then(|b| b.get(1)) == Some(&id) => {
                    latencies.push(sent.elapsed());
                    if buf.first() == Some(&(Code::AccessAccept as u8)) {
                        accepted += 1;
                    }
                    break;
                }
                Ok(Ok(_)) => continue,
                _ => {
                    lost += 1;
                    break;
                }
            }
        }
    }
    (latencies, lost, accepted)
}

/// A PAP Access-Request of `user`, with Message-Authenticator, from a PPPoE port.
fn auth_request(user: &str, id: u8, secret: &str) -> Vec<u8> {
    let mut p = Packet::new(Code::AccessRequest, id);
    p.add_message_authenticator();
    p.add(attrs::USER_NAME, &user.to_owned());
    pap::add_user_password(&mut p, PASSWORD.as_bytes(), secret.as_bytes()).unwrap();
    p.add(attrs::NAS_IP_ADDRESS, &Ipv4Addr::LOCALHOST);
    p.add(attrs::NAS_PORT_TYPE, &15);
    p.encode_request(secret.as_bytes()).unwrap()
}

/// Waits until `addr` answers an Access-Request (accepted or not).
pub async fn wait_answering(addr: SocketAddr, user: &str, secret: &str) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.connect(addr).await.unwrap();
    let mut buf = [0u8; 4096];
    for _ in 0..300 {
        let mut p = Packet::new(Code::AccessRequest, 1);
        p.add_message_authenticator();
        p.add(attrs::USER_NAME, &user.to_owned());
        pap::add_user_password(&mut p, PASSWORD.as_bytes(), secret.as_bytes()).unwrap();
        let bytes = p.encode_request(secret.as_bytes()).unwrap();
        let _ = socket.send(&bytes).await;
        if tokio::time::timeout(Duration::from_millis(100), socket.recv(&mut buf))
            .await
            .is_ok()
        {
            return;
        }
    }
    panic!("{addr} never answered");
}
