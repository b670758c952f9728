//! Router-to-RADIUS migration through the API, against the simulated router over TCP with
//! its simulated subscribers (`simnas`), whose PPP logins the router answers from its own
//! enabled secrets before it asks RADIUS, as RouterOS does:
//!
//! - a router not sending PPP logins to lastmile is refused and nothing changes;
//! - the secrets of customers lastmile holds with the same password are disabled batch by
//!   batch, the canary first, their sessions dropped, and every one of them comes back
//!   through lastmile's RADIUS; a secret of someone else, one whose password differs and
//!   one disabled before are left as they were; a rollback on request enables exactly the
//!   secrets the migration disabled;
//! - when the test login fails (RADIUS does not answer), every secret disabled is enabled
//!   again and the customers log in locally again; so it is when the router breaks off the
//!   connection halfway (the secrets enabled on a new one).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod support_builtin;
mod support_freeradius;

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use routeros::sim::{Faults, Group, SimConfig, SimRouter};
use serde_json::{Value, json};
use simnas::{Scenario, SimNas, Snapshot, Subscriber};
use support::{Backend, TestApp, spawn_with, until};
use support_builtin::{acct_port, port};
use support_freeradius::api;

async fn job(app: &TestApp, dev: &str, id: i64) -> Value {
    until(
        "the job's end",
        async || app.get(&format!("/api/v1/jobs/{id}"), dev).await.1,
        |job: &Value| job["status"] == "done" || job["status"] == "failed",
    )
    .await
}

/// The world: a tenant and its router reaching `sim`; customers amir, bina, chad, dina,
/// emon and faru in lastmile (password `<name>-pw1`); on the router, enabled secrets of
/// amir to dina with those passwords, emon's with an older password, noc's (no customer of
/// lastmile's), and faru's disabled.
struct World {
    app: TestApp,
    isp: api::Isp,
    router: i64,
    sim: Arc<SimRouter>,
}

const CUSTOMERS: [&str; 6] = ["amir", "bina", "chad", "dina", "emon", "faru"];

