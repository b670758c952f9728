//! The `customer_online` table: a row per customer with open sessions, and how many, kept
//! by the database from `radacct` (`m20261209_000016_sessions_usage`); lastmile never
//! writes it.

use sea_orm::entity::prelude::*;

/// A customer online.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_online")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: i64,
    pub tenant_id: i64,
    /// Its sessions without a stop (at least 1).
    pub sessions: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
