//! The `card_attempt` table: every card redemption tried, for the guessing limits and for
//! investigations.

use sea_orm::entity::prelude::*;

/// An attempt.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "card_attempt")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    /// Who tried (`customer:<id>`, `user:<id>`, `device:<nas>:<mac>`).
    pub subject: String,
    /// `redeemed`, `typo`, `unknown`, `refused` or `limited`.
    pub outcome: String,
    /// The keyed hash of what was typed (hex).
    pub input_hash: String,
    pub card_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
