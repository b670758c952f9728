//! Who is online and what they used, from the accounting either server writes, on SQLite
//! and PostgreSQL, with `radclient` as the NAS:
//!
//! - a session FreeRADIUS writes (no customer named) is tied to the customer holding the
//!   user name; the customer reads `online`, the list filters on it, the sessions list and
//!   the panel show it; the built-in server's records of the same session and of another
//!   customer count alike;
//! - usage per day and for the period grows by what the counters grew (a Stop after an
//!   Interim adds the difference, a late record adds nothing), 64-bit;
//! - a Stop, or the router's Accounting-On, takes the customer offline; the sessions list
//!   filters by customer, router and open or ended; another tenant's admin sees none of it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_builtin;
mod support_freeradius;

use axum::http::StatusCode;
use serde_json::{Value, json};
use support::panel::Visitor;
use support::{Backend, PASSWORD, TestApp, spawn};
use support_builtin::{acct_port, acked};
use support_freeradius::FreeRadius;
use support_freeradius::api;
use support_freeradius::nas::Nas;

/// One session's Accounting-Request of `user`: `status` with these extra attributes.
fn record<'a>(
    user: &'a str,
    status: &'a str,
    id: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut attrs = vec![
        ("User-Name", user),
        ("Acct-Status-Type", status),
        ("Acct-Session-Id", id),
        ("NAS-Port", "7"),
        ("NAS-Port-Type", "Ethernet"),
        ("Framed-IP-Address", "10.10.0.9"),
        ("Calling-Station-Id", "AA:BB:CC:00:11:22"),
    ];
    attrs.extend_from_slice(extra);
    attrs
}

/// The ids of a list answer's items, in order.
fn ids(body: &Value) -> Vec<i64> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {body}"))
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

