//! `router_migration`: each router-to-RADIUS migration, with the local PPP secrets it
//! disabled (their names, in order, written after each batch), so that a migration that
//! failed halfway, or one rolled back on request, re-enables exactly those and no secret
//! that was disabled before it. `finished_at` is set when it ended (`outcome` says how),
//! `reverted_at` when its secrets were enabled again.

use sea_orm_migration::prelude::*;

use super::{at, id, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum RouterMigration {
    Table,
    Id,
    TenantId,
    RouterId,
    Request,
    Disabled,
    Outcome,
    StartedAt,
    FinishedAt,
    RevertedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RouterMigration::Table)
                    .col(id(RouterMigration::Id))
                    .col(
                        ColumnDef::new(RouterMigration::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RouterMigration::RouterId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RouterMigration::Request).text().not_null())
                    .col(ColumnDef::new(RouterMigration::Disabled).text().not_null())
                    .col(
                        ColumnDef::new(RouterMigration::Outcome)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(at(RouterMigration::StartedAt).not_null())
                    .col(at(RouterMigration::FinishedAt).null())
                    .col(at(RouterMigration::RevertedAt).null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "router_migration_router_idx",
            RouterMigration::Table,
            &[RouterMigration::RouterId, RouterMigration::Id],
        )
        .await
    }
}
