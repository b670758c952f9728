//! lastmile's built-in RADIUS server (`aaa::server`), driven by `radclient` and `radtest`
//! (FreeRADIUS's own tools) as the NAS, on SQLite and PostgreSQL:
//!
//! - the differential test: the same customers asked of a real FreeRADIUS 3.2 serving
//!   lastmile's projection and of the built-in server, every reply compared (PAP, CHAP,
//!   MS-CHAP; active, static, disabled, suspended under each policy, expired, MAC-bound,
//!   with devices bound at the captive portal (bound, added, removed), unknown, wrong
//!   password);
//! - a change made through the API reaches the next request without a restart (a
//!   customer's status, a router's secret and address, a tenant's archive);
//! - what the server drops: unknown sources, the wrong secret, a missing
//!   Message-Authenticator (unless the router's own switch lets it through), malformed and
//!   oversized datagrams, each counted by reason in `/metrics`; a router of one tenant
//!   cannot log in another's customers;
//! - every method (MS-CHAPv2 through `lastmile radius test`, which checks the server's
//!   MS-CHAP2-Success) and Status-Server on both ports.
//!
//! Accounting and simultaneous sessions are `radius_accounting.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_builtin;
mod support_freeradius;

use serde_json::{Value, json};
use support::{Backend, TestApp, spawn};
use support_freeradius::FreeRadius;
use support_freeradius::api::{self, Isp};
use support_freeradius::checks::{column, radpostauth_holds_no_password};
use support_freeradius::nas::Nas;

use support_builtin::{ACCEPT, REJECT, acct_port, compare, port, same_answer};

/// Both servers, by every method the tools speak, for `user` with `password`.
fn same_by_every_method(app: &TestApp, radius: &FreeRadius, isp: &Isp, user: &str, password: &str) {
    same_answer(
        app,
        radius,
        isp,
        &[("User-Name", user), ("User-Password", password)],
        &format!("{user}: PAP"),
    );
    same_answer(
        app,
        radius,
        isp,
        &[("User-Name", user), ("CHAP-Password", password)],
        &format!("{user}: CHAP"),
    );
    let theirs = Nas.radtest_at(radius.auth_port, "mschap", &isp.secret, user, password);
    let ours = Nas.radtest_at(port(app), "mschap", &isp.secret, user, password);
    compare(
        radius,
        &theirs,
        &ours,
        &format!("{user}: MS-CHAP (radtest)"),
    );
}

async fn customers_of(app: &TestApp, isp: &Isp) -> Vec<(&'static str, Value)> {
    let (dev, t) = (isp.dev.as_str(), isp.tenant);
    let past = app.clock().now() - chrono::TimeDelta::hours(2);
    let mut made = Vec::new();
    for (name, package, extra) in [
        ("alice", isp.home, json!({"billing_type": "prepaid"})),
        (
            "bob",
            isp.home,
            json!({"billing_type": "postpaid", "static_ip": "10.20.0.5", "ip_pool_id": isp.static_pool}),
        ),
        ("carol", isp.home, json!({"status": "disabled"})),
        ("dave", isp.home, json!({"status": "suspended"})),
        (
            "erin",
            isp.home,
            json!({"billing_type": "prepaid", "expires_at": past}),
        ),
        ("frank", isp.fast, json!({"mac": "AA:BB:CC:00:11:22"})),
        ("gina", isp.fast, json!({"billing_type": "postpaid"})),
    ] {
        made.push((name, api::customer(app, dev, t, package, name, extra).await));
    }
    made
}

