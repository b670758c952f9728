//! Datagrams read a batch at a time: whatever is waiting on the socket, up to [`BATCH`], in
//! one `recvmmsg`, for the loop that answers in place (`ServerConfig::inline`). Under load
//! a request's answer costs a few microseconds of memory work, and a system call per
//! datagram is a large share of that; when the queue is empty the call returns the one
//! datagram that woke the loop, as `recv_from` would.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd as _, RawFd};

use nix::sys::socket::{MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use crate::packet::MAX_PACKET_LEN;

/// The most datagrams one call reads.
pub(super) const BATCH: usize = 16;

/// The buffers of one batch and what the last call put in them.
pub(super) struct Received {
    /// One buffer per datagram, a byte longer than the longest packet, so that a longer
    /// datagram is seen to be too long rather than cut to a valid length.
    buffers: Vec<Vec<u8>>,
    /// Each datagram of the batch: its buffer, its length, its source.
    datagrams: Vec<(usize, usize, SocketAddr)>,
}

impl Received {
    pub(super) fn new() -> Self {
        Received {
            buffers: (0..BATCH).map(|_| vec![0; MAX_PACKET_LEN + 1]).collect(),
            datagrams: Vec::with_capacity(BATCH),
        }
    }

    /// Waits until `socket` has a datagram, then reads it and whatever else is waiting (up
    /// to [`BATCH`]).
    pub(super) async fn receive(&mut self, socket: &UdpSocket) -> io::Result<()> {
        let Received { buffers, datagrams } = self;
        let fd = socket.as_raw_fd();
        socket
            .async_io(Interest::READABLE, || read_batch(fd, buffers, datagrams))
            .await
    }

    /// The datagrams the last [`Received::receive`] read, with their sources.
    pub(super) fn datagrams(&self) -> impl Iterator<Item = (&[u8], SocketAddr)> {
        self.datagrams.iter().map(|&(buffer, len, source)| {
            let data = self
                .buffers
                .get(buffer)
                .and_then(|b| b.get(..len))
                .unwrap_or_default();
            (data, source)
        })
    }
}

/// One `recvmmsg` on `fd`, without waiting: `WouldBlock` when nothing is there.
fn read_batch(
    fd: RawFd,
    buffers: &mut [Vec<u8>],
    datagrams: &mut Vec<(usize, usize, SocketAddr)>,
) -> io::Result<()> {
    datagrams.clear();
    // Made for each call, not kept: the headers hold raw pointers, so they are not `Send`,
    // and the loop that awaits this must be.
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(buffers.len(), None);
    let mut slices: Vec<[IoSliceMut<'_>; 1]> = buffers
        .iter_mut()
        .map(|buffer| [IoSliceMut::new(buffer)])
        .collect();
    let received = recvmmsg(
        fd,
        &mut headers,
        slices.iter_mut(),
        MsgFlags::MSG_DONTWAIT,
        None,
    )
    .map_err(io::Error::from)?;
    for (buffer, message) in received.enumerate() {
        if let Some(source) = message.address.as_ref().and_then(socket_addr) {
            datagrams.push((buffer, message.bytes, source));
        }
    }
    Ok(())
}

/// A datagram's source as a socket address (UDP over IPv4 or IPv6).
fn socket_addr(address: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = address.as_sockaddr_in() {
        return Some(SocketAddr::from(*v4));
    }
    address.as_sockaddr_in6().map(|v6| SocketAddr::from(*v6))
}
