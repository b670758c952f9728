//! A customer's current usage period: what "this period" means on its usage page.

use chrono::{DateTime, Datelike as _, Months, NaiveDate, TimeDelta, Utc};

use super::BillingType;

/// The days a customer's current period spans, in its tenant's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsagePeriod {
    /// `service`: a prepaid customer's service, from its expiry less the package's validity
    /// to its expiry; `month`: the calendar month (anyone else).
    pub kind: &'static str,
    /// Its first day.
    pub first: NaiveDate,
    /// Its last day.
    pub last: NaiveDate,
}

/// The current period of a customer billed `billing`, expiring at `expires_at`, on a
/// package valid `validity_minutes`, on `today` of its tenant's `zone`.
pub fn usage_period(
    billing: BillingType,
    expires_at: Option<DateTime<Utc>>,
    validity_minutes: i64,
    today: NaiveDate,
    zone: chrono_tz::Tz,
) -> UsagePeriod {
    let local = |at: DateTime<Utc>| at.with_timezone(&zone).date_naive();
    match expires_at {
        Some(expiry) if billing == BillingType::Prepaid && validity_minutes > 0 => UsagePeriod {
            kind: "service",
            first: local(expiry - TimeDelta::minutes(validity_minutes)),
            last: local(expiry),
        },
        _ => {
            let first = today.with_day(1).unwrap_or(today);
            let next = first.checked_add_months(Months::new(1)).unwrap_or(today);
            UsagePeriod {
                kind: "month",
                first,
                last: next.pred_opt().unwrap_or(today),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prepaid_service_is_its_period_and_anything_else_the_month() {
        let dhaka: chrono_tz::Tz = "Asia/Dhaka".parse().unwrap();
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        // Expiring 2026-12-20 20:00 UTC (the 21st in Dhaka), 30 days of service.
        let service = usage_period(
            BillingType::Prepaid,
            Some(at("2026-12-20T20:00:00Z")),
            30 * 1440,
            day("2026-12-05"),
            dhaka,
        );
        assert_eq!(
            (service.kind, service.first, service.last),
            ("service", day("2026-11-21"), day("2026-12-21"))
        );
        for (billing, expiry) in [
            (BillingType::Postpaid, Some(at("2026-12-20T20:00:00Z"))),
            (BillingType::Prepaid, None),
        ] {
            let month = usage_period(billing, expiry, 30 * 1440, day("2026-02-14"), dhaka);
            assert_eq!(
                (month.kind, month.first, month.last),
                ("month", day("2026-02-01"), day("2026-02-28"))
            );
        }
    }
}
