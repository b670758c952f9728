//! `lastmile demo`: the newcomer's first look. Starts lastmile on a fresh SQLite database in
//! its own data directory, populated with a demo ISP, and prints how to sign in. With the
//! built-in RADIUS server on (the default), the ISP's first router is played by a simulated
//! MikroTik on this machine (`simnas` around `routeros::sim`): it reboots, logs its
//! customers in over a minute, reports their traffic every minute, and answers lastmile's
//! CoA, Disconnect and API requests, so sessions, usage and a disconnect are seen live.
//!
//! The demo starts fresh each time, so it deletes the database it made before; it never
//! deletes one it did not make. A demo's directory carries a [`MARKER`] file; a directory
//! holding a database without it is refused. The directory is the one `--data-dir` or
//! `LASTMILE_DATA_DIR` (or `data_dir` in `lastmile.toml`) names, else `lastmile-demo`.

use std::path::Path;
use std::process::ExitCode;

use super::serve::{ServeArgs, init_logging_for, load, wait_for_signal};
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
    // The simulated router's CoA port, bound first, is the one lastmile sends to.
    let nas = match DemoNas::prepare(&config).await {
        Ok(nas) => nas,
        Err(error) => {
            eprintln!("lastmile: cannot start the demo's simulated router: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(nas) = &nas {
        config.radius.coa_port = nas.coa_port;
    }
    let db_file = config.data_dir.join("lastmile.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db_file.display()));
    }
    init_logging_for(&config);
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
    let wiring = nas.as_ref().map(|n| crate::seed::DemoNas {
        api_port: n.router.address().port(),
        api_password: n.api_password.clone(),
    });
    let seeded = match crate::seed::demo(
        &state.db,
        &state.hasher,
        now,
        DEMO_CUSTOMERS,
        wiring.as_ref(),
    )
    .await
    {
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
    // Online payments through a provider simulated on this machine; its notices reach this
    // server, which settles them (reconciliation catches any it misses).
    let secret = |what: &str| format!("{what}_{}", ops::customer::random_password());
    let (secret_key, webhook_secret) = (secret("sk_demo"), secret("whsec_demo"));
    let provider = gateways::sim::SimGateway::start(gateways::sim::SimConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        secret_key: secret_key.clone(),
        webhook_secret: webhook_secret.clone(),
        scenario: gateways::sim::Scenario::default(),
    })
    .await;
    let provider = match provider {
        Ok(sim) => {
            let paid = crate::seed::money::online(
                &state.ctx(),
                domain::ids::TenantId(seeded.tenant_id),
                domain::ids::UserId(seeded.admin_id),
                &format!("http://{}", running.addr),
                &sim,
                (&secret_key, &webhook_secret),
            )
            .await;
            match paid {
                Ok(n) => println!(
                    "{n} customers paid online through a payment provider simulated at {}.",
                    sim.base_url(gateways::Provider::Generic)
                ),
                Err(error) => eprintln!("lastmile: the demo's online payments: {error}"),
            }
            Some(sim)
        }
        Err(error) => {
            eprintln!("lastmile: the demo's payment provider did not start: {error}");
            None
        }
    };
    let simulated = match (nas, &seeded.nas, running.radius) {
        (Some(nas), Some(seed), Some(radius)) => match nas.start(seed, radius).await {
            Ok(simulated) => {
                println!(
                    "Router core-mirpur is simulated on this machine: {} customers dial in over a \
                     minute (Sessions page).",
                    seed.subscribers.len()
                );
                Some(simulated)
            }
            Err(error) => {
                eprintln!("lastmile: the demo's simulated router did not start: {error}");
                None
            }
        },
        _ => None,
    };
    println!(
        "Stop with Ctrl-C. The demo's data is in its own directory and starts fresh each time."
    );
    wait_for_signal().await;
    drop(simulated);
    if let Some(provider) = provider {
        provider.shutdown().await;
    }
    running.stop().await;
    ExitCode::SUCCESS
}

/// The demo's simulated router, before lastmile starts: its API, and its CoA socket.
struct DemoNas {
    router: std::sync::Arc<routeros::sim::SimRouter>,
    api_password: String,
    coa: tokio::net::UdpSocket,
    coa_port: u16,
}

impl DemoNas {
    /// The simulated router's API and CoA listener, when the built-in RADIUS server runs.
    async fn prepare(config: &Config) -> std::io::Result<Option<DemoNas>> {
        if !config.radius.enabled {
            return Ok(None);
        }
        let api_password = ops::customer::random_password() + "-Api";
        let mut sim =
            routeros::sim::SimConfig::new("lastmile", &api_password, routeros::sim::Group::Full);
        sim.listen = "127.0.0.1:0".parse().map_err(std::io::Error::other)?;
        sim.identity = "core-mirpur".to_owned();
        let router = routeros::sim::SimRouter::start(sim)
            .await
            .map_err(std::io::Error::other)?;
        legacy_setup(&router).map_err(std::io::Error::other)?;
        let coa = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
        let coa_port = coa.local_addr()?.port();
        Ok(Some(DemoNas {
            router: std::sync::Arc::new(router),
            api_password,
            coa,
            coa_port,
        }))
    }

    /// Boots the NAS side against lastmile's RADIUS ports.
    async fn start(
        self,
        seed: &crate::seed::NasSeed,
        radius: app::RadiusAddrs,
    ) -> std::io::Result<simnas::SimNas> {
        let local = |address: std::net::SocketAddr| {
            std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), address.port())
        };
        // The legacy secrets' subscribers dial too: the router answers them from its own
        // secrets until they are imported and the router migrated to RADIUS.
        let mut subscribers = seed.subscribers.clone();
        subscribers.extend(
            LEGACY
                .filter(|n| !legacy_disabled(*n))
                .map(|n| simnas::Subscriber {
                    username: legacy_name(n),
                    password: legacy_password(n),
                    mac: None,
                    hotspot: false,
                }),
        );
        let mut scenario = simnas::Scenario::new(
            std::net::Ipv4Addr::LOCALHOST.into(),
            &seed.secret,
            subscribers,
        );
        scenario.auth_server = local(radius.auth);
        scenario.acct_server = local(radius.acct);
        scenario.busy_percent = 20;
        simnas::SimNas::start_on(scenario, self.router, self.coa).await
    }
}