async fn the_built_in_server_answers_as_freeradius_does(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let customers = customers_of(&app, &isp).await;
    let radius = FreeRadius::start(&app).await;

    for (name, _) in &customers {
        same_by_every_method(&app, &radius, &isp, name, &format!("{name}-pw1"));
    }
    same_by_every_method(&app, &radius, &isp, "alice", "wrong-pw");
    same_by_every_method(&app, &radius, &isp, "nobody", "nobody-pw1");
    same_by_every_method(&app, &radius, &isp, "ALICE", "alice-pw1");
    // Bound to a MAC: the right one, another one.
    for mac in ["AA:BB:CC:00:11:22", "AA:BB:CC:00:11:23"] {
        let code = same_answer(
            &app,
            &radius,
            &isp,
            &[
                ("User-Name", "frank"),
                ("User-Password", "frank-pw1"),
                ("Calling-Station-Id", mac),
            ],
            &format!("frank from {mac}"),
        );
        let expected = if mac.ends_with("22") { ACCEPT } else { REJECT };
        assert_eq!(code, expected, "frank from {mac}");
    }
    // Devices bound at the captive portal: only they sign in, on both servers, from the
    // commit that binds or removes one.
    let (status, hotspot) = app
        .post(
            "/api/v1/packages",
            &isp.dev,
            json!({"tenant_id": isp.tenant, "name": "Hotspot Day", "connection_type": "hotspot",
                   "download_kbps": 5000, "upload_kbps": 2000, "validity_days": 1,
                   "price": 2000, "ip_pool_id": isp.pool}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{hotspot}");
    let hana = api::customer(
        &app,
        &isp.dev,
        isp.tenant,
        hotspot["id"].as_i64().unwrap(),
        "hana",
        json!({"connection_type": "hotspot", "billing_type": "postpaid"}),
    )
    .await;
    let hana_id = hana["id"].as_i64().unwrap();
    let (_, routers) = app.get("/api/v1/routers", &isp.dev).await;
    let router = routers["items"][0]["id"].as_i64().unwrap();
    let from = |mac: &'static str| {
        let mut attrs = vec![("User-Name", "hana"), ("User-Password", "hana-pw1")];
        if !mac.is_empty() {
            attrs.push(("Calling-Station-Id", mac));
        }
        attrs
    };
    let ask = |mac: &'static str, expected: &str, what: &str| {
        let code = same_answer(&app, &radius, &isp, &from(mac), &format!("hana {what}"));
        assert_eq!(code, expected, "hana {what}");
    };
    ask("02:00:00:00:AA:01", ACCEPT, "bound to no device, from any");
    let mut bound = Vec::new();
    for mac in ["02:00:00:00:AA:01", "0A:1B:2C:3D:4E:5F"] {
        let mut w = app
            .state
            .db
            .write(store::Author::system("test"), app.clock().now())
            .await
            .unwrap();
        let device = store::hotspot::bind(
            &mut w,
            &store::hotspot::NewDevice {
                tenant: domain::ids::TenantId(isp.tenant),
                customer_id: hana_id,
                mac,
                randomised: false,
                label: "phone",
                router_id: router,
            },
        )
        .await
        .unwrap();
        w.commit().await.unwrap();
        bound.push(device.id);
    }
    ask("02:00:00:00:AA:01", ACCEPT, "from a bound device");
    ask("0A:1B:2C:3D:4E:5F", ACCEPT, "from the other bound device");
    ask("02:00:00:00:AA:02", REJECT, "from a device not bound");
    ask("", REJECT, "without a Calling-Station-Id");
    let mut w = app
        .state
        .db
        .write(store::Author::system("test"), app.clock().now())
        .await
        .unwrap();
    store::hotspot::revoke(&mut w, hana_id, bound[0])
        .await
        .unwrap()
        .unwrap();
    w.commit().await.unwrap();
    ask("02:00:00:00:AA:01", REJECT, "from the device removed");
    ask("0A:1B:2C:3D:4E:5F", ACCEPT, "from the device still bound");

    // The accepted ones are accepted for the right reasons.
    let alice = Nas.auth_at(
        port(&app),
        &isp.secret,
        &[("User-Name", "alice"), ("User-Password", "alice-pw1")],
    );
    radius.expect(&alice, ACCEPT, "alice by the built-in server");
    assert_eq!(alice.get("Mikrotik-Rate-Limit"), Some("10M/50M"));
    assert_eq!(alice.get("Mikrotik-Total-Limit-Gigawords"), Some("1"));
    assert_eq!(
        alice.get("Acct-Interim-Interval"),
        Some("300"),
        "the interval asked for"
    );

    // Each suspension policy, reached by a tenant's change (a converge of its customers).
    for policy in [
        json!({"suspension_policy": "pool", "suspension_target": "walled-garden"}),
        json!({"suspension_policy": "address_list", "suspension_target": "overdue"}),
    ] {
        let (_, tenant) = app
            .get(&format!("/api/v1/tenants/{}", isp.tenant), &isp.dev)
            .await;
        let mut body = policy.clone();
        body["version"] = tenant["version"].clone();
        let (status, changed) = app
            .patch(&format!("/api/v1/tenants/{}", isp.tenant), &isp.dev, body)
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{changed}");
        let code = same_answer(
            &app,
            &radius,
            &isp,
            &[("User-Name", "dave"), ("User-Password", "dave-pw1")],
            &format!("dave, suspended, under {policy}"),
        );
        assert_eq!(code, ACCEPT, "{policy}");
    }
}

