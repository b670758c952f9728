//! `router_provisioning`: each provisioning that completed on a router, with the request it
//! was made from and its steps (each with the values it replaced), so that it can be rolled
//! back on request and the router checked for drift from it later. `reverted_at` is set
//! when it was rolled back.

use sea_orm_migration::prelude::*;

use super::{at, id, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum RouterProvisioning {
    Table,
    Id,
    TenantId,
    RouterId,
    Request,
    Steps,
    AppliedAt,
    RevertedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RouterProvisioning::Table)
                    .col(id(RouterProvisioning::Id))
                    .col(
                        ColumnDef::new(RouterProvisioning::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RouterProvisioning::RouterId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(RouterProvisioning::Request)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RouterProvisioning::Steps).text().not_null())
                    .col(at(RouterProvisioning::AppliedAt).not_null())
                    .col(at(RouterProvisioning::RevertedAt).null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "router_provisioning_router_idx",
            RouterProvisioning::Table,
            &[RouterProvisioning::RouterId, RouterProvisioning::Id],
        )
        .await
    }
}
