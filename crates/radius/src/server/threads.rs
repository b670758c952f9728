//! A server on several threads: one UDP socket per thread, all bound to one address with
//! `SO_REUSEPORT` (the kernel spreads datagrams over them by their source address and port,
//! so one NAS port stays on one thread), each thread running the server loop on a runtime
//! of its own. The loops share the client store, the handler, the counters and the
//! duplicate cache, so a retransmission is recognised whichever socket it reaches. Its
//! answers then wait only for their own thread's work, not for whatever else the
//! application's runtime is doing.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use socket2::{Domain, Protocol, SockRef, Socket, Type};
use tokio::net::UdpSocket;

use super::{ClientStore, DedupCache, Handler, Server, ServerConfig, Stats};

/// A server bound on several sockets of one address, to be run one thread per socket.
#[derive(Debug)]
pub struct Threaded<C, H> {
    sockets: Vec<std::net::UdpSocket>,
    address: SocketAddr,
    clients: Arc<C>,
    handler: Arc<H>,
    config: ServerConfig,
    stats: Arc<Stats>,
    dedup: Arc<DedupCache>,
}

impl<C: ClientStore, H: Handler> Threaded<C, H> {
    /// Binds `threads` sockets (at least one) to `address`. Port 0 picks one port for all.
    ///
    /// An address another socket holds is refused, as [`Server::bind`] refuses it, even
    /// when that socket allows `SO_REUSEPORT` too (another process of this user, say):
    /// the group would otherwise share its datagrams with it without a word.
    pub fn bind(
        address: SocketAddr,
        threads: usize,
        clients: C,
        handler: H,
        config: ServerConfig,
    ) -> io::Result<Threaded<C, H>> {
        // A plain bind first: it fails on an address in use, whoever holds it, and
        // resolves port 0 to the port the group then shares.
        let address = std::net::UdpSocket::bind(address)?.local_addr()?;
        let sockets = (0..threads.max(1))
            .map(|_| reuse_port_socket(address, config.receive_buffer))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Threaded {
            sockets,
            address,
            clients: Arc::new(clients),
            handler: Arc::new(handler),
            stats: Arc::new(Stats::default()),
            dedup: Arc::new(DedupCache::new(config.dedup_window, config.dedup_capacity)),
            config,
        })
    }

    /// The address the sockets listen on.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// The counters of all the sockets together.
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.stats)
    }

    /// Starts one thread per socket, named `name-N`, each serving until the future
    /// `shutdown()` gives it completes. Each thread's handle gives how its loop ended.
    pub fn spawn<F>(
        self,
        name: &str,
        shutdown: impl Fn() -> F + Send + Sync + 'static,
    ) -> io::Result<Vec<JoinHandle<io::Result<()>>>>
    where
        F: Future<Output = ()> + 'static,
    {
        let shutdown = Arc::new(shutdown);
        let mut handles = Vec::with_capacity(self.sockets.len());
        for (n, socket) in self.sockets.into_iter().enumerate() {
            let (clients, handler) = (Arc::clone(&self.clients), Arc::clone(&self.handler));
            let (stats, dedup) = (Arc::clone(&self.stats), Arc::clone(&self.dedup));
            let (config, shutdown) = (self.config.clone(), Arc::clone(&shutdown));
            let thread = std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    runtime.block_on(async move {
                        let server = Server {
                            socket: Arc::new(UdpSocket::from_std(socket)?),
                            clients,
                            handler,
                            config,
                            stats,
                            dedup,
                        };
                        server.run(shutdown()).await
                    })
                })?;
            handles.push(thread);
        }
        Ok(handles)
    }
}

/// A non-blocking UDP socket bound to `address` with `SO_REUSEPORT`, asking the kernel for
/// `receive_buffer` bytes of queue.
fn reuse_port_socket(
    address: SocketAddr,
    receive_buffer: usize,
) -> io::Result<std::net::UdpSocket> {
    let socket = Socket::new(
        Domain::for_address(address),
        Type::DGRAM,
        Some(Protocol::UDP),
    )?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    let socket = std::net::UdpSocket::from(socket);
    super::receive_buffer(SockRef::from(&socket), address, receive_buffer)?;
    Ok(socket)
}
