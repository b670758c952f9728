//! PostgreSQL: the trigger functions that keep the books from `radacct` (the tie to a
//! customer, who is online, usage per day, the session log) plan their queries once per
//! connection and reuse the plan (`plan_cache_mode = force_generic_plan`, set on each
//! function), where they planned them again for every row.
//!
//! PL/pgSQL keeps each query's plan, but for a query with parameters (the row's values)
//! PostgreSQL's plan cache keeps making custom plans when a generic one does not look
//! cheaper, and these lookups by key never do: planning was half of what the triggers cost,
//! three tenths of PostgreSQL's time on an accounting batch, for any writer (the built-in
//! server, FreeRADIUS, the stale sweep). Every query in them finds its rows by a primary or
//! unique key, which a generic plan does as well as a custom one.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The functions `radacct`'s row triggers run.
const FUNCTIONS: [&str; 4] = [
    "lastmile_radacct_tie()",
    "lastmile_radacct_open()",
    "lastmile_radacct_usage()",
    "lastmile_aaa_session()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        if conn.get_database_backend() == DatabaseBackend::Postgres {
            for function in FUNCTIONS {
                conn.execute_unprepared(&format!(
                    "ALTER FUNCTION {function} SET plan_cache_mode = force_generic_plan"
                ))
                .await?;
            }
        }
        Ok(())
    }
}
