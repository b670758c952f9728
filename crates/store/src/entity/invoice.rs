//! The `invoice` table: receipts for money taken and postpaid invoices for money owed,
//! gaplessly numbered per series.

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
    /// `paid` (receipts, credit notes, and invoices settled in full by payments and credit
    /// notes), `open` (an invoice owed), `void`.
    pub status: String,
    pub currency: String,
    pub subtotal: i64,
    pub vat: i64,
    pub total: i64,
    pub issued_at: DateTimeUtc,
    pub buyer: String,
    pub lines: String,
    /// A postpaid invoice's period, local dates: its first day and the day after its last.
    pub period_start: Option<Date>,
    pub period_end: Option<Date>,
    /// When a postpaid invoice falls due.
    pub due_at: Option<DateTimeUtc>,
    /// What was paid of it.
    pub amount_paid: i64,
    /// A postpaid invoice's split along the chain as issued (JSON `domain::billing::Split`).
    pub split: Option<String>,
    /// The billing run that issued it.
    pub run_id: Option<i64>,
    /// What credit notes took off a postpaid invoice's amount due.
    pub credited: i64,
    /// A credit note's invoice.
    pub credits_invoice_id: Option<i64>,
    /// Why a credit note was issued.
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
