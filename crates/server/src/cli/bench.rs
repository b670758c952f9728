//! `lastmile bench seed --customers N`: fills the configured database with a synthetic
//! benchmark tenant (a reseller tree, skewed packages, zones and routers, and N customers
//! with their FreeRADIUS rows: `seed::bench`), for the benchmarks and for trying lastmile at
//! scale. `--with-staff` adds staff who can sign in and prints their made-up password;
//! `--online PERCENT` sets the share of the customers in service who have a live session.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::serve::{ConfigArgs, init_logging, load, open_database};
use ops::auth::password::Hasher;
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
    /// Also add an Admin, operators and sub-operators who can sign in, with one made-up
    /// password printed once.
    #[arg(long)]
    with_staff: bool,
    /// Percent of the customers in service who are online, each with one open session.
    #[arg(long, default_value_t = 70, value_parser = clap::value_parser!(u32).range(0..=100))]
    online: u32,
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
    let security = &config.security;
    let hasher = match Hasher::new(security.argon2_memory_kib, security.argon2_iterations, 1, 1) {
        Ok(hasher) => hasher,
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
        &hasher,
        Clock::system().now(),
        crate::seed::BenchShape {
            customers: args.customers,
            batch: args.batch.max(1),
            staff: args.with_staff,
            online_percent: args.online,
        },
        progress,
    )
    .await
    {
        Ok(seeded) => {
            // A bulk load: the planner's statistics follow, as after an import.
            if let Err(error) = db.refresh_statistics().await {
                eprintln!("lastmile: statistics: {error}");
            }
            for (role, email, password) in &seeded.accounts {
                println!("account {role} {email} {password}");
            }
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
