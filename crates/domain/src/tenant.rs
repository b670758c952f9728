//! Tenants: one ISP business each, with its country, currency and time zone. This module
//! parses what comes in (ISO 3166 alpha-2, ISO 4217, IANA zone names) into typed values.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::field::{FieldError, FieldErrors};
use crate::text::bounded;

/// The longest tenant name, in characters.
pub const NAME_MAX: usize = 120;

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
}

/// A tenant's name.
pub fn parse_name(raw: &str) -> Result<String, FieldError> {
    bounded("name", raw, 1, NAME_MAX)
}

/// A new tenant, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTenant {
    /// Its name.
    pub name: String,
    /// Its country.
    pub country: CountryCode,
    /// Its currency.
    pub currency: CurrencyCode,
    /// Its time zone.
    pub time_zone: TimeZoneName,
}

impl NewTenant {
    /// Parses the four fields, reporting every invalid one.
    pub fn parse(
        name: &str,
        country: &str,
        currency: &str,
        time_zone: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = errors.take(parse_name(name));
        let country = errors.take(CountryCode::parse("country", country));
        let currency = errors.take(CurrencyCode::parse("currency", currency));
        let time_zone = errors.take(TimeZoneName::parse("time_zone", time_zone));
        errors.finish(|| {
            Some(NewTenant {
                name: name?,
                country: country?,
                currency: currency?,
                time_zone: time_zone?,
            })
        })
    }
}

/// Changes to a tenant, validated; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantChanges {
    /// A new name.
    pub name: Option<String>,
    /// A new country.
    pub country: Option<CountryCode>,
    /// A new currency (refused once anything priced exists under the tenant).
    pub currency: Option<CurrencyCode>,
    /// A new time zone.
    pub time_zone: Option<TimeZoneName>,
}

impl TenantChanges {
    /// Parses the fields that are present, reporting every invalid one.
    pub fn parse(
        name: Option<&str>,
        country: Option<&str>,
        currency: Option<&str>,
        time_zone: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let changes = TenantChanges {
            name: name.and_then(|v| errors.take(parse_name(v))),
            country: country.and_then(|v| errors.take(CountryCode::parse("country", v))),
            currency: currency.and_then(|v| errors.take(CurrencyCode::parse("currency", v))),
            time_zone: time_zone.and_then(|v| errors.take(TimeZoneName::parse("time_zone", v))),
        };
        errors.finish(|| Some(changes))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_parses_from_iso_codes_in_any_case() {
        let t = NewTenant::parse(" Dhaka Net ", "bd", "bdt", "Asia/Dhaka").unwrap();
        assert_eq!(t.name, "Dhaka Net");
        assert_eq!(t.country.as_str(), "BD");
        assert_eq!(t.currency.as_str(), "BDT");
        assert_eq!(t.currency.minor_digits(), 2);
        assert_eq!(t.time_zone.as_str(), "Asia/Dhaka");
    }

    #[test]
    fn every_invalid_field_of_a_tenant_is_reported() {
        let errors = NewTenant::parse("", "XX", "ABC", "Mars/Base").unwrap_err();
        let codes: Vec<_> = errors
            .0
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect();
        assert_eq!(
            codes,
            [
                ("name", "required"),
                ("country", "unknown_country"),
                ("currency", "unknown_currency"),
                ("time_zone", "unknown_time_zone")
            ]
        );
    }

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
}
