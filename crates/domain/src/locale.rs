//! Locale codes as they come in at the edge, parsed once into typed values: ISO 3166-1
//! alpha-2 countries, ISO 4217 currencies (with minor units: money is counted in them) and
//! IANA time zone names; times as people write them, read in a zone; and the full lists
//! forms offer.

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use serde::{Deserialize, Serialize};

use crate::field::FieldError;

/// An ISO 3166-1 alpha-2 country code, upper case (`BD`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CountryCode(String);

impl CountryCode {
    /// Parses a code in any case; `field` names the input in the error.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() == 2 && celes::Country::from_alpha2(&code).is_ok() {
            Ok(Self(code))
        } else {
            Err(FieldError::new(field, "unknown_country"))
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An ISO 4217 currency code (`BDT`) of a currency with minor units; money is counted in
/// them (design.md §2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CurrencyCode(String);

impl CurrencyCode {
    /// Parses a code in any case; funds, metals and test codes are refused.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        match iso_currency::Currency::from_code(&code) {
            Some(currency) if currency.exponent().is_some() && !currency.is_fund() => {
                Ok(Self(code))
            }
            _ => Err(FieldError::new(field, "unknown_currency")),
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits after the decimal point (2 for BDT, 0 for JPY).
    pub fn minor_digits(&self) -> u16 {
        iso_currency::Currency::from_code(&self.0)
            .and_then(|c| c.exponent())
            .unwrap_or(2)
    }
}

/// An IANA time zone name (`Asia/Dhaka`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    /// Parses a zone name as the IANA database spells it.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        match chrono_tz::Tz::from_str(name) {
            Ok(zone) => Ok(Self(zone.name().to_owned())),
            Err(_) => Err(FieldError::new(field, "unknown_time_zone")),
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The zone, for date arithmetic.
    pub fn zone(&self) -> chrono_tz::Tz {
        chrono_tz::Tz::from_str(&self.0).unwrap_or(chrono_tz::UTC)
    }

    /// The zone's offset from UTC at `now`, in minutes (east positive): what the database
    /// adds to a UTC time to find the zone's day when it rolls usage up by day.
    pub fn utc_offset_minutes(&self, now: DateTime<Utc>) -> i32 {
        use chrono::Offset as _;
        let seconds = self
            .zone()
            .offset_from_utc_datetime(&now.naive_utc())
            .fix()
            .local_minus_utc();
        seconds / 60
    }
}

/// Every country as `(alpha-2 code, English name)`, sorted by name (for forms).
pub fn countries() -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<_> = celes::Country::get_countries()
        .iter()
        .map(|c| (c.alpha2, c.long_name))
        .collect();
    all.sort_by_key(|(_, name)| *name);
    all
}

/// Every currency with minor units as `(code, English name)`, sorted by code (for forms).
pub fn currencies() -> Vec<(&'static str, String)> {
    use iso_currency::IntoEnumIterator as _;
    let mut all: Vec<_> = iso_currency::Currency::iter()
        .filter(|c| c.exponent().is_some() && !c.is_fund())
        .map(|c| (c.code(), c.name().to_owned()))
        .collect();
    all.sort_by_key(|(code, _)| *code);
    all
}

/// Every IANA time zone name (for forms).
pub fn time_zones() -> Vec<&'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect()
}

/// A time as people write it, read in `zone`: RFC 3339 (`2026-05-01T18:30:00+06:00`, the
/// zone it names wins), a local time (`2026-05-01T18:30`, `2026-05-01 18:30[:00]`, as a
/// panel's `datetime-local` field or a spreadsheet writes it) or a day (`2026-05-01`, the
/// end of that day). A local time skipped by a daylight-saving change reads as the earliest
/// that exists.
pub fn parse_time(
    field: &str,
    raw: &str,
    zone: chrono_tz::Tz,
) -> Result<DateTime<Utc>, FieldError> {
    let text = raw.trim();
    let bad = || FieldError::new(field, "invalid_time");
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let local = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok());
    let local = match local {
        Some(t) => t,
        None => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| bad())?
            .and_hms_opt(23, 59, 59)
            .ok_or_else(bad)?,
    };
    zone.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(bad)
}

/// The zone of a stored zone name, for date arithmetic; UTC for a name the zone database no
/// longer knows.
pub fn zone_of(name: &str) -> chrono_tz::Tz {
    chrono_tz::Tz::from_str(name).unwrap_or(chrono_tz::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_without_minor_units_are_refused() {
        assert!(CurrencyCode::parse("currency", "XAU").is_err());
        assert_eq!(
            CurrencyCode::parse("currency", "JPY")
                .unwrap()
                .minor_digits(),
            0
        );
    }

    #[test]
    fn codes_parse_in_any_case_and_unknown_ones_are_refused() {
        assert_eq!(
            CountryCode::parse("country", " bd ").unwrap().as_str(),
            "BD"
        );
        assert!(CountryCode::parse("country", "XX").is_err());
        assert_eq!(
            TimeZoneName::parse("time_zone", "Asia/Dhaka")
                .unwrap()
                .as_str(),
            "Asia/Dhaka"
        );
        assert!(TimeZoneName::parse("time_zone", "Mars/Olympus").is_err());
    }

    #[test]
    fn a_zone_offset_follows_daylight_saving_time() {
        let zone = |name| TimeZoneName::parse("time_zone", name).unwrap();
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            zone("Asia/Dhaka").utc_offset_minutes(at("2026-01-15T00:00:00Z")),
            360
        );
        assert_eq!(
            zone("Asia/Kolkata").utc_offset_minutes(at("2026-07-01T00:00:00Z")),
            330
        );
        let london = zone("Europe/London");
        assert_eq!(london.utc_offset_minutes(at("2026-01-15T12:00:00Z")), 0);
        assert_eq!(london.utc_offset_minutes(at("2026-07-15T12:00:00Z")), 60);
        assert_eq!(
            zone("America/Lima").utc_offset_minutes(at("2026-03-01T00:00:00Z")),
            -300
        );
    }

    #[test]
    fn times_are_read_in_the_zone_unless_they_name_their_own() {
        let dhaka: chrono_tz::Tz = "Asia/Dhaka".parse().unwrap();
        let at = |t: &str| parse_time("expires_at", t, dhaka).unwrap().to_rfc3339();
        assert_eq!(at("2026-05-01T18:30"), "2026-05-01T12:30:00+00:00");
        assert_eq!(at("2026-05-01 18:30:15"), "2026-05-01T12:30:15+00:00");
        assert_eq!(at("2026-05-01"), "2026-05-01T17:59:59+00:00");
        assert_eq!(at("2026-05-01T18:30:00Z"), "2026-05-01T18:30:00+00:00");
        for bad in ["tomorrow", "", "2026-13-01", "01/05/2026"] {
            assert_eq!(
                parse_time("expires_at", bad, dhaka).unwrap_err().code,
                "invalid_time",
                "{bad:?}"
            );
        }
    }
}
