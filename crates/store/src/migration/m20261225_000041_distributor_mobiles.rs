//! `tenant.distributor_mobiles`: whether a tenant's card distributors may read the mobile
//! numbers of the customers they sell to (the reference's mobiles list,
//! `/api/v1/distributor/mobiles`). Off unless the tenant turns it on: a list of every
//! customer's number is a privacy matter.

use sea_orm_migration::prelude::*;

use super::add_column;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Tenant {
    Table,
    DistributorMobiles,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            Tenant::Table,
            ColumnDef::new(Tenant::DistributorMobiles)
                .boolean()
                .not_null()
                .default(false)
                .take(),
        )
        .await
    }
}
