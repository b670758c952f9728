//! Documents of money taken or owed (billing-design.md §3): their series, the fiscal year
//! they are numbered in, and how a number reads. Numbers are gapless per tenant, series and
//! fiscal year: the store hands them out in the transaction that issues the document.

use chrono::{Datelike as _, NaiveDate};

use crate::field::{FieldError, FieldErrors};

/// A numbering series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Series {
    /// A receipt for money taken: at a sale (a recharge), or paying invoices.
    Receipt,
    /// A postpaid invoice: money owed for a billing period.
    Invoice,
    /// A credit note: money taken off an invoice's amount due, with its VAT.
    CreditNote,
}

impl Series {
    /// Every series.
    pub const ALL: [Series; 3] = [Series::Receipt, Series::Invoice, Series::CreditNote];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Series::Receipt => "receipt",
            Series::Invoice => "invoice",
            Series::CreditNote => "credit_note",
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
            Series::CreditNote => "CN",
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

/// A seller's registration for VAT, as its tax invoices print it: the Business
/// Identification Number (Bangladesh: 9 digits, or 13 since 2019, written also as 9 and a
/// 4-digit branch after a hyphen; empty: not registered) and the address invoices are
/// issued from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaxIdentity {
    /// The BIN, digits and at most one hyphen.
    pub bin: String,
    /// The issuing address.
    pub address: String,
}

/// The longest issuing address.
pub const MAX_ADDRESS: usize = 300;

impl TaxIdentity {
    /// The identity from its parts as given, each checked.
    pub fn parse(bin: &str, address: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let bin = bin.trim();
        let all_digits =
            |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
        // 9 digits (the old BIN), 13 (since 2019), or 9 and a 4-digit branch after a hyphen.
        let shaped = match bin.split_once('-') {
            Some((head, branch)) => all_digits(head, 9) && all_digits(branch, 4),
            None => all_digits(bin, 9) || all_digits(bin, 13),
        };
        if !bin.is_empty() && !shaped {
            errors.push(FieldError::new("bin", "invalid_bin"));
        }
        let address = errors.take(crate::text::bounded("address", address, 0, MAX_ADDRESS));
        errors.finish(|| {
            Some(Self {
                bin: bin.to_owned(),
                address: address?,
            })
        })
    }
}

/// How a document prints when it is a tax document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxForm {
    /// A tax invoice or credit note, under no form of a country's.
    Plain,
    /// Bangladesh's Mushak-6.3, the tax invoice.
    Mushak63,
    /// Bangladesh's Mushak-6.7, the credit note.
    Mushak67,
}

/// The tax form a document of `series` prints as, for a tenant in `country` registered for
/// VAT under `bin`: none for a receipt or an unregistered tenant (empty `bin`).
pub fn tax_form(series: Series, country: &str, bin: &str) -> Option<TaxForm> {
    if series == Series::Receipt || bin.is_empty() {
        return None;
    }
    Some(if !country.eq_ignore_ascii_case("BD") {
        TaxForm::Plain
    } else if series == Series::CreditNote {
        TaxForm::Mushak67
    } else {
        TaxForm::Mushak63
    })
}

/// The most a credit note's reason may hold.
pub const MAX_REASON: usize = 200;

/// A credit note asked for: how much to take off an invoice, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditRequest {
    /// The amount, VAT included, in minor units (at least one).
    pub amount: i64,
    /// Why (1 to [`MAX_REASON`] characters).
    pub reason: String,
}

impl CreditRequest {
    /// The request from its parts as given, each checked; `due` is what the invoice still
    /// asks, the most a note may take off.
    pub fn parse(amount: i64, reason: &str, due: i64) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        if due <= 0 {
            errors.push(FieldError::new("amount", "nothing_due"));
        } else if !(1..=due).contains(&amount) {
            errors.push(
                FieldError::new("amount", "out_of_range")
                    .with("min", 1)
                    .with("max", due),
            );
        }
        let reason = errors.take(crate::text::bounded("reason", reason, 1, MAX_REASON));
        errors.finish(|| {
            Some(Self {
                amount,
                reason: reason?,
            })
        })
    }
}

/// `amount` minor units in English words, as tax invoices print totals ("Taka five hundred
/// and twenty-five and poisha fifty only" reads `five hundred twenty-five and 50/100`):
/// the whole units in words, the minor units as a fraction of 100.
pub fn amount_in_words(amount: i64) -> String {
    let (units, minor) = (amount.unsigned_abs() / 100, amount.unsigned_abs() % 100);
    let words = if units == 0 {
        "zero".to_owned()
    } else {
        south_asian_words(units)
    };
    let sign = if amount < 0 { "minus " } else { "" };
    if minor == 0 {
        format!("{sign}{words} only")
    } else {
        format!("{sign}{words} and {minor:02}/100 only")
    }
}

