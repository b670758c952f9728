//! The `card` table: one recharge card.

use domain::card::State;
use sea_orm::entity::prelude::*;

use super::code::Stored;

/// A card.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "card")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub batch_id: i64,
    /// The public serial (`B0421-000137`).
    pub serial: String,
    /// The keyed hash of its PIN (hex), unique in the tenant.
    pub lookup: String,
    /// Its PIN, sealed, when its batch keeps them.
    pub sealed: Option<String>,
    /// The PIN's last two digits, for lists.
    pub tail: String,
    pub state: Stored<State>,
    /// Where a suspended card goes back to.
    pub resume_to: Option<Stored<State>>,
    /// The reseller or distributor holding it (none: the tenant's own stock).
    pub holder_id: Option<i64>,
    pub valid_until: Option<DateTimeUtc>,
    pub assigned_at: Option<DateTimeUtc>,
    pub sold_at: Option<DateTimeUtc>,
    pub redeemed_at: Option<DateTimeUtc>,
    /// The customer it was redeemed for.
    pub redeemed_by: Option<i64>,
    /// The recharge's journal.
    pub journal_id: Option<i64>,
    /// What its distributor paid for it ahead (face price less commission), refunded when
    /// it leaves that distributor unredeemed.
    pub paid: Option<i64>,
    /// The distributor who paid [`Model::paid`].
    pub paid_by: Option<i64>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
