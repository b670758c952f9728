//! Traffic for the graphs, kept by the database from `radacct` whoever writes it (the
//! built-in server, FreeRADIUS, a script), as the daily usage is (`000016`):
//!
//! - every growth of a session's counters appends what grew, and over which seconds (from
//!   the session's previous record to this one), to `traffic_delta`: one small row with no
//!   index but its key, so that a record costs its router one append. A session that starts
//!   again starts a new row, so a restart never reads as a drop; a counter that a late
//!   record moves back adds nothing;
//! - `store::traffic::roll_up` takes those rows in batches and spreads each over the
//!   five-minute and hourly buckets its seconds cover, for the customer, its router and its
//!   tenant, in `traffic_point`, deleting the rows it took in the same transaction;
//! - `traffic_point` holds a ring of buckets per owner and step (`domain::traffic::Ring`):
//!   a bucket's slot is its time modulo the ring, so a new bucket takes the place of the
//!   one a ring ago, and nothing has to be purged.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let sql = match conn.get_database_backend() {
            DatabaseBackend::Postgres => POSTGRES,
            _ => SQLITE,
        };
        conn.execute_unprepared(sql).await?;
        Ok(())
    }
}

/// PostgreSQL: the tables, and the trigger as a function run as its owner (FreeRADIUS's
/// role writes `radacct` and nothing of lastmile's), planned once per connection.
const POSTGRES: &str = r#"
CREATE TABLE traffic_delta (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id bigint NOT NULL,
  tenant_id bigint,
  nas_ip text NOT NULL,
  since bigint NOT NULL,
  until bigint NOT NULL,
  input bigint NOT NULL,
  output bigint NOT NULL
);

CREATE TABLE traffic_point (
  owner_kind smallint NOT NULL,
  owner_id bigint NOT NULL,
  step integer NOT NULL,
  slot integer NOT NULL,
  at bigint NOT NULL,
  input bigint NOT NULL,
  output bigint NOT NULL,
  PRIMARY KEY (owner_kind, owner_id, step, slot)
) WITH (fillfactor = 80);

CREATE FUNCTION lastmile_radacct_traffic() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path FROM CURRENT SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  counted boolean := TG_OP = 'UPDATE' AND OLD.customer_id IS NOT DISTINCT FROM NEW.customer_id;
  grown_in bigint := GREATEST(COALESCE(NEW.acctinputoctets, 0)
    - CASE WHEN counted THEN COALESCE(OLD.acctinputoctets, 0) ELSE 0 END, 0);
  grown_out bigint := GREATEST(COALESCE(NEW.acctoutputoctets, 0)
    - CASE WHEN counted THEN COALESCE(OLD.acctoutputoctets, 0) ELSE 0 END, 0);
  since_at timestamptz;
  until_at timestamptz := COALESCE(NEW.acctstoptime, NEW.acctupdatetime, NEW.acctstarttime, now());
BEGIN
  IF grown_in = 0 AND grown_out = 0 THEN
    RETURN NULL;
  END IF;
  IF counted THEN
    since_at := COALESCE(OLD.acctupdatetime, OLD.acctstarttime, until_at);
  ELSE
    since_at := COALESCE(NEW.acctstarttime, until_at);
  END IF;
  INSERT INTO traffic_delta (customer_id, tenant_id, nas_ip, since, until, input, output)
  VALUES (NEW.customer_id, NEW.tenant_id, host(NEW.nasipaddress),
          CAST(EXTRACT(EPOCH FROM since_at) AS bigint), CAST(EXTRACT(EPOCH FROM until_at) AS bigint),
          grown_in, grown_out);
  RETURN NULL;
END $$;

CREATE TRIGGER radacct_traffic_insert AFTER INSERT ON radacct
  FOR EACH ROW WHEN (NEW.customer_id IS NOT NULL)
  EXECUTE FUNCTION lastmile_radacct_traffic();
