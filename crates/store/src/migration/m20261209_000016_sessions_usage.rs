//! Sessions and usage, kept by the database from `radacct` whoever writes it (the built-in
//! server, FreeRADIUS, a script), so that the panel and the API never scan `radacct`:
//!
//! - a session row without a customer is tied to the customer holding its user name now
//!   (`customer_name`), as FreeRADIUS writes rows lastmile never saw;
//! - `customer_online` holds a row per customer with open sessions (rows without a stop
//!   time) and their number, changed by the sessions' own transitions (opened, closed,
//!   tied, deleted): exact, and one small row written per start or stop, never a count. It
//!   is a table of its own, not a column of `customer`: a customer row carries a dozen
//!   indexes, and on PostgreSQL an update of an indexed column writes an entry in each of
//!   them (SQLite: in each index holding the column), so every start and stop would have
//!   cost a dozen index writes;
//! - `customer_usage` holds bytes per customer per day: every growth of a session's
//!   counters adds its difference to the day of the record, in the tenant's zone
//!   (`tenant.utc_offset_minutes`, which lastmile keeps current). A counter that a late
//!   record moves back adds nothing.
//!
//! Plus the indexes of the sessions list: a tenant's sessions, and its open ones, newest
//! first.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CustomerOnline {
    Table,
    CustomerId,
    TenantId,
    Sessions,
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
            .create_table(
                Table::create()
                    .table(CustomerOnline::Table)
                    .col(
                        ColumnDef::new(CustomerOnline::CustomerId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(CustomerOnline::TenantId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CustomerOnline::Sessions)
                            .integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("customer_online_tenant_idx")
                    .table(CustomerOnline::Table)
                    .col(CustomerOnline::TenantId)
                    .col(CustomerOnline::CustomerId)
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
        Ok(())
    }
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
         INSERT INTO customer_online (customer_id, tenant_id, sessions) \
           SELECT c.id, c.tenant_id, COUNT(*) FROM radacct r JOIN customer c ON c.id = r.customer_id \
           WHERE r.acctstoptime IS NULL GROUP BY c.id, c.tenant_id;
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
    UPDATE customer_online SET sessions = sessions - 1 WHERE customer_id = OLD.customer_id;
    DELETE FROM customer_online WHERE customer_id = OLD.customer_id AND sessions <= 0;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.customer_id IS NOT NULL AND NEW.acctstoptime IS NULL THEN
    INSERT INTO customer_online (customer_id, tenant_id, sessions)
    SELECT c.id, c.tenant_id, 1 FROM customer c WHERE c.id = NEW.customer_id
    ON CONFLICT (customer_id) DO UPDATE SET sessions = customer_online.sessions + 1;
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
  INSERT INTO customer_online (customer_id, tenant_id, sessions)
  SELECT c.id, c.tenant_id, 1 FROM customer c WHERE c.id = NEW.customer_id
  ON CONFLICT (customer_id) DO UPDATE SET sessions = sessions + 1;
END;

CREATE TRIGGER radacct_open_update AFTER UPDATE OF acctstoptime, customer_id ON radacct
  WHEN (OLD.acctstoptime IS NULL) <> (NEW.acctstoptime IS NULL)
    OR OLD.customer_id IS NOT NEW.customer_id
BEGIN
  UPDATE customer_online SET sessions = sessions - 1
   WHERE customer_id = OLD.customer_id AND OLD.acctstoptime IS NULL;
  DELETE FROM customer_online WHERE customer_id = OLD.customer_id AND sessions <= 0;
  INSERT INTO customer_online (customer_id, tenant_id, sessions)
  SELECT c.id, c.tenant_id, 1 FROM customer c
   WHERE c.id = NEW.customer_id AND NEW.acctstoptime IS NULL
  ON CONFLICT (customer_id) DO UPDATE SET sessions = sessions + 1;
END;

CREATE TRIGGER radacct_open_delete AFTER DELETE ON radacct
  WHEN OLD.customer_id IS NOT NULL AND OLD.acctstoptime IS NULL
BEGIN
  UPDATE customer_online SET sessions = sessions - 1 WHERE customer_id = OLD.customer_id;
  DELETE FROM customer_online WHERE customer_id = OLD.customer_id AND sessions <= 0;
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
