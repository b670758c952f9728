//! The `enforcement` table: a live session a change must reach, and where that stands.

use sea_orm::entity::prelude::*;

use super::code::Stored;
use domain::enforcement::{EnforcementStatus, Rung};

/// One session to end. `radacct_id` is the session's row; the session's identifiers are
/// copied, as the router must be asked with them even once the row is gone.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enforcement")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub customer_id: i64,
    pub radacct_id: Option<i64>,
    pub router_id: Option<i64>,
    pub username: String,
    pub acct_session_id: String,
    pub nas_ip: String,
    pub framed_ip: Option<String>,
    /// The rate a CoA carries to the session (`Mikrotik-Rate-Limit`); none to end it.
    pub rate_limit: Option<String>,
    /// Why: `disconnect` (asked for), and later the changes that end sessions.
    pub reason: String,
    pub status: Stored<EnforcementStatus>,
    /// The last rung tried.
    pub rung: Option<Stored<Rung>>,
    /// What the last rung came to, in words.
    pub detail: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub done_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
