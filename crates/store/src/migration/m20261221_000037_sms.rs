//! The SMS outbox (hotspot-design.md §4.2): `sms_gateway`, a gateway's settings (the whole
//! driver configuration sealed with the keyring, since each driver keeps its secrets in
//! fields of its own), a tenant's or, with no tenant, the platform's default that tenants
//! without an active gateway of their own inherit, with a daily budget of messages per
//! tenant; and `sms_message`, one message to send: idempotent on the caller's `reference`,
//! picked by the sender by `(status, next_attempt_at)`, counted per tenant and per number
//! over a day by `(tenant_id, created_at)` and `(tenant_id, to_number, created_at)`, and
//! found by a delivery report by `(gateway_id, provider_id)`; and `sms_report`, a delivery
//! report that came while its message was still being sent (before the sender recorded
//! the provider's id), held until the sender records it.

use sea_orm_migration::prelude::*;

use super::{at, id, index, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum SmsGateway {
    Table,
    Id,
    TenantId,
    Name,
    Driver,
    Settings,
    Status,
    DailyBudget,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden, Clone)]
enum SmsMessage {
    Table,
    Id,
    TenantId,
    GatewayId,
    ToNumber,
    Text,
    Kind,
    Reference,
    Parts,
    Encoding,
    Status,
    Attempts,
    NextAttemptAt,
    ProviderId,
    LastError,
    CreatedAt,
    SentAt,
    DeliveredAt,
}

#[derive(DeriveIden, Clone)]
enum SmsReport {
    Table,
    Id,
    GatewayId,
    ProviderId,
    Delivered,
    Error,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SmsGateway::Table)
                    .col(id(SmsGateway::Id))
                    .col(ColumnDef::new(SmsGateway::TenantId).big_integer().null())
                    .col(ColumnDef::new(SmsGateway::Name).text().not_null())
                    .col(ColumnDef::new(SmsGateway::Driver).string_len(32).not_null())
                    .col(ColumnDef::new(SmsGateway::Settings).text().not_null())
                    .col(ColumnDef::new(SmsGateway::Status).string_len(16).not_null())
                    .col(ColumnDef::new(SmsGateway::DailyBudget).integer().not_null())
                    .col(at(SmsGateway::CreatedAt).not_null())
                    .col(at(SmsGateway::UpdatedAt).not_null())
                    .col(ColumnDef::new(SmsGateway::Version).integer().not_null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "sms_gateway_tenant_idx",
            SmsGateway::Table,
            &[SmsGateway::TenantId, SmsGateway::Id],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(SmsMessage::Table)
                    .col(id(SmsMessage::Id))
                    // No tenant: the platform's own (a test of its default gateway).
                    .col(ColumnDef::new(SmsMessage::TenantId).big_integer().null())
                    .col(ColumnDef::new(SmsMessage::GatewayId).big_integer().null())
                    .col(
                        ColumnDef::new(SmsMessage::ToNumber)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(SmsMessage::Text).text().not_null())
                    .col(ColumnDef::new(SmsMessage::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(SmsMessage::Reference).text().not_null())
                    .col(ColumnDef::new(SmsMessage::Parts).integer().not_null())
                    .col(
                        ColumnDef::new(SmsMessage::Encoding)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(ColumnDef::new(SmsMessage::Status).string_len(16).not_null())
                    .col(ColumnDef::new(SmsMessage::Attempts).integer().not_null())
                    .col(at(SmsMessage::NextAttemptAt).not_null())
                    .col(ColumnDef::new(SmsMessage::ProviderId).text().null())
                    .col(ColumnDef::new(SmsMessage::LastError).text().null())
                    .col(at(SmsMessage::CreatedAt).not_null())
                    .col(at(SmsMessage::SentAt).null())
                    .col(at(SmsMessage::DeliveredAt).null())
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "sms_message_reference_key",
            SmsMessage::Table,
            &[SmsMessage::Reference],
            None,
        )
        .await?;
        // The sender's pick: due messages in the order they fall due.
        index(
            manager,
            "sms_message_due_idx",
            SmsMessage::Table,
            &[SmsMessage::Status, SmsMessage::NextAttemptAt],
        )
        .await?;
        // A tenant's messages of a day (its budget, the dashboard).
        index(
            manager,
            "sms_message_tenant_day_idx",
            SmsMessage::Table,
            &[SmsMessage::TenantId, SmsMessage::CreatedAt],
        )
        .await?;
        // A number's messages of a day (the anti-pumping limit).
        index(
            manager,
            "sms_message_number_idx",
            SmsMessage::Table,
            &[
                SmsMessage::TenantId,
                SmsMessage::ToNumber,
                SmsMessage::CreatedAt,
            ],
        )
        .await?;
        // The list, by tenant and id.
        index(
            manager,
            "sms_message_tenant_idx",
            SmsMessage::Table,
            &[SmsMessage::TenantId, SmsMessage::Id],
        )
        .await?;
        // A delivery report's message.
        index(
            manager,
            "sms_message_provider_idx",
            SmsMessage::Table,
            &[SmsMessage::GatewayId, SmsMessage::ProviderId],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(SmsReport::Table)
                    .col(id(SmsReport::Id))
                    .col(
                        ColumnDef::new(SmsReport::GatewayId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SmsReport::ProviderId)
                            .string_len(128)
                            .not_null(),
                    )
                    .col(ColumnDef::new(SmsReport::Delivered).boolean().not_null())
                    .col(ColumnDef::new(SmsReport::Error).text().null())
                    .col(at(SmsReport::ReceivedAt).not_null())
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "sms_report_provider_key",
            SmsReport::Table,
            &[SmsReport::GatewayId, SmsReport::ProviderId],
            None,
        )
        .await?;
        index(
            manager,
            "sms_report_received_idx",
            SmsReport::Table,
            &[SmsReport::ReceivedAt],
        )
        .await
    }
}
