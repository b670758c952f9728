//! `lastmile sim-router` and `lastmile router ...`: the simulated router and router tools.
//!
//! `sim-router` runs the `routeros` crate's simulated MikroTik until interrupted, printing
//! where it listens (`api ADDR`, `api-ssl ADDR fingerprint F`, with `--radius` also
//! `nas coa ADDR subscribers N`, with `--hotspot` also `hotspot URL coa ADDR`, then
//! `ready`). With `--radius` it is also the router's AAA side (`simnas`): it logs the
//! subscribers of a CSV file in to that RADIUS server, reports their traffic, and takes CoA
//! and Disconnect requests, printing what it did every minute. With `--hotspot` (and
//! `--radius`) it also serves the hotspot's captive portal there, logging browsers in to
//! that RADIUS server and taking its requests for their sessions. `router check`
//! connects to a real or simulated router and prints its identity, RouterOS version, board,
//! uptime and the API user's group (exit 0), or why it could not (exit 1). Only argument
//! parsing and printing live here; the protocol is the `routeros` crate's.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use routeros::sim::{Group, SimConfig, SimLogin, SimRouter};
use routeros::{Client, ClientConfig, Fingerprint, LoginMethod, Trust, menu};

/// A router user group.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum GroupArg {
    Full,
    Write,
    Read,
}

/// Arguments of `lastmile sim-router`.
#[derive(Debug, Args)]
pub struct SimRouterArgs {
    /// Plain API listener, HOST:PORT (port 0 picks a free port).
    #[arg(long)]
    listen: SocketAddr,
    /// API-SSL listener, HOST:PORT, with a fresh self-signed certificate.
    #[arg(long)]
    tls_listen: Option<SocketAddr>,
    /// The API user to create.
    #[arg(long)]
    user: String,
    /// The API user's password.
    #[arg(long, env = "LASTMILE_ROUTER_PASSWORD", hide_env_values = true)]
    password: String,
    /// The API user's group.
    #[arg(long, value_enum, default_value = "full")]
    group: GroupArg,
    /// Load the configuration from FILE if it exists, and save it there.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// The router's identity (`/system/identity`).
    #[arg(long, default_value = "MikroTik")]
    identity: String,
    /// Behave like RouterOS before 6.43 (challenge-response login).
    #[arg(long)]
    legacy_login: bool,
    /// Answer empty prints with `!empty` (RouterOS 7.18 and later).
    #[arg(long)]
    empty_replies: bool,
    /// Serve API-SSL without a certificate (every TLS handshake fails, as on such a router).
    #[arg(long, requires = "tls_listen")]
    tls_without_certificate: bool,
    #[command(flatten)]
    nas: NasArgs,
}

/// The simulated router's AAA side (`lastmile sim-router --radius`).
#[derive(Debug, Args)]
struct NasArgs {
    /// Also log subscribers (`--subscribers`) or hotspot clients (`--hotspot`) in to the
    /// RADIUS server at this address, and take its CoA.
    #[arg(long, requires = "radius_secret")]
    radius: Option<std::net::IpAddr>,
    /// The router's RADIUS secret.
    #[arg(long, env = "LASTMILE_NAS_SECRET", hide_env_values = true)]
    radius_secret: Option<String>,
    /// The RADIUS server's authentication port.
    #[arg(long, default_value_t = 1812)]
    auth_port: u16,
    /// The RADIUS server's accounting port.
    #[arg(long, default_value_t = 1813)]
    acct_port: u16,
    /// Where CoA and Disconnect requests arrive (RouterOS `/radius incoming`).
    #[arg(long, default_value = "0.0.0.0:3799")]
    coa_listen: SocketAddr,
    /// The NAS-IP-Address sent.
    #[arg(long, default_value = "127.0.0.1")]
    nas_ip: std::net::Ipv4Addr,
    /// The subscribers, a CSV file: `username,password[,mac[,hotspot]]` per line.
    #[arg(long, value_name = "FILE")]
    subscribers: Option<PathBuf>,
    /// The logins after a boot spread over this many seconds.
    #[arg(long, default_value_t = 60)]
    login_seconds: u64,
    /// Seconds between Interim-Updates when the server names no interval.
    #[arg(long, default_value_t = 60)]
    interim_seconds: u64,
    /// How busy a line is on average, percent of its rate.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
    busy_percent: u32,
    /// Reboot every this many seconds (sessions dropped, Accounting-On, everyone dials again).
    #[arg(long)]
    reboot_every_seconds: Option<u64>,
    /// Serve the hotspot's captive portal (the router's login pages) on HOST:PORT, logging
    /// its clients in to the `--radius` server (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", requires = "radius")]
    hotspot: Option<SocketAddr>,
}

