//! The LibreQoS export (`ops::libreqos`) through the API and the command line, on SQLite and
//! PostgreSQL, with sessions opened by `radclient` against lastmile's own RADIUS server:
//!
//! - an Admin's `ShapedDevices.csv` holds its customers in service with an address (the
//!   static one, else the open session's), at their package's rates, under their router's
//!   and zone's node; a customer without an address, or suspended, is left out and the
//!   summary counts why; hostile names come back intact through a CSV reader and never
//!   start with a formula sign; `network.json` parses and holds every Parent Node the CSV
//!   names; the flat layout has none;
//! - another tenant's Admin never sees the first tenant's customers; an operator sees only
//!   its own; an Accountant and a Staff user without `manage_network` are refused (403), a
//!   Manager granted it and `view_customers` is not; a Developer must name the tenant;
//! - `lastmile libreqos --out DIR` writes both files in place and prints the counts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

mod support;
mod support_builtin;
mod support_freeradius;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Backend, PASSWORD, TestApp, error_code, spawn};
use support_builtin::{acct_port, acked};
use support_freeradius::api;
use support_freeradius::nas::Nas;

const HEADER: &str = "Circuit ID,Circuit Name,Device ID,Device Name,Parent Node,MAC,IPv4,IPv6,\
                      Download Min Mbps,Upload Min Mbps,Download Max Mbps,Upload Max Mbps,Comment";

/// A name a spreadsheet would run, with a comma and quotes inside.
const HOSTILE: &str = "=HYPERLINK(\"http://x\"),\"Rahim\" & co";

/// The first tenant's world: its router and zones, and its customers by user name.
struct World {
    isp: api::Isp,
    admin: String,
    customers: BTreeMap<&'static str, i64>,
    static_ip: String,
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (status, created) = app.post(path, token, body.clone()).await;
    assert!(status.is_success(), "{path} {body}: {status} {created}");
    created
}

/// Opens a session of `user` with `address` on the built-in server.
fn online(app: &TestApp, isp: &api::Isp, user: &str, session: &str, address: &str) {
    acked(
        &Nas.acct_at(
            acct_port(app),
            &isp.secret,
            &[
                ("User-Name", user),
                ("Acct-Status-Type", "Start"),
                ("Acct-Session-Id", session),
                ("NAS-Port", "7"),
                ("NAS-Port-Type", "Ethernet"),
                ("Framed-IP-Address", address),
                ("Calling-Station-Id", "AA:BB:CC:00:11:22"),
            ],
        ),
        &format!("Start of {user}"),
    );
}