async fn changes_reach_the_next_request(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let customers = customers_of(&app, &isp).await;
    // Started without FreeRADIUS: the tools alone, as the NAS.
    let nas = Nas;
    let login = |secret: &str, user: &str, password: &str| {
        nas.auth_at(
            port(&app),
            secret,
            &[("User-Name", user), ("User-Password", password)],
        )
    };
    nas.expect(&login(&isp.secret, "alice", "alice-pw1"), ACCEPT, "alice");

    // A customer disabled, then enabled with a new password and speed.
    let alice = &customers[0].1;
    api::act(&app, &isp.dev, alice, "disable").await;
    nas.expect(
        &login(&isp.secret, "alice", "alice-pw1"),
        REJECT,
        "disabled",
    );
    api::change(
        &app,
        &isp.dev,
        alice,
        json!({"status": "active", "password": "alice-pw2", "package_id": isp.fast}),
    )
    .await;
    nas.expect(
        &login(&isp.secret, "alice", "alice-pw1"),
        REJECT,
        "the old password",
    );
    let reply = login(&isp.secret, "alice", "alice-pw2");
    nas.expect(&reply, ACCEPT, "the new password");
    assert_eq!(reply.get("Mikrotik-Rate-Limit"), Some("20M/100M"));

    // A customer created now is known at once; one archived is not.
    let (status, _) = app
        .delete(
            &format!("/api/v1/customers/{}", customers[1].1["id"]),
            &isp.dev,
        )
        .await;
    assert!(status.is_success(), "{status}");
    nas.expect(&login(&isp.secret, "bob", "bob-pw1"), REJECT, "archived");
    api::customer(&app, &isp.dev, isp.tenant, isp.home, "hana", json!({})).await;
    nas.expect(
        &login(&isp.secret, "hana", "hana-pw1"),
        ACCEPT,
        "created just now",
    );

    // The router's secret changed: the old one gets no answer at all.
    change_router(&app, &isp, json!({"secret": "a-new-secret-0123456789"})).await;
    let old = login(&isp.secret, "hana", "hana-pw1");
    assert_eq!(old.code, None, "the old secret is dropped:\n{}", old.raw);
    nas.expect(
        &login("a-new-secret-0123456789", "hana", "hana-pw1"),
        ACCEPT,
        "the new secret",
    );

    // The router moved to another address: 127.0.0.1 is no longer a client.
    change_router(&app, &isp, json!({"nas_address": "192.0.2.10"})).await;
    let gone = login("a-new-secret-0123456789", "hana", "hana-pw1");
    assert_eq!(gone.code, None, "no client at this address:\n{}", gone.raw);

    // Every answer was logged (after it was sent), without a password.
    let logged = || async { column(&app, "SELECT username FROM radpostauth").await.len() };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while logged().await < 7 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        logged().await,
        7,
        "one row per answer, none for the dropped"
    );
    radpostauth_holds_no_password(&app).await;
}

