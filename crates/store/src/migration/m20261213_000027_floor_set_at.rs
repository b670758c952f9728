//! When an account's floor was last set (`ledger_account.floor_set_at`). The owner may cut a
//! reseller's credit while it owes more than the new limit: the reseller then spends nothing
//! until it pays, and that account below its floor is the owner's decision, not a posting
//! that slipped past the gate. `ledger verify` tells the two apart by this time.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LedgerAccount {
    Table,
    FloorSetAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(LedgerAccount::Table)
                    .add_column(
                        ColumnDef::new(LedgerAccount::FloorSetAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }
}
