//! The `staff_user` table.

use sea_orm::entity::prelude::*;

use super::code::Stored;
use domain::user::UserStatus;

/// A staff user row. `role` is the level of design.md §3; `permissions` a JSON array of
/// permission names; `totp_secret` is sealed (see `crate::crypto`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: Option<i64>,
    pub email: String,
    pub name: String,
    pub role: i16,
    pub parent_id: Option<i64>,
    pub permissions: String,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    pub status: Stored<UserStatus>,
    pub version: i32,
    pub last_login_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub archived_at: Option<DateTimeUtc>,
    pub totp_last_step: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
