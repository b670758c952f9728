//! The `billing_run` table: one run per tenant, kind and period, with its cursor.

use sea_orm::entity::prelude::*;

/// A run.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "billing_run")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    /// `invoice`, `overdue`, `expiry`, `remind`.
    pub kind: String,
    /// The period it is for (`2026-12-01`: a date, or a slot of a day).
    pub period_key: String,
    /// `running` or `done`.
    pub status: String,
    /// The last customer id a committed batch covered.
    pub cursor_id: i64,
    /// What it did so far (JSON counts).
    pub counts: String,
    pub started_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
