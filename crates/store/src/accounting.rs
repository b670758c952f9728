//! RADIUS accounting as the built-in server records it: `radacct` in FreeRADIUS's schema,
//! written the way FreeRADIUS's own queries write it (so the screens that read `radacct`
//! read both servers alike), a batch of records in one transaction. On SQLite the times
//! are Unix seconds, as FreeRADIUS's SQLite queries store them; on PostgreSQL timestamps.
//!
//! Each authentication the built-in server answers is kept in `radpostauth` (user name,
//! answer, time; never the password), written with the next batch.
//!
//! A Start inserts the session (a repeated Start, or one after its own Interim, updates the
//! start time); an Interim-Update updates the counters and the last update (inserting the
//! session if its Start never came, its start put back by the session time); a Stop closes
//! it likewise. A Stop never reopens, and a late Interim never moves the counters back or
//! undoes a stop. Accounting-On and -Off close the router's sessions that started before
//! the event (never one started after the reboot). A session with no update since a given
//! time is closed as stale (`close_stale`): stopped at its last update, never deleted. A
//! session the enforcement ladder found gone is closed at that time (`close_session`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, TransactionTrait, Value};

use crate::db::Db;
use crate::error::StoreResult;

/// What an Accounting-Request reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcctKind {
    /// A session began.
    Start,
    /// A session's counters so far.
    Interim,
    /// A session ended.
    Stop,
    /// The router (re)started: none of its sessions survives.
    On,
    /// The router is stopping.
    Off,
}

/// One accounting record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcctRecord {
    /// What it reports.
    pub kind: AcctKind,
    /// When it happened (Event-Timestamp, or its arrival less Acct-Delay-Time).
    pub at: DateTime<Utc>,
    /// The router's address as the session rows name it (NAS-IP-Address, else the source).
    pub nas_ip: String,
    /// Acct-Session-Id.
    pub session_id: String,
    /// The session's key, as FreeRADIUS's `acct_unique` policy makes it.
    pub unique_id: String,
    /// User-Name.
    pub username: String,
    /// NAS-Port-Id, else NAS-Port.
    pub nas_port_id: String,
    /// NAS-Port-Type.
    pub nas_port_type: String,
    /// Acct-Session-Time, seconds.
    pub session_time: Option<i64>,
    /// Bytes from the subscriber (Acct-Input-Octets with its gigawords).
    pub input_octets: i64,
    /// Bytes to the subscriber.
    pub output_octets: i64,
    /// Called-Station-Id.
    pub called_station: String,
    /// Calling-Station-Id (the subscriber's MAC).
    pub calling_station: String,
    /// Framed-IP-Address.
    pub framed_ip: String,
    /// Acct-Terminate-Cause, by name.
    pub terminate_cause: String,
    /// The customer's tenant, when the user name is a customer's.
    pub tenant_id: Option<i64>,
    /// The customer.
    pub customer_id: Option<i64>,
}

impl AcctRecord {
    /// This Start or update of a session that its router's reboot at `rebooted` ended,
    /// as the Stop the router could not send: stopped then, with the counters it reports.
    pub fn stopped_by_reboot(self, rebooted: DateTime<Utc>) -> AcctRecord {
        let started = match (self.kind, self.session_time) {
            (AcctKind::Start, _) | (_, None) => self.at,
            (_, Some(seconds)) => self.at - chrono::TimeDelta::seconds(seconds),
        };
        AcctRecord {
            kind: AcctKind::Stop,
            at: rebooted.max(started),
            session_time: Some((rebooted - started).num_seconds().max(0)),
            terminate_cause: "NAS-Reboot".to_owned(),
            ..self
        }
    }
}

/// One authentication, as `radpostauth` keeps it: never the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostAuth {
    /// When it was answered.
    pub at: DateTime<Utc>,
    /// User-Name as sent.
    pub username: String,
    /// `Access-Accept` or `Access-Reject`.
    pub reply: &'static str,
}

