//! `router_health`: the last health check of each router lastmile has API access to (one
//! row per router, replaced by each check): when it was checked and last answered, its
//! RouterOS version, identity, uptime and CPU load, whether lastmile's RADIUS entry is there
//! and right, and how it drifted from its kept provisioning (the steps that would bring it
//! back; none when it did not).

use sea_orm_migration::prelude::*;

use super::at;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum RouterHealth {
    Table,
    RouterId,
    TenantId,
    CheckedAt,
    SeenAt,
    Version,
    Identity,
    Uptime,
    CpuLoad,
    RadiusOk,
    Drift,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RouterHealth::Table)
                    .col(
                        ColumnDef::new(RouterHealth::RouterId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RouterHealth::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(at(RouterHealth::CheckedAt).not_null())
                    .col(at(RouterHealth::SeenAt).null())
                    .col(ColumnDef::new(RouterHealth::Version).string_len(64).null())
                    .col(
                        ColumnDef::new(RouterHealth::Identity)
                            .string_len(255)
                            .null(),
                    )
                    .col(ColumnDef::new(RouterHealth::Uptime).string_len(64).null())
                    .col(ColumnDef::new(RouterHealth::CpuLoad).integer().null())
                    .col(ColumnDef::new(RouterHealth::RadiusOk).boolean().null())
                    .col(ColumnDef::new(RouterHealth::Drift).text().null())
                    .col(ColumnDef::new(RouterHealth::Error).text().null())
                    .to_owned(),
            )
            .await
    }
}
