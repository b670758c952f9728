//! The `package` table: master, operator and sub-operator packages.

use sea_orm::entity::prelude::*;

use super::code::Stored;
use domain::package::{ConnectionType, PackageLevel, PackageStatus};

/// A package. Derived levels keep the service columns of their master in sync.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "package")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub level: Stored<PackageLevel>,
    pub parent_id: Option<i64>,
    pub master_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub name: String,
    pub connection_type: Stored<ConnectionType>,
    pub download_kbps: i64,
    pub upload_kbps: i64,
    pub burst_download_kbps: Option<i64>,
    pub burst_upload_kbps: Option<i64>,
    pub burst_threshold_download_kbps: Option<i64>,
    pub burst_threshold_upload_kbps: Option<i64>,
    pub burst_time_secs: Option<i32>,
    pub volume_bytes: Option<i64>,
    /// `domain::fup::Fup::to_stored`: empty for none.
    pub fup: String,
    pub validity_minutes: i64,
    pub price: i64,
    pub cost_price: i64,
    pub ip_pool_id: Option<i64>,
    pub status: Stored<PackageStatus>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub archived_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
