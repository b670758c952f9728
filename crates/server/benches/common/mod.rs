//! What the benchmarks share: an installation (a data directory and a fresh database on
//! SQLite or PostgreSQL, migrated and with a Developer account, made by the release
//! `lastmile` binary itself), `lastmile serve` run as a separate process, signing in, an
//! HTTP client, and latency quantiles.
//!
//! Each benchmark includes this module (`mod common;`) and uses the part it needs.

#![allow(
    dead_code,
    reason = "each benchmark binary uses a different part of the shared helpers"
)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::{Backend, TestDb};

/// The first argument that is not a flag, as a customer count (`default` without one).
pub fn customers_arg(default: usize) -> usize {
    std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map_or(default, |a| a.parse().expect("CUSTOMERS is a number"))
}

/// The backends `LASTMILE_BENCH_BACKENDS` names (`sqlite,postgres`, the default: both).
pub fn backends() -> Vec<Backend> {
    std::env::var("LASTMILE_BENCH_BACKENDS")
        .unwrap_or("sqlite,postgres".into())
        .split(',')
        .map(|name| match name.trim() {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            other => panic!("LASTMILE_BENCH_BACKENDS: unknown backend {other:?}"),
        })
        .collect()
}

/// The release binary under measurement.
pub const BIN: &str = env!("CARGO_BIN_EXE_lastmile");
/// The Developer account every installation has.
pub const EMAIL: &str = "bench@example.com";
/// Its password.
pub const PASSWORD: &str = "correct horse battery staple";

/// A data directory and a database, migrated by `lastmile migrate`, with one Developer
/// account created by `lastmile admin create` with the default Argon2 settings. The
/// PostgreSQL database and the directory are removed when it is dropped.
pub struct Install {
    pub db: TestDb,
}

impl Install {
    pub async fn new(backend: Backend) -> Self {
        let db = testkit::db::fresh(
            backend,
            &store::migration::fingerprint(),
            |url| async move {
                let keyring =
                    store::crypto::Keyring::parse(&store::crypto::Keyring::generate_line("b"))
                        .map_err(|e| e.to_string())?;
                let db = store::Db::connect(&url, 2, keyring)
                    .await
                    .map_err(|e| e.to_string())?;
                db.migrate().await.map_err(|e| e.to_string())?;
                db.close().await.map_err(|e| e.to_string())
            },
        )
        .await;
        let install = Self { db };
        install.run(&["migrate"]);
        install.run(&["admin", "create", "--email", EMAIL, "--password", PASSWORD]);
        install
    }

    pub fn dir(&self) -> &Path {
        self.db.dir()
    }

    /// The URL of the database `lastmile` uses here (on SQLite, the file in the data
    /// directory).
    pub fn database_url(&self) -> String {
        match self.db.backend {
            Backend::Postgres => self.db.url.clone(),
            Backend::Sqlite => format!("sqlite://{}", self.dir().join("lastmile.db").display()),
        }
    }

    /// A connection to the database `lastmile` uses here, for what a bench reads or
    /// prepares beside the server.
    pub async fn connect(&self) -> sea_orm::DatabaseConnection {
        sea_orm::Database::connect(self.database_url())
            .await
            .unwrap()
    }

    /// Runs `sql` on the installation's database, beside the server.
    pub async fn execute(&self, sql: &str) {
        use sea_orm::ConnectionTrait as _;
        let conn = self.connect().await;
        conn.execute_unprepared(sql).await.unwrap();
    }

