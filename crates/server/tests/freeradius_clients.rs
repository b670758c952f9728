//! Routers reach FreeRADIUS without a restart: a real FreeRADIUS 3.2 on the generated
//! configuration, with a router added through lastmile while it runs, sending from a new
//! source address (any 127.0.0.0/8 address works on loopback), then re-keyed, then
//! removed. Each change is seen by the next request after the client lifetime the tests run
//! with (`support_freeradius::CLIENT_LIFETIME`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_freeradius;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{Backend, TestApp, spawn};
use support_freeradius::api;
use support_freeradius::{CLIENT_LIFETIME, FreeRadius};

/// A PAP request for alice from `source`, signed with `secret`: the reply's first line
/// (`Received Access-Accept ...`) or why none came.
fn login_from(radius: &FreeRadius, source: &str, secret: &str) -> String {
    let server = format!("127.0.0.1:{}", radius.auth_port);
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
        "alice",
        "--password",
        "alice-pw1",
        "--timeout",
        "1",
        "--retries",
        "2",
    ]);
    let answer = run
        .stdout
        .lines()
        .find(|l| l.starts_with("Received"))
        .map(str::to_owned);
    answer.unwrap_or_else(|| format!("no answer: {}", run.stderr.trim()))
}

/// Asks until the answer starts with `wanted`, for at most the client lifetime and some;
/// returns how long it took.
fn until(radius: &FreeRadius, source: &str, secret: &str, wanted: &str) -> Duration {
    let started = Instant::now();
    let limit = Duration::from_secs(u64::from(CLIENT_LIFETIME) + 15);
    loop {
        let answer = login_from(radius, source, secret);
        if answer.starts_with(wanted) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "{source} with its secret never got {wanted:?}; last: {answer}\n{}",
            radius.tail()
        );
    }
}

async fn router(app: &TestApp, dev: &str, tenant: i64, address: &str, secret: &str) -> i64 {
    let (status, router) = app
        .post(
            "/api/v1/routers",
            dev,
            json!({"tenant_id": tenant, "name": format!("edge {address}"), "nas_address": address,
                   "secret": secret}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{router}");
    router["id"].as_i64().unwrap()
}

async fn a_router_added_re_keyed_or_removed_is_served_without_a_restart(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let dev = isp.dev.clone();
    api::customer(&app, &dev, isp.tenant, isp.home, "alice", json!({})).await;
    let radius = FreeRadius::start(&app).await;
    let (edge, first_key, second_key) = ("127.0.0.23", "first-key-1234", "second-key-5678");
    // Unknown before it exists: no answer at all, whatever the secret.
    assert!(login_from(&radius, edge, first_key).starts_with("no answer"));

    let id = router(&app, &dev, isp.tenant, edge, first_key).await;
    let took = until(&radius, edge, first_key, "Received Access-Accept");
    assert!(
        took < Duration::from_secs(10),
        "a new router is served within seconds, not after a restart: {took:?}"
    );

    let (_, stored) = app.get(&format!("/api/v1/routers/{id}"), &dev).await;
    let (status, body) = app
        .patch(
            &format!("/api/v1/routers/{id}"),
            &dev,
            json!({"secret": second_key, "version": stored["version"]}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    until(&radius, edge, second_key, "Received Access-Accept");
    assert!(
        login_from(&radius, edge, first_key).starts_with("no answer"),
        "the old secret is refused once the new one is in"
    );

    let (status, body) = app.delete(&format!("/api/v1/routers/{id}"), &dev).await;
    assert_eq!(status, reqwest::StatusCode::NO_CONTENT, "{body}");
    until(&radius, edge, second_key, "no answer");
    // The tenant's first router was never disturbed.
    radius.expect(
        &radius.login(&isp.secret, "alice", "alice-pw1"),
        "Access-Accept",
        "the router lastmile made first",
    );
}

both_backends!(a_router_added_re_keyed_or_removed_is_served_without_a_restart,);