CREATE TRIGGER radacct_traffic_update AFTER UPDATE ON radacct
  FOR EACH ROW WHEN (NEW.customer_id IS NOT NULL
                     AND (OLD.customer_id IS DISTINCT FROM NEW.customer_id
                          OR NEW.acctinputoctets IS DISTINCT FROM OLD.acctinputoctets
                          OR NEW.acctoutputoctets IS DISTINCT FROM OLD.acctoutputoctets))
  EXECUTE FUNCTION lastmile_radacct_traffic();
"#;

/// SQLite: the same; `radacct` times are Unix seconds there. The ring is a table without
/// row ids: its key is the order the graphs read it in.
const SQLITE: &str = r#"
CREATE TABLE traffic_delta (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL,
  tenant_id INTEGER,
  nas_ip TEXT NOT NULL,
  since INTEGER NOT NULL,
  until INTEGER NOT NULL,
  input INTEGER NOT NULL,
  output INTEGER NOT NULL
);

CREATE TABLE traffic_point (
  owner_kind INTEGER NOT NULL,
  owner_id INTEGER NOT NULL,
  step INTEGER NOT NULL,
  slot INTEGER NOT NULL,
  at INTEGER NOT NULL,
  input INTEGER NOT NULL,
  output INTEGER NOT NULL,
  PRIMARY KEY (owner_kind, owner_id, step, slot)
) WITHOUT ROWID;

CREATE TRIGGER radacct_traffic_insert AFTER INSERT ON radacct
  WHEN NEW.customer_id IS NOT NULL
   AND (COALESCE(NEW.acctinputoctets, 0) > 0 OR COALESCE(NEW.acctoutputoctets, 0) > 0)
BEGIN
  INSERT INTO traffic_delta (customer_id, tenant_id, nas_ip, since, until, input, output)
  VALUES (NEW.customer_id, NEW.tenant_id, COALESCE(NEW.nasipaddress, ''),
          COALESCE(NEW.acctstarttime, NEW.acctupdatetime, NEW.acctstoptime, unixepoch()),
          COALESCE(NEW.acctstoptime, NEW.acctupdatetime, NEW.acctstarttime, unixepoch()),
          MAX(COALESCE(NEW.acctinputoctets, 0), 0), MAX(COALESCE(NEW.acctoutputoctets, 0), 0));
END;

CREATE TRIGGER radacct_traffic_update
  AFTER UPDATE OF acctinputoctets, acctoutputoctets, customer_id ON radacct
  WHEN NEW.customer_id IS NOT NULL
   AND ((OLD.customer_id IS NOT NEW.customer_id
         AND (COALESCE(NEW.acctinputoctets, 0) > 0 OR COALESCE(NEW.acctoutputoctets, 0) > 0))
        OR (OLD.customer_id IS NEW.customer_id
            AND (COALESCE(NEW.acctinputoctets, 0) > COALESCE(OLD.acctinputoctets, 0)
                 OR COALESCE(NEW.acctoutputoctets, 0) > COALESCE(OLD.acctoutputoctets, 0))))
BEGIN
  INSERT INTO traffic_delta (customer_id, tenant_id, nas_ip, since, until, input, output)
  VALUES (NEW.customer_id, NEW.tenant_id, COALESCE(NEW.nasipaddress, ''),
          CASE WHEN OLD.customer_id IS NEW.customer_id
               THEN COALESCE(OLD.acctupdatetime, OLD.acctstarttime, NEW.acctstarttime, unixepoch())
               ELSE COALESCE(NEW.acctstarttime, NEW.acctupdatetime, unixepoch()) END,
          COALESCE(NEW.acctstoptime, NEW.acctupdatetime, NEW.acctstarttime, unixepoch()),
          MAX(COALESCE(NEW.acctinputoctets, 0)
              - CASE WHEN OLD.customer_id IS NEW.customer_id
                     THEN COALESCE(OLD.acctinputoctets, 0) ELSE 0 END, 0),
          MAX(COALESCE(NEW.acctoutputoctets, 0)
              - CASE WHEN OLD.customer_id IS NEW.customer_id
                     THEN COALESCE(OLD.acctoutputoctets, 0) ELSE 0 END, 0));
END;
"#;
