//! The indexes of the customer list's access paths (`customer::list`), measured at 10^6
//! customers on data shaped like an ISP's, with statistics absent, fresh and stale:
//!
//! - One covering index per selective filter (package, router, zone, operator,
//!   sub-operator), each leading with its filter and its most common companions and
//!   carrying every other filter column and the search box's prefix columns, so that any
//!   combination is counted and found from index entries alone; and the status index `(tenant, status, billing type, connection
//!   type, expiry, ...)`, which the list reads as a few ranges whatever the combination of
//!   enumerated filters. They replace the narrow per-filter indexes and the partial ones of
//!   `m20261124_000004_list_indexes`, which they cover. (PostgreSQL reads them with
//!   index-only scans; its `BitmapAnd` of narrow indexes had to visit every matching row.)
//! - The sort orders as global indexes `(column, id)` (creation time new),
//!   walked when many customers match, by one tenant's staff or by the Developer across
//!   tenants alike.

use sea_orm::ConnectionTrait;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The filter columns every covering index carries after its leading ones.
const CARRIED: &str = "tenant_id, status, billing_type, connection_type, expires_at, \
                       operator_id, sub_operator_id, archived_at";
/// The search box's prefix columns, carried last by every covering index: a search that
/// matches too many customers to list by id is checked on the entries, not on the rows.
pub(super) const SEARCHED: &str = "username_key, mobile, mac, static_ip";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared(
            "DROP INDEX IF EXISTS customer_name_sort_idx;
             DROP INDEX IF EXISTS customer_expiry_idx;
             CREATE INDEX customer_name_order_idx ON customer (name, id);
             CREATE INDEX customer_expiry_order_idx ON customer (expires_at, id);
             CREATE INDEX customer_created_order_idx ON customer (created_at, id);",
        )
        .await?;
        conn.execute_unprepared(
            "DROP INDEX IF EXISTS customer_package_idx;
             DROP INDEX IF EXISTS customer_router_idx;
             DROP INDEX IF EXISTS customer_zone_idx;
             DROP INDEX IF EXISTS customer_operator_idx;
             DROP INDEX IF EXISTS customer_sub_operator_idx;
             DROP INDEX IF EXISTS customer_status_idx;
             DROP INDEX IF EXISTS customer_live_idx;
             DROP INDEX IF EXISTS customer_live_status_idx;
             DROP INDEX IF EXISTS customer_router_live_idx;
             DROP INDEX IF EXISTS customer_package_live_idx;",
        )
        .await?;
        for (name, columns) in covering() {
            conn.execute_unprepared(&format!(
                "CREATE INDEX customer_by_{name}_idx ON customer ({columns}, {SEARCHED})"
            ))
            .await?;
        }
        Ok(())
    }
}

/// The covering indexes, by name (`customer_by_{name}_idx`) and columns.
pub(super) fn covering() -> [(&'static str, String); 6] {
    [
        (
            "status",
            "tenant_id, status, billing_type, connection_type, expires_at, \
             package_id, router_id, zone_id, operator_id, sub_operator_id, archived_at"
                .to_owned(),
        ),
        (
            "package",
            format!("package_id, router_id, zone_id, {CARRIED}"),
        ),
        (
            "router",
            format!("router_id, zone_id, package_id, {CARRIED}"),
        ),
        ("zone", format!("zone_id, package_id, router_id, {CARRIED}")),
        (
            "operator",
            "operator_id, package_id, router_id, zone_id, tenant_id, status, \
             billing_type, connection_type, expires_at, sub_operator_id, archived_at"
                .to_owned(),
        ),
        (
            "sub_operator",
            "sub_operator_id, package_id, router_id, zone_id, tenant_id, status, \
             billing_type, connection_type, expires_at, operator_id, archived_at"
                .to_owned(),
        ),
    ]
}
