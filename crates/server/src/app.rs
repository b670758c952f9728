//! The running application: start-up (keyring, database, migrations, the first-account setup
//! link, the shared state, HTTP, workers, the built-in RADIUS server) and shutdown. `lastmile serve` and the integration
//! tests start it the same way, through [`start`].

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::config::{AccountingDurability, Config};
use ops::auth::password::Hasher;
use ops::auth::token;
use ops::clock::Clock;
use store::Db;
use store::crypto::Keyring;
use web::state::{AppState, Parts, Settings, SetupLink};

/// Why lastmile could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory or the keyring file cannot be used.
    #[error("{0}")]
    Files(String),
    /// The keyring is invalid.
    #[error("keyring: {0}")]
    Keyring(#[from] store::crypto::CryptoError),
    /// The database cannot be reached or migrated.
    #[error("database: {0}")]
    Database(#[from] store::StoreError),
    /// The password hasher's settings are invalid.
    #[error("password hashing: {0}")]
    Hasher(#[from] ops::auth::password::HashError),
    /// The listen address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The accounting writer cannot start (its journal).
    #[error("{0}")]
    Accounting(#[from] aaa::accounting::WriterError),
    /// The RADIUS port cannot be bound.
    #[error(
        "cannot listen for RADIUS on {addr}: {source} (is FreeRADIUS running? with FreeRADIUS \
         serving lastmile's tables, set [radius] enabled = false)"
    )]
    RadiusListen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A started lastmile.
#[derive(Debug)]
pub struct Running {
    /// The address HTTP listens on.
    pub addr: SocketAddr,
    /// The state (for tests that look inside).
    pub state: AppState,
    /// The configuration it started with.
    pub config: Config,
    /// The setup link printed at start, when no account exists.
    pub setup_url: Option<String>,
    /// The addresses the built-in RADIUS server takes Access-Requests and
    /// Accounting-Requests on, when it runs.
    pub radius: Option<RadiusAddrs>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting requests, lets running ones and jobs finish, and returns.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Where the built-in RADIUS server listens.
#[derive(Debug, Clone, Copy)]
pub struct RadiusAddrs {
    /// Access-Requests.
    pub auth: SocketAddr,
    /// Accounting-Requests.
    pub acct: SocketAddr,
}

/// Opens the database (creating the data directory and keyring on first start), runs the
/// migrations, binds HTTP and starts the job workers and the scheduler.
pub async fn start(config: Config, clock: Clock) -> Result<Running, StartError> {
    let keyring = load_keyring(&config)?;
    if config.database_url.is_empty() {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            StartError::Files(format!("cannot create {}: {e}", config.data_dir.display()))
        })?;
    }
    let db = Db::connect(
        &config.database_url(),
        config.database_max_connections,
        keyring,
    )
    .await?
    .with_name_rest_days(config.customers.name_rest_days);
    db.migrate().await?;

    let hasher = Hasher::new(
        config.security.argon2_memory_kib,
        config.security.argon2_iterations,
        config.security.max_concurrent_hashes,
        config.security.max_queued_hashes,
    )?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;

    let now = clock.now();
    let no_account = store::user::count_all(db.conn()).await? == 0;
    let (setup, setup_token) = if no_account {
        let token = token::new_token("");
        let link = SetupLink {
            token_hash: token::hash(&token),
            expires_at: now + TimeDelta::hours(24),
        };
        (Some(link), Some(token))
    } else {
        (None, None)
    };
    let public_url = if config.public_url.is_empty() {
        format!("http://{addr}")
    } else {
        config.public_url()
    };
    let setup_url = setup_token.map(|t| format!("{public_url}/setup/{t}"));

    let state = AppState::new(Parts {
        settings: settings(&config),
        db,
        clock,
        hasher,
        sign_in_failures_per_minute: config.security.sign_in_failures_per_minute,
        hook_refusals_per_minute: config.security.hook_refusals_per_minute,
        setup,
        jobs_wake: Arc::new(Notify::new()),
    });

    let (shutdown, watcher) = watch::channel(false);
    let mut tasks = Vec::new();
    // RADIUS first: once HTTP answers (`/healthz`), the routers are answered too.
    let radius = if config.radius.enabled {
        let (addrs, radius_tasks) = start_radius(
            &config,
            &state.db,
            state.clock.clone(),
            state.metrics.clone(),
            &watcher,
        )
        .await?;
        tasks.extend(radius_tasks);
        Some(addrs)
    } else {
        None
    };
    tasks.push(tokio::spawn(web::routes::serve(
        listener,
        state.clone(),
        watcher.clone(),
    )));
    let (recorder, recording) = netops::Recorder::start(state.db.clone());
    tasks.push(recording);
    let enforce = netops::Settings {
        coa_port: config.radius.coa_port,
        verify: Duration::from_secs(u64::from(config.radius.disconnect_verify_seconds)),
        gates: std::sync::Arc::new(netops::Gates::new(netops::Limits {
            concurrency: config.radius.enforce_router_concurrency,
            per_second: config.radius.enforce_router_per_second,
        })),
        recorder: Some(recorder),
        ..netops::Settings::default()
    };
    tasks.extend(crate::jobs::start(
        state.clone(),
        &config.jobs,
        enforce,
        crate::backup::Schedule::of(&config),
        watcher,
    ));
    Ok(Running {
        addr,
        state,
        config,
        setup_url,
        radius,
        shutdown,
        tasks,
    })
}

/// Loads the built-in RADIUS server's state, binds its ports and starts its servers, the
/// accounting writer and the change log's follower. Returns the bound addresses and the
/// tasks.
async fn start_radius(
    config: &Config,
    db: &Db,
    clock: Clock,
    metrics: web::http::metrics::Metrics,
    watcher: &watch::Receiver<bool>,
) -> Result<(RadiusAddrs, Vec<JoinHandle<()>>), StartError> {
    let started = std::time::Instant::now();
    // The writer first, so that what the journal held from before is in `radacct` by the
    // time the open sessions are loaded from it.
    let durability = match (config.radius.accounting_durability, db.backend()) {
        (AccountingDurability::Journal, store::db::Backend::Postgres) => {
            aaa::accounting::Durability::Journal {
                dir: config.data_dir.join("accounting-journal"),
                max_bytes: u64::from(config.radius.journal_max_mib.max(1)) << 20,
            }
        }
        _ => aaa::accounting::Durability::Database,
    };
    let (writer, writing) = aaa::accounting::Writer::start(db.clone(), durability).await?;
    let now: aaa::clock::Now = Arc::new(move || clock.now());
    let aaa_state = Arc::new(aaa::state::AaaState::load(db, Arc::clone(&now)).await?);
    tracing::info!(
        accounts = aaa_state.account_count(),
        routers = aaa_state.client_count(),
        millis = started.elapsed().as_millis() as u64,
        "RADIUS state loaded"
    );
    let bound = |addr: SocketAddr| move |source| StartError::RadiusListen { addr, source };
    let (auth_addr, acct_addr) = (config.radius.auth_listen, config.radius.acct_listen);
    let interim = Duration::from_secs(u64::from(config.radius.interim_seconds));
    // One authentication thread per core (aaa-design.md §5.1).
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let auth = aaa::server::bind_auth(
        auth_addr,
        threads,
        Arc::clone(&aaa_state),
        db.clone(),
        writer.clone(),
        interim,
        now.clone(),
    )
    .map_err(bound(auth_addr))?;
    let backlog = writer.backlog();
    let acct = aaa::server::bind_acct(acct_addr, Arc::clone(&aaa_state), writer, now.clone())
        .await
        .map_err(bound(acct_addr))?;
    let addrs = RadiusAddrs {
        auth: auth.local_addr(),
        acct: acct.local_addr().map_err(bound(acct_addr))?,
    };
    let stopped = |mut watcher: watch::Receiver<bool>| async move {
        let _ = watcher.wait_for(|stop| *stop).await;
    };
    let counted = vec![("auth", auth.stats()), ("acct", acct.stats())];
    let auth_threads = {
        let watcher = watcher.clone();
        auth.spawn("radius-auth", move || stopped(watcher.clone()))
            .map_err(bound(auth_addr))?
    };
    let mut tasks = vec![
        join_threads(auth_threads),
        // The writer ends once the accounting server has answered its last request.
        spawn_server(acct.run(stopped(watcher.clone()))),
        writing,
        tokio::spawn(Arc::clone(&aaa_state).follow(db.clone(), stopped(watcher.clone()))),
    ];
    tasks.push(tokio::spawn(count_packets(
        counted,
        backlog.clone(),
        metrics,
        stopped(watcher.clone()),
    )));
    if !interim.is_zero() {
        tasks.push(tokio::spawn(aaa::accounting::sweep_stale(
            aaa_state,
            db.clone(),
            backlog.clone(),
            interim,
            Duration::from_secs(u64::from(config.radius.stale_check_seconds.max(1))),
            now,
            stopped(watcher.clone()),
        )));
    }
    Ok((addrs, tasks))
}

/// Every quarter second until `shutdown`, adds what the RADIUS servers counted since the
/// last look to the process's metrics (`lastmile_radius_packets_total`), and sets the
/// accounting the database lacks (`lastmile_accounting_unapplied_records`).
async fn count_packets(
    servers: Vec<(&'static str, Arc<radius::server::Stats>)>,
    backlog: aaa::accounting::Backlog,
    metrics: web::http::metrics::Metrics,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut seen = vec![radius::server::StatsSnapshot::default(); servers.len()];
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        let stopping = tokio::select! {
            biased;
            () = &mut shutdown => true,
            _ = tick.tick() => false,
        };
        for ((name, stats), last) in servers.iter().zip(seen.iter_mut()) {
            let now = stats.snapshot();
            for ((outcome, value), (_, before)) in now.named().into_iter().zip(last.named()) {
                metrics.radius_packets(name, outcome, value.saturating_sub(before));
            }
            *last = now;
        }
        metrics.accounting_behind(backlog.records());
        if stopping {
            return;
        }
    }
}

/// Waits for a RADIUS server's threads to end, logging why any failed.
fn join_threads(threads: Vec<std::thread::JoinHandle<std::io::Result<()>>>) -> JoinHandle<()> {
    tokio::task::spawn_blocking(move || {
        for thread in threads {
            match thread.join() {
                Ok(Ok(())) => {}
                Ok(Err(err)) => tracing::error!(error = %err, "a RADIUS server stopped"),
                Err(_panic) => tracing::error!("a RADIUS server's thread panicked"),
            }
        }
    })
}

/// Runs a RADIUS server to its end, logging why if it failed.
fn spawn_server(
    run: impl std::future::Future<Output = std::io::Result<()>> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(err) = run.await {
            tracing::error!(error = %err, "a RADIUS server stopped");
        }
    })
}

