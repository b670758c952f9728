//! `radacct`: the open sessions by their last update (`radacct_open_update_idx`), so that
//! the built-in server's stale-session sweep (`store::accounting::close_stale`) reads only
//! the sessions gone quiet, not every open one, each minute.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX radacct_open_update_idx ON radacct (acctupdatetime) \
                 WHERE acctstoptime IS NULL",
            )
            .await?;
        Ok(())
    }
}
