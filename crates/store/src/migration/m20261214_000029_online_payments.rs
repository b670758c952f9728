//! Online payments (billing-design.md §4.1):
//!
//! - `gateway_account`: a tenant's merchant account at a provider, its API base and its
//!   secrets sealed with the keyring.
//! - `payment_intent`: a payment asked for, with our own unique `merchant_ref` and the amount
//!   our math set (never the browser's), its status and the provider's payment id.
//! - `gateway_event`: the raw inbox of verified provider notices, unique per merchant
//!   account and provider event id, so a duplicate delivery inserts nothing.
//! - `payment`: the gateway account and provider transaction of an online payment, unique
//!   together, and the intent it fulfils (at most one payment each).

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

use super::{add_column as add, at, id, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum GatewayAccount {
    Table,
    Id,
    TenantId,
    Provider,
    Name,
    BaseUrl,
    SecretKey,
    WebhookSecret,
    Status,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum PaymentIntent {
    Table,
    Id,
    TenantId,
    CustomerId,
    GatewayAccountId,
    MerchantRef,
    Purpose,
    PackageId,
    Amount,
    Currency,
    Status,
    Outcome,
    ProviderPaymentId,
    RedirectUrl,
    PaymentId,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone)]
enum GatewayEvent {
    Table,
    Id,
    TenantId,
    GatewayAccountId,
    ProviderEventId,
    Kind,
    ProviderPaymentId,
    ReceivedAt,
    RawBody,
    ProcessedAt,
    Outcome,
}

#[derive(DeriveIden, Clone)]
enum Payment {
    Table,
    GatewayAccountId,
    ProviderTxnId,
    IntentId,
}

fn big(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().take()
}

fn text(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).text().not_null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GatewayAccount::Table)
                    .col(id(GatewayAccount::Id))
                    .col(big(GatewayAccount::TenantId))
                    .col(
                        ColumnDef::new(GatewayAccount::Provider)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GatewayAccount::Name)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(text(GatewayAccount::BaseUrl))
                    .col(text(GatewayAccount::SecretKey))
                    .col(text(GatewayAccount::WebhookSecret))
                    .col(
                        ColumnDef::new(GatewayAccount::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(GatewayAccount::Version).integer().not_null())
                    .col(at(GatewayAccount::CreatedAt).not_null())
                    .col(at(GatewayAccount::UpdatedAt).not_null())
                    .index(
                        Index::create()
                            .name("gateway_account_name_idx")
                            .unique()
                            .col(GatewayAccount::TenantId)
                            .col(GatewayAccount::Name),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PaymentIntent::Table)
                    .col(id(PaymentIntent::Id))
                    .col(big(PaymentIntent::TenantId))
                    .col(big(PaymentIntent::CustomerId))
                    .col(big(PaymentIntent::GatewayAccountId))
                    .col(
                        ColumnDef::new(PaymentIntent::MerchantRef)
                            .string_len(40)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(PaymentIntent::Purpose)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PaymentIntent::PackageId)
                            .big_integer()
                            .null(),
                    )
                    .col(big(PaymentIntent::Amount))
                    .col(
                        ColumnDef::new(PaymentIntent::Currency)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PaymentIntent::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(PaymentIntent::Outcome).string_len(32).null())
                    .col(
                        ColumnDef::new(PaymentIntent::ProviderPaymentId)
                            .text()
                            .null(),
                    )
                    .col(ColumnDef::new(PaymentIntent::RedirectUrl).text().null())
                    .col(
                        ColumnDef::new(PaymentIntent::PaymentId)
                            .big_integer()
                            .null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(PaymentIntent::CreatedBy)
                            .big_integer()
                            .null(),
                    )
                    .col(at(PaymentIntent::CreatedAt).not_null())
                    .col(at(PaymentIntent::ExpiresAt).not_null())
                    .col(at(PaymentIntent::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "payment_intent_customer_idx",
            PaymentIntent::Table,
            &[PaymentIntent::CustomerId, PaymentIntent::Id],
        )
        .await?;
        let conn = manager.get_connection();
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX payment_intent_provider_idx ON payment_intent \
               (gateway_account_id, provider_payment_id);
             CREATE INDEX payment_intent_pending_idx ON payment_intent (status, created_at) \
               WHERE status = 'pending';",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(GatewayEvent::Table)
                    .col(id(GatewayEvent::Id))
                    .col(big(GatewayEvent::TenantId))
                    .col(big(GatewayEvent::GatewayAccountId))
                    .col(text(GatewayEvent::ProviderEventId))
                    .col(ColumnDef::new(GatewayEvent::Kind).string_len(64).not_null())
                    .col(text(GatewayEvent::ProviderPaymentId))
                    .col(at(GatewayEvent::ReceivedAt).not_null())
                    .col(text(GatewayEvent::RawBody))
                    .col(at(GatewayEvent::ProcessedAt).null())
                    .col(ColumnDef::new(GatewayEvent::Outcome).string_len(32).null())
                    .index(
                        Index::create()
                            .name("gateway_event_provider_idx")
                            .unique()
                            .col(GatewayEvent::GatewayAccountId)
                            .col(GatewayEvent::ProviderEventId),
                    )
                    .to_owned(),
            )
            .await?;

        add(
            manager,
            Payment::Table,
            ColumnDef::new(Payment::GatewayAccountId)
                .big_integer()
                .null()
                .take(),
        )
        .await?;
        add(
            manager,
            Payment::Table,
            ColumnDef::new(Payment::ProviderTxnId).text().null().take(),
        )
        .await?;
        add(
            manager,
            Payment::Table,
            ColumnDef::new(Payment::IntentId)
                .big_integer()
                .null()
                .take(),
        )
        .await?;
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX payment_provider_txn_idx ON payment \
               (gateway_account_id, provider_txn_id);
             CREATE UNIQUE INDEX payment_intent_once_idx ON payment (intent_id);",
        )
        .await?;
        Ok(())
    }
}
