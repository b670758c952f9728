//! Staff users: their e-mail, name and password as they come in. Access decisions are in
//! [`crate::access`]; hashing is the server's job.

use serde::{Deserialize, Serialize};

use crate::access::{Permission, PermissionSet, Role};
use crate::field::{FieldError, FieldErrors};
use crate::text::bounded;

/// The longest e-mail address (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;
/// The longest display name, in characters.
pub const NAME_MAX: usize = 120;
/// The shortest password, in characters.
pub const PASSWORD_MIN: usize = 10;
/// The longest password, in bytes (bounds hashing work).
pub const PASSWORD_MAX: usize = 256;

/// An e-mail address, lower-cased so that uniqueness ignores case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Parses an address.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err(FieldError::new("email", "required"));
        }
        if value.len() > EMAIL_MAX {
            return Err(FieldError::new("email", "too_long").with("max", EMAIL_MAX));
        }
        // Require a dotted domain: addresses of a single-label host are not reachable mail.
        let dotted = value
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.contains('.'));
        if !dotted || !email_address::EmailAddress::is_valid(&value) {
            return Err(FieldError::new("email", "invalid_email"));
        }
        Ok(Self(value))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: between [`PASSWORD_MIN`] characters and [`PASSWORD_MAX`] bytes. Its
/// `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Checks a new password's length. `field` names the input.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        if raw.chars().count() < PASSWORD_MIN {
            return Err(FieldError::new(field, "too_short").with("min", PASSWORD_MIN));
        }
        if raw.len() > PASSWORD_MAX {
            return Err(FieldError::new(field, "too_long").with("max", PASSWORD_MAX));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// A staff user's display name.
pub fn parse_name(raw: &str) -> Result<String, FieldError> {
    bounded("name", raw, 1, NAME_MAX)
}

/// A role name from the API (`sub_operator`).
pub fn parse_role(raw: &str) -> Result<Role, FieldError> {
    Role::parse(raw.trim()).ok_or_else(|| FieldError::new("role", "unknown_role"))
}

/// Permission names from the API; unknown names are errors, duplicates are harmless.
pub fn parse_permissions(raw: &[String]) -> Result<PermissionSet, FieldError> {
    raw.iter()
        .map(|name| {
            Permission::parse(name.trim()).ok_or_else(|| {
                FieldError::new("permissions", "unknown_permission").with("name", name)
            })
        })
        .collect()
}

/// A staff user's status as its managers set it. Archival is deletion, not a status one sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// May sign in.
    Active,
    /// May not sign in; kept as it is.
    Disabled,
    /// Deleted: kept for what refers to it, never signs in again.
    Archived,
}

impl UserStatus {
    /// Every status.
    pub const ALL: [UserStatus; 3] = [
        UserStatus::Active,
        UserStatus::Disabled,
        UserStatus::Archived,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
            UserStatus::Archived => "archived",
        }
    }

    /// Parses the stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// A new staff user's own fields, validated. Where it goes (tenant, parent) is decided by
/// [`crate::access::place_new_user`].
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Its e-mail, the sign-in name.
    pub email: Email,
    /// Its password.
    pub password: Password,
    /// Its display name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The permissions asked for.
    pub permissions: PermissionSet,
}

impl NewUser {
    /// Parses the fields, reporting every invalid one.
    pub fn parse(
        email: &str,
        password: &str,
        name: &str,
        role: &str,
        permissions: &[String],
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let email = errors.take(Email::parse(email));
        let password = errors.take(Password::parse("password", password));
        let name = errors.take(parse_name(name));
        let role = errors.take(parse_role(role));
        let permissions = errors.take(parse_permissions(permissions));
        errors.finish(|| {
            Some(NewUser {
                email: email?,
                password: password?,
                name: name?,
                role: role?,
                permissions: permissions?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_need_a_dotted_domain() {
        assert_eq!(
            Email::parse(" Admin@Example.COM ").unwrap().as_str(),
            "admin@example.com"
        );
        assert_eq!(
            Email::parse("admin@localhost").unwrap_err().code,
            "invalid_email"
        );
        assert_eq!(
            Email::parse("not an email").unwrap_err().code,
            "invalid_email"
        );
        assert_eq!(Email::parse("").unwrap_err().code, "required");
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long).unwrap_err().code, "too_long");
    }

    #[test]
    fn passwords_are_bounded_and_never_printed() {
        assert_eq!(
            Password::parse("password", "short").unwrap_err().code,
            "too_short"
        );
        assert_eq!(
            Password::parse("password", &"x".repeat(300))
                .unwrap_err()
                .code,
            "too_long"
        );
        let p = Password::parse("password", "correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn a_new_user_reports_every_invalid_field() {
        let errors = NewUser::parse("x", "y", "", "root", &["fly".into()]).unwrap_err();
        let fields: Vec<_> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "password", "name", "role", "permissions"]);
    }
}
