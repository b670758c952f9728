//! The `lastmile` binary: parses the command line and hands over to [`lastmile::cli`].

use std::process::ExitCode;

/// mimalloc rather than the C library's allocator: the RADIUS server allocates and frees
/// many small buffers a request on several threads, and glibc's malloc spent about a
/// third of the server's CPU on accounting (arena locks, consolidating freed chunks).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    lastmile::cli::main()
}
