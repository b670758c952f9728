//! The `card_batch` table: one print run of cards of one package at one face price.

use domain::card::Kind;
use sea_orm::entity::prelude::*;

use super::code::Stored;

/// A batch of cards.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "card_batch")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub kind: Stored<Kind>,
    pub package_id: i64,
    pub quantity: i32,
    /// The face price, in minor units of the tenant's currency.
    pub price: i64,
    /// What a card distributor keeps of each card's face price (it pays the rest).
    pub commission: i64,
    /// Unused after this instant, its cards expire.
    pub valid_until: Option<DateTimeUtc>,
    /// Its PINs are kept sealed, for reprint and export.
    pub keeps_pins: bool,
    /// How many times its PINs were exported.
    pub exported: i32,
    pub note: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
