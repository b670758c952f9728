//! Readdressing customers through the API, with their sessions live on the simulated NAS:
//!
//! - a package switched to static addresses gives each of its customers one of its pool,
//!   their live sessions end and they come back with it;
//! - a pool move to a pool too small is refused before anything changes, with the numbers;
//!   to a pool large enough it gives every static customer an address of the new pool,
//!   points the package at it, and the customers come back with the new addresses;
//! - switched back to dynamic addresses, the static ones are given back and the customers
//!   come back with the router's choice from the package's pool;
//! - the package page and the pool page do the same, and say on the page why a pool is too
//!   small.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod support_builtin;
mod support_freeradius;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use routeros::sim::{Group, SimConfig, SimRouter};
use serde_json::{Value, json};
use simnas::{Scenario, SimNas, Subscriber};
use support::customers::rows;
use support::panel::Visitor;
use support::{Backend, TestApp, spawn_with, until};
use support_builtin::{acct_port, port};
use support_freeradius::api;

async fn job(app: &TestApp, dev: &str, queued: &Value) -> Value {
    job_by_id(app, dev, queued["id"].as_i64().unwrap()).await
}

async fn job_by_id(app: &TestApp, dev: &str, id: i64) -> Value {
    until(
        "the job's end",
        async || app.get(&format!("/api/v1/jobs/{id}"), dev).await.1,
        |job: &Value| job["status"] == "done" || job["status"] == "failed",
    )
    .await
}

/// The addresses of the router's live PPP sessions, sorted.
fn addresses(sim: &SimRouter) -> Vec<Ipv4Addr> {
    let mut out: Vec<Ipv4Addr> = sim
        .rows("/ppp/active")
        .unwrap()
        .iter()
        .filter_map(|r| r.text("address")?.parse().ok())
        .collect();
    out.sort();
    out
}

fn within(addresses: &[Ipv4Addr], prefix: [u8; 3]) -> bool {
    addresses.len() == 4 && addresses.iter().all(|a| a.octets()[..3] == prefix)
}

