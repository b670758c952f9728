//! The built-in server's accounting (aaa-design.md §4): each Accounting-Request becomes a
//! record (`store::accounting`), the records of the moment are written in one transaction
//! by one writer task ([`Writer`]: up to [`BATCH`] records, or what arrived within
//! [`WINDOW`] of the first), and a router is acknowledged only once its record is
//! committed. When the database is down or slow nothing is acknowledged: the queue
//! ([`QUEUE`]) and the server loop's requests in flight fill, the loop stops reading, and
//! the routers keep their records and send them again. An acknowledged record is never
//! lost; none is dropped to make room. The same writer logs each authentication in
//! `radpostauth` with its next batch, without holding up the answer (when its queue is full
//! such an entry is dropped and counted: it is a log, not a record owed to a router).
//! Sessions that stop updating are closed as stale by [`sweep_stale`].

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use radius::attrs;
use radius::code::Code;
use radius::gigawords;
use radius::packet::Packet;
use radius::server::{Handler, Request};
use store::Db;
use store::accounting::{AcctKind, AcctRecord, PostAuth};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use crate::clock::Now;
use crate::sessions::stale_after;
use crate::state::AaaState;

/// Records written in one transaction at most.
pub const BATCH: usize = 512;

/// How long the writer waits for more records after the first of a batch.
pub const WINDOW: Duration = Duration::from_millis(1);

/// Records waiting for the writer at most; past that, requests wait (unacknowledged).
pub const QUEUE: usize = 8_192;

enum Pending {
    /// An accounting record and who waits for it to be durable.
    Record(Box<AcctRecord>, oneshot::Sender<bool>),
    /// An authentication to log; nobody waits.
    PostAuth(PostAuth),
}

/// The accounting writer's queue. The writer stops once every `Writer` is dropped and the
/// queue is written.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: mpsc::Sender<Pending>,
    /// Authentications not logged because the queue was full.
    post_auth_dropped: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the writer task.
    pub fn start(db: Db) -> (Writer, JoinHandle<()>) {
        let (queue, waiting) = mpsc::channel(QUEUE);
        let writer = Writer {
            queue,
            post_auth_dropped: Arc::new(AtomicU64::new(0)),
        };
        (writer, tokio::spawn(write(db, waiting)))
    }

    /// Queues `record`; true once it is durable, false if it could not be written.
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

    /// Authentications not logged because the queue was full.
    pub fn post_auth_dropped(&self) -> u64 {
        self.post_auth_dropped.load(Ordering::Relaxed)
    }
}

async fn write(db: Db, mut waiting: mpsc::Receiver<Pending>) {
    while let Some(first) = waiting.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + WINDOW;
        while batch.len() < BATCH {
            match tokio::time::timeout_at(deadline, waiting.recv()).await {
                Ok(Some(next)) => batch.push(next),
                _ => break,
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
/// one `UPDATE` of what is still open.
pub async fn sweep_stale(
    state: Arc<AaaState>,
    db: store::Db,
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
mod tests {
    use super::*;

    #[test]
    fn causes_and_port_types_are_named_as_the_dictionary_names_them() {
        assert_eq!(terminate_cause(1), "User-Request");
        assert_eq!(terminate_cause(11), "NAS-Reboot");
        assert_eq!(terminate_cause(18), "Host-Request");
        assert_eq!(terminate_cause(0), "0");
        assert_eq!(terminate_cause(99), "99");
        assert_eq!(port_type(15), "Ethernet");
        assert_eq!(port_type(42), "42");
    }
}
