//! Traffic graphs (reference §2.15, without RRDtool): how the bytes a session's records
//! report become buckets of fixed width, kept in rings, and how a period's buckets become
//! a series of rates with its average and maximum.
//!
//! - A record's growth covers the seconds since the session's previous record; it is
//!   [`spread`] over the buckets those seconds overlap, in proportion, so that an update
//!   every ten minutes draws a steady line rather than a spike every other bucket (over a
//!   ring's `reach` at most).
//! - A [`Ring`] holds a bucket per slot, its slot the bucket's time modulo the ring: the
//!   five-minute ring covers two days, the hourly one 32 days (a month's graph and the
//!   hour in progress). A bucket replaces the one a ring ago in its slot; a slot holding
//!   an older bucket reads as empty.
//! - A [`Period`] names a graph: the last hour and day from five-minute buckets, the last
//!   week and month from hourly ones. Its [`Series`] ends at the start of the bucket in
//!   progress (a bucket still filling would read as a drop) and fills a bucket nothing was
//!   recorded in with zero.
//!
//! Download is what the router sent the subscriber (Acct-Output-Octets), upload what it
//! received (Acct-Input-Octets).

/// A ring of buckets: their width and how many are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ring {
    /// A bucket's width, seconds.
    pub step: i64,
    /// Buckets kept.
    pub slots: i64,
    /// Buckets one record's growth is spread over at most (see [`spread`]).
    pub reach: i64,
}

/// Five-minute buckets for two days.
pub const FINE: Ring = Ring {
    step: 300,
    slots: 576,
    reach: 12,
};

/// Hourly buckets for 32 days.
pub const COARSE: Ring = Ring {
    step: 3600,
    slots: 768,
    reach: 24,
};

/// The rings every delta is spread into.
pub const RINGS: [Ring; 2] = [FINE, COARSE];

impl Ring {
    /// The start of the bucket holding second `at`.
    pub fn bucket(&self, at: i64) -> i64 {
        at.div_euclid(self.step) * self.step
    }

    /// The slot of the bucket starting at `bucket`.
    pub fn slot(&self, bucket: i64) -> i64 {
        bucket.div_euclid(self.step).rem_euclid(self.slots)
    }

    /// The seconds the ring covers.
    pub fn span(&self) -> i64 {
        self.step * self.slots
    }
}

/// Bytes in one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bytes {
    /// From the subscriber (upload).
    pub input: i64,
    /// To the subscriber (download).
    pub output: i64,
}

/// `input` and `output` bytes that grew over the seconds from `since` to `until`, spread
/// over `ring`'s buckets in proportion to the seconds of each they cover; whatever the
/// division leaves goes to the last bucket, so the parts add up to the whole. Growth with no
/// seconds (a first record, or two in the same second) goes to `until`'s bucket. Growth over
/// more than the ring's `reach` (an hour of five-minute buckets, a day of hourly ones)
/// is spread over the last `reach` buckets: every byte is kept, and a record costs a bounded
/// number of writes whatever gap it closes (a session first heard of after weeks, a router
/// that stopped sending updates), where the rate it was used at is not known anyway.
/// Returns `(bucket start, bytes)`, oldest first.
pub fn spread(ring: Ring, since: i64, until: i64, input: i64, output: i64) -> Vec<(i64, Bytes)> {
    let (input, output) = (input.max(0), output.max(0));
    let last = ring.bucket(until);
    // The oldest bucket the growth may reach.
    let since = since
        .max(last - (ring.reach.max(1) - 1) * ring.step)
        .min(until);
    let first = ring.bucket(since);
    let seconds = until - since;
    if seconds <= 0 || first == last {
        return vec![(last, Bytes { input, output })];
    }
    let mut out = Vec::with_capacity(usize::try_from((last - first) / ring.step + 1).unwrap_or(1));
    let (mut given_in, mut given_out) = (0i64, 0i64);
    let mut bucket = first;
    while bucket < last {
        let covered = (bucket + ring.step).min(until) - since.max(bucket);
        let part_in = share(input, covered, seconds);
        let part_out = share(output, covered, seconds);
        given_in += part_in;
        given_out += part_out;
        out.push((
            bucket,
            Bytes {
                input: part_in,
                output: part_out,
            },
        ));
        bucket += ring.step;
    }
    out.push((
        last,
        Bytes {
            input: input - given_in,
            output: output - given_out,
        },
    ));
    out
}

/// `total × part / whole`, rounded down, without overflow.
fn share(total: i64, part: i64, whole: i64) -> i64 {
    let value = i128::from(total) * i128::from(part) / i128::from(whole.max(1));
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A graph's period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// The last hour, five-minute buckets.
    Hour,
    /// The last day, five-minute buckets.
    Day,
    /// The last week, hourly buckets.
    Week,
    /// The last 30 days, hourly buckets.
    Month,
}

