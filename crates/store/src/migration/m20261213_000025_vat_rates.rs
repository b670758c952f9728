//! VAT rates per tenant, effective from a date (billing-design.md §3.2): `tax_rate` keeps
//! every rate a tenant set with the instant it applies from, so a sale uses the rate in
//! force when it happened and a rate change never rewrites the past.

use sea_orm_migration::prelude::*;

use super::{at, id, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum TaxRate {
    Table,
    Id,
    TenantId,
    RateBp,
    Inclusive,
    EffectiveFrom,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TaxRate::Table)
                    .col(id(TaxRate::Id))
                    .col(ColumnDef::new(TaxRate::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(TaxRate::RateBp).integer().not_null())
                    .col(ColumnDef::new(TaxRate::Inclusive).boolean().not_null())
                    .col(at(TaxRate::EffectiveFrom).not_null())
                    .col(at(TaxRate::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "tax_rate_tenant_idx",
            TaxRate::Table,
            &[TaxRate::TenantId, TaxRate::EffectiveFrom],
        )
        .await
    }
}
