//! The `tax_rate` table: a tenant's VAT rates, each from the instant it applies.

use sea_orm::entity::prelude::*;

/// A rate: `rate_bp` in basis points; `inclusive` when prices include it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tax_rate")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub rate_bp: i32,
    pub inclusive: bool,
    pub effective_from: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
