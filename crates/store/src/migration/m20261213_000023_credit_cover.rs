//! Credit an operator grants its sub-operator is the operator's risk (billing-design.md
//! §1.5): `ledger_account.cover_account_id` names the account that covers an account's
//! overdraft (none: the tenant does), and `debits_pending` holds, on the covering account,
//! what the accounts it covers owe below zero. A covering account may spend only its
//! balance less that hold, so an operator cannot spend the credit it extended.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LedgerAccount {
    Table,
    CoverAccountId,
    DebitsPending,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LedgerAccount::Table)
                    .add_column(
                        ColumnDef::new(LedgerAccount::CoverAccountId)
                            .big_integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LedgerAccount::Table)
                    .add_column(
                        ColumnDef::new(LedgerAccount::DebitsPending)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }
}