async fn get_ok(app: &TestApp, token: &str, path: &str) -> Value {
    let (status, body) = app.get(path, token).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// (input, output) summed over the usage's days, and the period's.
fn usage_totals(usage: &Value) -> ((i64, i64), (i64, i64)) {
    let days = usage["days"].as_array().unwrap();
    assert_eq!(days.len(), 30, "thirty days, oldest first: {usage}");
    let sum = |key: &str| days.iter().map(|d| d[key].as_i64().unwrap()).sum::<i64>();
    let period = &usage["period"];
    (
        (sum("input_octets"), sum("output_octets")),
        (
            period["input_octets"].as_i64().unwrap(),
            period["output_octets"].as_i64().unwrap(),
        ),
    )
}

async fn sessions_online_and_usage_follow_either_server(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let dev = isp.dev.clone();
    let alice = api::customer(&app, &dev, isp.tenant, isp.home, "alice", json!({})).await;
    let bob = api::customer(&app, &dev, isp.tenant, isp.home, "bob", json!({})).await;
    let (alice, bob) = (alice["id"].as_i64().unwrap(), bob["id"].as_i64().unwrap());
    let radius = FreeRadius::start(&app).await;
    let ours = acct_port(&app);
    let customer = |id: i64| format!("/api/v1/customers/{id}");

    assert_eq!(get_ok(&app, &dev, &customer(alice)).await["online"], false);

    // FreeRADIUS writes the Start: the row names no customer; the database ties it.
    acked(
        &radius.acct(&isp.secret, &record("alice", "Start", "s-1", &[])),
        "FreeRADIUS: Start",
    );
    assert_eq!(
        get_ok(&app, &dev, &customer(alice)).await["online"],
        true,
        "online from FreeRADIUS's row"
    );
    assert_eq!(get_ok(&app, &dev, &customer(bob)).await["online"], false);
    let online = get_ok(&app, &dev, "/api/v1/customers?online=true").await;
    assert_eq!(ids(&online), vec![alice], "{online}");
    let offline = get_ok(&app, &dev, "/api/v1/customers?online=false").await;
    assert_eq!(ids(&offline), vec![bob], "{offline}");

    let live = get_ok(&app, &dev, "/api/v1/sessions?open=true").await;
    let items = live["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{live}");
    let s = &items[0];
    assert_eq!(s["customer_id"], alice, "{s}");
    assert_eq!(s["tenant_id"], isp.tenant, "{s}");
    assert_eq!(s["username"], "alice");
    assert_eq!(s["acct_session_id"], "s-1");
    assert_eq!(s["framed_ip"], "10.10.0.9");
    assert_eq!(s["mac"], "AA:BB:CC:00:11:22");
    assert_eq!(s["nas_ip"], "127.0.0.1");
    assert!(s["router_id"].as_i64().is_some(), "the router named: {s}");
    assert!(s["started_at"].is_string(), "{s}");
    assert!(s["stopped_at"].is_null(), "{s}");
    let router = s["router_id"].as_i64().unwrap();

    // The built-in server hears the same session's Interim (64-bit counters) and bob's Start.
    acked(
        &Nas.acct_at(
            ours,
            &isp.secret,
            &record(
                "alice",
                "Interim-Update",
                "s-1",
                &[
                    ("Acct-Session-Time", "60"),
                    ("Acct-Input-Octets", "1000"),
                    ("Acct-Input-Gigawords", "2"),
                    ("Acct-Output-Octets", "5000"),
                ],
            ),
        ),
        "built-in: Interim",
    );
    acked(
        &Nas.acct_at(ours, &isp.secret, &record("bob", "Start", "b-1", &[])),
        "built-in: Start",
    );
    let both = get_ok(&app, &dev, "/api/v1/customers?online=true").await;
    assert_eq!(ids(&both), vec![bob, alice], "{both}");
    let narrowed = get_ok(
        &app,
        &dev,
        &format!(
            "/api/v1/customers?online=true&status=active&tenant_id={}&sort=username",
            isp.tenant
        ),
    )
    .await;
    assert_eq!(ids(&narrowed), vec![alice, bob], "{narrowed}");
    let gigawords = 2_i64 << 32;
    let usage = get_ok(&app, &dev, &format!("{}/usage", customer(alice))).await;
    assert_eq!(
        usage_totals(&usage),
        ((gigawords + 1000, 5000), (gigawords + 1000, 5000)),
        "{usage}"
    );

    // A late Interim adds nothing; FreeRADIUS's Stop adds what grew since, and closes.
    acked(
        &Nas.acct_at(
            ours,
            &isp.secret,
            &record(
                "alice",
                "Interim-Update",
                "s-1",
                &[("Acct-Session-Time", "30"), ("Acct-Input-Octets", "10")],
            ),
        ),
        "a late Interim",
    );
    acked(
        &radius.acct(
            &isp.secret,
            &record(
                "alice",
                "Stop",
                "s-1",
                &[
                    ("Acct-Session-Time", "120"),
                    ("Acct-Input-Octets", "2000"),
                    ("Acct-Input-Gigawords", "2"),
                    ("Acct-Output-Octets", "9000"),
                    ("Acct-Terminate-Cause", "User-Request"),
                ],
            ),
        ),
        "FreeRADIUS: Stop",
    );
    assert_eq!(get_ok(&app, &dev, &customer(alice)).await["online"], false);
    let usage = get_ok(&app, &dev, &format!("{}/usage", customer(alice))).await;
    assert_eq!(
        usage_totals(&usage),
        ((gigawords + 2000, 9000), (gigawords + 2000, 9000)),
        "only the growth is added: {usage}"
    );
    let ended = get_ok(
        &app,
        &dev,
        &format!("/api/v1/sessions?customer_id={alice}&open=false"),
    )
    .await;
    let items = ended["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{ended}");
    assert_eq!(items[0]["terminate_cause"], "User-Request");
    assert_eq!(items[0]["input_octets"], gigawords + 2000);
    assert_eq!(items[0]["output_octets"], 9000);
    assert!(items[0]["stopped_at"].is_string(), "{ended}");
    let on_router = get_ok(&app, &dev, &format!("/api/v1/sessions?router_id={router}")).await;
    assert_eq!(on_router["total"], 2, "{on_router}");
    let (status, body) = app.get("/api/v1/sessions?router_id=999999", &dev).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app.get("/api/v1/sessions?open=maybe", &dev).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Paging: newest first, one at a time, the cursor carrying on.
    let first = get_ok(&app, &dev, "/api/v1/sessions?limit=1").await;
    assert_eq!(first["items"][0]["username"], "bob", "{first}");
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = get_ok(
        &app,
        &dev,
        &format!("/api/v1/sessions?limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(second["items"][0]["username"], "alice", "{second}");

    // Another tenant's admin sees none of it.
    let other = app.tenant(&dev, "Other ISP").await;
    app.user(
        &dev,
        json!({"email": "admin@other.example", "name": "Other", "role": "admin", "tenant_id": other}),
    )
    .await;
    let admin = app.login("admin@other.example", PASSWORD).await;
    let none = get_ok(&app, &admin, "/api/v1/sessions").await;
    assert_eq!(none["total"], 0, "{none}");
    let (status, _) = app.get(&format!("{}/usage", customer(alice)), &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The panel: the customer's page shows bob's live session and its usage; the sessions
    // page lists both, and filters to the live one.
    app.user(
        &dev,
        json!({"email": "admin@isp.example", "name": "ISP admin", "role": "admin", "tenant_id": isp.tenant}),
    )
    .await;
    let mut panel = Visitor::signed_in(&app, "admin@isp.example").await;
    let page = panel.get(&format!("/panel/customers/{bob}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let live = page.text_of("live-sessions").unwrap_or_default();
    assert!(
        live.contains("test-nas") && live.contains("10.10.0.9"),
        "{live}"
    );
    let page = panel.get(&format!("/panel/customers/{alice}")).await;
    assert!(page.has("id=\"customer-offline\""), "alice is offline");
    let recent = page.text_of("recent-sessions").unwrap_or_default();
    assert!(recent.contains("User-Request"), "{recent}");
    let days = page.text_of("usage-days").unwrap_or_default();
    assert!(days.contains("8.8 KiB"), "9000 bytes down: {days}");
    let all = panel.get("/panel/sessions").await;
    let listed = all.text_of("session-list").unwrap_or_default();
    assert!(
        listed.contains("alice") && listed.contains("bob"),
        "{listed}"
    );
    let live = panel.get("/panel/sessions?open=true").await;
    let listed = live.text_of("session-list").unwrap_or_default();
    assert!(
        listed.contains("bob") && !listed.contains("alice"),
        "{listed}"
    );
    let online = panel.get("/panel/customers?online=true").await;
    assert_eq!(online.rows("customer"), vec![bob]);

    // The router reboots: Accounting-On closes bob's session, and nobody is online.
    acked(
        &Nas.acct_at(
            ours,
            &isp.secret,
            &[
                ("Acct-Status-Type", "Accounting-On"),
                ("Acct-Session-Id", "0"),
            ],
        ),
        "Accounting-On",
    );
    assert_eq!(get_ok(&app, &dev, &customer(bob)).await["online"], false);
    let nobody = get_ok(&app, &dev, "/api/v1/customers?online=true").await;
    assert_eq!(nobody["total"], 0, "{nobody}");
    let everyone = get_ok(&app, &dev, "/api/v1/customers?online=false").await;
    assert_eq!(everyone["total"], 2, "{everyone}");
}

on_both_backends!(sessions_online_and_usage_follow_either_server);
