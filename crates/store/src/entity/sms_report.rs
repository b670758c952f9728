//! The `sms_report` table: a delivery report held until its message is recorded as sent.

use sea_orm::entity::prelude::*;

/// A held report.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sms_report")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub gateway_id: i64,
    /// The provider's message id.
    pub provider_id: String,
    pub delivered: bool,
    pub error: Option<String>,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
