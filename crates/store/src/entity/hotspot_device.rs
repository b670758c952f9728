//! The `hotspot_device` table: devices bound to hotspot accounts.

use sea_orm::entity::prelude::*;

/// A device bound to a customer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hotspot_device")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub customer_id: i64,
    /// `AA:BB:CC:DD:EE:FF`.
    pub mac: String,
    /// A locally administered (likely private, rotating) address.
    pub randomised: bool,
    /// What the device is, read from its browser (`Android`, `iPhone`…).
    pub label: String,
    /// The router it was last seen behind.
    pub router_id: Option<i64>,
    pub first_seen_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    /// When it was removed; `None` while bound.
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
