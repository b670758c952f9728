//! The `payment_intent` table: an online payment asked for, before and after it is paid.

use sea_orm::entity::prelude::*;

/// An intent.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_intent")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub customer_id: i64,
    pub gateway_account_id: i64,
    /// Ours, unique: the provider carries it back.
    pub merchant_ref: String,
    /// `invoices` (a postpaid customer's open invoices) or `recharge` (one validity of
    /// `package_id`).
    pub purpose: String,
    pub package_id: Option<i64>,
    pub amount: i64,
    pub currency: String,
    /// `pending`, `succeeded`, `failed` or `expired`.
    pub status: String,
    /// What settling it found (`paid`, `amount_mismatch`, `credited_to_account`, ...).
    pub outcome: Option<String>,
    pub provider_payment_id: Option<String>,
    pub redirect_url: Option<String>,
    pub payment_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
