//! The built-in server's accounting (aaa-design.md §4): each Accounting-Request becomes a
//! record (`store::accounting`), the records of the moment are gathered by one writer task
//! ([`Writer`]: up to [`BATCH`] records; for a commit, what is queued when the previous
//! batch is durable, so the records that arrive during a commit make the next and none
//! waits for a window; for a journal sync, what arrived within [`WINDOW`] of the first),
//! and a router is acknowledged only once its record is durable. How ([`Durability`]):
//! committed to the database, or, on PostgreSQL by default, synced to the node's journal
//! (`journal`), the database then written behind by an applier task that may lag, or wait
//! out an outage, without holding up a router. Either way, when the record cannot be made
//! durable nothing is acknowledged: the queue ([`QUEUE`]) and the server loop's requests in
//! flight fill, the loop stops reading, and the routers keep their records and send them
//! again. (With the journal that happens once the database is [`Durability::Journal`]'s
//! `max_bytes` behind.) An acknowledged record is never lost; none is dropped to make room.
//! The same writer logs each authentication in `radpostauth` with its next batch, without
//! holding up the answer (when it cannot keep up such an entry is dropped and counted: it
//! is a log, not a record owed to a router). Sessions that stop updating are closed as
//! stale by [`sweep_stale`].

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use radius::attrs;
use radius::code::Code;
use radius::gigawords;
use radius::packet::Packet;
use radius::server::{Handler, Request};
use store::Db;
use store::accounting::{AcctKind, AcctRecord, PostAuth};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use crate::clock::Now;
use crate::journal::{self, Journal, JournalError, Position};
use crate::sessions::stale_after;
use crate::state::AaaState;

/// Records gathered into one batch at most.
pub const BATCH: usize = 512;

/// How long a journal batch gathers records after its first (and any batch,
/// authentications to log when no record waits).
pub const WINDOW: Duration = Duration::from_millis(1);

/// Records waiting for the writer at most; past that, requests wait (unacknowledged).
pub const QUEUE: usize = 8_192;

/// Records the journal's applier writes to the database in one transaction at most (whole
/// entries: a transaction may hold one batch more), when it is behind.
pub const APPLY_BATCH: usize = 4_096;

/// How far the database may lag the journal for stale sessions to be swept.
pub const SWEEP_LAG: Duration = Duration::from_secs(5);

/// How a batch is made durable before its routers are acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Durability {
    /// Committed to the database.
    Database,
    /// Synced to the journal in `dir` (one `fdatasync` a batch); the database is written
    /// behind. Past `max_bytes` of journal not yet in the database, nothing more is
    /// acknowledged until the database catches up.
    Journal {
        /// The node's journal directory.
        dir: PathBuf,
        /// Journal bytes the database may be behind at most.
        max_bytes: u64,
    },
}

/// Why the writer could not start.
#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    /// The journal cannot be opened.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// What the journal held from before could not be written to the database.
    #[error("accounting journal: writing what it held to the database: {0}")]
    Replay(#[from] store::StoreError),
}

enum Pending {
    /// An accounting record and who waits for it to be durable.
    Record(Box<AcctRecord>, oneshot::Sender<bool>),
    /// An authentication to log; nobody waits.
    PostAuth(PostAuth),
}

/// What the database lacks of what was acknowledged (journal mode).
#[derive(Debug, Default)]
struct Behind {
    state: Mutex<BehindState>,
    /// Woken when the applier writes a batch.
    progress: Notify,
}

#[derive(Debug, Default, Clone, Copy)]
struct BehindState {
    bytes: u64,
    records: u64,
    post_auths: u64,
    /// Since when the database has lacked something (None: it holds everything).
    since: Option<Instant>,
}

impl Behind {
    fn get(&self) -> BehindState {
        *self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn change(&self, f: impl FnOnce(&mut BehindState)) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut state);
        state.since = match (state.records + state.post_auths, state.since) {
            (0, _) => None,
            (_, Some(since)) => Some(since),
            (_, None) => Some(Instant::now()),
        };
    }
}

