//! Volume caps and FUP steps, end to end on SQLite and PostgreSQL, with `radclient` as the
//! NAS's AAA side and a RADIUS listener as its CoA side (RouterOS `/radius incoming`):
//!
//! - a package takes FUP steps through the API (bad steps refused, each on its field);
//! - the watcher records each capped customer it sees online (its rows count the usage it
//!   saw), audited;
//! - the customer's usage (API and page) shows the allowance and where it stands;
//! - a login counts the period's usage: the built-in server answers with the step's rate
//!   and the volume left, from memory, as soon as accounting reports the bytes;
//! - the usage watcher, run by the scheduler, sees the step crossed during the session and
//!   sends the new rate by CoA (done on the CoA-ACK), rewrites the FreeRADIUS rows (which
//!   `radius verify` finds clean), and at the cap ends the session (Disconnect, done on the
//!   Stop); the next login is refused;
//! - a new period lifts the cap: rows rewritten, the next login gets the package's rate.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_builtin;
mod support_freeradius;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use chrono::{Datelike as _, TimeZone as _};
use radius::server::{Handler, NasClient, Request, Server, ServerConfig};
use radius::{Code, Packet, attrs};
use serde_json::{Value, json};
use support::panel::Visitor;
use support::{Backend, TestApp, spawn_with};
use support_builtin::{ACCEPT, REJECT, acct_port, acked, port};
use support_freeradius::api;
use support_freeradius::nas::{Nas, Reply};

const MB: i64 = 1_000_000;

/// The NAS's CoA side: ACKs CoA-Requests (recording the rate asked for) and
/// Disconnect-Requests (then ends the session and sends its Stop).
#[derive(Clone)]
struct Router {
    rates: Arc<Mutex<Vec<(String, String)>>>,
    acct: Arc<Mutex<Option<(u16, String)>>>,
}

impl Handler for Router {
    async fn handle(&self, request: Request) -> Option<Packet> {
        let p = &request.packet;
        let text = |id| p.value(id).and_then(Result::ok).unwrap_or_default();
        let (user, session): (String, String) =
            (text(attrs::USER_NAME), text(attrs::ACCT_SESSION_ID));
        match p.code {
            Code::CoaRequest => {
                let rate: String = text(attrs::MIKROTIK_RATE_LIMIT);
                self.rates.lock().unwrap().push((session, rate));
                Some(request.reply(Code::CoaAck))
            }
            Code::DisconnectRequest => {
                let (port, secret) = self.acct.lock().unwrap().clone().unwrap();
                tokio::task::spawn_blocking(move || {
                    let stop = record(&user, "Stop", &session, 11 * MB);
                    send(port, &secret, &stop, "the router's Stop");
                });
                Some(request.reply(Code::DisconnectAck))
            }
            _ => None,
        }
    }
}

/// One Accounting-Request of `user`'s session with `bytes` moved (half each way).
fn record(user: &str, status: &str, session: &str, bytes: i64) -> Vec<(&'static str, String)> {
    let mut attrs: Vec<(&'static str, String)> = vec![
        ("User-Name", user.to_owned()),
        ("Acct-Status-Type", status.to_owned()),
        ("Acct-Session-Id", session.to_owned()),
        ("NAS-Port", "7".to_owned()),
        ("NAS-Port-Type", "Ethernet".to_owned()),
        ("Framed-IP-Address", "10.10.0.9".to_owned()),
        ("Acct-Session-Time", "60".to_owned()),
        ("Acct-Input-Octets", (bytes / 2).to_string()),
        ("Acct-Output-Octets", (bytes - bytes / 2).to_string()),
    ];
    if status == "Stop" {
        attrs.push(("Acct-Terminate-Cause", "Admin-Reset".to_owned()));
    }
    attrs
}

