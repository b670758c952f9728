//! VPN accounts (`domain::vpn`) through the API, the panel, a real FreeRADIUS 3.2, lastmile's
//! own RADIUS server and the simulated router over TCP: an account's credentials open a
//! tunnel on its VPN router only (never a subscriber line on an access router), with its
//! address and speed, and stop at once when it is switched off or deleted; the VPN router
//! gets the tunnel server and one `dst-nat` rule per account, found by the account's own
//! comment, so that a second run changes nothing and deleting one account removes its rule
//! and no other; `lastmile radius verify` watches the accounts' rows; a customer cannot take
//! an account's name.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_builtin;
mod support_freeradius;

use reqwest::StatusCode;
use routeros::sim::{Faults, Group, SimConfig, SimRouter};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};
use support::customers::{reach_router, wait_for_job};
use support::panel::Visitor;
use support::{Backend, TestApp, spawn};
use support_freeradius::{FreeRadius, api};

/// The VPN router's RADIUS address and secret (any 127.0.0.0/8 address works on loopback).
const VPN_NAS: (&str, &str) = ("127.0.0.31", "vpn-router-key-1234");

/// A PAP login of `user` sent from `source` with `secret` to the server on `port`: what was
/// received (`Received Access-Accept …` and the attributes), or why nothing was.
fn login_from(port: u16, source: &str, secret: &str, user: &str, password: &str) -> String {
    let server = format!("127.0.0.1:{port}");
    let run = support_freeradius::lastmile(&[
        "radius",
        "test",
        "auth",
        "--server",
        &server,
        "--source",
        source,
        "--secret",
        secret,
        "--user",
        user,
        "--password",
        password,
        "--timeout",
        "1",
        "--retries",
        "2",
    ]);
    match run.stdout.find("Received") {
        Some(at) => run.stdout[at..].to_owned(),
        None => format!("no answer: {}", run.stderr.trim()),
    }
}

async fn post(app: &TestApp, dev: &str, path: &str, body: Value) -> Value {
    let (status, created) = app.post(path, dev, body).await;
    assert!(status.is_success(), "{path}: {status} {created}");
    created
}

/// The tenant's VPN pool and its server on router `router`; the server's id.
async fn server(app: &TestApp, dev: &str, tenant: i64, router: i64, host: &str) -> Value {
    let pool = post(
        app,
        dev,
        "/api/v1/ip-pools",
        json!({"tenant_id": tenant, "name": "vpn", "ranges": "10.99.0.0/24"}),
    )
    .await;
    post(
        app,
        dev,
        "/api/v1/vpn-servers",
        json!({"router_id": router, "public_host": host, "pool_id": pool["id"],
               "local_address": "10.99.0.1"}),
    )
    .await
}

async fn account(app: &TestApp, dev: &str, server: i64, extra: Value) -> Value {
    let mut body = json!({"server_id": server});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    post(app, dev, "/api/v1/vpn-accounts", body).await
}

