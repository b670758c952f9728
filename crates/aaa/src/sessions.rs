//! The customers' open sessions, in memory: what the built-in server counts for
//! simultaneous use, so that no login asks `radacct` (aaa-design.md §3). Loaded at start
//! from `radacct`'s open rows tied to a customer, then kept by the accounting this server
//! has made durable: a Start or Interim-Update opens a session, a Stop closes it,
//! Accounting-On/Off closes the router's sessions that started before it. A late
//! Interim-Update of a session already stopped does not reopen it (stops are remembered
//! for [`REMEMBER_STOPS`]). A session gone quiet for [`stale_after`] the interim interval
//! the server asks routers for is closed as stale (`accounting::sweep_stale`), in `radacct`
//! and here.
//!
//! It also counts the bytes each customer's sessions have moved since its account was read
//! (`grown`): the account holds the period's usage as the database had it then, and the
//! growth of each session's counters in the accounting that followed adds to it, so a
//! capped customer's remaining volume and FUP step are known at login without a query.
//! When the account is read again its growth is taken into it and starts from zero
//! (`state` says how the two counts are joined).
//!
//! A record of a session that began before its router's latest Accounting-On or -Off, and
//! that arrives after it (a Start reordered behind the reboot, a late update), does not open
//! the session again: [`Sessions::ended_by_reboot`] says when the reboot ended it, and the
//! server records it as stopped then. Reboots are known from the ones this server has heard
//! since it started.
//!
//! Memory: an ISP of 10^6 subscribers has about as many open sessions, so a session is kept
//! in 48 bytes beside its customer's entry: its `acctuniqueid` as the 16 bytes it encodes
//! ([`SessionKey`]), its router as an index into the routers heard, its start and its
//! bytes. A customer's list of sessions holds one until a second opens.
//!
//! On PostgreSQL, sessions recorded by another node (or by FreeRADIUS) reach it from the
//! session log (`apply_logged`, driven by `state`'s follower): they count for simultaneous
//! use. Their growth does not: a capped customer's usage through another node reaches this
//! one from the database's sum when the account is read again, which the usage watcher
//! brings about whenever a step, the cap or a new period changes the customer's standing.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use md5::{Digest as _, Md5};

use store::aaa::SessionEvent;
use store::accounting::{AcctKind, AcctRecord, Closed};

/// How long a stopped session is remembered against a late Interim-Update.
pub const REMEMBER_STOPS: Duration = Duration::from_secs(3600);

/// The open sessions (see the module documentation).
#[derive(Debug, Default)]
pub struct Sessions {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Per customer: its open sessions.
    open: HashMap<i64, Vec<Open>>,
    /// Per customer: bytes its sessions moved since its account was read.
    grown: HashMap<i64, i64>,
    /// Sessions stopped lately, and in the order they stopped (for forgetting them).
    stopped: HashSet<SessionKey>,
    stopped_order: VecDeque<(Instant, SessionKey)>,
    /// Per router (by the NAS address the records name): its latest Accounting-On or -Off.
    rebooted: HashMap<String, DateTime<Utc>>,
    /// The NAS addresses the sessions name, each once; a session holds its index.
    routers: Routers,
}

/// A session's `acctuniqueid` in 16 bytes: the 32 lower-case hex digits FreeRADIUS and the
/// built-in server make (an MD5) read back into the bytes they spell, and any other id (a
/// seeded or hand-written row) digested with MD5. Two ids have the same key only if they
/// are the same id, short of an MD5 preimage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKey([u8; 16]);

impl SessionKey {
    /// The key of `unique_id`.
    pub fn of(unique_id: &str) -> SessionKey {
        let text = unique_id.as_bytes();
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        if text.len() == 32 {
            let mut bytes = [0u8; 16];
            let spelt = bytes.iter_mut().zip(text.chunks_exact(2)).all(|(b, pair)| {
                match (digit(pair[0]), digit(pair[1])) {
                    (Some(high), Some(low)) => {
                        *b = high << 4 | low;
                        true
                    }
                    _ => false,
                }
            });
            if spelt {
                return SessionKey(bytes);
            }
        }
        SessionKey(Md5::digest(text).into())
    }
}

