//! Fair usage (`domain::fup`): a package's FUP steps (`package.fup`, JSON, empty for none),
//! the new rate an enforcement carries to a live session by CoA (`enforcement.rate_limit`,
//! none for a session to end), and the level of each capped subscriber as last enforced in
//! its period (`customer_quota`), which the usage watcher compares with its usage.

use sea_orm_migration::prelude::*;

use super::at;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Package {
    Table,
    Fup,
}

#[derive(DeriveIden)]
enum Enforcement {
    Table,
    RateLimit,
}

#[derive(DeriveIden)]
enum CustomerQuota {
    Table,
    CustomerId,
    TenantId,
    PeriodFirst,
    PeriodLast,
    Level,
    UsedBytes,
    CheckedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Package::Table)
                    .add_column(ColumnDef::new(Package::Fup).text().not_null().default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Enforcement::Table)
                    .add_column(ColumnDef::new(Enforcement::RateLimit).text().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CustomerQuota::Table)
                    .col(
                        ColumnDef::new(CustomerQuota::CustomerId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(CustomerQuota::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CustomerQuota::PeriodFirst).date().not_null())
                    .col(ColumnDef::new(CustomerQuota::PeriodLast).date().not_null())
                    .col(
                        ColumnDef::new(CustomerQuota::Level)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerQuota::UsedBytes)
                            .big_integer()
                            .not_null(),
                    )
                    .col(at(CustomerQuota::CheckedAt).not_null())
                    .to_owned(),
            )
            .await?;
        // The watcher looks for periods that have ended.
        manager
            .create_index(
                Index::create()
                    .name("customer_quota_period_last_idx")
                    .table(CustomerQuota::Table)
                    .col(CustomerQuota::PeriodLast)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
