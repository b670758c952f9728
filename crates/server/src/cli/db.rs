//! `lastmile db analyze`: refreshes the query planner's statistics now, as lastmile does
//! itself every six hours and after bulk writes (after restoring a copy of a database, say,
//! or loading rows by other means).

use std::process::ExitCode;

use clap::Subcommand;

use super::serve::{ConfigArgs, init_logging, load, open_database};

/// `lastmile db ...`.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Refresh the query planner's statistics.
    Analyze(ConfigArgs),
}

/// Runs a db subcommand.
#[allow(clippy::print_stdout, reason = "a command line tool reports on stdout")]
pub async fn run(command: DbCommand) -> ExitCode {
    let DbCommand::Analyze(args) = command;
    let config = match load(&args, None) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config.log);
    let db = match open_database(&config).await {
        Ok(db) => db,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::FAILURE;
        }
    };
    match db.refresh_statistics().await {
        Ok(took) => {
            println!("statistics refreshed in {} ms", took.as_millis());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("lastmile: {error}");
            ExitCode::FAILURE
        }
    }
}