async fn world(backend: Backend) -> World {
    let app = spawn_with(backend, |config| {
        config.radius.interim_seconds = 1;
    })
    .await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    let (_, routers) = app.get("/api/v1/routers", &isp.dev).await;
    let router = routers["items"][0]["id"].as_i64().unwrap();
    let (status, body) = app
        .patch(
            &format!("/api/v1/routers/{router}"),
            &isp.dev,
            json!({"api_address": "127.0.0.1", "api_port": sim.address().port(),
                   "api_user": "lastmile", "api_password": "api-pass-1",
                   "version": routers["items"][0]["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for name in CUSTOMERS {
        api::customer(
            &app,
            &isp.dev,
            isp.tenant,
            isp.fast,
            name,
            json!({"billing_type": "postpaid"}),
        )
        .await;
    }
    for (name, password, disabled) in [
        ("amir", "amir-pw1", "no"),
        ("bina", "bina-pw1", "no"),
        ("chad", "chad-pw1", "no"),
        ("dina", "dina-pw1", "no"),
        ("emon", "old-pw", "no"),
        ("noc", "noc-pw", "no"),
        ("faru", "faru-pw1", "yes"),
    ] {
        sim.insert(
            "/ppp/secret",
            &[
                ("name", name),
                ("password", password),
                ("service", "pppoe"),
                ("disabled", disabled),
            ],
        )
        .unwrap();
    }
    World {
        app,
        isp,
        router,
        sim: Arc::new(sim),
    }
}

/// The router's subscribers: each with the password its CPE holds (emon's the router's).
fn subscribers() -> Vec<Subscriber> {
    ["amir", "bina", "chad", "dina", "emon", "noc", "faru"]
        .iter()
        .map(|name| Subscriber {
            username: (*name).to_owned(),
            password: match *name {
                "emon" => "old-pw".to_owned(),
                "noc" => "noc-pw".to_owned(),
                other => format!("{other}-pw1"),
            },
            mac: None,
            hotspot: false,
        })
        .collect()
}

/// Starts the router's subscribers, sending RADIUS to `auth` and `acct`.
async fn nas(w: &World, auth: u16, acct: u16) -> SimNas {
    let mut scenario = Scenario::new(
        std::net::Ipv4Addr::LOCALHOST.into(),
        &w.isp.secret,
        subscribers(),
    );
    scenario.auth_server.set_port(auth);
    scenario.acct_server.set_port(acct);
    scenario.login_over = Duration::from_millis(300);
    scenario.redial = Duration::from_secs(1);
    let coa = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    SimNas::start_on(scenario, Arc::clone(&w.sim), coa)
        .await
        .unwrap()
}

/// Provisions the router for lastmile's RADIUS at `auth` and `acct`.
async fn provision(w: &World, auth: u16, acct: u16) {
    let (status, queued) = w
        .app
        .post(
            &format!("/api/v1/routers/{}/provision", w.router),
            &w.isp.dev,
            json!({"dry_run": false, "radius_address": "127.0.0.1",
                   "auth_port": auth, "acct_port": acct}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let done = job(&w.app, &w.isp.dev, queued["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "done", "{done}");
}

async fn migrate(w: &World, pace: Value) -> Value {
    let (status, queued) = w
        .app
        .post(
            &format!("/api/v1/routers/{}/migrate", w.router),
            &w.isp.dev,
            pace,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    job(&w.app, &w.isp.dev, queued["id"].as_i64().unwrap()).await
}

/// Each secret's name → disabled, as the router holds them.
fn secrets(sim: &SimRouter) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = sim
        .rows("/ppp/secret")
        .unwrap()
        .iter()
        .map(|r| (r.text("name").unwrap(), r.flag("disabled").unwrap()))
        .collect();
    out.sort();
    out
}

fn expect(disabled: &[&str]) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = ["amir", "bina", "chad", "dina", "emon", "noc", "faru"]
        .iter()
        .map(|n| ((*n).to_owned(), disabled.contains(n)))
        .collect();
    out.sort();
    out
}

async fn online(w: &World) -> Vec<String> {
    let (status, body) = w
        .app
        .get(
            &format!(
                "/api/v1/customers?tenant_id={}&online=true&limit=50",
                w.isp.tenant
            ),
            &w.isp.dev,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut names: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["username"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

async fn customers_move_to_radius_and_a_rollback_gives_the_secrets_back(backend: Backend) {
    let w = world(backend).await;
    let (auth, acct) = (port(&w.app), acct_port(&w.app));
    let nas = nas(&w, auth, acct).await;
    // Six log in on the router's own secrets; faru, whose secret is disabled, through
    // lastmile.
    until(
        "everyone online",
        async || nas.snapshot(),
        |s: &Snapshot| s.online == 7 && s.local == 6 && s.accepted == 1,
    )
    .await;
    assert_eq!(online(&w).await, ["faru"]);

    // Not sending PPP logins to lastmile yet: refused, nothing changed.
    let refused = migrate(&w, json!({})).await;
    assert_eq!(refused["status"], "failed", "{refused}");
    let error = refused["last_error"].as_str().unwrap();
    assert!(error.contains("provision the router first"), "{error}");
    assert_eq!(secrets(&w.sim), expect(&["faru"]));

    provision(&w, auth, acct).await;
    let done = migrate(
        &w,
        json!({"canary": 1, "batch_size": 2, "verify_seconds": 40, "min_reconnected_percent": 100}),
    )
    .await;
    assert_eq!(done["status"], "done", "{done}");
    let result = &done["result"];
    assert_eq!(result["taken"], 4, "{result}");
    assert_eq!(result["left"]["not_ours_names"], json!(["noc"]), "{result}");
    assert_eq!(
        result["left"]["password_differs_names"],
        json!(["emon"]),
        "{result}"
    );
    assert_eq!(result["left"]["already_disabled"], 1, "{result}");
    let outcome = &result["outcome"];
    assert_eq!(
        outcome["batches"], 3,
        "a canary of one, then two of two: {outcome}"
    );
    assert_eq!(outcome["passed"], 3, "{outcome}");
    assert_eq!(outcome["dropped"], 4, "{outcome}");
    assert_eq!(outcome["reconnected"], 4, "{outcome}");
    assert_eq!(
        secrets(&w.sim),
        expect(&["amir", "bina", "chad", "dina", "faru"])
    );
    // They came back through lastmile: online in lastmile now; emon and noc still local.
    assert_eq!(online(&w).await, ["amir", "bina", "chad", "dina", "faru"]);
    let snap = nas.snapshot();
    assert_eq!(snap.accepted, 5, "{snap:?}");
    assert_eq!(snap.online, 7, "{snap:?}");

    // A rollback on request enables exactly what the migration disabled: faru's stays.
    let path = format!("/api/v1/routers/{}/migrate/rollback", w.router);
    let (status, queued) = w.app.post(&path, &w.isp.dev, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let back = job(&w.app, &w.isp.dev, queued["id"].as_i64().unwrap()).await;
    assert_eq!(back["status"], "done", "{back}");
    assert_eq!(back["result"]["enabled"], 4, "{back}");
    assert_eq!(secrets(&w.sim), expect(&["faru"]));
    let (status, body) = w.app.post(&path, &w.isp.dev, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["fields"][0]["code"], "no_migration_to_roll_back",
        "{body}"
    );

    // Each end is in the audit log.
    let (_, audit) = w
        .app
        .get(
            &format!("/api/v1/audit?entity=router&entity_id={}", w.router),
            &w.isp.dev,
        )
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    for action in [
        "router.migrate.begin",
        "router.migrate",
        "router.migrate.revert",
    ] {
        assert!(actions.contains(&action), "{action} in {audit}");
    }
}

async fn a_failing_test_login_enables_every_secret_again(backend: Backend) {
    let w = world(backend).await;
    // RADIUS is a socket that never answers.
    let deaf = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let deaf_port = deaf.local_addr().unwrap().port();
    let nas = nas(&w, deaf_port, deaf_port).await;
    until(
        "the local logins",
        async || nas.snapshot(),
        |s: &Snapshot| s.local == 6,
    )
    .await;
    provision(&w, deaf_port, deaf_port).await;
    let failed = migrate(&w, json!({"canary": 2, "verify_seconds": 6})).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = failed["last_error"].as_str().unwrap();
    assert!(
        error.contains("the test login through the router failed")
            && error.contains("every secret disabled was enabled again"),
        "{error}"
    );
    assert_eq!(secrets(&w.sim), expect(&["faru"]));
    // The canary dials again and the router answers it from its secret.
    until(
        "the canary back on the router's secrets",
        async || nas.snapshot(),
        |s: &Snapshot| s.local >= 8 && s.online == 6,
    )
    .await;
    // Nothing is left to roll back.
    let (status, body) = w
        .app
        .post(
            &format!("/api/v1/routers/{}/migrate/rollback", w.router),
            &w.isp.dev,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    drop(deaf);
}

async fn a_pace_out_of_bounds_is_refused(backend: Backend) {
    let w = world(backend).await;
    let (status, body) = w
        .app
        .post(
            &format!("/api/v1/routers/{}/migrate", w.router),
            &w.isp.dev,
            json!({"canary": 0, "verify_seconds": 100000}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let fields: Vec<(&str, &str)> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("canary", "out_of_range"),
            ("verify_seconds", "out_of_range")
        ],
        "{body}"
    );
}

async fn a_router_failing_midway_gets_every_secret_back(backend: Backend) {
    let w = world(backend).await;
    let (auth, acct) = (port(&w.app), acct_port(&w.app));
    let nas = nas(&w, auth, acct).await;
    until(
        "everyone online",
        async || nas.snapshot(),
        |s: &Snapshot| s.online == 7,
    )
    .await;
    provision(&w, auth, acct).await;
    // The router breaks off the connection, or never answers, when told to drop the
    // canary's session: the secret disabled just before is enabled again.
    let faults = [
        Faults {
            fatal_on_command: Some("/ppp/active/remove".to_owned()),
            ..Faults::default()
        },
        Faults {
            silent_on_command: Some("/ppp/active/remove".to_owned()),
            ..Faults::default()
        },
    ];
    for fault in faults {
        w.sim.set_faults(fault.clone());
        let failed = migrate(&w, json!({"canary": 1})).await;
        w.sim.set_faults(Faults::default());
        assert_eq!(failed["status"], "failed", "{fault:?}: {failed}");
        let error = failed["last_error"].as_str().unwrap();
        assert!(
            error.contains("every secret disabled was enabled again"),
            "{fault:?}: {error}"
        );
        assert_eq!(secrets(&w.sim), expect(&["faru"]), "{fault:?}");
    }
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::Backend::Sqlite).await }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::Backend::Postgres).await }
            )*
        }
    };
}

both_backends!(
    customers_move_to_radius_and_a_rollback_gives_the_secrets_back,
    a_failing_test_login_enables_every_secret_again,
    a_pace_out_of_bounds_is_refused,
    a_router_failing_midway_gets_every_secret_back,
);
