//! The `customer_name` table: every RADIUS user name a customer has had, with its time span.

use sea_orm::entity::prelude::*;

/// A user name held by a customer from `valid_from` until `valid_to` (open while held).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_name")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub customer_id: i64,
    pub username: String,
    pub username_key: String,
    pub valid_from: DateTimeUtc,
    pub valid_to: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
