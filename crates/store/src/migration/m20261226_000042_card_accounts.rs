//! What card distributors pay for their cards (hotspot-design §3.3, "distributor
//! accounting"): `card_batch.commission`, what a distributor keeps of each card's face
//! price, and on each card what its distributor paid for it ahead (`card.paid`, by
//! `card.paid_by`), so that a card taken back or voided unredeemed is refunded to exactly
//! who paid, and a card redeemed is not charged twice.

use sea_orm_migration::prelude::*;

use super::add_column;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum CardBatch {
    Table,
    Commission,
}

#[derive(DeriveIden, Clone)]
enum Card {
    Table,
    Paid,
    PaidBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            CardBatch::Table,
            ColumnDef::new(CardBatch::Commission)
                .big_integer()
                .not_null()
                .default(0)
                .take(),
        )
        .await?;
        add_column(
            manager,
            Card::Table,
            ColumnDef::new(Card::Paid).big_integer().null().take(),
        )
        .await?;
        add_column(
            manager,
            Card::Table,
            ColumnDef::new(Card::PaidBy).big_integer().null().take(),
        )
        .await
    }
}
