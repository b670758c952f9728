//! `lastmile libreqos --out DIR [--tenant ID|REALM] [--layout tree|flat] [--node-mbps N]`:
//! writes a tenant's `ShapedDevices.csv` and `network.json` (`ops::libreqos`) into DIR,
//! where LibreQoS reads them, and prints how many customers were shaped and how many left
//! out and why. Without `--tenant` the installation's only active tenant is taken.
//!
//! Each file is written under a temporary name in DIR and renamed into place, so LibreQoS
//! never reads half a file; `network.json` goes first, so the CSV in place never names a
//! node the tree in place lacks. Exit 0 when written, 2 when refused or failed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::serve::{ConfigArgs, init_logging, load, open_database};
use domain::access::{Actor, PermissionSet, Role};
use domain::ids::UserId;
use domain::libreqos::Layout;
use ops::OpError;
use ops::auth::password::Hasher;
use ops::clock::Clock;
use ops::libreqos::Options;

/// The CSV's name, as LibreQoS looks for it.
pub const SHAPED_DEVICES: &str = "ShapedDevices.csv";
/// The tree's name, as LibreQoS looks for it.
pub const NETWORK: &str = "network.json";

/// Arguments of `lastmile libreqos`.
#[derive(Debug, Args)]
pub struct LibreqosArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The directory to write `ShapedDevices.csv` and `network.json` into (made if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// The tenant, by id or realm (default: the only active one).
    #[arg(long)]
    pub tenant: Option<String>,
    /// `tree` (routers, and the zones of their customers beneath them) or `flat`.
    #[arg(long, default_value = "tree")]
    pub layout: String,
    /// Each node's bandwidth in `network.json`, Mbit/s each way.
    #[arg(long)]
    pub node_mbps: Option<u32>,
}

fn refused(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("lastmile: {error}");
    ExitCode::from(2)
}

/// `lastmile libreqos`.
#[allow(clippy::print_stdout, reason = "a command line tool reports on stdout")]
pub async fn libreqos(args: LibreqosArgs) -> ExitCode {
    let Some(layout) = Layout::parse(&args.layout) else {
        return refused(&"--layout is tree or flat");
    };
    let config = match load(&args.config, None) {
        Ok(config) => config,
        Err(error) => return refused(&error),
    };
    init_logging(if config.log == "info" {
        "warn"
    } else {
        &config.log
    });
    let db = match open_database(&config).await {
        Ok(db) => db,
        Err(error) => return refused(&error),
    };
    // The export hashes no password: the cheapest hasher the type allows.
    let hasher = match Hasher::new(8, 1, 1, 1) {
        Ok(hasher) => hasher,
        Err(error) => return refused(&error),
    };
    let ctx = ops::Ctx::new(&db, &hasher, Clock::system().now());
    // The shell's user runs the installation: it exports with the Developer's reach.
    let actor = Actor::new(UserId(0), Role::Developer, None, PermissionSet::all());
    let tenant = match ops::libreqos::cli_tenant(&ctx, &actor, args.tenant.as_deref()).await {
        Ok(tenant) => tenant,
        Err(OpError::Invalid(_)) => {
            return refused(&"several tenants: name one with --tenant ID or --tenant REALM");
        }
        Err(OpError::NotFound) => return refused(&"no such active tenant"),
        Err(error) => return refused(&error),
    };
    let options = Options {
        tenant: Some(tenant),
        layout,
        node_mbps: args.node_mbps,
    };
    let mut export = match ops::libreqos::open(&ctx, &actor, &options).await {
        Ok(export) => export,
        Err(error) => return refused(&error),
    };
    if let Err(error) = std::fs::create_dir_all(&args.out) {
        return refused(&format!("cannot create {}: {error}", args.out.display()));
    }
    let network = match serde_json::to_vec_pretty(&export.network_json()) {
        Ok(bytes) => bytes,
        Err(error) => return refused(&error),
    };
    let network_path = args.out.join(NETWORK);
    let csv_path = args.out.join(SHAPED_DEVICES);
    let mut csv_temp = match Temp::create(&csv_path) {
        Ok(temp) => temp,
        Err(error) => return refused(&error),
    };
    if let Err(error) = write_csv(&db, &mut export, &mut csv_temp).await {
        return refused(&error);
    }
    let written = Temp::create(&network_path)
        .and_then(|mut temp| {
            temp.write_all(&network)?;
            temp.place()
        })
        .and_then(|()| csv_temp.place());
    if let Err(error) = written {
        return refused(&error);
    }
    let report = export.report();
    println!(
        "tenant {}: {} shaped, {} left out (no address {}, rate too low {}, not in service {}); \
         {} node(s)",
        export.tenant(),
        report.shaped,
        report.skipped(),
        report.no_address,
        report.rate_too_low,
        report.not_in_service,
        export.nodes()
    );
    println!(
        "wrote {} and {}",
        csv_path.display(),
        network_path.display()
    );
    ExitCode::SUCCESS
}

/// Every page of the export into `file`.
async fn write_csv(
    db: &store::Db,
    export: &mut ops::libreqos::Export,
    file: &mut Temp,
) -> Result<(), String> {
    while let Some(chunk) = export.next_chunk(db).await.map_err(|e| e.to_string())? {
        file.write_all(&chunk).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A file written under a temporary name beside its place and renamed into it once
/// complete; removed if dropped before.
struct Temp {
    path: PathBuf,
    target: PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
    placed: bool,
}

impl Temp {
    fn create(target: &Path) -> std::io::Result<Self> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = target.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(Self {
            path,
            target: target.to_owned(),
            file: Some(std::io::BufWriter::new(file)),
            placed: false,
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self.file.as_mut() {
            Some(file) => file.write_all(bytes),
            None => Err(std::io::Error::other("the file is closed")),
        }
    }

    /// Flushes and syncs the file, then renames it into place.
    fn place(mut self) -> std::io::Result<()> {
        if let Some(file) = self.file.take() {
            file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        std::fs::rename(&self.path, &self.target)?;
        self.placed = true;
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.placed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
