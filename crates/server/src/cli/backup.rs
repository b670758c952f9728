//! `lastmile backup --out FILE` and `lastmile restore FILE` (the archive is
//! `crate::backup`'s). A backup runs beside a serving lastmile: on SQLite it copies one
//! consistent snapshot while writers carry on; on PostgreSQL it keeps the keyring and says
//! how to dump the database. A restore goes into an empty data directory, then opens what
//! it restored and checks it: SQLite's integrity, the migrations, the ledger and the RADIUS
//! rows. Exit codes: 0 done (and clean), 1 a check found something, 2 refused or failed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::serve::{ConfigArgs, init_logging, load, open_database};
use crate::backup::{self, BackupError};
use crate::config::redact_url;
use ops::clock::Clock;

/// Arguments of `lastmile backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The archive to write (it must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

/// Arguments of `lastmile restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The archive `lastmile backup` wrote.
    pub file: PathBuf,
}

fn refused(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("lastmile: {error}");
    ExitCode::from(2)
}

/// `lastmile backup`.
#[allow(clippy::print_stdout, reason = "a command line tool reports on stdout")]
pub async fn backup(args: BackupArgs) -> ExitCode {
    let config = match load(&args.config, None) {
        Ok(config) => config,
        Err(error) => return refused(&error),
    };
    init_logging(if config.log == "info" {
        "warn"
    } else {
        &config.log
    });
    let db = match open_database(&config).await {
        Ok(db) => db,
        Err(error) => return refused(&error),
    };
    match backup::take(&config, &db, &args.out, Clock::system().now()).await {
        Ok(taken) => {
            println!(
                "backup written to {}: {} bytes in {} ms ({}, lastmile {})",
                args.out.display(),
                taken.bytes,
                taken.took.as_millis(),
                taken.manifest.engine,
                taken.manifest.version
            );
            if taken.manifest.database.is_none() {
                println!(
                    "It holds the keyring only. Dump the PostgreSQL database beside it, e.g.\n  \
                     pg_dump --format=custom --file=lastmile.dump '{}'\n\
                     and restore it with pg_restore into an empty database.",
                    redact_url(&config.database_url())
                );
            }
            println!("It holds the keyring: keep it as safe as the keyring itself.");
            ExitCode::SUCCESS
        }
        Err(error) => refused(&error),
    }
}

/// `lastmile restore`.
#[allow(clippy::print_stdout, reason = "a command line tool reports on stdout")]
pub async fn restore(args: RestoreArgs) -> ExitCode {
    let config = match load(&args.config, None) {
        Ok(config) => config,
        Err(error) => return refused(&error),
    };
    init_logging(if config.log == "info" {
        "warn"
    } else {
        &config.log
    });
    let restored = match backup::unpack(&config, &args.file) {
        Ok(restored) => restored,
        Err(error) => return refused(&error),
    };
    println!(
        "restored the backup of {} (lastmile {}, {})",
        restored.manifest.taken_at.to_rfc3339(),
        restored.manifest.version,
        restored.manifest.engine
    );
    if let Some(path) = &restored.keyring {
        println!("  keyring  {}", path.display());
    }
    let Some(path) = &restored.database else {
        println!(
            "It held the keyring only: restore the PostgreSQL database with pg_restore from its dump."
        );
        return ExitCode::SUCCESS;
    };
    println!("  database {}", path.display());
    match check(&config).await {
        Ok(clean) if clean => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(error) => refused(&error),
    }
}

/// Opens the restored database (migrating it to this version) and runs its checks;
/// whether all were clean.
#[allow(clippy::print_stdout, reason = "a command line tool reports on stdout")]
async fn check(config: &crate::config::Config) -> Result<bool, BackupError> {
    let db = open_database(config)
        .await
        .map_err(|e| BackupError::Files(e.to_string()))?;
    let problems = db.integrity_problems().await?;
    for problem in &problems {
        println!("  integrity: {problem}");
    }
    let breaches = store::ledger::verify(db.conn(), None).await?;
    for breach in &breaches {
        println!("  ledger: {breach:?}");
    }
    let radius = aaa::verify::verify(&db, false, Clock::system().now()).await?;
    println!(
        "  checks: integrity {}, ledger {}, RADIUS rows {} ({} customers, {} drifted, {} stray)",
        if problems.is_empty() { "ok" } else { "FAILED" },
        if breaches.is_empty() {
            "clean"
        } else {
            "BREACHED"
        },
        if radius.clean() { "clean" } else { "DRIFTED" },
        radius.customers,
        radius.drifted,
        radius.stray
    );
    Ok(problems.is_empty() && breaches.is_empty() && radius.clean())
}
