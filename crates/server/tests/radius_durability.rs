//! An acknowledged Accounting-Request is never lost. The `lastmile` binary serves RADIUS
//! on a database an ISP was set up in; 32 senders send Accounting Starts of distinct
//! sessions as fast as they are acknowledged; the process is killed without warning while
//! they send; every Start it acknowledged must then be in `radacct`: at once when it
//! acknowledges on commit, after the next start (which writes what its journal holds
//! before it answers) when it acknowledges on the journal's sync. Three kills on each
//! engine and, on PostgreSQL, each durability.
//!
//! And a database that cannot take writes (`radacct` locked by another transaction): on
//! the journal the routers are still acknowledged and every record reaches `radacct` once
//! the lock goes; on commit nothing is acknowledged until then, and the answer comes when
//! the record is written.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_builtin;
mod support_freeradius;

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lastmile::config::AccountingDurability;
use radius::{Code, Packet, attrs};
use sea_orm::{ConnectionTrait as _, TransactionTrait as _};
use support::{Backend, TestApp, spawn, spawn_with};
use support_freeradius::api;
use support_freeradius::checks::column;
use tokio::net::UdpSocket;

const BIN: &str = env!("CARGO_BIN_EXE_lastmile");
const SENDERS: usize = 32;

/// Sends Starts of sessions `{prefix}-{sender}-{n}` one after another until `stop` or
/// `limit` sent; returns the ones acknowledged (each within `wait`; the first that is not
/// ends the sending).
async fn send_starts(
    to: SocketAddr,
    secret: String,
    prefix: String,
    sender: usize,
    limit: u32,
    wait: Duration,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.connect(to).await.unwrap();
    let mut acked = Vec::new();
    let mut buf = [0u8; 4096];
    let mut n = 0u32;
    while !stop.load(Ordering::Relaxed) && n < limit {
        n += 1;
        let session = format!("{prefix}-{sender}-{n}");
        let mut packet = Packet::new(Code::AccountingRequest, (n % 256) as u8);
        packet.add(attrs::USER_NAME, &"alice".to_owned());
        packet.add(attrs::ACCT_STATUS_TYPE, &attrs::acct_status_type::START);
        packet.add(attrs::ACCT_SESSION_ID, &session);
        packet.add(attrs::NAS_IP_ADDRESS, &Ipv4Addr::LOCALHOST);
        packet.add(attrs::NAS_PORT, &(sender as u32));
        let bytes = packet.encode_request(secret.as_bytes()).unwrap();
        if socket.send(&bytes).await.is_err() {
            // Refused: the server is gone.
            break;
        }
        match tokio::time::timeout(wait, socket.recv(&mut buf)).await {
            Ok(Ok(len))
                if buf.get(..len).is_some_and(|b| {
                    b.first() == Some(&(Code::AccountingResponse as u8))
                        && b.get(1) == Some(&packet.identifier)
                }) =>
            {
                acked.push(session);
            }
            _ => break,
        }
    }
    acked
}