/// Subscribers a file may hold at most.
const MOST_SUBSCRIBERS: usize = 1_000_000;

/// The subscribers of a CSV file (`username,password[,mac[,hotspot]]`; `#` starts a
/// comment line), or the first line that is not one.
fn read_subscribers(path: &std::path::Path) -> Result<Vec<simnas::Subscriber>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let bad = || {
            format!(
                "{} line {}: expected username,password[,mac[,hotspot]]",
                path.display(),
                n + 1
            )
        };
        let (Some(user), Some(password)) = (fields.first(), fields.get(1)) else {
            return Err(bad());
        };
        if user.is_empty() || password.is_empty() || fields.len() > 4 {
            return Err(bad());
        }
        let hotspot = match fields.get(3).copied() {
            None | Some("" | "pppoe") => false,
            Some("hotspot") => true,
            Some(_) => return Err(bad()),
        };
        if out.len() == MOST_SUBSCRIBERS {
            return Err(format!(
                "{}: more than {MOST_SUBSCRIBERS} subscribers",
                path.display()
            ));
        }
        out.push(simnas::Subscriber {
            username: (*user).to_owned(),
            password: (*password).to_owned(),
            mac: fields
                .get(2)
                .filter(|m| !m.is_empty())
                .map(|m| (*m).to_owned()),
            hotspot,
        });
    }
    Ok(out)
}

/// The scenario the flags describe, if `--radius` was given.
fn scenario(nas: &NasArgs) -> Result<Option<simnas::Scenario>, String> {
    let (Some(server), Some(secret), Some(file)) =
        (nas.radius, &nas.radius_secret, &nas.subscribers)
    else {
        return Ok(None);
    };
    let mut scenario = simnas::Scenario::new(server, secret, read_subscribers(file)?);
    scenario.auth_server.set_port(nas.auth_port);
    scenario.acct_server.set_port(nas.acct_port);
    scenario.coa_listen = nas.coa_listen;
    scenario.nas_ip = nas.nas_ip;
    scenario.login_over = Duration::from_secs(nas.login_seconds);
    scenario.interim = Duration::from_secs(nas.interim_seconds.max(1));
    scenario.busy_percent = nas.busy_percent;
    scenario.reboot_every = nas
        .reboot_every_seconds
        .map(|s| Duration::from_secs(s.max(1)));
    Ok(Some(scenario))
}

/// The hotspot the flags describe, if `--hotspot` was given with `--radius`.
fn hotspot(nas: &NasArgs, identity: &str) -> Option<simnas::HotspotConfig> {
    let (Some(listen), Some(server), Some(secret)) = (nas.hotspot, nas.radius, &nas.radius_secret)
    else {
        return None;
    };
    let mut config = simnas::HotspotConfig::new(server, secret);
    config.listen = listen;
    config.auth_server.set_port(nas.auth_port);
    config.acct_server.set_port(nas.acct_port);
    config.nas_ip = nas.nas_ip;
    config.identity = identity.to_owned();
    config.interim = Duration::from_secs(nas.interim_seconds.max(1));
    // With subscribers, the NAS side holds `--coa-listen`; the hotspot takes another port of
    // the same address.
    config.coa_listen = match nas.subscribers {
        Some(_) => SocketAddr::new(nas.coa_listen.ip(), 0),
        None => nas.coa_listen,
    };
    Some(config)
}

/// Router subcommands.
#[derive(Debug, Subcommand)]
pub enum RouterCommand {
    /// Connect to a router's API; print identity, version, board, uptime and the API user's group.
    Check(CheckArgs),
}

