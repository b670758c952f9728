//! The `ip_pool_range` table: one row per range of a pool, addresses as integers.

use sea_orm::entity::prelude::*;

/// A range of a pool, inclusive.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ip_pool_range")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub pool_id: i64,
    pub tenant_id: i64,
    pub first_address: i64,
    pub last_address: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