/// `n` (> 0) in words with the South Asian groupings (crore, lakh, thousand, hundred), as
/// Bangladeshi and Indian invoices write amounts.
fn south_asian_words(n: u64) -> String {
    const ONES: [&str; 20] = [
        "",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 10] = [
        "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    fn below_hundred(n: u64) -> String {
        let n = usize::try_from(n).unwrap_or(0);
        match n {
            0..=19 => ONES.get(n).copied().unwrap_or("").to_owned(),
            _ => {
                let (tens, ones) = (n / 10, n % 10);
                let tens = TENS.get(tens).copied().unwrap_or("");
                if ones == 0 {
                    tens.to_owned()
                } else {
                    format!("{tens}-{}", ONES.get(ones).copied().unwrap_or(""))
                }
            }
        }
    }
    let mut parts = Vec::new();
    let crore = n / 10_000_000;
    if crore > 0 {
        let head = if crore >= 100 {
            south_asian_words(crore)
        } else {
            below_hundred(crore)
        };
        parts.push(format!("{head} crore"));
    }
    let rest = n % 10_000_000;
    for (size, name) in [(100_000, "lakh"), (1_000, "thousand")] {
        let count = (rest / size) % 100;
        if count > 0 {
            parts.push(format!("{} {name}", below_hundred(count)));
        }
    }
    let hundreds = (rest / 100) % 10;
    if hundreds > 0 {
        parts.push(format!("{} hundred", below_hundred(hundreds)));
    }
    let last = rest % 100;
    if last > 0 {
        parts.push(below_hundred(last));
    }
    parts.join(" ")
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
        assert_eq!(
            number_text(Series::CreditNote, 2026, "BD", 3),
            "CN-2026/27-000003"
        );
    }

    #[test]
    fn amounts_read_in_words_with_lakh_and_crore() {
        assert_eq!(amount_in_words(50_000), "five hundred only");
        assert_eq!(
            amount_in_words(52_550),
            "five hundred twenty-five and 50/100 only"
        );
        assert_eq!(amount_in_words(0), "zero only");
        assert_eq!(amount_in_words(1), "zero and 01/100 only");
        assert_eq!(
            amount_in_words(12_345_678_900),
            "twelve crore thirty-four lakh fifty-six thousand seven hundred eighty-nine only"
        );
        assert_eq!(amount_in_words(1_000_000_000), "one crore only");
        assert_eq!(amount_in_words(100_000_000_000), "one hundred crore only");
        assert!(amount_in_words(i64::MAX).ends_with("only"));
        assert!(amount_in_words(i64::MIN).starts_with("minus "));
    }

    #[test]
    fn registered_tenants_print_tax_documents_in_their_countrys_form() {
        let bin = "0001234560101";
        assert_eq!(tax_form(Series::Receipt, "BD", bin), None);
        assert_eq!(tax_form(Series::Invoice, "BD", ""), None);
        assert_eq!(
            tax_form(Series::Invoice, "bd", bin),
            Some(TaxForm::Mushak63)
        );
        assert_eq!(
            tax_form(Series::CreditNote, "BD", bin),
            Some(TaxForm::Mushak67)
        );
        assert_eq!(
            tax_form(Series::CreditNote, "IN", bin),
            Some(TaxForm::Plain)
        );
    }

    #[test]
    fn tax_identities_and_credit_requests_are_checked() {
        assert!(TaxIdentity::parse("", "").is_ok());
        assert!(TaxIdentity::parse("000123456-0101", "Dhaka").is_ok());
        assert!(TaxIdentity::parse("0001234560101", "Dhaka").is_ok());
        for bad in [
            "12345",
            "ABC123456789",
            "-123456789",
            "1234-5678-9012",
            "12345678901234",
        ] {
            assert!(TaxIdentity::parse(bad, "").is_err(), "{bad}");
        }
        assert!(TaxIdentity::parse("", &"x".repeat(MAX_ADDRESS + 1)).is_err());
        assert!(CreditRequest::parse(100, "outage", 100).is_ok());
        for (amount, reason, due) in [
            (0, "x", 100),
            (101, "x", 100),
            (-5, "x", 100),
            (5, "", 100),
            (5, "x", 0),
        ] {
            assert!(
                CreditRequest::parse(amount, reason, due).is_err(),
                "{amount} {reason:?} {due}"
            );
        }
    }
}
