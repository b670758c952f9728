//! The installation's side: seeding with the CLI, the CSV import with the CLI, row counts,
//! and database maintenance and settings through a direct connection.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement};
use serde_json::Value;
use testkit::Backend;

use crate::api::Api;
use crate::common::Install;

/// A sign-in the seed made up: `account ROLE EMAIL PASSWORD` in its output.
#[derive(Debug, Clone)]
pub struct Account {
    /// `admin`, `operator` or `sub_operator`.
    pub role: String,
    pub email: String,
    pub password: String,
}

impl Account {
    /// Reads one `account ROLE EMAIL PASSWORD` line of the seed.
    fn parse(line: &str) -> Option<Self> {
        let mut parts = line.strip_prefix("account ")?.splitn(3, ' ');
        let (role, email, password) = (parts.next()?, parts.next()?, parts.next()?);
        Some(Self {
            role: role.to_owned(),
            email: email.to_owned(),
            password: password.trim().to_owned(),
        })
    }
}

/// What the seed printed: its tenant and the accounts it made up.
#[derive(Debug, Default)]
struct SeedOutput {
    tenant: Option<i64>,
    accounts: Vec<Account>,
}

impl SeedOutput {
    /// Takes in one line of output, echoing progress (not the accounts' passwords).
    fn read(&mut self, line: &str) {
        if let Some(account) = Account::parse(line) {
            self.accounts.push(account);
            return;
        }
        println!("    seed: {line}");
        if let Some(rest) = line.strip_prefix("tenant ") {
            self.tenant = rest.split_whitespace().next().and_then(|t| t.parse().ok());
        }
    }
}

/// `lastmile bench seed --customers N --with-staff`, its progress passed through; the
/// tenant, the time it took, and the staff accounts it made (an Admin, operators and
/// sub-operators, all with one made-up password).
pub async fn seed(install: &Install, customers: usize) -> (i64, Duration, Vec<Account>) {
    let mut command = install.lastmile(&[
        "bench",
        "seed",
        "--customers",
        &customers.to_string(),
        "--with-staff",
    ]);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = tokio::process::Command::from(command)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap().into_owned_fd().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut output = SeedOutput::default();
        for line in BufReader::new(std::fs::File::from(stdout)).lines() {
            output.read(&line.unwrap_or_default());
        }
        output
    });
    let output = child.wait_with_output().await.unwrap();
    let seeded = lines.await.unwrap();
    assert!(
        output.status.success(),
        "lastmile bench seed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!(
        "    seed: {} accounts made up ({})",
        seeded.accounts.len(),
        roles_count(&seeded.accounts)
    );
    (
        seeded.tenant.expect("the seed names its tenant"),
        started.elapsed(),
        seeded.accounts,
    )
}

