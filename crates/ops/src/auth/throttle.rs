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

    /// Starts an attempt under `keys` at `now`: refused with how long to wait when a key has
    /// reached the limit, else counted at once as a failure, so that attempts running
    /// concurrently cannot all pass the limit. A successful attempt is taken back with
    /// [`Throttle::forgive`].
    pub fn attempt(&self, keys: &[String], now: Instant) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
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
        if let Some(wait) = wait {
            return Err(wait);
        }
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
            times.push_back(now);
        }
        Ok(())
    }

    /// Takes back the attempt started at `at` under `keys` (it succeeded, or failed for a
    /// reason that is not the caller's), and clears the failures of `clear` (the account
    /// that signed in).
    pub fn forgive(&self, keys: &[String], at: Instant, clear: Option<&str>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for key in keys {
            if let Some(times) = state.get_mut(key)
                && let Some(index) = times.iter().rposition(|t| *t == at)
            {
                times.remove(index);
            }
        }
        if let Some(key) = clear {
            state.remove(key);
        }
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

    fn keys(account: &str, ip: &str) -> [String; 2] {
        [format!("account:{account}"), format!("ip:{ip}")]
    }

    #[test]
    fn the_eleventh_wrong_try_in_a_minute_is_refused_and_the_minute_after_is_not() {
        let throttle = Throttle::new(10);
        let start = Instant::now();
        for i in 0..10 {
            assert_eq!(
                throttle.attempt(&keys("a", "10.0.0.1"), start),
                Ok(()),
                "try {}",
                i + 1
            );
        }
        assert!(throttle.attempt(&keys("a", "10.0.0.1"), start).is_err());
        // Another account from the same address is refused too; the same account elsewhere too.
        assert!(throttle.attempt(&keys("b", "10.0.0.1"), start).is_err());
        assert!(throttle.attempt(&keys("a", "10.0.0.2"), start).is_err());
        assert_eq!(
            throttle.attempt(&keys("a", "10.0.0.1"), start + WINDOW),
            Ok(())
        );
    }

    #[test]
    fn attempts_count_when_they_start_so_concurrent_ones_cannot_pass_the_limit() {
        let throttle = Throttle::new(3);
        let now = Instant::now();
        // Three attempts in flight at once: the fourth is refused before any has finished.
        for _ in 0..3 {
            assert!(throttle.attempt(&keys("a", "10.0.0.1"), now).is_ok());
        }
        assert!(throttle.attempt(&keys("a", "10.0.0.1"), now).is_err());
    }

    #[test]
    fn a_sign_in_is_forgiven_and_clears_the_account_but_not_the_address() {
        let throttle = Throttle::new(2);
        let now = Instant::now();
        let later = now + Duration::from_secs(1);
        throttle.attempt(&keys("a", "10.0.0.1"), now).unwrap();
        throttle.attempt(&keys("a", "10.0.0.1"), later).unwrap();
        throttle.forgive(&keys("a", "10.0.0.1"), later, Some("account:a"));
        // The account starts again; the address keeps its one wrong try, and one more
        // brings it to the limit.
        assert_eq!(throttle.attempt(&keys("a", "10.0.0.1"), later), Ok(()));
        assert!(throttle.attempt(&["ip:10.0.0.1".into()], later).is_err());
        assert_eq!(throttle.attempt(&["account:a".into()], later), Ok(()));
    }
}
