//! The `sms_message` table: the SMS outbox, one row per message.

use sea_orm::entity::prelude::*;

/// A message to send, being sent or sent.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sms_message")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The tenant; `None` for the platform's own (a test of its default gateway).
    pub tenant_id: Option<i64>,
    /// The gateway it was sent through, or the one it must go through (a test).
    pub gateway_id: Option<i64>,
    /// The recipient, E.164.
    pub to_number: String,
    pub text: String,
    /// `otp`, `welcome`, `recharge`, `payment`, `expiry`, `due`, `suspension`, `manual` or
    /// `test`.
    pub kind: String,
    /// The caller's idempotency key, prefixed with the tenant.
    pub reference: String,
    pub parts: i32,
    /// `gsm7` or `ucs2`.
    pub encoding: String,
    /// `queued`, `sending`, `sent`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    /// When the sender may take it (again); while `sending`, when its claim lapses.
    pub next_attempt_at: DateTimeUtc,
    /// The provider's id of the message, once taken.
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
