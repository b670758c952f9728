//! The `gateway_event` table: the inbox of verified provider notices.

use sea_orm::entity::prelude::*;

/// A notice, as received.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "gateway_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub gateway_account_id: i64,
    pub provider_event_id: String,
    pub kind: String,
    pub provider_payment_id: String,
    pub received_at: DateTimeUtc,
    pub raw_body: String,
    pub processed_at: Option<DateTimeUtc>,
    pub outcome: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
