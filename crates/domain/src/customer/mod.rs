//! Customers (subscribers): their billing type and status, the derived state and the status
//! changes it allows (`state`), the identifiers that reach RADIUS and the router (user name,
//! PPP password, mobile number), a customer as it comes in, parsed once (`input`), and what
//! a reseller may not give without a sale (`sold`).

mod input;
pub mod signup;
pub mod sold;
mod state;
mod usage;

pub use input::{
    ADDRESS_MAX, COMMENT_MAX, ChangesInput, CustomerChanges, CustomerInput, NAME_MAX, NewCustomer,
    PackageTerms, SIMULTANEOUS_USE_MAX, StaticIp, Terms, parse_address, parse_comment, parse_name,
    parse_simultaneous_use, read_billing, read_connection, read_status,
};
pub use state::{CustomerState, StatusAction};
pub use usage::{UsagePeriod, usage_period};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::field::FieldError;
use crate::locale::CountryCode;

/// The characters of a made-up customer password: lower-case letters and digits without the
/// ones read alike, so it survives every device keyboard.
pub const PASSWORD_CHARS: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
/// The length of a made-up customer password (50 bits).
pub const PASSWORD_LEN: usize = 10;

/// How a customer pays, which decides what ends its service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BillingType {
    /// Pays ahead; service ends at the expiry time (RADIUS `Expiration`).
    Prepaid,
    /// Billed monthly; service is ended by suspension, never by an expiry time.
    Postpaid,
    /// Free: no expiry.
    Free,
}

impl BillingType {
    /// Every billing type.
    pub const ALL: [BillingType; 3] = [
        BillingType::Prepaid,
        BillingType::Postpaid,
        BillingType::Free,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            BillingType::Prepaid => "prepaid",
            BillingType::Postpaid => "postpaid",
            BillingType::Free => "free",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == text.trim())
    }

    /// True if the expiry time ends the service.
    pub fn expires(self) -> bool {
        self == BillingType::Prepaid
    }
}

/// The stored status. "Expired" is not stored: it follows from the expiry time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerStatus {
    /// In service (unless expired).
    Active,
    /// Out of service for a reason that will pass (unpaid bill, quota); handled by the
    /// tenant's suspension policy.
    Suspended,
    /// Switched off by staff: always refused.
    Disabled,
}

impl CustomerStatus {
    /// Every status.
    pub const ALL: [CustomerStatus; 3] = [
        CustomerStatus::Active,
        CustomerStatus::Suspended,
        CustomerStatus::Disabled,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CustomerStatus::Active => "active",
            CustomerStatus::Suspended => "suspended",
            CustomerStatus::Disabled => "disabled",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }
}

/// True when a customer billed by expiry is past it at `now`.
pub fn is_expired(
    billing: BillingType,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    billing.expires() && expires_at.is_none_or(|at| at <= now)
}

/// The first characters of every VPN account's user name (`crate::vpn`): a customer's may
/// not begin with them, so the two kinds of RADIUS account never share a name.
pub const RESERVED_PREFIX: &str = "lmvpn-";

/// The longest RADIUS user name lastmile issues.
pub const USERNAME_MAX: usize = 64;

