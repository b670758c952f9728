//! One API connection to the simulated router: reading sentences under the codec limits,
//! login (modern or legacy challenge), tags echoed on every reply, concurrent streams
//! (`listen`, `print follow`) fed from the model's change broadcast, `/cancel`, `/quit`,
//! faults (refused login, delays, dropped connection, `!fatal`) and the bounds that keep a
//! hostile client from growing memory.
//!
//! Replies go through a bounded channel to a writer task, so a client that stops reading
//! stops being read from instead of making us buffer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, WriteHalf};
use tokio::sync::{broadcast, mpsc};
use tokio::task::AbortHandle;

use super::Router;
use super::dispatch::{self, Action, Follow, Group, PrintJob, Request};
use super::model::{Change, Trap};
use crate::codec::Decoder;
use crate::sentence::{Reply, ReplyKind, Row};

/// What the writer task is asked to do.
#[derive(Debug)]
enum Out {
    /// Write these encoded sentences.
    Sentences(Vec<Vec<u8>>),
    /// Flush and close.
    Close,
}

/// The connection ended; stop reading.
#[derive(Debug)]
struct Closed;

/// Rows per print batch (the model lock is released between batches).
const BATCH_ROWS: usize = 256;

/// Serves one connection until it ends.
pub(crate) async fn serve<S>(stream: S, router: Arc<Router>)
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (mut read, write) = tokio::io::split(stream);
    let (out, outbox) = mpsc::channel(16);
    let drop_after = router.faults().drop_after_sentences;
    let writer = tokio::spawn(write_loop(write, outbox, drop_after));
    let mut session = Session {
        decoder: Decoder::new(router.limits.before_login),
        router,
        out,
        user: None,
        before_login: 0,
        challenge: None,
        streams: HashMap::new(),
        delayed: HashMap::new(),
        changes: None,
    };
    let _ = session.run(&mut read).await;
    for task in session.delayed.values() {
        task.abort();
    }
    drop(session);
    let _ = writer.await;
}

async fn write_loop<W: AsyncWrite>(
    mut write: WriteHalf<W>,
    mut outbox: mpsc::Receiver<Out>,
    drop_after: Option<u64>,
) {
    let mut sent: u64 = 0;
    let mut buf = Vec::new();
    while let Some(out) = outbox.recv().await {
        let sentences = match out {
            Out::Sentences(sentences) => sentences,
            Out::Close => break,
        };
        let mut dropping = false;
        for sentence in sentences {
            if drop_after.is_some_and(|limit| sent >= limit) {
                dropping = true;
                break;
            }
            buf.extend_from_slice(&sentence);
            sent += 1;
        }
        if write.write_all(&buf).await.is_err() || write.flush().await.is_err() {
            return;
        }
        buf.clear();
        if dropping {
            break;
        }
    }
    let _ = write.shutdown().await;
}

struct Session {
    router: Arc<Router>,
    decoder: Decoder,
    out: mpsc::Sender<Out>,
    user: Option<Group>,
    before_login: usize,
    challenge: Option<[u8; 16]>,
    /// Open streams by tag (an untagged stream is under the empty tag).
    streams: HashMap<Vec<u8>, usize>,
    /// Commands whose replies are being delayed, by tag.
    delayed: HashMap<Vec<u8>, AbortHandle>,
    changes: Option<broadcast::Receiver<Change>>,
}

/// Encodes replies with the request's tag.
fn encode(replies: Vec<Reply>, tag: Option<&[u8]>) -> Vec<Vec<u8>> {
    replies
        .into_iter()
        .filter_map(|mut reply| {
            reply.tag = tag.map(<[u8]>::to_vec);
            let mut bytes = Vec::new();
            reply.encode(&mut bytes).ok().map(|()| bytes)
        })
        .collect()
}

fn fatal(reason: &str) -> Reply {
    let mut reply = Reply::new(ReplyKind::Fatal);
    reply.other.push(reason.as_bytes().to_vec());
    reply
}

