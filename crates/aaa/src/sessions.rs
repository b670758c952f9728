//! The customers' open sessions, in memory: what the built-in server counts for
//! simultaneous use, so that no login asks `radacct` (aaa-design.md §3). Loaded at start
//! from `radacct`'s open rows tied to a customer, then kept by the accounting this server
//! has made durable: a Start or Interim-Update opens a session, a Stop closes it,
//! Accounting-On/Off closes the router's sessions that started before it. A late
//! Interim-Update of a session already stopped does not reopen it (stops are remembered
//! for [`REMEMBER_STOPS`]).
//!
//! Sessions recorded by another node or by FreeRADIUS are not seen here until a restart.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use store::aaa::OpenSession;
use store::accounting::{AcctKind, AcctRecord};

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
    /// Sessions stopped lately, and in the order they stopped (for forgetting them).
    stopped: HashSet<String>,
    stopped_order: VecDeque<(Instant, String)>,
}

#[derive(Debug, Clone)]
struct Open {
    unique_id: String,
    nas_ip: String,
    started: i64,
}

impl Sessions {
    /// The sessions `radacct` holds open.
    pub fn load(open: Vec<OpenSession>) -> Sessions {
        let mut inner = Inner::default();
        for s in open {
            inner.open.entry(s.customer_id).or_default().push(Open {
                unique_id: s.unique_id,
                nas_ip: s.nas_ip,
                started: s.started,
            });
        }
        Sessions {
            inner: RwLock::new(inner),
        }
    }

    /// How many sessions `customer` has open.
    pub fn open_count(&self, customer: i64) -> usize {
        self.read().open.get(&customer).map_or(0, Vec::len)
    }

    /// How many sessions are open in all.
    pub fn total(&self) -> usize {
        self.read().open.values().map(Vec::len).sum()
    }

    /// Applies a record once it is durable.
    pub fn apply(&self, record: &AcctRecord, now: Instant) {
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match record.kind {
            AcctKind::Start | AcctKind::Interim => {
                let Some(customer) = record.customer_id else {
                    return;
                };
                if inner.stopped.contains(&record.unique_id) {
                    return;
                }
                let sessions = inner.open.entry(customer).or_default();
                if !sessions.iter().any(|s| s.unique_id == record.unique_id) {
                    let started = record.at.timestamp()
                        - record
                            .session_time
                            .filter(|_| record.kind == AcctKind::Interim)
                            .unwrap_or(0);
                    sessions.push(Open {
                        unique_id: record.unique_id.clone(),
                        nas_ip: record.nas_ip.clone(),
                        started,
                    });
                }
            }
            AcctKind::Stop => {
                if let Some(customer) = record.customer_id
                    && let Some(sessions) = inner.open.get_mut(&customer)
                {
                    sessions.retain(|s| s.unique_id != record.unique_id);
                    if sessions.is_empty() {
                        inner.open.remove(&customer);
                    }
                }
                inner.remember_stop(record.unique_id.clone(), now);
            }
            AcctKind::On | AcctKind::Off => {
                let at = record.at.timestamp();
                inner.open.retain(|_, sessions| {
                    sessions.retain(|s| !(s.nas_ip == record.nas_ip && s.started <= at));
                    !sessions.is_empty()
                });
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Inner {
    fn remember_stop(&mut self, unique_id: String, now: Instant) {
        while let Some((at, _)) = self.stopped_order.front()
            && now.duration_since(*at) > REMEMBER_STOPS
        {
            if let Some((_, old)) = self.stopped_order.pop_front() {
                self.stopped.remove(&old);
            }
        }
        if self.stopped.insert(unique_id.clone()) {
            self.stopped_order.push_back((now, unique_id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn record(kind: AcctKind, unique: &str, nas: &str, at: i64) -> AcctRecord {
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
}
