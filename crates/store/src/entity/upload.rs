//! The `upload` table: a file a job reads (a customer CSV), kept until the job is done.

use sea_orm::entity::prelude::*;

/// An uploaded file.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "upload")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: Option<i64>,
    pub kind: String,
    pub sha256: String,
    pub size: i64,
    pub content: Vec<u8>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
