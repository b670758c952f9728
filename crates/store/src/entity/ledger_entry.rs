//! The `ledger_entry` table: the legs of journals. Append-only.

use sea_orm::entity::prelude::*;

/// A leg: `side` −1 debit, +1 credit; `balance_after` the account's normal balance after it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub journal_id: i64,
    pub tenant_id: i64,
    pub account_id: i64,
    pub side: i16,
    pub amount: i64,
    pub balance_after: i64,
    pub account_version: i64,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
