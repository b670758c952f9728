//! The customer's own pages (`/my/{isp}`): `customer_session`, a subscriber's signed-in
//! browser, keyed by the SHA-256 of its cookie's token as the panel's sessions are. A
//! session signing in by a code sent to a mobile waits at stage `code` (the number and the
//! last code sent to it are on the row) until the code is given; only a `full` one opens
//! anything, and only for its customer.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CustomerSession {
    Table,
    Id,
    TenantId,
    CustomerId,
    Stage,
    Mobile,
    OtpId,
    Csrf,
    Lang,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    Ip,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CustomerSession::Table)
                    .col(
                        ColumnDef::new(CustomerSession::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(CustomerSession::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerSession::CustomerId)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(CustomerSession::Stage).string().not_null())
                    .col(ColumnDef::new(CustomerSession::Mobile).string().null())
                    .col(ColumnDef::new(CustomerSession::OtpId).big_integer().null())
                    .col(ColumnDef::new(CustomerSession::Csrf).string().not_null())
                    .col(ColumnDef::new(CustomerSession::Lang).string().not_null())
                    .col(
                        ColumnDef::new(CustomerSession::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerSession::LastSeenAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerSession::ExpiresAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CustomerSession::Ip).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("customer_session_customer_idx")
                    .table(CustomerSession::Table)
                    .col(CustomerSession::CustomerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("customer_session_expires_idx")
                    .table(CustomerSession::Table)
                    .col(CustomerSession::ExpiresAt)
                    .to_owned(),
            )
            .await
    }
}
