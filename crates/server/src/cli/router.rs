//! `lastmile sim-router` and `lastmile router ...`: the simulated router and router tools.

use std::process::ExitCode;

use clap::{Args, Subcommand};

/// Arguments of `lastmile sim-router`.
#[derive(Debug, Args)]
pub struct SimRouterArgs {}

/// Router subcommands.
#[derive(Debug, Subcommand)]
pub enum RouterCommand {}

/// Runs the simulated router until interrupted.
pub async fn sim_router(_args: SimRouterArgs) -> ExitCode {
    ExitCode::from(2)
}

/// Runs a router subcommand.
pub async fn run(command: RouterCommand) -> ExitCode {
    match command {}
}
