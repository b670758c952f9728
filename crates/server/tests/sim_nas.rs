//! The simulated NAS (`simnas`) against lastmile's built-in server, on SQLite and
//! PostgreSQL, as the demo runs it: a router that boots (Accounting-On), logs its
//! subscribers in with PAP, CHAP and MS-CHAPv2, reports their traffic, and answers
//! lastmile's Disconnect and CoA, with its `/ppp/active` reached over the simulated
//! router's API.
//!
//! - every customer in service comes online with a live session, the refused one does not
//!   and the NAS counts the refusal; usage grows in the database as updates arrive;
//! - a disconnect asked in the API ends the session on the NAS (done on the Stop), and the
//!   subscriber dials in again, as a PPPoE client does;
//! - a FUP step crossed reaches the live session by CoA: the NAS applies the new rate; so
//!   does a move to another package, and a new speed of a package the customers are on;
//! - a reboot drops every session without a Stop; lastmile closes them on the
//!   Accounting-On and everyone is online again once they dialled;
//! - `lastmile sim-router --radius` does the same as a process, for a CSV file of
//!   subscribers, and refuses a file it cannot read with the line at fault.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_builtin;
mod support_freeradius;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use routeros::sim::{Group, SimConfig, SimRouter};
use serde_json::{Value, json};
use simnas::{Scenario, SimNas, Snapshot, Subscriber};
use support::{Backend, TestApp, spawn_with, until};
use support_builtin::{acct_port, port};
use support_freeradius::api;

