//! One-time codes sent by SMS (hotspot-design §4.3), the rules: six digits drawn evenly
//! from the caller's CSPRNG, alive five minutes, dead after five wrong tries or one right
//! one, bound to what they were asked for; a number gets one every minute at most and five
//! an hour. Only a keyed hash of a code is kept (`store`); comparing hashes takes the same
//! time whatever they hold.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// Digits in a code.
pub const DIGITS: usize = 6;

/// How long a code lives.
pub const TTL: TimeDelta = TimeDelta::minutes(5);

/// Wrong tries that kill a code.
pub const MAX_TRIES: u32 = 5;

/// The least time between two codes to one number.
pub const COOLDOWN: TimeDelta = TimeDelta::seconds(60);

/// Codes one number may be sent in an hour.
pub const PER_HOUR: usize = 5;

/// What a code is for: a code asked for one thing opens nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Signing in to the portal or the customer's own pages.
    SignIn,
    /// Binding a new device (a new or rotated MAC) to an account.
    BindDevice,
    /// The one free trial of a mobile number.
    Trial,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 3] = [Purpose::SignIn, Purpose::BindDevice, Purpose::Trial];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::SignIn => "sign_in",
            Purpose::BindDevice => "bind_device",
            Purpose::Trial => "trial",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text.trim())
    }
}

/// A new code from a source of random bytes (a byte of 250 or more is drawn again, so every
/// digit is equally likely).
pub fn generate(random: &mut impl FnMut() -> u8) -> String {
    let mut code = String::with_capacity(DIGITS);
    while code.len() < DIGITS {
        let b = random();
        if b < 250 {
            code.push(char::from(b'0' + b % 10));
        }
    }
    code
}

/// A typed code as people type it (spaces dropped, Bengali digits read), if it can be one.
pub fn typed(raw: &str) -> Option<String> {
    let code: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c {
            '০'..='৯' => {
                char::from_u32(u32::from('0') + (u32::from(c) - u32::from('০'))).unwrap_or(c)
            }
            c => c,
        })
        .collect();
    (code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// A code as kept: when and for what it was sent, tries so far, whether it was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// What it was sent for.
    pub purpose: Purpose,
    /// When it was sent.
    pub issued_at: DateTime<Utc>,
    /// Wrong tries so far.
    pub tries: u32,
    /// A right try used it.
    pub used: bool,
}

/// What a try gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    /// Right: the code is used up.
    Accepted,
    /// Wrong; this many tries are left.
    Wrong {
        /// Tries left.
        tries_left: u32,
    },
    /// Too old.
    Expired,
    /// Too many wrong tries.
    Exhausted,
    /// Already used.
    Used,
    /// Sent for something else.
    OtherPurpose,
}

/// What trying `challenge` for `purpose` at `now` gets, `matches` being whether the typed
/// code's hash equals the kept one ([`same`]). A dead code stays dead whatever is typed.
pub fn check(
    challenge: &Challenge,
    purpose: Purpose,
    now: DateTime<Utc>,
    matches: bool,
) -> Verdict {
    if challenge.used {
        return Verdict::Used;
    }
    if challenge.purpose != purpose {
        return Verdict::OtherPurpose;
    }
    if now - challenge.issued_at >= TTL {
        return Verdict::Expired;
    }
    if challenge.tries >= MAX_TRIES {
        return Verdict::Exhausted;
    }
    if matches {
        Verdict::Accepted
    } else {
        Verdict::Wrong {
            tries_left: MAX_TRIES - challenge.tries - 1,
        }
    }
}