async fn next_change(
    changes: &mut Option<broadcast::Receiver<Change>>,
) -> Result<Change, broadcast::error::RecvError> {
    match changes {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

impl Session {
    async fn run<R: AsyncRead + Unpin>(&mut self, read: &mut R) -> Result<(), Closed> {
        let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
        let login_deadline = tokio::time::Instant::now() + self.router.limits.login_timeout;
        loop {
            buf.reserve(16 * 1024);
            let out = self.out.clone();
            tokio::select! {
                () = out.closed() => return Err(Closed),
                () = tokio::time::sleep_until(login_deadline), if self.user.is_none() => {
                    return self.fatal("login timeout").await;
                }
                change = next_change(&mut self.changes) => match change {
                    Ok(change) => self.forward(change).await?,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a listener fell behind; changes were dropped");
                    }
                    Err(broadcast::error::RecvError::Closed) => self.changes = None,
                },
                read_bytes = read.read_buf(&mut buf) => {
                    match read_bytes {
                        Ok(0) | Err(_) => return Err(Closed),
                        Ok(_) => {}
                    }
                    // Sentence by sentence: commands before a protocol error still run, and
                    // a successful login loosens the limits for what follows it.
                    let mut pos = 0;
                    loop {
                        let rest = buf.get(pos..).unwrap_or_default();
                        let (used, sentence) = match self.decoder.decode(rest) {
                            Ok(decoded) => decoded,
                            Err(error) => return self.fatal(&format!("protocol error: {error}")).await,
                        };
                        pos += used;
                        let Some(sentence) = sentence else { break };
                        self.handle(Request::parse(sentence)).await?;
                    }
                    buf.drain(..pos);
                }
            }
        }
    }

    async fn send(&self, replies: Vec<Reply>, tag: Option<&[u8]>) -> Result<(), Closed> {
        self.out
            .send(Out::Sentences(encode(replies, tag)))
            .await
            .map_err(|_| Closed)
    }

    async fn fatal(&self, reason: &str) -> Result<(), Closed> {
        let _ = self.send(vec![fatal(reason)], None).await;
        let _ = self.out.send(Out::Close).await;
        Err(Closed)
    }

    async fn handle(&mut self, request: Request) -> Result<(), Closed> {
        let tag = request.tag.clone();
        let tag = tag.as_deref();
        if self
            .router
            .faults()
            .fatal_on_command
            .is_some_and(|c| c.as_bytes() == request.command)
        {
            return self.fatal("simulated failure").await;
        }
        match request.command.as_slice() {
            b"/login" => return self.login(&request).await,
            b"/quit" => return self.fatal("session terminated on request").await,
            _ => {}
        }
        let Some(group) = self.user else {
            self.before_login += 1;
            return self.fatal("not logged in").await;
        };
        self.router.count_command();
        if request.command == b"/cancel" {
            return self.cancel(&request).await;
        }
        if self.streams.len() + self.delayed.len() >= self.router.limits.max_in_flight {
            self.delayed.retain(|_, task| !task.is_finished());
            if self.streams.len() + self.delayed.len() >= self.router.limits.max_in_flight {
                let trap = Trap::new(Some(5), "too many commands in flight");
                return self.send(dispatch::trap_replies(trap), tag).await;
            }
        }
        let faults = self.router.faults();
        let is = |command: &Option<String>| {
            command
                .as_ref()
                .is_some_and(|c| c.as_bytes() == request.command)
        };
        if is(&faults.trap_on_command) {
            let trap = Trap::new(Some(1), "simulated refusal");
            return self.send(dispatch::trap_replies(trap), tag).await;
        }
        let action = dispatch::execute(&mut self.router.model(), group, &request);
        if is(&faults.silent_on_command) {
            return Ok(());
        }
        if let Action::Print(job) = &action
            && job.follow != Follow::No
        {
            return self.start_stream(job.clone(), tag).await;
        }
        match self.router.faults().reply_delay {
            Some(delay) => {
                self.delay(action, tag, delay);
                Ok(())
            }
            None => perform(&self.router, &self.out, action, tag).await,
        }
    }

    /// Sends the action's replies after `delay`, unless cancelled first.
    fn delay(&mut self, action: Action, tag: Option<&[u8]>, delay: Duration) {
        let (router, out) = (Arc::clone(&self.router), self.out.clone());
        let owned_tag = tag.map(<[u8]>::to_vec);
        let task = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = perform(&router, &out, action, owned_tag.as_deref()).await;
        });
        self.delayed.retain(|_, task| !task.is_finished());
        self.delayed
            .insert(tag.unwrap_or_default().to_vec(), task.abort_handle());
    }

    async fn start_stream(&mut self, job: PrintJob, tag: Option<&[u8]>) -> Result<(), Closed> {
        if self.changes.is_none() {
            self.changes = Some(self.router.model().subscribe());
        }
        if job.follow == Follow::Yes {
            print_rows(&self.router, &self.out, &job, tag).await?;
        }
        self.streams
            .insert(tag.unwrap_or_default().to_vec(), job.table);
        Ok(())
    }

    /// Sends a change to every stream on its menu.
    async fn forward(&mut self, change: Change) -> Result<(), Closed> {
        let row = change.row.unwrap_or_else(|| {
            Row::new()
                .with(
                    ".id",
                    crate::sentence::ItemId::from_number(change.id).as_str(),
                )
                .with(".dead", "yes")
        });
        let tags: Vec<Vec<u8>> = self
            .streams
            .iter()
            .filter(|(_, t)| **t == change.table)
            .map(|(tag, _)| tag.clone())
            .collect();
        for tag in tags {
            let mut reply = Reply::new(ReplyKind::Re);
            reply.attributes = row.clone();
            let tag = (!tag.is_empty()).then_some(tag);
            self.send(vec![reply], tag.as_deref()).await?;
        }
        Ok(())
    }

    async fn cancel(&mut self, request: &Request) -> Result<(), Closed> {
        let own_tag = request.tag.as_deref();
        let targets: Vec<Vec<u8>> = match request.attr(b"tag") {
            Some(target) => vec![target.to_vec()],
            None => self
                .streams
                .keys()
                .chain(self.delayed.keys())
                .cloned()
                .collect(),
        };
        for target in targets {
            let stream = self.streams.remove(&target).is_some();
            let delayed = self.delayed.remove(&target).is_some_and(|task| {
                let running = !task.is_finished();
                task.abort();
                running
            });
            if stream || delayed {
                let trap = Trap::new(Some(2), "interrupted");
                let tag = (!target.is_empty()).then_some(target.as_slice());
                self.send(dispatch::trap_replies(trap), tag).await?;
            }
        }
        if self.streams.is_empty() {
            self.changes = None;
        }
        self.send(vec![Reply::new(ReplyKind::Done)], own_tag).await
    }

    async fn login(&mut self, request: &Request) -> Result<(), Closed> {
        let tag = request.tag.as_deref();
        if self.user.is_none() {
            self.before_login += 1;
            if self.before_login > self.router.limits.max_sentences_before_login {
                return self.fatal("too many commands before login").await;
            }
        }
        let name = request.attr(b"name").unwrap_or_default();
        let verdict = match (self.router.login, request.attr(b"response")) {
            (super::SimLogin::Legacy, None) => {
                let challenge = new_challenge();
                self.challenge = Some(challenge);
                let mut done = Reply::new(ReplyKind::Done);
                done.attributes.push("ret", crate::client::hex(&challenge));
                return self.send(vec![done], tag).await;
            }
            (super::SimLogin::Legacy, Some(response)) => {
                let challenge = self.challenge.take();
                self.check_user(name, |password| {
                    challenge
                        .is_some_and(|c| expected_response(password, &c).as_bytes() == response)
                })
            }
            (super::SimLogin::Modern, _) => {
                let given = request.attr(b"password").unwrap_or_default();
                self.check_user(name, |password| password == given)
            }
        };
        match verdict {
            Some(group) if !self.router.faults().refuse_login => {
                self.user = Some(group);
                self.decoder.set_limits(self.router.limits.after_login);
                self.send(vec![Reply::new(ReplyKind::Done)], tag).await
            }
            _ => {
                let trap = Trap::new(None, "invalid user name or password (6)");
                self.send(dispatch::trap_replies(trap), tag).await
            }
        }
    }

    /// The group of user `name` if it exists, is enabled and `password_ok` accepts its
    /// password.
    fn check_user(&self, name: &[u8], password_ok: impl Fn(&[u8]) -> bool) -> Option<Group> {
        let model = self.router.model();
        let table = super::schema::find(b"/user")?;
        let t = &model.tables[table];
        let index = |prop: &str| t.schema.prop(prop.as_bytes());
        let (name_at, password_at, group_at, disabled_at) = (
            index("name")?,
            index("password")?,
            index("group")?,
            index("disabled")?,
        );
        let user = t
            .items
            .iter()
            .find(|item| item.values[name_at].as_deref() == Some(name))?;
        let enabled = user.values[disabled_at].as_deref() != Some(b"true");
        let password = user.values[password_at].as_deref().unwrap_or_default();
        let group = user.values[group_at].as_deref().unwrap_or_default();
        (enabled && password_ok(password)).then(|| Group::parse(&String::from_utf8_lossy(group)))
    }
}

