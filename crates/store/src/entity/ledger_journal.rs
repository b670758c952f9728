//! The `ledger_journal` table: one posting, under its idempotency key. Append-only.

use sea_orm::entity::prelude::*;

/// A journal.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_journal")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub currency: String,
    pub idempotency_key: String,
    pub request_hash: String,
    pub kind: String,
    pub reverses_journal_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub memo: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
