//! Recharge cards (hotspot-design §3.3): `card_key`, each tenant's secret key for the keyed
//! hash a card's PIN is found by (random, sealed, made with the tenant's first batch);
//! `card_batch`, one print run of one package at one face price; `card`, one card with its
//! public serial, the keyed hash of its PIN (unique in the tenant), the PIN sealed for
//! reprint when the batch keeps it, its state and holder, and what redeemed it; and
//! `card_attempt`, every redemption tried (the input only as a keyed hash), which the
//! guessing limits count and an investigation reads.

use sea_orm_migration::prelude::*;

use super::{at, id, index, unique};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum CardKey {
    Table,
    TenantId,
    Sealed,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum CardBatch {
    Table,
    Id,
    TenantId,
    Kind,
    PackageId,
    Quantity,
    Price,
    ValidUntil,
    KeepsPins,
    Exported,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum Card {
    Table,
    Id,
    TenantId,
    BatchId,
    Serial,
    Lookup,
    Sealed,
    Tail,
    State,
    ResumeTo,
    HolderId,
    ValidUntil,
    AssignedAt,
    SoldAt,
    RedeemedAt,
    RedeemedBy,
    JournalId,
    Version,
}

#[derive(DeriveIden, Clone)]
enum CardAttempt {
    Table,
    Id,
    TenantId,
    Subject,
    Outcome,
    InputHash,
    CardId,
    CustomerId,
    At,
}

fn big(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).big_integer().not_null().take()
}

fn short(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).string_len(16).not_null().take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CardKey::Table)
                    .col(big(CardKey::TenantId).primary_key())
                    .col(ColumnDef::new(CardKey::Sealed).text().not_null())
                    .col(at(CardKey::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CardBatch::Table)
                    .col(id(CardBatch::Id))
                    .col(big(CardBatch::TenantId))
                    .col(short(CardBatch::Kind))
                    .col(big(CardBatch::PackageId))
                    .col(ColumnDef::new(CardBatch::Quantity).integer().not_null())
                    .col(big(CardBatch::Price))
                    .col(at(CardBatch::ValidUntil).null())
                    .col(ColumnDef::new(CardBatch::KeepsPins).boolean().not_null())
                    .col(ColumnDef::new(CardBatch::Exported).integer().not_null())
                    .col(ColumnDef::new(CardBatch::Note).text().not_null())
                    .col(ColumnDef::new(CardBatch::CreatedBy).big_integer().null())
                    .col(at(CardBatch::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "card_batch_tenant_idx",
            CardBatch::Table,
            &[CardBatch::TenantId, CardBatch::Id],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Card::Table)
                    .col(id(Card::Id))
                    .col(big(Card::TenantId))
                    .col(big(Card::BatchId))
                    .col(ColumnDef::new(Card::Serial).string_len(32).not_null())
                    .col(ColumnDef::new(Card::Lookup).string_len(64).not_null())
                    .col(ColumnDef::new(Card::Sealed).text().null())
                    .col(ColumnDef::new(Card::Tail).string_len(4).not_null())
                    .col(short(Card::State))
                    .col(ColumnDef::new(Card::ResumeTo).string_len(16).null())
                    .col(ColumnDef::new(Card::HolderId).big_integer().null())
                    .col(at(Card::ValidUntil).null())
                    .col(at(Card::AssignedAt).null())
                    .col(at(Card::SoldAt).null())
                    .col(at(Card::RedeemedAt).null())
                    .col(ColumnDef::new(Card::RedeemedBy).big_integer().null())
                    .col(ColumnDef::new(Card::JournalId).big_integer().null())
                    .col(ColumnDef::new(Card::Version).integer().not_null())
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "card_serial_key",
            Card::Table,
            &[Card::TenantId, Card::Serial],
            None,
        )
        .await?;
        unique(
            manager,
            "card_lookup_key",
            Card::Table,
            &[Card::TenantId, Card::Lookup],
            None,
        )
        .await?;
        index(
            manager,
            "card_batch_idx",
            Card::Table,
            &[Card::BatchId, Card::Id],
        )
        .await?;
        index(
            manager,
            "card_holder_idx",
            Card::Table,
            &[Card::TenantId, Card::HolderId, Card::State],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(CardAttempt::Table)
                    .col(id(CardAttempt::Id))
                    .col(big(CardAttempt::TenantId))
                    .col(ColumnDef::new(CardAttempt::Subject).text().not_null())
                    .col(short(CardAttempt::Outcome))
                    .col(
                        ColumnDef::new(CardAttempt::InputHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(CardAttempt::CardId).big_integer().null())
                    .col(ColumnDef::new(CardAttempt::CustomerId).big_integer().null())
                    .col(at(CardAttempt::At).not_null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "card_attempt_subject_idx",
            CardAttempt::Table,
            &[CardAttempt::TenantId, CardAttempt::Subject, CardAttempt::At],
        )
        .await?;
        index(
            manager,
            "card_attempt_tenant_idx",
            CardAttempt::Table,
            &[CardAttempt::TenantId, CardAttempt::At],
        )
        .await
    }
}