/// The accounting writer's queue. The writer stops once every `Writer` is dropped and the
/// queue is written.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: mpsc::Sender<Pending>,
    /// Authentications not logged because the writer could not keep up.
    post_auth_dropped: Arc<AtomicU64>,
    behind: Arc<Behind>,
}

impl Writer {
    /// Starts the writer task. With a journal, first writes to the database what the
    /// journal holds from before (a crash, a database outage), in order; that done, the
    /// database holds every record ever acknowledged.
    pub async fn start(
        db: Db,
        durability: Durability,
    ) -> Result<(Writer, JoinHandle<()>), WriterError> {
        let (queue, waiting) = mpsc::channel(QUEUE);
        let writer = Writer {
            queue,
            post_auth_dropped: Arc::new(AtomicU64::new(0)),
            behind: Arc::new(Behind::default()),
        };
        let task = match durability {
            Durability::Database => tokio::spawn(write(db, waiting)),
            Durability::Journal { dir, max_bytes } => {
                let opened = {
                    let dir = dir.clone();
                    tokio::task::spawn_blocking(move || Journal::open(&dir)).await
                };
                let (journal, reader) = opened.map_err(join_failed(&dir))??;
                let reader = replay(&db, &dir, reader, journal.end()).await?;
                let (to_apply, appended) = mpsc::unbounded_channel();
                let applier =
                    tokio::spawn(apply(db, dir, reader, appended, Arc::clone(&writer.behind)));
                tokio::spawn(write_journaled(
                    journal,
                    max_bytes,
                    waiting,
                    to_apply,
                    applier,
                    Arc::clone(&writer.behind),
                    Arc::clone(&writer.post_auth_dropped),
                ))
            }
        };
        Ok((writer, task))
    }

    /// Queues `record`; true once it is durable, false if it could not be made so.
    pub async fn record(&self, record: AcctRecord) -> bool {
        let (durable, written) = oneshot::channel();
        if self
            .queue
            .send(Pending::Record(Box::new(record), durable))
            .await
            .is_err()
        {
            return false;
        }
        written.await.unwrap_or(false)
    }

