//! The database handle: connecting to SQLite (the embedded default) or PostgreSQL by URL,
//! the connection settings each needs, and migrations.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::TimeDelta;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait as _, Database, DatabaseBackend, DatabaseConnection,
};
use sea_orm_migration::MigratorTrait;

use crate::crypto::Keyring;
use crate::error::{StoreError, StoreResult};
use crate::migration::Migrator;

/// Which database engine a [`Db`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A connection pool, the keyring that seals secrets in it, and the installation's rules
/// of what its rows mean over time. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    conn: DatabaseConnection,
    backend: Backend,
    keyring: Arc<Keyring>,
    name_rest: TimeDelta,
    /// On SQLite, the turn of this process's writers: taken in the order they asked (a fair
    /// queue) before `BEGIN IMMEDIATE`. SQLite's own busy handler polls with growing sleeps,
    /// so a writer that commits and begins again at once (a job converging in batches) can
    /// keep the lock for as long as it runs while the others time out.
    write_turn: Arc<tokio::sync::Mutex<()>>,
    /// Writes committed by this process that appended to the AAA change log: the built-in
    /// RADIUS server catches up before answering when it has seen fewer.
    aaa_commits: Arc<AtomicU64>,
    /// Woken after each of them.
    aaa_committed: Arc<tokio::sync::Notify>,
}

