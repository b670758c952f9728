//! Closed sets stored and sent as text codes: customer and staff user statuses, billing and
//! connection types, tenant statuses, package levels and statuses, card kinds and states. [`Code`] names the
//! contract (a value has one code; a code names at most one value) so that `store` can keep
//! any such set in a text column and refuse a row whose code the set does not have.
//!
//! The string tables stay with each type (`as_str` and `parse`); the impls here only point
//! at them. Sets that carry data beside their kind (a suspension policy, a router's TLS
//! trust) are not codes: they are read from more than one column.

use crate::card;
use crate::customer::{BillingType, CustomerStatus};
use crate::enforcement::{EnforcementStatus, Rung};
use crate::package::{ConnectionType, PackageLevel, PackageStatus};
use crate::tenant::TenantStatus;
use crate::user::UserStatus;

/// A closed set of values stored and sent as text codes.
pub trait Code: Copy + Eq + 'static {
    /// What the set is called in messages (`customer status`).
    const SET: &'static str;

    /// The value's code.
    fn code(self) -> &'static str;

    /// The value whose code is `text`, if the set has one.
    fn from_code(text: &str) -> Option<Self>;
}

impl Code for CustomerStatus {
    const SET: &'static str = "customer status";

    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

impl Code for BillingType {
    const SET: &'static str = "billing type";

    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

impl Code for ConnectionType {
    const SET: &'static str = "connection type";

    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

impl Code for PackageLevel {
    const SET: &'static str = "package level";

    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

impl Code for PackageStatus {
    const SET: &'static str = "package status";

    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

impl Code for TenantStatus {
    const SET: &'static str = "tenant status";

    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

impl Code for UserStatus {
    const SET: &'static str = "user status";

    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

impl Code for EnforcementStatus {
    const SET: &'static str = "enforcement status";

    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

impl Code for Rung {
    const SET: &'static str = "enforcement rung";

    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

impl Code for card::Kind {
    const SET: &'static str = "card kind";

    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

impl Code for card::State {
    const SET: &'static str = "card state";

    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: Code + std::fmt::Debug>(all: &[T]) {
        for value in all {
            assert_eq!(T::from_code(value.code()), Some(*value), "{}", T::SET);
        }
        assert_eq!(T::from_code("no_such_code"), None, "{}", T::SET);
    }

    #[test]
    fn every_code_names_its_value_and_nothing_else_names_one() {
        round_trips(&CustomerStatus::ALL);
        round_trips(&BillingType::ALL);
        round_trips(&ConnectionType::ALL);
        round_trips(&PackageLevel::ALL);
        round_trips(&PackageStatus::ALL);
        round_trips(&TenantStatus::ALL);
        round_trips(&UserStatus::ALL);
        round_trips(&EnforcementStatus::ALL);
        round_trips(&Rung::ALL);
        round_trips(&card::Kind::ALL);
        round_trips(&card::State::ALL);
    }
}