    /// Queues an authentication for `radpostauth` without waiting: an answer never waits
    /// for the log. When the queue is full the entry is dropped and counted.
    pub fn post_auth(&self, entry: PostAuth) {
        if self.queue.try_send(Pending::PostAuth(entry)).is_err() {
            self.post_auth_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Authentications not logged because the writer could not keep up.
    pub fn post_auth_dropped(&self) -> u64 {
        self.post_auth_dropped.load(Ordering::Relaxed)
    }

    /// What the database lacks of what this writer acknowledged: a handle that does not
    /// keep the writer running.
    pub fn backlog(&self) -> Backlog {
        Backlog(Arc::clone(&self.behind))
    }
}

/// What the database lacks of what a [`Writer`] acknowledged (journal mode; nothing when
/// acknowledging on commit).
#[derive(Clone, Debug)]
pub struct Backlog(Arc<Behind>);

impl Backlog {
    /// Acknowledged records the database does not hold yet.
    pub fn records(&self) -> u64 {
        self.0.get().records
    }

    /// How long the database has lacked some acknowledged record, if it does.
    pub fn behind_for(&self) -> Option<Duration> {
        self.0.get().since.map(|since| since.elapsed())
    }
}

/// How a batch is gathered behind its first record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gather {
    /// What is already queued (group commit: what arrives while a batch is made durable
    /// waits in the queue for the next). For commits, whose cost grows with the records.
    Queued,
    /// What arrives within [`WINDOW`]. For journal syncs, whose cost is mostly the sync.
    Window,
}

/// Takes the next batch off the queue, up to [`BATCH`] records, gathered as `how` says. A
/// batch of authentications to log only always gathers for [`WINDOW`]: nobody waits for
/// them, and the log takes fewer, larger writes. `None` once the queue is closed and empty.
async fn gather(
    waiting: &mut mpsc::Receiver<Pending>,
    how: Gather,
) -> Option<(Vec<AcctRecord>, Vec<PostAuth>, Vec<oneshot::Sender<bool>>)> {
    let first = waiting.recv().await?;
    let mut batch = vec![first];
    if how == Gather::Queued {
        while batch.len() < BATCH
            && let Ok(next) = waiting.try_recv()
        {
            batch.push(next);
        }
    }
    if how == Gather::Window || !batch.iter().any(|p| matches!(p, Pending::Record(..))) {
        let deadline = tokio::time::Instant::now() + WINDOW;
        while batch.len() < BATCH {
            match tokio::time::timeout_at(deadline, waiting.recv()).await {
                Ok(Some(next)) => batch.push(next),
                _ => break,
            }
        }
    }
    let mut records = Vec::new();
    let mut post_auths = Vec::new();
    let mut waiters = Vec::new();
    for pending in batch {
        match pending {
            Pending::Record(record, durable) => {
                records.push(*record);
                waiters.push(durable);
            }
            Pending::PostAuth(entry) => post_auths.push(entry),
        }
    }
    Some((records, post_auths, waiters))
}

/// Acknowledging on commit: each batch is one transaction.
async fn write(db: Db, mut waiting: mpsc::Receiver<Pending>) {
    while let Some((records, post_auths, waiters)) = gather(&mut waiting, Gather::Queued).await {
        let durable = match store::accounting::record(&db, &records, &post_auths).await {
            Ok(()) => true,
            Err(err) => {
                warn!(error = %err, records = records.len(), "accounting not written; the routers will send it again");
                false
            }
        };
        for waiter in waiters {
            let _ = waiter.send(durable);
        }
    }
}

/// What the writer tells the applier: the journal now ends at `end`, and these
/// authentications are to be logged.
struct Appended {
    end: Position,
    post_auths: Vec<PostAuth>,
}

/// Acknowledging on the journal's sync: each batch is one journal entry; the applier is
/// told where the journal now ends.
async fn write_journaled(
    mut journal: Journal,
    max_bytes: u64,
    mut waiting: mpsc::Receiver<Pending>,
    to_apply: mpsc::UnboundedSender<Appended>,
    applier: JoinHandle<()>,
    behind: Arc<Behind>,
    post_auth_dropped: Arc<AtomicU64>,
) {
    while let Some((records, mut post_auths, waiters)) = gather(&mut waiting, Gather::Window).await
    {
        if behind.get().post_auths > QUEUE as u64 {
            post_auth_dropped.fetch_add(post_auths.len() as u64, Ordering::Relaxed);
            post_auths.clear();
        }
        let mut journaled = (0, 0);
        if !records.is_empty() {
            // Past the bound, wait for the database to catch up: the queue fills meanwhile
            // and the routers wait, unacknowledged.
            loop {
                let progress = behind.progress.notified();
                if behind.get().bytes <= max_bytes {
                    break;
                }
                let _ = tokio::time::timeout(Duration::from_millis(100), progress).await;
            }
            let count = records.len() as u64;
            let appended = tokio::task::spawn_blocking(move || {
                let result = journal.append(&records);
                (journal, result)
            })
            .await;
            let Ok((back, result)) = appended else {
                tracing::error!("accounting journal: a write was lost; acknowledging nothing more");
                break;
            };
            journal = back;
            let durable = match result {
                Ok((_, bytes)) => {
                    journaled = (count, bytes);
                    true
                }
                Err(err) => {
                    warn!(error = %err, records = count, "accounting not journaled; the routers will send it again");
                    false
                }
            };
            for waiter in waiters {
                let _ = waiter.send(durable);
            }
        }
        if journaled.0 == 0 && post_auths.is_empty() {
            continue;
        }
        let logged = post_auths.len() as u64;
        behind.change(|b| {
            b.records += journaled.0;
            b.bytes += journaled.1;
            b.post_auths += logged;
        });
        let end = journal.end();
        if to_apply.send(Appended { end, post_auths }).is_err() {
            break;
        }
    }
    drop(to_apply);
    let _ = applier.await;
}

/// Writes what the journal holds to the database, following the writer: reads it from the
/// files (up to [`APPLY_BATCH`] records in one transaction), retries (with a growing pause,
/// up to 5 s) while the database refuses, and moves the checkpoint past what is written.
/// Ends once the writer has ended and everything is written (or the database refuses at
/// that point: the rest is written at the next start).
async fn apply(
    db: Db,
    dir: PathBuf,
    mut reader: journal::Reader,
    mut appended: mpsc::UnboundedReceiver<Appended>,
    behind: Arc<Behind>,
) {
    let mut upto = reader.position();
    let mut post_auths = Vec::new();
    let mut closed = false;
    loop {
        if reader.position() >= upto && post_auths.is_empty() {
            if closed {
                return;
            }
            match appended.recv().await {
                Some(next) => {
                    upto = upto.max(next.end);
                    post_auths.extend(next.post_auths);
                }
                None => closed = true,
            }
            continue;
        }
        while let Ok(next) = appended.try_recv() {
            upto = upto.max(next.end);
            post_auths.extend(next.post_auths);
        }
        let read = tokio::task::spawn_blocking(move || {
            let read = reader.read(upto, APPLY_BATCH);
            (reader, read)
        })
        .await;
        let Ok((back, read)) = read else {
            tracing::error!(
                "accounting journal: a read was lost; the rest is written at the next start"
            );
            return;
        };
        reader = back;
        let (records, bytes) = match read {
            Ok(read) => read,
            Err(err) => {
                tracing::error!(error = %err, "accounting journal: cannot read; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let mut pause = Duration::from_millis(50);
        while let Err(err) = store::accounting::record(&db, &records, &post_auths).await {
            if closed || appended.is_closed() {
                warn!(error = %err, records = records.len(), "accounting journal: the database is unreachable at shutdown; what it lacks is written at the next start");
                return;
            }
            warn!(error = %err, records = records.len(), retry_in_ms = pause.as_millis() as u64, "accounting journal: the database refused a batch; retrying (routers are still acknowledged)");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
        if bytes > 0 {
            let (dir, position) = (dir.clone(), reader.position());
            match tokio::task::spawn_blocking(move || journal::checkpoint(&dir, position)).await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    warn!(error = %err, "accounting journal: checkpoint not moved; a restart writes these records again, changing nothing")
                }
                Err(err) => warn!(error = %err, "accounting journal: checkpoint not moved"),
            }
        }
        let (done, logged) = (records.len() as u64, post_auths.len() as u64);
        post_auths.clear();
        behind.change(|b| {
            b.bytes = b.bytes.saturating_sub(bytes);
            b.records = b.records.saturating_sub(done);
            b.post_auths = b.post_auths.saturating_sub(logged);
        });
        behind.progress.notify_waiters();
    }
}

/// A journal task that did not finish (it panicked), as the journal's error.
fn join_failed(dir: &std::path::Path) -> impl FnOnce(tokio::task::JoinError) -> JournalError {
    let path = dir.to_owned();
    move |e| JournalError::Io {
        path,
        source: std::io::Error::other(e),
    }
}

/// Writes to the database, in order, what the journal held past its checkpoint at start
/// (up to `end`); returns the reader there.
async fn replay(
    db: &Db,
    dir: &std::path::Path,
    mut reader: journal::Reader,
    end: Position,
) -> Result<journal::Reader, WriterError> {
    let started = Instant::now();
    let mut total = 0;
    while reader.position() < end {
        let read = tokio::task::spawn_blocking(move || {
            let read = reader.read(end, APPLY_BATCH);
            (reader, read)
        })
        .await
        .map_err(join_failed(dir))?;
        reader = read.0;
        let (records, _) = read.1?;
        store::accounting::record(db, &records, &[]).await?;
        total += records.len();
        let (owned, position) = (dir.to_owned(), reader.position());
        tokio::task::spawn_blocking(move || journal::checkpoint(&owned, position))
            .await
            .map_err(join_failed(dir))??;
    }
    if total > 0 {
        tracing::info!(
            records = total,
            millis = started.elapsed().as_millis() as u64,
            "accounting journal: records acknowledged before the last stop written to the database"
        );
    }
    Ok(reader)
}

/// Answers Accounting-Requests: records them and acknowledges once they are durable.
pub struct Account {
    state: Arc<AaaState>,
    writer: Writer,
    now: Now,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// A handler recording through `writer`.
    pub fn new(state: Arc<AaaState>, writer: Writer, now: Now) -> Account {
        Account { state, writer, now }
    }
}

impl Handler for Account {
    async fn handle(&self, request: Request) -> Option<Packet> {
        match request.packet.code {
            Code::AccountingRequest => self.account(&request).await,
            Code::StatusServer => Some(request.reply(Code::AccountingResponse)),
            _ => None,
        }
    }
}

impl Account {
    async fn account(&self, request: &Request) -> Option<Packet> {
        let router_tenant = self.state.router_tenant(request)?;
        let packet = &request.packet;
        let Some(kind) = kind(packet) else {
            // A status this server keeps nothing for (Tunnel-Start and the like).
            return Some(request.reply(Code::AccountingResponse));
        };
        let username = packet
            .value(attrs::USER_NAME)
            .and_then(Result::ok)
            .unwrap_or_default();
        let customer = self
            .state
            .account(&username)
            .filter(|a| a.tenant_id == router_tenant);
        let mut record = to_record(
            packet,
            kind,
            request.source.ip(),
            (self.now)(),
            username,
            customer.map(|a| (a.tenant_id, a.customer_id)),
        );
        let sessions = self.state.sessions();
        if matches!(kind, AcctKind::On | AcctKind::Off) {
            sessions.note_reboot(&record.nas_ip, record.at);
        } else if let Some(rebooted) = sessions.ended_by_reboot(&record) {
            // A record of the boot before: its session ended with the reboot.
            record = record.stopped_by_reboot(rebooted);
        }
        if self.writer.record(record.clone()).await {
            sessions.apply(&record, std::time::Instant::now());
            Some(request.reply(Code::AccountingResponse))
        } else {
            debug!(source = %request.source, "accounting not acknowledged");
            None
        }
    }
}

fn kind(packet: &Packet) -> Option<AcctKind> {
    match packet.value(attrs::ACCT_STATUS_TYPE)?.ok()? {
        attrs::acct_status_type::START => Some(AcctKind::Start),
        attrs::acct_status_type::STOP => Some(AcctKind::Stop),
        attrs::acct_status_type::INTERIM_UPDATE => Some(AcctKind::Interim),
        attrs::acct_status_type::ACCOUNTING_ON => Some(AcctKind::On),
        attrs::acct_status_type::ACCOUNTING_OFF => Some(AcctKind::Off),
        _ => None,
    }
}

/// The record of an Accounting-Request received at `now` from `source`.
pub fn to_record(
    packet: &Packet,
    kind: AcctKind,
    source: IpAddr,
    now: DateTime<Utc>,
    username: String,
    customer: Option<(i64, i64)>,
) -> AcctRecord {
    let text = |attr| packet.value(attr).and_then(Result::ok).unwrap_or_default();
    let number = |attr| packet.value(attr).and_then(Result::ok);
    let at = match packet.value(attrs::EVENT_TIMESTAMP).and_then(Result::ok) {
        Some(stamp) => DateTime::<Utc>::from(stamp),
        None => now - TimeDelta::seconds(i64::from(number(attrs::ACCT_DELAY_TIME).unwrap_or(0))),
    };
    let nas_ip = packet
        .value(attrs::NAS_IP_ADDRESS)
        .and_then(Result::ok)
        .map_or_else(|| source.to_string(), |ip| ip.to_string());
    let session_id = text(attrs::ACCT_SESSION_ID);
    let nas_port = number(attrs::NAS_PORT)
        .map(|p| p.to_string())
        .unwrap_or_default();
    let nas_port_id = text(attrs::NAS_PORT_ID);
    let nas_identifier = text(attrs::NAS_IDENTIFIER);
    let unique_id = unique_session_id(
        &username,
        &session_id,
        &nas_ip,
        &nas_identifier,
        &nas_port_id,
        &nas_port,
    );
    let octets = |total: Option<u64>| i64::try_from(total.unwrap_or(0)).unwrap_or(i64::MAX);
    let terminate_cause = match number(attrs::ACCT_TERMINATE_CAUSE) {
        Some(cause) => terminate_cause(cause),
        None if matches!(kind, AcctKind::On | AcctKind::Off) => "NAS-Reboot".to_owned(),
        None => String::new(),
    };
    AcctRecord {
        kind,
        at,
        nas_ip,
        unique_id,
        username,
        nas_port_id: if nas_port_id.is_empty() {
            nas_port
        } else {
            nas_port_id
        },
        nas_port_type: number(attrs::NAS_PORT_TYPE)
            .map(port_type)
            .unwrap_or_default(),
        session_time: number(attrs::ACCT_SESSION_TIME).map(i64::from),
        input_octets: octets(gigawords::acct_input_octets(packet)),
        output_octets: octets(gigawords::acct_output_octets(packet)),
        called_station: text(attrs::CALLED_STATION_ID),
        calling_station: text(attrs::CALLING_STATION_ID),
        framed_ip: packet
            .value(attrs::FRAMED_IP_ADDRESS)
            .and_then(Result::ok)
            .map(|ip| ip.to_string())
            .unwrap_or_default(),
        terminate_cause,
        tenant_id: customer.map(|(tenant, _)| tenant),
        customer_id: customer.map(|(_, id)| id),
        session_id,
    }
}

/// The session's key as FreeRADIUS's `acct_unique` policy makes it (without a Class of its
/// own): MD5, in hex, of the user name, session id, NAS address, NAS-Identifier, NAS-Port-Id
/// and NAS-Port, comma-separated. The same session then has the same row whichever server
/// recorded it.
pub fn unique_session_id(
    username: &str,
    session_id: &str,
    nas_ip: &str,
    nas_identifier: &str,
    nas_port_id: &str,
    nas_port: &str,
) -> String {
    let joined =
        format!("{username},{session_id},{nas_ip},{nas_identifier},{nas_port_id},{nas_port}");
    radius::crypto::md5(&[joined.as_bytes()])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Acct-Terminate-Cause by its dictionary name (RFC 2866 §5.10).
fn terminate_cause(code: u32) -> String {
    const NAMES: [&str; 18] = [
        "User-Request",
        "Lost-Carrier",
        "Lost-Service",
        "Idle-Timeout",
        "Session-Timeout",
        "Admin-Reset",
        "Admin-Reboot",
        "Port-Error",
        "NAS-Error",
        "NAS-Request",
        "NAS-Reboot",
        "Port-Unneeded",
        "Port-Preempted",
        "Port-Suspended",
        "Service-Unavailable",
        "Callback",
        "User-Error",
        "Host-Request",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|c| c.checked_sub(1))
        .and_then(|i| NAMES.get(i))
        .map_or_else(|| code.to_string(), |name| (*name).to_owned())
}

/// NAS-Port-Type by its dictionary name (the common ones; others by number).
fn port_type(code: u32) -> String {
    match code {
        0 => "Async",
        5 => "Virtual",
        15 => "Ethernet",
        19 => "Wireless-802.11",
        _ => return code.to_string(),
    }
    .to_owned()
}

/// Every `every`, closes the sessions without an update for [`stale_after`] `interim`
/// (in `radacct`, then here), until `shutdown` completes. Each node may run it: closing is
/// one `UPDATE` of what is still open. A round is skipped while this node's database
/// writes lag (journal mode) by more than [`SWEEP_LAG`]: a session's latest update may be
/// among what waits.
pub async fn sweep_stale(
    state: Arc<AaaState>,
    db: store::Db,
    backlog: Backlog,
    interim: Duration,
    every: Duration,
    now: Now,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let quiet = chrono::TimeDelta::from_std(stale_after(interim)).unwrap_or(chrono::TimeDelta::MAX);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => return,
            _ = tick.tick() => {}
        }
        if let Some(lag) = backlog.behind_for().filter(|lag| *lag > SWEEP_LAG) {
            tracing::info!(
                lag_ms = lag.as_millis() as u64,
                "stale sessions not swept: the database is behind the journal"
            );
            continue;
        }
        match store::accounting::close_stale(&db, now() - quiet).await {
            Ok(closed) if !closed.is_empty() => {
                tracing::info!(sessions = closed.len(), "stale sessions closed");
                state.sessions().closed(&closed, std::time::Instant::now());
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "stale sessions could not be closed"),
        }
    }
}

#[cfg(test)]
#[path = "accounting_tests.rs"]
mod tests;
