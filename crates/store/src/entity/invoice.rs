//! The `invoice` table: documents of money taken (receipts so far), gaplessly numbered.

use sea_orm::entity::prelude::*;

/// A document. `buyer` is the JSON snapshot of the customer as it was called then;
/// `lines` the JSON list of lines (description, amount).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub series: String,
    pub fiscal_year: i32,
    pub number: i64,
    pub number_text: String,
    pub customer_id: i64,
    pub journal_id: Option<i64>,
    pub collector_id: Option<i64>,
    /// `paid`.
    pub status: String,
    pub currency: String,
    pub subtotal: i64,
    pub vat: i64,
    pub total: i64,
    pub issued_at: DateTimeUtc,
    pub buyer: String,
    pub lines: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
