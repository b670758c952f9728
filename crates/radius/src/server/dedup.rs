//! The duplicate-request cache (RFC 5080 §2.2.2): a request from the same source with the
//! same identifier and Request Authenticator, within a time window, is a retransmission. If
//! its reply is known it is sent again; while it is being handled the duplicate is dropped.
//! The handler is never called twice for one request.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// What identifies a request for duplicate detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestKey {
    /// Source address and port.
    pub source: SocketAddr,
    /// Identifier.
    pub identifier: u8,
    /// Request Authenticator.
    pub authenticator: [u8; 16],
}

/// What the cache knows of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// First time: handle it.
    New,
    /// A duplicate of a request still being handled: drop it.
    InProgress,
    /// A duplicate of a request already answered: send this reply again.
    Answered(Arc<[u8]>),
}

#[derive(Debug)]
struct Entry {
    reply: Option<Arc<[u8]>>,
    since: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<RequestKey, Entry>,
    order: VecDeque<(RequestKey, Instant)>,
}

/// A bounded, time-limited cache of requests and their replies.
#[derive(Debug)]
pub struct DedupCache {
    inner: Mutex<Inner>,
    window: Duration,
    capacity: usize,
}

impl DedupCache {
    /// A cache that remembers requests for `window`, and at most `capacity` of them.
    pub fn new(window: Duration, capacity: usize) -> DedupCache {
        DedupCache {
            inner: Mutex::new(Inner::default()),
            window,
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Looks a request up, recording it as in progress when it is new.
    pub fn check(&self, key: RequestKey, now: Instant) -> Seen {
        let mut inner = self.lock();
        self.expire(&mut inner, now);
        if let Some(entry) = inner.entries.get(&key) {
            return match &entry.reply {
                Some(reply) => Seen::Answered(Arc::clone(reply)),
                None => Seen::InProgress,
            };
        }
        inner.entries.insert(
            key,
            Entry {
                reply: None,
                since: now,
            },
        );
        inner.order.push_back((key, now));
        Seen::New
    }

    /// Records the reply sent to a request.
    pub fn answered(&self, key: RequestKey, reply: Arc<[u8]>) {
        if let Some(entry) = self.lock().entries.get_mut(&key) {
            entry.reply = Some(reply);
        }
    }

    /// Forgets a request that got no reply, so that its retransmission is handled afresh.
    pub fn forget(&self, key: &RequestKey) {
        self.lock().entries.remove(key);
    }

    /// The number of requests remembered.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn expire(&self, inner: &mut Inner, now: Instant) {
        while let Some(&(key, since)) = inner.order.front() {
            let expired = now.duration_since(since) >= self.window;
            if !expired && inner.order.len() < self.capacity {
                break;
            }
            inner.order.pop_front();
            // Remove only if the entry is this insertion (not a later one with the same key).
            if inner.entries.get(&key).is_some_and(|e| e.since == since) {
                inner.entries.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(identifier: u8) -> RequestKey {
        RequestKey {
            source: "127.0.0.1:5000".parse().unwrap(),
            identifier,
            authenticator: [identifier; 16],
        }
    }

    #[test]
    fn a_retransmission_gets_the_cached_reply() {
        let cache = DedupCache::new(Duration::from_secs(5), 100);
        let now = Instant::now();
        assert_eq!(cache.check(key(1), now), Seen::New);
        assert_eq!(cache.check(key(1), now), Seen::InProgress);
        cache.answered(key(1), Arc::from(&b"reply"[..]));
        assert_eq!(
            cache.check(key(1), now),
            Seen::Answered(Arc::from(&b"reply"[..]))
        );
        assert_eq!(cache.check(key(2), now), Seen::New);
    }

    #[test]
    fn entries_expire_after_the_window_and_beyond_capacity() {
        let cache = DedupCache::new(Duration::from_secs(5), 2);
        let now = Instant::now();
        cache.check(key(1), now);
        cache.answered(key(1), Arc::from(&b"r"[..]));
        assert_eq!(cache.check(key(1), now + Duration::from_secs(6)), Seen::New);
        cache.check(key(2), now + Duration::from_secs(6));
        cache.check(key(3), now + Duration::from_secs(6));
        assert!(cache.len() <= 2);
    }

    #[test]
    fn a_forgotten_request_is_new_again() {
        let cache = DedupCache::new(Duration::from_secs(5), 10);
        let now = Instant::now();
        cache.check(key(1), now);
        cache.forget(&key(1));
        assert_eq!(cache.check(key(1), now), Seen::New);
    }
}
