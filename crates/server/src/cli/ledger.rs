//! `lastmile ledger verify [--tenant ID]`: checks the books' invariants (every journal
//! balances, cached balances equal their entries, no floored account below its floor,
//! running balances agree, debits equal credits per book). Exit 0 when clean, 1 listing
//! each breach, 2 when it cannot run.

use std::process::ExitCode;

use clap::Subcommand;

use super::serve::{ConfigArgs, init_logging, load, open_database};
use domain::ids::TenantId;

/// `lastmile ledger ...`.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Check every invariant of the ledger; exit 1 on any breach.
    Verify {
        /// Only this tenant's books.
        #[arg(long)]
        tenant: Option<i64>,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// Runs a ledger subcommand.
#[allow(clippy::print_stdout, reason = "a command line tool reports on stdout")]
pub async fn run(command: LedgerCommand) -> ExitCode {
    let LedgerCommand::Verify { tenant, config } = command;
    let config = match load(&config, None) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::from(2);
        }
    };
    // The verdict is the output: the start-up's notices only when asked for.
    init_logging(if config.log == "info" {
        "warn"
    } else {
        &config.log
    });
    let db = match open_database(&config).await {
        Ok(db) => db,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::from(2);
        }
    };
    let tenant = tenant.map(TenantId);
    let checked = match store::ledger::verify(db.conn(), tenant).await {
        Ok(breaches) => store::ledger::journal_count(db.conn(), tenant)
            .await
            .map(|journals| (breaches, journals)),
        Err(error) => Err(error),
    };
    match checked {
        Ok((breaches, journals)) if breaches.is_empty() => {
            println!("ledger clean: {journals} journals checked");
            ExitCode::SUCCESS
        }
        Ok((breaches, _)) => {
            for breach in &breaches {
                println!("{}: {}", breach.invariant, breach.detail);
            }
            println!("{} breach(es)", breaches.len());
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("lastmile: {error}");
            ExitCode::from(2)
        }
    }
}
