//! What a customer gets now ([`CustomerState`]: its stored status, or "expired" past the
//! expiry of a prepaid one; never stored) and which status changes staff may make from its
//! stored status ([`StatusAction`]). Pages and the API ask here instead of comparing
//! status names.

use chrono::{DateTime, Utc};

use super::{BillingType, CustomerStatus, is_expired};

/// What a customer gets now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CustomerState {
    /// In service.
    Active,
    /// Active, but a prepaid customer past its expiry: refused until recharged.
    Expired,
    /// Suspended: what the tenant's suspension policy says.
    Suspended,
    /// Disabled: refused.
    Disabled,
}

impl CustomerState {
    /// The state of a customer with `status`, `billing` and `expires_at`, at `now`.
    pub fn of(
        status: CustomerStatus,
        billing: BillingType,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        match status {
            CustomerStatus::Active if is_expired(billing, expires_at, now) => Self::Expired,
            CustomerStatus::Active => Self::Active,
            CustomerStatus::Suspended => Self::Suspended,
            CustomerStatus::Disabled => Self::Disabled,
        }
    }

    /// Its name (`active`, `expired`, `suspended`, `disabled`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Suspended => "suspended",
            Self::Disabled => "disabled",
        }
    }
}

/// A change of stored status that staff may make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusAction {
    /// Suspend (the tenant's suspension policy applies).
    Suspend,
    /// Put back in service.
    Resume,
    /// Switch off.
    Disable,
}

impl StatusAction {
    /// Every action, in the order pages show them.
    pub const ALL: [StatusAction; 3] = [Self::Suspend, Self::Resume, Self::Disable];

    /// The status it sets.
    pub fn target(self) -> CustomerStatus {
        match self {
            Self::Suspend => CustomerStatus::Suspended,
            Self::Resume => CustomerStatus::Active,
            Self::Disable => CustomerStatus::Disabled,
        }
    }

    /// Its name (`suspend`, `resume`, `disable`), as routes and buttons name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suspend => "suspend",
            Self::Resume => "resume",
            Self::Disable => "disable",
        }
    }

    /// The actions a customer with stored `status` allows: every one that changes it.
    /// (Resuming an expired customer changes nothing: a recharge renews it.)
    pub fn allowed(status: CustomerStatus) -> Vec<StatusAction> {
        Self::ALL
            .into_iter()
            .filter(|a| a.target() != status)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn expired_is_derived_from_the_expiry_of_prepaid_customers_only() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let past = Some(now - TimeDelta::minutes(1));
        let state = |s, b, at| CustomerState::of(s, b, at, now);
        assert_eq!(
            state(CustomerStatus::Active, BillingType::Prepaid, past),
            CustomerState::Expired
        );
        assert_eq!(
            state(CustomerStatus::Active, BillingType::Postpaid, past),
            CustomerState::Active
        );
        assert_eq!(
            state(CustomerStatus::Suspended, BillingType::Prepaid, past),
            CustomerState::Suspended
        );
        assert_eq!(
            state(CustomerStatus::Disabled, BillingType::Free, None),
            CustomerState::Disabled
        );
    }

    #[test]
    fn a_customer_allows_every_status_change_but_to_where_it_is() {
        use StatusAction::{Disable, Resume, Suspend};
        assert_eq!(
            StatusAction::allowed(CustomerStatus::Active),
            [Suspend, Disable]
        );
        assert_eq!(
            StatusAction::allowed(CustomerStatus::Suspended),
            [Resume, Disable]
        );
        assert_eq!(
            StatusAction::allowed(CustomerStatus::Disabled),
            [Suspend, Resume]
        );
    }
}
