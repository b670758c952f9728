//! `lastmile serve` and `lastmile migrate`: configuration from file, environment and flags,
//! logging, start-up, and shutdown on Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::app;
use crate::config::Config;
use ops::clock::Clock;

/// Where the configuration comes from.
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// The configuration file (default: ./lastmile.toml if it exists).
    #[arg(long, env = "LASTMILE_CONFIG")]
    pub config: Option<PathBuf>,
    /// The data directory (SQLite database, keyring).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`.
    #[arg(long)]
    pub database_url: Option<String>,
}

/// Arguments of `lastmile serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The HTTP listen address (default 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

/// Loads the configuration: file, then `LASTMILE_*` variables, then flags.
pub fn load(args: &ConfigArgs, listen: Option<SocketAddr>) -> Result<Config, String> {
    let (mut config, unknown) =
        Config::load(args.config.as_deref(), std::env::vars()).map_err(|e| e.to_string())?;
    for name in unknown {
        eprintln!("lastmile: ignoring unknown environment variable {name}");
    }
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(url) = &args.database_url {
        config.database_url = url.clone();
    }
    if let Some(listen) = listen {
        config.listen = listen;
    }
    Ok(config)
}

/// Starts logging at the configured level (`RUST_LOG` wins when set).
pub fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

/// Starts the log of a long-running command as `config` asks: its filter (`RUST_LOG` wins
/// when set) and its format, lines for people or one JSON object a line.
pub fn init_logging_for(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match config.log_format {
        crate::config::LogFormat::Text => builder.try_init(),
        crate::config::LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
}

/// `lastmile serve`.
pub async fn serve(args: ServeArgs) -> ExitCode {
    let config = match load(&args.config, args.listen) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging_for(&config);
    tracing::info!(config = ?config, "starting");
    let running = match app::start(config, Clock::system()).await {
        Ok(running) => running,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::FAILURE;
        }
    };
    announce(&running, &args.config);
    wait_for_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    ExitCode::SUCCESS
}

#[allow(clippy::print_stdout)] // the operator's first instructions belong on the terminal
fn announce(running: &app::Running, args: &ConfigArgs) {
    println!("lastmile is listening on http://{}", running.addr);
    if let Some(radius) = running.radius {
        println!(
            "RADIUS on udp {} (authentication) and {} (accounting)",
            radius.auth, radius.acct
        );
    }
    if let Some(url) = &running.setup_url {
        println!();
        println!("No account exists yet. Create the Developer account either way:");
        println!("  open this one-time link (valid 24 hours):  {url}");
        println!(
            "  or run:  lastmile admin create --email you@example.com{}",
            same_database(args)
        );
        println!();
    }
}

/// The flags that make another command use the same configuration and database.
fn same_database(args: &ConfigArgs) -> String {
    let mut flags = String::new();
    if let Some(path) = &args.config {
        flags.push_str(&format!(" --config {}", path.display()));
    }
    if let Some(dir) = &args.data_dir {
        flags.push_str(&format!(" --data-dir {}", dir.display()));
    }
    if let Some(url) = &args.database_url {
        // Never echo a password: name the flag and let the operator fill it in.
        if crate::config::redact_url(url) == *url {
            flags.push_str(&format!(" --database-url {url}"));
        } else {
            flags.push_str(" --database-url <the same database URL>");
        }
    }
    flags
}

pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// `lastmile migrate`.
#[allow(clippy::print_stdout)]
pub async fn migrate(args: ConfigArgs) -> ExitCode {
    let config = match load(&args, None) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging_for(&config);
    match open_database(&config).await {
        Ok(_) => {
            println!("migrations applied");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("lastmile: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Opens and migrates the configured database (the keyring created if missing).
pub async fn open_database(config: &Config) -> Result<store::Db, app::StartError> {
    let keyring = app::load_keyring(config)?;
    if config.database_url.is_empty() {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            app::StartError::Files(format!("cannot create {}: {e}", config.data_dir.display()))
        })?;
    }
    let db = store::Db::connect(&config.database_url(), 4, keyring)
        .await?
        .with_name_rest_days(config.customers.name_rest_days);
    db.migrate().await?;
    Ok(db)
}
