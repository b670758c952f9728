//! The sign-in throttle: wrong sign-ins are counted per account and per client address over
//! a sliding minute, and once either has reached the limit, further attempts are refused
//! (HTTP 429) before any password is hashed. A successful sign-in clears its account's count.
//!
//! The state is in memory, per node, and bounded: past [`MAX_KEYS`] tracked keys the oldest
//! are dropped.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most keys tracked at once.
pub const MAX_KEYS: usize = 100_000;
const WINDOW: Duration = Duration::from_secs(60);

/// Failure counts by key (`account:<email>`, `ip:<address>`).
#[derive(Debug)]
pub struct Throttle {
    limit: usize,
    state: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Throttle {
    /// A throttle allowing `limit` failures per key per minute (0 disables it).
    pub fn new(limit: u32) -> Self {
        Self {
            limit: limit as usize,
            state: Mutex::new(HashMap::new()),
        }
    }

    /// `None` if an attempt under `keys` may go ahead, or how long until it may.
    pub fn check(&self, keys: &[String], now: Instant) -> Option<Duration> {
        if self.limit == 0 {
            return None;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = None;
        for key in keys {
            if let Some(times) = state.get_mut(key) {
                prune(times, now);
                if times.len() >= self.limit {
                    let until = times
                        .front()
                        .map(|t| (*t + WINDOW).saturating_duration_since(now));
                    wait = wait.max(until.or(Some(WINDOW)));
                }
            }
        }
        wait
    }

    /// Counts a failed attempt under every key.
    pub fn failed(&self, keys: &[String], now: Instant) {
        if self.limit == 0 {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.len() >= MAX_KEYS {
            state.retain(|_, times| {
                prune(times, now);
                !times.is_empty()
            });
            if state.len() >= MAX_KEYS {
                state.clear();
            }
        }
        for key in keys {
            let times = state.entry(key.clone()).or_default();
            prune(times, now);
            times.push_back(now);
            while times.len() > self.limit {
                times.pop_front();
            }
        }
    }

    /// Clears a key's failures (the account signed in).
    pub fn succeeded(&self, key: &str) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.remove(key);
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_wrong_try_in_a_minute_is_refused_and_the_minute_after_is_not() {
        let throttle = Throttle::new(10);
        let keys = ["account:a@example.com".to_owned(), "ip:10.0.0.1".to_owned()];
        let start = Instant::now();
        for i in 0..10 {
            assert_eq!(throttle.check(&keys, start), None, "try {}", i + 1);
            throttle.failed(&keys, start);
        }
        assert!(throttle.check(&keys, start).is_some());
        // Another account from the same address is refused too; the same account elsewhere too.
        assert!(
            throttle
                .check(
                    &["account:b@example.com".into(), "ip:10.0.0.1".into()],
                    start
                )
                .is_some()
        );
        assert!(
            throttle
                .check(
                    &["account:a@example.com".into(), "ip:10.0.0.2".into()],
                    start
                )
                .is_some()
        );
        assert_eq!(throttle.check(&keys, start + WINDOW), None);
    }

    #[test]
    fn a_sign_in_clears_the_account_but_not_the_address() {
        let throttle = Throttle::new(2);
        let keys = ["account:a@example.com".to_owned(), "ip:10.0.0.1".to_owned()];
        let now = Instant::now();
        throttle.failed(&keys, now);
        throttle.failed(&keys, now);
        throttle.succeeded("account:a@example.com");
        assert_eq!(throttle.check(&["account:a@example.com".into()], now), None);
        assert!(throttle.check(&["ip:10.0.0.1".into()], now).is_some());
    }
}