/// Arguments of `lastmile router check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The router, HOST or HOST:PORT (port 8728, or 8729 with --tls).
    address: String,
    /// The API user.
    #[arg(long)]
    user: String,
    /// The API user's password.
    #[arg(long, env = "LASTMILE_ROUTER_PASSWORD", hide_env_values = true)]
    password: String,
    /// Use API-SSL; the certificate must chain to a public root unless pinned or accepted.
    #[arg(long)]
    tls: bool,
    /// Trust exactly the certificate with this SHA-256 fingerprint.
    #[arg(long, requires = "tls")]
    fingerprint: Option<String>,
    /// Trust certificates signed by the CA in this PEM file (the ISP's own CA).
    #[arg(
        long,
        requires = "tls",
        conflicts_with = "fingerprint",
        value_name = "FILE"
    )]
    ca: Option<PathBuf>,
    /// Accept any certificate (encrypts, but does not authenticate the router).
    #[arg(long, requires = "tls", conflicts_with = "fingerprint")]
    insecure_accept_any_certificate: bool,
    /// Use the pre-6.43 challenge-response login only.
    #[arg(long)]
    legacy_login: bool,
    /// Seconds allowed to connect and log in, and for each command.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
}

/// Runs the simulated router until interrupted.
pub async fn sim_router(args: SimRouterArgs) -> ExitCode {
    let group = match args.group {
        GroupArg::Full => Group::Full,
        GroupArg::Write => Group::Write,
        GroupArg::Read => Group::Read,
    };
    let mut config = SimConfig::new(&args.user, &args.password, group);
    config.listen = args.listen;
    config.tls_listen = args.tls_listen;
    config.tls_certificate = !args.tls_without_certificate;
    config.identity = args.identity.clone();
    config.state_file = args.state;
    config.empty_replies = args.empty_replies;
    if args.legacy_login {
        config.login = SimLogin::Legacy;
    }
    let scenario = match scenario(&args.nas) {
        Ok(scenario) => scenario,
        Err(error) => {
            eprintln!("lastmile sim-router: {error}");
            return ExitCode::from(2);
        }
    };
    let hotspot_config = hotspot(&args.nas, &args.identity);
    if args.nas.radius.is_some() && scenario.is_none() && hotspot_config.is_none() {
        eprintln!("lastmile sim-router: --radius needs --subscribers or --hotspot");
        return ExitCode::from(2);
    }
    let router = match SimRouter::start(config).await {
        Ok(router) => router,
        Err(error) => {
            eprintln!("lastmile sim-router: {error}");
            return ExitCode::from(1);
        }
    };
    let router = std::sync::Arc::new(router);
    let nas = match scenario {
        Some(scenario) => {
            let count = scenario.subscribers.len();
            match simnas::SimNas::start(scenario, std::sync::Arc::clone(&router)).await {
                Ok(nas) => Some((nas, count)),
                Err(error) => {
                    eprintln!("lastmile sim-router: the NAS side: {error}");
                    return ExitCode::from(1);
                }
            }
        }
        None => None,
    };
    let hotspot = match hotspot_config {
        Some(config) => {
            match simnas::SimHotspot::start(config, std::sync::Arc::clone(&router)).await {
                Ok(hotspot) => Some(hotspot),
                Err(error) => {
                    eprintln!("lastmile sim-router: the hotspot: {error}");
                    return ExitCode::from(1);
                }
            }
        }
        None => None,
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "api {}", router.address());
        if let Some(address) = router.tls_address() {
            match router.fingerprint() {
                Some(fingerprint) => writeln!(out, "api-ssl {address} fingerprint {fingerprint}"),
                None => writeln!(out, "api-ssl {address} without certificate"),
            }
            .ok();
        }
        if let Some((nas, count)) = &nas {
            let _ = writeln!(out, "nas coa {} subscribers {count}", nas.coa_address());
        }
        if let Some(hotspot) = &hotspot {
            let _ = writeln!(
                out,
                "hotspot {} coa {}",
                hotspot.url(),
                hotspot.coa_address()
            );
        }
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    }
    match &nas {
        Some((nas, _)) => {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            every.tick().await;
            let shutdown = wait_for_shutdown();
            tokio::pin!(shutdown);
            loop {
                tokio::select! {
                    () = &mut shutdown => break,
                    _ = every.tick() => print_nas(nas.snapshot()),
                }
            }
        }
        None => wait_for_shutdown().await,
    }
    drop(hotspot);
    drop(nas);
    let Some(router) = sole_owner(router).await else {
        eprintln!("lastmile sim-router: the router is still in use");
        return ExitCode::from(1);
    };
    match router.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("lastmile sim-router: {error}");
            ExitCode::from(1)
        }
    }
}

