//! The server loop with a trivial handler, driven over loopback from another process.
//!
//! `cargo bench -p radius --bench server_loop` starts this same binary again as the server
//! (one tokio thread, a handler that accepts everything), then sends signed PAP
//! Access-Requests with Message-Authenticator from a closed loop of N concurrent clients
//! (each request unique, so none is answered from the duplicate cache) and prints requests/s
//! and the latency percentiles for several N. Run under `cargo test` (no `--bench`), it does
//! a short smoke run only.

#![allow(clippy::print_stdout)] // printing its address and figures is its job

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use radius::auth::pap;
use radius::server::{Handler, NasClient, Request, Server, ServerConfig};
use radius::{Code, Packet, attrs};
use tokio::net::UdpSocket;

const ROLE: &str = "RADIUS_BENCH_ROLE";
const SECRET: &[u8] = b"testing123";

struct AcceptAll;

impl Handler for AcceptAll {
    async fn handle(&self, request: Request) -> Option<Packet> {
        let mut reply = request.reply(Code::AccessAccept);
        reply.add(attrs::SESSION_TIMEOUT, &3600);
        Some(reply)
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
    if std::env::var_os(ROLE).is_some() {
        return runtime.block_on(serve());
    }
    let full = std::env::args().any(|a| a == "--bench");
    runtime.block_on(drive(full))
}

async fn serve() -> ExitCode {
    let clients: std::collections::HashMap<std::net::IpAddr, NasClient> =
        [([127, 0, 0, 1].into(), NasClient::new(SECRET))].into();
    let config = ServerConfig::default();
    let Ok(server) = Server::bind(([127, 0, 0, 1], 0).into(), clients, AcceptAll, config).await
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

async fn drive(full: bool) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(err) => {
            eprintln!("current_exe: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut child = match Command::new(exe)
        .env(ROLE, "server")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(err) => {
            eprintln!("spawn server: {err}");
            return ExitCode::FAILURE;
        }
    };
    let address: Option<SocketAddr> = child.stdout.take().and_then(|out| {
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).ok()?;
        line.trim().strip_prefix("listening on ")?.parse().ok()
    });
    let Some(address) = address else {
        eprintln!("the server did not start");
        let _ = child.kill();
        return ExitCode::FAILURE;
    };
    let (levels, per_level): (&[usize], usize) = if full {
        (&[1, 4, 16, 64], 60_000)
    } else {
        (&[4], 200)
    };
    println!("server loop, trivial handler, PAP Access-Request with Message-Authenticator");
    println!(
        "{:>11} {:>10} {:>12} {:>10} {:>10} {:>10}",
        "concurrency", "requests", "requests/s", "p50 µs", "p99 µs", "p99.9 µs"
    );
    let mut ok = true;
    for &concurrency in levels {
        match run_level(address, concurrency, per_level).await {
            Some(result) => println!(
                "{:>11} {:>10} {:>12.0} {:>10} {:>10} {:>10}",
                concurrency, result.count, result.rate, result.p50, result.p99, result.p999
            ),
            None => {
                eprintln!("level {concurrency}: requests went unanswered");
                ok = false;
            }
        }
    }
    drop(child.stdin.take());
    let _ = child.wait();
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

struct LevelResult {
    count: usize,
    rate: f64,
    p50: u128,
    p99: u128,
    p999: u128,
}

async fn run_level(address: SocketAddr, concurrency: usize, total: usize) -> Option<LevelResult> {
    let per_task = total / concurrency;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        tasks.push(tokio::spawn(client_loop(address, per_task)));
    }
    let mut latencies = Vec::with_capacity(total);
    for task in tasks {
        latencies.extend(task.await.ok()??);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(index).map_or(0, Duration::as_micros)
    };
    Some(LevelResult {
        count: latencies.len(),
        rate: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        p999: at(0.999),
    })
}

async fn client_loop(address: SocketAddr, count: usize) -> Option<Vec<Duration>> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.ok()?;
    socket.connect(address).await.ok()?;
    let mut latencies = Vec::with_capacity(count);
    let mut buf = [0u8; 4096];
    for i in 0..count {
        let mut request = Packet::new(Code::AccessRequest, (i % 256) as u8);
        request.add_message_authenticator();
        request.add(attrs::USER_NAME, &"alice".to_owned());
        pap::add_user_password(&mut request, b"secret1", SECRET).ok()?;
        request.add(attrs::NAS_PORT_TYPE, &15);
        let bytes = request.encode_request(SECRET).ok()?;
        let sent = Instant::now();
        socket.send(&bytes).await.ok()?;
        // Bounded wait: a lost datagram ends the run rather than hanging it.
        let len = tokio::time::timeout(Duration::from_secs(2), socket.recv(&mut buf))
            .await
            .ok()?
            .ok()?;
        latencies.push(sent.elapsed());
        if buf.get(..len).and_then(|b| b.get(1)) != Some(&request.identifier) {
            return None;
        }
    }
    Some(latencies)
}
