//! The server loop driven over loopback from another process, with FreeRADIUS as the
//! baseline measured in the same run.
//!
//! `cargo bench -p radius --bench server_loop` starts this same binary twice more as servers
//! (one tokio thread each): one with a trivial handler (accept everything), one that checks
//! PAP against an in-memory user, and FreeRADIUS 3.2 with a users file (its default site,
//! threaded). It then sends signed PAP Access-Requests with Message-Authenticator from a
//! closed loop of N concurrent clients (each request unique, so none is answered from a
//! duplicate cache) and prints requests/s and latency percentiles per server and N, the best
//! rate with p99 under 1 ms, and the ratio to FreeRADIUS. Under `cargo test` (no `--bench`)
//! it does a short smoke run of the trivial server only.

#![allow(clippy::print_stdout)] // printing its figures is its job

mod freeradius;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use radius::auth::pap;
use radius::server::{Handler, NasClient, Request, Server, ServerConfig};
use radius::{Code, Packet, attrs};
use tokio::net::UdpSocket;

const ROLE: &str = "RADIUS_BENCH_ROLE";
const SECRET: &[u8] = b"testing123";
const USER: &str = "alice";
const PASSWORD: &str = "secret1";

/// Accepts everything: the cost of the loop itself.
struct AcceptAll;

impl Handler for AcceptAll {
    async fn handle(&self, request: Request) -> Option<Packet> {
        let mut reply = request.reply(Code::AccessAccept);
        reply.add(attrs::SESSION_TIMEOUT, &3600);
        Some(reply)
    }
}

/// Checks PAP against one in-memory user: what FreeRADIUS's files + pap modules do here.
struct CheckPap;

impl Handler for CheckPap {
    async fn handle(&self, request: Request) -> Option<Packet> {
        let known = request.packet.value(attrs::USER_NAME) == Some(Ok(USER.to_owned()));
        if known && request.check_password(PASSWORD).is_accept() {
            let mut reply = request.reply(Code::AccessAccept);
            reply.add(attrs::SESSION_TIMEOUT, &3600);
            Some(reply)
        } else {
            Some(request.reply(Code::AccessReject))
        }
    }
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match std::env::var(ROLE).as_deref() {
        Ok("trivial") => runtime.block_on(serve(AcceptAll)),
        Ok(_) => runtime.block_on(serve(CheckPap)),
        Err(_) => runtime.block_on(drive(std::env::args().any(|a| a == "--bench"))),
    }
}