/// The NAS addresses open sessions name, each kept once with the index sessions hold (an
/// ISP has a few thousand routers at most; the addresses come from routers the server
/// knows, as `Inner::rebooted`'s do).
#[derive(Debug, Default)]
struct Routers {
    index: HashMap<Box<str>, u32>,
}

impl Routers {
    /// The index of `nas_ip`, added if new.
    fn intern(&mut self, nas_ip: &str) -> u32 {
        if let Some(&i) = self.index.get(nas_ip) {
            return i;
        }
        let i = u32::try_from(self.index.len()).unwrap_or(u32::MAX);
        self.index.insert(nas_ip.into(), i);
        i
    }

    /// The index of `nas_ip`, if any session named it.
    fn find(&self, nas_ip: &str) -> Option<u32> {
        self.index.get(nas_ip).copied()
    }
}

#[derive(Debug, Clone)]
struct Open {
    key: SessionKey,
    /// Its router, in [`Inner::routers`].
    nas: u32,
    started: i64,
    /// The session's bytes (up and down) in its latest record; `None` for a session
    /// learnt from another node's log (its next record here is the baseline).
    octets: Option<i64>,
}

impl Sessions {
    /// The sessions `radacct` holds open, read as they arrive.
    pub async fn load(db: &store::Db) -> store::StoreResult<Sessions> {
        let mut inner = Inner::default();
        store::aaa::open_sessions(db.conn(), |s| {
            let nas = inner.routers.intern(&s.nas_ip);
            inner.add(
                s.customer_id,
                Open {
                    key: SessionKey::of(&s.unique_id),
                    nas,
                    started: s.started,
                    octets: Some(s.octets),
                },
            );
        })
        .await?;
        Ok(Sessions {
            inner: RwLock::new(inner),
        })
    }

    /// How many sessions `customer` has open.
    pub fn open_count(&self, customer: i64) -> usize {
        self.read().open.get(&customer).map_or(0, Vec::len)
    }

    /// The bytes `customer`'s sessions moved since its account was read.
    pub fn grown(&self, customer: i64) -> i64 {
        self.read().grown.get(&customer).copied().unwrap_or(0)
    }

    /// The growth of `customers` so far, each started again from zero (their accounts were
    /// just read): the customers that grew, with their bytes.
    pub fn take_growth(&self, customers: &[i64]) -> HashMap<i64, i64> {
        let mut inner = self.write();
        customers
            .iter()
            .filter_map(|c| inner.grown.remove(c).map(|bytes| (*c, bytes)))
            .collect()
    }

    /// How many sessions are open in all.
    pub fn total(&self) -> usize {
        self.read().open.values().map(Vec::len).sum()
    }

    /// Notes router `nas_ip`'s Accounting-On or -Off at `at`, as soon as it arrives.
    pub fn note_reboot(&self, nas_ip: &str, at: DateTime<Utc>) {
        let mut inner = self.write();
        let latest = inner.rebooted.entry(nas_ip.to_owned()).or_insert(at);
        *latest = (*latest).max(at);
    }

    /// When the router's reboot ended `record`'s session, if the session began before the
    /// router's latest Accounting-On or -Off (a Start or update of an earlier boot that
    /// arrived after it).
    pub fn ended_by_reboot(&self, record: &AcctRecord) -> Option<DateTime<Utc>> {
        let started = match record.kind {
            AcctKind::Start => record.at,
            AcctKind::Interim => {
                record.at - chrono::TimeDelta::seconds(record.session_time.unwrap_or(0))
            }
            _ => return None,
        };
        let rebooted = *self.read().rebooted.get(&record.nas_ip)?;
        (started < rebooted).then_some(rebooted)
    }

