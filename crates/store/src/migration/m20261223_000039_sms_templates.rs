//! The texts of messages (hotspot-design.md §4.2): `sms_template`, a tenant's own text of an
//! event's message in one language (`domain::sms::Event`; without a row, the event's
//! default text), one per tenant, event and language; and `tenant.sms_lang`, the language
//! a tenant's customers are written to in (`en` unless set).

use sea_orm_migration::prelude::*;

use super::{add_column, at, id, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum SmsTemplate {
    Table,
    Id,
    TenantId,
    Event,
    Lang,
    Text,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden, Clone)]
enum Tenant {
    Table,
    SmsLang,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SmsTemplate::Table)
                    .col(id(SmsTemplate::Id))
                    .col(
                        ColumnDef::new(SmsTemplate::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SmsTemplate::Event).string_len(32).not_null())
                    .col(ColumnDef::new(SmsTemplate::Lang).string_len(8).not_null())
                    .col(ColumnDef::new(SmsTemplate::Text).text().not_null())
                    .col(at(SmsTemplate::UpdatedAt).not_null())
                    .col(ColumnDef::new(SmsTemplate::UpdatedBy).big_integer().null())
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "sms_template_event_key",
            SmsTemplate::Table,
            &[SmsTemplate::TenantId, SmsTemplate::Event, SmsTemplate::Lang],
            None,
        )
        .await?;
        add_column(
            manager,
            Tenant::Table,
            ColumnDef::new(Tenant::SmsLang)
                .string_len(8)
                .not_null()
                .default("en")
                .take(),
        )
        .await
    }
}
