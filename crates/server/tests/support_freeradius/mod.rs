//! A real FreeRADIUS 3.2 (Debian's `freeradius`) pointed at a test lastmile's database with
//! the configuration `lastmile radius freeradius-config` generates (the same library call),
//! and `radclient`/`radtest` (Debian's `freeradius-utils`) as the NAS. The test only moves the
//! listeners to free loopback ports, drops the inner tunnel's listener, keeps logs in a
//! temporary directory and empties `clients.conf`, so every client comes from lastmile's
//! `nas` rows. On PostgreSQL FreeRADIUS logs in as the limited role the generated script
//! creates. Include with `mod support; mod support_freeradius;`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

pub mod api;
pub mod checks;
pub mod nas;

#[path = "../support_raddb/mod.rs"]
mod raddb;

#[allow(unused_imports, reason = "each test binary uses a part of the helpers")]
pub use raddb::{Run, lastmile, lastmile_as};
use raddb::{replace_listens, run};

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aaa::freeradius::{self, DEFAULT_FROM, Options};
use aaa::freeradius_edit::Login;
use sea_orm::ConnectionTrait as _;

use crate::support::TestApp;

const FREERADIUS: &str = "/usr/sbin/freeradius";

/// The client lifetime the tests' FreeRADIUS runs with: short, so a re-keyed or removed
/// router is seen soon.
pub const CLIENT_LIFETIME: u32 = 2;
const RADCLIENT: &str = "/usr/bin/radclient";
const RADTEST: &str = "/usr/bin/radtest";

/// A running FreeRADIUS on lastmile's database, stopped when dropped.
pub struct FreeRadius {
    child: Child,
    /// The auth port on 127.0.0.1.
    pub auth_port: u16,
    /// The accounting port on 127.0.0.1.
    pub acct_port: u16,
    log: Arc<Mutex<String>>,
    /// The PostgreSQL role made for it, dropped with it: (role, database URL).
    role: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: install the Debian package {package} (FreeRADIUS 3.2)"
    );
}

impl FreeRadius {
    /// Generates the configuration for `app`'s database and starts FreeRADIUS on it. Routers
    /// must exist already: FreeRADIUS reads `nas` at start-up only.
    pub async fn start(app: &TestApp) -> FreeRadius {
        require(FREERADIUS, "freeradius");
        require(RADCLIENT, "freeradius-utils");
        require(DEFAULT_FROM, "freeradius");
        let url = app.config.database_url();
        let dir = tempfile::tempdir().unwrap();
        let raddb = dir.path().join("raddb");
        let role = url.starts_with("postgres").then(|| {
            let name = format!("lastmile_fr_{:016x}", rand_u64());
            (name, format!("pw-{:016x}", rand_u64()))
        });
        let generated = freeradius::generate(&Options {
            from: DEFAULT_FROM.into(),
            out: raddb.clone(),
            database_url: url.clone(),
            db_login: role.as_ref().map(|(user, password)| Login {
                user: user.clone(),
                password: password.clone(),
            }),
            client_lifetime: CLIENT_LIFETIME,
        })
        .expect("the FreeRADIUS configuration is generated");
        if role.is_some() {
            // The script the generator wrote, run as the operator would.
            let script = std::fs::read_to_string(raddb.join("lastmile-freeradius-role.sql"))
                .expect("the role script is written for PostgreSQL");
            app.state
                .db
                .conn()
                .execute_unprepared(&script)
                .await
                .expect("the role script runs");
        } else {
            share_sqlite_with_freerad(&url);
        }
        assert!(generated.written.iter().any(|f| f.ends_with("sql")));
        prepare_for_test(dir.path(), &raddb);
        let [auth_port, acct_port] = free_ports();
        let ports = |kind: &str| match kind {
            "auth" => auth_port,
            "acct" => acct_port,
            _ => 0,
        };
        let available = raddb.join("sites-available");
        replace_listens(
            &raddb.join("sites-enabled/default"),
            &available.join("default"),
            &ports,
        );
        replace_listens(
            &raddb.join("sites-enabled/inner-tunnel"),
            &available.join("inner-tunnel"),
            &|_| 0,
        );
        run(Command::new("chown")
            .args(["-R", "freerad:freerad"])
            .arg(dir.path()));
        run(Command::new("chmod").arg("755").arg(dir.path()));

        let mut child = Command::new(FREERADIUS)
            .arg("-X")
            .arg("-d")
            .arg(&raddb)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("freeradius starts");
        let log = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = Arc::clone(&log);
            let ready_tx = ready_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if line.contains("Ready to process requests") {
                        let _ = ready_tx.send(());
                    }
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let mut server = FreeRadius {
            child,
            auth_port,
            acct_port,
            log,
            role: role.map(|(name, _)| (name, url)),
            _dir: dir,
        };
        // Only turns a hang into a failure; readiness is the log line.
        if ready_rx.recv_timeout(Duration::from_secs(90)).is_err() {
            let status = server.child.try_wait().ok().flatten();
            panic!(
                "FreeRADIUS did not become ready (exit: {status:?}):\n{}",
                server.log()
            );
        }
        if let Some((role, _)) = &server.role {
            // FreeRADIUS logged in as the limited role the generated script made.
            let sql =
                format!("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE usename = '{role}'");
            let row = app
                .state
                .db
                .conn()
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    sql,
                ))
                .await
                .unwrap()
                .unwrap();
            let sessions: i64 = row.try_get("", "n").unwrap();
            assert!(
                sessions > 0,
                "FreeRADIUS is not connected as {role}:\n{}",
                server.tail()
            );
        }
        server
    }

    /// Everything FreeRADIUS has printed so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The last part of the log (for failure messages).
    pub fn tail(&self) -> String {
        let log = self.log();
        let start = log.len().saturating_sub(12_000);
        let start = (start..log.len())
            .find(|i| log.is_char_boundary(*i))
            .unwrap_or(0);
        log[start..].to_owned()
    }
}

