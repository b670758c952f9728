//! The `aaa_change` table: the AAA change log.

use sea_orm::entity::prelude::*;

/// One change that may alter a subscriber's AAA decision.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "aaa_change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub at: DateTimeUtc,
    pub tenant_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub kind: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
