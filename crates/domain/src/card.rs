//! Recharge cards and access vouchers (hotspot-design §3), the rules: the codes printed on
//! them and how typed input is read back, and the life of a card as a table of transitions.
//!
//! - A *recharge card* carries a PIN of 12 random digits and a Damm check digit (printed
//!   `4821 0937 5512 0`): digits suit phone keypads and scratch panels, and the check digit
//!   catches every single wrong digit and every swap of neighbours before the input counts
//!   as a guess.
//! - An *access voucher* carries a code of 10 random Crockford base-32 symbols (50 bits; no
//!   I, L, O or U) and a check symbol (Luhn mod 32, so it stays in the alphabet), printed
//!   `K7QF2-9XWMD-R`.
//! - Both have a public serial, `<batch>-<sequence>` (`B0421-000137`), for stock, assignment
//!   and voiding.
//!
//! Input is read as people type it: spaces and dashes dropped, lower case raised, Bengali
//! digits (০–৯) taken for 0–9, and in a code O for 0 and I or L for 1. Randomness comes in as
//! a source of random bytes (the caller's CSPRNG); only a keyed hash of a PIN or code is
//! kept (`store`), never the secret itself.

use serde::{Deserialize, Serialize};

/// What a card does.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A PIN that applies a package to an existing account.
    #[default]
    Recharge,
    /// A code that is itself a walk-up hotspot account.
    Access,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 2] = [Kind::Recharge, Kind::Access];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Recharge => "recharge",
            Kind::Access => "access",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text.trim())
    }
}

/// Random digits of a PIN (without its check digit).
pub const PIN_DIGITS: usize = 12;

/// Random symbols of an access code (without its check symbol).
pub const CODE_SYMBOLS: usize = 10;

/// Damm's quasigroup of order 10 (totally anti-symmetric, zeros on the diagonal).
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

/// The Damm check digit of `digits` (each 0–9): appended, the whole folds to 0.
pub fn damm(digits: &[u8]) -> u8 {
    digits.iter().fold(0u8, |interim, d| {
        DAMM[usize::from(interim)][usize::from(*d % 10)]
    })
}

/// Crockford's base-32 alphabet.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The value of a Crockford symbol (already normalised), if it is one.
fn crockford_value(symbol: u8) -> Option<u8> {
    CROCKFORD
        .iter()
        .position(|s| *s == symbol)
        .and_then(|v| u8::try_from(v).ok())
}

/// The Luhn mod 32 check value of `values` (each 0–31): appended, the whole checks out.
pub fn luhn32(values: &[u8]) -> u8 {
    let mut factor = 2u32;
    let mut sum = 0u32;
    for v in values.iter().rev() {
        let addend = factor * u32::from(*v);
        sum += addend / 32 + addend % 32;
        factor = if factor == 2 { 1 } else { 2 };
    }
    u8::try_from((32 - sum % 32) % 32).unwrap_or(0)
}

/// Why typed input is not a PIN or a code. A failed check is a typo, told apart so that it
/// does not count as a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Not the right number of characters, or a character that cannot be one.
    #[error("not a card's PIN or code")]
    Malformed,
    /// The right shape, but the check digit or symbol does not match: mistyped.
    #[error("mistyped: the check digit does not match")]
    Mistyped,
}

/// Input as people type it: without spaces or dashes, upper case, Bengali digits as ASCII.
fn normal(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '‐' | '–' | '—' | '.'))
        .map(|c| match c {
            '০'..='৯' => char::from(b'0' + (u32::from(c) - u32::from('০')) as u8),
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// A recharge card's PIN: 12 random digits and their check digit.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(…)")
    }
}

impl Pin {
    /// A new PIN from a source of random bytes (a byte of 250 or more is drawn again, so
    /// every digit is equally likely).
    pub fn generate(random: &mut impl FnMut() -> u8) -> Pin {
        let mut digits = Vec::with_capacity(PIN_DIGITS + 1);
        while digits.len() < PIN_DIGITS {
            let b = random();
            if b < 250 {
                digits.push(b % 10);
            }
        }
        digits.push(damm(&digits));
        Pin(digits.iter().map(|d| char::from(b'0' + d)).collect())
    }

    /// Reads a typed PIN.
    pub fn parse(raw: &str) -> Result<Pin, CodeError> {
        let text = normal(raw);
        if text.len() != PIN_DIGITS + 1 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::Malformed);
        }
        let digits: Vec<u8> = text.bytes().map(|b| b - b'0').collect();
        if damm(&digits) != 0 {
            return Err(CodeError::Mistyped);
        }
        Ok(Pin(text))
    }

    /// The 13 digits, as the keyed hash takes them.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As printed: groups of four (`4821 0937 5512 0`).
    pub fn printed(&self) -> String {
        grouped(&self.0, 4, ' ')
    }

    /// The last two digits, which lists may show.
    pub fn tail(&self) -> &str {
        &self.0[self.0.len() - 2..]
    }
}

/// An access voucher's code: 10 random Crockford symbols and their check symbol.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessCode(String);

impl std::fmt::Debug for AccessCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessCode(…)")
    }
}

impl AccessCode {
    /// A new code from a source of random bytes (five bits of each).
    pub fn generate(random: &mut impl FnMut() -> u8) -> AccessCode {
        let mut values: Vec<u8> = (0..CODE_SYMBOLS).map(|_| random() & 31).collect();
        values.push(luhn32(&values));
        AccessCode(
            values
                .iter()
                .map(|v| char::from(CROCKFORD[usize::from(*v)]))
                .collect(),
        )
    }

