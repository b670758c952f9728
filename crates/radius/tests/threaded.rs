//! The server on several threads (`radius::server::Threaded`) over loopback UDP: every
//! socket of the group answers, counted together; a retransmission is answered from the
//! shared duplicate cache; a burst read a batch at a time is answered in full, a bad
//! datagram among it dropped alone, over IPv4 and IPv6; an address in use is refused, even
//! by a socket that would share it; every thread ends on shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use radius::auth::pap;
use radius::server::{NasClient, ServerConfig, Threaded};
use radius::{Code, Packet, attrs};
use support::{SECRET, TestHandler};
use tokio::net::UdpSocket;
use tokio::sync::watch;

/// A group of `threads` sockets answering in their loops, and its stop switch.
struct Group {
    address: SocketAddr,
    stats: Arc<radius::server::Stats>,
    calls: Arc<AtomicUsize>,
    stop: watch::Sender<bool>,
    threads: Vec<std::thread::JoinHandle<std::io::Result<()>>>,
}

fn start(threads: usize) -> Group {
    start_on("127.0.0.1:0".parse().unwrap(), threads)
}

fn start_on(address: SocketAddr, threads: usize) -> Group {
    let calls = Arc::new(AtomicUsize::new(0));
    let handler = TestHandler {
        users: [("alice".to_owned(), "secret1".to_owned())].into(),
        calls: Arc::clone(&calls),
    };
    let clients: HashMap<IpAddr, NasClient> = [(address.ip(), NasClient::new(SECRET))].into();
    let config = ServerConfig {
        inline: true,
        ..ServerConfig::default()
    };
    let server = Threaded::bind(address, threads, clients, handler, config).unwrap();
    let (address, stats) = (server.local_addr(), server.stats());
    let (stop, stopped) = watch::channel(false);
    let threads = server
        .spawn("test-radius", move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }
        })
        .unwrap();
    Group {
        address,
        stats,
        calls,
        stop,
        threads,
    }
}

