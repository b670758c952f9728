//! The `customer_usage` table: bytes per customer per day (in the tenant's zone), kept by
//! the database from `radacct` (`m20261209_000016_sessions_usage`).

use sea_orm::entity::prelude::*;

/// A customer's bytes on one day.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_usage")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// From the subscriber.
    pub input_octets: i64,
    /// To the subscriber.
    pub output_octets: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
