//! The `sms_template` table: a tenant's own text of an event's message in one language.

use sea_orm::entity::prelude::*;

/// A template.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sms_template")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    /// `domain::sms::Event`'s name.
    pub event: String,
    /// `en` or `bn`.
    pub lang: String,
    pub text: String,
    pub updated_at: DateTimeUtc,
    pub updated_by: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
