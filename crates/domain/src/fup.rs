//! Fair usage: what a package's volume cap and its FUP steps make of a subscriber's usage in
//! its current period (`customer::usage_period`). A step slows the subscriber once the period's
//! bytes (up and down together) pass its mark; the cap refuses it once they reach the volume.
//! The AAA decision takes the rate and the remaining volume from here; the usage watcher
//! compares a subscriber's [`Level`] with the one it last enforced and sends the change to
//! live sessions (a CoA with the new rate, a disconnect at the cap).

use serde::{Deserialize, Serialize};

use crate::field::{FieldError, FieldErrors};
use crate::package::{RATE_MAX_KBPS, RATE_MIN_KBPS, RateLimit, VOLUME_MAX_BYTES};

/// Steps a package may have.
pub const MOST_STEPS: usize = 8;

/// One step: from `after_bytes` used in the period on, this rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FupStep {
    /// Bytes used in the period (up and down) from which the step applies.
    pub after_bytes: i64,
    /// Download, kbit/s.
    pub download_kbps: u32,
    /// Upload, kbit/s.
    pub upload_kbps: u32,
}

impl FupStep {
    /// The step's speed (no burst).
    pub fn rate(&self) -> RateLimit {
        RateLimit {
            down_kbps: self.download_kbps,
            up_kbps: self.upload_kbps,
            burst: None,
        }
    }
}

/// A step as given, unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct FupStepInput {
    /// Bytes from which the step applies.
    pub after_bytes: i64,
    /// Download, kbit/s.
    pub download_kbps: i64,
    /// Upload, kbit/s.
    pub upload_kbps: i64,
}

/// A package's FUP steps, checked: marks rising, each step no faster than the one before
/// (nor than the package), all below the volume cap if there is one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Fup(Vec<FupStep>);

impl Fup {
    /// No steps.
    pub const fn none() -> Fup {
        Fup(Vec::new())
    }

    /// Checks `steps` for a package of speed `base` and cap `volume`. Errors name the field
    /// `fup` with the step's position (`step`, from 1).
    pub fn parse(
        steps: &[FupStepInput],
        base: &RateLimit,
        volume: Option<i64>,
    ) -> Result<Fup, FieldErrors> {
        if steps.len() > MOST_STEPS {
            return Err(FieldErrors::one(
                FieldError::new("fup", "too_many_steps").with("max", MOST_STEPS),
            ));
        }
        let mut out: Vec<FupStep> = Vec::with_capacity(steps.len());
        for (i, s) in steps.iter().enumerate() {
            let at = |code: &'static str| FieldError::new("fup", code).with("step", i + 1);
            let top = volume.unwrap_or(VOLUME_MAX_BYTES + 1);
            if !(1..top).contains(&s.after_bytes) {
                return Err(FieldErrors::one(
                    at("out_of_range").with("min", 1).with("max", top - 1),
                ));
            }
            let kbps = |k: i64| u32::try_from(k).ok().filter(|k| *k >= RATE_MIN_KBPS);
            let (Some(down), Some(up)) = (kbps(s.download_kbps), kbps(s.upload_kbps)) else {
                return Err(FieldErrors::one(
                    at("rate_out_of_range")
                        .with("min", RATE_MIN_KBPS)
                        .with("max", RATE_MAX_KBPS),
                ));
            };
            let (above_down, above_up, above_mark) = match out.last() {
                Some(p) => (p.download_kbps, p.upload_kbps, p.after_bytes),
                None => (base.down_kbps, base.up_kbps, 0),
            };
            if s.after_bytes <= above_mark {
                return Err(FieldErrors::one(at("not_rising")));
            }
            if down > above_down || up > above_up {
                return Err(FieldErrors::one(at("not_slower")));
            }
            out.push(FupStep {
                after_bytes: s.after_bytes,
                download_kbps: down,
                upload_kbps: up,
            });
        }
        Ok(Fup(out))
    }

    /// The steps, by rising mark.
    pub fn steps(&self) -> &[FupStep] {
        &self.0
    }

    /// No step at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The stored form (JSON; empty text for no steps).
    pub fn to_stored(&self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        serde_json::to_string(&self.0).unwrap_or_default()
    }

    /// The steps as stored (written by [`Fup::to_stored`] from checked steps).
    pub fn from_stored(text: &str) -> Result<Fup, String> {
        if text.trim().is_empty() {
            return Ok(Fup::none());
        }
        serde_json::from_str::<Vec<FupStep>>(text)
            .map(Fup)
            .map_err(|e| format!("FUP steps: {e}"))
    }
}

/// Where a subscriber stands in its period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// At the package's own speed.
    Full,
    /// Slowed by this many steps (from 1).
    Step(u8),
    /// The volume is used up.
    Exhausted,
}

impl Level {
    /// The code stored: 0 at full speed, the step's number, −1 when used up.
    pub fn code(self) -> i16 {
        match self {
            Level::Full => 0,
            Level::Step(n) => i16::from(n),
            Level::Exhausted => -1,
        }
    }

