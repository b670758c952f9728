//! The reseller indexes (`customer_by_operator_idx`, `customer_by_sub_operator_idx`) lead
//! with the reseller and then the status index's columns (status, billing type, connection
//! type, expiry), so that a reseller's list narrowed by status is a few ranges of its own
//! index: a day's expiries inside an operator of a third of the table are read as the
//! couple of thousand entries they are, where the order of `m20261205_000009_list_access`
//! (reseller, package, router, zone, ...) made the list read every entry of the operator
//! and check the status on each. A package inside a reseller is read from the package's
//! index, which carries both reseller columns. On PostgreSQL the indexes keep carrying the
//! id, the name and the creation time (`m20261206_000010_list_ids`).

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

use super::m20261205_000009_list_access::SEARCHED;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The reseller indexes, by name (`customer_by_{name}_idx`) and columns.
pub(super) const RESELLERS: [(&str, &str); 2] = [
    (
        "operator",
        "operator_id, status, billing_type, connection_type, expires_at, \
         package_id, router_id, zone_id, tenant_id, sub_operator_id, archived_at",
    ),
    (
        "sub_operator",
        "sub_operator_id, status, billing_type, connection_type, expires_at, \
         package_id, router_id, zone_id, tenant_id, operator_id, archived_at",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let include = match conn.get_database_backend() {
            DatabaseBackend::Postgres => " INCLUDE (id, name, created_at)",
            _ => "",
        };
        for (name, columns) in RESELLERS {
            conn.execute_unprepared(&format!(
                "DROP INDEX IF EXISTS customer_by_{name}_idx;
                 CREATE INDEX customer_by_{name}_idx ON customer ({columns}, {SEARCHED}){include};"
            ))
            .await?;
        }
        Ok(())
    }
}
