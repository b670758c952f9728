//! `radacct` keeps FreeRADIUS's columns but only the indexes something reads. Every
//! accounting record writes the row, and each index on a column it sets is written with
//! it (SQLite: each index holding a column of the update; PostgreSQL: every index, since
//! the last update time is indexed). FreeRADIUS's stock schemas index columns that neither
//! lastmile nor FreeRADIUS's default queries look up (IPv6 prefixes, the interface id,
//! Class, the session time, the interval, the stop time, a session id that is not the
//! key), and lastmile had a second index by customer. They go.
//!
//! What stays answers a query that is made:
//! - the session key (`acctuniqueid`, unique): every record and FreeRADIUS's updates;
//! - a user's open sessions (`radacct_open_user_idx`): FreeRADIUS's simultaneous-use count;
//! - a user's sessions (SQLite `radacct_username_idx`): FreeRADIUS's counters;
//! - the framed address (SQLite): who held an address;
//! - a router's open sessions by start (`radacct_open_nas_idx`): Accounting-On and -Off, on
//!   both engines now (SQLite had the whole table by router);
//! - the open sessions by last update: the stale sweep;
//! - a tenant's and a customer's sessions, newest first: the sessions screens.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Indexes no query reads, on both engines where they exist.
const UNREAD: [&str; 12] = [
    "radacct_framedipv6address_idx",
    "radacct_framedipv6prefix_idx",
    "radacct_framedinterfaceid_idx",
    "radacct_delegatedipv6prefix_idx",
    "radacct_acctsessionid_idx",
    "radacct_acctsessiontime_idx",
    "radacct_acctstarttime_idx",
    "radacct_acctinterval_idx",
    "radacct_acctstoptime_idx",
    "radacct_class_idx",
    "radacct_customer_idx",
    // PostgreSQL: the key's own unique index already finds a session.
    "radacct_open_unique_idx",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for index in UNREAD {
            conn.execute_unprepared(&format!("DROP INDEX IF EXISTS {index}"))
                .await?;
        }
        match conn.get_database_backend() {
            DatabaseBackend::Sqlite => {
                conn.execute_unprepared(
                    "DROP INDEX IF EXISTS radacct_nasipaddress_idx; \
                     CREATE INDEX radacct_open_nas_idx ON radacct (nasipaddress, acctstarttime) \
                       WHERE acctstoptime IS NULL",
                )
                .await?;
            }
            _ => {
                // FreeRADIUS's report index by start time and user: no query here reads
                // it. Pages keep room for a session's next version, so that an update
                // can stay on its page.
                conn.execute_unprepared(
                    "DROP INDEX IF EXISTS radacct_start_user_idx; \
                     ALTER TABLE radacct SET (fillfactor = 80)",
                )
                .await?;
            }
        }
        Ok(())
    }
}
