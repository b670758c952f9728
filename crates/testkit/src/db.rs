//! Fresh test databases: a SQLite file in a temporary directory, or a PostgreSQL database
//! cloned from a migrated template and dropped when the test ends.

use std::future::Future;
use std::time::Duration;

use rand::RngExt as _;
use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

/// The database engines lastmile runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A fresh database for one test.
#[derive(Debug)]
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// Its engine.
    pub backend: Backend,
    dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    /// A temporary directory that lives as long as the database (for data files, keyrings).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// The PostgreSQL server tests use.
pub fn pg_admin_url() -> String {
    std::env::var("PG_TEST_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The admin URL with its database replaced by `database` (the URL must name a database).
fn pg_url_for(database: &str) -> String {
    let admin = pg_admin_url();
    let (path, query) = admin
        .split_once('?')
        .map_or((admin.as_str(), ""), |(p, q)| (p, q));
    let base = path.rsplit_once('/').map_or(path, |(base, _)| base);
    if query.is_empty() {
        format!("{base}/{database}")
    } else {
        format!("{base}/{database}?{query}")
    }
}

async fn admin() -> PgConnection {
    let url = pg_admin_url();
    match PgConnection::connect(&url).await {
        Ok(conn) => conn,
        Err(error) => panic!(
            "PostgreSQL is needed for this test and is not reachable at {url}: {error}. Start it \
             (pg_ctlcluster <version> main start) or set PG_TEST_URL."
        ),
    }
}

/// A fresh database on `backend`. For PostgreSQL, `fingerprint` names the schema (the list of
/// migrations) and `migrate` brings an empty database at a URL up to it, once per
/// fingerprint; for SQLite the database is an empty file the application migrates itself.
pub async fn fresh<F, Fut>(backend: Backend, fingerprint: &str, migrate: F) -> TestDb
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let dir = tempfile::tempdir().expect("a temporary directory");
    match backend {
        Backend::Sqlite => {
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            TestDb {
                url,
                backend,
                dir,
                pg_name: None,
            }
        }
        Backend::Postgres => {
            let template = template(fingerprint, migrate).await;
            let name = format!("lastmile_t_{:016x}", rand::rng().random::<u64>());
            let mut conn = admin().await;
            // A template cannot be cloned while someone is connected to it; retry briefly.
            let mut attempts = 0;
            loop {
                let sql = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
                match sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                {
                    Ok(_) => break,
                    Err(error) if attempts < 50 => {
                        attempts += 1;
                        let _ = error;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(error) => panic!("cannot create test database {name}: {error}"),
                }
            }
            let _ = conn.close().await;
            TestDb {
                url: pg_url_for(&name),
                backend,
                dir,
                pg_name: Some(name),
            }
        }
    }
}

/// The migrated template for `fingerprint`, built if missing.
async fn template<F, Fut>(fingerprint: &str, migrate: F) -> String
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let template = format!("lastmile_tpl_{fingerprint}");
    let mut conn = admin().await;
    sqlx::query("SELECT pg_advisory_lock(727274)")
        .execute(&mut conn)
        .await
        .expect("advisory lock");
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&template)
        .fetch_optional(&mut conn)
        .await
        .expect("pg_database");
    if exists.is_none() {
        let building = format!("{template}_build");
        let drop = format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)");
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
            .execute(&mut conn)
            .await
            .expect("drop a half-built template");
        let create = format!("CREATE DATABASE \"{building}\"");
        sqlx::raw_sql(sqlx::AssertSqlSafe(create))
            .execute(&mut conn)
            .await
            .expect("create the template");
        if let Err(error) = migrate(pg_url_for(&building)).await {
            panic!("cannot migrate the test template: {error}");
        }
        let rename = format!("ALTER DATABASE \"{building}\" RENAME TO \"{template}\"");
        let mut attempts = 0;
        while let Err(error) = sqlx::raw_sql(sqlx::AssertSqlSafe(rename.clone()))
            .execute(&mut conn)
            .await
        {
            attempts += 1;
            assert!(attempts < 50, "cannot finish the test template: {error}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    sqlx::query("SELECT pg_advisory_unlock(727274)")
        .execute(&mut conn)
        .await
        .expect("advisory unlock");
    let _ = conn.close().await;
    template
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs inside the test's runtime; drop the database from a thread of its own.
        let handle = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&pg_admin_url()).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = handle.join();
    }
}
