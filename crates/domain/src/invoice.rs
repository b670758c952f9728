//! Documents of money taken or owed (billing-design.md §3): their series, the fiscal year
//! they are numbered in, and how a number reads. Numbers are gapless per tenant, series and
//! fiscal year: the store hands them out in the transaction that issues the document.

use chrono::{Datelike as _, NaiveDate};

/// A numbering series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Series {
    /// A receipt for money taken: at a sale (a recharge), or paying invoices.
    Receipt,
    /// A postpaid invoice: money owed for a billing period.
    Invoice,
}

impl Series {
    /// Every series.
    pub const ALL: [Series; 2] = [Series::Receipt, Series::Invoice];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Series::Receipt => "receipt",
            Series::Invoice => "invoice",
        }
    }

    /// The series stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The prefix of its numbers.
    pub fn prefix(self) -> &'static str {
        match self {
            Series::Receipt => "RC",
            Series::Invoice => "INV",
        }
    }
}

/// The month a fiscal year starts in `country` (ISO 3166 alpha-2): July in Bangladesh,
/// Pakistan, Egypt, Kenya, Australia and New Zealand; April in India, Japan, the United
/// Kingdom, Canada and Hong Kong; January elsewhere.
pub fn fiscal_start_month(country: &str) -> u32 {
    match country.to_ascii_uppercase().as_str() {
        "BD" | "PK" | "EG" | "KE" | "AU" | "NZ" => 7,
        "IN" | "JP" | "GB" | "CA" | "HK" => 4,
        _ => 1,
    }
}

/// The fiscal year `day` falls in, named by the calendar year it starts in (Bangladesh's
/// 2026–27 is 2026).
pub fn fiscal_year(day: NaiveDate, country: &str) -> i32 {
    let start = fiscal_start_month(country);
    if day.month() >= start {
        day.year()
    } else {
        day.year() - 1
    }
}

/// How a document number reads: `RC-2026-000042`, or `RC-2026/27-000042` when the fiscal
/// year spans two calendar years.
pub fn number_text(series: Series, fiscal_year: i32, country: &str, number: i64) -> String {
    let year = if fiscal_start_month(country) == 1 {
        fiscal_year.to_string()
    } else {
        format!("{fiscal_year}/{:02}", (fiscal_year + 1).rem_euclid(100))
    };
    format!("{}-{year}-{number:06}", series.prefix())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn fiscal_years_follow_the_country() {
        assert_eq!(fiscal_year(day("2026-06-30"), "BD"), 2025);
        assert_eq!(fiscal_year(day("2026-07-01"), "BD"), 2026);
        assert_eq!(fiscal_year(day("2026-03-31"), "IN"), 2025);
        assert_eq!(fiscal_year(day("2026-12-31"), "US"), 2026);
        assert_eq!(
            number_text(Series::Receipt, 2026, "BD", 42),
            "RC-2026/27-000042"
        );
        assert_eq!(
            number_text(Series::Receipt, 2099, "BD", 1),
            "RC-2099/00-000001"
        );
        assert_eq!(
            number_text(Series::Receipt, 2026, "US", 7),
            "RC-2026-000007"
        );
        assert_eq!(Series::parse("receipt"), Some(Series::Receipt));
    }
}
