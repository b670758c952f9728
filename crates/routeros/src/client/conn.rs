//! One live connection: the write half behind a lock, a reader task that decodes replies and
//! routes them by `.tag` to the command waiting for them, and the record of how the
//! connection died.
//!
//! Every command gets its own numeric tag and a bounded channel; the reader awaits space in
//! that channel, so a slow consumer slows the connection down instead of growing memory. A
//! `!fatal`, an end of stream, a socket error or bytes that break the codec kill the
//! connection: every waiting command is woken and every later one fails at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::codec::{Decoder, Limits};
use crate::error::Error;
use crate::sentence::{Command, Reply, ReplyKind, decode_text};

/// A byte stream we can speak the API over (TCP or TLS).
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// How the connection ended.
#[derive(Debug, Clone)]
pub(crate) enum Death {
    /// The router sent `!fatal` with this reason.
    Fatal(String),
    /// The socket broke, ended, or carried garbage.
    Lost(String),
}

impl Death {
    pub(crate) fn to_error(&self) -> Error {
        match self {
            Self::Fatal(reason) => Error::Fatal {
                reason: reason.clone(),
            },
            Self::Lost(reason) => Error::ConnectionLost {
                reason: reason.clone(),
            },
        }
    }
}

#[derive(Debug, Default)]
struct Pending {
    routes: HashMap<u64, mpsc::Sender<Reply>>,
    death: Option<Death>,
}

#[derive(Debug, Default)]
struct Shared {
    pending: Mutex<Pending>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A poisoned lock only means another thread panicked while holding it; the map is
        // still consistent (every operation on it is a single insert or remove).
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn die(&self, death: Death) {
        let mut pending = self.lock();
        if pending.death.is_none() {
            tracing::debug!(?death, "RouterOS API connection ended");
            pending.death = Some(death);
        }
        pending.routes.clear();
    }
}

/// The connection shared by every clone of a client.
pub(crate) struct Connection {
    shared: Arc<Shared>,
    writer: tokio::sync::Mutex<WriteHalf<Box<dyn Io>>>,
    reader: JoinHandle<()>,
    next_tag: AtomicU64,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("death", &self.death())
            .finish_non_exhaustive()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Connection {
    /// Splits the stream and starts the reader task.
    pub(crate) fn start(io: Box<dyn Io>, limits: Limits) -> Self {
        let (read, write) = tokio::io::split(io);
        let shared = Arc::new(Shared::default());
        let reader = tokio::spawn(read_loop(read, Arc::clone(&shared), limits));
        Self {
            shared,
            writer: tokio::sync::Mutex::new(write),
            reader,
            next_tag: AtomicU64::new(1),
        }
    }

    /// A fresh tag, registered with a channel of `capacity` replies.
    pub(crate) fn register(&self, capacity: usize) -> Result<(u64, mpsc::Receiver<Reply>), Error> {
        let tag = self.next_tag.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let mut pending = self.shared.lock();
        if let Some(death) = &pending.death {
            return Err(death.to_error());
        }
        pending.routes.insert(tag, sender);
        Ok((tag, receiver))
    }

    /// A tag that nothing listens to (for fire-and-forget `/cancel`).
    pub(crate) fn unrouted_tag(&self) -> u64 {
        self.next_tag.fetch_add(1, Ordering::Relaxed)
    }

    /// Forgets a tag: later replies to it are dropped.
    pub(crate) fn unregister(&self, tag: u64) {
        self.shared.lock().routes.remove(&tag);
    }

    /// How the connection died, if it did.
    pub(crate) fn death(&self) -> Option<Death> {
        self.shared.lock().death.clone()
    }

    /// Whether the connection is still usable.
    pub(crate) fn is_alive(&self) -> bool {
        self.shared.lock().death.is_none()
    }

    /// Writes a command with its tag. A write failure kills the connection.
    pub(crate) async fn send(&self, command: &Command, tag: u64) -> Result<(), Error> {
        if let Some(death) = self.death() {
            return Err(death.to_error());
        }
        let mut bytes = Vec::with_capacity(128);
        command.encode(Some(tag.to_string().as_bytes()), &mut bytes)?;
        let mut writer = self.writer.lock().await;
        let written = async {
            writer.write_all(&bytes).await?;
            writer.flush().await
        }
        .await;
        if let Err(error) = written {
            self.shared
                .die(Death::Lost(format!("write failed: {error}")));
            return Err(Error::ConnectionLost {
                reason: format!("write failed: {error}"),
            });
        }
        Ok(())
    }

    /// Closes the connection from our side.
    pub(crate) async fn close(&self) {
        self.shared
            .die(Death::Lost("closed by the client".to_owned()));
        let mut writer = self.writer.lock().await;
        let _ = writer.shutdown().await;
        self.reader.abort();
    }
}

/// Reads until the connection dies, routing each reply to its command.
async fn read_loop(mut read: ReadHalf<Box<dyn Io>>, shared: Arc<Shared>, limits: Limits) {
    let death = match read_replies(&mut read, &shared, limits).await {
        Ok(death) | Err(death) => death,
    };
    shared.die(death);
}

async fn read_replies(
    read: &mut ReadHalf<Box<dyn Io>>,
    shared: &Shared,
    limits: Limits,
) -> Result<Death, Death> {
    let mut decoder = Decoder::new(limits);
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        buf.reserve(64 * 1024);
        let read_bytes = read.read_buf(&mut buf).await;
        match read_bytes {
            Ok(0) => return Ok(Death::Lost("the router closed the connection".to_owned())),
            Ok(_) => {}
            Err(error) => return Ok(Death::Lost(format!("read failed: {error}"))),
        }
        // Sentence by sentence, so replies before a protocol error are still delivered.
        let mut pos = 0;
        loop {
            let rest = buf.get(pos..).unwrap_or_default();
            let (used, sentence) = decoder
                .decode(rest)
                .map_err(|error| Death::Lost(format!("protocol error: {error}")))?;
            pos += used;
            let Some(sentence) = sentence else { break };
            let reply = Reply::parse(sentence)
                .map_err(|error| Death::Lost(format!("protocol error: {error}")))?;
            route(shared, reply).await?;
        }
        buf.drain(..pos);
    }
}

async fn route(shared: &Shared, reply: Reply) -> Result<(), Death> {
    if reply.kind == ReplyKind::Fatal {
        return Err(Death::Fatal(reply.message()));
    }
    let Some(tag) = reply.tag.as_deref() else {
        tracing::warn!(kind = reply.kind.word(), "ignoring an untagged reply");
        return Ok(());
    };
    let Ok(tag) = decode_text(tag).parse::<u64>() else {
        tracing::warn!(tag = %decode_text(tag), "ignoring a reply with a tag we never sent");
        return Ok(());
    };
    let done = reply.kind == ReplyKind::Done;
    let sender = {
        let mut pending = shared.lock();
        if done {
            pending.routes.remove(&tag)
        } else {
            pending.routes.get(&tag).cloned()
        }
    };
    if let Some(sender) = sender
        && sender.send(reply).await.is_err()
    {
        shared.lock().routes.remove(&tag);
    }
    Ok(())
}
