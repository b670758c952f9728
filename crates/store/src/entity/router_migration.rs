//! The `router_migration` table: a router-to-RADIUS migration and the local secrets it
//! disabled.

use sea_orm::entity::prelude::*;

/// A migration.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "router_migration")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub router_id: i64,
    /// What it was asked with (JSON).
    pub request: String,
    /// The names of the secrets it disabled, in order (a JSON array).
    pub disabled: String,
    /// `running`, `done` or `failed`.
    pub outcome: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// When its secrets were enabled again.
    pub reverted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
