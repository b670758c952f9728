//! Open-loop load: Access-Requests sent on a fixed schedule (a given rate, evenly spaced),
//! whatever the answers do, as a fleet of routers sends them. Each latency runs from the
//! moment the request was due, not from when it left, so a server (or a generator) that
//! falls behind pays for the whole queue it built (no coordinated omission).
//!
//! The generator shares the two cores with the server, so it is built to cost little: one
//! thread, which wakes every few tens of microseconds, sends what has come due through its
//! sockets in turn, then reads the answers waiting on the sockets that epoll says are
//! readable, [`BATCH`] at a time (`recvmmsg`). No thread wakes for an answer: each
//! answer's arrival is the kernel's receive timestamp (`SO_TIMESTAMPNS`), so reading it
//! later does not make it later. An identifier comes round again on a socket only after
//! `SOCKETS × 256` requests.
//!
//! Routers send from machines of their own; this generator competes with the server for
//! the cores, and a sender the scheduler kept waiting shows in the latencies as if the
//! server had been slow. So its own lateness (how long after it was due each request left)
//! is kept, and each answer is timed from when its request left as well as from when it
//! was due. (Running the generator's thread ahead of the server's, `SCHED_FIFO`, took its
//! lateness to a tenth of a millisecond but made the server's tail worse: a p99 of 114 ms
//! at 80%, against 2.6 ms without.)
//!
//! A request still unanswered a second after the last was due is lost.

use std::io::IoSliceMut;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, MultiHeaders, SockaddrIn, recvmmsg, setsockopt, sockopt,
};
use nix::sys::time::TimeSpec;

use crate::common::Latencies;

/// Sockets the requests go out through.
const SOCKETS: usize = 64;
/// Answers read from a socket in one call.
const BATCH: usize = 16;
/// The shortest sleep between two rounds of sending: at tens of thousands of requests a
/// second, waking for each would cost the generator more than the server's answer.
const TICK: Duration = Duration::from_micros(20);
/// How long the answers are waited for after the last request was due.
const GRACE: Duration = Duration::from_secs(1);

/// What an open-loop run measured.
pub struct OpenLoop {
    /// Requests per second asked for.
    pub target: f64,
    /// Requests per second sent.
    pub sent_rate: f64,
    /// Latency of each answered request, from when it was due.
    pub latencies: Latencies,
    /// How late each request left the generator (zero when it left on time).
    pub sent_late: Latencies,
    /// Requests never answered.
    pub lost: usize,
    /// Access-Accepts among the answers.
    pub accepted: usize,
    /// Latency of each answered request, from when it left the generator.
    pub from_sent: Latencies,
}

/// Sends `rate` requests a second to `addr` for `time`, each made by `request(n, id)` for
/// the n-th request and its identifier, on the calling thread.
pub fn run(
    addr: SocketAddr,
    rate: f64,
    time: Duration,
    request: impl Fn(u64, u8) -> Vec<u8>,
) -> OpenLoop {
    let sockets: Vec<UdpSocket> = (0..SOCKETS)
        .map(|_| {
            let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.connect(addr).unwrap();
            socket.set_nonblocking(true).unwrap();
            setsockopt(&socket, sockopt::ReceiveTimestampns, &true).unwrap();
            socket
        })
        .collect();
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).unwrap();
    for (slot, socket) in sockets.iter().enumerate() {
        epoll
            .add(socket, EpollEvent::new(EpollFlags::EPOLLIN, slot as u64))
            .unwrap();
    }
    let mut answers = Answers::new();
    let mut ready = [EpollEvent::empty(); SOCKETS];

    let interval = 1e9 / rate;
    let start = wall_clock();
    let end = start + duration_nanos(time);
    let due_at = |n: u64| start + (n as f64 * interval) as u64;
    let mut sent: u64 = 0;
    let mut sent_late = Vec::new();
    loop {
        let mut now = wall_clock();
        if now >= end {
            break;
        }
        while due_at(sent) <= now {
            let at = due_at(sent);
            let slot = (sent % SOCKETS as u64) as usize;
            let id = ((sent / SOCKETS as u64) % 256) as u8;
            let bytes = request(sent, id);
            now = wall_clock();
            sent_late.push(Duration::from_nanos(now.saturating_sub(at)));
            let index = slot * 256 + usize::from(id);
            answers.outstanding[index] = sockets[slot]
                .send(&bytes)
                .is_ok()
                .then_some(Outstanding { due: at, sent: now });
            sent += 1;
        }
        answers.read_ready(&epoll, &mut ready, &sockets, EpollTimeout::ZERO);
        let pause = due_at(sent).saturating_sub(wall_clock());
        std::thread::sleep(Duration::from_nanos(pause).max(TICK));
    }
    let sent_rate = sent as f64 / (wall_clock() - start) as f64 * 1e9;
    let grace_end = wall_clock() + duration_nanos(GRACE);
    while wall_clock() < grace_end && answers.latencies.len() < sent as usize {
        answers.read_ready(&epoll, &mut ready, &sockets, EpollTimeout::from(50u8));
    }
    let answered = answers.latencies.len();
    OpenLoop {
        target: rate,
        sent_rate,
        latencies: Latencies::new(answers.latencies),
        sent_late: Latencies::new(sent_late),
        lost: usize::try_from(sent)
            .unwrap_or(usize::MAX)
            .saturating_sub(answered),
        accepted: answers.accepted,
        from_sent: Latencies::new(answers.from_sent),
    }
}

