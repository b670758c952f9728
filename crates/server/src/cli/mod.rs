//! The command line: one subcommand per thing an operator runs (`serve`, `migrate`,
//! `admin create`, `check`, `backup`, `restore`, `db analyze`, `billing run`, `ledger verify`, `libreqos`, `radius`, `sim-router`, `sim-gateway`, `sim-sms`, `router`). Each subcommand lives in its own module;
//! this one only parses and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod admin;
pub mod backup;
pub mod bench;
pub mod billing;
pub mod check;
pub mod db;
pub mod demo;
pub mod freeradius;
pub mod gateway;
pub mod import;
pub mod ledger;
pub mod libreqos;
pub mod radius;
pub mod router;
pub mod serve;
pub mod sms;

/// lastmile: billing, RADIUS AAA and MikroTik automation for Internet service providers.
#[derive(Debug, Parser)]
#[command(name = "lastmile", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run lastmile: the web panel, the API and the background jobs.
    Serve(serve::ServeArgs),
    /// Start lastmile on a fresh demo database populated with a demo ISP.
    Demo(serve::ServeArgs),
    /// Import records from files (customers from CSV).
    Import {
        #[command(subcommand)]
        command: import::ImportCommand,
    },
    /// Benchmark tools: seed a database with a synthetic tenant.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
    /// Apply pending database migrations and exit.
    Migrate(serve::ConfigArgs),
    /// Check what `serve` needs before it starts: configuration, keyring, database, ports.
    Check(check::CheckArgs),
    /// Write a backup (the database's consistent copy on SQLite, and the keyring) to a file.
    Backup(backup::BackupArgs),
    /// Restore a backup into an empty data directory, then check what was restored.
    Restore(backup::RestoreArgs),
    /// Database upkeep: refresh the query planner's statistics.
    Db {
        #[command(subcommand)]
        command: db::DbCommand,
    },
    /// Billing runs: postpaid invoices, suspensions for non-payment, reminders.
    Billing {
        #[command(subcommand)]
        command: billing::BillingCommand,
    },
    /// The books: check the ledger's invariants.
    Ledger {
        #[command(subcommand)]
        command: ledger::LedgerCommand,
    },
    /// Write a tenant's LibreQoS files (ShapedDevices.csv, network.json) into a directory.
    Libreqos(libreqos::LibreqosArgs),
    /// Manage the platform's Developer accounts.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// RADIUS tools: a test client like radtest/radclient, the FreeRADIUS configuration, drift checks.
    Radius {
        #[command(subcommand)]
        command: radius::RadiusCommand,
    },
    /// Run a simulated MikroTik router that speaks the RouterOS API.
    SimRouter(router::SimRouterArgs),
    /// Run a simulated payment provider (Stripe's and the generic gateway's API and notices).
    SimGateway(gateway::SimGatewayArgs),
    /// Run a simulated SMS gateway (Twilio's, BulkSMSBD's, SSL Wireless's, Africa's Talking's and a generic API).
    SimSms(sms::SimSmsArgs),
    /// Router tools: check the API connection of a real or simulated router.
    Router {
        #[command(subcommand)]
        command: router::RouterCommand,
    },
}

/// Parses the command line, runs the subcommand on a Tokio runtime and returns its exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("lastmile: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::serve(args).await,
            Command::Migrate(args) => serve::migrate(args).await,
            Command::Check(args) => check::check(args).await,
            Command::Backup(args) => backup::backup(args).await,
            Command::Restore(args) => backup::restore(args).await,
            Command::Db { command } => db::run(command).await,
            Command::Demo(args) => demo::demo(args).await,
            Command::Import { command } => import::run(command).await,
            Command::Bench { command } => bench::run(command).await,
            Command::Admin { command } => admin::run(command).await,
            Command::Ledger { command } => ledger::run(command).await,
            Command::Libreqos(args) => libreqos::libreqos(args).await,
            Command::Billing { command } => billing::run(command).await,
            Command::Radius { command } => radius::run(command).await,
            Command::SimRouter(args) => router::sim_router(args).await,
            Command::SimGateway(args) => gateway::sim_gateway(args).await,
            Command::SimSms(args) => sms::sim_sms(args).await,
            Command::Router { command } => router::run(command).await,
        }
    })
}
