//! `lastmile demo`: the newcomer's first look. Starts lastmile on a fresh SQLite database in
//! its own data directory, populated with a demo ISP, and prints how to sign in.
//!
//! The demo starts fresh each time, so it deletes the database it made before; it never
//! deletes one it did not make. A demo's directory carries a [`MARKER`] file; a directory
//! holding a database without it is refused. The directory is the one `--data-dir` or
//! `LASTMILE_DATA_DIR` (or `data_dir` in `lastmile.toml`) names, else `lastmile-demo`.

use std::path::Path;
use std::process::ExitCode;

use super::serve::{ServeArgs, init_logging, load, wait_for_signal};
use crate::app;
use crate::config::Config;
use ops::clock::Clock;

/// Customers the demo ISP gets.
const DEMO_CUSTOMERS: usize = 300;

/// The file that marks a data directory as the demo's.
pub const MARKER: &str = "lastmile-demo";

/// Why the demo will not use `dir`, if it must not: it holds a database the demo did not
/// make.
fn refusal(dir: &Path) -> Option<String> {
    let db = dir.join("lastmile.db");
    let ours = dir.join(MARKER).is_file();
    (db.exists() && !ours).then(|| {
        format!(
            "{} holds a lastmile database that is not a demo's; the demo starts fresh and \
             would delete it. Give the demo a directory of its own (--data-dir DIR).",
            dir.display()
        )
    })
}

/// `lastmile demo`.
#[allow(clippy::print_stdout)]
pub async fn demo(args: ServeArgs) -> ExitCode {
    let mut config = match load(&args.config, args.listen) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::from(2);
        }
    };
    // The flag, the variable or the file may name the directory; the demo's own otherwise.
    if config.data_dir == Config::default().data_dir {
        config.data_dir = "lastmile-demo".into();
    }
    // The demo always starts fresh, in its own directory, on SQLite.
    config.database_url = String::new();
    if let Some(why) = refusal(&config.data_dir) {
        eprintln!("lastmile: {why}");
        return ExitCode::from(2);
    }
    let marked = std::fs::create_dir_all(&config.data_dir).and_then(|()| {
        std::fs::write(
            config.data_dir.join(MARKER),
            "This directory belongs to `lastmile demo`, which deletes its database at start.\n",
        )
    });
    if let Err(error) = marked {
        eprintln!(
            "lastmile: cannot use {}: {error}",
            config.data_dir.display()
        );
        return ExitCode::from(2);
    }
    let db_file = config.data_dir.join("lastmile.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db_file.display()));
    }
    init_logging(&config.log);
    let running = match app::start(config, Clock::system()).await {
        Ok(running) => running,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::FAILURE;
        }
    };
    let state = running.state.clone();
    let now = state.clock.now();
    let password = format!(
        "{}-{}",
        ops::customer::random_password(),
        ops::customer::random_password()
    );
    let developer = ops::auth::create_developer(
        &state.ctx(),
        store::Author::system("demo"),
        "developer@lastmile.example",
        "Demo Developer",
        &password,
    )
    .await;
    if let Err(error) = developer {
        eprintln!("lastmile: cannot create the demo developer: {error}");
        return ExitCode::FAILURE;
    }
    *state.setup.lock().unwrap_or_else(|p| p.into_inner()) = None;
    let seeded = match crate::seed::demo(&state.db, &state.hasher, now, DEMO_CUSTOMERS).await {
        Ok(seeded) => seeded,
        Err(error) => {
            eprintln!("lastmile: cannot populate the demo: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("lastmile demo is listening on http://{}", running.addr);
    println!(
        "A demo ISP, Padma Fiber Net, with {} customers. Sign in as:",
        seeded.customers
    );
    println!("  developer     developer@lastmile.example  {password}");
    for (role, email, pw) in &seeded.accounts {
        println!("  {role:<13} {email:<27} {pw}");
    }
    println!(
        "Stop with Ctrl-C. The demo's data is in its own directory and starts fresh each time."
    );
    wait_for_signal().await;
    running.stop().await;
    ExitCode::SUCCESS
}
