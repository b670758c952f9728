//! The `service_grant` table: time a recharge bought, and what was paid for it.

use sea_orm::entity::prelude::*;

/// A grant. `levels` is the JSON list of `domain::billing::Level` (each reseller's cost,
/// lowest first); `ended_at` is set when a package change credited its unused time.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_grant")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub customer_id: i64,
    pub package_id: i64,
    pub journal_id: Option<i64>,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub minutes: i64,
    pub price: i64,
    pub vat: i64,
    pub levels: String,
    pub ended_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
