//! An acknowledged Accounting-Request survives `kill -9`. The `lastmile` binary serves
//! RADIUS on a database an ISP was set up in; 32 senders send Accounting Starts of distinct
//! sessions as fast as they are acknowledged; the process is killed without warning while
//! they send; every Start it acknowledged must then be in `radacct`. Three kills on each
//! engine.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_freeradius;

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use radius::{Code, Packet, attrs};
use support::{Backend, spawn};
use support_freeradius::api;
use support_freeradius::checks::column;
use tokio::net::UdpSocket;

const BIN: &str = env!("CARGO_BIN_EXE_lastmile");
const SENDERS: usize = 32;

/// Sends Starts of sessions `{round}-{sender}-{n}` one after another until `stop`; returns
/// the ones acknowledged.
async fn send_starts(
    to: SocketAddr,
    secret: String,
    round: usize,
    sender: usize,
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.connect(to).await.unwrap();
    let mut acked = Vec::new();
    let mut buf = [0u8; 4096];
    let mut n = 0u32;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let session = format!("r{round}-{sender}-{n}");
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
        match tokio::time::timeout(Duration::from_millis(500), socket.recv(&mut buf)).await {
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

async fn acknowledged_accounting_survives_kill_9(backend: Backend) {
    let mut app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    api::customer(
        &app,
        &isp.dev,
        isp.tenant,
        isp.home,
        "alice",
        serde_json::json!({}),
    )
    .await;
    app.stop().await;
    let url = app.config.database_url();
    let dir = app.config.data_dir.clone();

    for round in 0..3 {
        let acct = support_freeradius::free_port();
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&dir)
            .args(["--database-url", &url])
            .env("LASTMILE_RADIUS_AUTH_LISTEN", "127.0.0.1:0")
            .env("LASTMILE_RADIUS_ACCT_LISTEN", format!("127.0.0.1:{acct}"))
            .env("LASTMILE_JOBS_WORKERS", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Ready once it has announced its RADIUS ports.
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

        let stop = Arc::new(AtomicBool::new(false));
        let to = SocketAddr::from(([127, 0, 0, 1], acct));
        let senders: Vec<_> = (0..SENDERS)
            .map(|s| {
                tokio::spawn(send_starts(
                    to,
                    isp.secret.clone(),
                    round,
                    s,
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
        assert!(
            acked.len() > 50,
            "round {round}: only {} Starts acknowledged before the kill",
            acked.len()
        );
        let stored = column(
            &app,
            &format!("SELECT acctsessionid FROM radacct WHERE acctsessionid LIKE 'r{round}-%'"),
        )
        .await;
        let stored: std::collections::HashSet<String> = stored.into_iter().flatten().collect();
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

mod on_sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn acknowledged_accounting_survives_kill_9() {
        super::acknowledged_accounting_survives_kill_9(super::Backend::Sqlite).await;
    }
}

mod on_postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn acknowledged_accounting_survives_kill_9() {
        super::acknowledged_accounting_survives_kill_9(super::Backend::Postgres).await;
    }
}
