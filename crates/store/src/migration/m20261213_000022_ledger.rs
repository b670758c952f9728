//! The ledger (billing-design.md §1.2) and the grants of service it pays for:
//!
//! - `ledger_account`: one row per account of a tenant's book in its currency, named by
//!   its key (`reseller:42`, `revenue`), with the posted debits and credits cached and a
//!   floor for accounts that gate spending (a reseller's funds).
//! - `ledger_journal`: one row per posting, unique per tenant and idempotency key, with the
//!   hash of the request that made it (the same key with another request is refused).
//! - `ledger_entry`: the legs, each with the account's balance and version after it.
//! - `service_grant`: time bought by a recharge (minutes, when they run, what was paid
//!   along the chain), so a package change credits what was paid, not a list price.
//!
//! Journals and entries are append-only: triggers refuse UPDATE and DELETE on both engines,
//! so a mistake can only be corrected by a reversing journal.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

use super::{at, id, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone)]
enum LedgerAccount {
    Table,
    Id,
    TenantId,
    Currency,
    Key,
    Kind,
    PartyId,
    Normal,
    FloorAmount,
    DebitsPosted,
    CreditsPosted,
    Version,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum LedgerJournal {
    Table,
    Id,
    TenantId,
    Currency,
    IdempotencyKey,
    RequestHash,
    Kind,
    ReversesJournalId,
    CustomerId,
    ActorId,
    Memo,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum LedgerEntry {
    Table,
    Id,
    JournalId,
    TenantId,
    AccountId,
    Side,
    Amount,
    BalanceAfter,
    AccountVersion,
    At,
}

#[derive(DeriveIden, Clone)]
enum ServiceGrant {
    Table,
    Id,
    TenantId,
    CustomerId,
    PackageId,
    JournalId,
    StartsAt,
    EndsAt,
    Minutes,
    Price,
    Vat,
    Levels,
    EndedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let big = |name: LedgerAccount| ColumnDef::new(name).big_integer().not_null().take();
        manager
            .create_table(
                Table::create()
                    .table(LedgerAccount::Table)
                    .col(id(LedgerAccount::Id))
                    .col(big(LedgerAccount::TenantId))
                    .col(
                        ColumnDef::new(LedgerAccount::Currency)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(ColumnDef::new(LedgerAccount::Key).string_len(64).not_null())
                    .col(
                        ColumnDef::new(LedgerAccount::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(LedgerAccount::PartyId).big_integer().null())
                    .col(
                        ColumnDef::new(LedgerAccount::Normal)
                            .small_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LedgerAccount::FloorAmount)
                            .big_integer()
                            .null(),
                    )
                    .col(big(LedgerAccount::DebitsPosted).default(0))
                    .col(big(LedgerAccount::CreditsPosted).default(0))
                    .col(big(LedgerAccount::Version).default(0))
                    .col(at(LedgerAccount::CreatedAt).not_null())
                    .index(
                        Index::create()
                            .name("ledger_account_key_idx")
                            .unique()
                            .col(LedgerAccount::TenantId)
                            .col(LedgerAccount::Currency)
                            .col(LedgerAccount::Key),
                    )
                    .to_owned(),
            )
            .await?;
        let text = |name: LedgerJournal| ColumnDef::new(name).text().not_null().take();
        manager
            .create_table(
                Table::create()
                    .table(LedgerJournal::Table)
                    .col(id(LedgerJournal::Id))
                    .col(
                        ColumnDef::new(LedgerJournal::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LedgerJournal::Currency)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(text(LedgerJournal::IdempotencyKey))
                    .col(text(LedgerJournal::RequestHash))
                    .col(
                        ColumnDef::new(LedgerJournal::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LedgerJournal::ReversesJournalId)
                            .big_integer()
                            .null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(LedgerJournal::CustomerId)
                            .big_integer()
                            .null(),
                    )
                    .col(ColumnDef::new(LedgerJournal::ActorId).big_integer().null())
                    .col(text(LedgerJournal::Memo))
                    .col(at(LedgerJournal::CreatedAt).not_null())
                    .index(
                        Index::create()
                            .name("ledger_journal_key_idx")
                            .unique()
                            .col(LedgerJournal::TenantId)
                            .col(LedgerJournal::IdempotencyKey),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ledger_journal_customer_idx",
            LedgerJournal::Table,
            &[LedgerJournal::CustomerId, LedgerJournal::Id],
        )
        .await?;
        let big = |name: LedgerEntry| ColumnDef::new(name).big_integer().not_null().take();
        manager
            .create_table(
                Table::create()
                    .table(LedgerEntry::Table)
                    .col(id(LedgerEntry::Id))
                    .col(big(LedgerEntry::JournalId))
                    .col(big(LedgerEntry::TenantId))
                    .col(big(LedgerEntry::AccountId))
                    .col(ColumnDef::new(LedgerEntry::Side).small_integer().not_null())
                    .col(
                        big(LedgerEntry::Amount)
                            .check(Expr::col(LedgerEntry::Amount).gt(0))
                            .take(),
                    )
                    .col(big(LedgerEntry::BalanceAfter))
                    .col(big(LedgerEntry::AccountVersion))
                    .col(at(LedgerEntry::At).not_null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ledger_entry_account_idx",
            LedgerEntry::Table,
            &[LedgerEntry::AccountId, LedgerEntry::Id],
        )
        .await?;
        index(
            manager,
            "ledger_entry_journal_idx",
            LedgerEntry::Table,
            &[LedgerEntry::JournalId],
        )
        .await?;
        let big = |name: ServiceGrant| ColumnDef::new(name).big_integer().not_null().take();
        manager
            .create_table(
                Table::create()
                    .table(ServiceGrant::Table)
                    .col(id(ServiceGrant::Id))
                    .col(big(ServiceGrant::TenantId))
                    .col(big(ServiceGrant::CustomerId))
                    .col(big(ServiceGrant::PackageId))
                    .col(ColumnDef::new(ServiceGrant::JournalId).big_integer().null())
                    .col(at(ServiceGrant::StartsAt).not_null())
                    .col(at(ServiceGrant::EndsAt).not_null())
                    .col(big(ServiceGrant::Minutes))
                    .col(big(ServiceGrant::Price))
                    .col(big(ServiceGrant::Vat))
                    .col(ColumnDef::new(ServiceGrant::Levels).text().not_null())
                    .col(at(ServiceGrant::EndedAt).null())
                    .col(at(ServiceGrant::CreatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "service_grant_customer_idx",
            ServiceGrant::Table,
            &[ServiceGrant::CustomerId, ServiceGrant::EndsAt],
        )
        .await?;
        let conn = manager.get_connection();
        match conn.get_database_backend() {
            DatabaseBackend::Postgres => conn.execute_unprepared(POSTGRES).await?,
            _ => conn.execute_unprepared(SQLITE).await?,
        };
        Ok(())
    }
}

const SQLITE: &str = r#"
CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry
  BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only'); END;
CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry
  BEGIN SELECT RAISE(ABORT, 'ledger_entry is append-only'); END;
CREATE TRIGGER ledger_journal_no_update BEFORE UPDATE ON ledger_journal
  BEGIN SELECT RAISE(ABORT, 'ledger_journal is append-only'); END;
CREATE TRIGGER ledger_journal_no_delete BEFORE DELETE ON ledger_journal
  BEGIN SELECT RAISE(ABORT, 'ledger_journal is append-only'); END;
"#;

const POSTGRES: &str = r#"
CREATE FUNCTION lastmile_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry
  FOR EACH ROW EXECUTE FUNCTION lastmile_append_only();
CREATE TRIGGER ledger_journal_append_only BEFORE UPDATE OR DELETE ON ledger_journal
  FOR EACH ROW EXECUTE FUNCTION lastmile_append_only();
CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_entry
  FOR EACH STATEMENT EXECUTE FUNCTION lastmile_append_only();
"#;
