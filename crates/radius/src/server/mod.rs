//! The server loop (tokio, UDP): receives datagrams, finds the client's shared secret by
//! source address ([`ClientStore`]), verifies the request (authenticators, the
//! Message-Authenticator policy), answers retransmissions from the duplicate cache
//! (`dedup`), hands new requests to the application's [`Handler`] (as tasks with bounded
//! concurrency, or in the loop itself for a handler that answers from memory, reading the
//! datagrams a batch at a time: `batch`), and signs and sends its reply. [`Threaded`] runs
//! one such loop per thread on a group of sockets sharing one address (`threads`). Bad
//! packets are dropped, counted (`stats`) and logged at a limited rate, as RFC 2865 says.
//! What a reply says is the application's business.

mod batch;
mod dedup;
mod stats;
mod threads;

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::debug;

pub use dedup::{DedupCache, RequestKey, Seen};
pub use stats::{DropReason, Stats, StatsSnapshot};
pub use threads::Threaded;

use crate::attrs;
use crate::auth::{self, Outcome};
use crate::code::Code;
use crate::crypto::HideError;
use crate::error::VerifyError;
use crate::packet::{MAX_PACKET_LEN, Packet};
use crate::sign::verify_request;

/// A NAS the server answers: its shared secret and its Message-Authenticator policy.
#[derive(Clone)]
pub struct NasClient {
    /// The shared secret.
    pub secret: Arc<[u8]>,
    /// Refuse Access-Requests and Status-Server packets without a valid
    /// Message-Authenticator (default: yes; BlastRADIUS).
    pub require_message_authenticator: bool,
}

impl NasClient {
    /// A client with this secret that must send Message-Authenticator.
    pub fn new(secret: impl AsRef<[u8]>) -> NasClient {
        NasClient {
            secret: Arc::from(secret.as_ref()),
            require_message_authenticator: true,
        }
    }

    /// The same client, with the Message-Authenticator requirement set.
    pub fn require_message_authenticator(mut self, require: bool) -> NasClient {
        self.require_message_authenticator = require;
        self
    }
}

impl std::fmt::Debug for NasClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NasClient")
            .field("secret", &"<redacted>")
            .field(
                "require_message_authenticator",
                &self.require_message_authenticator,
            )
            .finish()
    }
}

/// Where the server finds the client for a source address. The application implements it
/// (for example over its `nas` table); a `HashMap<IpAddr, NasClient>` is one.
pub trait ClientStore: Send + Sync + 'static {
    /// The client at this address, or `None` to drop its packets.
    fn lookup(&self, source: IpAddr) -> Option<NasClient>;
}

impl ClientStore for HashMap<IpAddr, NasClient> {
    fn lookup(&self, source: IpAddr) -> Option<NasClient> {
        self.get(&source).cloned()
    }
}

/// A verified request, as the handler receives it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Where it came from.
    pub source: SocketAddr,
    /// The packet.
    pub packet: Packet,
    /// The client it came from.
    pub client: NasClient,
    /// True when it carried a valid Message-Authenticator.
    pub message_authenticator: bool,
}

impl Request {
    /// A reply to this request with the given code and no attributes.
    pub fn reply(&self, code: Code) -> Packet {
        self.packet.reply(code)
    }

    /// The User-Password, recovered with the client's secret.
    pub fn user_password(&self) -> Option<Result<Vec<u8>, HideError>> {
        auth::pap::user_password(&self.packet, &self.client.secret)
    }

    /// Checks the request's credentials (PAP, CHAP, MS-CHAPv1 or MS-CHAPv2) against the
    /// user's cleartext password.
    pub fn check_password(&self, password: &str) -> Outcome {
        auth::check_password(&self.packet, &self.client.secret, password)
    }
}

/// The application's answer to requests.
pub trait Handler: Send + Sync + 'static {
    /// Answers a verified request with a reply packet (built with [`Request::reply`]; the
    /// server signs it, adds Message-Authenticator first and copies Proxy-State), or `None`
    /// to send nothing (the NAS will retransmit, and the retransmission is handled afresh).
    fn handle(&self, request: Request) -> impl Future<Output = Option<Packet>> + Send;
}

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// At most this many requests are handled at once; the loop waits when they are.
    pub max_in_flight: usize,
    /// Handle each request in the loop, before the next is received, instead of as a task
    /// of its own: for a handler that answers from memory in microseconds, a task per
    /// packet (its spawn, its wake-up, a worker it may wait for) costs more than the work
    /// and adds the runtime's other tasks to every answer's latency. `max_in_flight` does
    /// not apply: one request is in flight per loop.
    pub inline: bool,
    /// How long a request is remembered for duplicate detection.
    pub dedup_window: Duration,
    /// At most this many requests are remembered.
    pub dedup_capacity: usize,
    /// The socket's receive buffer asked of the kernel, bytes: what waits there while the
    /// loop is busy (a burst of routers, a moment without a core). The kernel caps it at
    /// `net.core.rmem_max`; [`Server::bind`] logs the size it got when it is less.
    pub receive_buffer: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_in_flight: 256,
            inline: false,
            dedup_window: Duration::from_secs(30),
            dedup_capacity: 65_536,
            receive_buffer: 4 << 20,
        }
    }
}

