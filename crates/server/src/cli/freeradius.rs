//! `lastmile radius verify [--fix]` and `lastmile radius freeradius-config --out DIR`: the
//! FreeRADIUS side of AAA from the shell. Only arguments and printing live here; the work is
//! `aaa::verify` and `aaa::freeradius`.
//!
//! `verify` exits 0 when the stored rows are the projection, 1 when it found drift (repaired
//! or not, as `fsck` reports corrected errors), 2 on error. `freeradius-config` exits 0 when
//! it wrote the directory, 2 otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::serve::{ConfigArgs, init_logging, load, open_database};
use aaa::freeradius::{self, DEFAULT_CLIENT_LIFETIME, DEFAULT_FROM, Options};
use aaa::freeradius_edit::Login;
use aaa::verify::{self, Report};
use ops::clock::Clock;

/// Arguments of `lastmile radius verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Rewrite drifted customers' rows from their projection and delete stray rows.
    #[arg(long)]
    fix: bool,
}

/// Arguments of `lastmile radius freeradius-config`.
#[derive(Debug, Args)]
pub struct FreeradiusConfigArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// The directory to write (new or empty).
    #[arg(long)]
    out: PathBuf,
    /// The installed FreeRADIUS 3.2 configuration to start from.
    #[arg(long, default_value = DEFAULT_FROM)]
    from: PathBuf,
    /// PostgreSQL: the role FreeRADIUS logs in as (see lastmile-freeradius-role.sql).
    #[arg(long, requires = "db_password")]
    db_user: Option<String>,
    /// PostgreSQL: that role's password.
    #[arg(long, requires = "db_user")]
    db_password: Option<String>,
    /// Seconds FreeRADIUS keeps a router before looking it up in `nas` again: a re-keyed or
    /// removed router takes effect within this.
    #[arg(long, default_value_t = DEFAULT_CLIENT_LIFETIME)]
    client_lifetime: u32,
}

/// `lastmile radius verify`.
#[allow(clippy::print_stdout)]
pub async fn verify(args: VerifyArgs) -> ExitCode {
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
    let db = match open_database(&config).await {
        Ok(db) => db,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::from(2);
        }
    };
    match verify::verify(&db, args.fix, Clock::system().now()).await {
        Ok(report) => {
            print!("{}", render(&report));
            if report.clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("lastmile radius verify: {error}");
            ExitCode::from(2)
        }
    }
}

/// The report as the terminal shows it.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let repaired = |r: bool| if r { " (repaired)" } else { "" };
    for d in &report.customer_drift {
        out.push_str(&format!(
            "customer {} ({}, tenant {}): drift{}\n",
            d.customer_id,
            d.username,
            d.tenant_id,
            repaired(d.repaired)
        ));
        for name in &d.wrong_usernames {
            out.push_str(&format!("  rows carry the user name {name:?}\n"));
        }
        for x in &d.differences {
            let side = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
            out.push_str(&format!(
                "  {} {}: expected {}, stored {}\n",
                x.table,
                x.attribute,
                side(&x.expected),
                side(&x.stored)
            ));
        }
    }
    for d in &report.vpn_drift {
        out.push_str(&format!(
            "vpn account {} ({}, tenant {}): drift{}\n",
            d.vpn_account_id,
            d.username,
            d.tenant_id,
            repaired(d.repaired)
        ));
        for x in &d.differences {
            let side = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".to_owned());
            out.push_str(&format!(
                "  {} {}: expected {}, stored {}\n",
                x.table,
                x.attribute,
                side(&x.expected),
                side(&x.stored)
            ));
        }
    }
    for r in &report.stray_rows {
        let owner = match r.customer_id {
            Some(id) => format!("customer {id}"),
            None => "no customer".to_owned(),
        };
        out.push_str(&format!(
            "{} row {} ({} {}): {owner}, {:?}{}\n",
            r.table,
            r.id,
            r.username,
            r.attribute,
            r.reason,
            repaired(r.repaired)
        ));
    }
    for n in &report.stray_nas {
        let router = match n.router_id {
            Some(id) => format!("router {id}"),
            None => "no router".to_owned(),
        };
        out.push_str(&format!(
            "nas row {} ({}): {router}, {:?}{}\n",
            n.id,
            n.nasname,
            n.reason,
            repaired(n.repaired)
        ));
    }
    let listed = report.customer_drift.len()
        + report.vpn_drift.len()
        + report.stray_rows.len()
        + report.stray_nas.len();
    let found = report.drifted + report.stray;
    if (listed as u64) < found {
        out.push_str(&format!("... {} more not listed\n", found - listed as u64));
    }
    out.push_str(&format!(
        "{} customers checked: {} drifted, {} stray rows, {} repaired\n",
        report.customers, report.drifted, report.stray, report.repaired
    ));
    if report.vpn_accounts > 0 {
        out.push_str(&format!(
            "{} VPN accounts checked (their drift counted above)\n",
            report.vpn_accounts
        ));
    }
    out
}

/// `lastmile radius freeradius-config`.
#[allow(clippy::print_stdout)]
pub async fn freeradius_config(args: FreeradiusConfigArgs) -> ExitCode {
    let config = match load(&args.config, None) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("lastmile: {error}");
            return ExitCode::from(2);
        }
    };
    let options = Options {
        from: args.from,
        out: args.out,
        database_url: config.database_url(),
        db_login: match (args.db_user, args.db_password) {
            (Some(user), Some(password)) => Some(Login { user, password }),
            _ => None,
        },
        client_lifetime: args.client_lifetime,
    };
    match freeradius::generate(&options) {
        Ok(generated) => {
            println!(
                "FreeRADIUS configuration written to {} (copied from {})",
                generated.out.display(),
                options.from.display()
            );
            for file in &generated.written {
                println!("  wrote {}", file.display());
            }
            for file in &generated.skipped {
                println!("  not copied (cannot read it): {}", file.display());
            }
            match generated.owner {
                Some((uid, gid)) => {
                    println!("  owner set to {uid}:{gid}, as {}", options.from.display())
                }
                None => println!(
                    "  FreeRADIUS must be able to read it: as root, chown -R freerad:freerad {}",
                    generated.out.display()
                ),
            }
            println!("See {}/README.", generated.out.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("lastmile radius freeradius-config: {error}");
            ExitCode::from(2)
        }
    }
}
