//! `lastmile admin create`: creates a Developer account (level 0) from the shell, the way to
//! the first account when the setup link is not at hand. The password comes from
//! `--password` or, safer, from standard input.

use std::io::{BufRead as _, IsTerminal as _};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::serve::{ConfigArgs, init_logging, load, open_database};
use ops::OpError;
use ops::auth::password::Hasher;
use ops::clock::Clock;

/// `lastmile admin ...`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a Developer account (the platform's top level).
    Create(CreateArgs),
}

/// Arguments of `lastmile admin create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// The account's e-mail (its sign-in name).
    #[arg(long)]
    email: String,
    /// The password (default: read from standard input, prompted on a terminal).
    #[arg(long)]
    password: Option<String>,
    /// The display name.
    #[arg(long, default_value = "Developer")]
    name: String,
}

/// Runs an admin subcommand.
pub async fn run(command: AdminCommand) -> ExitCode {
    match command {
        AdminCommand::Create(args) => create(args).await,
    }
}

#[allow(clippy::print_stdout)]
async fn create(args: CreateArgs) -> ExitCode {
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
    let password = match args.password {
        Some(password) => password,
        None => match read_password() {
            Ok(password) => password,
            Err(error) => {
                eprintln!("lastmile: cannot read the password: {error}");
                return ExitCode::from(2);
            }
        },
    };
    // Refuse bad input before touching the data directory or the database.
    let mut errors = domain::field::FieldErrors::new();
    errors.take(domain::user::Email::parse(&args.email));
    errors.take(domain::user::parse_name(&args.name));
    errors.take(domain::user::Password::parse("password", &password));
    if !errors.is_empty() {
        print_field_errors(&errors);
        return ExitCode::from(2);
    }
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
    let author = store::Author::system("cli");
    let created = ops::auth::create_developer(
        &ops::Ctx::new(&db, &hasher, Clock::system().now()),
        author,
        &args.email,
        &args.name,
        &password,
    )
    .await;
    match created {
        Ok(user) => {
            println!("created Developer account {} (id {})", user.email, user.id);
            ExitCode::SUCCESS
        }
        Err(OpError::Invalid(errors)) => {
            print_field_errors(&errors);
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("lastmile: {error}");
            ExitCode::FAILURE
        }
    }
}

fn read_password() -> std::io::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat it: ")?;
        if first != second {
            return Err(std::io::Error::other("the two passwords differ"));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn print_field_errors(errors: &domain::field::FieldErrors) {
    for error in &errors.0 {
        let message = web::i18n::format(
            web::i18n::Lang::En,
            &format!("error.{}", error.code),
            &error.params,
        );
        eprintln!("lastmile: {}: {message}", error.field);
    }
}