/// A request sent and not yet answered: when it was due and when it left, in nanoseconds
/// of the wall clock.
#[derive(Clone, Copy)]
struct Outstanding {
    due: u64,
    sent: u64,
}

/// The answers side: the requests outstanding, and what came back.
struct Answers {
    /// The request outstanding on each (socket, identifier).
    outstanding: Vec<Option<Outstanding>>,
    /// The receive buffers of one `recvmmsg`.
    buffers: Vec<[u8; 4096]>,
    /// Their headers, each with room for the receive timestamp.
    headers: MultiHeaders<SockaddrIn>,
    latencies: Vec<Duration>,
    from_sent: Vec<Duration>,
    accepted: usize,
}

impl Answers {
    fn new() -> Self {
        Self {
            outstanding: vec![None; SOCKETS * 256],
            buffers: vec![[0u8; 4096]; BATCH],
            headers: MultiHeaders::preallocate(BATCH, Some(nix::cmsg_space!(TimeSpec))),
            latencies: Vec::new(),
            from_sent: Vec::new(),
            accepted: 0,
        }
    }

    /// Reads every answer waiting on the sockets epoll finds readable within `timeout`.
    fn read_ready(
        &mut self,
        epoll: &Epoll,
        ready: &mut [EpollEvent],
        sockets: &[UdpSocket],
        timeout: EpollTimeout,
    ) {
        let Ok(count) = epoll.wait(ready, timeout) else {
            return;
        };
        for event in &ready[..count] {
            let slot = event.data() as usize;
            self.drain(slot, &sockets[slot]);
        }
    }

    /// Reads `socket`'s waiting answers, timing each against when its request was due.
    fn drain(&mut self, slot: usize, socket: &UdpSocket) {
        loop {
            let Self {
                outstanding,
                buffers,
                headers,
                latencies,
                from_sent,
                accepted,
            } = self;
            let mut slices: Vec<[IoSliceMut<'_>; 1]> = buffers
                .iter_mut()
                .map(|b| [IoSliceMut::new(&mut b[..])])
                .collect();
            let Ok(received) = recvmmsg(
                socket.as_raw_fd(),
                headers,
                slices.iter_mut(),
                MsgFlags::MSG_DONTWAIT,
                None,
            ) else {
                return;
            };
            let mut count = 0;
            for message in received {
                count += 1;
                let arrived = message.cmsgs().ok().and_then(|mut c| {
                    c.find_map(|m| match m {
                        ControlMessageOwned::ScmTimestampns(at) => Some(at),
                        _ => None,
                    })
                });
                let Some(bytes) = message.iovs().next() else {
                    continue;
                };
                let (Some(arrived), Some(&code), Some(&id), true) =
                    (arrived, bytes.first(), bytes.get(1), message.bytes >= 20)
                else {
                    continue;
                };
                let Some(request) = outstanding[slot * 256 + usize::from(id)].take() else {
                    continue;
                };
                let arrived = duration_nanos(Duration::from(arrived));
                latencies.push(Duration::from_nanos(arrived.saturating_sub(request.due)));
                from_sent.push(Duration::from_nanos(arrived.saturating_sub(request.sent)));
                if code == radius::Code::AccessAccept as u8 {
                    *accepted += 1;
                }
            }
            if count < BATCH {
                return;
            }
        }
    }
}

/// Nanoseconds since the epoch on the wall clock, the clock of the kernel's receive
/// timestamps.
fn wall_clock() -> u64 {
    duration_nanos(SystemTime::now().duration_since(UNIX_EPOCH).unwrap())
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
