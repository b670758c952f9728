//! PostgreSQL: the bookkeeping that follows `radacct` (who is online, usage per day, the
//! session log; `m20261209_000016_sessions_usage`, `m20261211_000019_session_log`) done
//! once per statement over the rows it wrote, where it was done once per row.
//!
//! The built-in server writes a batch of records as a few multi-row statements. Row
//! triggers ran a PL/pgSQL function per row, each planning its queries again (custom plans
//! for the row's values): three fifths of PostgreSQL's time on an accounting batch went
//! there. Statement triggers with transition tables (`REFERENCING OLD TABLE / NEW TABLE`)
//! see every row the statement inserted, updated or deleted and update each customer's
//! online count and each day's usage once, with the sum of its rows. What they keep is
//! unchanged, and so is who they serve: any writer of `radacct` (FreeRADIUS writes a row
//! per statement; the stale sweep and Accounting-On many).
//!
//! An `INSERT … ON CONFLICT DO UPDATE` fires the insert trigger with the rows it inserted
//! and the update trigger with the rows it updated. A row is matched with its old version
//! by `radacctid`, which no writer changes. The tie of a row to its customer stays a row
//! trigger (it must change the row before it is written); the built-in server names the
//! customer itself, so it does not fire for its rows.
//!
//! SQLite has no statement triggers: its row triggers stay, and cost far less there (no
//! planning per call).

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        if conn.get_database_backend() == DatabaseBackend::Postgres {
            conn.execute_unprepared(&postgres()).await?;
        }
        Ok(())
    }
}

/// In the update trigger: each session an updated row closed, opened or moved to another
/// customer, as the session log writes it (`open`: gained by `customer_id`, else lost),
/// `phase` putting a closing before an opening of the same row.
const MOVED: &str = "moved AS (
    SELECT o.customer_id, o.acctuniqueid AS unique_id, COALESCE(host(o.nasipaddress), '') AS nas_ip,
           COALESCE(CAST(EXTRACT(EPOCH FROM o.acctstarttime) AS bigint), 0) AS started,
           false AS open, o.radacctid, 0 AS phase
      FROM old_rows o JOIN new_rows n ON n.radacctid = o.radacctid
     WHERE o.customer_id IS NOT NULL AND o.acctstoptime IS NULL
       AND (n.acctstoptime IS NOT NULL OR o.customer_id IS DISTINCT FROM n.customer_id)
    UNION ALL
    SELECT n.customer_id, n.acctuniqueid, COALESCE(host(n.nasipaddress), ''),
           COALESCE(CAST(EXTRACT(EPOCH FROM n.acctstarttime) AS bigint), 0),
           true, n.radacctid, 1
      FROM old_rows o JOIN new_rows n ON n.radacctid = o.radacctid
     WHERE n.customer_id IS NOT NULL AND n.acctstoptime IS NULL
       AND (o.acctstoptime IS NOT NULL OR o.customer_id IS DISTINCT FROM n.customer_id))";

