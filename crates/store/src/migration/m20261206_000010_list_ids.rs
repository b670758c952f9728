//! PostgreSQL: the customer list's covering indexes (`m20261205_000009_list_access`) also
//! carry the id, the name and the creation time (`INCLUDE`), so that a page is found from
//! index entries alone, its rows then read by id. PostgreSQL's index entries point at the
//! row's place, not its id: without the id an index-only scan could count the matches but
//! not name them, and listing up to 10 000 of a reseller's ids, or sorting a few thousand
//! matches by name, visited every matching row. SQLite's index entries hold the rowid (the
//! id) already; there nothing changes.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

use super::m20261205_000009_list_access::{SEARCHED, covering};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        if conn.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        for (name, columns) in covering() {
            conn.execute_unprepared(&format!(
                "DROP INDEX IF EXISTS customer_by_{name}_idx;
                 CREATE INDEX customer_by_{name}_idx ON customer ({columns}, {SEARCHED}) \
                 INCLUDE (id, name, created_at);"
            ))
            .await?;
        }
        Ok(())
    }
}
