//! The `customer_quota` table: per subscriber on a package with a volume cap or FUP steps,
//! the period it was last checked in and the level (`domain::fup::Level`) last enforced;
//! written by the usage watcher (`store::quota`).

use sea_orm::entity::prelude::*;

/// A subscriber's fair-usage standing.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_quota")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: i64,
    pub tenant_id: i64,
    /// The period's first and last days, in the tenant's calendar.
    pub period_first: Date,
    pub period_last: Date,
    /// `domain::fup::Level::code`.
    pub level: i16,
    /// The period's bytes (up and down) when last checked.
    pub used_bytes: i64,
    pub checked_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