/// A RADIUS server on one UDP socket.
#[derive(Debug)]
pub struct Server<C, H> {
    socket: Arc<UdpSocket>,
    clients: Arc<C>,
    handler: Arc<H>,
    config: ServerConfig,
    stats: Arc<Stats>,
    dedup: Arc<DedupCache>,
}

impl<C: ClientStore, H: Handler> Server<C, H> {
    /// Binds a server to `address`.
    pub async fn bind(
        address: SocketAddr,
        clients: C,
        handler: H,
        config: ServerConfig,
    ) -> io::Result<Server<C, H>> {
        let socket = UdpSocket::bind(address).await?;
        receive_buffer(
            socket2::SockRef::from(&socket),
            address,
            config.receive_buffer,
        )?;
        Ok(Server::from_socket(socket, clients, handler, config))
    }

    /// A server on an already bound socket.
    pub fn from_socket(
        socket: UdpSocket,
        clients: C,
        handler: H,
        config: ServerConfig,
    ) -> Server<C, H> {
        let dedup = DedupCache::new(config.dedup_window, config.dedup_capacity);
        Server {
            socket: Arc::new(socket),
            clients: Arc::new(clients),
            handler: Arc::new(handler),
            config,
            stats: Arc::new(Stats::default()),
            dedup: Arc::new(dedup),
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// The server's counters.
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.stats)
    }

    /// Serves until `shutdown` completes, then stops receiving and waits for the requests in
    /// flight to be answered.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        if self.config.inline {
            return self.run_inline(shutdown).await;
        }
        let max_in_flight = self.config.max_in_flight.clamp(1, Semaphore::MAX_PERMITS);
        let permits = Arc::new(Semaphore::new(max_in_flight));
        let mut buf = vec![0u8; MAX_PACKET_LEN + 1];
        tokio::pin!(shutdown);
        loop {
            let (len, source) = tokio::select! {
                biased;
                () = &mut shutdown => break,
                received = self.socket.recv_from(&mut buf) => match received {
                    Ok(received) => received,
                    Err(err) => {
                        debug!(error = %err, "receive failed");
                        continue;
                    }
                },
            };
            self.stats.received();
            let data = buf.get(..len).unwrap_or_default();
            let Some((request, key)) = self.accept(data, source) else {
                continue;
            };
            let permit = tokio::select! {
                biased;
                () = &mut shutdown => {
                    self.dedup.forget(&key);
                    break;
                }
                permit = Arc::clone(&permits).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_closed) => break,
                },
            };
            let (socket, handler) = (Arc::clone(&self.socket), Arc::clone(&self.handler));
            let (stats, dedup) = (Arc::clone(&self.stats), Arc::clone(&self.dedup));
            tokio::spawn(async move {
                let task = Task {
                    socket: &socket,
                    handler: &*handler,
                    stats: &stats,
                    dedup: &dedup,
                };
                task.answer(request, key).await;
                drop(permit);
            });
        }
        // Wait until every request in flight has given its permit back.
        let all = u32::try_from(max_in_flight).unwrap_or(u32::MAX);
        let _drained = permits.acquire_many(all).await;
        Ok(())
    }

    /// Serves until `shutdown` completes, answering each request before the next: the
    /// datagrams waiting are read together (`batch`), then answered in turn.
    async fn run_inline(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let mut batch = batch::Received::new();
        // Borrowed: no shared count moves per packet.
        let task = Task {
            socket: &self.socket,
            handler: &*self.handler,
            stats: &self.stats,
            dedup: &self.dedup,
        };
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                received = batch.receive(&self.socket) => if let Err(err) = received {
                    debug!(error = %err, "receive failed");
                    continue;
                },
            }
            for (data, source) in batch.datagrams() {
                self.stats.received();
                if let Some((request, key)) = self.accept(data, source) {
                    task.answer(request, key).await;
                }
            }
        }
        Ok(())
    }

    /// Checks a datagram: client, decoding, authenticators, duplicates. Returns the request to
    /// handle, or `None` after dropping or answering it from the cache.
    fn accept(&self, data: &[u8], source: SocketAddr) -> Option<(Request, RequestKey)> {
        let Some(client) = self.clients.lookup(source.ip()) else {
            self.stats.dropped(
                DropReason::UnknownClient,
                source,
                "no client for this address",
            );
            return None;
        };
        let verified =
            match verify_request(data, &client.secret, client.require_message_authenticator) {
                Ok(verified) => verified,
                Err(err) => {
                    let reason = match err {
                        VerifyError::Decode(_) => DropReason::Malformed,
                        VerifyError::NotARequest(_) => DropReason::NotARequest,
                        VerifyError::MissingMessageAuthenticator => {
                            DropReason::MissingMessageAuthenticator
                        }
                        _ => DropReason::BadAuthenticator,
                    };
                    self.stats.dropped(reason, source, &err.to_string());
                    return None;
                }
            };
        let key = RequestKey {
            source,
            identifier: verified.packet.identifier,
            authenticator: verified.packet.authenticator,
        };
        match self.dedup.check(key, Instant::now()) {
            Seen::New => {}
            Seen::InProgress => {
                self.stats
                    .dropped(DropReason::DuplicateInProgress, source, "duplicate");
                return None;
            }
            Seen::Answered(reply) => {
                self.stats.duplicate_answered();
                let socket = Arc::clone(&self.socket);
                tokio::spawn(async move {
                    if let Err(err) = socket.send_to(&reply, source).await {
                        debug!(%source, error = %err, "send failed");
                    }
                });
                return None;
            }
        }
        let request = Request {
            source,
            packet: verified.packet,
            client,
            message_authenticator: verified.message_authenticator,
        };
        Some((request, key))
    }
}

