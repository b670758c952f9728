//! The `customer` table: subscribers.

use sea_orm::entity::prelude::*;

use super::code::Stored;
use domain::customer::{BillingType, CustomerStatus};
use domain::package::ConnectionType;

/// A customer. `password` is sealed; `static_ip` is the IPv4 address as an integer;
/// `username_key` is the lower-cased user name.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub operator_id: Option<i64>,
    pub sub_operator_id: Option<i64>,
    pub package_id: i64,
    pub connection_type: Stored<ConnectionType>,
    pub billing_type: Stored<BillingType>,
    pub name: String,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub address: String,
    pub zone_id: Option<i64>,
    pub router_id: Option<i64>,
    pub username: String,
    pub username_key: String,
    pub password: String,
    pub status: Stored<CustomerStatus>,
    pub expires_at: Option<DateTimeUtc>,
    pub static_ip: Option<i64>,
    pub ip_pool_id: Option<i64>,
    pub mac: Option<String>,
    pub simultaneous_use: i32,
    pub comment: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub archived_at: Option<DateTimeUtc>,
    /// Why a billing run suspended it (`unpaid`); none when staff did, or it is not.
    pub suspended_for: Option<String>,
    /// A monthly PPPoE customer's own price, in minor units (none: its package's).
    pub custom_price: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
