//! Sessions and usage, kept by the database from `radacct` whoever writes it (the built-in
//! server, FreeRADIUS, a script), so that the panel and the API never scan `radacct`:
//!
//! - a session row without a customer is tied to the customer holding its user name now
//!   (`customer_name`), as FreeRADIUS writes rows lastmile never saw;
//! - `customer.open_sessions` counts the customer's open sessions (rows without a stop
//!   time), changed by the rows' own transitions (opened, closed, tied, deleted), so it is
//!   exact and costs one row update per start or stop, never a count. The customer list's
//!   covering indexes carry it: "online" is checked on the index entry, like every other
//!   filter of the list; and the customers online have their own partial index
//!   (`customer_online_idx`), which the list reads when few are online;
//! - `customer_usage` holds bytes per customer per day: every growth of a session's
//!   counters adds its difference to the day of the record, in the tenant's zone
//!   (`tenant.utc_offset_minutes`, which lastmile keeps current). A counter that a late
//!   record moves back adds nothing.
//!
//! Plus the indexes of the sessions list: a tenant's sessions, and its open ones, newest
//! first.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

use super::m20261205_000009_list_access::{SEARCHED, covering};
use super::m20261207_000011_reseller_status::RESELLERS;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Customer {
    Table,
    OpenSessions,
}

#[derive(DeriveIden)]
enum Tenant {
    Table,
    UtcOffsetMinutes,
}