/// Writes `records` and `post_auths` in one transaction, in order. Returns once they are
/// durable (committed; SQLite runs with `synchronous=FULL`).
pub async fn record(db: &Db, records: &[AcctRecord], post_auths: &[PostAuth]) -> StoreResult<()> {
    if records.is_empty() && post_auths.is_empty() {
        return Ok(());
    }
    let _turn = db.write_turn().await?;
    let backend = db.conn().get_database_backend();
    let tx = db
        .conn()
        .begin_with_options(sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    // Sessions' records go in multi-row statements, one per kind, over runs of records of
    // distinct sessions (a statement may not touch a row twice); a router's reboot ends a
    // run, so that it closes what came before it and nothing after.
    let mut run: Vec<&AcctRecord> = Vec::new();
    let mut in_run: HashSet<&str> = HashSet::new();
    for r in records {
        match r.kind {
            AcctKind::On | AcctKind::Off => {
                write_run(&tx, backend, &mut run).await?;
                in_run.clear();
                tx.execute_raw(close_router(backend, r)).await?;
            }
            _ => {
                if !in_run.insert(&r.unique_id) {
                    write_run(&tx, backend, &mut run).await?;
                    in_run.clear();
                    in_run.insert(&r.unique_id);
                }
                run.push(r);
            }
        }
    }
    write_run(&tx, backend, &mut run).await?;
    for chunk in post_auths.chunks(200) {
        tx.execute_raw(post_auth_rows(backend, chunk)).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A time as this engine's `radacct` stores it.
fn time(backend: DatabaseBackend, at: DateTime<Utc>) -> Value {
    match backend {
        DatabaseBackend::Sqlite => Value::from(at.timestamp()),
        _ => Value::from(at),
    }
}

/// `$n` on PostgreSQL, `?` on SQLite.
fn placeholder(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Sqlite => "?".to_owned(),
        _ => format!("${n}"),
    }
}

/// Seconds between two of this engine's `radacct` times.
fn seconds_between(backend: DatabaseBackend, later: &str, earlier: &str) -> String {
    match backend {
        DatabaseBackend::Sqlite => format!("({later} - {earlier})"),
        _ => format!("CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS bigint)"),
    }
}

/// Records of distinct sessions in a row, per kind, as multi-row statements; empties `run`.
async fn write_run(
    tx: &sea_orm::DatabaseTransaction,
    backend: DatabaseBackend,
    run: &mut Vec<&AcctRecord>,
) -> StoreResult<()> {
    for kind in [AcctKind::Start, AcctKind::Interim, AcctKind::Stop] {
        let rows: Vec<&AcctRecord> = run.iter().copied().filter(|r| r.kind == kind).collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            tx.execute_raw(upsert(backend, kind, chunk)).await?;
        }
    }
    let known: Vec<&AcctRecord> = run
        .iter()
        .copied()
        .filter(|r| r.customer_id.is_some())
        .collect();
    for chunk in known.chunks(ROWS_PER_STATEMENT) {
        tx.execute_raw(tie(backend, chunk)).await?;
    }
    run.clear();
    Ok(())
}

/// A session row written first by FreeRADIUS (or before its user name was a customer's)
/// is tied to the customer when lastmile hears of it. A statement of its own, which
/// writes only the rows without a customer: in the upsert, setting the columns (even to
/// their value) would write every index holding them, for every record.
fn tie(backend: DatabaseBackend, rows: &[&AcctRecord]) -> Statement {
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * 3);
    let mut tuples = Vec::with_capacity(rows.len());
    for r in rows {
        let n = values.len();
        tuples.push(format!(
            "({}, {}, {})",
            placeholder(backend, n + 1),
            placeholder(backend, n + 2),
            placeholder(backend, n + 3)
        ));
        values.extend([
            r.unique_id.clone().into(),
            r.tenant_id.into(),
            r.customer_id.into(),
        ]);
    }
    let sql = match backend {
        DatabaseBackend::Sqlite => format!(
            "UPDATE radacct SET tenant_id = v.column2, customer_id = v.column3 \
             FROM (VALUES {}) AS v \
             WHERE radacct.acctuniqueid = v.column1 AND radacct.customer_id IS NULL",
            tuples.join(", ")
        ),
        _ => format!(
            "UPDATE radacct SET tenant_id = v.tenant_id, customer_id = v.customer_id \
             FROM (VALUES {}) AS v (unique_id, tenant_id, customer_id) \
             WHERE radacct.acctuniqueid = v.unique_id AND radacct.customer_id IS NULL",
            tuples.join(", ")
        ),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Session records in one statement at most (18 values each: well under SQLite's 32 766).
const ROWS_PER_STATEMENT: usize = 256;

/// Starts, Interim-Updates or Stops (`kind`) of distinct sessions: each session's row
/// inserted, or updated as the kind says.
fn upsert(backend: DatabaseBackend, kind: AcctKind, rows: &[&AcctRecord]) -> Statement {
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * 18);
    let mut tuples = Vec::with_capacity(rows.len());
    for r in rows {
        let first = values.len();
        values.extend(row_values(backend, r));
        let mut marks: Vec<String> = (first + 1..=values.len())
            .map(|n| placeholder(backend, n))
            .collect();
        if backend != DatabaseBackend::Sqlite {
            // Addresses are `inet` there; a session without one has NULL, not ''.
            marks[3] = format!("CAST({} AS inet)", marks[3]);
            marks[15] = format!("CAST(NULLIF({}, '') AS inet)", marks[15]);
        }
        tuples.push(format!("({})", marks.join(", ")));
    }
    // Counters and the session time only grow: a late Interim moves nothing back.
    let grown = ["acctsessiontime", "acctinputoctets", "acctoutputoctets"]
        .map(|c| {
            format!(
                "{c} = {}",
                greatest(backend, &format!("radacct.{c}"), &format!("excluded.{c}"))
            )
        })
        .join(", ");
    let update = match kind {
        // A repeated Start, or a Start after its session's Interim: the start time only.
        AcctKind::Start => "acctstarttime = excluded.acctstarttime".to_owned(),
        AcctKind::Interim => format!(
            "acctupdatetime = excluded.acctupdatetime, {grown}, \
             framedipaddress = excluded.framedipaddress"
        ),
        _ => format!(
            "acctstoptime = COALESCE(radacct.acctstoptime, excluded.acctstoptime), \
             acctupdatetime = excluded.acctupdatetime, {grown}, \
             acctterminatecause = excluded.acctterminatecause"
        ),
    };
    let sql = format!(
        "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, nasportid, \
           nasporttype, acctstarttime, acctupdatetime, acctstoptime, acctsessiontime, \
           acctinputoctets, acctoutputoctets, calledstationid, callingstationid, \
           acctterminatecause, framedipaddress, tenant_id, customer_id) \
         VALUES {} ON CONFLICT (acctuniqueid) DO UPDATE SET {update}",
        tuples.join(", ")
    );
    Statement::from_sql_and_values(backend, sql, values)
}

/// A session record's 18 column values, in the order of [`upsert`]'s columns.
fn row_values(backend: DatabaseBackend, r: &AcctRecord) -> [Value; 18] {
    let started = match (r.kind, r.session_time) {
        (AcctKind::Start, _) | (_, None) => r.at,
        (_, Some(seconds)) => r.at - chrono::TimeDelta::seconds(seconds),
    };
    let stopped = match (r.kind, backend) {
        (AcctKind::Stop, _) => time(backend, r.at),
        (_, DatabaseBackend::Sqlite) => Value::BigInt(None),
        _ => Value::ChronoDateTimeUtc(None),
    };
    [
        r.session_id.clone().into(),
        r.unique_id.clone().into(),
        r.username.clone().into(),
        r.nas_ip.clone().into(),
        r.nas_port_id.clone().into(),
        r.nas_port_type.clone().into(),
        time(backend, started),
        time(backend, r.at),
        stopped,
        r.session_time.unwrap_or(0).into(),
        r.input_octets.into(),
        r.output_octets.into(),
        r.called_station.clone().into(),
        r.calling_station.clone().into(),
        r.terminate_cause.clone().into(),
        r.framed_ip.clone().into(),
        r.tenant_id.into(),
        r.customer_id.into(),
    ]
}

/// The larger of two nullable numbers.
fn greatest(backend: DatabaseBackend, a: &str, b: &str) -> String {
    match backend {
        DatabaseBackend::Sqlite => format!("MAX(COALESCE({a}, 0), COALESCE({b}, 0))"),
        _ => format!("GREATEST({a}, {b})"),
    }
}

/// Accounting-On or -Off: the router's open sessions that started before the event end
/// then, as FreeRADIUS's bulk strategy ends them.
fn close_router(backend: DatabaseBackend, r: &AcctRecord) -> Statement {
    let at = placeholder(backend, 1);
    let cause = placeholder(backend, 2);
    let nas = match backend {
        DatabaseBackend::Sqlite => placeholder(backend, 3),
        _ => format!("CAST({} AS inet)", placeholder(backend, 3)),
    };
    let sql = format!(
        "UPDATE radacct SET acctstoptime = {at}, acctsessiontime = {seconds}, \
           acctterminatecause = {cause} \
         WHERE acctstoptime IS NULL AND nasipaddress = {nas} AND acctstarttime <= {at}",
        seconds = seconds_between(backend, &at, "acctstarttime"),
    );
    let values = match backend {
        // SQLite numbers `?` in order: the time appears three times.
        DatabaseBackend::Sqlite => vec![
            time(backend, r.at),
            time(backend, r.at),
            r.terminate_cause.clone().into(),
            r.nas_ip.clone().into(),
            time(backend, r.at),
        ],
        _ => vec![
            time(backend, r.at),
            r.terminate_cause.clone().into(),
            r.nas_ip.clone().into(),
        ],
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `radpostauth` rows, as FreeRADIUS's post-auth query writes them (its password column
/// empty on SQLite, where it is `NOT NULL`, and NULL on PostgreSQL; the time as text on
/// SQLite, a timestamp on PostgreSQL).
fn post_auth_rows(backend: DatabaseBackend, rows: &[PostAuth]) -> Statement {
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * 3);
    let mut tuples = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let n = i * 3;
        let (a, b, c) = (
            placeholder(backend, n + 1),
            placeholder(backend, n + 2),
            placeholder(backend, n + 3),
        );
        tuples.push(match backend {
            DatabaseBackend::Sqlite => format!("({a}, '', {b}, {c})"),
            _ => format!("({a}, NULL, {b}, {c})"),
        });
        values.push(row.username.clone().into());
        values.push(row.reply.to_owned().into());
        values.push(match backend {
            DatabaseBackend::Sqlite => row.at.format("%Y-%m-%d %H:%M:%S").to_string().into(),
            _ => Value::from(row.at),
        });
    }
    let sql = format!(
        "INSERT INTO radpostauth (username, pass, reply, authdate) VALUES {}",
        tuples.join(", ")
    );
    Statement::from_sql_and_values(backend, sql, values)
}

/// A session closed as stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// Its customer, when it is tied to one.
    pub customer_id: Option<i64>,
    /// Its key.
    pub unique_id: String,
}

/// Closes the open sessions with no update since `quiet_since` (both servers write the
/// last update with the Start): stopped at their last update, `Stale-Session` as the cause.
/// Returns them.
pub async fn close_stale(db: &Db, quiet_since: DateTime<Utc>) -> StoreResult<Vec<Closed>> {
    let _turn = db.write_turn().await?;
    let backend = db.conn().get_database_backend();
    let sql = format!(
        "UPDATE radacct SET acctstoptime = acctupdatetime, acctsessiontime = {seconds}, \
           acctterminatecause = 'Stale-Session' \
         WHERE acctstoptime IS NULL AND acctupdatetime < {mark} \
         RETURNING customer_id, acctuniqueid",
        seconds = seconds_between(backend, "acctupdatetime", "acctstarttime"),
        mark = placeholder(backend, 1),
    );
    let rows = db
        .conn()
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [time(backend, quiet_since)],
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Closed {
                customer_id: row.try_get_by_index(0)?,
                unique_id: row.try_get_by_index(1)?,
            })
        })
        .collect()
}

