//! The `customer_field_value` table: a customer's value of one custom field, with the
//! index key the customer list's filter compares.

use sea_orm::entity::prelude::*;

/// One value.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_field_value")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub field_id: i64,
    pub tenant_id: i64,
    /// The value as stored (`domain::custom_field::FieldValue::stored`).
    pub value: String,
    /// Its index key (`domain::custom_field::FieldValue::key`).
    pub value_key: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
