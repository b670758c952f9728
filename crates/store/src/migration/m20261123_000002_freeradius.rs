//! The FreeRADIUS tables (`radacct`, `radcheck`, `radreply`, `radgroupcheck`,
//! `radgroupreply`, `radusergroup`, `radpostauth`, `nas`, `nasreload`), per backend. The
//! test `freeradius_schema` compares them with the schema files of the installed FreeRADIUS.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES: &str = include_str!("sql/freeradius_postgres.sql");
const SQLITE: &str = include_str!("sql/freeradius_sqlite.sql");

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES,
            DatabaseBackend::Sqlite => SQLITE,
            other => {
                return Err(DbErr::Migration(format!(
                    "no FreeRADIUS schema for {other:?} yet"
                )));
            }
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }
}
