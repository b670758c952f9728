//! The `payment` table: money taken from a customer, one journal each.

use sea_orm::entity::prelude::*;

/// A payment.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub customer_id: i64,
    /// `cash` or `online`.
    pub method: String,
    pub amount: i64,
    pub currency: String,
    /// The staff user or reseller who took it.
    pub collector_id: Option<i64>,
    pub journal_id: i64,
    /// The receipt issued for it.
    pub receipt_id: Option<i64>,
    pub received_at: DateTimeUtc,
    /// An online payment's merchant account and the provider's transaction id.
    pub gateway_account_id: Option<i64>,
    pub provider_txn_id: Option<String>,
    /// The intent it fulfils.
    pub intent_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
