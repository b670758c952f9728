//! The `portal_session` table: one phone's visit to the captive portal.

use sea_orm::entity::prelude::*;

/// A visit, from the router's login page to the hand-off.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "portal_session")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// SHA-256 of the visit's cookie, hex.
    pub token_hash: String,
    pub tenant_id: i64,
    pub portal_id: i64,
    pub router_id: i64,
    /// The MAC the router said (a hint).
    pub mac: Option<String>,
    pub ip: Option<String>,
    /// Where the hand-off goes (checked against the portal's hosts).
    pub login_url: String,
    /// The address the phone first asked for.
    pub dst: Option<String>,
    pub chap_id: Option<i32>,
    /// The router's CHAP challenge, hex.
    pub chap_challenge: Option<String>,
    /// The router's last login error, as a code.
    pub router_error: Option<String>,
    /// `en` or `bn`.
    pub lang: String,
    /// The mobile a code was sent to, E.164.
    pub mobile: Option<String>,
    /// When that mobile was proved.
    pub verified_at: Option<DateTimeUtc>,
    /// The account the visit signs in as.
    pub customer_id: Option<i64>,
    /// Codes sent in this visit.
    pub codes: i32,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub handed_off_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
