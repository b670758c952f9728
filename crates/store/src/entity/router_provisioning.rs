//! The `router_provisioning` table: a provisioning that completed on a router.

use sea_orm::entity::prelude::*;

/// A completed provisioning.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "router_provisioning")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub router_id: i64,
    /// What it was asked with (JSON).
    pub request: String,
    /// The steps applied, each with what it replaced: JSON of the keyring-sealed text (the
    /// values may be secrets).
    pub steps: String,
    pub applied_at: DateTimeUtc,
    /// When it was rolled back.
    pub reverted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