/// Asks the kernel for `asked` bytes of receive queue on `socket`, and logs what it gave
/// when that is less.
fn receive_buffer(
    socket: socket2::SockRef<'_>,
    address: SocketAddr,
    asked: usize,
) -> io::Result<()> {
    socket.set_recv_buffer_size(asked)?;
    // Linux reports twice what it grants (the doubling covers its bookkeeping).
    let granted = socket.recv_buffer_size()? / 2;
    if granted < asked {
        tracing::warn!(
            %address,
            asked,
            granted,
            "the kernel gave a smaller receive buffer than asked (raise net.core.rmem_max)"
        );
    }
    Ok(())
}

/// What answers one request: the server's parts it uses, borrowed.
struct Task<'a, H> {
    socket: &'a UdpSocket,
    handler: &'a H,
    stats: &'a Stats,
    dedup: &'a DedupCache,
}

// Borrows only: copied whatever the handler is (a derive would ask `H: Copy`).
impl<H> Clone for Task<'_, H> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<H> Copy for Task<'_, H> {}

impl<H: Handler> Task<'_, H> {
    async fn answer(self, request: Request, key: RequestKey) {
        let source = request.source;
        let request_code = request.packet.code;
        let authenticator = request.packet.authenticator;
        let proxy_states: Vec<Vec<u8>> = request
            .packet
            .get_all(attrs::PROXY_STATE.id())
            .map(<[u8]>::to_vec)
            .collect();
        let secret = Arc::clone(&request.client.secret);
        let Some(mut reply) = self.handler.handle(request).await else {
            self.dedup.forget(&key);
            self.stats
                .dropped(DropReason::NoReply, source, "handler gave no reply");
            return;
        };
        if !request_code.accepts_reply(reply.code) {
            self.dedup.forget(&key);
            let detail = format!("handler answered {request_code} with {}", reply.code);
            self.stats.dropped(DropReason::NoReply, source, &detail);
            return;
        }
        reply.identifier = key.identifier;
        if !reply.contains(attrs::PROXY_STATE.id()) {
            for state in proxy_states {
                reply.push(attrs::PROXY_STATE.id(), state);
            }
        }
        let bytes: Arc<[u8]> = match reply.encode_reply(&authenticator, &secret) {
            Ok(bytes) => Arc::from(bytes),
            Err(err) => {
                self.dedup.forget(&key);
                self.stats.dropped(
                    DropReason::NoReply,
                    source,
                    &format!("cannot encode reply: {err}"),
                );
                return;
            }
        };
        self.dedup.answered(key, Arc::clone(&bytes));
        match self.socket.send_to(&bytes, source).await {
            Ok(_) => self.stats.replied(),
            Err(err) => debug!(%source, error = %err, "send failed"),
        }
    }
}
