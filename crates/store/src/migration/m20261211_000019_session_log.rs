//! Several nodes on one PostgreSQL (aaa-design.md §3.2): what each node's built-in server
//! must learn of the others' writes, and how it is woken.
//!
//! - `aaa_session` logs every session of a customer opening and closing in `radacct`, by a
//!   trigger, whoever writes the row (a node's accounting, its stale sweep or enforcement,
//!   FreeRADIUS): position, customer, session key, NAS address, start (Unix seconds), open
//!   or closed. Each node follows it to count the other nodes' sessions for simultaneous
//!   use. The housekeeping job drops entries older than a day: a node away longer loads
//!   the open sessions from `radacct` when it starts.
//! - `NOTIFY lastmile_aaa` at the commit of any write that appends to `aaa_change` or
//!   `aaa_session` (a statement trigger; PostgreSQL folds a transaction's identical
//!   notifications into one), so a node's follower wakes as soon as another node commits
//!   rather than at its next poll.
//!
//! SQLite has one node: it gets neither.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        if conn.get_database_backend() == DatabaseBackend::Postgres {
            conn.execute_unprepared(POSTGRES).await?;
        }
        Ok(())
    }
}

const POSTGRES: &str = r#"
CREATE TABLE aaa_session (
  seq bigserial PRIMARY KEY,
  customer_id bigint NOT NULL,
  unique_id text NOT NULL,
  nas_ip text NOT NULL,
  started bigint NOT NULL,
  open boolean NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX aaa_session_at_idx ON aaa_session (at);

CREATE FUNCTION lastmile_aaa_session() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.customer_id IS NOT NULL AND OLD.acctstoptime IS NULL THEN
    INSERT INTO aaa_session (customer_id, unique_id, nas_ip, started, open)
    VALUES (OLD.customer_id, OLD.acctuniqueid, COALESCE(host(OLD.nasipaddress), ''),
            COALESCE(CAST(EXTRACT(EPOCH FROM OLD.acctstarttime) AS bigint), 0), false);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.customer_id IS NOT NULL AND NEW.acctstoptime IS NULL THEN
    INSERT INTO aaa_session (customer_id, unique_id, nas_ip, started, open)
    VALUES (NEW.customer_id, NEW.acctuniqueid, COALESCE(host(NEW.nasipaddress), ''),
            COALESCE(CAST(EXTRACT(EPOCH FROM NEW.acctstarttime) AS bigint), 0), true);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER radacct_session_insert AFTER INSERT ON radacct
  FOR EACH ROW WHEN (NEW.customer_id IS NOT NULL AND NEW.acctstoptime IS NULL)
  EXECUTE FUNCTION lastmile_aaa_session();
CREATE TRIGGER radacct_session_update AFTER UPDATE ON radacct
  FOR EACH ROW WHEN ((OLD.acctstoptime IS NULL) <> (NEW.acctstoptime IS NULL)
                     OR OLD.customer_id IS DISTINCT FROM NEW.customer_id)
  EXECUTE FUNCTION lastmile_aaa_session();
CREATE TRIGGER radacct_session_delete AFTER DELETE ON radacct
  FOR EACH ROW WHEN (OLD.customer_id IS NOT NULL AND OLD.acctstoptime IS NULL)
  EXECUTE FUNCTION lastmile_aaa_session();

CREATE FUNCTION lastmile_aaa_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('lastmile_aaa', '');
  RETURN NULL;
END $$;

CREATE TRIGGER aaa_session_notify AFTER INSERT ON aaa_session
  FOR EACH STATEMENT EXECUTE FUNCTION lastmile_aaa_notify();
CREATE TRIGGER aaa_change_notify AFTER INSERT ON aaa_change
  FOR EACH STATEMENT EXECUTE FUNCTION lastmile_aaa_notify();
"#;