    /// Reads a typed code (O read as 0, I and L as 1).
    pub fn parse(raw: &str) -> Result<AccessCode, CodeError> {
        let text: String = normal(raw)
            .chars()
            .map(|c| match c {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            })
            .collect();
        if text.len() != CODE_SYMBOLS + 1 {
            return Err(CodeError::Malformed);
        }
        let values: Option<Vec<u8>> = text.bytes().map(crockford_value).collect();
        let values = values.ok_or(CodeError::Malformed)?;
        let (body, check) = values.split_at(CODE_SYMBOLS);
        if luhn32(body) != check[0] {
            return Err(CodeError::Mistyped);
        }
        Ok(AccessCode(text))
    }

    /// The 11 symbols, as the keyed hash (and the RADIUS user name) takes them.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last two symbols, which lists may show.
    pub fn tail(&self) -> &str {
        &self.0[self.0.len() - 2..]
    }

    /// As printed: `K7QF2-9XWMD-R`.
    pub fn printed(&self) -> String {
        format!(
            "{}-{}-{}",
            &self.0[..5],
            &self.0[5..CODE_SYMBOLS],
            &self.0[CODE_SYMBOLS..]
        )
    }
}

fn grouped(text: &str, size: usize, separator: char) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / size);
    for (i, c) in text.chars().enumerate() {
        if i > 0 && i % size == 0 {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// A card's public serial: its batch's number and its place in the batch.
pub fn serial(batch: i64, sequence: u32) -> String {
    format!("B{batch:04}-{sequence:06}")
}

/// Where a card is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Made, not yet released for sale.
    Draft,
    /// Released: the owner holds it.
    InStock,
    /// Handed to a card distributor.
    Assigned,
    /// Sold to a subscriber (marked by the distributor, or an e-PIN sale).
    Sold,
    /// Used (terminal).
    Redeemed,
    /// Held back (a lost box): reversible.
    Suspended,
    /// Cancelled (terminal); a prepaid distributor gets its price back.
    Void,
    /// Past its date, unused (terminal).
    Expired,
}

impl State {
    /// Every state.
    pub const ALL: [State; 8] = [
        State::Draft,
        State::InStock,
        State::Assigned,
        State::Sold,
        State::Redeemed,
        State::Suspended,
        State::Void,
        State::Expired,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::InStock => "in_stock",
            State::Assigned => "assigned",
            State::Sold => "sold",
            State::Redeemed => "redeemed",
            State::Suspended => "suspended",
            State::Void => "void",
            State::Expired => "expired",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }

    /// No transition leaves it.
    pub fn is_terminal(self) -> bool {
        matches!(self, State::Redeemed | State::Void | State::Expired)
    }

    /// A subscriber may redeem a card in it.
    pub fn redeemable(self) -> bool {
        matches!(self, State::InStock | State::Assigned | State::Sold)
    }
}

/// What is done to a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Released for sale.
    Release,
    /// Thrown away before release.
    Discard,
    /// Handed to a distributor.
    Assign,
    /// Taken back from a distributor.
    Unassign,
    /// Marked sold.
    Sell,
    /// Used by a subscriber.
    Redeem,
    /// Held back.
    Suspend,
    /// Let go again, to where it was.
    Resume,
    /// Cancelled.
    Void,
    /// Past its date.
    Expire,
}

/// The life of a card: from a state, an action leads to a state. A suspended card resumes
/// to the state it was suspended from, which the caller keeps; every other transition is
/// here, and nothing leaves a terminal state.
pub const TRANSITIONS: &[(State, Action, State)] = &[
    (State::Draft, Action::Release, State::InStock),
    (State::Draft, Action::Discard, State::Void),
    (State::InStock, Action::Assign, State::Assigned),
    (State::Assigned, Action::Unassign, State::InStock),
    (State::Assigned, Action::Sell, State::Sold),
    (State::InStock, Action::Redeem, State::Redeemed),
    (State::Assigned, Action::Redeem, State::Redeemed),
    (State::Sold, Action::Redeem, State::Redeemed),
    (State::InStock, Action::Suspend, State::Suspended),
    (State::Assigned, Action::Suspend, State::Suspended),
    (State::Sold, Action::Suspend, State::Suspended),
    (State::InStock, Action::Void, State::Void),
    (State::Assigned, Action::Void, State::Void),
    (State::Suspended, Action::Void, State::Void),
    (State::InStock, Action::Expire, State::Expired),
    (State::Assigned, Action::Expire, State::Expired),
    (State::Sold, Action::Expire, State::Expired),
    (State::Suspended, Action::Expire, State::Expired),
];

/// Why a card cannot take an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a card that is {} cannot be {action:?}", from.as_str())]
pub struct NotAllowed {
    /// Where the card is.
    pub from: State,
    /// What was asked.
    pub action: Action,
}

/// Where `action` takes a card in `from`; `resume_to` is where a suspended card goes back
/// to (the state it was suspended from).
pub fn next(from: State, action: Action, resume_to: Option<State>) -> Result<State, NotAllowed> {
    if from == State::Suspended && action == Action::Resume {
        return resume_to
            .filter(|s| matches!(s, State::InStock | State::Assigned | State::Sold))
            .ok_or(NotAllowed { from, action });
    }
    TRANSITIONS
        .iter()
        .find(|(f, a, _)| *f == from && *a == action)
        .map(|(_, _, to)| *to)
        .ok_or(NotAllowed { from, action })
}

#[cfg(test)]
#[path = "card_tests.rs"]
mod tests;
