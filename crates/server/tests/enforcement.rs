//! The enforcement ladder ends a customer's live session, on SQLite and PostgreSQL: the
//! router's RADIUS side (a NAS on UDP answering Disconnect-Requests, as a router with
//! `/radius incoming accept=yes` does) and its API (the simulated RouterOS router over TCP).
//!
//! - a router that ACKs and sends the Stop: done on the Stop;
//! - a router that ACKs and keeps the session (seen in the field): no Stop follows, so the
//!   session is removed through the router's API (a hotspot subscriber's from the hotspot's
//!   active list), and done once the router no longer lists it; the customer is offline;
//! - a router that has no such session (NAK, Error-Cause 503): done at once, the row
//!   closed;
//! - suspending the customer ends its live session the same way; resuming ends nothing;
//! - every attempt recorded and shown (API and the customer's page); a customer without a
//!   live session is refused; a caller who cannot see the customer gets 404.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_builtin;
mod support_freeradius;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use radius::server::{Handler, NasClient, Request, Server, ServerConfig};
use radius::{Code, Packet, attrs};
use routeros::sim::{Group, SimConfig, SimRouter};
use serde_json::{Value, json};
use support::panel::Visitor;
use support::{Backend, PASSWORD, TestApp, spawn_with};
use support_builtin::{acct_port, acked};
use support_freeradius::api;
use support_freeradius::nas::Nas;

/// How the NAS answers a Disconnect-Request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// ACK, end the session and send its Stop (to lastmile's accounting port).
    AckAndStop,
    /// ACK and keep the session.
    AckAndKeep,
    /// NAK: no such session.
    NoSuchSession,
}

/// The NAS's RADIUS side: answers Disconnect-Requests as told, and counts them.
#[derive(Clone)]
struct Router {
    behaviour: Arc<Mutex<Behaviour>>,
    asked: Arc<Mutex<Vec<HashMap<String, String>>>>,
    acct: Arc<Mutex<Option<(u16, String)>>>,
}

impl Handler for Router {
    async fn handle(&self, request: Request) -> Option<Packet> {
        if request.packet.code != Code::DisconnectRequest {
            return None;
        }
        let p = &request.packet;
        let mut seen = HashMap::new();
        seen.insert(
            "User-Name".to_owned(),
            p.value(attrs::USER_NAME)
                .and_then(Result::ok)
                .unwrap_or_default(),
        );
        seen.insert(
            "Acct-Session-Id".to_owned(),
            p.value(attrs::ACCT_SESSION_ID)
                .and_then(Result::ok)
                .unwrap_or_default(),
        );
        seen.insert(
            "Framed-IP-Address".to_owned(),
            p.value(attrs::FRAMED_IP_ADDRESS)
                .and_then(Result::ok)
                .map(|ip| ip.to_string())
                .unwrap_or_default(),
        );
        self.asked.lock().unwrap().push(seen.clone());
        let behaviour = *self.behaviour.lock().unwrap();
        match behaviour {
            Behaviour::AckAndStop => {
                let (port, secret) = self.acct.lock().unwrap().clone().unwrap();
                let user = seen["User-Name"].clone();
                let session = seen["Acct-Session-Id"].clone();
                // The router's Stop, as it sends one when a session ends.
                tokio::task::spawn_blocking(move || {
                    acked(
                        &Nas.acct_at(
                            port,
                            &secret,
                            &[
                                ("User-Name", user.as_str()),
                                ("Acct-Status-Type", "Stop"),
                                ("Acct-Session-Id", session.as_str()),
                                ("NAS-Port", "7"),
                                ("NAS-Port-Type", "Ethernet"),
                                ("Acct-Session-Time", "300"),
                                ("Acct-Terminate-Cause", "Admin-Reset"),
                            ],
                        ),
                        "the router's Stop",
                    );
                });
                Some(request.reply(Code::DisconnectAck))
            }
            Behaviour::AckAndKeep => Some(request.reply(Code::DisconnectAck)),
            Behaviour::NoSuchSession => {
                let mut nak = request.reply(Code::DisconnectNak);
                nak.add(attrs::ERROR_CAUSE, &503);
                Some(nak)
            }
        }
    }
}

fn start_record<'a>(user: &'a str, session: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("User-Name", user),
        ("Acct-Status-Type", "Start"),
        ("Acct-Session-Id", session),
        ("NAS-Port", "7"),
        ("NAS-Port-Type", "Ethernet"),
        ("Framed-IP-Address", "10.10.0.9"),
        ("Calling-Station-Id", "AA:BB:CC:00:11:22"),
    ]
}

