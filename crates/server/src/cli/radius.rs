//! `lastmile radius ...`: RADIUS tools for operators.

use std::process::ExitCode;

use clap::Subcommand;

/// RADIUS subcommands.
#[derive(Debug, Subcommand)]
pub enum RadiusCommand {}

/// Runs a RADIUS subcommand.
pub async fn run(command: RadiusCommand) -> ExitCode {
    match command {}
}