    /// Applies a record once it is durable.
    pub fn apply(&self, record: &AcctRecord, now: Instant) {
        let mut inner = self.write();
        let octets = record.input_octets.saturating_add(record.output_octets);
        match record.kind {
            AcctKind::Start | AcctKind::Interim => {
                let Some(customer) = record.customer_id else {
                    return;
                };
                let key = SessionKey::of(&record.unique_id);
                if inner.stopped.contains(&key) {
                    return;
                }
                let mut growth = 0;
                if let Some(open) = inner
                    .open
                    .get_mut(&customer)
                    .and_then(|sessions| sessions.iter_mut().find(|s| s.key == key))
                {
                    growth = open.octets.map_or(0, |before| (octets - before).max(0));
                    open.octets = Some(open.octets.map_or(octets, |before| before.max(octets)));
                } else {
                    // A session first seen now (at its Start, or at an update whose Start
                    // was lost): what it moved before is not counted here; the database's
                    // usage, which the watcher reads, has it.
                    let started = record.at.timestamp()
                        - record
                            .session_time
                            .filter(|_| record.kind == AcctKind::Interim)
                            .unwrap_or(0);
                    let nas = inner.routers.intern(&record.nas_ip);
                    inner.add(
                        customer,
                        Open {
                            key,
                            nas,
                            started,
                            octets: Some(octets),
                        },
                    );
                }
                inner.grow(customer, growth);
            }
            AcctKind::Stop => {
                let key = SessionKey::of(&record.unique_id);
                if let Some(customer) = record.customer_id {
                    let before = inner.open.get(&customer).and_then(|sessions| {
                        sessions
                            .iter()
                            .find(|s| s.key == key)
                            .and_then(|s| s.octets)
                    });
                    if let Some(before) = before {
                        inner.grow(customer, (octets - before).max(0));
                    }
                }
                inner.close(record.customer_id, key, now);
            }
            AcctKind::On | AcctKind::Off => {
                let at = record.at.timestamp();
                let Some(nas) = inner.routers.find(&record.nas_ip) else {
                    return;
                };
                inner.open.retain(|_, sessions| {
                    sessions.retain(|s| !(s.nas == nas && s.started <= at));
                    !sessions.is_empty()
                });
            }
        }
    }

    /// Applies another node's (or FreeRADIUS's) session opening or closing, from the
    /// session log. Applying one of this server's own again changes nothing: an open
    /// session stays as it is, a stopped one is not reopened.
    pub fn apply_logged(&self, event: &SessionEvent, now: Instant) {
        let mut inner = self.write();
        let s = &event.session;
        let key = SessionKey::of(&s.unique_id);
        if !event.open {
            inner.close(Some(s.customer_id), key, now);
            return;
        }
        if inner.stopped.contains(&key) {
            return;
        }
        let known = inner
            .open
            .get(&s.customer_id)
            .is_some_and(|sessions| sessions.iter().any(|open| open.key == key));
        if !known {
            let nas = inner.routers.intern(&s.nas_ip);
            inner.add(
                s.customer_id,
                Open {
                    key,
                    nas,
                    started: s.started,
                    octets: None,
                },
            );
        }
    }

