//! PostgreSQL: the search box's user-name and mobile prefix indexes are on the stored
//! columns themselves (`text_pattern_ops`), carrying the id (`INCLUDE`), in place of the
//! indexes on `lower(column)` of `m20261124_000004_list_indexes`. The stored user-name key
//! is lower case and a mobile is digits, so `lower` changed nothing; but on an expression
//! PostgreSQL cannot scan the index alone, and reading whether a prefix matches more than
//! 10 000 customers (`customer::list`, the search's ids) visited 10 000 rows, scattered
//! over the table once it had changed a while. SQLite reads the plain indexes as ranges;
//! there nothing changes.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        if conn.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        conn.execute_unprepared(
            "DROP INDEX IF EXISTS customer_username_pattern_idx;
             DROP INDEX IF EXISTS customer_mobile_pattern_idx;
             CREATE INDEX customer_username_pattern_idx ON customer \
               (username_key text_pattern_ops) INCLUDE (id);
             CREATE INDEX customer_mobile_pattern_idx ON customer \
               (mobile text_pattern_ops) INCLUDE (id);",
        )
        .await?;
        Ok(())
    }
}
