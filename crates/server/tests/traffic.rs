//! Traffic graphs from accounting, through the built-in RADIUS server, on SQLite and
//! PostgreSQL:
//!
//! - a session's counters, `radclient` as the NAS with the records' times given, become
//!   five-minute and hourly points: bytes and rates exact per bucket, through a 32-bit wrap
//!   (gigawords) and a session that starts again from zero, the period's totals equal to
//!   the counters; the router's and the tenant's graphs carry the same bytes;
//! - the simulated NAS's traffic, rolled up, adds up to what `radacct` holds;
//! - who sees what: another tenant's customer is not found, a reseller gets no network
//!   graph, a period no graph has is refused; the panel draws the graphs as SVG on the
//!   customer's page, its graph page and the dashboard.

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
use support::panel::Visitor;
use support::{Backend, TestApp, spawn, spawn_with, until};
use support_builtin::{acct_port, acked, port};
use support_freeradius::api;
use support_freeradius::nas::Nas;

const FIVE: i64 = 300;
const TWO_32: i64 = 1 << 32;

/// An Accounting-Request of session `id` of alice at `at`, with 64-bit counters.
fn record(status: &str, id: &str, at: i64, input: i64, output: i64) -> Vec<(String, String)> {
    let mut attrs = vec![
        ("User-Name", "alice".to_owned()),
        ("Acct-Status-Type", status.to_owned()),
        ("Acct-Session-Id", id.to_owned()),
        ("NAS-Port", "7".to_owned()),
        ("NAS-Port-Type", "Ethernet".to_owned()),
        ("Framed-IP-Address", "10.10.0.9".to_owned()),
        ("Event-Timestamp", at.to_string()),
    ];
    if status != "Start" {
        attrs.extend([
            ("Acct-Input-Octets", (input % TWO_32).to_string()),
            ("Acct-Input-Gigawords", (input / TWO_32).to_string()),
            ("Acct-Output-Octets", (output % TWO_32).to_string()),
            ("Acct-Output-Gigawords", (output / TWO_32).to_string()),
        ]);
    }
    attrs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn send(app: &TestApp, secret: &str, attrs: &[(String, String)]) {
    let borrowed: Vec<(&str, &str)> = attrs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    acked(
        &Nas.acct_at(acct_port(app), secret, &borrowed),
        "accounting",
    );
}

/// Rolls up everything the accounting appended.
async fn roll_up(app: &TestApp) {
    ops::traffic::roll_up(&app.state.db, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        store::traffic::backlog(app.state.db.conn()).await.unwrap(),
        0
    );
}

async fn graph(app: &TestApp, token: &str, path: &str) -> Value {
    let (status, body) = app.get(path, token).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// The point of `body` at `at`: (download, upload) bits per second.
fn point(body: &Value, at: i64) -> (i64, i64) {
    let p = body["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["at"].as_i64() == Some(at))
        .unwrap_or_else(|| panic!("no point at {at}: {body}"));
    (
        p["download_bps"].as_i64().unwrap(),
        p["upload_bps"].as_i64().unwrap(),
    )
}

fn totals(body: &Value) -> (i64, i64) {
    (
        body["download"]["bytes"].as_i64().unwrap(),
        body["upload"]["bytes"].as_i64().unwrap(),
    )
}

async fn the_graph_follows_the_counters(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let alice = api::customer(&app, &isp.dev, isp.tenant, isp.home, "alice", json!({})).await;
    let customer = alice["id"].as_i64().unwrap();
    let now = app.state.clock.now().timestamp();
    let t = now.div_euclid(FIVE) * FIVE - 3 * 3_600;

    // Session 1: upload crosses 2^32 (its gigawords go from 0 to 1), download too.
    let (in1, out1) = (TWO_32 - 1_000, 3_000_000_000);
    let (in2, out2) = (TWO_32 + 500, 4_500_000_000);
    let (in3, out3) = (TWO_32 + 100_500, 4_500_030_000);
    send(&app, &isp.secret, &record("Start", "s-1", t, 0, 0));
    send(
        &app,
        &isp.secret,
        &record("Interim-Update", "s-1", t + FIVE, in1, out1),
    );
    send(
        &app,
        &isp.secret,
        &record("Interim-Update", "s-1", t + 2 * FIVE, in2, out2),
    );
    send(
        &app,
        &isp.secret,
        &record("Stop", "s-1", t + 3 * FIVE, in3, out3),
    );
    // Session 2 starts again from zero: no drop, no negative bucket.
    send(
        &app,
        &isp.secret,
        &record("Start", "s-2", t + 3 * FIVE, 0, 0),
    );
    send(
        &app,
        &isp.secret,
        &record("Interim-Update", "s-2", t + 4 * FIVE, 6_000, 12_000),
    );
    roll_up(&app).await;

    let day = graph(
        &app,
        &isp.dev,
        &format!("/api/v1/customers/{customer}/traffic?period=day"),
    )
    .await;
    assert_eq!(day["period"], "day");
    assert_eq!(day["step_seconds"], 300);
    assert_eq!(day["points"].as_array().unwrap().len(), 288);
    let rate = |bytes: i64| bytes * 8 / FIVE;
    assert_eq!(
        point(&day, t),
        (rate(out1), rate(in1)),
        "the first five minutes"
    );
    assert_eq!(
        point(&day, t + FIVE),
        (rate(out2 - out1), rate(in2 - in1)),
        "across the wrap: only what grew"
    );
    assert_eq!(
        point(&day, t + 2 * FIVE),
        (rate(out3 - out2), rate(in3 - in2))
    );
    assert_eq!(
        point(&day, t + 3 * FIVE),
        (rate(12_000), rate(6_000)),
        "the restart"
    );
    assert_eq!(point(&day, t + 4 * FIVE), (0, 0));
    assert_eq!(point(&day, t - FIVE), (0, 0));
    let expected = (out3 + 12_000, in3 + 6_000);
    assert_eq!(
        totals(&day),
        expected,
        "the period's bytes are the counters'"
    );
    assert_eq!(day["download"]["max_bps"].as_i64(), Some(rate(out1)));
    assert_eq!(
        day["download"]["average_bps"].as_i64(),
        Some(expected.0 * 8 / 86_400)
    );

    // Hourly points carry the same bytes.
    let week = graph(
        &app,
        &isp.dev,
        &format!("/api/v1/customers/{customer}/traffic?period=week"),
    )
    .await;
    assert_eq!(week["step_seconds"], 3600);
    assert_eq!(week["points"].as_array().unwrap().len(), 168);
    assert_eq!(totals(&week), expected);

    // The router's and the tenant's graphs: the same sessions.
    let (_, routers) = app.get("/api/v1/routers", &isp.dev).await;
    let router = routers["items"][0]["id"].as_i64().unwrap();
    let by_router = graph(&app, &isp.dev, &format!("/api/v1/routers/{router}/traffic")).await;
    assert_eq!(totals(&by_router), expected);
    let by_tenant = graph(
        &app,
        &isp.dev,
        &format!("/api/v1/tenants/{}/traffic?period=month", isp.tenant),
    )
    .await;
    assert_eq!(totals(&by_tenant), expected);

    // A late record repeated, already counted: nothing more.
    send(
        &app,
        &isp.secret,
        &record("Interim-Update", "s-1", t + 2 * FIVE, in2, out2),
    );
    roll_up(&app).await;
    let again = graph(
        &app,
        &isp.dev,
        &format!("/api/v1/customers/{customer}/traffic"),
    )
    .await;
    assert_eq!(totals(&again), expected);
}

async fn graphs_are_seen_in_scope_and_drawn_in_the_panel(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let alice = api::customer(&app, &isp.dev, isp.tenant, isp.home, "alice", json!({})).await;
    let customer = alice["id"].as_i64().unwrap();
    let t = app.state.clock.now().timestamp().div_euclid(FIVE) * FIVE - 2 * 3_600;
    send(&app, &isp.secret, &record("Start", "s-1", t, 0, 0));
    send(
        &app,
        &isp.secret,
        &record("Interim-Update", "s-1", t + FIVE, 1_000, 9_000_000),
    );
    roll_up(&app).await;
    let (_, routers) = app.get("/api/v1/routers", &isp.dev).await;
    let router = routers["items"][0]["id"].as_i64().unwrap();

    // A period no graph has.
    let (status, body) = app
        .get(
            &format!("/api/v1/customers/{customer}/traffic?period=year"),
            &isp.dev,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "period");

    // Another tenant's Admin: the customer, the router and the tenant are not found.
    let other = app.tenant(&isp.dev, "Other ISP").await;
    app.user(
        &isp.dev,
        json!({"email": "admin@other.example", "name": "Other", "role": "admin", "tenant_id": other}),
    )
    .await;
    let stranger = app.login("admin@other.example", support::PASSWORD).await;
    for path in [
        format!("/api/v1/customers/{customer}/traffic"),
        format!("/api/v1/routers/{router}/traffic"),
        format!("/api/v1/tenants/{}/traffic", isp.tenant),
    ] {
        let (status, body) = app.get(&path, &stranger).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }

    // An operator sees its own customers' graphs, not the network's.
    app.user(
        &isp.dev,
        json!({"email": "op@isp.example", "name": "Op", "role": "operator", "tenant_id": isp.tenant}),
    )
    .await;
    let operator = app.login("op@isp.example", support::PASSWORD).await;
    for path in [
        format!("/api/v1/routers/{router}/traffic"),
        format!("/api/v1/tenants/{}/traffic", isp.tenant),
    ] {
        let (status, body) = app.get(&path, &operator).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
    let (status, _) = app
        .get(&format!("/api/v1/customers/{customer}/traffic"), &operator)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not the operator's customer");

    // The panel, as the tenant's Admin.
    app.user(
        &isp.dev,
        json!({"email": "admin@isp.example", "name": "Admin", "role": "admin", "tenant_id": isp.tenant}),
    )
    .await;
    let mut admin = Visitor::signed_in(&app, "admin@isp.example").await;
    let page = admin.get(&format!("/panel/customers/{customer}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.has(&format!(
            "/panel/customers/{customer}/traffic.svg?period=day"
        )),
        "{}",
        page.body
    );
    let drawing = admin
        .get(&format!(
            "/panel/customers/{customer}/traffic.svg?period=day"
        ))
        .await;
    assert_eq!(drawing.status, StatusCode::OK, "{}", drawing.body);
    assert_eq!(
        drawing.headers["content-type"],
        "image/svg+xml; charset=utf-8"
    );
    assert!(drawing.body.starts_with("<svg"), "{}", drawing.body);
    assert!(drawing.body.contains("class=\"down\""));
    assert!(drawing.body.contains("class=\"up\""));
    // 9 MB in five minutes: 240 kbit/s, the day's maximum, with its unit.
    assert!(drawing.body.contains("240 kbit/s"), "{}", drawing.body);
    assert!(!drawing.body.contains("<script"));
    let month = admin
        .get(&format!("/panel/customers/{customer}/traffic?period=month"))
        .await;
    assert_eq!(month.status, StatusCode::OK);
    assert!(month.has("traffic.svg?period=month"), "{}", month.body);
    assert!(month.has("id=\"traffic-stats\""));
    let bad = admin
        .get(&format!(
            "/panel/customers/{customer}/traffic.svg?period=decade"
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let dashboard = admin.get("/panel").await;
    assert!(
        dashboard.has(&format!(
            "/panel/tenants/{}/traffic.svg?period=day",
            isp.tenant
        )),
        "{}",
        dashboard.body
    );
    assert!(dashboard.has(&format!("/panel/routers/{router}/traffic.svg?period=day")));
    for path in [
        format!("/panel/routers/{router}/traffic.svg?period=week"),
        format!("/panel/tenants/{}/traffic.svg?period=hour", isp.tenant),
    ] {
        let drawing = admin.get(&path).await;
        assert_eq!(drawing.status, StatusCode::OK, "{path}");
        assert!(drawing.body.starts_with("<svg"));
    }

    // Another tenant's Admin in the panel: not found.
    let mut stranger = Visitor::signed_in(&app, "admin@other.example").await;
    let refused = stranger
        .get(&format!("/panel/customers/{customer}/traffic.svg"))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let other_dashboard = stranger.get("/panel").await;
    assert!(!other_dashboard.has(&format!("/panel/tenants/{}/traffic.svg", isp.tenant)));
}

/// The sum of a table's column for a customer.
async fn sum(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::ConnectionTrait as _;
    let conn = app.state.db.conn();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<Option<i64>>(0).unwrap().unwrap_or(0)
}

async fn the_simulated_nas_traffic_adds_up(backend: Backend) {
    let coa = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let coa_port = coa.local_addr().unwrap().port();
    let app = spawn_with(backend, |config| {
        config.radius.coa_port = coa_port;
        config.radius.interim_seconds = 1;
    })
    .await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let names = ["amir", "bina", "chad"];
    let mut ids = Vec::new();
    for name in names {
        let c = api::customer(
            &app,
            &isp.dev,
            isp.tenant,
            isp.fast,
            name,
            json!({"billing_type": "postpaid"}),
        )
        .await;
        ids.push(c["id"].as_i64().unwrap());
    }
    let router = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    let subscribers = names
        .iter()
        .map(|name| Subscriber {
            username: (*name).to_owned(),
            password: format!("{name}-pw1"),
            mac: None,
            hotspot: false,
        })
        .collect();
    let mut scenario = Scenario::new(
        std::net::Ipv4Addr::LOCALHOST.into(),
        &isp.secret,
        subscribers,
    );
    scenario.auth_server.set_port(port(&app));
    scenario.acct_server.set_port(acct_port(&app));
    scenario.login_over = Duration::from_millis(300);
    scenario.busy_percent = 60;
    let nas = SimNas::start_on(scenario, Arc::new(router), coa)
        .await
        .unwrap();
    until(
        "three sessions with a few updates each",
        async || nas.snapshot(),
        |s: &Snapshot| s.online == 3 && s.acct_acked >= 3 + 3 * 3,
    )
    .await;
    drop(nas);
    // Once `radacct` holds still (a journal may write it behind the acknowledgements),
    // everything in it is rolled up.
    const ALL: &str = "SELECT CAST(SUM(COALESCE(acctinputoctets, 0) + COALESCE(acctoutputoctets, 0)) \
                       AS BIGINT) FROM radacct";
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = sum(&app, ALL).await;
        roll_up(&app).await;
        if sum(&app, ALL).await == before {
            break;
        }
    }
    for id in ids {
        let counted = sum(
            &app,
            &format!(
                "SELECT CAST(SUM(COALESCE(acctinputoctets, 0) + COALESCE(acctoutputoctets, 0)) \
                 AS BIGINT) FROM radacct WHERE customer_id = {id}"
            ),
        )
        .await;
        assert!(counted > 0, "customer {id} had traffic");
        for step in [300, 3600] {
            let graphed = sum(
                &app,
                &format!(
                    "SELECT CAST(SUM(input + output) AS BIGINT) FROM traffic_point \
                     WHERE owner_kind = 1 AND owner_id = {id} AND step = {step}"
                ),
            )
            .await;
            assert_eq!(graphed, counted, "customer {id}, {step}-second buckets");
        }
    }
}

on_both_backends!(
    the_graph_follows_the_counters,
    graphs_are_seen_in_scope_and_drawn_in_the_panel,
    the_simulated_nas_traffic_adds_up,
);
