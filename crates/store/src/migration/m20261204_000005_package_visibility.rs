//! Drops `package.visibility`. It said whether a package was offered to customers choosing
//! for themselves (public) or assigned by staff only (private), but no self-service exists
//! yet, so it decided nothing; the portal and recharge cards will say what a customer may
//! pick when they come, with a rule that takes effect the day it is stored.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Package {
    Table,
    Visibility,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Package::Table)
                    .drop_column(Package::Visibility)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Package::Table)
                    .add_column(
                        ColumnDef::new(Package::Visibility)
                            .string_len(16)
                            .not_null()
                            .default("public"),
                    )
                    .to_owned(),
            )
            .await
    }
}