/// The customer's enforcements once none is pending (at most 20 s).
async fn settled(app: &TestApp, token: &str, customer: i64) -> Vec<Value> {
    for _ in 0..100 {
        let (status, body) = app
            .get(&format!("/api/v1/customers/{customer}/enforcements"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let all = body.as_array().unwrap().clone();
        if !all.is_empty() && all.iter().all(|e| e["status"] != "pending") {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the enforcement never settled");
}

fn outcomes(e: &Value) -> Vec<String> {
    e["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{}:{}",
                a["rung"].as_str().unwrap(),
                a["outcome"].as_str().unwrap()
            )
        })
        .collect()
}

async fn online(app: &TestApp, token: &str, customer: i64) -> bool {
    let (_, body) = app
        .get(&format!("/api/v1/customers/{customer}"), token)
        .await;
    body["online"].as_bool().unwrap()
}

async fn a_disconnect_climbs_the_ladder_until_the_session_is_gone(backend: Backend) {
    // The router's RADIUS side first: lastmile is told its CoA port.
    let router = Router {
        behaviour: Arc::new(Mutex::new(Behaviour::AckAndStop)),
        asked: Arc::default(),
        acct: Arc::default(),
    };
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let coa_port = socket.local_addr().unwrap().port();
    let app = spawn_with(backend, |config| {
        config.radius.coa_port = coa_port;
        config.radius.disconnect_verify_seconds = 1;
    })
    .await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let clients = HashMap::from([(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        NasClient::new(&isp.secret).require_message_authenticator(false),
    )]);
    let server = Server::from_socket(socket, clients, router.clone(), ServerConfig::default());
    let nas = tokio::spawn(server.run(std::future::pending()));
    *router.acct.lock().unwrap() = Some((acct_port(&app), isp.secret.clone()));

    // Its API: the simulated router, which lastmile reaches with the user it was given.
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    let dev = isp.dev.clone();
    let (_, routers) = app.get("/api/v1/routers", &dev).await;
    let router_id = routers["items"][0]["id"].as_i64().unwrap();
    let (status, body) = app
        .patch(
            &format!("/api/v1/routers/{router_id}"),
            &dev,
            json!({"api_address": "127.0.0.1", "api_port": sim.address().port(), "api_user": "lastmile",
                   "api_password": "api-pass-1", "version": routers["items"][0]["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let alice = api::customer(&app, &dev, isp.tenant, isp.home, "alice", json!({})).await;
    let alice = alice["id"].as_i64().unwrap();
    let disconnect = format!("/api/v1/customers/{alice}/disconnect");

    // Offline: nothing to end.
    let (status, body) = app.post(&disconnect, &dev, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"][0]["code"], "not_online", "{body}");

    // 1. The router ACKs and sends the Stop.
    acked(
        &Nas.acct_at(acct_port(&app), &isp.secret, &start_record("alice", "s-1")),
        "Start",
    );
    assert!(online(&app, &dev, alice).await);
    let (status, body) = app.post(&disconnect, &dev, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["enforcements"][0]["status"], "pending", "{body}");
    assert_eq!(body["enforcements"][0]["acct_session_id"], "s-1");
    let found = settled(&app, &dev, alice).await;
    assert_eq!(found[0]["status"], "done", "{found:?}");
    assert_eq!(outcomes(&found[0]), vec!["disconnect:ack"], "{found:?}");
    assert!(!online(&app, &dev, alice).await);
    let asked = router.asked.lock().unwrap()[0].clone();
    assert_eq!(asked["User-Name"], "alice");
    assert_eq!(asked["Acct-Session-Id"], "s-1");
    assert_eq!(asked["Framed-IP-Address"], "10.10.0.9");

    // 2. The router ACKs and keeps the session: lastmile removes it through the API.
    *router.behaviour.lock().unwrap() = Behaviour::AckAndKeep;
    acked(
        &Nas.acct_at(acct_port(&app), &isp.secret, &start_record("alice", "s-2")),
        "Start",
    );
    sim.add_ppp_session("alice", "10.10.0.9", "AA:BB:CC:00:11:22")
        .unwrap();
    let (status, _) = app.post(&disconnect, &dev, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let found = settled(&app, &dev, alice).await;
    assert_eq!(found[0]["status"], "done", "{found:?}");
    assert_eq!(
        outcomes(&found[0]),
        vec!["disconnect:ack", "disconnect:no_stop", "router_api:removed"],
        "{found:?}"
    );
    assert!(sim.rows("/ppp/active").unwrap().is_empty(), "removed");
    assert!(!online(&app, &dev, alice).await, "the row closed");

    // 2b. The same for a hotspot subscriber: its session is removed from the hotspot's
    // active list.
    let (status, hotspot) = app
        .post(
            "/api/v1/packages",
            &dev,
            json!({"tenant_id": isp.tenant, "name": "Hotspot 5M", "connection_type": "hotspot",
                   "download_kbps": 5000, "upload_kbps": 1000, "validity_days": 1, "price": 2000}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hotspot}");
    let (status, hana) = app
        .post(
            "/api/v1/customers",
            &dev,
            json!({"tenant_id": isp.tenant, "package_id": hotspot["id"],
                   "connection_type": "hotspot", "name": "Hana", "mobile": "01812345679"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hana}");
    let hana_user = hana["username"].as_str().unwrap().to_owned();
    let hana = hana["id"].as_i64().unwrap();
    acked(
        &Nas.acct_at(
            acct_port(&app),
            &isp.secret,
            &start_record(&hana_user, "h-1"),
        ),
        "Start",
    );
    sim.add_hotspot_session(&hana_user, "10.10.0.10", "AA:BB:CC:00:11:23")
        .unwrap();
    let (status, _) = app
        .post(
            &format!("/api/v1/customers/{hana}/disconnect"),
            &dev,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let found = settled(&app, &dev, hana).await;
    assert_eq!(
        outcomes(&found[0]),
        vec!["disconnect:ack", "disconnect:no_stop", "router_api:removed"],
        "{found:?}"
    );
    assert!(
        sim.rows("/ip/hotspot/active").unwrap().is_empty(),
        "removed"
    );
    assert!(!online(&app, &dev, hana).await, "the row closed");

    // 3. The router has no such session.
    *router.behaviour.lock().unwrap() = Behaviour::NoSuchSession;
    acked(
        &Nas.acct_at(acct_port(&app), &isp.secret, &start_record("alice", "s-3")),
        "Start",
    );
    let (status, _) = app.post(&disconnect, &dev, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let found = settled(&app, &dev, alice).await;
    assert_eq!(found[0]["status"], "done", "{found:?}");
    assert_eq!(outcomes(&found[0]), vec!["disconnect:nak"], "{found:?}");
    assert_eq!(found[0]["attempts"][0]["error_cause"], 503);
    assert!(!online(&app, &dev, alice).await);
    assert_eq!(found.len(), 3, "every disconnect kept: {found:?}");

    // 4. Suspending the customer ends its live session too; resuming ends nothing.
    *router.behaviour.lock().unwrap() = Behaviour::AckAndStop;
    acked(
        &Nas.acct_at(acct_port(&app), &isp.secret, &start_record("alice", "s-5")),
        "Start",
    );
    let (_, current) = app.get(&format!("/api/v1/customers/{alice}"), &dev).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/customers/{alice}/suspend"),
            &dev,
            json!({"version": current["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found = settled(&app, &dev, alice).await;
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(found[0]["reason"], "suspended", "{found:?}");
    assert_eq!(found[0]["status"], "done", "{found:?}");
    assert_eq!(found[0]["acct_session_id"], "s-5", "{found:?}");
    assert!(!online(&app, &dev, alice).await);
    let (status, body) = app
        .post(
            &format!("/api/v1/customers/{alice}/resume"),
            &dev,
            json!({"version": body["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        settled(&app, &dev, alice).await.len(),
        4,
        "resuming ends nothing"
    );

    // Another tenant's admin sees none of it and cannot disconnect.
    let other = app.tenant(&dev, "Other ISP").await;
    app.user(
        &dev,
        json!({"email": "admin@other.example", "name": "Other", "role": "admin", "tenant_id": other}),
    )
    .await;
    let stranger = app.login("admin@other.example", PASSWORD).await;
    let (status, _) = app.post(&disconnect, &stranger, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .get(
            &format!("/api/v1/customers/{alice}/enforcements"),
            &stranger,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The panel: the button while online, the outcomes always.
    app.user(
        &dev,
        json!({"email": "admin@isp.example", "name": "ISP admin", "role": "admin", "tenant_id": isp.tenant}),
    )
    .await;
    let mut panel = Visitor::signed_in(&app, "admin@isp.example").await;
    let page = panel.get(&format!("/panel/customers/{alice}")).await;
    assert!(
        !page.has("id=\"disconnect-customer\""),
        "offline: no button"
    );
    let shown = page.text_of("customer-enforcements").unwrap_or_default();
    assert!(shown.contains("router_api: removed"), "{shown}");
    *router.behaviour.lock().unwrap() = Behaviour::AckAndStop;
    acked(
        &Nas.acct_at(acct_port(&app), &isp.secret, &start_record("alice", "s-4")),
        "Start",
    );
    let page = panel.get(&format!("/panel/customers/{alice}")).await;
    assert!(page.has("id=\"disconnect-customer\""), "online: the button");
    let answer = panel
        .submit(
            &format!("/panel/customers/{alice}"),
            &format!("/panel/customers/{alice}/disconnect"),
            &[],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let back = panel.get(answer.location()).await;
    assert!(
        back.has("Disconnecting: the router is being asked to end the sessions."),
        "the page says what was asked: {}",
        back.body
    );
    let found = settled(&app, &dev, alice).await;
    assert_eq!(found.len(), 5);
    assert_eq!(found[0]["status"], "done", "{found:?}");
    assert_eq!(found[0]["reason"], "disconnect", "{found:?}");

    nas.abort();
    sim.shutdown().await.unwrap();
}

on_both_backends!(a_disconnect_climbs_the_ladder_until_the_session_is_gone);
