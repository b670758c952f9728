//! The `ledger_account` table: an account of a tenant's book, its posted totals cached.

use sea_orm::entity::prelude::*;

/// An account. `normal` is −1 for debit-normal, +1 for credit-normal; `floor_amount` the
/// lowest normal balance allowed (`None`: no floor), spending being the balance less
/// `debits_pending`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_account")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub currency: String,
    pub key: String,
    pub kind: String,
    pub party_id: Option<i64>,
    pub normal: i16,
    pub floor_amount: Option<i64>,
    pub debits_posted: i64,
    pub credits_posted: i64,
    pub version: i64,
    pub created_at: DateTimeUtc,
    /// The account that covers this one's overdraft (an operator's, for credit it granted
    /// its sub-operator); `None`: the tenant does.
    pub cover_account_id: Option<i64>,
    /// On a covering account: what the accounts it covers owe below zero, held from its
    /// spending.
    pub debits_pending: i64,
    /// When the floor was last set by a change of terms (`None`: never since the account
    /// was made).
    pub floor_set_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