/// A tenant with a router, zones Dhaka > Mirpur, an operator, and customers:
/// `fixed` (static address, on the router), `alice` (online, on the router in Mirpur),
/// `hostile` (online, in Mirpur without a router), `quiet` (no address), `paused`
/// (static address, suspended) and `opcust` (the operator's, online, no router or zone).
async fn world(app: &TestApp) -> World {
    let isp = api::isp(app, "Asia/Dhaka", ("reject", None)).await;
    let dev = isp.dev.clone();
    let t = isp.tenant;
    let (_, routers) = app
        .get(&format!("/api/v1/routers?tenant_id={t}"), &dev)
        .await;
    let router = routers["items"][0]["id"].as_i64().unwrap();
    let dhaka = post(
        app,
        &dev,
        "/api/v1/zones",
        json!({"tenant_id": t, "name": "Dhaka"}),
    )
    .await["id"]
        .clone();
    let mirpur = post(
        app,
        &dev,
        "/api/v1/zones",
        json!({"tenant_id": t, "name": "Mirpur", "parent_id": dhaka}),
    )
    .await["id"]
        .clone();
    let op = app
        .user(
            &dev,
            json!({"email": "op@lq.example", "name": "Op", "role": "operator", "tenant_id": t}),
        )
        .await;
    let op_home = post(
        app,
        &dev,
        "/api/v1/packages",
        json!({"parent_id": isp.home, "owner_id": op, "name": "Op home", "price": 55000, "cost_price": 50000}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let mut customers = BTreeMap::new();
    let mut add = async |user: &'static str, package: i64, extra: Value| {
        let created = api::customer(app, &dev, t, package, user, extra).await;
        customers.insert(user, created["id"].as_i64().unwrap());
        created
    };
    let fixed = add(
        "fixed",
        isp.home,
        json!({"router_id": router, "static_ip": "10.20.0.7", "ip_pool_id": isp.static_pool}),
    )
    .await;
    let static_ip = fixed["static_ip"].as_str().unwrap_or_default().to_owned();
    add(
        "alice",
        isp.fast,
        json!({"router_id": router, "zone_id": mirpur, "mac": "AA:BB:CC:00:11:22"}),
    )
    .await;
    add(
        "hostile",
        isp.home,
        json!({"name": HOSTILE, "zone_id": mirpur}),
    )
    .await;
    add("quiet", isp.home, json!({"router_id": router})).await;
    let paused = add(
        "paused",
        isp.home,
        json!({"static_ip": "10.20.0.8", "ip_pool_id": isp.static_pool}),
    )
    .await;
    add("opcust", op_home, json!({"owner_id": op})).await;
    api::act(app, &dev, &paused, "suspend").await;
    online(app, &isp, "alice", "s-alice", "10.10.0.9");
    online(app, &isp, "hostile", "s-hostile", "10.10.0.10");
    online(app, &isp, "opcust", "s-op", "10.10.0.11");
    app.user(
        &dev,
        json!({"email": "admin@lq.example", "name": "Admin", "role": "admin", "tenant_id": t}),
    )
    .await;
    let admin = app.login("admin@lq.example", PASSWORD).await;
    World {
        isp,
        admin,
        customers,
        static_ip,
    }
}

/// `GET path` as `token`: status, content type and body text.
async fn fetch(app: &TestApp, token: &str, path: &str) -> (StatusCode, String, String) {
    let response = app
        .http
        .request(Method::GET, format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, response.text().await.unwrap())
}

/// The CSV's lines by Circuit ID, read back as LibreQoS's CSV reader would.
fn lines(text: &str) -> BTreeMap<i64, Vec<String>> {
    let first = text.lines().next().unwrap_or_default();
    assert_eq!(first, HEADER, "{text}");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(r.len(), 13, "{r:?}");
            let cells: Vec<String> = r.iter().map(str::to_owned).collect();
            (cells[0].parse().unwrap(), cells)
        })
        .collect()
}

/// Every node name of a `network.json` tree.
fn node_names(tree: &Value, into: &mut BTreeSet<String>) {
    for (name, node) in tree.as_object().unwrap() {
        assert!(node["downloadBandwidthMbps"].is_u64(), "{node}");
        assert!(node["uploadBandwidthMbps"].is_u64(), "{node}");
        into.insert(name.clone());
        if let Some(children) = node.get("children") {
            node_names(children, into);
        }
    }
}