    /// The level whose code is `code`.
    pub fn from_code(code: i16) -> Option<Level> {
        match code {
            0 => Some(Level::Full),
            -1 => Some(Level::Exhausted),
            n => u8::try_from(n)
                .ok()
                .filter(|n| usize::from(*n) <= MOST_STEPS)
                .map(Level::Step),
        }
    }
}

/// The level of a subscriber that used `used_bytes` of a package with cap `volume` and
/// steps `fup`.
pub fn level(volume: Option<i64>, fup: &Fup, used_bytes: i64) -> Level {
    if volume.is_some_and(|v| used_bytes >= v) {
        return Level::Exhausted;
    }
    let passed = fup
        .steps()
        .iter()
        .take_while(|s| used_bytes >= s.after_bytes)
        .count();
    match u8::try_from(passed) {
        Ok(0) => Level::Full,
        Ok(n) => Level::Step(n),
        Err(_) => Level::Step(u8::MAX),
    }
}

/// The speed of a subscriber that used `used_bytes`: the last step passed, else the
/// package's own.
pub fn rate_at(base: RateLimit, fup: &Fup, used_bytes: i64) -> RateLimit {
    fup.steps()
        .iter()
        .take_while(|s| used_bytes >= s.after_bytes)
        .last()
        .map_or(base, FupStep::rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: i64 = 1_000_000_000;

    fn base() -> RateLimit {
        RateLimit {
            down_kbps: 20_000,
            up_kbps: 10_000,
            burst: None,
        }
    }

    fn step(after: i64, down: i64, up: i64) -> FupStepInput {
        FupStepInput {
            after_bytes: after,
            download_kbps: down,
            upload_kbps: up,
        }
    }

    fn code(result: Result<Fup, FieldErrors>) -> &'static str {
        result.expect_err("refused").0[0].code
    }

    #[test]
    fn steps_must_rise_slow_down_and_stay_under_the_cap() {
        let fup = Fup::parse(
            &[step(50 * GB, 5_000, 5_000), step(80 * GB, 1_000, 1_000)],
            &base(),
            Some(100 * GB),
        )
        .expect("valid");
        assert_eq!(fup.steps().len(), 2);
        let cap = Some(100 * GB);
        let one = |s| Fup::parse(&[s], &base(), cap);
        assert_eq!(code(one(step(100 * GB, 1_000, 1_000))), "out_of_range");
        assert_eq!(code(one(step(0, 1_000, 1_000))), "out_of_range");
        assert_eq!(code(one(step(GB, 0, 1_000))), "rate_out_of_range");
        assert_eq!(code(one(step(GB, 1_000, -5))), "rate_out_of_range");
        assert_eq!(code(one(step(GB, 30_000, 1_000))), "not_slower");
        let two = |a, b| Fup::parse(&[a, b], &base(), cap);
        assert_eq!(
            code(two(
                step(50 * GB, 5_000, 5_000),
                step(50 * GB, 1_000, 1_000)
            )),
            "not_rising"
        );
        assert_eq!(
            code(two(
                step(50 * GB, 5_000, 5_000),
                step(60 * GB, 6_000, 1_000)
            )),
            "not_slower"
        );
        let many = vec![step(GB, 1_000, 1_000); MOST_STEPS + 1];
        assert_eq!(code(Fup::parse(&many, &base(), None)), "too_many_steps");
    }

    #[test]
    fn the_level_and_rate_follow_the_bytes_used() {
        let fup = Fup::parse(
            &[step(50 * GB, 5_000, 5_000), step(80 * GB, 1_000, 1_000)],
            &base(),
            Some(100 * GB),
        )
        .expect("valid");
        let cap = Some(100 * GB);
        let cases = [
            (0, Level::Full, 20_000),
            (50 * GB - 1, Level::Full, 20_000),
            (50 * GB, Level::Step(1), 5_000),
            (80 * GB, Level::Step(2), 1_000),
            (100 * GB - 1, Level::Step(2), 1_000),
            (100 * GB, Level::Exhausted, 1_000),
        ];
        for (used, expected, down) in cases {
            assert_eq!(level(cap, &fup, used), expected, "{used}");
            assert_eq!(rate_at(base(), &fup, used).down_kbps, down, "{used}");
        }
        assert_eq!(level(None, &Fup::none(), i64::MAX), Level::Full);
    }

    #[test]
    fn steps_and_levels_survive_storage() {
        let fup = Fup::parse(&[step(GB, 1_000, 500)], &base(), None).expect("valid");
        assert_eq!(Fup::from_stored(&fup.to_stored()), Ok(fup));
        assert_eq!(Fup::none().to_stored(), "");
        assert_eq!(Fup::from_stored(""), Ok(Fup::none()));
        assert!(Fup::from_stored("[{").is_err());
        for l in [
            Level::Full,
            Level::Step(1),
            Level::Step(8),
            Level::Exhausted,
        ] {
            assert_eq!(Level::from_code(l.code()), Some(l));
        }
        assert_eq!(Level::from_code(9), None);
        assert_eq!(Level::from_code(-2), None);
    }
}