impl Drop for FreeRadius {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some((role, url)) = self.role.take() {
            // Roles are the cluster's, not the test database's: drop it while the database
            // (which holds its grants) still exists.
            let _ = Command::new("psql")
                .arg(&url)
                .args(["-q", "-c"])
                .arg(format!("DROP OWNED BY \"{role}\"; DROP ROLE \"{role}\";"))
                .output();
        }
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// A UDP port free on 127.0.0.1 right now (the OS's pick for port 0, released).
pub fn free_port() -> u16 {
    let [port] = free_ports();
    port
}

/// `N` distinct UDP ports free on 127.0.0.1 right now: all held until all are picked (two
/// picks of port 0 one after the other may give the same port twice).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let held: Vec<UdpSocket> = (0..N)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| held[i].local_addr().unwrap().port())
}

/// FreeRADIUS (user freerad) writes accounting into the SQLite file: it needs the file, its
/// -wal and -shm companions and the directory; the keyring beside them stays lastmile's.
fn share_sqlite_with_freerad(url: &str) {
    let file = Path::new(
        url.trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap(),
    );
    let dir = file.parent().unwrap();
    run(Command::new("chgrp").arg("freerad").arg(dir));
    run(Command::new("chmod").arg("2770").arg(dir));
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", file.display());
        if Path::new(&path).exists() {
            run(Command::new("chgrp").arg("freerad").arg(&path));
            run(Command::new("chmod").arg("g+rw").arg(&path));
        }
    }
}

/// Logs and run files in the test's directory, and no client but lastmile's routers.
fn prepare_for_test(dir: &Path, raddb: &Path) {
    for sub in ["log", "run"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let conf = raddb.join("radiusd.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    let edited = text
        .replace(
            "logdir = /var/log/freeradius",
            &format!("logdir = {}", dir.join("log").display()),
        )
        .replace(
            "run_dir = ${localstatedir}/run/${name}",
            &format!("run_dir = {}", dir.join("run").display()),
        );
    assert_ne!(text, edited, "radiusd.conf has no logdir/run_dir to move");
    std::fs::write(&conf, edited).unwrap();
}
