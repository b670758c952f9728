//! What is sent and in which order:
//!
//! - `sms_message_kind_due_idx`: messages by kind, status and when they fall due, so the
//!   sender picks sign-in codes first (`store::sms::claim`) however many reminders wait
//!   behind them;
//! - `sms_event_off`: the events a tenant sends no message for (`domain::sms::Event`; a row
//!   is an event switched off, one per tenant and event).

use sea_orm_migration::prelude::*;

use super::{at, id, index, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum SmsMessage {
    Table,
    Kind,
    Status,
    NextAttemptAt,
}

#[derive(DeriveIden, Clone)]
enum SmsEventOff {
    Table,
    Id,
    TenantId,
    Event,
    UpdatedAt,
    UpdatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(
            manager,
            "sms_message_kind_due_idx",
            SmsMessage::Table,
            &[
                SmsMessage::Kind,
                SmsMessage::Status,
                SmsMessage::NextAttemptAt,
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(SmsEventOff::Table)
                    .col(id(SmsEventOff::Id))
                    .col(
                        ColumnDef::new(SmsEventOff::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SmsEventOff::Event).string_len(32).not_null())
                    .col(at(SmsEventOff::UpdatedAt).not_null())
                    .col(ColumnDef::new(SmsEventOff::UpdatedBy).big_integer().null())
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "sms_event_off_key",
            SmsEventOff::Table,
            &[SmsEventOff::TenantId, SmsEventOff::Event],
            None,
        )
        .await
    }
}
