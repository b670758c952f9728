//! `lastmile import customers FILE.csv --tenant ID`: the CSV import from the shell, as the
//! system (the shell's user runs the installation). Prints the row errors and what was
//! created; exits 0 when every row was valid, 1 otherwise, 2 on a usage or file error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::serve::{ConfigArgs, init_logging, load, open_database};
use domain::access::{Actor, PermissionSet, Role};
use domain::ids::UserId;
use ops::Ctx;
use ops::auth::password::Hasher;
use ops::clock::Clock;
use ops::customer::import::{ImportOptions, Progress, import};

/// `lastmile import ...`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import customers from a CSV file (the API's `POST /api/v1/customers/import` columns).
    ///
    /// A header row names the columns, in any order and case. Required: `name`,
    /// `connection_type` (pppoe, hotspot, static_ip, other), `package` (an id or the name of
    /// a package the owner may use), and `username` except for hotspot customers. Optional:
    /// `password` (made up when empty), `mobile`, `email`, `address`, `billing_type`
    /// (prepaid, postpaid, free), `status` (active, suspended, disabled), `expires_at` (RFC
    /// 3339, `YYYY-MM-DD HH:MM` in the tenant's time zone, or `YYYY-MM-DD` for the end of that
    /// day), `ip_pool`, `static_ip` (with `ip_pool`), `mac`, `zone`, `router` (by name),
    /// `owner` (an operator's or sub-operator's e-mail), `simultaneous_use`, `comment`.
    ///
    /// Every row is checked before any is written; row errors are printed with their line.
    Customers(CustomersArgs),
}

/// Arguments of `lastmile import customers`.
#[derive(Debug, Args)]
pub struct CustomersArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// The CSV file.
    file: PathBuf,
    /// The tenant to import into.
    #[arg(long)]
    tenant: i64,
    /// Only validate and report.
    #[arg(long)]
    dry_run: bool,
    /// Create nothing if any row is invalid.
    #[arg(long)]
    all_or_nothing: bool,
    /// Bill the time given with each customer created (an invoice due on the tenant's
    /// terms; prepaid customers with time only).
    #[arg(long)]
    first_bill: bool,
}

/// Runs an import subcommand.
pub async fn run(command: ImportCommand) -> ExitCode {
    match command {
        ImportCommand::Customers(args) => customers(args).await,
    }
}

#[allow(clippy::print_stdout)]
async fn customers(args: CustomersArgs) -> ExitCode {
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
    let bytes = match std::fs::read(&args.file) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("lastmile: cannot read {}: {error}", args.file.display());
            return ExitCode::from(2);
        }
    };
    let db = match open_database(&config).await {
        Ok(db) => db,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::FAILURE;
        }
    };
    // The shell's user runs the installation: it imports with the Developer's reach.
    let actor = Actor::new(UserId(0), Role::Developer, None, PermissionSet::all());
    let options = ImportOptions {
        tenant_id: Some(args.tenant),
        dry_run: args.dry_run,
        all_or_nothing: args.all_or_nothing,
        first_bill: args.first_bill,
    };
    let hasher = match Hasher::new(
        config.security.argon2_memory_kib,
        config.security.argon2_iterations,
        config.security.max_concurrent_hashes,
        config.security.max_queued_hashes,
    ) {
        Ok(hasher) => hasher,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::from(2);
        }
    };
    let ctx = Ctx::new(&db, &hasher, Clock::system().now());
    let started = std::time::Instant::now();
    let mut bar = Bar::new();
    let outcome = import(
        &ctx,
        &actor,
        store::Author::system("cli:import"),
        &bytes,
        &options,
        &mut bar,
    )
    .await;
    bar.finish();
    match outcome {
        Ok(report) => {
            for error in &report.errors {
                let message = web::i18n::format(
                    web::i18n::Lang::En,
                    &format!("error.{}", error.code),
                    &error.params,
                );
                println!(
                    "line {}: {}: {message} ({})",
                    error.line, error.field, error.code
                );
            }
            println!(
                "{} rows read, {} refused, {} customers created in {:.1} s{}",
                report.rows,
                report.errors.len(),
                report.created,
                started.elapsed().as_secs_f64(),
                if report.dry_run { " (dry run)" } else { "" }
            );
            if report.errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(ops::OpError::Invalid(errors)) => {
            for error in errors.0 {
                let message = web::i18n::format(
                    web::i18n::Lang::En,
                    &format!("error.{}", error.code),
                    &error.params,
                );
                eprintln!("lastmile: {}: {message}", error.field);
            }
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("lastmile: {error}");
            ExitCode::FAILURE
        }
    }
}

/// A progress bar on standard error: redrawn in place on a terminal, a line per tenth of
/// the rows otherwise (a log keeps a few lines, not one per batch).
struct Bar {
    terminal: bool,
    shown_tenth: Option<usize>,
    drawn: bool,
}

impl Bar {
    fn new() -> Self {
        use std::io::IsTerminal as _;
        Self {
            terminal: std::io::stderr().is_terminal(),
            shown_tenth: None,
            drawn: false,
        }
    }

    fn finish(&mut self) {
        if self.drawn && self.terminal {
            eprintln!();
        }
    }
}

impl Progress for Bar {
    async fn report(&mut self, done: usize, total: usize) {
        let total = total.max(1);
        let tenth = done * 10 / total;
        if self.terminal {
            let filled = done * 30 / total;
            eprint!(
                "\r[{}{}] {done} of {total} rows",
                "#".repeat(filled),
                "-".repeat(30 - filled.min(30))
            );
            self.drawn = true;
        } else if self.shown_tenth != Some(tenth) {
            eprintln!("{done} of {total} rows");
            self.shown_tenth = Some(tenth);
        }
    }
}
