//! Indexes the customer list needs at 10^6 customers, found by the `isp` benchmark with the
//! query plans of each backend:
//!
//! - The capped total of a list filtered by router and package (with or without a status)
//!   read every counted row from the table to check the other filters: up to 10 001 random
//!   reads, a second on a cold PostgreSQL cache. Partial indexes over the live rows, keyed
//!   by router then package and by package then router and carrying the columns of the
//!   status filters, answer those counts from the index alone (an index-only scan on
//!   PostgreSQL, a covering index on SQLite).
//! - PostgreSQL: a `LIKE` prefix (`LOWER(col) LIKE 'p%'`) of the search box, on the user
//!   name or the mobile, can use only a `text_pattern_ops` index on the lowered column (the
//!   database collation's b-tree order is not a prefix order), so without one the whole
//!   search condition, an `OR` with the trigram name match, fell back to a sequential scan.
//!   With them the planner answers the `OR` with a `BitmapOr` of these and the trigram index.
//!   (SQLite takes its prefixes as ranges of the plain indexes: see `customer::list`.)
//! - SQLite: the capped total of the unfiltered list and of the status filters read every
//!   counted row from the table to check `archived_at` (and `billing_type`), thousands of
//!   random reads per page. Partial indexes over the live rows, carrying the status columns,
//!   answer those counts from the index alone.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                conn.execute_unprepared(
                    "CREATE INDEX customer_username_pattern_idx ON customer \
                       (lower(username_key) text_pattern_ops);
                     CREATE INDEX customer_mobile_pattern_idx ON customer \
                       (lower(mobile) text_pattern_ops);
                     CREATE INDEX customer_router_live_idx ON customer (router_id, package_id) \
                       INCLUDE (tenant_id, status, billing_type, expires_at) \
                       WHERE archived_at IS NULL;
                     CREATE INDEX customer_package_live_idx ON customer (package_id, router_id) \
                       INCLUDE (tenant_id, status, billing_type, expires_at) \
                       WHERE archived_at IS NULL;",
                )
                .await?;
            }
            _ => {
                conn.execute_unprepared(
                    "CREATE INDEX customer_live_idx ON customer (tenant_id, id) \
                       WHERE archived_at IS NULL;
                     CREATE INDEX customer_live_status_idx ON customer \
                       (tenant_id, status, billing_type, expires_at) WHERE archived_at IS NULL;
                     CREATE INDEX customer_router_live_idx ON customer \
                       (router_id, package_id, tenant_id, status, billing_type, expires_at) \
                       WHERE archived_at IS NULL;
                     CREATE INDEX customer_package_live_idx ON customer \
                       (package_id, router_id, tenant_id, status, billing_type, expires_at) \
                       WHERE archived_at IS NULL;",
                )
                .await?;
            }
        }
        Ok(())
    }
}