/// The demo router's local PPP secrets, by number.
const LEGACY: std::ops::RangeInclusive<u32> = 1..=15;

fn legacy_name(n: u32) -> String {
    format!("legacy-{n:04}")
}

fn legacy_password(n: u32) -> String {
    format!("legacy-pw-{n:04}")
}

/// Some of the legacy secrets are disabled on the router.
fn legacy_disabled(n: u32) -> bool {
    n.is_multiple_of(6)
}

/// What the demo router held before lastmile: pools (one the tenant also has, unchanged),
/// PPP profiles (one named as a package, one not) and local PPP secrets, some disabled and
/// one with a fixed address, whose subscribers are online on the router's own secrets; for a
/// newcomer to import (Routers → import, or `POST /api/v1/routers/{id}/import`), to see what
/// provisioning would change, and to migrate to RADIUS.
fn legacy_setup(router: &routeros::sim::SimRouter) -> Result<(), routeros::sim::SimError> {
    for (name, ranges) in [
        ("home-pool", "100.64.0.1-100.64.15.254"),
        ("legacy-pppoe", "100.66.0.2-100.66.0.254"),
        ("legacy-static", "100.66.1.0/28,100.66.1.20-100.66.1.30"),
    ] {
        router.insert("/ip/pool", &[("name", name), ("ranges", ranges)])?;
    }
    for (name, rate) in [("Home 10M", "10M/5M"), ("legacy-5M", "5M/2M")] {
        router.insert(
            "/ppp/profile",
            &[
                ("name", name),
                ("local-address", "100.66.0.1"),
                ("remote-address", "legacy-pppoe"),
                ("rate-limit", rate),
            ],
        )?;
    }
    for n in LEGACY {
        let name = legacy_name(n);
        let password = legacy_password(n);
        let profile = if n > 12 { "legacy-5M" } else { "Home 10M" };
        let mut props = vec![
            ("name", name.as_str()),
            ("password", password.as_str()),
            ("service", "pppoe"),
            ("profile", profile),
        ];
        if legacy_disabled(n) {
            props.push(("disabled", "yes"));
        }
        if n == 5 {
            props.push(("remote-address", "100.66.1.5"));
            props.push(("comment", "Shop at road 5"));
        }
        router.insert("/ppp/secret", &props)?;
    }
    Ok(())
}