    /// Waits until the `lastmile serve` running on this installation has done the work a
    /// freshly seeded installation gives it at start, so that a measurement is of the load
    /// alone: the day's first billing pass (reminders for every customer near expiry, at
    /// once, as a seed leaves them), the notifications it queued, and the other jobs queued
    /// at start (statistics, housekeeping). Settled is no job running, no notification queued and a billing pass
    /// done, three polls a quarter second apart. Prints how long that took; gives up after
    /// [`START_UP_PATIENCE`], saying so.
    pub async fn settled(&self) {
        let conn = self.connect().await;
        let started = Instant::now();
        let busy = "SELECT \
             (SELECT COUNT(*) FROM job WHERE status = 'running') \
           + (SELECT COUNT(*) FROM notification WHERE status = 'queued') \
           + (SELECT CASE WHEN EXISTS (SELECT 1 FROM job WHERE kind = 'billing.run' \
                                        AND status = 'done') THEN 0 ELSE 1 END) AS n";
        let mut quiet = 0;
        while quiet < 3 {
            let n: i64 = rows(&conn, busy).await[0].try_get("", "n").unwrap();
            quiet = if n == 0 { quiet + 1 } else { 0 };
            if started.elapsed() > START_UP_PATIENCE {
                println!(
                    "  the server was still busy with its start-up work after {} s; measured anyway",
                    START_UP_PATIENCE.as_secs()
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        println!(
            "  start-up work (the day's billing pass and its notifications) done after {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }

    /// `lastmile ARGS` on this installation, with no `LASTMILE_*` or `RUST_LOG` from the
    /// benchmark's own environment.
    pub fn lastmile(&self, args: &[&str]) -> Command {
        self.binary(BIN, args)
    }

    /// As [`Install::lastmile`], with the `lastmile` binary at `bin` (another build, as a
    /// baseline).
    pub fn binary(&self, bin: &str, args: &[&str]) -> Command {
        let mut command = Command::new(bin);
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
    }

    /// Runs `lastmile ARGS` to the end; its standard output. Panics unless it succeeds.
    pub fn run(&self, args: &[&str]) -> String {
        let output = self.lastmile(args).output().unwrap();
        assert!(
            output.status.success(),
            "lastmile {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Starts `lastmile serve` with extra environment; returns it once `/healthz` answers,
    /// with the time from spawn to that answer. Its standard error goes to `serve.log` in
    /// the data directory.
    pub async fn serve(&self, env: &[(&str, &str)], poll: &reqwest::Client) -> (Server, Duration) {
        self.serve_binary(BIN, env, poll).await
    }

    /// As [`Install::serve`], with the `lastmile` binary at `bin`.
    pub async fn serve_binary(
        &self,
        bin: &str,
        env: &[(&str, &str)],
        poll: &reqwest::Client,
    ) -> (Server, Duration) {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(self.dir().join("serve.log")).unwrap();
        let mut command = self.binary(bin, &["serve", "--listen", &listen]);
        command
            .env("LASTMILE_RADIUS_AUTH_LISTEN", "127.0.0.1:0")
            .env("LASTMILE_RADIUS_ACCT_LISTEN", "127.0.0.1:0")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let health = format!("http://{listen}/healthz");
        let spawned = Instant::now();
        let mut child = command.spawn().unwrap();
        loop {
            if let Ok(response) = poll.get(&health).send().await
                && response.status() == StatusCode::OK
            {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                let log = std::fs::read_to_string(self.dir().join("serve.log"));
                panic!(
                    "lastmile serve exited ({status}): {}",
                    log.unwrap_or_default()
                );
            }
            assert!(spawned.elapsed() < Duration::from_secs(60), "never ready");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let ready = spawned.elapsed();
        let server = Server {
            child,
            base: format!("http://{listen}"),
        };
        (server, ready)
    }
}

/// Where a `lastmile serve` started by [`Install::serve_radius`] takes RADIUS.
#[derive(Debug, Clone, Copy)]
pub struct RadiusPorts {
    pub auth: u16,
    pub acct: u16,
}

impl Install {
    /// Starts `lastmile serve` with its RADIUS server on ports of its own (on 127.0.0.1)
    /// and `env` besides; also how long it took to answer.
    pub async fn serve_radius(
        &self,
        env: &[(&str, &str)],
        poll: &reqwest::Client,
    ) -> (Server, RadiusPorts, Duration) {
        let ports = RadiusPorts {
            auth: free_udp_port(),
            acct: free_udp_port(),
        };
        let auth = format!("127.0.0.1:{}", ports.auth);
        let acct = format!("127.0.0.1:{}", ports.acct);
        let mut all = vec![
            ("LASTMILE_RADIUS_AUTH_LISTEN", auth.as_str()),
            ("LASTMILE_RADIUS_ACCT_LISTEN", acct.as_str()),
        ];
        all.extend_from_slice(env);
        let (server, ready) = self.serve(&all, poll).await;
        (server, ports, ready)
    }
}

/// The longest [`Install::settled`] waits for a server's start-up work.
pub const START_UP_PATIENCE: Duration = Duration::from_secs(900);

/// A running `lastmile serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits until the server's database holds every accounting record it acknowledged
    /// (on PostgreSQL it acknowledges on its journal and writes the database behind);
    /// returns how long that took. The server refreshes the figure every quarter second: a
    /// wait under that is not told apart from none.
    pub async fn accounting_caught_up(&self, client: &reqwest::Client) -> Duration {
        let started = Instant::now();
        tokio::time::sleep(Duration::from_millis(300)).await;
        loop {
            let text = client
                .get(format!("{}/metrics", self.base))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let behind: f64 = text
                .lines()
                .find_map(|l| l.strip_prefix("lastmile_accounting_unapplied_records "))
                .and_then(|v| v.trim().parse().ok())
                .expect("/metrics gives lastmile_accounting_unapplied_records");
            if behind == 0.0 {
                return started.elapsed().saturating_sub(Duration::from_millis(250));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `GET path` as `token`; the JSON answer.
    pub async fn get_json(&self, client: &reqwest::Client, token: &str, path: &str) -> Value {
        client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `method path` with a JSON `body` as `token`; the JSON answer. Panics unless it
    /// succeeds.
    pub async fn send_json(
        &self,
        client: &reqwest::Client,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> Value {
        let response = client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// The tenant of the installation's first router (the one `lastmile bench seed` made).
    pub async fn seeded_tenant(&self, client: &reqwest::Client, token: &str) -> i64 {
        let listed = self
            .get_json(client, token, "/api/v1/routers?limit=1")
            .await;
        listed["items"][0]["tenant_id"].as_i64().unwrap()
    }

    /// Adds a router of `tenant` at `address` with `secret` through the API.
    pub async fn add_router(
        &self,
        client: &reqwest::Client,
        token: &str,
        tenant: i64,
        name: &str,
        address: std::net::Ipv4Addr,
        secret: &str,
    ) {
        let body = json!({"tenant_id": tenant, "name": name,
                          "nas_address": address.to_string(), "secret": secret});
        self.send_json(
            client,
            token,
            reqwest::Method::POST,
            "/api/v1/routers",
            &body,
        )
        .await;
    }

    /// Signs in; the token and the account's id.
    pub async fn sign_in(&self, client: &reqwest::Client) -> (String, i64) {
        let response = client
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"email": EMAIL, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        (
            body["token"].as_str().unwrap().to_owned(),
            body["user"]["id"].as_i64().unwrap(),
        )
    }
}

/// A port nothing listens on right now (the OS's pick for port 0, released).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A UDP port nothing listens on right now (the OS's pick for port 0, released).
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An HTTP/1.1 client keeping connections alive, one per concurrent request.
pub fn client() -> reqwest::Client {
    // reqwest's TLS comes without a crypto provider (the payment providers' client chooses
    // rustls with `ring`): installed for the process before any client is built.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Latencies, sorted.
#[derive(Debug, Default)]
pub struct Latencies(pub Vec<Duration>);

impl Latencies {
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self(samples)
    }

    /// The `q` quantile (0 < q ≤ 1), nearest rank.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.0.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * self.0.len() as f64).ceil() as usize).clamp(1, self.0.len());
        self.0[rank - 1]
    }

    /// How many samples.
    pub fn count(&self) -> usize {
        self.0.len()
    }
}

pub fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

pub fn ratio(value: Duration, baseline: Duration) -> String {
    if baseline.is_zero() {
        return "-".to_owned();
    }
    format!("{:.2}x", value.as_secs_f64() / baseline.as_secs_f64())
}

/// Rows of `sql`.
pub async fn rows(conn: &sea_orm::DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    use sea_orm::ConnectionTrait as _;
    conn.query_all_raw(sea_orm::Statement::from_string(
        conn.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .unwrap()
}

/// One request of a phase: as whom, where, what.
pub type Request = (String, String, Value);

/// What a phase did: how long it took, the latencies of the 2xx answers, the others by
/// status.
pub type Phase = (Duration, Latencies, std::collections::BTreeMap<u16, usize>);

/// POSTs each client's requests in turn, all clients at once.
pub async fn post_all(base: &str, clients: Vec<Vec<Request>>) -> Phase {
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|requests| {
            let base = base.to_owned();
            tokio::spawn(async move {
                let http = client();
                let mut ok = Vec::with_capacity(requests.len());
                let mut refused = std::collections::BTreeMap::<u16, usize>::new();
                for (token, path, body) in requests {
                    let sent = Instant::now();
                    let response = http
                        .post(format!("{base}{path}"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    let status = response.status();
                    let _ = response.bytes().await;
                    if status.is_success() {
                        ok.push(sent.elapsed());
                    } else {
                        *refused.entry(status.as_u16()).or_default() += 1;
                    }
                }
                (ok, refused)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut refused = std::collections::BTreeMap::<u16, usize>::new();
    for task in tasks {
        let (ok, no) = task.await.unwrap();
        all.extend(ok);
        for (status, n) in no {
            *refused.entry(status).or_default() += n;
        }
    }
    (started.elapsed(), Latencies::new(all), refused)
}

/// Prints a phase: requests/s, p50, p95, p99, the p50 against `baseline`'s (named), and
/// the answers that were not 2xx.
pub fn report(label: &str, (took, latencies, refused): &Phase, baseline: Option<(&str, &Phase)>) {
    let total = latencies.count() + refused.values().sum::<usize>();
    let rate = total as f64 / took.as_secs_f64();
    let against = baseline.map_or(String::new(), |(name, (_, b, _))| {
        format!(
            " ({} the {name}'s p50)",
            ratio(latencies.quantile(0.5), b.quantile(0.5))
        )
    });
    println!(
        "  {label:<22} {rate:>7.0}/s  p50 {}  p95 {}  p99 {}{against}  not 2xx: {refused:?}",
        ms(latencies.quantile(0.5)),
        ms(latencies.quantile(0.95)),
        ms(latencies.quantile(0.99)),
    );
}
