//! `lastmile billing run [--tenant ID] [--dry-run] [--at TIME]`: runs the billing runs due
//! (`ops::billing_run`: postpaid invoices, overdue suspensions, reminders, the expiry pass)
//! for every active tenant or one, and prints what each did. `--dry-run` prints what they
//! would do and writes nothing; `--at` runs them as at another instant (RFC 3339), to see
//! what a later day brings. Exit 0 when done, 2 when they cannot run.

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Subcommand;

use super::serve::{ConfigArgs, init_logging, load, open_database};
use domain::ids::TenantId;
use ops::auth::password::Hasher;
use ops::clock::Clock;

/// `lastmile billing ...`.
#[derive(Debug, Subcommand)]
pub enum BillingCommand {
    /// Run the billing runs due now: postpaid invoices, suspensions for non-payment,
    /// reminders, the expiry pass.
    Run {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<i64>,
        /// Show what would be done; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Run as at this instant (RFC 3339) instead of now.
        #[arg(long)]
        at: Option<DateTime<Utc>>,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

/// Runs a billing subcommand.
#[allow(clippy::print_stdout, reason = "a command line tool reports on stdout")]
pub async fn run(command: BillingCommand) -> ExitCode {
    let BillingCommand::Run {
        tenant,
        dry_run,
        at,
        config,
    } = command;
    let config = match load(&config, None) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::from(2);
        }
    };
    // The report is the output: the start-up's notices only when asked for.
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
    // Billing hashes no password: the cheapest hasher the type allows.
    let hasher = match Hasher::new(8, 1, 1, 1) {
        Ok(hasher) => hasher,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::from(2);
        }
    };
    let now = at.unwrap_or_else(|| Clock::system().now());
    let ctx = ops::Ctx::new(&db, &hasher, now);
    let started = std::time::Instant::now();
    match ops::billing_run::run(&ctx, tenant.map(TenantId), dry_run).await {
        Ok(reports) => {
            let verb = if dry_run { "would" } else { "did" };
            for r in &reports {
                if r.already_done {
                    println!(
                        "tenant {} {} {}: done before, nothing to do",
                        r.tenant_id, r.kind, r.period
                    );
                    continue;
                }
                let amount = if r.kind.starts_with("invoice") {
                    format!(" for {}", amount_text(r.amount, &r.currency))
                } else {
                    String::new()
                };
                println!(
                    "tenant {} {} {}: {verb} reach {} customer(s){amount}, {} notice(s)",
                    r.tenant_id, r.kind, r.period, r.customers, r.notices
                );
            }
            println!(
                "{} run(s) in {:.2} s{}",
                reports.len(),
                started.elapsed().as_secs_f64(),
                if dry_run { ", nothing written" } else { "" }
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("lastmile: {error}");
            ExitCode::from(2)
        }
    }
}

/// `amount` minor units of `currency` as it reads (`500.00 BDT`).
fn amount_text(amount: i64, currency: &str) -> String {
    let digits =
        domain::locale::CurrencyCode::parse("currency", currency).map_or(2, |c| c.minor_digits());
    let shown = domain::money::Money::from_minor("amount", amount)
        .map_or_else(|_| amount.to_string(), |m| m.display(digits));
    format!("{shown} {currency}")
}
