//! The integration tests' harness: a real lastmile started in-process on a random port with
//! a fresh database (SQLite or PostgreSQL), and a small HTTP client for its API. Include with
//! `mod support;`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod customers;
pub mod money;
pub mod panel;

use std::net::SocketAddr;

use lastmile::app::{self, Running};
use lastmile::config::Config;
use ops::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
pub use testkit::Backend;
use testkit::TestDb;
use web::AppState;

/// The code of an API error: its first field's, else its own.
pub fn error_code(body: &Value) -> String {
    body["error"]["fields"][0]["code"]
        .as_str()
        .or(body["error"]["code"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// A builder of the tests' HTTP clients. The payment providers' client brings reqwest's TLS
/// without a built-in crypto provider (rustls with `ring` is ours to choose): it is
/// installed for the process first, as every client reqwest builds wants one.
pub fn http_client() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// Declares a test that runs once on SQLite and once on PostgreSQL: write
/// `both_backends!(name);` under `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::support::Backend::Sqlite).await }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::support::Backend::Postgres).await }
            )*
        }
    };
}

/// A running lastmile with its database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its address.
    pub addr: SocketAddr,
    /// Its state (database, clock, ...).
    pub state: AppState,
    /// The configuration it started with.
    pub config: Config,
    /// The setup link it printed, if no account existed.
    pub setup_url: Option<String>,
    /// Where its built-in RADIUS server takes Access-Requests and Accounting-Requests.
    pub radius: Option<lastmile::app::RadiusAddrs>,
    /// An HTTP client that follows no redirects and keeps no cookies.
    pub http: reqwest::Client,
    running: Option<Running>,
    /// The database, dropped with the first node (none for [`TestApp::another_node`]).
    #[allow(dead_code)] // held for its drop
    db: Option<TestDb>,
}

/// A password every test account uses.
pub const PASSWORD: &str = "correct horse battery staple";

/// The configuration tests run with: random ports (HTTP and RADIUS), the test database,
/// cheap Argon2 (the same code, lower cost), one job worker.
pub fn test_config(db: &TestDb) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: db.dir().to_owned(),
        database_url: db.url.clone(),
        database_max_connections: 8,
        ..Config::default()
    };
    config.security.argon2_memory_kib = 1024;
    config.security.argon2_iterations = 1;
    config.security.max_concurrent_hashes = 2;
    config.security.max_queued_hashes = 64;
    config.jobs.workers = 1;
    config.jobs.poll_seconds = 1;
    // The usage watcher runs where a test asks for it (`fair_usage`).
    config.jobs.usage_watch_seconds = 0;
    // The billing runs go where a test drives them, at the instants it picks; the real
    // clock's run would invoice the test's customers for today's period.
    config.jobs.billing_runs = false;
    config.jobs.router_health_seconds = 0;
    config.radius.auth_listen = "127.0.0.1:0".parse().unwrap();
    config.radius.acct_listen = "127.0.0.1:0".parse().unwrap();
    config.radius.stale_check_seconds = 1;
    // Tests read `radacct` as soon as a router is acknowledged: the record must be in the
    // database by then. The journal's tests (`radius_journal`) ask for it.
    config.radius.accounting_durability = lastmile::config::AccountingDurability::Database;
    config
}

/// A fresh database on `backend`.
pub async fn fresh_db(backend: Backend) -> TestDb {
    testkit::db::fresh(
        backend,
        &store::migration::fingerprint(),
        |url| async move {
            let keyring =
                store::crypto::Keyring::parse(&store::crypto::Keyring::generate_line("t")).unwrap();
            let db = store::Db::connect(&url, 2, keyring)
                .await
                .map_err(|e| e.to_string())?;
            db.migrate().await.map_err(|e| e.to_string())?;
            db.close().await.map_err(|e| e.to_string())
        },
    )
    .await
}

/// Starts lastmile on a fresh database.
pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, |_| {}).await
}

/// Starts lastmile on a fresh database, with the configuration changed by `tweak`.
pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_on(backend, Clock::system(), tweak).await
}

