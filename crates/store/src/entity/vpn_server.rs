//! The `vpn_server` table: a tenant's VPN router, its tunnel and what it hands out.

use sea_orm::entity::prelude::*;

/// A VPN server.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vpn_server")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub router_id: i64,
    /// `l2tp_ipsec`, `sstp` or `pptp`.
    pub protocol: String,
    /// Where remote routers dial it.
    pub public_host: String,
    /// The pool tunnel addresses come from.
    pub pool_id: i64,
    /// The router's end of every tunnel.
    pub local_address: String,
    /// The IPsec pre-shared key, sealed (L2TP only).
    pub ipsec_secret: Option<String>,
    pub port_first: i32,
    pub port_last: i32,
    /// Each tunnel's speed, kbit/s.
    pub rate_kbps: i32,
    pub created_at: DateTimeUtc,
    pub archived_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
