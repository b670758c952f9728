//! `lastmile backup` and `lastmile restore`, the binary run as an operator runs it, on
//! SQLite: a backup taken while a serving lastmile takes writes (customers made and
//! recharged through the API) holds every write acknowledged before it started; restored
//! into an empty data directory it opens with its keyring, and `ledger verify` and
//! `radius verify` find it clean. Refused, with nothing written: a backup over an existing
//! file, a restore over a database, a restore of a tampered archive. On PostgreSQL the
//! archive holds the keyring and the command says how to dump the database. Scheduled
//! backups come once a period and only the newest are kept.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_cli;

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, PASSWORD};
use support_cli::{BIN, Install, text};

/// `POST path` to the server at `base` with `token`; the status and the body.
async fn post(
    (http, base): (&reqwest::Client, &str),
    token: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `lastmile ARGS --data-dir DIR`, with none of the caller's `LASTMILE_*` variables.
fn lastmile_in(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(BIN);
    command
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .current_dir(dir);
    for (name, _) in std::env::vars() {
        if name.starts_with("LASTMILE_") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    command.output().unwrap()
}

/// The customer ids stored in the SQLite database at `path`.
async fn customers_in(path: &Path) -> HashSet<i64> {
    use sea_orm::ConnectionTrait as _;
    let conn = sea_orm::Database::connect(format!("sqlite://{}?mode=ro", path.display()))
        .await
        .unwrap();
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            "SELECT id FROM customer",
        ))
        .await
        .unwrap();
    let ids = rows
        .iter()
        .map(|r| r.try_get::<i64>("", "id").unwrap())
        .collect();
    conn.close().await.unwrap();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_writes_restores_every_write_acknowledged_before_it() {
    let install = Install::new(Backend::Sqlite).await;
    let made = install
        .lastmile(&[
            "admin",
            "create",
            "--email",
            "dev@example.com",
            "--password",
            PASSWORD,
        ])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made.stderr));
    let server = install.serve().await;
    let to = (&server.http, server.base.as_str());
    let (_, signed) = server.sign_in("dev@example.com", PASSWORD).await;
    let dev = signed["token"].as_str().unwrap().to_owned();
    let (status, tenant) = post(
        to,
        &dev,
        "/api/v1/tenants",
        json!({"name": "Backup ISP", "country": "BD", "currency": "BDT", "time_zone": "Asia/Dhaka"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{tenant}");
    let tenant = tenant["id"].as_i64().unwrap();
    let (status, _) = post(
        to,
        &dev,
        "/api/v1/users",
        json!({"email": "admin@b.example", "name": "Admin", "role": "admin",
               "tenant_id": tenant, "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, signed) = server.sign_in("admin@b.example", PASSWORD).await;
    let admin = signed["token"].as_str().unwrap().to_owned();
    let (status, package) = post(
        to,
        &admin,
        "/api/v1/packages",
        json!({"name": "Home 10M", "connection_type": "pppoe", "download_kbps": 10000,
               "upload_kbps": 5000, "validity_days": 30, "price": 50000}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{package}");
    let package = package["id"].as_i64().unwrap();

    // Writers: each customer made, then recharged; an id counts once both were answered.
    let acknowledged: Arc<Mutex<Vec<i64>>> = Arc::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut writers = Vec::new();
    for writer in 0..2 {
        let (http, base, admin, acknowledged, stopped) = (
            server.http.clone(),
            server.base.clone(),
            admin.clone(),
            Arc::clone(&acknowledged),
            stopped.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !*stopped.borrow() {
                n += 1;
                let name = format!("w{writer}c{n}");
                let (status, c) = post(
                    (&http, &base),
                    &admin,
                    "/api/v1/customers",
                    json!({"package_id": package, "connection_type": "pppoe", "name": name,
                           "username": name, "password": "pw-backup-1"}),
                )
                .await;
                assert_eq!(status, StatusCode::CREATED, "{c}");
                let id = c["id"].as_i64().unwrap();
                let (status, paid) = post(
                    (&http, &base),
                    &admin,
                    &format!("/api/v1/customers/{id}/recharge"),
                    json!({}),
                )
                .await;
                assert_eq!(status, StatusCode::CREATED, "{paid}");
                acknowledged.lock().unwrap().push(id);
            }
        }));
    }
    // Some writes first, then the backup while the writers go on.
    while acknowledged.lock().unwrap().len() < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let before: HashSet<i64> = acknowledged.lock().unwrap().iter().copied().collect();
    let out = install.dir().join("nightly.tar.gz");
    let out_text = out.to_str().unwrap().to_owned();
    let taken = install
        .lastmile(&["backup", "--out", &out_text])
        .output()
        .unwrap();
    assert!(taken.status.success(), "{}", text(&taken.stderr));
    assert!(
        text(&taken.stdout).contains("backup written to"),
        "{}",
        text(&taken.stdout)
    );
    while acknowledged.lock().unwrap().len() < before.len() + 10 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let all: HashSet<i64> = acknowledged.lock().unwrap().iter().copied().collect();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the archive holds the keyring: {mode:o}");
    }

    // A backup never overwrites a file.
    let again = install
        .lastmile(&["backup", "--out", &out_text])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    assert!(text(&again.stderr).contains("exists"));

    // Restored into an empty data directory: checked clean, and every write acknowledged
    // before the backup is there.
    let elsewhere = tempfile::tempdir().unwrap();
    let restored = lastmile_in(elsewhere.path(), &["restore", &out_text]);
    let said = text(&restored.stdout);
    assert!(
        restored.status.success(),
        "{said}\n{}",
        text(&restored.stderr)
    );
    assert!(said.contains("ledger clean"), "{said}");
    assert!(said.contains("RADIUS rows clean"), "{said}");
    let kept = customers_in(&elsewhere.path().join("lastmile.db")).await;
    let lost: Vec<&i64> = before.difference(&kept).collect();
    assert!(
        lost.is_empty(),
        "acknowledged before the backup, lost: {lost:?}"
    );
    assert!(kept.is_subset(&all), "nothing the writers were not told of");
    for check in [["ledger", "verify"], ["radius", "verify"]] {
        let output = lastmile_in(elsewhere.path(), &check);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{check:?}: {}{}",
            text(&output.stdout),
            text(&output.stderr)
        );
    }
    // The restored installation serves with its keyring: its staff sign in.
    let key = std::fs::read_to_string(elsewhere.path().join("secret.key")).unwrap();
    let original = std::fs::read_to_string(install.dir().join("secret.key")).unwrap();
    assert_eq!(key, original);

    // Not over a database, and not from a tampered archive.
    let over = lastmile_in(elsewhere.path(), &["restore", &out_text]);
    assert_eq!(over.status.code(), Some(2), "{}", text(&over.stderr));
    assert!(
        text(&over.stderr).contains("exists"),
        "{}",
        text(&over.stderr)
    );
    let mut bytes = std::fs::read(&out).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    let tampered = install.dir().join("tampered.tar.gz");
    std::fs::write(&tampered, bytes).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let refused = lastmile_in(empty.path(), &["restore", tampered.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(!empty.path().join("lastmile.db").exists());
    assert!(
        std::fs::read_dir(empty.path())
            .unwrap()
            .filter_map(Result::ok)
            .all(|e| !e.file_name().to_string_lossy().ends_with(".restoring")),
        "no partial copy left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_the_backup_keeps_the_keyring_and_says_how_to_dump() {
    let install = Install::new(Backend::Postgres).await;
    let out = install.dir().join("keyring.tar.gz");
    let taken = install
        .lastmile(&["backup", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let said = text(&taken.stdout);
    assert!(taken.status.success(), "{said}{}", text(&taken.stderr));
    assert!(said.contains("pg_dump --format=custom"), "{said}");
    assert!(!said.contains("password="), "{said}");
    // Restored beside a database the configuration names, it puts the keyring back only.
    let elsewhere = tempfile::tempdir().unwrap();
    let restored = lastmile_in(elsewhere.path(), &["restore", out.to_str().unwrap()]);
    let said = text(&restored.stdout);
    assert!(
        restored.status.success(),
        "{said}{}",
        text(&restored.stderr)
    );
    assert!(said.contains("keyring only"), "{said}");
    assert_eq!(
        std::fs::read_to_string(elsewhere.path().join("secret.key")).unwrap(),
        std::fs::read_to_string(install.dir().join("secret.key")).unwrap()
    );
}

/// The scheduled copies in `dir`, by name.
fn copies(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tar.gz"))
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_come_each_period_and_the_oldest_go() {
    let dir = tempfile::tempdir().unwrap();
    let into = dir.path().display().to_string();
    let clock = ops::clock::Clock::fixed(ops::clock::Clock::system().now());
    let app = support::spawn_on(Backend::Sqlite, clock, move |config| {
        config.backup.dir = into;
        config.backup.every_hours = 1;
        config.backup.keep = 2;
        // The scheduler ticks as often as the usage watcher runs.
        config.jobs.usage_watch_seconds = 1;
    })
    .await;
    let mut seen = Vec::new();
    for hour in 1..=3 {
        let now = support::until(
            "the period's backup is written",
            async || copies(dir.path()),
            |names| names.len() == hour.min(2) && names.last() != seen.last(),
        )
        .await;
        seen = now;
        app.clock().shift(3600);
    }
    assert_eq!(seen.len(), 2, "the newest two are kept: {seen:?}");
    // The newest restores and checks clean.
    let newest = dir.path().join(seen.last().unwrap());
    let elsewhere = tempfile::tempdir().unwrap();
    let restored = lastmile_in(elsewhere.path(), &["restore", newest.to_str().unwrap()]);
    assert!(
        restored.status.success(),
        "{}{}",
        text(&restored.stdout),
        text(&restored.stderr)
    );
}