async fn a_vpn_account_is_served_from_its_vpn_router_only(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let dev = isp.dev.clone();
    let alice = api::customer(&app, &dev, isp.tenant, isp.home, "alice", json!({})).await;
    let vpn_router = post(
        &app,
        &dev,
        "/api/v1/routers",
        json!({"tenant_id": isp.tenant, "name": "vpn-gw", "nas_address": VPN_NAS.0,
               "secret": VPN_NAS.1, "api_address": "127.0.0.1", "api_port": 1,
               "api_user": "lastmile", "api_password": "api-pass-1"}),
    )
    .await;
    let created = server(
        &app,
        &dev,
        isp.tenant,
        vpn_router["id"].as_i64().unwrap(),
        "vpn.example.net",
    )
    .await;
    let server_id = created["server"]["id"].as_i64().unwrap();
    assert_eq!(created["server"]["protocol"], "l2tp_ipsec", "{created}");
    assert_eq!(created["server"]["port_first"], 5001, "{created}");

    let first = account(
        &app,
        &dev,
        server_id,
        json!({"customer_id": alice["id"], "label": "alice's hAP"}),
    )
    .await;
    let second = account(&app, &dev, server_id, json!({"label": "tower 7"})).await;
    assert_eq!(
        first["account"]["address"], "10.99.0.2",
        "the router's own end is left aside: {first}"
    );
    assert_eq!(first["account"]["port"], 5001, "{first}");
    assert_eq!(second["account"]["address"], "10.99.0.3", "{second}");
    assert_eq!(second["account"]["port"], 5002, "{second}");
    let setup = &first["setup"];
    let (user, password) = (
        setup["username"].as_str().unwrap(),
        setup["password"].as_str().unwrap(),
    );
    assert!(user.starts_with("lmvpn-"), "{setup}");
    assert_eq!(setup["winbox"], "vpn.example.net:5001", "{setup}");
    assert!(
        setup["script"].as_str().unwrap().contains("use-ipsec=yes"),
        "{setup}"
    );
    let (status, again) = app
        .get(
            &format!("/api/v1/vpn-accounts/{}/setup", first["account"]["id"]),
            &dev,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["password"], password, "the setup can be read again");
    let (_, listed) = app
        .get(&format!("/api/v1/vpn-accounts?server_id={server_id}"), &dev)
        .await;
    assert_eq!(listed["total"], 2, "{listed}");
    assert!(
        listed.to_string().find(password).is_none(),
        "a list never shows passwords"
    );

    // An operator of the tenant runs no network: it sees no account and makes none.
    let operator = app
        .user(
            &dev,
            json!({"email": "op@x.example", "name": "op", "role": "operator", "tenant_id": isp.tenant}),
        )
        .await;
    assert!(operator > 0);
    let op = app.login("op@x.example", support::PASSWORD).await;
    let (_, seen) = app.get("/api/v1/vpn-accounts", &op).await;
    assert_eq!(seen["total"], 0, "{seen}");
    let (status, _) = app
        .get(
            &format!("/api/v1/vpn-accounts/{}/setup", first["account"]["id"]),
            &op,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, refused) = app
        .post("/api/v1/vpn-accounts", &op, json!({"server_id": server_id}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");

    // Both RADIUS servers: accepted from the VPN router with its address and speed; refused
    // from the access router (the credentials open no subscriber line).
    let radius = FreeRadius::start(&app).await;
    let builtin = support_builtin::port(&app);
    for (port, what) in [(radius.auth_port, "FreeRADIUS"), (builtin, "built-in")] {
        let from_vpn = login_from(port, VPN_NAS.0, VPN_NAS.1, user, password);
        assert!(
            from_vpn.starts_with("Received Access-Accept"),
            "{what}: {from_vpn}\n{}",
            radius.tail()
        );
        assert!(
            from_vpn.contains("Framed-IP-Address = 10.99.0.2"),
            "{what}: {from_vpn}"
        );
        assert!(from_vpn.contains("5120k/5120k"), "{what}: {from_vpn}");
        let from_access = login_from(port, "127.0.0.1", &isp.secret, user, password);
        assert!(
            from_access.starts_with("Received Access-Reject"),
            "{what}: {from_access}"
        );
        let wrong = login_from(port, VPN_NAS.0, VPN_NAS.1, user, "guessed");
        assert!(
            wrong.starts_with("Received Access-Reject"),
            "{what}: {wrong}"
        );
    }

    // Switched off: refused at once by both; on again: accepted.
    let path = format!("/api/v1/vpn-accounts/{}", first["account"]["id"]);
    post(&app, &dev, &format!("{path}/disable"), json!({})).await;
    for port in [radius.auth_port, builtin] {
        let off = login_from(port, VPN_NAS.0, VPN_NAS.1, user, password);
        assert!(off.starts_with("Received Access-Reject"), "{off}");
    }
    post(&app, &dev, &format!("{path}/enable"), json!({})).await;
    for port in [radius.auth_port, builtin] {
        let on = login_from(port, VPN_NAS.0, VPN_NAS.1, user, password);
        assert!(on.starts_with("Received Access-Accept"), "{on}");
    }

    // `radius verify` compares the accounts' rows too, and repairs them.
    let verify = |fix: bool| support_freeradius::checks::radius_verify(&app, fix);
    let clean = verify(false);
    assert_eq!(clean.code, Some(0), "{clean:?}");
    assert!(clean.stdout.contains("2 VPN accounts checked"), "{clean:?}");
    let first_id = first["account"]["id"].as_i64().unwrap();
    app.state
        .db
        .conn()
        .execute_unprepared(&format!(
            "UPDATE radreply SET value = '10.99.0.200' WHERE vpn_account_id = {first_id} \
             AND attribute = 'Framed-IP-Address'"
        ))
        .await
        .unwrap();
    let drift = verify(false);
    assert_ne!(drift.code, Some(0), "{drift:?}");
    assert!(
        drift.stdout.contains(&format!("vpn account {first_id} ")),
        "{drift:?}"
    );
    let fixed = verify(true);
    assert!(fixed.stdout.contains("(repaired)"), "{fixed:?}");
    assert_eq!(verify(false).code, Some(0));

    // Deleted: refused everywhere; its rows gone, the other account's kept.
    let (status, _) = app.delete(&path, &dev).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    for port in [radius.auth_port, builtin] {
        let gone = login_from(port, VPN_NAS.0, VPN_NAS.1, user, password);
        assert!(gone.starts_with("Received Access-Reject"), "{gone}");
    }
    let (_, listed) = app.get("/api/v1/vpn-accounts", &dev).await;
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(verify(false).code, Some(0), "no stray rows once deleted");

    // A customer cannot take a VPN account's name; a bad server is refused field by field.
    let (status, refused) = app
        .post(
            "/api/v1/customers",
            &dev,
            json!({"tenant_id": isp.tenant, "package_id": isp.home, "connection_type": "pppoe",
                   "name": "x", "username": user.to_uppercase(), "password": "some-pw-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(
        refused["error"]["fields"][0]["code"], "reserved_username",
        "{refused}"
    );
    let (status, refused) = app
        .post(
            "/api/v1/vpn-servers",
            &dev,
            json!({"router_id": vpn_router["id"], "public_host": "not a host", "pool_id": 1,
                   "local_address": "10.99.0.1", "protocol": "openvpn", "port_first": 80}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let codes: Vec<&str> = refused["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for field in ["public_host", "protocol", "port_first"] {
        assert!(codes.contains(&field), "{field}: {refused}");
    }
}

/// A router `sim` stands for, provisioned (it sends PPP logins to lastmile).
async fn provisioned(app: &TestApp, isp: &support::customers::Isp, sim: &SimRouter) {
    // The tenant's suspension policy names this pool.
    post(
        app,
        &isp.dev,
        "/api/v1/ip-pools",
        json!({"tenant_id": isp.tenant, "name": "suspended", "ranges": "100.65.96.0/20"}),
    )
    .await;
    reach_router(app, isp, sim.address().port()).await;
    let (status, queued) = app
        .post(
            &format!("/api/v1/routers/{}/provision", isp.router),
            &isp.dev,
            json!({"dry_run": false, "radius_address": "198.51.100.10"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let job = wait_for_job(app, &isp.dev, queued["id"].as_i64().unwrap()).await;
    assert_eq!(job["status"], "done", "{job}");
}

async fn finished(app: &TestApp, dev: &str, job: &Value) -> Value {
    wait_for_job(app, dev, job["id"].as_i64().unwrap()).await
}

/// The NAT rules of the router: comment → the rule.
fn nat(sim: &SimRouter) -> Vec<routeros::Row> {
    sim.rows("/ip/firewall/nat").unwrap()
}

fn rule<'a>(rules: &'a [routeros::Row], comment: &str) -> Option<&'a routeros::Row> {
    rules
        .iter()
        .find(|r| r.text("comment").as_deref() == Some(comment))
}

async fn the_vpn_router_gets_one_rule_per_account_and_loses_only_a_deleted_ones(backend: Backend) {
    let app = spawn(backend).await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    // A port forward typed by hand, on a port lastmile will also use.
    sim.insert(
        "/ip/firewall/nat",
        &[
            ("chain", "dstnat"),
            ("action", "dst-nat"),
            ("protocol", "tcp"),
            ("dst-port", "5001"),
            ("to-addresses", "192.168.88.2"),
            ("comment", "camera"),
        ],
    )
    .unwrap();
    let isp = support::customers::isp(&app).await;
    let dev = isp.dev.clone();

    // Not provisioned yet: the set-up job refuses and changes nothing.
    reach_router(&app, &isp, sim.address().port()).await;
    let created = server(&app, &dev, isp.tenant, isp.router, "203.0.113.7").await;
    let server_id = created["server"]["id"].as_i64().unwrap();
    let job = finished(&app, &dev, &created["job"]).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["last_error"]
            .as_str()
            .unwrap()
            .contains("provision the router first"),
        "{job}"
    );
    let l2tp = sim.rows("/interface/l2tp-server/server").unwrap();
    assert_eq!(l2tp[0].text("enabled").as_deref(), Some("false"));

    provisioned(&app, &isp, &sim).await;
    let a = account(&app, &dev, server_id, json!({"label": "a"})).await;
    let job = finished(&app, &dev, &a["job"]).await;
    assert_eq!(job["status"], "done", "{job}");
    let b = account(&app, &dev, server_id, json!({"label": "b"})).await;
    let job = finished(&app, &dev, &b["job"]).await;
    assert_eq!(job["status"], "done", "{job}");
    let secret = a["setup"]["ipsec_secret"].as_str().unwrap().to_owned();
    assert!(
        !job.to_string().contains(&secret),
        "the IPsec key is hidden in results: {job}"
    );

    let l2tp = &sim.rows("/interface/l2tp-server/server").unwrap()[0];
    assert_eq!(l2tp.text("enabled").as_deref(), Some("true"));
    assert_eq!(l2tp.text("use-ipsec").as_deref(), Some("required"));
    assert_eq!(l2tp.text("ipsec-secret").as_deref(), Some(secret.as_str()));
    assert_eq!(
        l2tp.text("default-profile").as_deref(),
        Some("lastmile-vpn")
    );
    let profiles = sim.rows("/ppp/profile").unwrap();
    assert!(
        profiles
            .iter()
            .any(|p| p.text("name").as_deref() == Some("lastmile-vpn")
                && p.text("local-address").as_deref() == Some("10.99.0.1"))
    );
    let (id_a, id_b) = (
        a["account"]["id"].as_i64().unwrap(),
        b["account"]["id"].as_i64().unwrap(),
    );
    let rules = nat(&sim);
    let ra = rule(&rules, &format!("lastmile:vpn:{id_a}")).expect("a's rule");
    assert_eq!(ra.text("dst-port").as_deref(), Some("5001"));
    assert_eq!(ra.text("dst-address").as_deref(), Some("203.0.113.7"));
    assert_eq!(ra.text("to-addresses").as_deref(), Some("10.99.0.2"));
    assert_eq!(ra.text("to-ports").as_deref(), Some("8291"));
    assert!(rule(&rules, &format!("lastmile:vpn:{id_b}")).is_some());
    assert!(rule(&rules, "camera").is_some());
    assert_eq!(rules.len(), 3, "{rules:?}");

    // A second run plans nothing.
    let (status, queued) = app
        .post(
            &format!("/api/v1/vpn-servers/{server_id}/sync"),
            &dev,
            json!({"dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let plan = finished(&app, &dev, &queued).await;
    assert_eq!(plan["result"]["steps"], json!([]), "{plan}");

    // Switched off: its rule is kept, disabled; deleted: its rule goes, and no other.
    let switched = post(
        &app,
        &dev,
        &format!("/api/v1/vpn-accounts/{id_a}/disable"),
        json!({}),
    )
    .await;
    assert_eq!(
        finished(&app, &dev, &switched["job"]).await["status"],
        "done"
    );
    let rules = nat(&sim);
    assert_eq!(
        rule(&rules, &format!("lastmile:vpn:{id_a}"))
            .unwrap()
            .text("disabled")
            .as_deref(),
        Some("true")
    );
    // The router removes the rule but its answer is lost: the removal is undone (the rule
    // put back as it was), and the next run removes it.
    sim.set_faults(Faults {
        silent_on_command: Some("/ip/firewall/nat/remove".to_owned()),
        ..Faults::default()
    });
    let (status, queued) = app
        .delete(&format!("/api/v1/vpn-accounts/{id_a}"), &dev)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let job = finished(&app, &dev, &queued).await;
    sim.set_faults(Faults::default());
    assert_eq!(job["status"], "failed", "{job}");
    let error = job["last_error"].as_str().unwrap();
    assert!(error.contains("every step applied was undone"), "{job}");
    let rules = nat(&sim);
    let back = rule(&rules, &format!("lastmile:vpn:{id_a}")).expect("put back");
    assert_eq!(back.text("dst-port").as_deref(), Some("5001"));
    assert_eq!(back.text("to-addresses").as_deref(), Some("10.99.0.2"));
    assert_eq!(back.text("disabled").as_deref(), Some("true"));
    let (status, queued) = app
        .post(
            &format!("/api/v1/vpn-servers/{server_id}/sync"),
            &dev,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let job = finished(&app, &dev, &queued).await;
    assert_eq!(job["status"], "done", "{job}");
    let rules = nat(&sim);
    assert!(
        rule(&rules, &format!("lastmile:vpn:{id_a}")).is_none(),
        "{rules:?}"
    );
    assert!(
        rule(&rules, &format!("lastmile:vpn:{id_b}")).is_some(),
        "{rules:?}"
    );
    assert!(rule(&rules, "camera").is_some(), "{rules:?}");

    // The freed address and port go to the next account.
    let c = account(&app, &dev, server_id, json!({})).await;
    assert_eq!(c["account"]["address"], "10.99.0.2", "{c}");
    assert_eq!(c["account"]["port"], 5001, "{c}");
    assert_eq!(finished(&app, &dev, &c["job"]).await["status"], "done");

    // The panel: the page lists both, and a new account shows its set-up once made.
    let mut visitor = Visitor::signed_in(&app, "dev@example.com").await;
    let page = visitor.get("/panel/vpn").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for id in [
        "vpn-servers",
        "vpn-accounts",
        "vpn-account-form",
        "vpn-server-form",
    ] {
        assert!(page.has(&format!("id=\"{id}\"")), "{id}: {}", page.body);
    }
    assert!(page.has(b["account"]["username"].as_str().unwrap()));
    let made = visitor
        .submit(
            "/panel/vpn",
            "/panel/vpn/accounts",
            &[
                ("server_id", &server_id.to_string()),
                ("label", "from the panel"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert!(
        made.text_of("vpn-password").is_some_and(|p| p.len() == 24),
        "{}",
        made.body
    );
    assert!(
        made.text_of("vpn-winbox")
            .is_some_and(|w| w.starts_with("203.0.113.7:")),
        "{}",
        made.body
    );
    let refused = visitor
        .submit(
            "/panel/vpn",
            "/panel/vpn/servers",
            &[
                ("router_id", &isp.router.to_string()),
                ("public_host", "bad host"),
                ("local_address", "x"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.has("Not an IP address or a host name."),
        "{}",
        refused.body
    );
}

both_backends!(
    a_vpn_account_is_served_from_its_vpn_router_only,
    the_vpn_router_gets_one_rule_per_account_and_loses_only_a_deleted_ones,
);