/// "1 admin, 10 operator, ...": how many accounts of each role, in the seed's order.
fn roles_count(accounts: &[Account]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for account in accounts {
        match counts.iter_mut().find(|(role, _)| *role == account.role) {
            Some((_, n)) => *n += 1,
            None => counts.push((&account.role, 1)),
        }
    }
    counts
        .iter()
        .map(|(role, n)| format!("{n} {role}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A direct connection to the installation's database, for row counts and maintenance.
/// The single number `sql` selects.
pub async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Rows of the projection and customers: (customer, radcheck, radreply).
pub async fn counts(db: &DatabaseConnection) -> (i64, i64, i64) {
    (
        count(
            db,
            "SELECT COUNT(*) FROM customer WHERE archived_at IS NULL",
        )
        .await,
        count(db, "SELECT COUNT(*) FROM radcheck").await,
        count(db, "SELECT COUNT(*) FROM radreply").await,
    )
}

/// On PostgreSQL, `VACUUM ANALYZE`: what autovacuum does within a minute or two of a bulk
/// load (insert-driven vacuum since PostgreSQL 13), so plans see statistics and index-only
/// scans see a visibility map, as on a running installation. On SQLite nothing, as lastmile
/// does nothing there, unless `sqlite_analyze` asks for `ANALYZE` (what `PRAGMA optimize`
/// would do), to see what statistics change.
pub async fn maintain(install: &Install, sqlite_analyze: bool) -> Option<(&'static str, Duration)> {
    let statement = match install.db.backend {
        Backend::Postgres => "VACUUM ANALYZE",
        Backend::Sqlite if sqlite_analyze => "ANALYZE",
        Backend::Sqlite => return None,
    };
    let db = install.connect().await;
    let started = Instant::now();
    db.execute_unprepared(statement).await.unwrap();
    let took = started.elapsed();
    db.close().await.unwrap();
    Some((statement, took))
}

/// On PostgreSQL, sets `settings` (`name = value`) on the bench database, for the server's
/// connections to come.
pub async fn set_database(install: &Install, settings: &[String]) {
    if settings.is_empty() {
        return;
    }
    if install.db.backend != Backend::Postgres {
        println!("  (database settings {settings:?}: PostgreSQL only)");
        return;
    }
    let db = install.connect().await;
    let name = install.db.url.rsplit('/').next().unwrap().to_owned();
    for setting in settings {
        db.execute_unprepared(&format!("ALTER DATABASE \"{name}\" SET {setting}"))
            .await
            .unwrap();
        println!("  ALTER DATABASE {name} SET {setting}");
    }
    db.close().await.unwrap();
}

/// What the import did.
#[derive(Debug)]
pub struct ImportResult {
    pub rows: usize,
    pub took: Duration,
    pub summary: String,
    pub before: (i64, i64, i64),
    pub after: (i64, i64, i64),
}

/// Writes a CSV of `rows` new customers of the tenant's operators (their packages,
/// routers and zones), every fourth with a MAC; imports it with the CLI.
pub async fn import(api: &Api, install: &Install, tenant: i64, rows: usize) -> ImportResult {
    let operators = api
        .all("users", &format!("tenant_id={tenant}&role=operator"))
        .await;
    let packages = api
        .all("packages", &format!("tenant_id={tenant}&level=operator"))
        .await;
    let routers = api.all("routers", &format!("tenant_id={tenant}")).await;
    let zones = api.all("zones", &format!("tenant_id={tenant}")).await;
    let offers: Vec<(String, i64)> = operators
        .iter()
        .filter_map(|op| {
            let package = packages
                .iter()
                .find(|p| p["owner_id"] == op["id"] && p["connection_type"] == "pppoe")?;
            Some((op["email"].as_str()?.to_owned(), package["id"].as_i64()?))
        })
        .collect();
    let names = |items: &[Value]| -> Vec<String> {
        items
            .iter()
            .filter_map(|i| i["name"].as_str().map(str::to_owned))
            .collect()
    };
    let (routers, zones) = (names(&routers), names(&zones));
    assert!(
        !offers.is_empty() && !routers.is_empty() && !zones.is_empty(),
        "the seeded tenant has operators with packages, routers and zones"
    );

    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let stamp = now.timestamp();
    let mut csv = String::with_capacity(rows * 160);
    csv.push_str(
        "name,connection_type,package,username,password,billing_type,status,expires_at,zone,\
         router,owner,mac\n",
    );
    const FIRST: &[&str] = &["Karim", "Lima", "Sohel", "Popy", "Masud", "Tania", "Rubel"];
    const LAST: &[&str] = &["Mia", "Sheikh", "Talukder", "Mondal", "Biswas"];
    for n in 0..rows {
        let (owner, package) = &offers[n % offers.len()];
        let expires = now + chrono::TimeDelta::days((n % 60) as i64 - 20);
        let mac = if n % 4 == 0 {
            format!(
                "06:{:02x}:{:02x}:{:02x}:{:02x}:01",
                (n >> 24) & 0xff,
                (n >> 16) & 0xff,
                (n >> 8) & 0xff,
                n & 0xff
            )
        } else {
            String::new()
        };
        writeln!(
            csv,
            "{} {} {n},pppoe,{package},i{stamp}u{n},imp-{n}-pass,{},{},{},{},{},{owner},{mac}",
            FIRST[n % FIRST.len()],
            LAST[n % LAST.len()],
            if n % 7 == 0 { "postpaid" } else { "prepaid" },
            if n % 20 == 0 { "suspended" } else { "active" },
            expires.to_rfc3339(),
            zones[n % zones.len()],
            routers[(n / 3) % routers.len()],
        )
        .unwrap();
    }
    let file = install.dir().join("import.csv");
    std::fs::write(&file, csv).unwrap();

    let db = install.connect().await;
    let before = counts(&db).await;
    let mut command = install.lastmile(&[
        "import",
        "customers",
        file.to_str().unwrap(),
        "--tenant",
        &tenant.to_string(),
    ]);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let output = tokio::process::Command::from(command)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "lastmile import customers: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let after = counts(&db).await;
    db.close().await.unwrap();
    let _ = std::fs::remove_file(&file);
    ImportResult {
        rows,
        took,
        summary: stdout.lines().last().unwrap_or_default().to_owned(),
        before,
        after,
    }
}

/// `lastmile radius verify` of the whole installation: its time and the summary line.
/// Panics on drift: the seed, the import and the changes write their projections.
pub async fn verify(install: &Install) -> (Duration, String) {
    let command = install.lastmile(&["radius", "verify"]);
    let started = Instant::now();
    let output = tokio::process::Command::from(command)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "lastmile radius verify: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = stdout
        .lines()
        .find(|l| l.contains("customers checked"))
        .unwrap_or_default()
        .to_owned();
    (took, summary)
}
