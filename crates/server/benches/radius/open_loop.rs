//! Open-loop load: Access-Requests sent on a fixed schedule (a given rate, evenly spaced),
//! whatever the answers do, as a fleet of routers sends them. Each latency runs from the
//! moment the request was due, not from when it left, so a server (or a generator) that
//! falls behind pays for the whole queue it built (no coordinated omission).
//!
//! The sender's own lateness (how long after it was due each request left) is kept too:
//! the generator shares the cores with the server, and a sender the scheduler kept waiting
//! shows in the latencies as if the server had been slow.
//!
//! One thread sends, through [`SOCKETS`] sockets in turn (so an identifier comes round
//! again on a socket only after `SOCKETS × 256` requests); another thread receives on all
//! of them. A request still unanswered at the end (a second after the last was due) is
//! lost.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::Latencies;

/// Sockets the requests go out through.
const SOCKETS: usize = 64;

/// What an open-loop run measured.
pub struct OpenLoop {
    /// Requests per second asked for.
    pub target: f64,
    /// Requests per second sent.
    pub sent_rate: f64,
    /// Latency of each answered request, from when it was due.
    pub latencies: Latencies,
    /// How late each request left the generator (zero when it left on time or early).
    pub sent_late: Latencies,
    /// Requests never answered.
    pub lost: usize,
    /// Access-Accepts among the answers.
    pub accepted: usize,
}

/// Sends `rate` requests a second to `addr` for `time`, each made by `request(n, id)` for
/// the n-th request and its identifier.
pub fn run(
    addr: SocketAddr,
    rate: f64,
    time: Duration,
    request: impl Fn(u64, u8) -> Vec<u8> + Send + 'static,
) -> OpenLoop {
    let sockets: Vec<UdpSocket> = (0..SOCKETS)
        .map(|_| {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.connect(addr).unwrap();
            socket
        })
        .collect();
    // When each (socket, identifier) was due, in nanoseconds from the start, plus one
    // (zero: nothing outstanding).
    let due: Arc<Vec<AtomicU64>> =
        Arc::new((0..SOCKETS * 256).map(|_| AtomicU64::new(0)).collect());
    let start = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicUsize::new(0));

    let receiver = {
        let sockets: Vec<UdpSocket> = sockets.iter().map(|s| s.try_clone().unwrap()).collect();
        let (due, done, accepted) = (Arc::clone(&due), Arc::clone(&done), Arc::clone(&accepted));
        std::thread::spawn(move || receive(sockets, start, &due, &done, &accepted))
    };

    let interval = 1.0 / rate;
    let end = start + time;
    let mut sent: u64 = 0;
    let mut sent_late = Vec::new();
    loop {
        let at = start + Duration::from_secs_f64(sent as f64 * interval);
        if at >= end {
            break;
        }
        let now = Instant::now();
        if at > now + Duration::from_micros(100) {
            // Sleeping overshoots by tens of microseconds: what came due meanwhile goes
            // out at once, and its latency counts from when it was due.
            std::thread::sleep(at - now - Duration::from_micros(60));
            continue;
        }
        let slot = (sent % SOCKETS as u64) as usize;
        let id = ((sent / SOCKETS as u64) % 256) as u8;
        sent_late.push(now.saturating_duration_since(at));
        let bytes = request(sent, id);
        let index = slot * 256 + usize::from(id);
        let nanos = u64::try_from((at - start).as_nanos()).unwrap_or(u64::MAX - 1);
        due[index].store(nanos + 1, Ordering::Release);
        if sockets[slot].send(&bytes).is_err() {
            due[index].store(0, Ordering::Release);
        }
        sent += 1;
    }
    let sent_rate = sent as f64 / start.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(1));
    done.store(true, Ordering::Release);
    let latencies = receiver.join().unwrap();
    let answered = latencies.len();
    OpenLoop {
        target: rate,
        sent_rate,
        latencies: Latencies::new(latencies),
        sent_late: Latencies::new(sent_late),
        lost: usize::try_from(sent)
            .unwrap_or(usize::MAX)
            .saturating_sub(answered),
        accepted: accepted.load(Ordering::Acquire),
    }
}

/// Receives on every socket (one thread, polling them through a small runtime) until
/// `done`, timing each answer against when its request was due.
fn receive(
    sockets: Vec<UdpSocket>,
    start: Instant,
    due: &Arc<Vec<AtomicU64>>,
    done: &Arc<AtomicBool>,
    accepted: &Arc<AtomicUsize>,
) -> Vec<Duration> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let tasks: Vec<_> = sockets
            .into_iter()
            .enumerate()
            .map(|(slot, socket)| {
                socket.set_nonblocking(true).unwrap();
                let socket = tokio::net::UdpSocket::from_std(socket).unwrap();
                let (due, done, accepted) =
                    (Arc::clone(due), Arc::clone(done), Arc::clone(accepted));
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !done.load(Ordering::Acquire) {
                        let Ok(Ok(len)) =
                            tokio::time::timeout(Duration::from_millis(50), socket.recv(&mut buf))
                                .await
                        else {
                            continue;
                        };
                        let arrived = start.elapsed();
                        let (Some(&code), Some(&id)) = (buf.first(), buf.get(1)) else {
                            continue;
                        };
                        if len < 20 {
                            continue;
                        }
                        let was = due[slot * 256 + usize::from(id)].swap(0, Ordering::AcqRel);
                        if was == 0 {
                            continue;
                        }
                        latencies.push(arrived.saturating_sub(Duration::from_nanos(was - 1)));
                        if code == radius::Code::AccessAccept as u8 {
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    latencies
                })
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all
    })
}