/// Sends an Accounting-Request to port `port` and checks it is acknowledged.
fn send(port: u16, secret: &str, attrs: &[(&'static str, String)], what: &str) {
    let borrowed: Vec<(&str, &str)> = attrs.iter().map(|(n, v)| (*n, v.as_str())).collect();
    acked(&Nas.acct_at(port, secret, &borrowed), what);
}

fn login(app: &TestApp, secret: &str) -> Reply {
    Nas.auth_at(
        port(app),
        secret,
        &[("User-Name", "alice"), ("User-Password", "alice-pw1")],
    )
}

/// The customer's enforcements once `n` exist and none is pending (at most 30 s).
async fn settled(app: &TestApp, token: &str, customer: i64, n: usize) -> Vec<Value> {
    for _ in 0..150 {
        let (status, body) = app
            .get(&format!("/api/v1/customers/{customer}/enforcements"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let all = body.as_array().unwrap().clone();
        if all.len() >= n && all.iter().all(|e| e["status"] != "pending") {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{n} enforcement(s) never settled");
}

/// Waits (at most 30 s) until the customer's FreeRADIUS rows hold `item`.
async fn rows_hold(app: &TestApp, customer: i64, item: (&str, &str)) -> Vec<(String, String)> {
    let mut items = Vec::new();
    for _ in 0..150 {
        let stored = store::radius::read(app.state.db.conn(), customer)
            .await
            .unwrap();
        items = stored
            .check
            .iter()
            .chain(stored.reply.iter())
            .map(|(attribute, _, value)| (attribute.clone(), value.clone()))
            .collect();
        if items.iter().any(|(a, v)| a == item.0 && v == item.1) {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the rows never held {item:?}: {items:?}");
}

async fn a_capped_customer_is_slowed_then_cut_and_a_new_period_lifts_it(backend: Backend) {
    let router = Router {
        rates: Arc::default(),
        acct: Arc::default(),
    };
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let coa_port = socket.local_addr().unwrap().port();
    let app = spawn_with(backend, |config| {
        config.radius.coa_port = coa_port;
        config.radius.disconnect_verify_seconds = 2;
        config.jobs.usage_watch_seconds = 1;
    })
    .await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let dev = isp.dev.clone();
    let clients = HashMap::from([(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        NasClient::new(&isp.secret).require_message_authenticator(false),
    )]);
    let server = Server::from_socket(socket, clients, router.clone(), ServerConfig::default());
    let nas = tokio::spawn(server.run(std::future::pending()));
    *router.acct.lock().unwrap() = Some((acct_port(&app), isp.secret.clone()));

    // A package of 20M down, 10M up, 10 MB a period, slowed to 2M/1M after 4 MB.
    let package = |fup: Value| {
        json!({"tenant_id": isp.tenant, "name": "Capped 20M", "connection_type": "pppoe",
               "download_kbps": 20000, "upload_kbps": 10000, "validity_days": 30, "price": 50000,
               "ip_pool_id": isp.pool, "volume_bytes": 10 * MB, "fup": fup})
    };
    let (status, body) = app
        .post(
            "/api/v1/packages",
            &dev,
            package(json!([{"after_bytes": 4 * MB, "download_kbps": 30000, "upload_kbps": 1000}])),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"][0]["code"], "not_slower", "{body}");
    let (status, body) = app
        .post(
            "/api/v1/packages",
            &dev,
            package(json!([{"after_bytes": 10 * MB, "download_kbps": 2000, "upload_kbps": 1000}])),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"][0]["code"], "out_of_range", "{body}");
    let (status, capped) = app
        .post(
            "/api/v1/packages",
            &dev,
            package(json!([{"after_bytes": 4 * MB, "download_kbps": 2000, "upload_kbps": 1000}])),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{capped}");
    assert_eq!(capped["fup"][0]["after_bytes"], 4 * MB, "{capped}");
    let alice = api::customer(
        &app,
        &dev,
        isp.tenant,
        capped["id"].as_i64().unwrap(),
        "alice",
        json!({"billing_type": "postpaid", "simultaneous_use": 2}),
    )
    .await;
    let id = alice["id"].as_i64().unwrap();

    // At full speed: the package's rate and the whole volume.
    let reply = login(&app, &isp.secret);
    Nas.expect(&reply, ACCEPT, "a fresh period");
    assert_eq!(
        reply.get("Mikrotik-Rate-Limit"),
        Some("10M/20M"),
        "{}",
        reply.raw
    );
    assert_eq!(
        reply.get("Mikrotik-Total-Limit"),
        Some("10000000"),
        "{}",
        reply.raw
    );

    // 5 MB into the session: the next login is slowed and has 5 MB left, from memory.
    let acct = acct_port(&app);
    send(
        acct,
        &isp.secret,
        &record("alice", "Start", "s-1", 0),
        "Start",
    );
    send(
        acct,
        &isp.secret,
        &record("alice", "Interim-Update", "s-1", 5 * MB),
        "Interim",
    );
    let reply = login(&app, &isp.secret);
    Nas.expect(&reply, ACCEPT, "past the step");
    assert_eq!(
        reply.get("Mikrotik-Rate-Limit"),
        Some("1M/2M"),
        "{}",
        reply.raw
    );
    assert_eq!(
        reply.get("Mikrotik-Total-Limit"),
        Some("5000000"),
        "{}",
        reply.raw
    );

    // The watcher gives the live session the step's rate by CoA, and the rows follow.
    let found = settled(&app, &dev, id, 1).await;
    assert_eq!(found[0]["reason"], "fup", "{found:?}");
    assert_eq!(found[0]["rate_limit"], "1M/2M", "{found:?}");
    assert_eq!(found[0]["status"], "done", "{found:?}");
    assert_eq!(found[0]["attempts"][0]["rung"], "coa", "{found:?}");
    assert_eq!(found[0]["attempts"][0]["outcome"], "ack", "{found:?}");
    assert_eq!(
        router.rates.lock().unwrap().clone(),
        vec![("s-1".to_owned(), "1M/2M".to_owned())]
    );
    rows_hold(&app, id, ("Mikrotik-Rate-Limit", "1M/2M")).await;
    let (status, usage) = app
        .get(&format!("/api/v1/customers/{id}/usage"), &dev)
        .await;
    assert_eq!(status, StatusCode::OK, "{usage}");
    let fair = &usage["fair_usage"];
    assert_eq!(
        (&fair["level"], &fair["steps_passed"], &fair["rate_limit"]),
        (&json!("slowed"), &json!(1), &json!("1M/2M")),
        "{usage}"
    );
    assert_eq!(fair["volume_bytes"], 10 * MB, "{usage}");
    assert_eq!(fair["used_bytes"], 5 * MB, "{usage}");
    app.user(
        &dev,
        json!({"email": "admin@isp.example", "name": "ISP admin", "role": "admin", "tenant_id": isp.tenant}),
    )
    .await;
    let mut panel = Visitor::signed_in(&app, "admin@isp.example").await;
    let page = panel.get(&format!("/panel/customers/{id}")).await;
    let shown = page.text_of("fair-usage").unwrap_or_default();
    assert!(
        shown.contains("slowed to 1M/2M") && shown.contains("of 9.5 MiB"),
        "{shown}"
    );

    // A first look at full speed is recorded too: bob's rows count his 1 MB.
    let bob = api::customer(
        &app,
        &dev,
        isp.tenant,
        capped["id"].as_i64().unwrap(),
        "bob",
        json!({"billing_type": "postpaid"}),
    )
    .await;
    let bob = bob["id"].as_i64().unwrap();
    // One update (its Start lost), so the watcher's first look sees the megabyte.
    send(
        acct,
        &isp.secret,
        &record("bob", "Interim-Update", "b-1", MB),
        "Interim",
    );
    rows_hold(&app, bob, ("Mikrotik-Total-Limit", "9000000")).await;
    let standing = store::quota::find(app.state.db.conn(), bob)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((standing.level, standing.used_bytes), (0, MB));
    let report = aaa::verify::verify(&app.state.db, false, app.clock().now())
        .await
        .unwrap();
    assert!(report.clean(), "{report:?}");

    // Past the volume: the session is ended, and the next login refused.
    send(
        acct,
        &isp.secret,
        &record("alice", "Interim-Update", "s-1", 11 * MB),
        "Interim",
    );
    let found = settled(&app, &dev, id, 2).await;
    assert_eq!(found[0]["reason"], "volume_cap", "{found:?}");
    assert_eq!(found[0]["rate_limit"], Value::Null, "{found:?}");
    assert_eq!(found[0]["status"], "done", "{found:?}");
    assert_eq!(found[0]["attempts"][0]["rung"], "disconnect", "{found:?}");
    let (_, body) = app.get(&format!("/api/v1/customers/{id}"), &dev).await;
    assert_eq!(body["online"], false, "the Stop arrived: {body}");
    Nas.expect(&login(&app, &isp.secret), REJECT, "the volume used up");
    rows_hold(&app, id, ("Auth-Type", "Reject")).await;
    assert_eq!(
        found.len(),
        2,
        "one change, one enforcement each: {found:?}"
    );

    // The next month, in the tenant's calendar: a new period, the package's own terms.
    let zone: chrono_tz::Tz = "Asia/Dhaka".parse().unwrap();
    let local = app.clock().now().with_timezone(&zone);
    let (year, month) = match local.month() {
        12 => (local.year() + 1, 1),
        m => (local.year(), m + 1),
    };
    let next = zone.with_ymd_and_hms(year, month, 1, 1, 0, 0).unwrap();
    app.clock()
        .shift((next.with_timezone(&chrono::Utc) - app.clock().now()).num_seconds());
    rows_hold(&app, id, ("Mikrotik-Rate-Limit", "10M/20M")).await;
    let mut reply = login(&app, &isp.secret);
    for _ in 0..50 {
        if reply.code.as_deref() == Some(ACCEPT) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        reply = login(&app, &isp.secret);
    }
    Nas.expect(&reply, ACCEPT, "a new period");
    assert_eq!(
        reply.get("Mikrotik-Rate-Limit"),
        Some("10M/20M"),
        "{}",
        reply.raw
    );
    assert_eq!(
        reply.get("Mikrotik-Total-Limit"),
        Some("10000000"),
        "{}",
        reply.raw
    );

    nas.abort();
}

on_both_backends!(a_capped_customer_is_slowed_then_cut_and_a_new_period_lifts_it);
