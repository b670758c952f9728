//! Tenants: one ISP business each, with its country, currency and time zone (parsed by
//! `locale`), its realm and its operating settings.

use serde::{Deserialize, Serialize};

use crate::field::{FieldError, FieldErrors};
use crate::locale::{CountryCode, CurrencyCode, TimeZoneName};
use crate::text::bounded;

/// The longest tenant name, in characters.
pub const NAME_MAX: usize = 120;

/// A tenant's name.
pub fn parse_name(raw: &str) -> Result<String, FieldError> {
    bounded("name", raw, 1, NAME_MAX)
}

/// A tenant's stored status. A tenant is archived, never deleted: what refers to it stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantStatus {
    /// In business: its staff sign in, its subscribers are served.
    Active,
    /// Deleted: kept for what refers to it, signs nobody in.
    Archived,
}

impl TenantStatus {
    /// Every status.
    pub const ALL: [TenantStatus; 2] = [TenantStatus::Active, TenantStatus::Archived];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Archived => "archived",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A tenant's realm: a short unique tag that user names made up by the system carry
/// (`8801712345678@dhaka-net`), so they never collide across tenants. 2 to 32 characters of
/// `a-z 0-9 -`, no leading or trailing hyphen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Realm(String);

impl Realm {
    /// Parses a realm in any case.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let realm = raw.trim().to_ascii_lowercase();
        let ok = (2..=32).contains(&realm.len())
            && realm
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !realm.starts_with('-')
            && !realm.ends_with('-');
        if ok {
            Ok(Self(realm))
        } else {
            Err(FieldError::new("realm", "invalid_realm"))
        }
    }

    /// A realm made from a tenant's name (`Dhaka Net Ltd.` gives `dhaka-net-ltd`), for when
    /// none is given; the store adds a number if it is taken.
    pub fn suggest(name: &str) -> Self {
        let mut slug = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        let slug: String = slug.chars().take(24).collect();
        let slug = slug.trim_matches('-');
        Self(if slug.len() < 2 {
            "isp".to_owned()
        } else {
            slug.to_owned()
        })
    }

    /// The same realm with a number: `dhaka-net-2`.
    pub fn numbered(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }

    /// The realm.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A tenant's operating settings as given; `None` leaves a setting as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct SettingsInput<'a> {
    /// The realm.
    pub realm: Option<&'a str>,
    /// `reject`, `pool` or `address_list`.
    pub suspension_policy: Option<&'a str>,
    /// The pool or address list of the suspension policy.
    pub suspension_target: Option<&'a str>,
    /// `prepaid`, `postpaid` or `free`.
    pub default_billing_type: Option<&'a str>,
    /// The country mobile numbers are read in (ISO alpha-2).
    pub mobile_country: Option<&'a str>,
    /// Whether card distributors may read their customers' mobiles.
    pub distributor_mobiles: Option<bool>,
}

/// A tenant's operating settings, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// A new realm.
    pub realm: Option<Realm>,
    /// A new suspension policy.
    pub suspension: Option<crate::aaa::SuspensionPolicy>,
    /// A new default billing type.
    pub default_billing_type: Option<crate::customer::BillingType>,
    /// A new mobile country.
    pub mobile_country: Option<CountryCode>,
    /// Whether card distributors may read their customers' mobiles.
    pub distributor_mobiles: Option<bool>,
}

impl Settings {
    /// Parses the settings that are present, reporting every invalid one.
    pub fn parse(input: SettingsInput<'_>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let suspension = match (input.suspension_policy, input.suspension_target) {
            (None, None) => None,
            (kind, target) => errors.take(crate::aaa::SuspensionPolicy::parse(
                kind.unwrap_or("reject"),
                target,
            )),
        };
        let settings =
            Settings {
                realm: input.realm.and_then(|r| errors.take(Realm::parse(r))),
                suspension,
                default_billing_type: input.default_billing_type.and_then(|b| {
                    errors.take(crate::customer::BillingType::parse(b).ok_or_else(|| {
                        FieldError::new("default_billing_type", "unknown_billing_type")
                    }))
                }),
                mobile_country: input
                    .mobile_country
                    .and_then(|c| errors.take(CountryCode::parse("mobile_country", c))),
                distributor_mobiles: input.distributor_mobiles,
            };
        errors.finish(|| Some(settings))
    }

    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Settings::default()
    }
}

/// A new tenant, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTenant {
    /// Its settings (a realm is made from the name when none is given).
    pub settings: Settings,
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
                settings: Settings::default(),
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
    /// New operating settings.
    pub settings: Settings,
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
            settings: Settings::default(),
        };
        errors.finish(|| Some(changes))
    }

    /// The same changes with operating settings added, their errors joined to these.
    pub fn with_settings(self, input: SettingsInput<'_>) -> Result<Self, FieldErrors> {
        Ok(Self {
            settings: Settings::parse(input)?,
            ..self
        })
    }
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
    fn realms_are_short_lower_case_tags_made_from_names_when_missing() {
        assert_eq!(Realm::parse(" DhakaNet ").unwrap().as_str(), "dhakanet");
        for bad in ["a", "-x", "x-", "with space", "ünï", &"x".repeat(33)] {
            assert!(Realm::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Realm::suggest("Dhaka Net Ltd.").as_str(), "dhaka-net-ltd");
        assert_eq!(Realm::suggest("ঢাকা নেট").as_str(), "isp");
        assert_eq!(
            Realm::suggest("Dhaka Net").numbered(2).as_str(),
            "dhaka-net-2"
        );
        let settings = Settings::parse(SettingsInput {
            suspension_policy: Some("pool"),
            suspension_target: Some("expired"),
            default_billing_type: Some("postpaid"),
            mobile_country: Some("bd"),
            ..SettingsInput::default()
        })
        .unwrap();
        assert_eq!(
            settings.suspension,
            Some(crate::aaa::SuspensionPolicy::Pool("expired".into()))
        );
        assert!(
            Settings::parse(SettingsInput {
                default_billing_type: Some("weekly"),
                ..Default::default()
            })
            .is_err()
        );
    }
}