    /// Forgets sessions closed elsewhere than by a Stop (the stale sweep).
    pub fn closed(&self, closed: &[Closed], now: Instant) {
        let mut inner = self.write();
        for c in closed {
            inner.close(c.customer_id, SessionKey::of(&c.unique_id), now);
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Inner {
    /// Opens `session` for `customer`. A customer's first session gets a list of one, not
    /// the four a growing list starts with.
    fn add(&mut self, customer: i64, session: Open) {
        self.open
            .entry(customer)
            .or_insert_with(|| Vec::with_capacity(1))
            .push(session);
    }

    fn grow(&mut self, customer: i64, bytes: i64) {
        if bytes > 0 {
            let grown = self.grown.entry(customer).or_default();
            *grown = grown.saturating_add(bytes);
        }
    }

    fn close(&mut self, customer: Option<i64>, key: SessionKey, now: Instant) {
        if let Some(customer) = customer
            && let Some(sessions) = self.open.get_mut(&customer)
        {
            sessions.retain(|s| s.key != key);
            if sessions.is_empty() {
                self.open.remove(&customer);
            }
        }
        self.remember_stop(key, now);
    }

    fn remember_stop(&mut self, key: SessionKey, now: Instant) {
        while let Some((at, _)) = self.stopped_order.front()
            && now.duration_since(*at) > REMEMBER_STOPS
        {
            if let Some((_, old)) = self.stopped_order.pop_front() {
                self.stopped.remove(&old);
            }
        }
        if self.stopped.insert(key) {
            self.stopped_order.push_back((now, key));
        }
    }
}

/// How long a session may go without an update before it is closed as stale, for routers
/// asked to update every `interim`: three intervals, and never less than one interval and
/// two minutes (a router's update may be late by its retransmissions).
pub fn stale_after(interim: Duration) -> Duration {
    (interim * 3).max(interim + Duration::from_secs(120))
}

/// An accounting record for the crate's tests: `kind` of session `unique` (also its
/// Acct-Session-Id) on router `nas` at Unix second `at`, of customer 7 in tenant 1.
#[cfg(test)]
pub(crate) fn test_record(kind: AcctKind, unique: &str, nas: &str, at: i64) -> AcctRecord {
    use chrono::TimeZone as _;
    AcctRecord {
        kind,
        at: Utc.timestamp_opt(at, 0).unwrap(),
        nas_ip: nas.into(),
        session_id: unique.into(),
        unique_id: unique.into(),
        username: "alice".into(),
        nas_port_id: String::new(),
        nas_port_type: String::new(),
        session_time: None,
        input_octets: 0,
        output_octets: 0,
        called_station: String::new(),
        calling_station: String::new(),
        framed_ip: String::new(),
        terminate_cause: String::new(),
        tenant_id: Some(1),
        customer_id: Some(7),
    }
}

#[cfg(test)]
mod tests {
    use super::test_record as record;
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn sessions_open_close_and_a_late_interim_does_not_reopen_one() {
        let now = Instant::now();
        let sessions = Sessions::default();
        sessions.apply(&record(AcctKind::Start, "a", "10.0.0.1", 100), now);
        sessions.apply(&record(AcctKind::Start, "a", "10.0.0.1", 100), now);
        sessions.apply(&record(AcctKind::Interim, "b", "10.0.0.2", 150), now);
        assert_eq!(sessions.open_count(7), 2, "a repeated Start counts once");
        sessions.apply(&record(AcctKind::Stop, "a", "10.0.0.1", 200), now);
        sessions.apply(&record(AcctKind::Interim, "a", "10.0.0.1", 190), now);
        assert_eq!(sessions.open_count(7), 1, "a late Interim does not reopen");
        // Router 10.0.0.2 reboots at 140: its session started at 150 survives; at 160 not.
        sessions.apply(&record(AcctKind::On, "", "10.0.0.2", 140), now);
        assert_eq!(sessions.open_count(7), 1);
        sessions.apply(&record(AcctKind::On, "", "10.0.0.2", 160), now);
        assert_eq!(sessions.open_count(7), 0);
        assert_eq!(sessions.total(), 0);
    }

    #[test]
    fn a_record_of_a_session_begun_before_its_routers_latest_reboot_is_ended_by_it() {
        let sessions = Sessions::default();
        let at = |t: i64| Utc.timestamp_opt(t, 0).unwrap();
        let start = record(AcctKind::Start, "a", "10.0.0.1", 100);
        assert_eq!(sessions.ended_by_reboot(&start), None, "no reboot heard");
        sessions.note_reboot("10.0.0.1", at(120));
        sessions.note_reboot("10.0.0.1", at(110));
        assert_eq!(sessions.ended_by_reboot(&start), Some(at(120)));
        let other_router = record(AcctKind::Start, "b", "10.0.0.2", 100);
        assert_eq!(sessions.ended_by_reboot(&other_router), None);
        let after = record(AcctKind::Start, "c", "10.0.0.1", 120);
        assert_eq!(
            sessions.ended_by_reboot(&after),
            None,
            "started with the reboot"
        );
        // An update at 130 of a session 40 s old began at 90, before the reboot.
        let update = AcctRecord {
            session_time: Some(40),
            ..record(AcctKind::Interim, "d", "10.0.0.1", 130)
        };
        assert_eq!(sessions.ended_by_reboot(&update), Some(at(120)));
        let stopped = update.stopped_by_reboot(at(120));
        assert_eq!(stopped.kind, AcctKind::Stop);
        assert_eq!((stopped.at, stopped.session_time), (at(120), Some(30)));
        assert_eq!(stopped.terminate_cause, "NAS-Reboot");
        let stop = record(AcctKind::Stop, "a", "10.0.0.1", 100);
        assert_eq!(sessions.ended_by_reboot(&stop), None, "a Stop is itself");
    }

    #[test]
    fn the_growth_of_each_session_counts_once_until_the_account_is_read_again() {
        let now = Instant::now();
        let sessions = Sessions::default();
        let with = |kind, unique: &str, bytes: i64| AcctRecord {
            input_octets: bytes / 2,
            output_octets: bytes - bytes / 2,
            ..record(kind, unique, "10.0.0.1", 100)
        };
        sessions.apply(&with(AcctKind::Start, "a", 0), now);
        sessions.apply(&with(AcctKind::Interim, "a", 1_000), now);
        sessions.apply(&with(AcctKind::Interim, "a", 1_000), now);
        // First seen at an update: its bytes so far are not growth.
        sessions.apply(&with(AcctKind::Interim, "b", 5_000), now);
        sessions.apply(&with(AcctKind::Interim, "b", 5_500), now);
        assert_eq!(sessions.grown(7), 1_500, "a repeated update adds nothing");
        sessions.apply(&with(AcctKind::Stop, "a", 3_000), now);
        assert_eq!(sessions.grown(7), 3_500);
        sessions.apply(&with(AcctKind::Stop, "a", 3_000), now);
        assert_eq!(sessions.grown(7), 3_500, "a repeated Stop adds nothing");
        assert_eq!(sessions.take_growth(&[7, 8]), HashMap::from([(7, 3_500)]));
        assert_eq!(sessions.grown(7), 0);
        sessions.apply(&with(AcctKind::Interim, "b", 6_000), now);
        assert_eq!(sessions.grown(7), 500);
    }

    #[test]
    fn a_session_key_reads_an_md5_back_into_its_bytes_and_digests_any_other_id() {
        let hex = "0123456789abcdef0011223344556677";
        assert_eq!(
            SessionKey::of(hex).0,
            [
                0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                0x66, 0x77
            ]
        );
        // Upper case, or one digit short, is another id: digested, so not equal to it.
        assert_ne!(SessionKey::of(hex), SessionKey::of(&hex.to_uppercase()));
        assert_ne!(SessionKey::of(hex), SessionKey::of(&hex[..31]));
        let digested: [u8; 16] = Md5::digest(b"seed-7-0").into();
        assert_eq!(SessionKey::of("seed-7-0").0, digested);
        assert_ne!(SessionKey::of("seed-7-0"), SessionKey::of("seed-7-1"));
        assert_eq!(SessionKey::of(""), SessionKey::of(""));
    }

    #[test]
    fn a_session_is_kept_in_48_bytes_and_a_customers_first_in_a_list_of_one() {
        assert!(
            std::mem::size_of::<Open>() <= 48,
            "{}",
            std::mem::size_of::<Open>()
        );
        let sessions = Sessions::default();
        let now = Instant::now();
        sessions.apply(&record(AcctKind::Start, "a", "10.0.0.1", 100), now);
        assert_eq!(sessions.read().open[&7].capacity(), 1);
        sessions.apply(&record(AcctKind::Start, "b", "10.0.0.1", 100), now);
        assert_eq!(sessions.open_count(7), 2);
        // An Accounting-On of a router no session names closes nothing.
        sessions.apply(&record(AcctKind::On, "", "10.9.9.9", 500), now);
        assert_eq!(sessions.open_count(7), 2);
        assert_eq!(sessions.read().routers.index.len(), 1);
    }

    #[test]
    fn a_session_is_stale_after_three_intervals_and_never_sooner_than_one_and_two_minutes() {
        assert_eq!(
            stale_after(Duration::from_secs(300)),
            Duration::from_secs(900)
        );
        assert_eq!(
            stale_after(Duration::from_secs(30)),
            Duration::from_secs(150)
        );
    }
}
