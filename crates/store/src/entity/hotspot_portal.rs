//! The `hotspot_portal` table: a router's captive portal.

use sea_orm::entity::prelude::*;

/// A router's portal.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hotspot_portal")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub router_id: i64,
    /// The public key in the portal's addresses (`/hs/<key>/…`): names the router, proves
    /// nothing.
    pub portal_key: String,
    /// The reseller new accounts belong to; `None`: the tenant.
    pub owner_id: Option<i64>,
    /// The package new accounts are made on (unpaid until recharged).
    pub package_id: i64,
    /// The package of a mobile's one trial, if trials are offered.
    pub trial_package_id: Option<i64>,
    /// Devices an account may bind.
    pub max_devices: i32,
    /// Codes its phones may be sent in an hour, all together (SMS pumping through one
    /// hotspot).
    pub codes_per_hour: i32,
    /// Host names the router's login page may be on, comma-separated (besides private
    /// addresses).
    pub hosts: String,
    /// `active` or `disabled`.
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