async fn customers_get_new_addresses_and_their_sessions_follow(backend: Backend) {
    let coa = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let coa_port = coa.local_addr().unwrap().port();
    let app = spawn_with(backend, |config| {
        config.radius.coa_port = coa_port;
        config.radius.interim_seconds = 1;
        config.radius.disconnect_verify_seconds = 5;
    })
    .await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let dev = isp.dev.clone();
    let pool = async |name: &str, ranges: &str| {
        let (status, body) = app
            .post(
                "/api/v1/ip-pools",
                &dev,
                json!({"tenant_id": isp.tenant, "name": name, "ranges": ranges}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().unwrap()
    };
    let tiny = pool("tiny", "10.60.0.0/30").await;
    let next = pool("next", "10.50.0.0/24").await;
    let names = ["amir", "bina", "chad", "dina"];
    let mut ids = Vec::new();
    for name in names {
        let c = api::customer(
            &app,
            &dev,
            isp.tenant,
            isp.home,
            name,
            json!({"billing_type": "postpaid"}),
        )
        .await;
        ids.push(c["id"].as_i64().unwrap());
    }
    let sim = Arc::new(
        SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
            .await
            .unwrap(),
    );
    let subscribers = names
        .iter()
        .map(|name| Subscriber {
            username: (*name).to_owned(),
            password: format!("{name}-pw1"),
            mac: None,
            hotspot: false,
        })
        .collect();
    let mut scenario = Scenario::new(Ipv4Addr::LOCALHOST.into(), &isp.secret, subscribers);
    scenario.auth_server.set_port(port(&app));
    scenario.acct_server.set_port(acct_port(&app));
    scenario.login_over = Duration::from_millis(300);
    scenario.redial = Duration::from_secs(1);
    let _nas = SimNas::start_on(scenario, Arc::clone(&sim), coa)
        .await
        .unwrap();
    // Dynamic: the router picks (the simulated NAS from 100.64.0.0/10).
    until(
        "everyone online",
        async || addresses(&sim),
        |a| within(a, [100, 64, 0]),
    )
    .await;

    // Static: each gets an address of the package's pool and comes back with it.
    let path = format!("/api/v1/packages/{}/allocation", isp.home);
    let (status, queued) = app.post(&path, &dev, json!({"mode": "static"})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let done = job(&app, &dev, &queued).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["result"]["passes"][0]["readdressed"], 4, "{done}");
    assert_eq!(done["result"]["passes"][0]["ended"], 4, "{done}");
    let got = until(
        "back with static addresses",
        async || addresses(&sim),
        |a| within(a, [10, 10, 0]),
    )
    .await;
    let mut distinct = got.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "one address each: {got:?}");

    // Too small a pool: refused with the numbers, nothing changed.
    let move_to = |to: i64| json!({ "to_pool_id": to });
    let migrate = format!("/api/v1/ip-pools/{}/migrate", isp.pool);
    let (status, body) = app.post(&migrate, &dev, move_to(tiny)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let field = &body["error"]["fields"][0];
    assert_eq!(field["code"], "pool_too_small", "{body}");
    assert_eq!(
        field["message"], "The pool has 2 free addresses; 4 are needed.",
        "{body}"
    );
    assert_eq!(addresses(&sim), got, "nothing moved");

    // Large enough: every static customer moves, the package follows, sessions too.
    let (status, queued) = app.post(&migrate, &dev, move_to(next)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let done = job(&app, &dev, &queued).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["result"]["passes"][0]["readdressed"], 4, "{done}");
    until(
        "back with the new pool's addresses",
        async || addresses(&sim),
        |a| within(a, [10, 50, 0]),
    )
    .await;
    let (_, package) = app
        .get(&format!("/api/v1/packages/{}", isp.home), &dev)
        .await;
    assert_eq!(package["ip_pool_id"], next, "{package}");
    let (_, _, reply) = rows(&app, ids[0]).await;
    assert!(
        reply
            .iter()
            .any(|r| r.starts_with("Framed-IP-Address := 10.50.0.")),
        "{reply:?}"
    );
    let (_, old) = app
        .get(&format!("/api/v1/ip-pools/{}", isp.pool), &dev)
        .await;
    assert_eq!(old["used"], 0, "the old pool is free: {old}");

    // Dynamic again: the addresses are given back; the router picks at the next login.
    let (status, queued) = app.post(&path, &dev, json!({"mode": "dynamic"})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let done = job(&app, &dev, &queued).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["result"]["passes"][0]["readdressed"], 4, "{done}");
    until(
        "back with dynamic addresses",
        async || addresses(&sim),
        |a| within(a, [100, 64, 0]),
    )
    .await;
    let (_, _, reply) = rows(&app, ids[0]).await;
    assert!(
        reply.iter().any(|r| r == "Framed-Pool := next"),
        "{reply:?}"
    );
    let (_, pool) = app.get(&format!("/api/v1/ip-pools/{next}"), &dev).await;
    assert_eq!(pool["used"], 0, "{pool}");
}

async fn the_panel_moves_a_pools_customers_and_switches_a_package(backend: Backend) {
    let app = spawn_with(backend, |_| {}).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let dev = isp.dev.clone();
    for name in ["amir", "bina", "chad"] {
        api::customer(&app, &dev, isp.tenant, isp.home, name, json!({})).await;
    }
    let (_, tiny) = app
        .post(
            "/api/v1/ip-pools",
            &dev,
            json!({"tenant_id": isp.tenant, "name": "tiny", "ranges": "10.60.0.0/30"}),
        )
        .await;
    let mut visitor = Visitor::signed_in(&app, "dev@example.com").await;
    let follow = async |visitor: &mut Visitor<'_>, reply: support::panel::Reply| {
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let job: i64 = reply
            .location()
            .strip_prefix("/panel/jobs/")
            .unwrap()
            .parse()
            .unwrap();
        let done = job_by_id(&app, &dev, job).await;
        assert_eq!(done["status"], "done", "{done}");
        visitor.get(reply.location()).await
    };

    // The package page switches its customers to static addresses.
    let package = format!("/panel/packages/{}", isp.home);
    let shown = visitor.get(&package).await;
    assert!(shown.has("id=\"package-allocation\""), "{}", shown.body);
    let reply = visitor
        .submit(
            &package,
            &format!("{package}/allocation"),
            &[("mode", "static")],
        )
        .await;
    follow(&mut visitor, reply).await;
    let (_, pool) = app
        .get(&format!("/api/v1/ip-pools/{}", isp.pool), &dev)
        .await;
    assert_eq!(pool["used"], 3, "{pool}");

    // The pool page moves them; to a pool too small it says why, on the page.
    let page = format!("/panel/ip-pools/{}", isp.pool);
    let shown = visitor.get(&page).await;
    assert!(shown.has("id=\"pool-migrate\""), "{}", shown.body);
    let tiny_id = tiny["id"].as_i64().unwrap().to_string();
    let reply = visitor
        .submit(
            &page,
            &format!("{page}/migrate"),
            &[("to_pool_id", tiny_id.as_str())],
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(
        reply.has("The pool has 2 free addresses; 3 are needed."),
        "{}",
        reply.body
    );
    let static_pool = isp.static_pool.to_string();
    let reply = visitor
        .submit(
            &page,
            &format!("{page}/migrate"),
            &[("to_pool_id", static_pool.as_str())],
        )
        .await;
    follow(&mut visitor, reply).await;
    let (_, moved) = app
        .get(&format!("/api/v1/ip-pools/{}", isp.static_pool), &dev)
        .await;
    assert_eq!(moved["used"], 3, "{moved}");
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
    customers_get_new_addresses_and_their_sessions_follow,
    the_panel_moves_a_pools_customers_and_switches_a_package,
);