/// Sends the replies of a finished action.
async fn perform(
    router: &Router,
    out: &mpsc::Sender<Out>,
    action: Action,
    tag: Option<&[u8]>,
) -> Result<(), Closed> {
    match action {
        Action::Reply(replies) => out
            .send(Out::Sentences(encode(replies, tag)))
            .await
            .map_err(|_| Closed),
        Action::Print(job) => {
            let count = print_rows(router, out, &job, tag).await?;
            let mut replies = Vec::with_capacity(2);
            if count == 0 && router.empty_replies && !job.count_only {
                replies.push(Reply::new(ReplyKind::Empty));
            }
            let mut done = Reply::new(ReplyKind::Done);
            if job.count_only {
                done.attributes.push("ret", count.to_string());
            }
            replies.push(done);
            out.send(Out::Sentences(encode(replies, tag)))
                .await
                .map_err(|_| Closed)
        }
    }
}

/// Sends the matching rows in batches (or only counts them); returns how many matched.
async fn print_rows(
    router: &Router,
    out: &mpsc::Sender<Out>,
    job: &PrintJob,
    tag: Option<&[u8]>,
) -> Result<usize, Closed> {
    let mut position = 0;
    let mut count = 0;
    loop {
        let (batch, done) = {
            let now = Instant::now();
            let mut model = router.model();
            model.refresh(job.table, now);
            let table = &model.tables[job.table];
            let mut batch = Vec::new();
            while batch.len() < BATCH_ROWS {
                let Some(item) = table.items.get(position) else {
                    break;
                };
                position += 1;
                if job.filter.matches(|name| table.value(item, name, now)) {
                    count += 1;
                    if !job.count_only {
                        let mut reply = Reply::new(ReplyKind::Re);
                        reply.attributes = table.row(item, job.proplist.as_deref(), now);
                        batch.push(reply);
                    }
                }
            }
            (batch, position >= table.items.len())
        };
        if !batch.is_empty() {
            out.send(Out::Sentences(encode(batch, tag)))
                .await
                .map_err(|_| Closed)?;
        }
        if done {
            return Ok(count);
        }
    }
}

fn new_challenge() -> [u8; 16] {
    let mut challenge = [0u8; 16];
    if rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut challenge)
        .is_err()
    {
        // Only a test tool: fall back to a clock-derived challenge rather than failing login.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        challenge = nanos.to_le_bytes();
    }
    challenge
}

fn expected_response(password: &[u8], challenge: &[u8]) -> String {
    let mut md5 = Md5::new();
    md5.update([0u8]);
    md5.update(password);
    md5.update(challenge);
    format!("00{}", crate::client::hex(&md5.finalize()))
}