impl Group {
    /// The counters once `replied` reaches `replies` (or after two seconds): a thread
    /// counts a reply after its send returns, which may be after the NAS has read it.
    async fn counted(&self, replies: u64) -> radius::server::StatsSnapshot {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        loop {
            let counted = self.stats.snapshot();
            if counted.replied >= replies || tokio::time::Instant::now() >= deadline {
                return counted;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn stop(self) {
        self.stop.send(true).unwrap();
        for thread in self.threads {
            thread.join().unwrap().unwrap();
        }
    }
}

/// Alice's PAP Access-Request, signed, as bytes.
fn alice() -> Vec<u8> {
    alice_with(rand::random())
}

/// Alice's PAP Access-Request with this identifier.
fn alice_with(identifier: u8) -> Vec<u8> {
    let mut request = Packet::new(Code::AccessRequest, identifier);
    request.add(attrs::USER_NAME, &"alice".to_owned());
    request.add_message_authenticator();
    pap::add_user_password(&mut request, b"secret1", SECRET.as_bytes()).unwrap();
    request.encode_request(SECRET.as_bytes()).unwrap()
}

async fn exchange(socket: &UdpSocket, server: SocketAddr, bytes: &[u8]) -> Option<Vec<u8>> {
    socket.send_to(bytes, server).await.unwrap();
    let mut buf = [0u8; 4096];
    match tokio::time::timeout(Duration::from_secs(2), socket.recv(&mut buf)).await {
        Ok(Ok(len)) => Some(buf[..len].to_vec()),
        _ => None,
    }
}

#[tokio::test]
async fn every_socket_of_the_group_answers_and_the_counts_add_up() {
    let group = start(3);
    // Many source ports, so the kernel spreads them over the group's sockets.
    let mut answers = Vec::new();
    for _ in 0..64 {
        let nas = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let reply = exchange(&nas, group.address, &alice())
            .await
            .expect("a reply");
        answers.push(reply[0]);
    }
    assert!(answers.iter().all(|&code| code == Code::AccessAccept as u8));
    let counted = group.counted(64).await;
    assert_eq!((counted.received, counted.replied), (64, 64));
    assert_eq!(group.calls.load(Ordering::SeqCst), 64);
    group.stop();
}

#[tokio::test]
async fn a_retransmission_is_answered_from_the_shared_cache() {
    let group = start(2);
    let nas = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let bytes = alice();
    let first = exchange(&nas, group.address, &bytes)
        .await
        .expect("a reply");
    let second = exchange(&nas, group.address, &bytes)
        .await
        .expect("a cached reply");
    assert_eq!(first, second);
    assert_eq!(group.calls.load(Ordering::SeqCst), 1);
    assert_eq!(group.stats.snapshot().duplicates_answered, 1);
    group.stop();
}

/// Sends 200 Access-Requests from one port without waiting, with a datagram longer than
/// any packet and a truncated one among them, and reads the answers: the server reads
/// what queued up a batch at a time.
async fn burst(address: SocketAddr) {
    let group = start_on(address, 1);
    let nas = UdpSocket::bind(SocketAddr::new(address.ip(), 0))
        .await
        .unwrap();
    for identifier in 0..200u8 {
        nas.send_to(&alice_with(identifier), group.address)
            .await
            .unwrap();
        match identifier {
            50 => {
                let mut long = alice_with(250);
                long.resize(5000, 0);
                nas.send_to(&long, group.address).await.unwrap();
            }
            120 => {
                let short = alice_with(251);
                nas.send_to(&short[..12], group.address).await.unwrap();
            }
            _ => {}
        }
    }
    let mut answered = vec![false; 256];
    let mut buf = [0u8; 4096];
    while let Ok(Ok(len)) = tokio::time::timeout(Duration::from_secs(2), nas.recv(&mut buf)).await {
        assert!(len >= 20);
        assert_eq!(buf[0], Code::AccessAccept as u8);
        let identifier = usize::from(buf[1]);
        assert!(!answered[identifier], "answered twice: {identifier}");
        answered[identifier] = true;
        if answered.iter().filter(|&&a| a).count() == 200 {
            break;
        }
    }
    assert!(answered[..200].iter().all(|&a| a), "every request answered");
    assert!(!answered[250] && !answered[251]);
    let counted = group.counted(200).await;
    assert_eq!(
        (counted.received, counted.replied, counted.dropped_malformed),
        (202, 200, 2)
    );
    group.stop();
}

#[tokio::test]
async fn a_burst_is_answered_in_full_and_a_bad_datagram_in_it_dropped_alone() {
    burst("127.0.0.1:0".parse().unwrap()).await;
}

#[tokio::test]
async fn a_burst_over_ipv6_is_answered_in_full() {
    burst("[::1]:0".parse().unwrap()).await;
}

/// How binding a group of two sockets that answer no one to `address` fails.
fn refused(address: SocketAddr) -> std::io::ErrorKind {
    let handler = TestHandler {
        users: HashMap::new(),
        calls: Arc::default(),
    };
    let clients = HashMap::<IpAddr, NasClient>::new();
    Threaded::bind(address, 2, clients, handler, ServerConfig::default())
        .expect_err("the address is in use")
        .kind()
}

#[tokio::test]
async fn an_address_in_use_is_refused_even_by_a_socket_that_would_share_it() {
    let plain = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(
        refused(plain.local_addr().unwrap()),
        std::io::ErrorKind::AddrInUse
    );

    // Another group (another server of this user, say) on the same address.
    let group = start(2);
    assert_eq!(refused(group.address), std::io::ErrorKind::AddrInUse);
    group.stop();
}

#[tokio::test]
async fn every_thread_ends_on_shutdown_and_the_port_is_free_again() {
    let group = start(2);
    let address = group.address;
    group.stop();
    std::net::UdpSocket::bind(address).expect("the port is free once the threads ended");
}