/// How long a user name freed by a rename or a deletion rests before another customer may
/// take it, unless configured.
pub const NAME_REST_DAYS: i64 = 90;

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// How long a SQLite writer waits for another writer before giving up.
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl Db {
    /// Connects to `url` (`sqlite://PATH` or `postgres://...`) with at most
    /// `max_connections` pooled connections. A SQLite file is created if missing and runs in
    /// WAL mode with `synchronous=FULL`, a busy timeout and foreign keys on.
    pub async fn connect(url: &str, max_connections: u32, keyring: Keyring) -> StoreResult<Self> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections.max(1))
            .min_connections(1)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(30))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|opts| {
                opts.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
                    // Reads through a memory map (up to 1 GiB of the file) and a 32 MiB page
                    // cache per connection: a lookup by id at 10^6 customers then costs
                    // about 2 µs instead of 3-10 (one `pread` per page visited).
                    .pragma("mmap_size", "1073741824")
                    .pragma("cache_size", "-32768")
                    // The write-ahead log is copied back into the file once it holds
                    // 10 000 pages (40 MiB) rather than SQLite's 1 000: an accounting batch
                    // dirties a page per record in each index (the session key is a hash),
                    // so at 1 000 every second commit paid a copy-back and its fsync, and a
                    // page written by several batches is now copied once.
                    .pragma("wal_autocheckpoint", "10000")
            })
            // Plans made for the values at hand, every time: a plan cached for a prepared
            // statement and reused for any value cannot use the pattern index for a
            // `LIKE $1` prefix nor judge how selective a filter value is, and at 10^6
            // customers such a generic plan turns a 1 ms list into a 300 ms table scan.
            // Planning the list queries costs well under a millisecond. No JIT: lastmile's
            // queries are short, and compiling one whose cost a planner overestimates
            // adds tens of milliseconds to a query that runs in one. No parallel workers:
            // the queries are bounded by their limits, and workers started for a cost the
            // planner overestimated read past the limit on cores the other requests need
            // (a reseller's count of a searched name: 330 ms with two workers, 11 ms
            // without, at 10^6 customers on two cores).
            .map_sqlx_postgres_opts(|opts| {
                opts.options([
                    ("plan_cache_mode", "force_custom_plan"),
                    ("jit", "off"),
                    ("max_parallel_workers_per_gather", "0"),
                ])
            });
        let conn = Database::connect(options).await?;
        let backend = match conn.get_database_backend() {
            DatabaseBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        };
        Ok(Self {
            conn,
            backend,
            keyring: Arc::new(keyring),
            name_rest: TimeDelta::days(NAME_REST_DAYS),
            write_turn: Arc::new(tokio::sync::Mutex::new(())),
            aaa_commits: Arc::new(AtomicU64::new(0)),
            aaa_committed: Arc::new(tokio::sync::Notify::new()),
        })
    }

    /// The same database with freed user names resting `days` days (0: free at once).
    #[must_use]
    pub fn with_name_rest_days(mut self, days: u32) -> Self {
        self.name_rest = TimeDelta::days(i64::from(days));
        self
    }

    /// How long a freed user name rests before another customer may take it.
    pub fn name_rest(&self) -> TimeDelta {
        self.name_rest
    }

    /// Runs the migrations that have not run yet.
    pub async fn migrate(&self) -> StoreResult<()> {
        Migrator::up(&self.conn, None).await?;
        Ok(())
    }

    /// True when migrations are pending.
    pub async fn needs_migration(&self) -> StoreResult<bool> {
        Ok(!Migrator::get_pending_migrations(&self.conn)
            .await?
            .is_empty())
    }

    /// The pool, for reads.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many writes this process has committed that appended to the AAA change log.
    pub fn aaa_commits(&self) -> u64 {
        self.aaa_commits.load(Ordering::Acquire)
    }

    /// Completes after the next write of this process that appends to the AAA change log
    /// (at once if one committed since the last call returned).
    pub async fn aaa_committed(&self) {
        self.aaa_committed.notified().await;
    }

    /// Counts a committed write that appended to the AAA change log.
    pub(crate) fn count_aaa_commit(&self) {
        self.aaa_commits.fetch_add(1, Ordering::Release);
        self.aaa_committed.notify_one();
    }

    pub(crate) fn keyring_arc(&self) -> Arc<Keyring> {
        self.keyring.clone()
    }

    /// Waits for this process's turn to write (SQLite; nothing to wait for on PostgreSQL,
    /// whose writers lock rows, not the database). Gives up as busy after the busy timeout.
    pub(crate) async fn write_turn(&self) -> StoreResult<Option<tokio::sync::OwnedMutexGuard<()>>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let turn = self.write_turn.clone().lock_owned();
        match tokio::time::timeout(SQLITE_BUSY_TIMEOUT, turn).await {
            Ok(guard) => Ok(Some(guard)),
            Err(_) => Err(crate::error::StoreError::Busy),
        }
    }

    /// Brings the query planner's statistics up to date, after bulk writes and
    /// periodically. PostgreSQL: `ANALYZE` of the database (it samples; writers carry on).
    /// SQLite: `ANALYZE` reading at most 1 000 entries per index (`analysis_limit`), in this
    /// process's write turn since it writes the statistics tables. Returns the time taken.
    ///
    /// The customer list does not depend on these (it plans its access path itself, see
    /// `customer::list`); other queries, and PostgreSQL's choice between indexes, do.
    pub async fn refresh_statistics(&self) -> StoreResult<Duration> {
        let started = std::time::Instant::now();
        let _turn = self.write_turn().await?;
        let sql = match self.backend {
            Backend::Postgres => "ANALYZE",
            Backend::Sqlite => "PRAGMA analysis_limit = 1000; ANALYZE",
        };
        self.conn.execute_unprepared(sql).await?;
        Ok(started.elapsed())
    }

    /// Whether the customer table holds rows but the planner has no statistics of it (a
    /// restored or copied database, statistics dropped, an install that never took them):
    /// PostgreSQL then guesses 0.5% for any equality and may read a list through the
    /// smallest index that leads with the tenant. The scheduler takes them at once.
    pub async fn statistics_missing(&self) -> StoreResult<bool> {
        let sql = match self.backend {
            Backend::Postgres => {
                "SELECT EXISTS (SELECT 1 FROM customer) AND NOT EXISTS \
                 (SELECT 1 FROM pg_stats WHERE schemaname = current_schema() \
                 AND tablename = 'customer') AS missing"
            }
            Backend::Sqlite => {
                let kept = self
                    .conn
                    .query_one_raw(sea_orm::Statement::from_string(
                        sea_orm::DatabaseBackend::Sqlite,
                        "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'sqlite_stat1'",
                    ))
                    .await?
                    .map(|row| row.try_get::<i64>("", "n"))
                    .transpose()?
                    .unwrap_or(0);
                if kept == 0 {
                    "SELECT EXISTS (SELECT 1 FROM customer) AS missing"
                } else {
                    "SELECT EXISTS (SELECT 1 FROM customer) AND NOT EXISTS \
                     (SELECT 1 FROM sqlite_stat1 WHERE tbl = 'customer') AS missing"
                }
            }
        };
        let row = self
            .conn
            .query_one_raw(sea_orm::Statement::from_string(
                self.conn.get_database_backend(),
                sql,
            ))
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<bool>("", "missing")?,
            None => false,
        })
    }

    /// Writes a consistent copy of the SQLite database to `path` (a file that must not
    /// exist) while writers carry on: `VACUUM INTO` reads one snapshot, compacted. Refused
    /// on PostgreSQL, whose copies are `pg_dump`'s.
    pub async fn snapshot_into(&self, path: &std::path::Path) -> StoreResult<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Corrupt(
                "a PostgreSQL database is copied with pg_dump".to_owned(),
            ));
        }
        let path = path.to_str().ok_or_else(|| {
            StoreError::Corrupt(format!("{} is not a UTF-8 path", path.display()))
        })?;
        let quoted = path.replace('\'', "''");
        self.conn
            .execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
            .await?;
        Ok(())
    }

    /// SQLite's own check of its file (`PRAGMA integrity_check`): the problems it finds,
    /// none when the file is whole. Nothing to check on PostgreSQL.
    pub async fn integrity_problems(&self) -> StoreResult<Vec<String>> {
        if self.backend != Backend::Sqlite {
            return Ok(Vec::new());
        }
        let rows = self
            .conn
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await?;
        let mut problems = Vec::new();
        for row in rows {
            let line: String = row.try_get_by_index(0)?;
            if line != "ok" {
                problems.push(line);
            }
        }
        Ok(problems)
    }

    /// The keyring sealing secrets.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// Closes the pool.
    pub async fn close(self) -> StoreResult<()> {
        self.conn.close().await?;
        Ok(())
    }
}

/// A statement with SQLite's `?N` or PostgreSQL's `$N` placeholders (written as `$N`).
pub(crate) fn statement(
    backend: sea_orm::DatabaseBackend,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> sea_orm::Statement {
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    };
    sea_orm::Statement::from_sql_and_values(backend, sql, values)
}
