//! The clock: the one place the server reads the time. Domain functions take `now` as a
//! parameter; handlers and jobs get it from here. A clock can be shifted forward, which the
//! integration tests use to let sessions and jobs come due without waiting, or stand still
//! at a fixed instant, which lets a test predict every amount that depends on the minute.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeDelta, Utc};

/// The wall clock, plus a shift.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    shift_seconds: Arc<AtomicI64>,
    /// The instant it stands at, shift aside; `None` for the wall clock.
    fixed: Option<DateTime<Utc>>,
}

impl Clock {
    /// The wall clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands at `at` until it is shifted.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self {
            fixed: Some(at),
            ..Self::default()
        }
    }

    /// Now, in UTC.
    #[allow(clippy::disallowed_methods)] // the edge where the clock is read
    pub fn now(&self) -> DateTime<Utc> {
        self.fixed.unwrap_or_else(Utc::now)
            + TimeDelta::seconds(self.shift_seconds.load(Ordering::Relaxed))
    }

    /// Moves this clock (and its clones) forward by `seconds`.
    pub fn shift(&self, seconds: i64) {
        self.shift_seconds.fetch_add(seconds, Ordering::Relaxed);
    }
}