/// A RADIUS user name: 1 to 64 characters of `A-Z a-z 0-9 . _ - @ +`, at most one `@`, no
/// leading, trailing or doubled dot. Unique per installation without regard to case (its
/// lower-cased form is the key), so case variants cannot dodge Simultaneous-Use.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// Parses a user name as typed.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldError::new("username", "required"));
        }
        if name.chars().count() > USERNAME_MAX {
            return Err(FieldError::new("username", "too_long").with("max", USERNAME_MAX));
        }
        let allowed =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+');
        if !name.chars().all(allowed) {
            return Err(FieldError::new("username", "invalid_username"));
        }
        let dots_ok = !name.starts_with('.')
            && !name.ends_with('.')
            && !name.contains("..")
            && !name.contains("@.");
        if !dots_ok || name.matches('@').count() > 1 || name.ends_with('@') || name.starts_with('@')
        {
            return Err(FieldError::new("username", "invalid_username"));
        }
        if name.to_ascii_lowercase().starts_with(RESERVED_PREFIX) {
            // VPN accounts' names: the two kinds of RADIUS account never share one.
            return Err(FieldError::new("username", "reserved_username"));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The uniqueness key: lower case.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A PPP or hotspot password. It is a secret, not a hash (CHAP and MS-CHAP need it in
/// clear): 4 to 64 printable ASCII characters without space, quotes, backslash, back-tick or
/// percent, which FreeRADIUS, RouterOS and the MS-CHAP UTF-16 conversion all carry unchanged.
#[derive(Clone, PartialEq, Eq)]
pub struct PppPassword(String);

impl PppPassword {
    /// Parses a password; `field` names the input.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let length = raw.chars().count();
        if length < 4 {
            return Err(FieldError::new(field, "too_short").with("min", 4));
        }
        if length > 64 {
            return Err(FieldError::new(field, "too_long").with("max", 64));
        }
        let storable = raw
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '\\' | '`' | '%'));
        if !storable {
            return Err(FieldError::new(field, "unstorable_password"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password in clear, for sealing and for the RADIUS projection.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PppPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PppPassword([redacted])")
    }
}

/// A mobile number in E.164 (`+8801712345678`), checked against the tenant's country.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Msisdn(String);

impl Msisdn {
    /// Parses a number written nationally (`01712345678`) or internationally
    /// (`+880 1712-345678`) for a tenant in `country`.
    pub fn parse(raw: &str, country: &CountryCode) -> Result<Self, FieldError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(FieldError::new("mobile", "required"));
        }
        if text.len() > 32 {
            return Err(FieldError::new("mobile", "too_long").with("max", 32));
        }
        let region = country.as_str().parse::<phonenumber::country::Id>().ok();
        let number = phonenumber::parse(region, text)
            .map_err(|_| FieldError::new("mobile", "invalid_mobile"))?;
        if !phonenumber::is_valid(&number) {
            return Err(FieldError::new("mobile", "invalid_mobile"));
        }
        Ok(Self(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// The E.164 form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without `+` (for user names such as `8801712345678@realm`).
    pub fn digits(&self) -> &str {
        self.0.trim_start_matches('+')
    }

    /// The number as dialled inside its country, digits only (`01712345678`): what a
    /// distributor's phone keypad and local SMS gateways expect.
    pub fn national(&self) -> String {
        phonenumber::parse(None, &self.0)
            .map(|n| n.format().mode(phonenumber::Mode::National).to_string())
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_digit)
            .collect()
    }

    /// A number already in E.164 as stored (not checked against a country).
    pub fn stored(e164: &str) -> Self {
        Self(e164.to_owned())
    }
}

/// What a search for `text` matches among E.164 mobiles of a tenant in `country`: the start
/// of the number (`01712` in Bangladesh is `+8801712`), or `None` if `text` is no number.
pub fn mobile_search_prefix(text: &str, country: &CountryCode) -> Option<String> {
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let (plus, digits) = match compact.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, compact.as_str()),
    };
    if digits.len() < 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if plus {
        return Some(format!("+{digits}"));
    }
    let code = phonenumber::metadata::DATABASE
        .by_id(country.as_str())
        .map(|m| m.country_code().to_string())?;
    Some(match digits.strip_prefix('0') {
        Some(national) => format!("+{code}{national}"),
        None if digits.starts_with(&code) => format!("+{digits}"),
        None => format!("+{code}{digits}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    #[test]
    fn a_mobile_is_stored_in_e164_and_read_back_as_dialled_at_home() {
        let bd = crate::locale::CountryCode::parse("country", "BD").unwrap();
        let m = Msisdn::parse("01712-345678", &bd).unwrap();
        assert_eq!(m.as_str(), "+8801712345678");
        assert_eq!(m.national(), "01712345678");
        assert_eq!(Msisdn::stored("+8801712345678").national(), "01712345678");
        let ng = crate::locale::CountryCode::parse("country", "NG").unwrap();
        assert_eq!(
            Msisdn::parse("+234 803 123 4567", &ng).unwrap().national(),
            "08031234567"
        );
    }

    #[test]
    fn user_names_take_radius_safe_characters_only() {
        for ok in ["alice", "Alice.Smith", "017123@dhaka-net", "a+b_c-d"] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "with space",
            "tab\there",
            "a..b",
            ".a",
            "a.",
            "a@b@c",
            "@a",
            "a@",
            "ümlaut",
            "a@.b",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Username::parse(&"a".repeat(65)).unwrap_err().code,
            "too_long"
        );
        assert_eq!(Username::parse("Alice").unwrap().key(), "alice");
    }

    #[test]
    fn ppp_passwords_must_survive_freeradius_and_routeros() {
        assert!(PppPassword::parse("password", "s3cret!#").is_ok());
        for bad in [
            "abc",
            "with space",
            "quote\"d",
            "back\\slash",
            "per%cent",
            "ünïcode1",
            "tick`",
        ] {
            assert!(PppPassword::parse("password", bad).is_err(), "{bad:?}");
        }
        assert!(
            !format!("{:?}", PppPassword::parse("password", "s3cret!#").unwrap())
                .contains("s3cret")
        );
    }

    #[test]
    fn mobiles_are_checked_against_the_tenants_country_and_stored_as_e164() {
        let bd = CountryCode::parse("country", "BD").unwrap();
        assert_eq!(
            Msisdn::parse("01712345678", &bd).unwrap().as_str(),
            "+8801712345678"
        );
        assert_eq!(
            Msisdn::parse("+880 1712-345678", &bd).unwrap().digits(),
            "8801712345678"
        );
        assert_eq!(
            Msisdn::parse("12345", &bd).unwrap_err().code,
            "invalid_mobile"
        );
        assert_eq!(
            Msisdn::parse("not a number", &bd).unwrap_err().code,
            "invalid_mobile"
        );
        let gb = CountryCode::parse("country", "GB").unwrap();
        assert_eq!(
            Msisdn::parse("07400 123456", &gb).unwrap().as_str(),
            "+447400123456"
        );
    }

    #[test]
    fn searches_for_numbers_become_e164_prefixes() {
        let bd = CountryCode::parse("country", "BD").unwrap();
        assert_eq!(
            mobile_search_prefix("01712", &bd).as_deref(),
            Some("+8801712")
        );
        assert_eq!(
            mobile_search_prefix("8801712", &bd).as_deref(),
            Some("+8801712")
        );
        assert_eq!(
            mobile_search_prefix("+44 7400", &bd).as_deref(),
            Some("+447400")
        );
        assert_eq!(mobile_search_prefix("alice", &bd), None);
        assert_eq!(mobile_search_prefix("01", &bd), None);
    }

    #[test]
    fn only_prepaid_customers_expire() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let past = Some(now - TimeDelta::minutes(1));
        assert!(is_expired(BillingType::Prepaid, past, now));
        assert!(is_expired(BillingType::Prepaid, None, now));
        assert!(!is_expired(
            BillingType::Prepaid,
            Some(now + TimeDelta::minutes(1)),
            now
        ));
        assert!(!is_expired(BillingType::Postpaid, past, now));
        assert!(!is_expired(BillingType::Free, past, now));
    }
}
