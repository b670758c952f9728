//! Exact conversion between amounts in minor units (`i64`) and the decimal strings bKash and
//! SSLCommerz put on the wire (`"500"`, `"500.5"`, `"500.50"`, in taka or another currency
//! with two decimals). Integer arithmetic only, no floats: a string that is not plain digits
//! with at most two decimals, or that does not fit an `i64` of minor units, is refused, never
//! rounded.

/// The longest decimal string read: far more than any `i64` of minor units needs, short
/// enough that nothing hostile is worked on.
const MAX_LEN: usize = 32;

/// Minor units per major unit: these providers' currencies all have two decimals.
const SCALE: i64 = 100;

/// `minor` minor units as a decimal string with two decimals (`50_000` → `"500.00"`).
/// Negative amounts are refused.
pub(crate) fn format(field: &str, minor: i64) -> Result<String, String> {
    if minor < 0 {
        return Err(format!("{field} is negative"));
    }
    Ok(format!("{}.{:02}", minor / SCALE, minor % SCALE))
}

/// A decimal string as minor units: ASCII digits, optionally `.` and one or two more digits
/// (`"500"` → 50 000, `"500.5"` → 50 050, `"0.01"` → 1). No sign, spaces, exponent,
/// grouping, leading or trailing `.`, or third decimal.
pub(crate) fn parse(field: &str, text: &str) -> Result<i64, String> {
    let junk = || format!("{field} is not an amount with at most two decimals");
    if text.is_empty() || text.len() > MAX_LEN {
        return Err(junk());
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return Err(junk());
    }
    if text.contains('.') && fraction.is_empty() {
        return Err(junk());
    }
    if fraction.len() > 2 {
        return Err(format!("{field} has more than two decimals"));
    }
    let too_large = || format!("{field} is too large");
    let mut minor: i64 = 0;
    for b in whole.bytes() {
        minor = minor
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(b - b'0')))
            .ok_or_else(too_large)?;
    }
    minor = minor.checked_mul(SCALE).ok_or_else(too_large)?;
    let mut cents: i64 = 0;
    for (i, b) in fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(2)
        .enumerate()
    {
        let weight = if i == 0 { 10 } else { 1 };
        cents += i64::from(b - b'0') * weight;
    }
    minor.checked_add(cents).ok_or_else(too_large)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_parse_exactly() {
        let table: [(&str, Option<i64>); 28] = [
            ("500", Some(50_000)),
            ("500.5", Some(50_050)),
            ("500.50", Some(50_050)),
            ("500.05", Some(50_005)),
            ("0.01", Some(1)),
            ("0.1", Some(10)),
            ("0", Some(0)),
            ("0.00", Some(0)),
            ("007.10", Some(710)),
            ("92233720368547758.07", Some(i64::MAX)),
            ("92233720368547758.08", None),
            ("92233720368547759", None),
            ("99999999999999999999999999", None),
            (&"9".repeat(MAX_LEN + 1), None),
            ("500.555", None),
            ("0.001", None),
            ("-500", None),
            ("-0.01", None),
            ("+500", None),
            ("", None),
            (".", None),
            (".5", None),
            ("500.", None),
            (" 500", None),
            ("500 ", None),
            ("5e2", None),
            ("1,000.00", None),
            ("500.0.0", None),
        ];
        for (text, expected) in table {
            assert_eq!(parse("amount", text).ok(), expected, "{text:?}");
        }
        for junk in ["taka", "৫০০", "0x10", "NaN", "inf", "1_000", "500.5a"] {
            assert!(parse("amount", junk).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn minor_units_format_with_two_decimals_and_round_trip() {
        let table = [
            (50_000, "500.00"),
            (50_050, "500.50"),
            (50_005, "500.05"),
            (1, "0.01"),
            (10, "0.10"),
            (0, "0.00"),
            (i64::MAX, "92233720368547758.07"),
        ];
        for (minor, text) in table {
            assert_eq!(format("amount", minor).as_deref(), Ok(text));
            assert_eq!(parse("amount", text), Ok(minor));
        }
        assert!(format("amount", -1).is_err());
        // Every amount up to 100.00 and a spread beyond survive the round trip.
        for minor in (0..=10_000).chain((0..63).map(|s| (1_i64 << s) - 1)) {
            let text = format("amount", minor).unwrap();
            assert_eq!(parse("amount", &text), Ok(minor), "{text}");
        }
    }

    #[test]
    fn errors_name_the_field_not_the_value() {
        let error = parse("total_amount", "<script>").unwrap_err();
        assert!(error.contains("total_amount") && !error.contains("script"));
    }
}
