//! The `enforcement_attempt` table: each rung tried for an enforcement and its outcome.

use sea_orm::entity::prelude::*;

use super::code::Stored;
use domain::enforcement::Rung;

/// One attempt.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enforcement_attempt")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub enforcement_id: i64,
    pub rung: Stored<Rung>,
    pub at: DateTimeUtc,
    /// `ack`, `nak`, `timeout`, `stopped`, `removed`, `not_listed` or `error`.
    pub outcome: String,
    /// The Error-Cause of a NAK.
    pub error_cause: Option<i32>,
    /// From sending to the answer.
    pub rtt_ms: Option<i64>,
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
