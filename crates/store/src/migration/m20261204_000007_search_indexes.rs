//! The search box takes the start of a MAC address: on PostgreSQL its `LIKE` on the lowered
//! column needs a `text_pattern_ops` index (as the user name and the mobile have), or a
//! search in a tenant of 10^6 customers would read them all. SQLite takes the prefix as a
//! range of the MAC index it has.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE INDEX customer_mac_pattern_idx ON customer \
                       (lower(mac) text_pattern_ops) WHERE archived_at IS NULL",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP INDEX IF EXISTS customer_mac_pattern_idx")
                .await?;
        }
        Ok(())
    }
}