async fn an_admin_exports_its_customers_in_service_with_their_addresses(backend: Backend) {
    let app = spawn(backend).await;
    let w = world(&app).await;
    let id = |user: &str| w.customers[user];

    let (status, kind, text) = fetch(&app, &w.admin, "/api/v1/libreqos/shaped-devices.csv").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(kind.starts_with("text/csv"), "{kind}");
    let rows = lines(&text);
    let shaped: BTreeSet<i64> = rows.keys().copied().collect();
    let expected: BTreeSet<i64> = ["fixed", "alice", "hostile", "opcust"]
        .into_iter()
        .map(id)
        .collect();
    assert_eq!(shaped, expected, "{text}");

    let fixed = &rows[&id("fixed")];
    assert_eq!(fixed[6], w.static_ip, "{fixed:?}");
    assert_eq!(fixed[6], "10.20.0.7", "{fixed:?}");
    assert_eq!(fixed[4], "test-nas", "{fixed:?}");
    assert_eq!(&fixed[8..12], ["1", "1", "50", "10"], "{fixed:?}");
    assert_eq!(fixed[12], "Home 50M", "{fixed:?}");

    let alice = &rows[&id("alice")];
    assert_eq!(alice[6], "10.10.0.9", "{alice:?}");
    assert_eq!(alice[3], "alice", "{alice:?}");
    assert_eq!(alice[4], "Mirpur @ test-nas", "{alice:?}");
    assert_eq!(alice[5], "AA:BB:CC:00:11:22", "{alice:?}");
    assert_eq!(&alice[8..12], ["1", "1", "100", "20"], "{alice:?}");

    // A hostile name survives the round trip, neutralised: never read as a formula.
    let hostile = &rows[&id("hostile")];
    assert_eq!(hostile[1], format!("'{HOSTILE}"), "{hostile:?}");
    assert_eq!(hostile[4], "Mirpur", "{hostile:?}");
    assert_eq!(hostile[6], "10.10.0.10", "{hostile:?}");
    for cells in rows.values() {
        for cell in cells {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cells:?}");
        }
    }
    assert_eq!(
        rows[&id("opcust")][4],
        "",
        "no router, no zone: a generated parent node"
    );

    // The tree holds every Parent Node the CSV names.
    let (status, _, json_text) = fetch(&app, &w.admin, "/api/v1/libreqos/network.json").await;
    assert_eq!(status, StatusCode::OK, "{json_text}");
    let tree: Value = serde_json::from_str(&json_text).unwrap();
    let mut names = BTreeSet::new();
    node_names(&tree, &mut names);
    for cells in rows.values() {
        assert!(
            cells[4].is_empty() || names.contains(&cells[4]),
            "{} not in {json_text}",
            cells[4]
        );
    }
    let mirpur = &tree["test-nas"]["children"]["Dhaka @ test-nas"]["children"]["Mirpur @ test-nas"];
    assert_eq!(mirpur["downloadBandwidthMbps"], 10_000, "{json_text}");
    assert!(
        tree["Dhaka"]["children"]["Mirpur"].is_object(),
        "{json_text}"
    );

    // What was left out, and why.
    let (status, summary) = app.get("/api/v1/libreqos/summary", &w.admin).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["tenant_id"], w.isp.tenant, "{summary}");
    assert_eq!(summary["shaped"], 4, "{summary}");
    assert_eq!(summary["skipped"]["no_address"], 1, "{summary}");
    assert_eq!(summary["nodes"], names.len(), "{summary}");

    // Flat: no nodes, no Parent Node; the node bandwidth is the one asked for.
    let (_, flat) = app
        .get("/api/v1/libreqos/network.json?layout=flat", &w.admin)
        .await;
    assert_eq!(flat, json!({}));
    let (_, _, text) = fetch(
        &app,
        &w.admin,
        "/api/v1/libreqos/shaped-devices.csv?layout=flat",
    )
    .await;
    assert!(
        lines(&text).values().all(|cells| cells[4].is_empty()),
        "{text}"
    );
    let (_, tree) = app
        .get("/api/v1/libreqos/network.json?node_mbps=2500", &w.admin)
        .await;
    assert_eq!(tree["test-nas"]["uploadBandwidthMbps"], 2500, "{tree}");
    let (_, _, doc) = fetch(&app, &w.admin, "/api/v1/openapi.json").await;
    let doc: Value = serde_json::from_str(&doc).unwrap();
    for path in ["shaped-devices.csv", "network.json", "summary"] {
        let documented = &doc["paths"][format!("/api/v1/libreqos/{path}")]["get"];
        assert_eq!(documented["tags"][0], "libreqos", "{path}: {documented}");
    }
    for bad in ["layout=mesh", "node_mbps=0", "colour=red"] {
        let (status, body) = app
            .get(&format!("/api/v1/libreqos/network.json?{bad}"), &w.admin)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
}

