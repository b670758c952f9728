//! Reports read a tenant's ledger entries over a period (the accountant's report per
//! reseller): `ledger_entry (tenant_id, at)` serves them without reading the whole book.

use sea_orm_migration::prelude::*;

use super::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum LedgerEntry {
    Table,
    TenantId,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(
            manager,
            "ledger_entry_tenant_at_idx",
            LedgerEntry::Table,
            &[LedgerEntry::TenantId, LedgerEntry::At],
        )
        .await
    }
}
