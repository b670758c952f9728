//! The `session` table: web panel sessions, and the stages a session passes through.

use sea_orm::entity::prelude::*;

use super::code::Stored;
use domain::code::Code;

/// A panel session. `id` is the SHA-256 (hex) of the cookie's token; `stage` is `mfa` until
/// the second factor is given, then `full`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: i64,
    pub stage: Stored<Stage>,
    pub csrf: String,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A session's stage: waiting for the second factor, or signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Password given, TOTP code awaited. Grants nothing else.
    Mfa,
    /// Signed in.
    Full,
}

impl Stage {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Mfa => "mfa",
            Stage::Full => "full",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        [Stage::Mfa, Stage::Full]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

impl Code for Stage {
    const SET: &'static str = "session stage";

    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