/// The router once the NAS side and the hotspot have let it go: their tasks and open
/// connections end shortly after they are dropped, so this waits for them (up to 5 s).
async fn sole_owner(mut router: std::sync::Arc<SimRouter>) -> Option<SimRouter> {
    for _ in 0..100 {
        match std::sync::Arc::try_unwrap(router) {
            Ok(router) => return Some(router),
            Err(shared) => router = shared,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// One line of what the NAS side has done.
fn print_nas(s: simnas::Snapshot) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "nas online {} accepted {} rejected {} unanswered {} acct {} lost {} coa {} disconnects {} removed {} reboots {}",
        s.online,
        s.accepted,
        s.rejected,
        s.unanswered,
        s.acct_acked,
        s.acct_lost,
        s.coa,
        s.disconnects,
        s.removed,
        s.reboots
    );
    let _ = out.flush();
}

/// Waits for Ctrl-C or SIGTERM.
pub(super) async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Runs a router subcommand.
pub async fn run(command: RouterCommand) -> ExitCode {
    match command {
        RouterCommand::Check(args) => match check(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("lastmile router check: {message}");
                ExitCode::from(1)
            }
        },
    }
}

async fn check(args: CheckArgs) -> Result<(), String> {
    let timeout =
        Duration::try_from_secs_f64(args.timeout).map_err(|_| "invalid --timeout".to_owned())?;
    let mut config =
        ClientConfig::new(&args.address, &args.user, &args.password).with_command_timeout(timeout);
    config.connect_timeout = timeout;
    if args.legacy_login {
        config = config.with_login(LoginMethod::Legacy);
    }
    if args.tls {
        let trust = match (
            &args.fingerprint,
            &args.ca,
            args.insecure_accept_any_certificate,
        ) {
            (Some(fingerprint), _, _) => {
                Trust::Fingerprint(Fingerprint::parse(fingerprint).map_err(|e| e.to_string())?)
            }
            (None, Some(file), _) => {
                let pem = std::fs::read_to_string(file)
                    .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                Trust::ca_pem(&pem).map_err(|e| e.to_string())?
            }
            (None, None, true) => Trust::AcceptAny,
            (None, None, false) => Trust::SystemRoots,
        };
        config = config.with_tls(trust);
    }
    let client = match Client::connect(&config).await {
        Ok(client) => client,
        Err(error) => {
            // A certificate not trusted yet: say which one the router presents, so the
            // operator can check it on the router and pin it.
            let presented = match (args.tls, &error) {
                (true, routeros::Error::Tls(_) | routeros::Error::FingerprintMismatch { .. }) => {
                    presented(&args.address, timeout).await
                }
                _ => None,
            };
            return Err(match presented {
                Some(fingerprint) => format!(
                    "{}: {error}\nthe router presents certificate fingerprint {fingerprint}: \
                     compare it with /certificate print on the router, then pin it with \
                     --fingerprint {fingerprint}",
                    args.address
                ),
                None => format!("{}: {error}", args.address),
            });
        }
    };
    let fingerprint = client.peer_fingerprint();
    let identity = menu::IDENTITY
        .get(&client)
        .await
        .map_err(|e| e.to_string())?;
    let resource = menu::RESOURCE
        .get(&client)
        .await
        .map_err(|e| e.to_string())?;
    let group = menu::api_user_group(&client)
        .await
        .map_err(|e| e.to_string())?;
    client.close().await;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "identity: {}", identity.name);
    let _ = writeln!(out, "version: {}", resource.version);
    let _ = writeln!(out, "board: {}", resource.board_name);
    let _ = writeln!(out, "uptime: {}", resource.uptime);
    let _ = writeln!(out, "api user group: {group}");
    if let Some(fingerprint) = fingerprint {
        let _ = writeln!(out, "certificate fingerprint: {fingerprint}");
    }
    Ok(())
}

/// The certificate fingerprint the router at `address` presents, if it can be read.
async fn presented(address: &str, timeout: Duration) -> Option<Fingerprint> {
    let (host, port) =
        routeros::client::parse_address(address, routeros::client::API_SSL_PORT).ok()?;
    routeros::presented_fingerprint(&host, port, timeout)
        .await
        .ok()
}
