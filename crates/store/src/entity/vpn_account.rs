//! The `vpn_account` table: one remote router's access through a VPN server.

use sea_orm::entity::prelude::*;

/// A VPN account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vpn_account")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub server_id: i64,
    /// The RADIUS user name (`lmvpn-…`).
    pub username: String,
    /// The password, sealed.
    pub password: String,
    /// The tunnel address.
    pub address: String,
    /// The public port forwarded to its Winbox.
    pub port: i32,
    /// The customer whose router it reaches, if a customer's.
    pub customer_id: Option<i64>,
    /// The staff user (a reseller) whose router it reaches, if a staff user's.
    pub user_id: Option<i64>,
    /// What the staff call it.
    pub label: String,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
