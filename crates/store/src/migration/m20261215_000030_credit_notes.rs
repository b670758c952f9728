//! Credit notes and the tax challan's facts (billing-design.md §3.3, §3.4):
//!
//! - `invoice.credited`: what credit notes took off a postpaid invoice's amount due;
//!   `invoice.credits_invoice_id` and `invoice.reason`: the invoice a credit note reduces
//!   and why.
//! - `tenant.bin` and `tenant.address`: the registered seller's Business Identification
//!   Number and address, printed on Mushak-6.3.
//! - `gateway_account.key_id` and `gateway_account.username`: the public halves of the
//!   credentials bKash (app key, user name) and SSLCommerz (store id) need beside the two
//!   sealed secrets.

use sea_orm_migration::prelude::*;

use super::{add_column as add, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Invoice {
    Table,
    Credited,
    CreditsInvoiceId,
    Reason,
}

#[derive(DeriveIden)]
enum Tenant {
    Table,
    Bin,
    Address,
}

#[derive(DeriveIden)]
enum GatewayAccount {
    Table,
    KeyId,
    Username,
}

fn text_default(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).text().not_null().default("").take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add(
            manager,
            Invoice::Table,
            ColumnDef::new(Invoice::Credited)
                .big_integer()
                .not_null()
                .default(0)
                .take(),
        )
        .await?;
        add(
            manager,
            Invoice::Table,
            ColumnDef::new(Invoice::CreditsInvoiceId)
                .big_integer()
                .null()
                .take(),
        )
        .await?;
        add(
            manager,
            Invoice::Table,
            ColumnDef::new(Invoice::Reason).text().null().take(),
        )
        .await?;
        index(
            manager,
            "invoice_credits_idx",
            Invoice::Table,
            &[Invoice::CreditsInvoiceId],
        )
        .await?;
        add(manager, Tenant::Table, text_default(Tenant::Bin)).await?;
        add(manager, Tenant::Table, text_default(Tenant::Address)).await?;
        add(
            manager,
            GatewayAccount::Table,
            text_default(GatewayAccount::KeyId),
        )
        .await?;
        add(
            manager,
            GatewayAccount::Table,
            text_default(GatewayAccount::Username),
        )
        .await
    }
}
