//! Service is sold, not given, by those who pay for it: a reseller pays upward for every
//! day of prepaid time it sells, so it gives a customer time, another package while time
//! is live, or service without an expiry only through a recharge, which posts the sale.
//! Setting an expiry, a package or free billing by hand would serve the customer with no
//! journal at all. The tenant's own people may still give time by hand (a migration, a
//! complimentary month: the owner's decision, in the audit log).
//!
//! A reseller's new prepaid customer therefore starts without time (its first recharge
//! starts it), and an expiry it sets may only shorten what was paid.

use chrono::{DateTime, Utc};

use super::{BillingType, CustomerChanges};
use crate::field::{FieldError, FieldErrors};

/// What a customer is served now, as far as what was paid goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// How it pays.
    pub billing: BillingType,
    /// Its package.
    pub package_id: i64,
    /// Its expiry.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Refuses a new customer that a reseller would serve unpaid: free billing, or prepaid time
/// given with it (an expiry after `now`). The default expiry of a new prepaid customer is
/// left out by the caller: it starts without time.
pub fn check_new(
    billing: BillingType,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    if billing == BillingType::Free {
        errors.push(FieldError::new("billing_type", "owner_only"));
    }
    if billing == BillingType::Prepaid && expires_at.is_some_and(|at| at > now) {
        errors.push(FieldError::new("expires_at", "recharge_required"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Refuses a change by a reseller that would serve `before` unpaid at `now`: free billing,
/// a prepaid expiry later than the one paid for (or none at all), or another package while
/// paid time is live (a recharge credits what is left of it).
pub fn check_change(
    before: Served,
    changes: &CustomerChanges,
    now: DateTime<Utc>,
) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    let billing = changes.billing_type.unwrap_or(before.billing);
    if billing == BillingType::Free && before.billing != BillingType::Free {
        errors.push(FieldError::new("billing_type", "owner_only"));
    }
    let paid_until = before
        .expires_at
        .filter(|_| before.billing == BillingType::Prepaid);
    if billing == BillingType::Prepaid
        && let Some(expires_at) = changes.expires_at
    {
        let longer = match (expires_at, paid_until) {
            (None, _) => true,
            (Some(at), Some(paid)) => at > paid.max(now),
            (Some(at), None) => at > now,
        };
        if longer {
            errors.push(FieldError::new("expires_at", "recharge_required"));
        }
    }
    let live = paid_until.is_some_and(|at| at > now);
    if changes.package_id.is_some_and(|p| p != before.package_id) && live {
        errors.push(FieldError::new("package_id", "recharge_required"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn codes(result: Result<(), FieldErrors>) -> Vec<(String, String)> {
        result.err().map_or_else(Vec::new, |e| {
            e.0.iter()
                .map(|f| (f.field.clone(), f.code.to_owned()))
                .collect()
        })
    }

    #[test]
    fn a_new_customer_gets_no_time_and_no_free_service_from_a_reseller() {
        let now = now();
        let later = Some(now + TimeDelta::days(30));
        assert!(check_new(BillingType::Prepaid, None, now).is_ok());
        assert!(check_new(BillingType::Prepaid, Some(now), now).is_ok());
        assert!(check_new(BillingType::Postpaid, later, now).is_ok());
        assert_eq!(
            codes(check_new(BillingType::Prepaid, later, now)),
            [("expires_at".into(), "recharge_required".into())]
        );
        assert_eq!(
            codes(check_new(BillingType::Free, None, now)),
            [("billing_type".into(), "owner_only".into())]
        );
    }

    #[test]
    fn a_reseller_may_shorten_paid_time_but_not_lengthen_or_move_it() {
        let now = now();
        let paid = now + TimeDelta::days(10);
        let before = Served {
            billing: BillingType::Prepaid,
            package_id: 1,
            expires_at: Some(paid),
        };
        let change = |f: &dyn Fn(&mut CustomerChanges)| {
            let mut c = CustomerChanges::default();
            f(&mut c);
            codes(check_change(before, &c, now))
        };
        assert!(change(&|c| c.expires_at = Some(Some(paid - TimeDelta::days(1)))).is_empty());
        assert!(change(&|c| c.expires_at = Some(Some(paid))).is_empty());
        assert!(change(&|c| c.name = Some("x".into())).is_empty());
        assert!(change(&|c| c.package_id = Some(1)).is_empty());
        let refused = [("expires_at".to_owned(), "recharge_required".to_owned())];
        assert_eq!(
            change(&|c| c.expires_at = Some(Some(paid + TimeDelta::minutes(1)))),
            refused
        );
        assert_eq!(change(&|c| c.expires_at = Some(None)), refused);
        assert_eq!(
            change(&|c| c.package_id = Some(2)),
            [("package_id".to_owned(), "recharge_required".to_owned())]
        );
        assert_eq!(
            change(&|c| c.billing_type = Some(BillingType::Free)),
            [("billing_type".to_owned(), "owner_only".to_owned())]
        );
        // Lapsed: another package is free to pick (the next recharge pays for it), and
        // an expiry may be set up to now.
        let lapsed = Served {
            expires_at: Some(now - TimeDelta::days(1)),
            ..before
        };
        let c = CustomerChanges {
            package_id: Some(2),
            expires_at: Some(Some(now)),
            ..CustomerChanges::default()
        };
        assert!(check_change(lapsed, &c, now).is_ok());
        // A postpaid customer's expiry buys nothing.
        let postpaid = Served {
            billing: BillingType::Postpaid,
            ..before
        };
        let c = CustomerChanges {
            expires_at: Some(Some(paid + TimeDelta::days(99))),
            package_id: Some(2),
            ..CustomerChanges::default()
        };
        assert!(check_change(postpaid, &c, now).is_ok());
    }
}
