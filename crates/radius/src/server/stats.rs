//! Server counters (what was received, answered, and dropped and why) and the rate-limited
//! log line for dropped packets.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use tracing::warn;

/// Why a packet was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// From an address with no configured client.
    UnknownClient,
    /// Not a well-formed packet.
    Malformed,
    /// A reply code sent to the server.
    NotARequest,
    /// Wrong Request Authenticator or Message-Authenticator.
    BadAuthenticator,
    /// Missing Message-Authenticator from a client that must send one.
    MissingMessageAuthenticator,
    /// A duplicate of a request still being handled.
    DuplicateInProgress,
    /// The handler chose not to answer, or answered with a code that does not fit.
    NoReply,
}

/// Counters, updated by the server loop and readable at any time.
#[derive(Debug, Default)]
pub struct Stats {
    received: AtomicU64,
    replied: AtomicU64,
    duplicates_answered: AtomicU64,
    dropped_unknown_client: AtomicU64,
    dropped_malformed: AtomicU64,
    dropped_not_request: AtomicU64,
    dropped_bad_authenticator: AtomicU64,
    dropped_missing_message_authenticator: AtomicU64,
    dropped_duplicate_in_progress: AtomicU64,
    dropped_no_reply: AtomicU64,
    log: Mutex<LogLimiter>,
}

/// A copy of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Datagrams received.
    pub received: u64,
    /// Replies sent (not counting duplicates answered from the cache).
    pub replied: u64,
    /// Retransmissions answered from the duplicate cache.
    pub duplicates_answered: u64,
    /// Dropped: unknown client.
    pub dropped_unknown_client: u64,
    /// Dropped: malformed.
    pub dropped_malformed: u64,
    /// Dropped: not a request.
    pub dropped_not_request: u64,
    /// Dropped: bad authenticator or Message-Authenticator.
    pub dropped_bad_authenticator: u64,
    /// Dropped: missing Message-Authenticator.
    pub dropped_missing_message_authenticator: u64,
    /// Dropped: duplicate of a request in progress.
    pub dropped_duplicate_in_progress: u64,
    /// Dropped: handler gave no (fitting) reply.
    pub dropped_no_reply: u64,
}

impl StatsSnapshot {
    /// Each counter by name (`received`, `replied`, `duplicates_answered`,
    /// `dropped_unknown_client`, ...).
    pub fn named(&self) -> [(&'static str, u64); 10] {
        [
            ("received", self.received),
            ("replied", self.replied),
            ("duplicates_answered", self.duplicates_answered),
            ("dropped_unknown_client", self.dropped_unknown_client),
            ("dropped_malformed", self.dropped_malformed),
            ("dropped_not_request", self.dropped_not_request),
            ("dropped_bad_authenticator", self.dropped_bad_authenticator),
            (
                "dropped_missing_message_authenticator",
                self.dropped_missing_message_authenticator,
            ),
            (
                "dropped_duplicate_in_progress",
                self.dropped_duplicate_in_progress,
            ),
            ("dropped_no_reply", self.dropped_no_reply),
        ]
    }
}

#[derive(Debug, Default)]
struct LogLimiter {
    last: Option<Instant>,
    suppressed: u64,
}

const LOG_INTERVAL: Duration = Duration::from_secs(10);

fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl Stats {
    pub(crate) fn received(&self) {
        self.received.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn replied(&self) {
        self.replied.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn duplicate_answered(&self) {
        self.duplicates_answered.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a dropped packet and logs it, at most one line per 10 seconds (with the number
    /// of drops not logged since the previous line).
    pub(crate) fn dropped(&self, reason: DropReason, source: std::net::SocketAddr, detail: &str) {
        let counter = match reason {
            DropReason::UnknownClient => &self.dropped_unknown_client,
            DropReason::Malformed => &self.dropped_malformed,
            DropReason::NotARequest => &self.dropped_not_request,
            DropReason::BadAuthenticator => &self.dropped_bad_authenticator,
            DropReason::MissingMessageAuthenticator => &self.dropped_missing_message_authenticator,
            DropReason::DuplicateInProgress => &self.dropped_duplicate_in_progress,
            DropReason::NoReply => &self.dropped_no_reply,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if reason == DropReason::DuplicateInProgress {
            return;
        }
        let mut log = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        if log
            .last
            .is_some_and(|last| now.duration_since(last) < LOG_INTERVAL)
        {
            log.suppressed += 1;
            return;
        }
        let suppressed = std::mem::take(&mut log.suppressed);
        log.last = Some(now);
        drop(log);
        warn!(%source, ?reason, detail, suppressed, "dropped RADIUS packet");
    }

    /// A copy of the counters.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            received: load(&self.received),
            replied: load(&self.replied),
            duplicates_answered: load(&self.duplicates_answered),
            dropped_unknown_client: load(&self.dropped_unknown_client),
            dropped_malformed: load(&self.dropped_malformed),
            dropped_not_request: load(&self.dropped_not_request),
            dropped_bad_authenticator: load(&self.dropped_bad_authenticator),
            dropped_missing_message_authenticator: load(
                &self.dropped_missing_message_authenticator,
            ),
            dropped_duplicate_in_progress: load(&self.dropped_duplicate_in_progress),
            dropped_no_reply: load(&self.dropped_no_reply),
        }
    }
}
