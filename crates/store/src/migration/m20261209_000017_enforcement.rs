//! The enforcement ladder's records (`store::enforcement`): one `enforcement` row per live
//! session a change must reach (the session, its router, why, where it stands) and one
//! `enforcement_attempt` row per rung tried (what was sent, what came back, how long it
//! took), so the customer's page shows each attempt and its outcome.

use sea_orm_migration::prelude::*;

use super::{at, id};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Enforcement {
    Table,
    Id,
    TenantId,
    CustomerId,
    RadacctId,
    RouterId,
    Username,
    AcctSessionId,
    NasIp,
    FramedIp,
    Reason,
    Status,
    Rung,
    Detail,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    DoneAt,
}

#[derive(DeriveIden)]
enum EnforcementAttempt {
    Table,
    Id,
    EnforcementId,
    Rung,
    At,
    Outcome,
    ErrorCause,
    RttMs,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let text = |name: Enforcement| ColumnDef::new(name).text().not_null().take();
        manager
            .create_table(
                Table::create()
                    .table(Enforcement::Table)
                    .col(id(Enforcement::Id))
                    .col(
                        ColumnDef::new(Enforcement::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Enforcement::CustomerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Enforcement::RadacctId).big_integer().null())
                    .col(ColumnDef::new(Enforcement::RouterId).big_integer().null())
                    .col(text(Enforcement::Username))
                    .col(text(Enforcement::AcctSessionId))
                    .col(text(Enforcement::NasIp))
                    .col(ColumnDef::new(Enforcement::FramedIp).text().null())
                    .col(text(Enforcement::Reason))
                    .col(
                        ColumnDef::new(Enforcement::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Enforcement::Rung).string_len(16).null())
                    .col(text(Enforcement::Detail))
                    .col(ColumnDef::new(Enforcement::CreatedBy).big_integer().null())
                    .col(at(Enforcement::CreatedAt).not_null())
                    .col(at(Enforcement::UpdatedAt).not_null())
                    .col(at(Enforcement::DoneAt).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("enforcement_customer_idx")
                    .table(Enforcement::Table)
                    .col(Enforcement::CustomerId)
                    .col(Enforcement::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EnforcementAttempt::Table)
                    .col(id(EnforcementAttempt::Id))
                    .col(
                        ColumnDef::new(EnforcementAttempt::EnforcementId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(EnforcementAttempt::Rung)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(at(EnforcementAttempt::At).not_null())
                    .col(
                        ColumnDef::new(EnforcementAttempt::Outcome)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(EnforcementAttempt::ErrorCause)
                            .integer()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(EnforcementAttempt::RttMs)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(EnforcementAttempt::Detail).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("enforcement_attempt_enforcement_idx")
                    .table(EnforcementAttempt::Table)
                    .col(EnforcementAttempt::EnforcementId)
                    .col(EnforcementAttempt::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