/// Starts `lastmile serve` on `url`, acknowledging as `durability` says; returns once it
/// has announced its RADIUS ports (after writing what its journal held).
fn serve(dir: &std::path::Path, url: &str, acct: u16, durability: &str) -> Child {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(["--database-url", url])
        .env("LASTMILE_RADIUS_AUTH_LISTEN", "127.0.0.1:0")
        .env("LASTMILE_RADIUS_ACCT_LISTEN", format!("127.0.0.1:{acct}"))
        .env("LASTMILE_RADIUS_ACCOUNTING_DURABILITY", durability)
        .env("LASTMILE_JOBS_WORKERS", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if line.starts_with("RADIUS on udp") {
                let _ = ready_tx.send(());
            }
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("lastmile serve announces its RADIUS ports");
    child
}

/// An ISP with a router at 127.0.0.1 and the customer `alice`.
async fn isp_with_alice(app: &TestApp) -> api::Isp {
    let isp = api::isp(app, "Asia/Dhaka", ("reject", None)).await;
    api::customer(
        app,
        &isp.dev,
        isp.tenant,
        isp.home,
        "alice",
        serde_json::json!({}),
    )
    .await;
    isp
}

async fn acknowledged_accounting_survives_kill_9(backend: Backend, durability: &str) {
    let mut app = spawn(backend).await;
    let isp = isp_with_alice(&app).await;
    app.stop().await;
    let url = app.config.database_url();
    let dir = app.config.data_dir.clone();

    for round in 0..3 {
        let acct = support_freeradius::free_port();
        let mut child = serve(&dir, &url, acct, durability);
        let stop = Arc::new(AtomicBool::new(false));
        let to = SocketAddr::from(([127, 0, 0, 1], acct));
        let senders: Vec<_> = (0..SENDERS)
            .map(|s| {
                tokio::spawn(send_starts(
                    to,
                    isp.secret.clone(),
                    format!("{durability}{round}"),
                    s,
                    u32::MAX,
                    Duration::from_millis(500),
                    Arc::clone(&stop),
                ))
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(700 + 150 * round as u64)).await;
        child.kill().unwrap(); // SIGKILL: no shutdown, no flush
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        let mut acked = Vec::new();
        for sender in senders {
            acked.extend(sender.await.unwrap());
        }
        if durability == "journal" {
            // What the journal holds is written before the ports open.
            let mut again = serve(&dir, &url, support_freeradius::free_port(), durability);
            again.kill().unwrap();
            again.wait().unwrap();
        }
        assert!(
            acked.len() > 50,
            "round {round}: only {} Starts acknowledged before the kill",
            acked.len()
        );
        let stored: std::collections::HashSet<String> =
            stored_sessions(&app, &format!("{durability}{round}"))
                .await
                .into_iter()
                .collect();
        let missing: Vec<&String> = acked.iter().filter(|s| !stored.contains(*s)).collect();
        assert!(
            missing.is_empty(),
            "round {round}: {} of {} acknowledged Starts lost: {:?}",
            missing.len(),
            acked.len(),
            &missing[..missing.len().min(10)]
        );
    }
}

/// Holds `radacct` locked against writes (reads go on) until the transaction ends.
async fn lock_radacct(app: &TestApp) -> sea_orm::DatabaseTransaction {
    let other = sea_orm::Database::connect(app.config.database_url())
        .await
        .unwrap();
    let tx = other.begin().await.unwrap();
    tx.execute_unprepared("LOCK TABLE radacct IN EXCLUSIVE MODE")
        .await
        .unwrap();
    tx
}

/// The session ids `{prefix}-…` in `radacct`, a row each.
async fn stored_sessions(app: &TestApp, prefix: &str) -> Vec<String> {
    column(
        app,
        &format!("SELECT acctsessionid FROM radacct WHERE acctsessionid LIKE '{prefix}-%'"),
    )
    .await
    .into_iter()
    .flatten()
    .collect()
}

async fn stored(app: &TestApp, prefix: &str) -> usize {
    stored_sessions(app, prefix).await.len()
}

async fn app_with_alice(durability: AccountingDurability) -> (TestApp, api::Isp) {
    let app = spawn_with(Backend::Postgres, |c| {
        c.radius.accounting_durability = durability;
        c.radius.journal_max_mib = 1;
    })
    .await;
    let isp = isp_with_alice(&app).await;
    (app, isp)
}

fn acct_addr(app: &TestApp) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], support_builtin::acct_port(app)))
}

/// `senders` routers' worth of Starts `{prefix}-…` to `app`, each sending up to `limit`
/// and giving up at the first not acknowledged within `wait`; the acknowledged ones.
async fn send_from(
    app: &TestApp,
    isp: &api::Isp,
    prefix: &str,
    senders: usize,
    limit: u32,
    wait: Duration,
) -> Vec<String> {
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..senders)
        .map(|s| {
            tokio::spawn(send_starts(
                acct_addr(app),
                isp.secret.clone(),
                prefix.to_owned(),
                s,
                limit,
                wait,
                Arc::clone(&stop),
            ))
        })
        .collect();
    let mut acked = Vec::new();
    for task in tasks {
        acked.extend(task.await.unwrap());
    }
    acked
}