async fn each_caller_exports_only_what_it_sees_and_others_are_refused(backend: Backend) {
    let app = spawn(backend).await;
    let w = world(&app).await;
    let dev = w.isp.dev.clone();
    let t = w.isp.tenant;

    // Another tenant with a customer of its own at the same static address.
    let other = api::tenant(&app, &dev, "Other ISP", "Asia/Dhaka", ("reject", None)).await;
    let (_, fixed_pool, home, _) = api::offer(&app, &dev, other, 30).await;
    let theirs = api::customer(
        &app,
        &dev,
        other,
        home,
        "theirs",
        json!({"static_ip": "10.40.0.7", "ip_pool_id": fixed_pool}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    app.user(
        &dev,
        json!({"email": "admin@other.example", "name": "Other", "role": "admin", "tenant_id": other}),
    )
    .await;
    let other_admin = app.login("admin@other.example", PASSWORD).await;
    let (status, _, text) = fetch(&app, &other_admin, "/api/v1/libreqos/shaped-devices.csv").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let ids: BTreeSet<i64> = lines(&text).keys().copied().collect();
    assert_eq!(ids, BTreeSet::from([theirs]), "{text}");
    let (status, _, text) = fetch(&app, &w.admin, "/api/v1/libreqos/shaped-devices.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!lines(&text).contains_key(&theirs), "{text}");
    let (status, body) = app
        .get(
            &format!("/api/v1/libreqos/network.json?tenant_id={other}"),
            &w.admin,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // The operator: its own customer only.
    let op = app.login("op@lq.example", PASSWORD).await;
    let (status, _, text) = fetch(&app, &op, "/api/v1/libreqos/shaped-devices.csv").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let ids: BTreeSet<i64> = lines(&text).keys().copied().collect();
    assert_eq!(ids, BTreeSet::from([w.customers["opcust"]]), "{text}");

    // Roles without the right to: 403; a Manager granted it: 200.
    let staff = |email: &'static str, role: &'static str, permissions: Value| json!({"email": email, "name": role, "role": role, "tenant_id": t, "permissions": permissions});
    app.user(&dev, staff("acc@lq.example", "accountant", json!([])))
        .await;
    app.user(
        &dev,
        staff("staff@lq.example", "staff", json!(["view_customers"])),
    )
    .await;
    app.user(
        &dev,
        staff(
            "mgr@lq.example",
            "manager",
            json!(["manage_network", "view_customers"]),
        ),
    )
    .await;
    for email in ["acc@lq.example", "staff@lq.example"] {
        let token = app.login(email, PASSWORD).await;
        for path in [
            "/api/v1/libreqos/shaped-devices.csv",
            "/api/v1/libreqos/network.json",
            "/api/v1/libreqos/summary",
        ] {
            let (status, body) = app.get(path, &token).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{email} {path}: {body}");
        }
    }
    let manager = app.login("mgr@lq.example", PASSWORD).await;
    let (status, summary) = app.get("/api/v1/libreqos/summary", &manager).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["shaped"], 4, "{summary}");

    // The Developer names the tenant.
    let (status, body) = app.get("/api/v1/libreqos/summary", &dev).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "required", "{body}");
    let (status, summary) = app
        .get(&format!("/api/v1/libreqos/summary?tenant_id={other}"), &dev)
        .await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["shaped"], 1, "{summary}");
}

async fn the_command_writes_both_files_in_place(backend: Backend) {
    let app = spawn(backend).await;
    let w = world(&app).await;
    let out = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_lastmile"));
        command
            .arg("libreqos")
            .arg("--out")
            .arg(out.path())
            .arg("--data-dir")
            .arg(&app.config.data_dir)
            .args(extra);
        if !app.config.database_url.is_empty() {
            command.arg("--database-url").arg(&app.config.database_url);
        }
        for (name, _) in std::env::vars() {
            if name.starts_with("LASTMILE_") || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        command.output().unwrap()
    };
    let done = run(&[]);
    let stdout = String::from_utf8_lossy(&done.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&done.stderr).into_owned();
    assert_eq!(done.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "tenant {}: 4 shaped, 1 left out (no address 1",
            w.isp.tenant
        )),
        "{stdout}"
    );
    let text = std::fs::read_to_string(out.path().join("ShapedDevices.csv")).unwrap();
    let rows = lines(&text);
    assert_eq!(rows.len(), 4, "{text}");
    let tree: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("network.json")).unwrap())
            .unwrap();
    let mut names = BTreeSet::new();
    node_names(&tree, &mut names);
    assert!(
        rows.values()
            .all(|c| c[4].is_empty() || names.contains(&c[4]))
    );
    let left: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 2, "no temporary file stays: {left:?}");

    // With two tenants it asks which; named, it writes that one.
    let dev = w.isp.dev.clone();
    let other = api::tenant(&app, &dev, "Other ISP", "Asia/Dhaka", ("reject", None)).await;
    let refused = run(&[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--tenant"));
    let named = run(&["--tenant", &other.to_string(), "--layout", "flat"]);
    assert_eq!(named.status.code(), Some(0), "{named:?}");
    let text = std::fs::read_to_string(out.path().join("ShapedDevices.csv")).unwrap();
    assert!(lines(&text).is_empty(), "{text}");
    let tree = std::fs::read_to_string(out.path().join("network.json")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&tree).unwrap(), json!({}));
}

both_backends!(
    an_admin_exports_its_customers_in_service_with_their_addresses,
    each_caller_exports_only_what_it_sees_and_others_are_refused,
    the_command_writes_both_files_in_place,
);
