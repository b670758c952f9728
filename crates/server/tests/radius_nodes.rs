//! Two lastmile nodes on one PostgreSQL, as a cluster runs: each node's built-in server
//! counts the sessions the other recorded (simultaneous use), a router failing over to the
//! other node with a retransmitted record makes one session, an Accounting-On on one node
//! frees the sessions the other knew, and a change made through one node's API reaches the
//! other's answers. Every crossing must show within a bounded delay (5 s here; the node is
//! woken by `NOTIFY` and polls every 500 ms besides). A session's accounting split between
//! the nodes, retransmissions and late updates among it, counts its bytes once; a volume
//! used up through one node is refused by the other once the usage watcher has seen it.
//! SQLite has one node.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_builtin;
mod support_freeradius;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{Backend, TestApp, spawn, spawn_with};
use support_builtin::{ACCEPT, REJECT, acct_port, acked, port};
use support_freeradius::api::{self, VOLUME};
use support_freeradius::nas::Nas;

const ALICE: [(&str, &str); 2] = [("User-Name", "alice"), ("User-Password", "alice-pw1")];

/// Asks `node` about alice every 50 ms until it answers `code`; panics after 5 s.
async fn until_answer(node: &TestApp, secret: &str, code: &str, what: &str) -> Duration {
    let began = Instant::now();
    loop {
        let reply = Nas.auth_at(port(node), secret, &ALICE);
        if reply.code.as_deref() == Some(code) {
            return began.elapsed();
        }
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "{what}: still {:?} after 5 s\n{}",
            reply.code,
            reply.raw
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Alice's accounting record `status` for session `id`, no bytes moved, sent to `node`.
fn account(node: &TestApp, secret: &str, status: &str, id: &str) {
    moved(node, secret, status, id, 0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_count_each_others_sessions_and_see_each_others_changes() {
    let app = spawn(Backend::Postgres).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let alice = api::customer(
        &app,
        &isp.dev,
        isp.tenant,
        isp.fast,
        "alice",
        json!({"simultaneous_use": 1}),
    )
    .await;
    let other = app.another_node().await;
    let secret = isp.secret.as_str();
    until_answer(&other, secret, ACCEPT, "alice on the second node").await;

    // A session recorded by the first node counts on the second.
    account(&app, secret, "Start", "s-1");
    until_answer(
        &other,
        secret,
        REJECT,
        "the first node's session, on the second",
    )
    .await;
    assert_eq!(
        Nas.auth_at(port(&app), secret, &ALICE).code.as_deref(),
        Some(REJECT)
    );

    // The router fails over: the same Start again, to the second node, is the same
    // session (one row, one session counted); its Stop there frees alice on both.
    account(&other, secret, "Start", "s-1");
    let rows = app
        .count("radacct WHERE username = 'alice' AND acctstoptime IS NULL")
        .await;
    assert_eq!(rows, 1, "one session row");
    assert_eq!(
        Nas.auth_at(port(&other), secret, &ALICE).code.as_deref(),
        Some(REJECT),
        "a retransmission to another node counts once"
    );
    account(&other, secret, "Stop", "s-1");
    until_answer(
        &app,
        secret,
        ACCEPT,
        "the Stop on the second node, on the first",
    )
    .await;
    until_answer(&other, secret, ACCEPT, "the Stop, on its own node").await;

    // The second node records a session; the router's Accounting-On through the first
    // ends it on both.
    account(&other, secret, "Start", "s-2");
    until_answer(
        &app,
        secret,
        REJECT,
        "the second node's session, on the first",
    )
    .await;
    let reply = Nas.acct_at(
        acct_port(&app),
        secret,
        &[
            ("Acct-Status-Type", "Accounting-On"),
            ("Acct-Session-Id", "0"),
        ],
    );
    acked(&reply, "Accounting-On");
    until_answer(
        &other,
        secret,
        ACCEPT,
        "the reboot on the first node, on the second",
    )
    .await;

    // A change through the first node's API reaches the second node's answers.
    api::act(&app, &isp.dev, &alice, "disable").await;
    until_answer(
        &other,
        secret,
        REJECT,
        "alice disabled on the first node, on the second",
    )
    .await;
}

/// Alice's record `status` for session `id` with the bytes so far, sent to `node`.
fn moved(node: &TestApp, secret: &str, status: &str, id: &str, input: u32, output: u32) {
    let (input, output) = (input.to_string(), output.to_string());
    let reply = Nas.acct_at(
        acct_port(node),
        secret,
        &[
            ("User-Name", "alice"),
            ("Acct-Status-Type", status),
            ("Acct-Session-Id", id),
            ("NAS-Port", "3"),
            ("Acct-Input-Octets", &input),
            ("Acct-Output-Octets", &output),
        ],
    );
    acked(&reply, &format!("{status} {id} at {input}/{output}"));
}

/// Alice's usage in the current period as `node`'s API reports it: (up, down).
async fn period_usage(node: &TestApp, token: &str, alice: i64) -> (i64, i64) {
    let (status, usage) = node
        .get(&format!("/api/v1/customers/{alice}/usage"), token)
        .await;
    assert!(status.is_success(), "{usage}");
    let period = &usage["period"];
    (
        period["input_octets"].as_i64().unwrap(),
        period["output_octets"].as_i64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_through_both_nodes_counts_once_and_a_volume_used_up_on_one_is_refused_by_both() {
    let app = spawn_with(Backend::Postgres, |config| {
        config.jobs.usage_watch_seconds = 1;
    })
    .await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let alice = api::customer(
        &app,
        &isp.dev,
        isp.tenant,
        isp.home,
        "alice",
        json!({"billing_type": "postpaid", "simultaneous_use": 2}),
    )
    .await;
    let id = alice["id"].as_i64().unwrap();
    let other = app.another_node().await;
    let secret = isp.secret.as_str();
    until_answer(&other, secret, ACCEPT, "alice on the second node").await;

    // One session, its records split between the nodes as a router failing over and back
    // sends them: an update to each, a retransmission of the second node's update to the
    // first after the first has a newer one, and the Stop to the second and again to the
    // first. Every byte counts once, on either node's screens.
    const MB: u32 = 1_000_000;
    moved(&app, secret, "Start", "u-1", 0, 0);
    moved(&other, secret, "Interim-Update", "u-1", 2 * MB, 20 * MB);
    moved(&app, secret, "Interim-Update", "u-1", 3 * MB, 30 * MB);
    moved(&app, secret, "Interim-Update", "u-1", 2 * MB, 20 * MB);
    moved(&other, secret, "Stop", "u-1", 4 * MB, 40 * MB);
    moved(&app, secret, "Stop", "u-1", 4 * MB, 40 * MB);
    let began = Instant::now();
    loop {
        let seen = (
            period_usage(&app, &isp.dev, id).await,
            period_usage(&other, &isp.dev, id).await,
        );
        let want = (i64::from(4 * MB), i64::from(40 * MB));
        if seen == (want, want) {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "usage on the two nodes: {seen:?}, not {want:?} on both"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.count("radacct WHERE username = 'alice'").await,
        1,
        "one session row"
    );

    // A second session through the first node moves more than the whole volume: that node
    // refuses alice from its own count at once; the second learns it from the usage
    // watcher's pass (every second here), as no record of it comes its way.
    let rest = u32::try_from(VOLUME / 2 + 1).unwrap();
    moved(&app, secret, "Start", "u-2", 0, 0);
    moved(&app, secret, "Interim-Update", "u-2", rest, rest);
    assert_eq!(
        Nas.auth_at(port(&app), secret, &ALICE).code.as_deref(),
        Some(REJECT),
        "the volume used up, on the node that counted it"
    );
    until_answer(
        &other,
        secret,
        REJECT,
        "the volume used up on the first node, on the second",
    )
    .await;
}
