//! The reconnect storm: every subscriber of an ISP logging in at once through 50 routers
//! that boot together, then again when all 50 reboot, against `lastmile serve`'s built-in
//! server, over real UDP on this machine.
//!
//! ```text
//! cargo bench -p lastmile --bench storm [-- CUSTOMERS]
//! ```
//!
//! For each backend, an installation seeded with CUSTOMERS (default 100 000; `lastmile
//! bench seed`), its sessions cleared, and `lastmile serve`, left to finish its start-up
//! work (the day's billing pass over every customer) before the storm. Fifty routers are added through
//! the API at 127.0.0.2 to 127.0.0.51 with one secret, and each is played by a simulated NAS
//! (`simnas`, sending from its own address) with its share of the tenant's customers in
//! service: at boot an Accounting-On, then logins over 20 s, most early (a boot curve), with
//! PAP, CHAP and MS-CHAPv2 in turn and the `radius` client's retransmissions, each accepted
//! one followed by its Accounting Start. Then all fifty reboot at once: their sessions
//! dropped without a Stop, an Accounting-On each, everyone dials again.
//!
//! Between the two, every master package gets a new speed through the API, and the time
//! until every session on the routers runs at it is printed with what the enforcement
//! ladder did (its enforcements and attempts): routers that take 5 ms to answer a CoA and
//! lose 1% of the requests on the way (aaa-design.md §9, B9).
//!
//! Printed per storm: the time until every subscriber has a session whose Start is
//! acknowledged or given up (a router sends a record again for a few rounds), refusals,
//! unanswered requests and records; and the checks: every acknowledged Start open in
//! `radacct` once, no customer with more open sessions than it may have, and, after the
//! reboot, every session of before closed by it (`NAS-Reboot`).
//!
//! - `LASTMILE_BENCH_BACKENDS`: `sqlite,postgres` (default both);
//! - `LASTMILE_BENCH_ROUTERS`: routers (default 50).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark prints, and fails loudly

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Install, Server, client};
use routeros::sim::{Group, SimConfig, SimRouter};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};
use simnas::{Scenario, SimNas, Snapshot, Subscriber};
use testkit::Backend;

/// The routers' secret.
const SECRET: &str = "bench-storm-secret-0123";
/// The password `lastmile bench seed` gives every customer.
const PASSWORD: &str = "bench-pass";
/// How long a storm may take before the benchmark gives up on it.
const PATIENCE: Duration = Duration::from_secs(120);
/// How long each router takes to answer a CoA or Disconnect request.
const COA_DELAY_MS: u64 = 5;
/// The share of CoA and Disconnect requests lost on the way to the routers, percent.
const COA_LOSS_PERCENT: u32 = 1;
/// How long every session may take to reach a package's new speed.
const RATE_PATIENCE: Duration = Duration::from_secs(600);
/// The new speed every master package is given, kbit/s down and up.
const NEW_SPEED: (i64, i64) = (9_999, 4_444);

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
    let routers: u8 = std::env::var("LASTMILE_BENCH_ROUTERS")
        .ok()
        .map_or(50, |r| {
            r.parse().expect("LASTMILE_BENCH_ROUTERS is a number")
        });
    println!("reconnect storm: {customers} customers, {routers} routers");
    for backend in common::backends() {
        run(backend, customers, routers).await;
    }
}

async fn run(backend: Backend, customers: usize, routers: u8) {
    println!("\n== {backend:?}");
    let install = Install::new(backend).await;
    install.run(&["bench", "seed", "--customers", &customers.to_string()]);
    // Nobody online: the storm starts from routers that have just come up.
    install.execute("DELETE FROM radacct").await;
    let coa_port = common::free_udp_port();
    let http = client();
    let coa = coa_port.to_string();
    let (server, ports, _) = install
        .serve_radius(&[("LASTMILE_RADIUS_COA_PORT", &coa)], &http)
        .await;
    let (auth_port, acct_port) = (ports.auth, ports.acct);
    let (token, _) = server.sign_in(&http).await;
    let tenant = server.seeded_tenant(&http, &token).await;
    for n in 0..routers {
        let name = format!("storm-{n:02}");
        server
            .add_router(&http, &token, tenant, &name, address(n), SECRET)
            .await;
    }
    install.settled().await;
    let subscribers = in_service(&install, tenant).await;
    println!(
        "  {} customers in service, {} a router",
        subscribers.len(),
        subscribers.len() / usize::from(routers)
    );

    let mut nases = Vec::new();
    for n in 0..routers {
        let share: Vec<Subscriber> = subscribers
            .iter()
            .skip(usize::from(n))
            .step_by(usize::from(routers))
            .cloned()
            .collect();
        let mut scenario = Scenario::new(IpAddr::V4(Ipv4Addr::LOCALHOST), SECRET, share);
        scenario.auth_server.set_port(auth_port);
        scenario.acct_server.set_port(acct_port);
        scenario.source = Some(IpAddr::V4(address(n)));
        scenario.nas_ip = address(n);
        scenario.coa_listen = SocketAddr::new(IpAddr::V4(address(n)), coa_port);
        scenario.login_over = Duration::from_secs(20);
        scenario.redial = Duration::from_secs(2);
        scenario.seed = u64::from(n) + 1;
        // Routers a little slow to answer CoA, and a lossy path to them.
        scenario.coa_delay = Duration::from_millis(COA_DELAY_MS);
        scenario.coa_loss_percent = COA_LOSS_PERCENT;
        let router = SimRouter::start(SimConfig::new("api", "api-pass-1", Group::Full))
            .await
            .unwrap();
        nases.push(SimNas::start(scenario, Arc::new(router)).await.unwrap());
    }
    let everyone = subscribers.len() as u64;
    let first = storm(&nases, everyone, 0).await;
    report("boot", &first, everyone);
    caught_up(&server, &http).await;
    let before = check(&install, &nases, None).await;
    new_speed(&install, &server, &http, &token, tenant, &nases).await;

    for nas in &nases {
        nas.reboot_now();
    }
    let second = storm(&nases, everyone, 1).await;
    report(&format!("all {routers} reboot"), &second, everyone);
    caught_up(&server, &http).await;
    check(&install, &nases, Some(before)).await;
    drop(nases);
    server.stop().await;
}

