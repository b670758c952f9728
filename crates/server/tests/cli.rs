//! The `lastmile` binary as an operator runs it: `admin create` (password as a flag or on
//! standard input, invalid input refused with exit code 2), `serve` on a fresh installation
//! (the one-time setup link), `migrate`, `ledger verify` (exit 1 on a breach), `billing run`
//! (dry, then once a day), `check` (what would stop `serve`), JSON logs, `lastmile.toml`
//! with an unknown key,
//! `LASTMILE_LISTEN`, a clean stop on SIGTERM, and `demo`, which never deletes a database it
//! did not make.
//!
//! Every test runs the real binary as a child process with its own data directory, on
//! SQLite, and on PostgreSQL where the database is what is being tested. A server is ready
//! when `/healthz` answers; it is killed when its guard drops.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

mod support;
mod support_cli;

use std::process::Command;

use reqwest::StatusCode;
use support::{Backend, PASSWORD};
use support_cli::{BIN, Install, Server, free_port, run_with_input, text};

async fn admin_create_makes_a_developer_who_signs_in_through_the_api(backend: Backend) {
    let install = Install::new(backend).await;
    let output = install
        .lastmile(&[
            "admin",
            "create",
            "--email",
            "owner@example.com",
            "--password",
            PASSWORD,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("created Developer account owner@example.com"),
        "{}",
        text(&output.stdout)
    );

    let mut server = install.serve().await;
    server.assert_developer("owner@example.com", PASSWORD).await;
    // An account exists, so no setup link is offered.
    server.line_containing("lastmile is listening");
    assert!(
        !server.printed.iter().any(|l| l.contains("/setup/")),
        "{:?}",
        server.printed
    );
}

async fn admin_create_reads_the_password_from_standard_input(backend: Backend) {
    let install = Install::new(backend).await;
    let command = install.lastmile(&["admin", "create", "--email", "piped@example.com"]);
    let output = run_with_input(command, &format!("{PASSWORD}\n"));
    assert!(output.status.success(), "{}", text(&output.stderr));

    let server = install.serve().await;
    server.assert_developer("piped@example.com", PASSWORD).await;
    // The line end is not part of the password.
    let (status, _) = server
        .sign_in("piped@example.com", &format!("{PASSWORD}\n"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn admin_create_refuses_an_invalid_email_or_a_short_password_with_exit_code_2(
    backend: Backend,
) {
    let install = Install::new(backend).await;
    for (email, password, field) in [
        ("not-an-email", PASSWORD, "email"),
        ("short@example.com", "short", "password"),
    ] {
        let output = install
            .lastmile(&["admin", "create", "--email", email, "--password", password])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{email} / {password}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(&format!("lastmile: {field}: ")),
            "{email} / {password}: {stderr}"
        );
        assert!(
            text(&output.stdout).trim().is_empty(),
            "{}",
            text(&output.stdout)
        );
    }
    match backend {
        // The input is checked before the database is opened: not even a file is made.
        Backend::Sqlite => assert!(
            !install.dir().join("lastmile.db").exists(),
            "a refused admin create leaves no database behind"
        ),
        Backend::Postgres => assert_eq!(install.accounts().await, 0, "no account was written"),
    }
}

async fn serve_without_an_account_prints_a_setup_link_that_works_once(backend: Backend) {
    let install = Install::new(backend).await;
    let mut server = install.serve().await;
    let offer = server.line_containing("one-time link");
    let link = offer.split_whitespace().last().unwrap().to_owned();
    assert!(
        link.starts_with(&format!("{}/setup/", server.base)),
        "{offer}"
    );
    server.line_containing("lastmile admin create --email");

    let page = server.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let path = link.strip_prefix(&server.base).unwrap();
    assert!(
        page.contains(&format!("<form method=\"post\" action=\"{path}\">")),
        "{page}"
    );

    let form = [
        ("email", "first@example.com"),
        ("name", "First Developer"),
        ("password", PASSWORD),
    ];
    let created = server.http.post(&link).form(&form).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert!(
        created
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("lastmile_session=")),
        "the new Developer is signed in to the panel"
    );
    server.assert_developer("first@example.com", PASSWORD).await;

    // The link is used up.
    let again = server.http.get(&link).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let second = [
        ("email", "second@example.com"),
        ("name", "Second"),
        ("password", PASSWORD),
    ];
    let again = server.http.post(&link).form(&second).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_eq!(install.accounts().await, 1);
}

async fn migrate_applies_the_migrations_and_exits_0(backend: Backend) {
    // An empty database, not the tests' migrated template.
    let db = match backend {
        Backend::Sqlite => support::fresh_db(backend).await,
        Backend::Postgres => testkit::db::fresh(backend, "empty", |_| async { Ok(()) }).await,
    };
    let install = Install { db };
    let pending = || async {
        let keyring = store::crypto::Keyring::parse(&store::crypto::Keyring::generate_line("t"));
        let db = store::Db::connect(&install.database_url(), 1, keyring.unwrap())
            .await
            .unwrap();
        let pending = db.needs_migration().await.unwrap();
        db.close().await.unwrap();
        pending
    };
    assert!(pending().await, "the database starts empty");

    for run in ["first", "second"] {
        let output = install.lastmile(&["migrate"]).output().unwrap();
        assert!(
            output.status.success(),
            "{run} run: {}",
            text(&output.stderr)
        );
        assert!(
            text(&output.stdout).contains("migrations applied"),
            "{run} run: {}",
            text(&output.stdout)
        );
        assert!(
            !pending().await,
            "migrations are pending after the {run} run"
        );
    }
}

/// `ledger verify` exits 0 on clean books and 1 listing a breach: a cached balance edited
/// behind the ledger's back.
async fn ledger_verify_exits_1_listing_each_breach(backend: Backend) {
    use sea_orm::ConnectionTrait as _;
    let install = Install::new(backend).await;
    let output = install.lastmile(&["ledger", "verify"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("ledger clean: 0 journals"));
    let conn = sea_orm::Database::connect(install.database_url())
        .await
        .unwrap();
    conn.execute_unprepared(
        "INSERT INTO ledger_account (tenant_id, currency, key, kind, party_id, normal, floor_amount,
            debits_posted, credits_posted, version, created_at, debits_pending)
         VALUES (1, 'BDT', 'revenue', 'revenue', NULL, 1, NULL, 0, 500, 1, '2026-01-01 00:00:00+00:00', 0)",
    )
    .await
    .unwrap();
    let output = install
        .lastmile(&["ledger", "verify", "--tenant", "1"])
        .output()
        .unwrap();
    let out = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("I2: account"), "{out}");
    assert!(out.contains("I4: tenant 1"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_key_in_lastmile_toml_stops_serve_and_names_the_key() {
    let install = Install::new(Backend::Sqlite).await;
    for (file, key) in [
        ("listn = \"127.0.0.1:0\"\n", "listn"),
        ("[security]\nsign_in_limit = 3\n", "sign_in_limit"),
    ] {
        std::fs::write(install.dir().join("lastmile.toml"), file).unwrap();
        let output = install
            .lastmile(&["serve", "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert!(!output.status.success(), "{file}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(&format!("`{key}`")), "{file}: {stderr}");
    }
    // Nothing was started: no database was created.
    assert!(!install.dir().join("lastmile.db").exists());
}

/// `lastmile check` passes on an installation ready to serve, and fails naming what would
/// stop it: a port taken, a keyring that is not the database's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_what_would_stop_serve() {
    let install = Install::new(Backend::Sqlite).await;
    let check = |listen: &str| {
        let mut command = install.lastmile(&["check"]);
        command.env("LASTMILE_LISTEN", listen);
        command.output().unwrap()
    };
    let ready = check("127.0.0.1:0");
    let said = text(&ready.stdout);
    assert_eq!(
        ready.status.code(),
        Some(0),
        "{said}{}",
        text(&ready.stderr)
    );
    assert!(said.contains("lastmile.db will be made"), "{said}");
    assert!(said.contains("secret.key will be made"), "{said}");
    for made in ["secret.key", "lastmile.db"] {
        assert!(!install.dir().join(made).exists(), "check makes nothing");
    }
    let migrated = install.lastmile(&["migrate"]).output().unwrap();
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let ready = check("127.0.0.1:0");
    let said = text(&ready.stdout);
    assert_eq!(ready.status.code(), Some(0), "{said}");
    assert!(said.contains("migrations up to date"), "{said}");

    // A port taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let busy = check(&address);
    assert_eq!(busy.status.code(), Some(1), "{}", text(&busy.stdout));
    assert!(text(&busy.stdout).contains(&format!("FAIL http           {address}")));
    drop(taken);

    // A router's secret sealed, then another keyring in its place.
    let created = install
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
    assert!(created.status.success(), "{}", text(&created.stderr));
    {
        let server = install.serve().await;
        let (_, body) = server.sign_in("dev@example.com", PASSWORD).await;
        let token = body["token"].as_str().unwrap().to_owned();
        let post = |path: &str, body: serde_json::Value| {
            server
                .http
                .post(format!("{}{path}", server.base))
                .bearer_auth(&token)
                .json(&body)
                .send()
        };
        let tenant: serde_json::Value = post(
            "/api/v1/tenants",
            serde_json::json!({"name": "Check ISP", "country": "BD", "currency": "BDT", "time_zone": "Asia/Dhaka"}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let router = post(
            "/api/v1/routers",
            serde_json::json!({"tenant_id": tenant["id"], "name": "r1", "nas_address": "10.9.0.1"}),
        )
        .await
        .unwrap();
        assert_eq!(router.status(), StatusCode::CREATED);
    }
    let good = check("127.0.0.1:0");
    assert!(
        text(&good.stdout).contains("a router's secret opens"),
        "{}",
        text(&good.stdout)
    );
    std::fs::write(
        install.dir().join("secret.key"),
        store::crypto::Keyring::generate_line("other"),
    )
    .unwrap();
    let wrong = check("127.0.0.1:0");
    let said = text(&wrong.stdout);
    assert_eq!(wrong.status.code(), Some(1), "{said}");
    assert!(said.contains("the keyring is not the database's"), "{said}");
}

/// `log_format = "json"`: what `serve` logs is one JSON object a line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_json_on_request() {
    let install = Install::new(Backend::Sqlite).await;
    let mut command = install.lastmile(&["serve", "--listen", "127.0.0.1:0"]);
    command.env("LASTMILE_LOG_FORMAT", "json");
    let mut server = Server::start(command).await;
    // A sign-in refused is logged.
    let (status, _) = server
        .sign_in("nobody@example.com", "wrong-password-1")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let line = server.line_containing("\"level\"");
    let logged: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    assert!(logged["level"].is_string(), "{logged}");
    assert!(logged["timestamp"].is_string(), "{logged}");
    assert!(logged["message"].is_string(), "{logged}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lastmile_listen_sets_the_address_serve_listens_on() {
    let install = Install::new(Backend::Sqlite).await;
    let address = format!("127.0.0.1:{}", free_port());
    let mut command = install.lastmile(&["serve"]);
    command.env("LASTMILE_LISTEN", &address);
    let server = Server::start(command).await;
    assert_eq!(server.base, format!("http://{address}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stops_cleanly_on_sigterm() {
    let install = Install::new(Backend::Sqlite).await;
    let mut server = install.serve().await;
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = server.exited().await;
    assert!(status.success(), "{status}:\n{}", server.stderr());
    server.line_containing("shutting down");
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
    let refused = server
        .http
        .get(format!("{}/healthz", server.base))
        .send()
        .await;
    assert!(refused.is_err(), "nothing listens after the stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_refuses_a_directory_holding_a_database_it_did_not_make() {
    let install = Install::new(Backend::Sqlite).await;
    let created = install
        .lastmile(&[
            "admin",
            "create",
            "--email",
            "owner@isp.example",
            "--password",
            PASSWORD,
        ])
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", text(&created.stderr));
    let before = std::fs::read(install.dir().join("lastmile.db")).unwrap();
    // Named by the flag, and named by the variable every other command honours.
    let by_flag = install
        .lastmile(&["demo", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    let by_variable = Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .current_dir(install.dir())
        .env("LASTMILE_DATA_DIR", install.dir())
        .output()
        .unwrap();
    for output in [by_flag, by_variable] {
        assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
        let stderr = text(&output.stderr);
        assert!(stderr.contains("not a demo's"), "{stderr}");
    }
    assert_eq!(
        std::fs::read(install.dir().join("lastmile.db")).unwrap(),
        before
    );
    assert_eq!(install.accounts().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_in_the_directory_lastmile_data_dir_names_and_starts_fresh_there() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("my-demo");
    let start = || {
        let mut command = Command::new(BIN);
        command
            .args(["demo", "--listen", "127.0.0.1:0"])
            .current_dir(dir.path())
            .env("LASTMILE_DATA_DIR", &demo_dir)
            .env("LASTMILE_SECURITY_ARGON2_MEMORY_KIB", "1024")
            .env("LASTMILE_SECURITY_ARGON2_ITERATIONS", "1")
            .env("LASTMILE_RADIUS_AUTH_LISTEN", "127.0.0.1:0")
            .env("LASTMILE_RADIUS_ACCT_LISTEN", "127.0.0.1:0");
        command
    };
    for _ in 0..2 {
        let mut server = Server::start(start()).await;
        let line = server.line_containing("developer@lastmile.example");
        let password = line.split_whitespace().last().unwrap().to_owned();
        server
            .assert_developer("developer@lastmile.example", &password)
            .await;
        drop(server);
        assert!(demo_dir.join("lastmile.db").exists());
        assert!(demo_dir.join("lastmile-demo").exists());
    }
    assert!(
        !dir.path().join("lastmile-demo").exists(),
        "only the named directory is used"
    );
    // The demo's resellers have balances and have recharged customers; the books are clean.
    let verify = Command::new(BIN)
        .args(["ledger", "verify", "--data-dir"])
        .arg(&demo_dir)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{out}");
    let journals: u64 = out
        .lines()
        .find_map(|line| line.strip_prefix("ledger clean: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(journals > 20, "{out}");
    // Its postpaid customers were invoiced, and some paid: the month's run is done.
    let again = Command::new(BIN)
        .args(["billing", "run", "--dry-run", "--data-dir"])
        .arg(&demo_dir)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{out}");
    assert!(out.contains(": done before"), "{out}");
}

/// `billing run`: a dry run says what the month's run would do and writes nothing; the run
/// does it; the same day again does nothing; the books stay clean.
async fn billing_run_dry_runs_then_runs_once_a_day(backend: Backend) {
    use sea_orm::ConnectionTrait as _;
    let install = Install::new(backend).await;
    let ok = |args: &[&str]| {
        let output = install.lastmile(args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&output.stderr)
        );
        text(&output.stdout)
    };
    ok(&["migrate"]);
    ok(&["bench", "seed", "--customers", "300", "--with-staff"]);
    let conn = sea_orm::Database::connect(install.database_url())
        .await
        .unwrap();
    let invoices = || async {
        conn.query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM invoice WHERE series = 'invoice'".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
    };
    let reached = |out: &str, verb: &str| -> i64 {
        let line = out
            .lines()
            .find(|l| l.contains(" invoice 2031-03-01: "))
            .unwrap_or_else(|| panic!("{out}"));
        let after = line
            .split(&format!("{verb} reach "))
            .nth(1)
            .unwrap_or_else(|| panic!("{out}"));
        after.split(' ').next().unwrap().parse().unwrap()
    };
    let at = ["--at", "2031-03-01T12:00:00Z"];
    let dry = ok(&["billing", "run", "--dry-run", at[0], at[1]]);
    assert!(dry.contains("nothing written"), "{dry}");
    let would = reached(&dry, "would");
    assert!(would > 0, "{dry}");
    assert_eq!(invoices().await, 0);
    let done = ok(&["billing", "run", at[0], at[1]]);
    assert_eq!(reached(&done, "did"), would, "{done}");
    assert_eq!(invoices().await, would);
    let again = ok(&["billing", "run", at[0], at[1]]);
    assert!(again.contains("invoice 2031-03-01: done before"), "{again}");
    assert_eq!(invoices().await, would);
    let verify = ok(&["ledger", "verify"]);
    assert!(verify.contains("ledger clean"), "{verify}");
}

both_backends!(
    admin_create_makes_a_developer_who_signs_in_through_the_api,
    admin_create_reads_the_password_from_standard_input,
    admin_create_refuses_an_invalid_email_or_a_short_password_with_exit_code_2,
    serve_without_an_account_prints_a_setup_link_that_works_once,
    migrate_applies_the_migrations_and_exits_0,
    ledger_verify_exits_1_listing_each_breach,
    billing_run_dry_runs_then_runs_once_a_day,
);
