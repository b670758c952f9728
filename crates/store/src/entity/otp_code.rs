//! The `otp_code` table: one-time codes sent by SMS, kept as keyed hashes.

use sea_orm::entity::prelude::*;

/// A code sent.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "otp_code")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    /// The portal visit it was sent in.
    pub portal_session_id: Option<i64>,
    /// The router the visit came through.
    pub router_id: Option<i64>,
    /// `domain::otp::Purpose`.
    pub purpose: String,
    /// The number, E.164.
    pub msisdn: String,
    /// HMAC-SHA256 of the code with what it is bound to, hex.
    pub code_mac: String,
    pub tries: i32,
    pub created_at: DateTimeUtc,
    /// When it dies (a new code for the same visit ends the old one at once).
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
