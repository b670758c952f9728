//! The `notification` table: reminders and notices queued for a channel (SMS), once per
//! dedupe key.

use sea_orm::entity::prelude::*;

/// A notification.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub customer_id: Option<i64>,
    /// `expiry_reminder`, `due_reminder`, `suspended_unpaid`, `invoice_issued`, ...
    pub kind: String,
    /// `sms`.
    pub channel: String,
    pub dedupe_key: String,
    /// What the message is made from (JSON).
    pub params: String,
    /// `queued` until a sender takes it.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
