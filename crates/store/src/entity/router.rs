//! The `router` table: NAS devices, mirrored into `nas`.

use sea_orm::entity::prelude::*;

/// A router. `secret` and `api_password` are sealed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "router")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    pub nas_address: String,
    pub secret: String,
    pub api_address: Option<String>,
    pub api_port: i32,
    pub api_user: Option<String>,
    pub api_password: Option<String>,
    pub api_tls: bool,
    pub api_tls_trust: String,
    pub api_tls_fingerprint: Option<String>,
    pub api_tls_ca: Option<String>,
    pub time_zone: Option<String>,
    pub notes: String,
    pub require_message_authenticator: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub archived_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