fn postgres() -> String {
    format!(
        r#"
DROP TRIGGER radacct_open_insert ON radacct;
DROP TRIGGER radacct_open_update ON radacct;
DROP TRIGGER radacct_open_delete ON radacct;
DROP TRIGGER radacct_usage_insert ON radacct;
DROP TRIGGER radacct_usage_update ON radacct;
DROP TRIGGER radacct_session_insert ON radacct;
DROP TRIGGER radacct_session_update ON radacct;
DROP TRIGGER radacct_session_delete ON radacct;
DROP FUNCTION lastmile_radacct_open();
DROP FUNCTION lastmile_radacct_usage();
DROP FUNCTION lastmile_aaa_session();

-- The day a row's bytes count for: its last record's time in the tenant's zone.
CREATE FUNCTION lastmile_usage_day(stopped timestamptz, updated timestamptz,
                                   started timestamptz, offset_minutes integer)
  RETURNS date LANGUAGE sql STABLE AS $$
  SELECT (COALESCE(stopped, updated, started, now())
            AT TIME ZONE 'UTC' + make_interval(mins => COALESCE(offset_minutes, 0)))::date
$$;

CREATE FUNCTION lastmile_radacct_inserted() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  INSERT INTO customer_online (customer_id, tenant_id, sessions)
  SELECT c.id, c.tenant_id, o.sessions
    FROM (SELECT customer_id, COUNT(*) AS sessions FROM new_rows
           WHERE customer_id IS NOT NULL AND acctstoptime IS NULL
           GROUP BY customer_id) o
    JOIN customer c ON c.id = o.customer_id
  ON CONFLICT (customer_id) DO UPDATE
    SET sessions = customer_online.sessions + excluded.sessions;

  INSERT INTO aaa_session (customer_id, unique_id, nas_ip, started, open)
  SELECT customer_id, acctuniqueid, COALESCE(host(nasipaddress), ''),
         COALESCE(CAST(EXTRACT(EPOCH FROM acctstarttime) AS bigint), 0), true
    FROM new_rows
   WHERE customer_id IS NOT NULL AND acctstoptime IS NULL
   ORDER BY radacctid;

  INSERT INTO customer_usage (customer_id, day, input_octets, output_octets)
  SELECT n.customer_id,
         lastmile_usage_day(n.acctstoptime, n.acctupdatetime, n.acctstarttime,
                            t.utc_offset_minutes),
         SUM(GREATEST(COALESCE(n.acctinputoctets, 0), 0)),
         SUM(GREATEST(COALESCE(n.acctoutputoctets, 0), 0))
    FROM new_rows n LEFT JOIN tenant t ON t.id = n.tenant_id
   WHERE n.customer_id IS NOT NULL
     AND (COALESCE(n.acctinputoctets, 0) > 0 OR COALESCE(n.acctoutputoctets, 0) > 0)
   GROUP BY 1, 2
  ON CONFLICT (customer_id, day) DO UPDATE
    SET input_octets = customer_usage.input_octets + excluded.input_octets,
        output_octets = customer_usage.output_octets + excluded.output_octets;
  RETURN NULL;
END $$;

CREATE FUNCTION lastmile_radacct_updated() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  -- A session closed, opened or moved: the old customer loses it, the new one gains it
  -- (a count at zero or below goes), and the log says so.
  WITH {MOVED}
  INSERT INTO customer_online (customer_id, tenant_id, sessions)
  SELECT c.id, c.tenant_id, m.sessions
    FROM (SELECT customer_id, SUM(CASE WHEN open THEN 1 ELSE -1 END) AS sessions
            FROM moved GROUP BY customer_id) m
    JOIN customer c ON c.id = m.customer_id
   WHERE m.sessions <> 0
  ON CONFLICT (customer_id) DO UPDATE
    SET sessions = customer_online.sessions + excluded.sessions;
  IF FOUND THEN
    WITH {MOVED}
    DELETE FROM customer_online
     WHERE sessions <= 0 AND customer_id IN (SELECT customer_id FROM moved);
  END IF;
  WITH {MOVED}
  INSERT INTO aaa_session (customer_id, unique_id, nas_ip, started, open)
  SELECT customer_id, unique_id, nas_ip, started, open FROM moved
   ORDER BY radacctid, phase;

  -- What the counters grew by (all of it when the row changed customer).
  INSERT INTO customer_usage (customer_id, day, input_octets, output_octets)
  SELECT g.customer_id, g.day, SUM(g.grown_in), SUM(g.grown_out)
    FROM (SELECT n.customer_id,
                 lastmile_usage_day(n.acctstoptime, n.acctupdatetime, n.acctstarttime,
                                    t.utc_offset_minutes) AS day,
                 GREATEST(COALESCE(n.acctinputoctets, 0)
                   - CASE WHEN o.customer_id IS NOT DISTINCT FROM n.customer_id
                          THEN COALESCE(o.acctinputoctets, 0) ELSE 0 END, 0) AS grown_in,
                 GREATEST(COALESCE(n.acctoutputoctets, 0)
                   - CASE WHEN o.customer_id IS NOT DISTINCT FROM n.customer_id
                          THEN COALESCE(o.acctoutputoctets, 0) ELSE 0 END, 0) AS grown_out
            FROM old_rows o JOIN new_rows n ON n.radacctid = o.radacctid
            LEFT JOIN tenant t ON t.id = n.tenant_id
           WHERE n.customer_id IS NOT NULL) g
   WHERE g.grown_in > 0 OR g.grown_out > 0
   GROUP BY g.customer_id, g.day
  ON CONFLICT (customer_id, day) DO UPDATE
    SET input_octets = customer_usage.input_octets + excluded.input_octets,
        output_octets = customer_usage.output_octets + excluded.output_octets;
  RETURN NULL;
END $$;

CREATE FUNCTION lastmile_radacct_deleted() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE customer_online co SET sessions = co.sessions - d.sessions
    FROM (SELECT customer_id, COUNT(*) AS sessions FROM old_rows
           WHERE customer_id IS NOT NULL AND acctstoptime IS NULL
           GROUP BY customer_id) d
   WHERE co.customer_id = d.customer_id;
  DELETE FROM customer_online
   WHERE sessions <= 0
     AND customer_id IN (SELECT customer_id FROM old_rows
                          WHERE customer_id IS NOT NULL AND acctstoptime IS NULL);
  INSERT INTO aaa_session (customer_id, unique_id, nas_ip, started, open)
  SELECT customer_id, acctuniqueid, COALESCE(host(nasipaddress), ''),
         COALESCE(CAST(EXTRACT(EPOCH FROM acctstarttime) AS bigint), 0), false
    FROM old_rows
   WHERE customer_id IS NOT NULL AND acctstoptime IS NULL
   ORDER BY radacctid;
  RETURN NULL;
END $$;

CREATE TRIGGER radacct_inserted AFTER INSERT ON radacct
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lastmile_radacct_inserted();
CREATE TRIGGER radacct_updated AFTER UPDATE ON radacct
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lastmile_radacct_updated();
CREATE TRIGGER radacct_deleted AFTER DELETE ON radacct
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION lastmile_radacct_deleted();
"#
    )
}
