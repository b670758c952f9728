//! The `custom_field` table: a tenant's custom field definitions for its customers.

use sea_orm::entity::prelude::*;

use super::code::Stored;
use domain::custom_field::FieldKind;

/// A custom field definition.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "custom_field")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    /// `a-z 0-9 _`, unique in the tenant.
    pub key: String,
    pub label: String,
    pub kind: Stored<FieldKind>,
    /// The options of a select field, a JSON array of strings (`[]` for the others).
    pub options: String,
    pub required: bool,
    pub in_list: bool,
    pub position: i32,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