/// Changes the ISP's router (PATCH at its current version).
async fn change_router(app: &TestApp, isp: &Isp, mut changes: Value) {
    let (_, routers) = app
        .get(
            &format!("/api/v1/routers?tenant_id={}", isp.tenant),
            &isp.dev,
        )
        .await;
    let router = &routers["items"][0];
    changes["version"] = router["version"].clone();
    let (status, changed) = app
        .patch(
            &format!("/api/v1/routers/{}", router["id"]),
            &isp.dev,
            changes,
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{changed}");
}

async fn what_the_server_drops(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    api::customer(&app, &isp.dev, isp.tenant, isp.home, "alice", json!({})).await;
    // Another tenant with a router of its own, at another address, and a customer.
    let other = api::tenant(&app, &isp.dev, "Other ISP", "Asia/Dhaka", ("reject", None)).await;
    let (_, _, other_home, _) = api::offer(&app, &isp.dev, other, 40).await;
    api::customer(&app, &isp.dev, other, other_home, "oscar", json!({})).await;
    let nas = Nas;
    let pap = [("User-Name", "alice"), ("User-Password", "alice-pw1")];

    let wrong = nas.auth_at(port(&app), "testing123", &pap);
    assert_eq!(wrong.code, None, "the wrong secret:\n{}", wrong.raw);
    let bare = nas.bare_at(port(&app), &isp.secret, &pap);
    assert_eq!(bare.code, None, "no Message-Authenticator:\n{}", bare.raw);
    nas.expect(&nas.auth_at(port(&app), &isp.secret, &pap), ACCEPT, "alice");
    let oscar = nas.auth_at(
        port(&app),
        &isp.secret,
        &[("User-Name", "oscar"), ("User-Password", "oscar-pw1")],
    );
    nas.expect(
        &oscar,
        REJECT,
        "another tenant's customer through this router",
    );

    // Each drop is counted, by reason, in the metrics (brought up to date every second).
    let counted = |metrics: &str, outcome: &str| {
        let line =
            format!("lastmile_radius_packets_total{{server=\"auth\",outcome=\"{outcome}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(line.as_str()))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let metrics = app
            .http
            .get(format!("{}/metrics", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let (bad, bare, replied) = (
            counted(&metrics, "dropped_bad_authenticator"),
            counted(&metrics, "dropped_missing_message_authenticator"),
            counted(&metrics, "replied"),
        );
        if (bad, bare) == (1, 1) && replied >= 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "drops not counted ({bad}, {bare}, {replied}):\n{metrics}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // A router too old to send Message-Authenticator, let through by its own switch.
    // A router's change reaches the server without a restart, within moments: each side
    // is asked until it shows (or five seconds pass).
    change_router(&app, &isp, json!({"require_message_authenticator": false})).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut bare = nas.bare_at(port(&app), &isp.secret, &pap);
    while bare.code.is_none() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        bare = nas.bare_at(port(&app), &isp.secret, &pap);
    }
    nas.expect(
        &bare,
        ACCEPT,
        "no Message-Authenticator, from a router let through",
    );
    change_router(&app, &isp, json!({"require_message_authenticator": true})).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut bare = nas.bare_at(port(&app), &isp.secret, &pap);
    while bare.code.is_some() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        bare = nas.bare_at(port(&app), &isp.secret, &pap);
    }
    assert_eq!(bare.code, None, "required again:\n{}", bare.raw);

    // A tenant archived: its router is no longer a client.
    let (status, body) = app
        .delete(&format!("/api/v1/tenants/{}", isp.tenant), &isp.dev)
        .await;
    assert!(status.is_success(), "{status} {body}");
    let archived = nas.auth_at(port(&app), &isp.secret, &pap);
    assert_eq!(
        archived.code, None,
        "an archived tenant's router:\n{}",
        archived.raw
    );
}

async fn every_method_status_server_and_hostile_datagrams(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    api::customer(&app, &isp.dev, isp.tenant, isp.home, "alice", json!({})).await;
    let server = format!("127.0.0.1:{}", port(&app));
    // MS-CHAPv2 (which radtest does not speak) through lastmile's own client, which checks
    // the server's MS-CHAP2-Success; the other methods through it too.
    for method in ["pap", "chap", "mschapv1", "mschapv2"] {
        for (password, code, answer) in [
            ("alice-pw1", Some(0), "Received Access-Accept"),
            ("wrong-pw", Some(1), "Received Access-Reject"),
        ] {
            let run = support_freeradius::lastmile(&[
                "radius",
                "test",
                "auth",
                "--server",
                &server,
                "--secret",
                &isp.secret,
                "--user",
                "alice",
                "--password",
                password,
                "--method",
                method,
                "--timeout",
                "2",
            ]);
            assert_eq!(
                run.code, code,
                "{method} {password}:\n{}{}",
                run.stdout, run.stderr
            );
            assert!(run.stdout.contains(answer), "{method}: {}", run.stdout);
            if method == "mschapv2" && code == Some(0) {
                for key in ["MS-CHAP2-Success", "MS-MPPE-Send-Key", "MS-MPPE-Recv-Key"] {
                    assert!(run.stdout.contains(key), "{key}: {}", run.stdout);
                }
            }
        }
    }
    // Status-Server, on both ports.
    for status_port in [port(&app), acct_port(&app)] {
        let reply = Nas.status_at(status_port, &isp.secret);
        assert!(
            reply.code.is_some(),
            "Status-Server on {status_port}: {}",
            reply.raw
        );
    }
    // Hostile datagrams from a known router: dropped, and the server goes on answering.
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    let to = format!("127.0.0.1:{}", port(&app));
    let mut huge = vec![1u8, 7, 0x13, 0x88];
    huge.resize(5000, 0xAB);
    let mut lying = vec![1u8, 8, 0x10, 0x00]; // says 4096 bytes, holds 20
    lying.resize(20, 0);
    let mut attribute_overrun = vec![1u8, 9, 0, 24];
    attribute_overrun.resize(20, 0);
    attribute_overrun.extend_from_slice(&[1, 200, b'a', b'b']); // an attribute longer than the packet
    for datagram in [
        Vec::new(),
        vec![1u8],
        vec![1u8, 2, 0, 4],
        huge,
        lying,
        attribute_overrun,
        (0..=255u8).collect::<Vec<_>>(),
    ] {
        socket.send_to(&datagram, &to).unwrap();
        let mut buf = [0u8; 4096];
        assert!(
            socket.recv_from(&mut buf).is_err(),
            "no answer to a malformed datagram of {} bytes",
            datagram.len()
        );
    }
    Nas.expect(
        &Nas.auth_at(
            port(&app),
            &isp.secret,
            &[("User-Name", "alice"), ("User-Password", "alice-pw1")],
        ),
        ACCEPT,
        "still answering",
    );
}

on_both_backends!(
    the_built_in_server_answers_as_freeradius_does,
    changes_reach_the_next_request,
    what_the_server_drops,
    every_method_status_server_and_hostile_datagrams,
);
