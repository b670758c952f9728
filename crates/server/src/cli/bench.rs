//! `lastmile bench seed --customers N`: fills the configured database with a synthetic
//! benchmark tenant (ten operators, their packages, routers and zones, and N customers with
//! their FreeRADIUS rows), for the benchmarks and for trying lastmile at scale.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::serve::{ConfigArgs, init_logging, load, open_database};
use ops::clock::Clock;

/// `lastmile bench ...`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Add a synthetic tenant with N customers.
    Seed(SeedArgs),
}

/// Arguments of `lastmile bench seed`.
#[derive(Debug, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// How many customers.
    #[arg(long)]
    customers: usize,
    /// Customers per transaction.
    #[arg(long, default_value_t = 2000)]
    batch: usize,
}

/// Runs a bench subcommand.
pub async fn run(command: BenchCommand) -> ExitCode {
    match command {
        BenchCommand::Seed(args) => seed(args).await,
    }
}

#[allow(clippy::print_stdout)]
async fn seed(args: SeedArgs) -> ExitCode {
    let config = match load(&args.config, None) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging(if config.log == "info" {
        "warn"
    } else {
        &config.log
    });
    let db = match open_database(&config).await {
        Ok(db) => db,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::FAILURE;
        }
    };
    let started = std::time::Instant::now();
    let report_every = (args.customers / 10).max(args.batch.max(1));
    let progress = |made: usize| {
        if made % report_every < args.batch.max(1) || made == args.customers {
            println!(
                "{made} customers ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    };
    match crate::seed::bench(
        &db,
        Clock::system().now(),
        args.customers,
        args.batch.max(1),
        progress,
    )
    .await
    {
        Ok(seeded) => {
            println!(
                "tenant {} seeded with {} customers in {:.1} s",
                seeded.tenant_id,
                seeded.customers,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("lastmile: {error}");
            ExitCode::FAILURE
        }
    }
}
