//! Postpaid billing, payments and billing runs (billing-design.md §3, §4.1, §5):
//!
//! - `tenant`: the postpaid terms (`billing_day`, 0 for the month's last; `due_days`,
//!   `grace_days`, `remind_days`).
//! - `invoice`: a postpaid invoice's period (`period_start`, `period_end`, local dates),
//!   `due_at`, what was paid of it (`amount_paid`), its split along the chain as issued
//!   (`split`, JSON: the figures a payment is shared by, whatever the prices are later) and
//!   the run that issued it. One live invoice per customer and period: a partial unique
//!   index, so a re-run of a period issues nothing.
//! - `customer.suspended_for`: why a run suspended it (`unpaid`), so that paying resumes
//!   only what non-payment suspended, never a suspension by staff.
//! - `payment`: money taken from a customer (cash now, online later), one journal each.
//! - `billing_run`: one row per tenant, kind and period, with the cursor a crashed run
//!   resumes from and what it did.
//! - `notification`: reminders and notices queued for SMS, once per dedupe key.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

use super::{add_column as add, at, id, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum Tenant {
    Table,
    BillingDay,
    DueDays,
    GraceDays,
    RemindDays,
}

#[derive(DeriveIden, Clone)]
enum Invoice {
    Table,
    PeriodStart,
    PeriodEnd,
    DueAt,
    AmountPaid,
    Split,
    RunId,
}

#[derive(DeriveIden, Clone)]
enum Customer {
    Table,
    SuspendedFor,
}

#[derive(DeriveIden, Clone)]
enum Payment {
    Table,
    Id,
    TenantId,
    CustomerId,
    Method,
    Amount,
    Currency,
    CollectorId,
    JournalId,
    ReceiptId,
    ReceivedAt,
}

#[derive(DeriveIden, Clone)]
enum BillingRun {
    Table,
    Id,
    TenantId,
    Kind,
    PeriodKey,
    Status,
    CursorId,
    Counts,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden, Clone)]
enum Notification {
    Table,
    Id,
    TenantId,
    CustomerId,
    Kind,
    Channel,
    DedupeKey,
    Params,
    Status,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let small = |name: Tenant, default: i32| {
            ColumnDef::new(name)
                .integer()
                .not_null()
                .default(default)
                .take()
        };
        add(manager, Tenant::Table, small(Tenant::BillingDay, 1)).await?;
        add(manager, Tenant::Table, small(Tenant::DueDays, 7)).await?;
        add(manager, Tenant::Table, small(Tenant::GraceDays, 3)).await?;
        add(manager, Tenant::Table, small(Tenant::RemindDays, 3)).await?;

        add(
            manager,
            Invoice::Table,
            ColumnDef::new(Invoice::PeriodStart).date().null().take(),
        )
        .await?;
        add(
            manager,
            Invoice::Table,
            ColumnDef::new(Invoice::PeriodEnd).date().null().take(),
        )
        .await?;
        add(manager, Invoice::Table, at(Invoice::DueAt).null().take()).await?;
        add(
            manager,
            Invoice::Table,
            ColumnDef::new(Invoice::AmountPaid)
                .big_integer()
                .not_null()
                .default(0)
                .take(),
        )
        .await?;
        add(
            manager,
            Invoice::Table,
            ColumnDef::new(Invoice::Split).text().null().take(),
        )
        .await?;
        add(
            manager,
            Invoice::Table,
            ColumnDef::new(Invoice::RunId).big_integer().null().take(),
        )
        .await?;
        add(
            manager,
            Customer::Table,
            ColumnDef::new(Customer::SuspendedFor)
                .string_len(16)
                .null()
                .take(),
        )
        .await?;
        let conn = manager.get_connection();
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX invoice_period_idx ON invoice (customer_id, period_start) \
               WHERE series = 'invoice' AND status <> 'void';
             CREATE INDEX invoice_open_due_idx ON invoice (tenant_id, due_at) \
               WHERE status = 'open';",
        )
        .await?;

        let big = |name| ColumnDef::new(name).big_integer().not_null().take();
        manager
            .create_table(
                Table::create()
                    .table(Payment::Table)
                    .col(id(Payment::Id))
                    .col(big(Payment::TenantId))
                    .col(big(Payment::CustomerId))
                    .col(ColumnDef::new(Payment::Method).string_len(16).not_null())
                    .col(big(Payment::Amount))
                    .col(ColumnDef::new(Payment::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Payment::CollectorId).big_integer().null())
                    .col(big(Payment::JournalId).unique_key().take())
                    .col(ColumnDef::new(Payment::ReceiptId).big_integer().null())
                    .col(at(Payment::ReceivedAt).not_null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "payment_tenant_idx",
            Payment::Table,
            &[Payment::TenantId, Payment::ReceivedAt],
        )
        .await?;
        index(
            manager,
            "payment_customer_idx",
            Payment::Table,
            &[Payment::CustomerId, Payment::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(BillingRun::Table)
                    .col(id(BillingRun::Id))
                    .col(
                        ColumnDef::new(BillingRun::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(BillingRun::Kind).string_len(16).not_null())
                    .col(
                        ColumnDef::new(BillingRun::PeriodKey)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(BillingRun::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(BillingRun::CursorId)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(BillingRun::Counts).text().not_null())
                    .col(at(BillingRun::StartedAt).not_null())
                    .col(at(BillingRun::FinishedAt).null())
                    .index(
                        Index::create()
                            .name("billing_run_period_idx")
                            .unique()
                            .col(BillingRun::TenantId)
                            .col(BillingRun::Kind)
                            .col(BillingRun::PeriodKey),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notification::Table)
                    .col(id(Notification::Id))
                    .col(
                        ColumnDef::new(Notification::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Notification::CustomerId)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(Notification::Kind).string_len(32).not_null())
                    .col(
                        ColumnDef::new(Notification::Channel)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Notification::DedupeKey)
                            .text()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Notification::Params).text().not_null())
                    .col(
                        ColumnDef::new(Notification::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(at(Notification::CreatedAt).not_null())
                    .col(at(Notification::SentAt).null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "notification_status_idx",
            Notification::Table,
            &[Notification::Status, Notification::Id],
        )
        .await?;
        index(
            manager,
            "notification_customer_idx",
            Notification::Table,
            &[Notification::CustomerId, Notification::Id],
        )
        .await
    }
}
