//! The `router_health` table: the last health check of a router.

use sea_orm::entity::prelude::*;

/// A router's last check.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "router_health")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub router_id: i64,
    pub tenant_id: i64,
    pub checked_at: DateTimeUtc,
    /// When it last answered.
    pub seen_at: Option<DateTimeUtc>,
    pub version: Option<String>,
    pub identity: Option<String>,
    pub uptime: Option<String>,
    pub cpu_load: Option<i32>,
    /// Whether lastmile's RADIUS entry is there and right (none: never provisioned).
    pub radius_ok: Option<bool>,
    /// The steps that would bring it back to its kept provisioning (JSON), when it drifted.
    pub drift: Option<String>,
    /// Why the check failed.
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