/// Whether two hashes are equal, in a time that depends only on their lengths.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a number that was sent codes at `sent` (any order) may be sent one at `now`;
/// else the seconds to wait.
pub fn may_send(sent: &[DateTime<Utc>], now: DateTime<Utc>) -> Result<(), i64> {
    let hour_ago = now - TimeDelta::hours(1);
    let mut recent: Vec<DateTime<Utc>> = sent.iter().copied().filter(|t| *t > hour_ago).collect();
    recent.sort_unstable();
    let cooldown = recent
        .last()
        .map(|last| (*last + COOLDOWN - now).num_seconds())
        .filter(|s| *s > 0);
    let hourly = (recent.len() >= PER_HOUR)
        .then(|| (recent[recent.len() - PER_HOUR] + TimeDelta::hours(1) - now).num_seconds());
    match cooldown.into_iter().chain(hourly).max() {
        Some(wait) if wait > 0 => Err(wait),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn sent(purpose: Purpose) -> Challenge {
        Challenge {
            purpose,
            issued_at: at(0),
            tries: 0,
            used: false,
        }
    }

    #[test]
    fn codes_are_six_even_digits_and_read_as_typed() {
        let mut byte = 0u8;
        let mut source = || {
            let b = byte;
            byte = byte.wrapping_add(1);
            b
        };
        let mut counts = [0u32; 10];
        for _ in 0..250 {
            let code = generate(&mut source);
            assert_eq!(code.len(), DIGITS);
            for d in code.bytes() {
                counts[usize::from(d - b'0')] += 1;
            }
        }
        // 1 500 digits from bytes cycling through 0..=255: every digit 150 times.
        assert!(counts.iter().all(|c| *c == 150), "{counts:?}");
        assert_eq!(typed(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(typed("১২৩৪৫৬").as_deref(), Some("123456"));
        assert_eq!(typed("12345"), None);
        assert_eq!(typed("12a456"), None);
    }

    #[test]
    fn a_code_dies_after_five_minutes_five_wrong_tries_or_one_right_one() {
        let c = sent(Purpose::SignIn);
        assert_eq!(check(&c, Purpose::SignIn, at(10), true), Verdict::Accepted);
        assert_eq!(
            check(&c, Purpose::SignIn, at(10), false),
            Verdict::Wrong { tries_left: 4 }
        );
        assert_eq!(check(&c, Purpose::SignIn, at(299), true), Verdict::Accepted);
        assert_eq!(check(&c, Purpose::SignIn, at(300), true), Verdict::Expired);
        let tried = Challenge {
            tries: 4,
            ..c.clone()
        };
        assert_eq!(
            check(&tried, Purpose::SignIn, at(10), false),
            Verdict::Wrong { tries_left: 0 }
        );
        let dead = Challenge {
            tries: 5,
            ..c.clone()
        };
        assert_eq!(
            check(&dead, Purpose::SignIn, at(10), true),
            Verdict::Exhausted
        );
        let used = Challenge {
            used: true,
            ..c.clone()
        };
        assert_eq!(check(&used, Purpose::SignIn, at(10), true), Verdict::Used);
        assert_eq!(
            check(&c, Purpose::Trial, at(10), true),
            Verdict::OtherPurpose
        );
    }

    #[test]
    fn hashes_are_compared_whole() {
        assert!(same(b"abcdef", b"abcdef"));
        assert!(!same(b"abcdef", b"abcdeg"));
        assert!(!same(b"abc", b"abcdef"));
    }

    #[test]
    fn a_number_gets_a_code_a_minute_and_five_an_hour() {
        assert_eq!(may_send(&[], at(0)), Ok(()));
        assert_eq!(may_send(&[at(0)], at(20)), Err(40));
        assert_eq!(may_send(&[at(0)], at(60)), Ok(()));
        let five: Vec<_> = (0..5).map(|i| at(i * 120)).collect();
        // The fifth was at 480 s; the first of the five leaves the hour at 3 600 s.
        assert_eq!(may_send(&five, at(600)), Err(3000));
        assert_eq!(may_send(&five, at(3600)), Ok(()));
        // Old sends do not count.
        assert_eq!(may_send(&[at(-7200)], at(0)), Ok(()));
    }
}