/// Waits for the database to hold every record the server acknowledged (PostgreSQL
/// acknowledges on its journal) and prints how long that took after the storm.
async fn caught_up(server: &Server, http: &reqwest::Client) {
    let lag = server.accounting_caught_up(http).await;
    println!(
        "  database: every acknowledged record in it {:.2} s after the storm",
        lag.as_secs_f64()
    );
}

/// Every master package of the tenant gets a new speed through the API; waits until every
/// session on the routers runs at it and prints how long that took and what the ladder
/// did (aaa-design.md §9, B9: CoA to every online customer through routers that answer
/// late and lose some requests).
async fn new_speed(
    install: &Install,
    server: &Server,
    http: &reqwest::Client,
    token: &str,
    tenant: i64,
    nases: &[SimNas],
) {
    let listed = server
        .get_json(
            http,
            token,
            &format!("/api/v1/packages?tenant_id={tenant}&limit=200"),
        )
        .await;
    let masters: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["level"] == "master")
        .collect();
    let online = sum(nases).online as usize;
    let began = Instant::now();
    let mut rate = String::new();
    for p in &masters {
        let validity = p["validity_minutes"].as_i64().unwrap();
        let body = json!({
            "connection_type": p["connection_type"], "download_kbps": NEW_SPEED.0,
            "upload_kbps": NEW_SPEED.1, "validity_days": validity / 1440,
            "validity_hours": validity % 1440 / 60, "validity_minutes": validity % 60,
            "ip_pool_id": p["ip_pool_id"], "volume_bytes": p["volume_bytes"], "fup": p["fup"],
            "version": p["version"],
        });
        let path = format!("/api/v1/packages/{}", p["id"]);
        let changed = server
            .send_json(http, token, reqwest::Method::PATCH, &path, &body)
            .await;
        rate = changed["rate_limit"].as_str().unwrap().to_owned();
    }
    let changed = began.elapsed();
    let at_rate =
        |nases: &[SimNas]| -> usize { nases.iter().map(|nas| nas.sessions_at_rate(&rate)).sum() };
    loop {
        if at_rate(nases) >= online || began.elapsed() > RATE_PATIENCE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = began.elapsed();
    let reached = at_rate(nases);
    let outcomes = count_by(
        install,
        "SELECT a.outcome, COUNT(*) FROM enforcement_attempt a \
         JOIN enforcement e ON e.id = a.enforcement_id \
         WHERE e.reason = 'package' GROUP BY a.outcome ORDER BY a.outcome",
    )
    .await;
    let statuses = count_by(
        install,
        "SELECT status, COUNT(*) FROM enforcement WHERE reason = 'package' \
         GROUP BY status ORDER BY status",
    )
    .await;
    let total = sum(nases);
    println!(
        "  new speed on {} master packages ({changed:.1?} through the API): {reached}/{online} \
         sessions at {rate} in {:.1} s ({:.0} a second); enforcements {statuses}; attempts \
         {outcomes}; the routers applied {} CoA and lost {} requests \
         ({COA_DELAY_MS} ms to answer, {COA_LOSS_PERCENT}% lost)",
        masters.len(),
        took.as_secs_f64(),
        reached as f64 / took.as_secs_f64(),
        total.coa,
        total.coa_lost,
    );
}