/// Whether the session row `radacct_id` has a stop time (or is gone).
pub async fn session_stopped<C: ConnectionTrait>(conn: &C, radacct_id: i64) -> StoreResult<bool> {
    let backend = conn.get_database_backend();
    let sql = format!(
        "SELECT acctstoptime IS NOT NULL FROM radacct WHERE radacctid = {}",
        placeholder(backend, 1)
    );
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [Value::from(radacct_id)],
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<bool>(0)?,
        None => true,
    })
}

/// Closes the session row `radacct_id` at `at` with `cause`, if it is still open (the
/// router said it has no such session, or no longer lists it): a Stop arriving later keeps
/// this stop time and brings its counters.
pub async fn close_session(
    db: &Db,
    radacct_id: i64,
    at: DateTime<Utc>,
    cause: &str,
) -> StoreResult<()> {
    let _turn = db.write_turn().await?;
    let backend = db.conn().get_database_backend();
    let sql = format!(
        "UPDATE radacct SET acctstoptime = {}, acctterminatecause = {} \
         WHERE radacctid = {} AND acctstoptime IS NULL",
        placeholder(backend, 1),
        placeholder(backend, 2),
        placeholder(backend, 3),
    );
    db.conn()
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [time(backend, at), cause.into(), radacct_id.into()],
        ))
        .await?;
    Ok(())
}