#[derive(DeriveIden)]
enum CustomerUsage {
    Table,
    CustomerId,
    Day,
    InputOctets,
    OutputOctets,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Customer::Table)
                    .add_column(
                        ColumnDef::new(Customer::OpenSessions)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenant::Table)
                    .add_column(
                        ColumnDef::new(Tenant::UtcOffsetMinutes)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CustomerUsage::Table)
                    .col(
                        ColumnDef::new(CustomerUsage::CustomerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CustomerUsage::Day).date().not_null())
                    .col(
                        ColumnDef::new(CustomerUsage::InputOctets)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(CustomerUsage::OutputOctets)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .primary_key(
                        Index::create()
                            .col(CustomerUsage::CustomerId)
                            .col(CustomerUsage::Day),
                    )
                    .to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        let backend = conn.get_database_backend();
        let sql = match backend {
            DatabaseBackend::Postgres => POSTGRES,
            _ => SQLITE,
        };
        // What `radacct` holds already: tied, counted and rolled up once, before the
        // triggers exist (which would count the ties a second time).
        conn.execute_unprepared(&backfill(backend)).await?;
        conn.execute_unprepared(sql).await?;
        conn.execute_unprepared(
            "CREATE INDEX customer_online_idx ON customer (tenant_id, id) \
             WHERE open_sessions > 0",
        )
        .await?;
        for (name, columns) in covering_indexes() {
            let sql = match backend {
                DatabaseBackend::Postgres => format!(
                    "DROP INDEX IF EXISTS customer_by_{name}_idx;
                     CREATE INDEX customer_by_{name}_idx ON customer ({columns}, {SEARCHED}) \
                     INCLUDE (id, name, name_key, created_at, open_sessions);"
                ),
                _ => format!(
                    "DROP INDEX IF EXISTS customer_by_{name}_idx;
                     CREATE INDEX customer_by_{name}_idx ON customer \
                     ({columns}, {SEARCHED}, open_sessions);"
                ),
            };
            conn.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}

/// The covering indexes as they stand: the status, package, router and zone ones as
/// `m20261205_000009_list_access` made them, the reseller ones as
/// `m20261207_000011_reseller_status` reordered them.
fn covering_indexes() -> Vec<(&'static str, String)> {
    let resellers = RESELLERS.map(|(name, columns)| (name, columns.to_owned()));
    let mut indexes: Vec<(&str, String)> = covering()
        .into_iter()
        .filter(|(name, _)| !resellers.iter().any(|(r, _)| r == name))
        .collect();
    indexes.extend(resellers);
    indexes
}

/// Ties, counts and rolls up the rows written before the triggers existed (their bytes go
/// to the day of their last record).
fn backfill(backend: DatabaseBackend) -> String {
    let day = match backend {
        DatabaseBackend::Postgres => {
            "(COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime, now()) \
              AT TIME ZONE 'UTC')::date"
        }
        _ => {
            "date(COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime, unixepoch()), \
              'unixepoch')"
        }
    };
    format!(
        "UPDATE radacct SET \
           tenant_id = (SELECT n.tenant_id FROM customer_name n \
                        WHERE n.username_key = lower(radacct.username) AND n.valid_to IS NULL \
                        LIMIT 1), \
           customer_id = (SELECT n.customer_id FROM customer_name n \
                          WHERE n.username_key = lower(radacct.username) \
                            AND n.valid_to IS NULL LIMIT 1) \
         WHERE customer_id IS NULL \
           AND EXISTS (SELECT 1 FROM customer_name n \
                       WHERE n.username_key = lower(radacct.username) AND n.valid_to IS NULL);
         UPDATE customer SET open_sessions = \
           (SELECT COUNT(*) FROM radacct r \
            WHERE r.customer_id = customer.id AND r.acctstoptime IS NULL) \
         WHERE id IN (SELECT customer_id FROM radacct \
                      WHERE customer_id IS NOT NULL AND acctstoptime IS NULL);
         INSERT INTO customer_usage (customer_id, day, input_octets, output_octets) \
           SELECT r.customer_id, {day}, \
                  SUM(COALESCE(r.acctinputoctets, 0)), SUM(COALESCE(r.acctoutputoctets, 0)) \
           FROM radacct r WHERE r.customer_id IS NOT NULL \
           GROUP BY r.customer_id, {day};"
    )
}

/// PostgreSQL: the triggers as functions. A row's customer is found before it is written
/// (`BEFORE INSERT`); the count and the usage follow after. They run as their owner
/// (`SECURITY DEFINER`, with the search path they were made with): FreeRADIUS's role may
/// write `radacct` and nothing of lastmile's.
const POSTGRES: &str = r#"
CREATE FUNCTION lastmile_radacct_tie() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  found_customer bigint;
  found_tenant bigint;
BEGIN
  SELECT n.customer_id, n.tenant_id INTO found_customer, found_tenant
    FROM customer_name n
   WHERE n.username_key = lower(NEW.username) AND n.valid_to IS NULL
   LIMIT 1;
  IF FOUND THEN
    NEW.customer_id := found_customer;
    NEW.tenant_id := found_tenant;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER radacct_tie BEFORE INSERT ON radacct
  FOR EACH ROW WHEN (NEW.customer_id IS NULL)
  EXECUTE FUNCTION lastmile_radacct_tie();

CREATE FUNCTION lastmile_radacct_open() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.customer_id IS NOT NULL AND OLD.acctstoptime IS NULL THEN
    UPDATE customer SET open_sessions = open_sessions - 1 WHERE id = OLD.customer_id;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.customer_id IS NOT NULL AND NEW.acctstoptime IS NULL THEN
    UPDATE customer SET open_sessions = open_sessions + 1 WHERE id = NEW.customer_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER radacct_open_insert AFTER INSERT ON radacct
  FOR EACH ROW WHEN (NEW.customer_id IS NOT NULL AND NEW.acctstoptime IS NULL)
  EXECUTE FUNCTION lastmile_radacct_open();
CREATE TRIGGER radacct_open_update AFTER UPDATE ON radacct
  FOR EACH ROW WHEN ((OLD.acctstoptime IS NULL) <> (NEW.acctstoptime IS NULL)
                     OR OLD.customer_id IS DISTINCT FROM NEW.customer_id)
  EXECUTE FUNCTION lastmile_radacct_open();
CREATE TRIGGER radacct_open_delete AFTER DELETE ON radacct
  FOR EACH ROW WHEN (OLD.customer_id IS NOT NULL AND OLD.acctstoptime IS NULL)
  EXECUTE FUNCTION lastmile_radacct_open();

CREATE FUNCTION lastmile_radacct_usage() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  counted boolean := TG_OP = 'UPDATE' AND OLD.customer_id IS NOT DISTINCT FROM NEW.customer_id;
  grown_in bigint := GREATEST(COALESCE(NEW.acctinputoctets, 0)
    - CASE WHEN counted THEN COALESCE(OLD.acctinputoctets, 0) ELSE 0 END, 0);
  grown_out bigint := GREATEST(COALESCE(NEW.acctoutputoctets, 0)
    - CASE WHEN counted THEN COALESCE(OLD.acctoutputoctets, 0) ELSE 0 END, 0);
  offset_minutes integer;
BEGIN
  IF grown_in = 0 AND grown_out = 0 THEN
    RETURN NULL;
  END IF;
  SELECT t.utc_offset_minutes INTO offset_minutes FROM tenant t WHERE t.id = NEW.tenant_id;
  INSERT INTO customer_usage (customer_id, day, input_octets, output_octets)
  VALUES (NEW.customer_id,
          (COALESCE(NEW.acctstoptime, NEW.acctupdatetime, NEW.acctstarttime, now())
             AT TIME ZONE 'UTC' + make_interval(mins => COALESCE(offset_minutes, 0)))::date,
          grown_in, grown_out)
  ON CONFLICT (customer_id, day) DO UPDATE
    SET input_octets = customer_usage.input_octets + excluded.input_octets,
        output_octets = customer_usage.output_octets + excluded.output_octets;
  RETURN NULL;
END $$;

CREATE TRIGGER radacct_usage_insert AFTER INSERT ON radacct
  FOR EACH ROW WHEN (NEW.customer_id IS NOT NULL)
  EXECUTE FUNCTION lastmile_radacct_usage();
CREATE TRIGGER radacct_usage_update AFTER UPDATE ON radacct
  FOR EACH ROW WHEN (NEW.customer_id IS NOT NULL
                     AND (OLD.customer_id IS DISTINCT FROM NEW.customer_id
                          OR NEW.acctinputoctets IS DISTINCT FROM OLD.acctinputoctets
                          OR NEW.acctoutputoctets IS DISTINCT FROM OLD.acctoutputoctets))
  EXECUTE FUNCTION lastmile_radacct_usage();

CREATE INDEX radacct_tenant_idx ON radacct (tenant_id, radacctid);
CREATE INDEX radacct_tenant_open_idx ON radacct (tenant_id, radacctid) WHERE acctstoptime IS NULL;
CREATE INDEX radacct_customer_id_idx ON radacct (customer_id, radacctid);
"#;

/// SQLite: the same as triggers; a row is tied after it is written (SQLite cannot change a
/// row before), and the tie's update moves the count and the usage like any other update.
/// `radacct` times are Unix seconds there, as FreeRADIUS's SQLite queries write them.
const SQLITE: &str = r#"
CREATE TRIGGER radacct_tie AFTER INSERT ON radacct
  WHEN NEW.customer_id IS NULL
   AND EXISTS (SELECT 1 FROM customer_name n
                WHERE n.username_key = lower(NEW.username) AND n.valid_to IS NULL)
BEGIN
  UPDATE radacct SET
    customer_id = (SELECT n.customer_id FROM customer_name n
                    WHERE n.username_key = lower(NEW.username) AND n.valid_to IS NULL LIMIT 1),
    tenant_id = (SELECT n.tenant_id FROM customer_name n
                  WHERE n.username_key = lower(NEW.username) AND n.valid_to IS NULL LIMIT 1)
  WHERE radacctid = NEW.radacctid;
END;

CREATE TRIGGER radacct_open_insert AFTER INSERT ON radacct
  WHEN NEW.customer_id IS NOT NULL AND NEW.acctstoptime IS NULL
BEGIN
  UPDATE customer SET open_sessions = open_sessions + 1 WHERE id = NEW.customer_id;
END;

CREATE TRIGGER radacct_open_update AFTER UPDATE OF acctstoptime, customer_id ON radacct
  WHEN (OLD.acctstoptime IS NULL) <> (NEW.acctstoptime IS NULL)
    OR OLD.customer_id IS NOT NEW.customer_id
BEGIN
  UPDATE customer SET open_sessions = open_sessions - 1
   WHERE id = OLD.customer_id AND OLD.acctstoptime IS NULL;
  UPDATE customer SET open_sessions = open_sessions + 1
   WHERE id = NEW.customer_id AND NEW.acctstoptime IS NULL;
END;

CREATE TRIGGER radacct_open_delete AFTER DELETE ON radacct
  WHEN OLD.customer_id IS NOT NULL AND OLD.acctstoptime IS NULL
BEGIN
  UPDATE customer SET open_sessions = open_sessions - 1 WHERE id = OLD.customer_id;
END;

CREATE TRIGGER radacct_usage_insert AFTER INSERT ON radacct
  WHEN NEW.customer_id IS NOT NULL
   AND (COALESCE(NEW.acctinputoctets, 0) > 0 OR COALESCE(NEW.acctoutputoctets, 0) > 0)
BEGIN
  INSERT INTO customer_usage (customer_id, day, input_octets, output_octets)
  VALUES (NEW.customer_id,
          date(COALESCE(NEW.acctstoptime, NEW.acctupdatetime, NEW.acctstarttime, unixepoch())
               + 60 * COALESCE((SELECT t.utc_offset_minutes FROM tenant t
                                 WHERE t.id = NEW.tenant_id), 0), 'unixepoch'),
          MAX(COALESCE(NEW.acctinputoctets, 0), 0), MAX(COALESCE(NEW.acctoutputoctets, 0), 0))
  ON CONFLICT (customer_id, day) DO UPDATE
    SET input_octets = input_octets + excluded.input_octets,
        output_octets = output_octets + excluded.output_octets;
END;

CREATE TRIGGER radacct_usage_update
  AFTER UPDATE OF acctinputoctets, acctoutputoctets, customer_id ON radacct
  WHEN NEW.customer_id IS NOT NULL
   AND (OLD.customer_id IS NOT NEW.customer_id
        OR COALESCE(NEW.acctinputoctets, 0) > COALESCE(OLD.acctinputoctets, 0)
        OR COALESCE(NEW.acctoutputoctets, 0) > COALESCE(OLD.acctoutputoctets, 0))
BEGIN
  INSERT INTO customer_usage (customer_id, day, input_octets, output_octets)
  VALUES (NEW.customer_id,
          date(COALESCE(NEW.acctstoptime, NEW.acctupdatetime, NEW.acctstarttime, unixepoch())
               + 60 * COALESCE((SELECT t.utc_offset_minutes FROM tenant t
                                 WHERE t.id = NEW.tenant_id), 0), 'unixepoch'),
          MAX(COALESCE(NEW.acctinputoctets, 0)
              - CASE WHEN OLD.customer_id IS NEW.customer_id
                     THEN COALESCE(OLD.acctinputoctets, 0) ELSE 0 END, 0),
          MAX(COALESCE(NEW.acctoutputoctets, 0)
              - CASE WHEN OLD.customer_id IS NEW.customer_id
                     THEN COALESCE(OLD.acctoutputoctets, 0) ELSE 0 END, 0))
  ON CONFLICT (customer_id, day) DO UPDATE
    SET input_octets = input_octets + excluded.input_octets,
        output_octets = output_octets + excluded.output_octets;
END;

CREATE INDEX radacct_tenant_idx ON radacct (tenant_id, radacctid);
CREATE INDEX radacct_tenant_open_idx ON radacct (tenant_id, radacctid) WHERE acctstoptime IS NULL;
CREATE INDEX radacct_customer_id_idx ON radacct (customer_id, radacctid);
"#;