impl Period {
    /// Every period, shortest first.
    pub const ALL: [Period; 4] = [Period::Hour, Period::Day, Period::Week, Period::Month];

    /// Its name in URLs and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Hour => "hour",
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// The period named `name`.
    pub fn parse(name: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The ring its buckets come from.
    pub fn ring(self) -> Ring {
        match self {
            Period::Hour | Period::Day => FINE,
            Period::Week | Period::Month => COARSE,
        }
    }

    /// The seconds it covers.
    pub fn seconds(self) -> i64 {
        match self {
            Period::Hour => 3_600,
            Period::Day => 86_400,
            Period::Week => 7 * 86_400,
            Period::Month => 30 * 86_400,
        }
    }

    /// The buckets `[from, to)` of this period drawn at `now`: it ends where the bucket in
    /// progress starts.
    pub fn window(self, now: i64) -> (i64, i64) {
        let to = self.ring().bucket(now);
        (to - self.seconds(), to)
    }
}

/// One point of a graph: a bucket's rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// The bucket's start, Unix seconds.
    pub at: i64,
    /// Download, bits per second.
    pub down_bps: u64,
    /// Upload, bits per second.
    pub up_bps: u64,
}

/// The average and maximum of one direction over a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Bits per second over the whole period.
    pub average_bps: u64,
    /// The busiest bucket's bits per second.
    pub max_bps: u64,
    /// Bytes over the whole period.
    pub bytes: u64,
}

/// A period's graph data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    /// The period.
    pub period: Period,
    /// A bucket's width, seconds.
    pub step: i64,
    /// The first bucket's start.
    pub from: i64,
    /// The end of the last bucket.
    pub to: i64,
    /// A point per bucket, oldest first.
    pub points: Vec<Rate>,
    /// Download.
    pub down: Stats,
    /// Upload.
    pub up: Stats,
}

/// The series of `period` at `now` from the stored buckets `stored` (`(bucket start,
/// bytes)`, in any order; those outside the window are ignored).
pub fn series(period: Period, now: i64, stored: &[(i64, Bytes)]) -> Series {
    let ring = period.ring();
    let (from, to) = period.window(now);
    let count = usize::try_from((to - from) / ring.step).unwrap_or(0);
    let mut buckets = vec![Bytes::default(); count];
    for (at, bytes) in stored {
        if *at < from || *at >= to || at.rem_euclid(ring.step) != 0 {
            continue;
        }
        if let Some(bucket) = usize::try_from((at - from) / ring.step)
            .ok()
            .and_then(|i| buckets.get_mut(i))
        {
            bucket.input = bucket.input.saturating_add(bytes.input.max(0));
            bucket.output = bucket.output.saturating_add(bytes.output.max(0));
        }
    }
    let step = u64::try_from(ring.step).unwrap_or(1);
    let bps = |bytes: i64| u64::try_from(bytes.max(0)).unwrap_or(0).saturating_mul(8) / step;
    let points: Vec<Rate> = buckets
        .iter()
        .zip((0..).map(|i| from + i * ring.step))
        .map(|(b, at)| Rate {
            at,
            down_bps: bps(b.output),
            up_bps: bps(b.input),
        })
        .collect();
    let total = |pick: fn(&Bytes) -> i64| {
        buckets
            .iter()
            .map(|b| u64::try_from(pick(b).max(0)).unwrap_or(0))
            .fold(0u64, u64::saturating_add)
    };
    let seconds = u64::try_from(period.seconds()).unwrap_or(1);
    let stats = |bytes: u64, max: u64| Stats {
        average_bps: bytes.saturating_mul(8) / seconds,
        max_bps: max,
        bytes,
    };
    let (down_bytes, up_bytes) = (total(|b| b.output), total(|b| b.input));
    Series {
        period,
        step: ring.step,
        from,
        to,
        down: stats(
            down_bytes,
            points.iter().map(|p| p.down_bps).max().unwrap_or(0),
        ),
        up: stats(up_bytes, points.iter().map(|p| p.up_bps).max().unwrap_or(0)),
        points,
    }
}

/// A rate as people read it: `0 bit/s`, `950 bit/s`, `12.5 kbit/s`, `3.20 Mbit/s`,
/// `1.05 Gbit/s` (decimal prefixes, as links are sold), three significant digits.
pub fn format_bps(bps: u64) -> String {
    const UNITS: [&str; 5] = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"];
    let mut value = bps as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let text = if unit == 0 || value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    };
    format!("{text} {}", UNITS[unit])
}

#[cfg(test)]
#[path = "traffic_tests.rs"]
mod tests;
