//! The `lastmile` binary: parses the command line and hands over to [`lastmile::cli`].

use std::process::ExitCode;

fn main() -> ExitCode {
    lastmile::cli::main()
}
