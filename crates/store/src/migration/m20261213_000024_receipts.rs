//! Documents of money taken (billing-design.md §3), receipts first:
//!
//! - `document_counter`: the next number per tenant, series and fiscal year. It is taken
//!   and moved on in the transaction that issues the document, so a document that rolls
//!   back gives its number back: numbers are gapless.
//! - `invoice`: the documents, each with its number (unique per tenant, series and fiscal
//!   year), the journal it records (one document per journal), the customer and what the
//!   customer was called then, the lines and the totals.

use sea_orm_migration::prelude::*;

use super::{at, id, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum DocumentCounter {
    Table,
    TenantId,
    Series,
    FiscalYear,
    NextNumber,
}

#[derive(DeriveIden, Clone)]
enum Invoice {
    Table,
    Id,
    TenantId,
    Series,
    FiscalYear,
    Number,
    NumberText,
    CustomerId,
    JournalId,
    CollectorId,
    Status,
    Currency,
    Subtotal,
    Vat,
    Total,
    IssuedAt,
    Buyer,
    Lines,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DocumentCounter::Table)
                    .col(
                        ColumnDef::new(DocumentCounter::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DocumentCounter::Series)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DocumentCounter::FiscalYear)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(DocumentCounter::NextNumber)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(DocumentCounter::TenantId)
                            .col(DocumentCounter::Series)
                            .col(DocumentCounter::FiscalYear),
                    )
                    .to_owned(),
            )
            .await?;
        let big = |name: Invoice| ColumnDef::new(name).big_integer().not_null().take();
        let text = |name: Invoice| ColumnDef::new(name).text().not_null().take();
        manager
            .create_table(
                Table::create()
                    .table(Invoice::Table)
                    .col(id(Invoice::Id))
                    .col(big(Invoice::TenantId))
                    .col(ColumnDef::new(Invoice::Series).string_len(16).not_null())
                    .col(ColumnDef::new(Invoice::FiscalYear).integer().not_null())
                    .col(big(Invoice::Number))
                    .col(text(Invoice::NumberText))
                    .col(big(Invoice::CustomerId))
                    .col(
                        ColumnDef::new(Invoice::JournalId)
                            .big_integer()
                            .null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Invoice::CollectorId).big_integer().null())
                    .col(ColumnDef::new(Invoice::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Invoice::Currency).string_len(3).not_null())
                    .col(big(Invoice::Subtotal))
                    .col(big(Invoice::Vat))
                    .col(big(Invoice::Total))
                    .col(at(Invoice::IssuedAt).not_null())
                    .col(text(Invoice::Buyer))
                    .col(text(Invoice::Lines))
                    .index(
                        Index::create()
                            .name("invoice_number_idx")
                            .unique()
                            .col(Invoice::TenantId)
                            .col(Invoice::Series)
                            .col(Invoice::FiscalYear)
                            .col(Invoice::Number),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "invoice_customer_idx",
            Invoice::Table,
            &[Invoice::CustomerId, Invoice::Id],
        )
        .await?;
        index(
            manager,
            "invoice_tenant_idx",
            Invoice::Table,
            &[Invoice::TenantId, Invoice::Id],
        )
        .await
    }
}