/// Starts lastmile on a fresh database, reading `clock`, with the configuration changed by
/// `tweak`.
pub async fn spawn_on(backend: Backend, clock: Clock, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let db = fresh_db(backend).await;
    let mut config = test_config(&db);
    tweak(&mut config);
    let running = app::start(config, clock).await.expect("lastmile starts");
    let http = http_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp::of(running, http, Some(db))
}

impl TestApp {
    fn of(running: Running, http: reqwest::Client, db: Option<TestDb>) -> TestApp {
        let addr = running.addr;
        TestApp {
            base: format!("http://{addr}"),
            addr,
            state: running.state.clone(),
            config: running.config.clone(),
            setup_url: running.setup_url.clone(),
            radius: running.radius,
            http,
            running: Some(running),
            db,
        }
    }

    /// Stops the server (the database stays until the app is dropped).
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }

    /// Stops the server and starts it again on the same database and configuration (new
    /// ports; what the server keeps in memory is loaded afresh).
    pub async fn restart(&mut self) {
        self.stop().await;
        let running = app::start(self.config.clone(), self.state.clock.clone())
            .await
            .expect("lastmile starts again");
        self.addr = running.addr;
        self.base = format!("http://{}", running.addr);
        self.state = running.state.clone();
        self.radius = running.radius;
        self.running = Some(running);
    }

    /// Another node of the same cluster: a second lastmile on this one's database and
    /// configuration, with ports of its own and nothing else shared.
    pub async fn another_node(&self) -> TestApp {
        let running = app::start(self.config.clone(), self.state.clock.clone())
            .await
            .expect("a second node starts");
        TestApp::of(running, self.http.clone(), None)
    }

    /// The clock the server reads.
    pub fn clock(&self) -> &Clock {
        &self.state.clock
    }

    /// Sends an API request; returns the status and the JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (status, _, body) = self.call_full(method, path, token, body, &[]).await;
        (status, body)
    }

    /// Sends an API request with extra headers; returns status, headers and JSON body.
    pub async fn call_full(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the request reaches lastmile");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, headers, json)
    }

    /// `GET` with a token.
    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// `POST` JSON with a token.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// `PATCH` JSON with a token; the body should carry `version`.
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// `PUT` JSON with a token.
    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    /// `DELETE` with a token.
    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Signs in through the API; panics on failure.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "sign-in of {email}: {body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    /// Creates a Developer account the way `lastmile admin create` does and signs it in.
    pub async fn developer(&self) -> String {
        self.developer_named("dev@example.com").await
    }

    /// Creates a Developer account with this e-mail and signs it in.
    pub async fn developer_named(&self, email: &str) -> String {
        ops::auth::create_developer(
            &self.state.ctx(),
            store::Author::system("test"),
            email,
            "Developer",
            PASSWORD,
        )
        .await
        .expect("the developer account is created");
        self.login(email, PASSWORD).await
    }

    /// Creates a tenant; returns its id.
    pub async fn tenant(&self, token: &str, name: &str) -> i64 {
        let (status, body) = self
            .post("/api/v1/tenants", token, json!({"name": name, "country": "BD", "currency": "BDT", "time_zone": "Asia/Dhaka"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "tenant {name}: {body}");
        body["id"].as_i64().unwrap()
    }

    /// Creates a user from a JSON body (password added); returns its id.
    pub async fn user(&self, token: &str, mut body: Value) -> i64 {
        body["password"] = json!(PASSWORD);
        let (status, created) = self.post("/api/v1/users", token, body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "user {body}: {created}");
        created["id"].as_i64().unwrap()
    }

    /// Rows of a table (for assertions on database state).
    pub async fn count(&self, table: &str) -> i64 {
        use sea_orm::ConnectionTrait as _;
        let backend = self.state.db.conn().get_database_backend();
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        let row = self
            .state
            .db
            .conn()
            .query_one_raw(sea_orm::Statement::from_string(backend, sql))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

/// Polls `probe` every 100 ms until `done` holds, failing with `what` and the last value
/// after 90 s: for what lastmile and the simulated routers do in the background.
pub async fn until<T: std::fmt::Debug>(
    what: &str,
    mut probe: impl AsyncFnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let mut last = probe().await;
    while !done(&last) {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} never came: {last:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        last = probe().await;
    }
    last
}