/// What the HTTP edges read of the configuration.
pub fn settings(config: &Config) -> Settings {
    Settings {
        public_url: if config.public_url.is_empty() {
            String::new()
        } else {
            config.public_url()
        },
        session_idle_minutes: config.security.session_idle_minutes,
        session_max_hours: config.security.session_max_hours,
        token_days: config.security.token_days,
        trusted_proxies: config.security.trusted_proxies.clone(),
    }
}

/// The keyring: from the configuration if it holds one, else from `secret.key` in the data
/// directory, created with a fresh key (readable by the owner only) on first start.
pub fn load_keyring(config: &Config) -> Result<Keyring, StartError> {
    if !config.security.secret_keys.trim().is_empty() {
        return Ok(Keyring::parse(&config.security.secret_keys)?);
    }
    let path = config.data_dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Keyring::parse(&text)?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                StartError::Files(format!("cannot create {}: {e}", config.data_dir.display()))
            })?;
            let line = Keyring::generate_line("k1");
            write_private(
                &path,
                &format!(
                    "# lastmile keyring: seals secrets at rest. Back it up with the database;\n\
                 # without it sealed secrets cannot be read. Add a new line to rotate.\n{line}\n"
                ),
            )?;
            Ok(Keyring::parse(&line)?)
        }
        Err(error) => Err(StartError::Files(format!(
            "cannot read {}: {error}",
            path.display()
        ))),
    }
}

fn write_private(path: &Path, text: &str) -> Result<(), StartError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| StartError::Files(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| StartError::Files(format!("cannot write {}: {e}", path.display())))
}
