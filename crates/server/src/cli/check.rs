//! `lastmile check`: what `serve` needs, checked before it starts (a service manager's
//! pre-start step, a container's health check): the configuration, the data directory, the
//! keyring, the database (reachable, its migrations) and a sealed secret opened with the
//! keyring, and the ports (free to listen on; `--skip-ports` beside a running lastmile).
//! It changes nothing: no keyring is made, no database created, no migration applied.
//! One line per check; exit 0 when none failed (warnings allowed), 1 when one did, 2 when
//! the configuration does not load.

use std::process::ExitCode;

use clap::Args;

use super::serve::{ConfigArgs, load};
use crate::config::Config;
use store::crypto::Keyring;

/// Arguments of `lastmile check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Do not try the listen ports (a running lastmile holds them).
    #[arg(long)]
    pub skip_ports: bool,
}

/// How a check ended.
enum Verdict {
    Ok(String),
    Warn(String),
    Failed(String),
}

struct Report {
    failed: bool,
}

impl Report {
    #[allow(clippy::print_stdout, reason = "a command line tool reports on stdout")]
    fn say(&mut self, what: &str, verdict: Verdict) {
        let (mark, text) = match verdict {
            Verdict::Ok(text) => ("ok  ", text),
            Verdict::Warn(text) => ("warn", text),
            Verdict::Failed(text) => {
                self.failed = true;
                ("FAIL", text)
            }
        };
        println!("{mark} {what:<14} {text}");
    }
}

/// `lastmile check`.
pub async fn check(args: CheckArgs) -> ExitCode {
    let config = match load(&args.config, None) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::from(2);
        }
    };
    let mut report = Report { failed: false };
    report.say(
        "configuration",
        Verdict::Ok(format!(
            "listen {}, data directory {}",
            config.listen,
            config.data_dir.display()
        )),
    );
    if config.public_url.is_empty() {
        report.say(
            "public_url",
            Verdict::Warn(format!(
                "not set: links and the captive portal's pages point at http://{}",
                config.listen
            )),
        );
    } else if !config.public_url.starts_with("https://") {
        report.say(
            "public_url",
            Verdict::Warn("not https: cookies are not marked Secure; put TLS in front".into()),
        );
    }
    data_dir(&config, &mut report);
    let keyring = keyring(&config, &mut report);
    database(&config, keyring, &mut report).await;
    if !args.skip_ports {
        ports(&config, &mut report);
    }
    if report.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn data_dir(config: &Config, report: &mut Report) {
    let dir = &config.data_dir;
    if !dir.exists() {
        report.say(
            "data directory",
            Verdict::Ok(format!("{} will be made at the first start", dir.display())),
        );
        return;
    }
    let probe = dir.join(format!(".check-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            report.say(
                "data directory",
                Verdict::Ok(format!("{} writable", dir.display())),
            );
        }
        Err(error) => report.say(
            "data directory",
            Verdict::Failed(format!("{} not writable: {error}", dir.display())),
        ),
    }
}

/// The keyring, if there is one to read.
fn keyring(config: &Config, report: &mut Report) -> Option<Keyring> {
    if !config.security.secret_keys.trim().is_empty() {
        return match Keyring::parse(&config.security.secret_keys) {
            Ok(ring) => {
                report.say("keyring", Verdict::Ok("from the configuration".into()));
                Some(ring)
            }
            Err(error) => {
                report.say(
                    "keyring",
                    Verdict::Failed(format!("security.secret_keys: {error}")),
                );
                None
            }
        };
    }
    let path = config.data_dir.join("secret.key");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            report.say(
                "keyring",
                Verdict::Ok(format!(
                    "{} will be made at the first start",
                    path.display()
                )),
            );
            return None;
        }
        Err(error) => {
            report.say(
                "keyring",
                Verdict::Failed(format!("{}: {error}", path.display())),
            );
            return None;
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(&path)
            && meta.permissions().mode() & 0o077 != 0
        {
            report.say(
                "keyring",
                Verdict::Warn(format!(
                    "{} is readable by others than its owner (chmod 600 it)",
                    path.display()
                )),
            );
        }
    }
    match Keyring::parse(&text) {
        Ok(ring) => {
            report.say("keyring", Verdict::Ok(path.display().to_string()));
            Some(ring)
        }
        Err(error) => {
            report.say(
                "keyring",
                Verdict::Failed(format!("{}: {error}", path.display())),
            );
            None
        }
    }
}

async fn database(config: &Config, keyring: Option<Keyring>, report: &mut Report) {
    let url = config.database_url();
    if let Some(path) = crate::backup::sqlite_path(config)
        && !path.exists()
    {
        report.say(
            "database",
            Verdict::Ok(format!(
                "{} will be made at the first start",
                path.display()
            )),
        );
        return;
    }
    let keyring = match keyring {
        Some(ring) => ring,
        // Reading the database needs none; opening a secret does.
        None => match Keyring::parse(&Keyring::generate_line("check")) {
            Ok(ring) => ring,
            Err(error) => {
                report.say("database", Verdict::Failed(error.to_string()));
                return;
            }
        },
    };
    let db = match store::Db::connect(&url, 1, keyring).await {
        Ok(db) => db,
        Err(error) => {
            report.say(
                "database",
                Verdict::Failed(format!("{}: {error}", crate::config::redact_url(&url))),
            );
            return;
        }
    };
    match db.needs_migration().await {
        Ok(false) => report.say(
            "database",
            Verdict::Ok("reachable, migrations up to date".into()),
        ),
        Ok(true) => report.say(
            "database",
            Verdict::Ok("reachable; pending migrations (serve applies them as it starts)".into()),
        ),
        Err(error) => report.say("database", Verdict::Failed(error.to_string())),
    }
    // One sealed secret, opened: the keyring is the one the database was sealed with.
    let sealed = match store::network::sample_secret(db.conn()).await {
        Ok(sealed) => sealed,
        Err(error) => {
            report.say("secrets", Verdict::Failed(error.to_string()));
            return;
        }
    };
    match sealed {
        None => report.say("secrets", Verdict::Ok("none sealed yet".into())),
        Some(sealed) => match db.keyring().open(store::network::SECRET_CONTEXT, &sealed) {
            Ok(_) => report.say(
                "secrets",
                Verdict::Ok("a router's secret opens with the keyring".into()),
            ),
            Err(_) => report.say(
                "secrets",
                Verdict::Failed(
                    "a router's secret does not open: the keyring is not the database's".into(),
                ),
            ),
        },
    }
    let _ = db.close().await;
}

fn ports(config: &Config, report: &mut Report) {
    match std::net::TcpListener::bind(config.listen) {
        Ok(_) => report.say("http", Verdict::Ok(format!("{} free", config.listen))),
        Err(error) => report.say(
            "http",
            Verdict::Failed(format!("{}: {error}", config.listen)),
        ),
    }
    if !config.radius.enabled {
        return;
    }
    for (what, address) in [
        ("radius auth", config.radius.auth_listen),
        ("radius acct", config.radius.acct_listen),
    ] {
        match std::net::UdpSocket::bind(address) {
            Ok(_) => report.say(what, Verdict::Ok(format!("{address} free"))),
            Err(error) => report.say(what, Verdict::Failed(format!("{address}: {error}"))),
        }
    }
}