/// Waits until `radacct` holds at least `count` sessions `{prefix}-…`, at most `within`;
/// returns how many it holds.
async fn wait_stored(app: &TestApp, prefix: &str, count: usize, within: Duration) -> usize {
    let deadline = std::time::Instant::now() + within;
    loop {
        let stored = stored(app, prefix).await;
        if stored >= count {
            return stored;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{stored} of {count} acknowledged Starts in radacct {within:?} after the lock went"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

mod on_sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn acknowledged_accounting_survives_kill_9() {
        super::acknowledged_accounting_survives_kill_9(super::Backend::Sqlite, "database").await;
    }
}

mod on_postgres {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn accounting_acknowledged_on_commit_survives_kill_9() {
        acknowledged_accounting_survives_kill_9(Backend::Postgres, "database").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn accounting_acknowledged_on_the_journal_survives_kill_9() {
        acknowledged_accounting_survives_kill_9(Backend::Postgres, "journal").await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn with_the_journal_a_locked_radacct_holds_up_no_router_and_loses_nothing() {
        let (app, isp) = app_with_alice(AccountingDurability::Journal).await;
        let lock = lock_radacct(&app).await;
        let acked = send_from(&app, &isp, "locked", 8, 50, Duration::from_secs(2)).await;
        assert_eq!(
            acked.len(),
            400,
            "every Start acknowledged while radacct is locked"
        );
        assert_eq!(
            stored(&app, "locked").await,
            0,
            "none written through the lock"
        );
        lock.commit().await.unwrap();
        let stored = wait_stored(&app, "locked", 400, Duration::from_secs(30)).await;
        assert_eq!(stored, 400, "each Start written once");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_journal_as_far_ahead_as_allowed_acknowledges_nothing_more_until_the_database_catches_up()
     {
        // 1 MiB of journal: some thousands of Starts.
        let (app, isp) = app_with_alice(AccountingDurability::Journal).await;
        let lock = lock_radacct(&app).await;
        let acked = send_from(&app, &isp, "bound", 16, 2_000, Duration::from_secs(1)).await;
        assert!(
            (2_000..32_000).contains(&acked.len()),
            "{} Starts acknowledged with the database 1 MiB behind",
            acked.len()
        );
        assert_eq!(stored(&app, "bound").await, 0);
        lock.commit().await.unwrap();
        let stored = wait_stored(&app, "bound", acked.len(), Duration::from_secs(60)).await;
        // Each sender's last Start waited unacknowledged when it gave up; the server
        // journals and writes it once there is room (its answer then finds no one).
        assert!(
            stored <= acked.len() + 16,
            "{stored} written for {} acknowledged",
            acked.len()
        );
        // Caught up: acknowledged again.
        let again = send_from(&app, &isp, "after", 1, 5, Duration::from_secs(5)).await;
        assert_eq!(again.len(), 5);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn on_commit_a_locked_radacct_holds_the_answer_until_the_record_is_written() {
        let (app, isp) = app_with_alice(AccountingDurability::Database).await;
        let lock = lock_radacct(&app).await;
        let unanswered = send_from(&app, &isp, "held", 1, 1, Duration::from_millis(1500)).await;
        assert!(
            unanswered.is_empty(),
            "no answer while the record cannot be written"
        );
        // The answer comes once the lock goes: to the router's next try of the same
        // record, as a retransmission.
        lock.commit().await.unwrap();
        let answered = send_from(&app, &isp, "held", 1, 1, Duration::from_secs(10)).await;
        assert_eq!(answered, ["held-0-1"]);
        assert_eq!(stored(&app, "held").await, 1);
    }
}
