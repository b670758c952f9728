//! The `signup_draft` table: a staff sign-up in progress, kept between the wizard's steps.

use sea_orm::entity::prelude::*;

/// A sign-up draft.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signup_draft")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    /// The staff member who started it.
    pub author_id: i64,
    /// The step reached (`domain::customer::signup::Step`), the one to fill next.
    pub step: String,
    /// The values typed so far (`domain::customer::signup::DraftValues` as JSON).
    pub values: String,
    /// The customer's password, sealed; `None` until typed.
    pub secret: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