async fn online_count(app: &TestApp, token: &str, tenant: i64) -> i64 {
    let (status, body) = app
        .get(
            &format!("/api/v1/customers?tenant_id={tenant}&online=true&limit=50"),
            token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().len() as i64
}

async fn period_bytes(app: &TestApp, token: &str, customer: i64) -> i64 {
    let (status, body) = app
        .get(&format!("/api/v1/customers/{customer}/usage"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let p = &body["period"];
    p["input_octets"].as_i64().unwrap() + p["output_octets"].as_i64().unwrap()
}

async fn a_simulated_router_brings_customers_online_and_obeys_lastmile(backend: Backend) {
    let coa = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let coa_port = coa.local_addr().unwrap().port();
    let app = spawn_with(backend, |config| {
        config.radius.coa_port = coa_port;
        config.radius.interim_seconds = 1;
        config.radius.disconnect_verify_seconds = 5;
        config.jobs.usage_watch_seconds = 1;
    })
    .await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let dev = isp.dev.clone();

    // The router's API: the simulated RouterOS, which lastmile is given.
    let router = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    let (_, routers) = app.get("/api/v1/routers", &dev).await;
    let router_id = routers["items"][0]["id"].as_i64().unwrap();
    let (status, body) = app
        .patch(
            &format!("/api/v1/routers/{router_id}"),
            &dev,
            json!({"api_address": "127.0.0.1", "api_port": router.address().port(),
                   "api_user": "lastmile", "api_password": "api-pass-1",
                   "version": routers["items"][0]["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Five customers in service (one on a package slowed after 1 MB), one disabled.
    let (status, capped) = app
        .post(
            "/api/v1/packages",
            &dev,
            json!({"tenant_id": isp.tenant, "name": "Capped", "connection_type": "pppoe",
                   "download_kbps": 8000, "upload_kbps": 8000, "validity_days": 30,
                   "price": 50000, "ip_pool_id": isp.pool,
                   "fup": [{"after_bytes": 1_000_000, "download_kbps": 1000, "upload_kbps": 500}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{capped}");
    let names = ["amir", "bina", "chad", "dina", "emon", "faru"];
    let mut ids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let package = if i == 4 {
            capped["id"].as_i64().unwrap()
        } else {
            isp.fast
        };
        let c = api::customer(
            &app,
            &dev,
            isp.tenant,
            package,
            name,
            json!({"billing_type": "postpaid"}),
        )
        .await;
        if i == 5 {
            api::act(&app, &dev, &c, "disable").await;
        }
        ids.push(c["id"].as_i64().unwrap());
    }
    let subscribers: Vec<Subscriber> = names
        .iter()
        .map(|name| Subscriber {
            username: (*name).to_owned(),
            password: format!("{name}-pw1"),
            mac: None,
            hotspot: false,
        })
        .collect();

    // The NAS boots against lastmile's ports.
    let mut scenario = Scenario::new(
        std::net::Ipv4Addr::LOCALHOST.into(),
        &isp.secret,
        subscribers,
    );
    scenario.auth_server.set_port(port(&app));
    scenario.acct_server.set_port(acct_port(&app));
    scenario.login_over = Duration::from_millis(500);
    scenario.busy_percent = 50;
    scenario.redial = Duration::from_secs(1);
    let router = Arc::new(router);
    let nas = SimNas::start_on(scenario, Arc::clone(&router), coa)
        .await
        .unwrap();

    let snap = until(
        "five logins and a refusal",
        async || nas.snapshot(),
        |s: &Snapshot| s.accepted >= 5 && s.rejected >= 1 && s.online == 5,
    )
    .await;
    assert_eq!(snap.unanswered, 0, "{snap:?}");
    until(
        "five customers online",
        async || online_count(&app, &dev, isp.tenant).await,
        |n| *n == 5,
    )
    .await;
    assert_eq!(router.rows("/ppp/active").unwrap().len(), 5);
    let (_, disabled) = app
        .get(&format!("/api/v1/customers/{}", ids[5]), &dev)
        .await;
    assert_eq!(disabled["online"], false, "{disabled}");

    // Usage grows as updates arrive.
    let first = until(
        "amir's traffic",
        async || period_bytes(&app, &dev, ids[0]).await,
        |b| *b > 0,
    )
    .await;
    until(
        "amir's traffic growing",
        async || period_bytes(&app, &dev, ids[0]).await,
        |b| *b > first,
    )
    .await;

    // A disconnect ends amir's session on the NAS; amir dials in again.
    let (status, body) = app
        .post(
            &format!("/api/v1/customers/{}/disconnect", ids[0]),
            &dev,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let done = until(
        "the disconnect done",
        async || {
            let (_, body) = app
                .get(&format!("/api/v1/customers/{}/enforcements", ids[0]), &dev)
                .await;
            body
        },
        |b: &Value| b[0]["status"] == "done",
    )
    .await;
    assert_eq!(done[0]["attempts"][0]["rung"], "disconnect", "{done}");
    assert_eq!(done[0]["attempts"][0]["outcome"], "ack", "{done}");
    until(
        "amir back online",
        async || nas.snapshot(),
        |s: &Snapshot| s.disconnects == 1 && s.accepted >= 6 && s.online == 5,
    )
    .await;

    // emon passes 1 MB: the watcher slows the live session by CoA, and the NAS applies it.
    until(
        "emon slowed",
        async || nas.rate_of("emon"),
        |rate| rate.as_deref() == Some("500k/1M"),
    )
    .await;
    assert!(nas.snapshot().coa >= 1);

    // bina moves to another package: her live session takes its rate by CoA.
    let (_, bina) = app
        .get(&format!("/api/v1/customers/{}", ids[1]), &dev)
        .await;
    api::change(&app, &dev, &bina, json!({"package_id": capped["id"]})).await;
    let moved = until(
        "bina's CoA done",
        async || {
            let (_, body) = app
                .get(&format!("/api/v1/customers/{}/enforcements", ids[1]), &dev)
                .await;
            body
        },
        |b: &Value| {
            b.as_array()
                .unwrap()
                .iter()
                .any(|e| e["reason"] == "package" && e["status"] == "done")
        },
    )
    .await;
    let by_package = moved
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["reason"] == "package")
        .unwrap();
    assert_eq!(by_package["rate_limit"], "8M/8M", "{moved}");
    assert_eq!(by_package["attempts"][0]["rung"], "coa", "{moved}");
    assert_eq!(by_package["attempts"][0]["outcome"], "ack", "{moved}");

    // The master package amir, chad and dina are on gets a new speed: their live
    // sessions take it by CoA; emon's and bina's package is another.
    let (_, fast) = app
        .get(&format!("/api/v1/packages/{}", isp.fast), &dev)
        .await;
    let (status, body) = app
        .patch(
            &format!("/api/v1/packages/{}", isp.fast),
            &dev,
            json!({"connection_type": "pppoe", "download_kbps": 12000, "upload_kbps": 6000,
                   "validity_days": 30, "ip_pool_id": fast["ip_pool_id"],
                   "version": fast["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for name in ["amir", "chad", "dina"] {
        until(
            &format!("{name} at the package's new speed"),
            async || nas.rate_of(name),
            |rate| rate.as_deref() == Some("6M/12M"),
        )
        .await;
    }
    for name in ["emon", "bina"] {
        let rate = nas.rate_of(name);
        assert!(
            matches!(rate.as_deref(), Some("8M/8M" | "500k/1M")),
            "{name} stays on its own package's speed: {rate:?}"
        );
    }
    let (_, audit) = app
        .get(
            "/api/v1/audit?entity=package&action=package.rates&limit=10",
            &dev,
        )
        .await;
    assert!(
        audit["items"].as_array().is_some_and(|a| !a.is_empty()),
        "the sessions reached are audited: {audit}"
    );

    nas.reboot_now();
    until(
        "everyone online after the reboot",
        async || nas.snapshot(),
        |s: &Snapshot| s.reboots == 1 && s.online == 5,
    )
    .await;
    until(
        "lastmile counting five online",
        async || online_count(&app, &dev, isp.tenant).await,
        |n| *n == 5,
    )
    .await;
    let (_, sessions) = app
        .get(
            &format!(
                "/api/v1/sessions?tenant_id={}&open=false&limit=100",
                isp.tenant
            ),
            &dev,
        )
        .await;
    let rebooted = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["terminate_cause"] == "NAS-Reboot")
        .count();
    assert!(rebooted >= 4, "the reboot closed the sessions: {sessions}");
    drop(nas);
}

/// `lastmile sim-router --radius` as a process: a CSV file of subscribers logged in, and a
/// file it cannot read refused with its line.
async fn sim_router_logs_a_file_of_subscribers_in(backend: Backend) {
    use std::io::{BufRead as _, BufReader};
    use std::process::{Command, Stdio};
    const BIN: &str = env!("CARGO_BIN_EXE_lastmile");

    let app = spawn_with(backend, |config| config.radius.interim_seconds = 1).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let dev = isp.dev.clone();
    for name in ["amir", "bina"] {
        api::customer(
            &app,
            &dev,
            isp.tenant,
            isp.fast,
            name,
            json!({"billing_type": "postpaid"}),
        )
        .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("subscribers.csv");
    std::fs::write(
        &good,
        "# user,password\namir,amir-pw1\nbina,bina-pw1,,pppoe\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "amir,amir-pw1\nbina\n").unwrap();
    let run = |file: &std::path::Path| {
        let mut command = Command::new(BIN);
        command
            .args(["sim-router", "--listen", "127.0.0.1:0", "--user", "api"])
            .args(["--password", "pw-123456", "--radius", "127.0.0.1"])
            .args(["--auth-port", &port(&app).to_string()])
            .args(["--acct-port", &acct_port(&app).to_string()])
            .args(["--coa-listen", "127.0.0.1:0", "--login-seconds", "1"])
            .arg("--subscribers")
            .arg(file)
            .env("LASTMILE_NAS_SECRET", &isp.secret);
        command
    };

    let refused = run(&bad).output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");

    let mut child = run(&good)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut nas_line = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line.starts_with("nas coa ") {
            nas_line = Some(line.clone());
        }
        if line == "ready" {
            break;
        }
    }
    let nas_line = nas_line.expect("the NAS side announced itself");
    assert!(nas_line.ends_with("subscribers 2"), "{nas_line}");
    let online = until(
        "both online",
        async || online_count(&app, &dev, isp.tenant).await,
        |n| *n == 2,
    )
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(online, 2);
}

on_both_backends!(
    a_simulated_router_brings_customers_online_and_obeys_lastmile,
    sim_router_logs_a_file_of_subscribers_in,
);
