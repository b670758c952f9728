//! The `lastmile` binary run as an operator runs it, for the tests that drive it: an
//! installation (a data directory and a database: SQLite in the directory, or a fresh
//! PostgreSQL database passed as `--database-url`), `lastmile ARGS` run in it, and a
//! `lastmile serve` child process ready when `/healthz` answers, killed when dropped.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, Backend};
use testkit::TestDb;

pub const BIN: &str = env!("CARGO_BIN_EXE_lastmile");

/// How long a process may take to do what the test waits for before the test gives up. A
/// bound for hung processes, not a measurement: the tests poll and go on as soon as they can.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// An installation: a data directory and a database (SQLite in the data directory, or a
/// fresh PostgreSQL database passed as `--database-url`).
pub struct Install {
    pub db: TestDb,
}

impl Install {
    pub async fn new(backend: Backend) -> Self {
        Self {
            db: support::fresh_db(backend).await,
        }
    }

    pub fn dir(&self) -> &Path {
        self.db.dir()
    }

    /// `lastmile ARGS --data-dir DIR [--database-url URL]`, run in the data directory with
    /// none of the caller's `LASTMILE_*` variables and cheap Argon2 settings.
    pub fn lastmile(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command.args(args).arg("--data-dir").arg(self.dir());
        if self.db.backend == Backend::Postgres {
            command.arg("--database-url").arg(&self.db.url);
        }
        command.current_dir(self.dir());
        for (name, _) in std::env::vars() {
            if name.starts_with("LASTMILE_") || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        command
            .env("LASTMILE_SECURITY_ARGON2_MEMORY_KIB", "1024")
            .env("LASTMILE_SECURITY_ARGON2_ITERATIONS", "1")
            .env("LASTMILE_RADIUS_AUTH_LISTEN", "127.0.0.1:0")
            .env("LASTMILE_RADIUS_ACCT_LISTEN", "127.0.0.1:0");
        command
    }

    /// `lastmile serve --listen 127.0.0.1:0`, ready.
    pub async fn serve(&self) -> Server {
        Server::start(self.lastmile(&["serve", "--listen", "127.0.0.1:0"])).await
    }

    /// The database `lastmile` uses here.
    pub fn database_url(&self) -> String {
        match self.db.backend {
            Backend::Sqlite => format!("sqlite://{}", self.dir().join("lastmile.db").display()),
            Backend::Postgres => self.db.url.clone(),
        }
    }

    /// The number of staff accounts in the database.
    pub async fn accounts(&self) -> i64 {
        use sea_orm::ConnectionTrait as _;
        let conn = sea_orm::Database::connect(self.database_url())
            .await
            .unwrap();
        let backend = conn.get_database_backend();
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(
                backend,
                "SELECT COUNT(*) AS n FROM staff_user",
            ))
            .await
            .unwrap()
            .unwrap();
        let count = row.try_get::<i64>("", "n").unwrap();
        conn.close().await.unwrap();
        count
    }
}

/// A running `lastmile serve`, killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// Standard output, line by line, as it is printed.
    pub stdout: Receiver<String>,
    /// Every line read from `stdout` so far.
    pub printed: Vec<String>,
    pub stderr: Arc<Mutex<String>>,
    pub http: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Spawns `command`, reads the address it announces and polls `/healthz` until it
    /// answers.
    pub async fn start(mut command: Command) -> Server {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (lines, stdout) = std::sync::mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let collected = stderr.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = err.read(&mut chunk) {
                collected
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
            stdout,
            printed: Vec::new(),
            stderr,
            http: support::http_client()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        };
        let announced = server.line_containing("is listening on http://");
        let address = announced
            .rsplit("http://")
            .next()
            .unwrap()
            .trim()
            .to_owned();
        server.base = format!("http://{address}");
        server.wait_until_healthy().await;
        server
    }

    /// Waits for a line of standard output containing `text`; returns it.
    pub fn line_containing(&mut self, text: &str) -> String {
        if let Some(line) = self.printed.iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    self.printed.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => panic!(
                    "lastmile never printed {text:?}; stdout:\n{}\nstderr:\n{}",
                    self.printed.join("\n"),
                    self.stderr()
                ),
            }
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub async fn wait_until_healthy(&mut self) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(response) = self.http.get(format!("{}/healthz", self.base)).send().await
                && response.status() == StatusCode::OK
            {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "lastmile exited ({status}) before it was ready:\n{}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "lastmile did not answer /healthz at {}:\n{}",
                self.base,
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the process to exit; returns its status.
    pub async fn exited(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "lastmile did not exit:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `POST /api/v1/auth/login`; the status and the JSON body.
    pub async fn sign_in(&self, email: &str, password: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    /// `GET /api/v1/me` with a bearer token.
    pub async fn me(&self, token: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/api/v1/me", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    /// Asserts that `email` signs in with `password` as a Developer.
    pub async fn assert_developer(&self, email: &str, password: &str) {
        let (status, body) = self.sign_in(email, password).await;
        assert_eq!(status, StatusCode::OK, "sign-in of {email}: {body}");
        let me = self.me(body["token"].as_str().unwrap()).await;
        assert_eq!(me["email"], email, "{me}");
        assert_eq!(me["role"], "developer", "{me}");
    }
}

/// Runs `command` with `input` on its standard input.
pub fn run_with_input(mut command: Command, input: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A port nothing listens on right now (the OS's pick for port 0, released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