/// `label: count` pairs of a two-column query, joined.
async fn count_by(install: &Install, sql: &str) -> String {
    let conn = install.connect().await;
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let label: String = r.try_get_by_index(0).unwrap();
            let count: i64 = r.try_get_by_index(1).unwrap();
            format!("{label} {count}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a storm came to: its time and the routers' counts summed.
struct Storm {
    took: Duration,
    total: Snapshot,
}

/// Waits until every subscriber is online after reboot `reboots`, with every record
/// acknowledged or lost.
async fn storm(nases: &[SimNas], everyone: u64, reboots: u64) -> Storm {
    let started = Instant::now();
    loop {
        let total = sum(nases);
        let settled = total.reboots == reboots * nases.len() as u64
            && total.online == everyone
            && nases.iter().all(|nas| nas.starts_in_flight() == 0);
        if settled || started.elapsed() > PATIENCE {
            return Storm {
                took: started.elapsed(),
                total,
            };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn sum(nases: &[SimNas]) -> Snapshot {
    nases
        .iter()
        .map(SimNas::snapshot)
        .fold(Snapshot::default(), |a, s| Snapshot {
            accepted: a.accepted + s.accepted,
            local: a.local + s.local,
            rejected: a.rejected + s.rejected,
            unanswered: a.unanswered + s.unanswered,
            online: a.online + s.online,
            acct_acked: a.acct_acked + s.acct_acked,
            starts_acked: a.starts_acked + s.starts_acked,
            acct_lost: a.acct_lost + s.acct_lost,
            coa: a.coa + s.coa,
            coa_lost: a.coa_lost + s.coa_lost,
            disconnects: a.disconnects + s.disconnects,
            removed: a.removed + s.removed,
            reboots: a.reboots + s.reboots,
        })
}

fn report(what: &str, storm: &Storm, everyone: u64) {
    let t = &storm.total;
    println!(
        "  {what}: {}/{everyone} online in {:.1} s ({:.0} logins/s); {} refused (and dialled again), {} unanswered, {} records acknowledged, {} lost",
        t.online,
        storm.took.as_secs_f64(),
        everyone as f64 / storm.took.as_secs_f64(),
        t.rejected,
        t.unanswered,
        t.acct_acked,
        t.acct_lost,
    );
}

/// The database after a storm against what the routers hold: every session whose Start was
/// acknowledged open in `radacct`, no session open there that no router holds, nobody over
/// its limit, and (after a reboot) every session of before closed by it.
async fn check(install: &Install, nases: &[SimNas], rebooted: Option<i64>) -> i64 {
    let held: Vec<(String, String, bool)> = nases.iter().flat_map(SimNas::sessions).collect();
    let conn = install.connect().await;
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT username, acctsessionid FROM radacct WHERE acctstoptime IS NULL".to_owned(),
        ))
        .await
        .unwrap();
    let open: std::collections::HashSet<(String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.try_get_by_index(0).unwrap(),
                r.try_get_by_index(1).unwrap(),
            )
        })
        .collect();
    let acked_missing = held
        .iter()
        .filter(|(user, id, acked)| *acked && !open.contains(&(user.clone(), id.clone())))
        .count();
    let held_keys: std::collections::HashSet<(String, String)> = held
        .iter()
        .map(|(u, i, _)| (u.clone(), i.clone()))
        .collect();
    let strays = open.iter().filter(|k| !held_keys.contains(*k)).count();
    let over = count(
        install,
        "SELECT COUNT(*) FROM customer_online o JOIN customer c ON c.id = o.customer_id \
         WHERE o.sessions > c.simultaneous_use",
    )
    .await;
    print!(
        "  check: {} sessions held, {} open in radacct; acknowledged Starts not open: {acked_missing}; open that no router holds: {strays}; customers over their limit: {over}",
        held.len(),
        open.len()
    );
    if let Some(expected) = rebooted {
        let closed = count(
            install,
            "SELECT COUNT(*) FROM radacct WHERE acctterminatecause = 'NAS-Reboot'",
        )
        .await;
        // Sessions that ended between the two checks (a Session-Timeout) were closed by
        // their Stop instead.
        print!("; closed by the reboots: {closed} (open before: {expected})");
        assert!(
            closed <= expected,
            "only sessions of before closed by the reboots"
        );
    }
    println!();
    assert_eq!(acked_missing, 0, "every acknowledged Start open");
    if over > 0 {
        println!("  FINDING: {over} customers have more sessions open than they may");
    }
    open.len() as i64
}

/// The tenant's customers in service, with the seed's password and their MACs.
async fn in_service(install: &Install, tenant: i64) -> Vec<Subscriber> {
    let conn = install.connect().await;
    let backend = conn.get_database_backend();
    // In service for the whole run: a customer whose service ends during it is refused.
    let now = match backend {
        sea_orm::DbBackend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%S', 'now', '+1 day')",
        _ => "(now() + interval '1 day')",
    };
    let sql = format!(
        "SELECT username, mac, connection_type FROM customer WHERE tenant_id = {tenant} \
         AND archived_at IS NULL AND status = 'active' \
         AND (billing_type <> 'prepaid' OR expires_at > {now}) ORDER BY id"
    );
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(backend, sql))
        .await
        .unwrap();
    rows.iter()
        .map(|r| Subscriber {
            username: r.try_get_by_index(0).unwrap(),
            password: PASSWORD.to_owned(),
            mac: r.try_get_by_index::<Option<String>>(1).unwrap(),
            hotspot: r.try_get_by_index::<String>(2).unwrap() == "hotspot",
        })
        .collect()
}

async fn count(install: &Install, sql: &str) -> i64 {
    let conn = install.connect().await;
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

/// Router `n`'s address.
fn address(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, n.saturating_add(2))
}