async fn serve(handler: impl Handler) -> ExitCode {
    let clients: std::collections::HashMap<std::net::IpAddr, NasClient> =
        [([127, 0, 0, 1].into(), NasClient::new(SECRET))].into();
    let config = ServerConfig::default();
    let Ok(server) = Server::bind(([127, 0, 0, 1], 0).into(), clients, handler, config).await
    else {
        return ExitCode::FAILURE;
    };
    let Ok(address) = server.local_addr() else {
        return ExitCode::FAILURE;
    };
    println!("listening on {address}");
    let stop = async {
        use tokio::io::AsyncReadExt;
        let mut sink = Vec::new();
        let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    };
    match server.run(stop).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// A server child process of this binary, stopped when dropped (by closing its stdin).
struct ChildServer {
    child: Child,
    address: SocketAddr,
}

impl ChildServer {
    fn start(role: &str) -> Result<ChildServer, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .env(ROLE, role)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn server: {e}"))?;
        let address = child.stdout.take().and_then(|out| {
            let mut line = String::new();
            BufReader::new(out).read_line(&mut line).ok()?;
            line.trim().strip_prefix("listening on ")?.parse().ok()
        });
        match address {
            Some(address) => Ok(ChildServer { child, address }),
            None => {
                let _ = child.kill();
                Err("the server did not start".into())
            }
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

async fn drive(full: bool) -> ExitCode {
    let (levels, per_level): (&[usize], usize) = if full {
        (&[1, 4, 16, 64], 30_000)
    } else {
        (&[4], 200)
    };
    let trivial = match ChildServer::start("trivial") {
        Ok(server) => server,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    let mut targets: Vec<(&str, SocketAddr)> = vec![("lastmile, trivial handler", trivial.address)];
    let pap_server = if full {
        ChildServer::start("pap").ok()
    } else {
        None
    };
    if let Some(server) = &pap_server {
        targets.push(("lastmile, PAP check", server.address));
    }
    let baseline = if full {
        match freeradius::FreeRadius::start(USER, PASSWORD) {
            Ok(server) if wait_until_answering(server.auth).await => Some(server),
            Ok(_) => {
                eprintln!("FreeRADIUS did not answer; no baseline");
                None
            }
            Err(err) => {
                eprintln!("no FreeRADIUS baseline: {err}");
                None
            }
        }
    } else {
        None
    };
    if let Some(server) = &baseline {
        targets.push(("FreeRADIUS 3.2, files + pap", server.auth));
    }
    println!("PAP Access-Request with Message-Authenticator, closed loop, loopback");
    println!(
        "{:<28} {:>5} {:>8} {:>5} {:>11} {:>8} {:>8} {:>9}",
        "server", "conc.", "requests", "lost", "requests/s", "p50 µs", "p99 µs", "p99.9 µs"
    );
    let mut results = Vec::new();
    for (name, address) in &targets {
        for &concurrency in levels {
            let result = run_level(*address, concurrency, per_level).await;
            println!(
                "{:<28} {:>5} {:>8} {:>5} {:>11.0} {:>8} {:>8} {:>9}",
                name,
                concurrency,
                result.count,
                result.lost,
                result.rate,
                result.p50,
                result.p99,
                result.p999
            );
            results.push((*name, concurrency, result));
        }
    }
    println!();
    for (name, _) in &targets {
        let best = results
            .iter()
            .filter(|(n, _, r)| n == name && r.p99 < 1000 && r.lost == 0)
            .max_by(|a, b| a.2.rate.total_cmp(&b.2.rate));
        match best {
            Some((_, c, r)) => println!(
                "{name}: {:.0} requests/s with p99 under 1 ms (concurrency {c}, p99 {} µs)",
                r.rate, r.p99
            ),
            None => println!("{name}: no level kept p99 under 1 ms"),
        }
    }
    if baseline.is_some() {
        for &concurrency in levels {
            let rate = |name: &str| {
                results
                    .iter()
                    .find(|(n, c, _)| *n == name && *c == concurrency)
                    .map(|(_, _, r)| r.rate)
            };
            if let (Some(ours), Some(theirs)) = (
                rate("lastmile, PAP check"),
                rate("FreeRADIUS 3.2, files + pap"),
            ) {
                println!(
                    "concurrency {concurrency}: lastmile PAP check / FreeRADIUS = {:.2}x",
                    ours / theirs
                );
            }
        }
    }
    let smoke_ok = results.iter().all(|(_, _, r)| full || r.lost == 0);
    if smoke_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn wait_until_answering(address: SocketAddr) -> bool {
    for _ in 0..60 {
        if run_level(address, 1, 1).await.lost == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    false
}

struct LevelResult {
    count: usize,
    lost: usize,
    rate: f64,
    p50: u128,
    p99: u128,
    p999: u128,
}

async fn run_level(address: SocketAddr, concurrency: usize, total: usize) -> LevelResult {
    let per_task = (total / concurrency).max(1);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(client_loop(address, per_task)))
        .collect();
    let mut latencies = Vec::with_capacity(total);
    let mut lost = 0;
    for task in tasks {
        match task.await {
            Ok((times, missing)) => {
                latencies.extend(times);
                lost += missing;
            }
            Err(_) => lost += per_task,
        }
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let at = |q: f64| {
        let index = ((latencies.len().saturating_sub(1)) as f64 * q).round() as usize;
        latencies.get(index).map_or(0, Duration::as_micros)
    };
    LevelResult {
        count: latencies.len(),
        lost,
        rate: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
    }
}

/// Sends `count` requests one after the other; returns the latencies and how many got no
/// reply within 500 ms (bounded: a lost datagram never hangs the run).
async fn client_loop(address: SocketAddr, count: usize) -> (Vec<Duration>, usize) {
    let mut latencies = Vec::with_capacity(count);
    let mut lost = 0;
    let Ok(socket) = UdpSocket::bind("127.0.0.1:0").await else {
        return (latencies, count);
    };
    if socket.connect(address).await.is_err() {
        return (latencies, count);
    }
    let mut buf = [0u8; 4096];
    for i in 0..count {
        let mut request = Packet::new(Code::AccessRequest, (i % 256) as u8);
        request.add_message_authenticator();
        request.add(attrs::USER_NAME, &USER.to_owned());
        if pap::add_user_password(&mut request, PASSWORD.as_bytes(), SECRET).is_err() {
            return (latencies, count);
        }
        request.add(attrs::NAS_IP_ADDRESS, &std::net::Ipv4Addr::LOCALHOST);
        request.add(attrs::NAS_PORT_TYPE, &15);
        let Ok(bytes) = request.encode_request(SECRET) else {
            return (latencies, count);
        };
        let sent = Instant::now();
        if socket.send(&bytes).await.is_err() {
            lost += 1;
            continue;
        }
        let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
        loop {
            match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
                Ok(Ok(len))
                    if buf.get(..len).and_then(|b| b.get(1)) == Some(&request.identifier) =>
                {
                    latencies.push(sent.elapsed());
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
    (latencies, lost)
}
