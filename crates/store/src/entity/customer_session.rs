//! The `customer_session` table: a subscriber signed in to its own pages (`/my/{isp}`).

use sea_orm::entity::prelude::*;

/// A subscriber's browser. `id` is the SHA-256 (hex) of the cookie's token; `stage` is
/// `code` while a code sent to `mobile` is awaited, then `full`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_session")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub tenant_id: i64,
    /// The customer it acts for (none until a code proves the mobile).
    pub customer_id: Option<i64>,
    pub stage: String,
    /// The mobile signing in by a code, E.164.
    pub mobile: Option<String>,
    /// The last code sent to it (`otp_code`).
    pub otp_id: Option<i64>,
    pub csrf: String,
    /// `en` or `bn`.
    pub lang: String,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub ip: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
