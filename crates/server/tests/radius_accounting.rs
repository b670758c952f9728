//! Accounting by lastmile's built-in RADIUS server, beside a real FreeRADIUS 3.2 on the same
//! database, `radclient` as the NAS, on SQLite and PostgreSQL:
//!
//! - a session FreeRADIUS started and the built-in server updated is one row (the same
//!   unique id); 64-bit counters, late and repeated packets, a Stop without a Start,
//!   Accounting-On closing what started before it and not after, a quiet session closed
//!   as stale;
//! - simultaneous sessions counted as FreeRADIUS counts them, across a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_builtin;
mod support_freeradius;

use serde_json::json;
use support::{Backend, TestApp, spawn};
use support_builtin::{ACCEPT, REJECT, acct_port, acked, same_answer};
use support_freeradius::FreeRadius;
use support_freeradius::api;
use support_freeradius::nas::Nas;

/// One session's Accounting-Request: `status` with these counters.
fn session<'a>(
    status: &'a str,
    id: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut attrs = vec![
        ("User-Name", "alice"),
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

/// The session rows, oldest first: (unique id, user, start, stop set, session time, in,
/// out, cause, customer id).
async fn sessions(app: &TestApp) -> Vec<Vec<Option<String>>> {
    use sea_orm::ConnectionTrait as _;
    let conn = app.state.db.conn();
    let sql = "SELECT acctuniqueid, username, CAST(acctsessiontime AS TEXT), \
                 CAST(acctinputoctets AS TEXT), CAST(acctoutputoctets AS TEXT), \
                 acctterminatecause, CAST(customer_id AS TEXT), \
                 CASE WHEN acctstoptime IS NULL THEN 'open' ELSE 'closed' END, \
                 acctsessionid \
               FROM radacct ORDER BY radacctid";
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            sql,
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            (0..9)
                .map(|i| row.try_get_by_index::<Option<String>>(i).unwrap())
                .collect()
        })
        .collect()
}

async fn accounting_is_recorded_as_freeradius_records_it(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let alice = api::customer(&app, &isp.dev, isp.tenant, isp.home, "alice", json!({})).await;
    let radius = FreeRadius::start(&app).await;
    let ours = acct_port(&app);

    // FreeRADIUS starts a session; the built-in server hears the same session's updates:
    // the same row, so the two make the same unique id.
    acked(
        &radius.acct(&isp.secret, &session("Start", "s-1", &[])),
        "FreeRADIUS: Start",
    );
    acked(
        &Nas.acct_at(
            ours,
            &isp.secret,
            &session(
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
    let rows = sessions(&app).await;
    assert_eq!(
        rows.len(),
        1,
        "one session, whichever server heard it: {rows:?}"
    );
    let input = ((2u64 << 32) + 1000).to_string();
    assert_eq!(
        rows[0][3].as_deref(),
        Some(input.as_str()),
        "gigawords folded in: {rows:?}"
    );
    assert_eq!(rows[0][4].as_deref(), Some("5000"));
    assert_eq!(rows[0][7].as_deref(), Some("open"));

    // A late Interim does not move the counters back; a Stop closes; a second Stop keeps it.
    acked(
        &Nas.acct_at(
            ours,
            &isp.secret,
            &session(
                "Interim-Update",
                "s-1",
                &[("Acct-Session-Time", "30"), ("Acct-Input-Octets", "10")],
            ),
        ),
        "a late Interim",
    );
    for _ in 0..2 {
        acked(
            &Nas.acct_at(
                ours,
                &isp.secret,
                &session(
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
            "Stop",
        );
    }
    let rows = sessions(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let input = ((2u64 << 32) + 2000).to_string();
    assert_eq!(rows[0][2].as_deref(), Some("120"), "{rows:?}");
    assert_eq!(rows[0][3].as_deref(), Some(input.as_str()));
    assert_eq!(rows[0][5].as_deref(), Some("User-Request"));
    assert_eq!(
        rows[0][6],
        Some(alice["id"].to_string()),
        "tied to the customer"
    );
    assert_eq!(rows[0][7].as_deref(), Some("closed"));

    // A Stop whose Start never came is a closed session, started its time before.
    acked(
        &Nas.acct_at(
            ours,
            &isp.secret,
            &session("Stop", "s-2", &[("Acct-Session-Time", "45")]),
        ),
        "a Stop without a Start",
    );
    // A live session, and one quiet for longer than three interim intervals: the quiet
    // one is closed as stale at its last update (the sweep runs every second here).
    acked(
        &Nas.acct_at(ours, &isp.secret, &session("Start", "s-9", &[])),
        "a live Start",
    );
    let long_ago = (app.clock().now() - chrono::TimeDelta::hours(1))
        .timestamp()
        .to_string();
    acked(
        &Nas.acct_at(
            ours,
            &isp.secret,
            &session("Start", "s-7", &[("Event-Timestamp", long_ago.as_str())]),
        ),
        "a Start an hour old",
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let swept = loop {
        let rows = sessions(&app).await;
        let row = rows
            .iter()
            .find(|r| r[8].as_deref() == Some("s-7"))
            .cloned();
        match row {
            Some(row) if row[7].as_deref() == Some("closed") => break row,
            _ if std::time::Instant::now() > deadline => panic!("never swept: {rows:?}"),
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    };
    assert_eq!(swept[5].as_deref(), Some("Stale-Session"), "{swept:?}");
    assert_eq!(
        swept[2].as_deref(),
        Some("0"),
        "stopped at its last update: {swept:?}"
    );
    let rows = sessions(&app).await;
    let live = rows
        .iter()
        .find(|r| r[8].as_deref() == Some("s-9"))
        .unwrap();
    assert_eq!(
        live[7].as_deref(),
        Some("open"),
        "a live session stays open: {rows:?}"
    );

    // Two more open sessions, then the router reboots: Accounting-On closes them (and the
    // live one above), but not one that starts after the reboot. A Start of the boot
    // before that arrives after the Accounting-On (reordered behind it) is recorded as
    // ended by it.
    for id in ["s-3", "s-4"] {
        acked(
            &Nas.acct_at(ours, &isp.secret, &session("Start", id, &[])),
            "Start",
        );
    }
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
    let before_reboot = (app.clock().now() - chrono::TimeDelta::minutes(30))
        .timestamp()
        .to_string();
    acked(
        &Nas.acct_at(
            ours,
            &isp.secret,
            &session(
                "Start",
                "s-8",
                &[("Event-Timestamp", before_reboot.as_str())],
            ),
        ),
        "a Start of the boot before, after the reboot",
    );
    let after = (app.clock().now() + chrono::TimeDelta::seconds(5))
        .timestamp()
        .to_string();
    acked(
        &Nas.acct_at(
            ours,
            &isp.secret,
            &session("Start", "s-5", &[("Event-Timestamp", after.as_str())]),
        ),
        "a Start after the reboot",
    );
    let rows = sessions(&app).await;
    let state = |id: &str| {
        let row = rows.iter().find(|r| r[8].as_deref() == Some(id)).unwrap();
        (row[7].clone().unwrap(), row[5].clone().unwrap())
    };
    assert_eq!(state("s-2"), ("closed".into(), String::new()), "{rows:?}");
    assert_eq!(
        state("s-3"),
        ("closed".into(), "NAS-Reboot".into()),
        "{rows:?}"
    );
    assert_eq!(
        state("s-4"),
        ("closed".into(), "NAS-Reboot".into()),
        "{rows:?}"
    );
    assert_eq!(state("s-5"), ("open".into(), String::new()), "{rows:?}");
    assert_eq!(
        state("s-9"),
        ("closed".into(), "NAS-Reboot".into()),
        "{rows:?}"
    );
    assert_eq!(
        state("s-8"),
        ("closed".into(), "NAS-Reboot".into()),
        "{rows:?}"
    );
    let s8 = rows
        .iter()
        .find(|r| r[8].as_deref() == Some("s-8"))
        .unwrap();
    let lasted: i64 = s8[2].as_deref().unwrap().parse().unwrap();
    assert!(
        (1795..1830).contains(&lasted),
        "it lasted from its start to the reboot: {rows:?}"
    );

    // Status-Server on the accounting port; the wrong secret gets nothing.
    let wrong = Nas.acct_at(ours, "testing123", &session("Start", "s-6", &[]));
    assert_eq!(wrong.code, None, "{}", wrong.raw);
    assert_eq!(
        sessions(&app).await.len(),
        8,
        "nothing recorded from the wrong secret"
    );
}

async fn simultaneous_sessions_are_counted_as_freeradius_counts_them(backend: Backend) {
    let mut app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    api::customer(
        &app,
        &isp.dev,
        isp.tenant,
        isp.home,
        "alice",
        json!({"simultaneous_use": 1}),
    )
    .await;
    api::customer(
        &app,
        &isp.dev,
        isp.tenant,
        isp.home,
        "bob",
        json!({"simultaneous_use": 2}),
    )
    .await;
    let radius = FreeRadius::start(&app).await;
    let pap = |user: &'static str, password: &'static str| {
        [("User-Name", user), ("User-Password", password)]
    };
    // Sessions reach radacct through the built-in server: FreeRADIUS counts them there,
    // the built-in server in memory.
    let account = |app: &TestApp, user: &str, status: &str, id: &str| {
        let reply = Nas.acct_at(
            acct_port(app),
            &isp.secret,
            &[
                ("User-Name", user),
                ("Acct-Status-Type", status),
                ("Acct-Session-Id", id),
                ("NAS-Port", "1"),
            ],
        );
        acked(&reply, &format!("{user} {status} {id}"));
    };
    // Both servers give `code`.
    let both = |app: &TestApp, user: &'static str, password: &'static str, what: &str, code| {
        assert_eq!(
            same_answer(app, &radius, &isp, &pap(user, password), what),
            code,
            "{what}"
        );
    };
    both(&app, "alice", "alice-pw1", "alice, no session", ACCEPT);
    account(&app, "alice", "Start", "a-1");
    both(
        &app,
        "alice",
        "alice-pw1",
        "alice, one session of one",
        REJECT,
    );
    account(&app, "bob", "Start", "b-1");
    both(&app, "bob", "bob-pw1", "bob, one session of two", ACCEPT);
    account(&app, "bob", "Interim-Update", "b-2");
    both(&app, "bob", "bob-pw1", "bob, two sessions of two", REJECT);

    // Restarted, the server counts the sessions radacct holds open.
    app.restart().await;
    both(&app, "alice", "alice-pw1", "alice, after a restart", REJECT);
    both(&app, "bob", "bob-pw1", "bob, after a restart", REJECT);

    account(&app, "alice", "Stop", "a-1");
    both(&app, "alice", "alice-pw1", "alice, session stopped", ACCEPT);
    // The router reboots: every session it had is over.
    let reply = Nas.acct_at(
        acct_port(&app),
        &isp.secret,
        &[
            ("Acct-Status-Type", "Accounting-On"),
            ("Acct-Session-Id", "0"),
        ],
    );
    acked(&reply, "Accounting-On");
    both(
        &app,
        "bob",
        "bob-pw1",
        "bob, after the router's reboot",
        ACCEPT,
    );
    // A Start of the boot before, reordered behind the reboot, does not open its session
    // again: bob's one session after the reboot still leaves room for a second.
    let earlier = (app.clock().now() - chrono::TimeDelta::seconds(30))
        .timestamp()
        .to_string();
    let reply = Nas.acct_at(
        acct_port(&app),
        &isp.secret,
        &[
            ("User-Name", "bob"),
            ("Acct-Status-Type", "Start"),
            ("Acct-Session-Id", "b-3"),
            ("NAS-Port", "1"),
            ("Event-Timestamp", earlier.as_str()),
        ],
    );
    acked(&reply, "bob's Start of the boot before");
    account(&app, "bob", "Start", "b-4");
    both(
        &app,
        "bob",
        "bob-pw1",
        "bob, one session after the reboot and one ended by it",
        ACCEPT,
    );
}

/// A session whose user name was no customer's when it began (a customer created while
/// the router already had the session) is tied to the customer by the next record the
/// built-in server hears of it: counted online from then, its counters in the usage.
async fn a_session_begun_before_its_customer_existed_is_tied_when_next_heard(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let ours = acct_port(&app);
    let carol = |status, counters: &str| {
        Nas.acct_at(
            ours,
            &isp.secret,
            &[
                ("User-Name", "carol"),
                ("Acct-Status-Type", status),
                ("Acct-Session-Id", "c-1"),
                ("NAS-Port", "3"),
                ("Acct-Session-Time", "60"),
                ("Acct-Input-Octets", counters),
                ("Acct-Output-Octets", counters),
            ],
        )
    };
    acked(&carol("Start", "0"), "carol's Start, no customer yet");
    let rows = sessions(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][6], None, "tied to no one yet: {rows:?}");

    let customer = api::customer(&app, &isp.dev, isp.tenant, isp.home, "carol", json!({})).await;
    // The server hears of the new customer through the change log: until then a record
    // is still no customer's.
    let mut tied = None;
    for attempt in 1..=50u32 {
        acked(
            &carol("Interim-Update", &(attempt * 1000).to_string()),
            "carol's Interim",
        );
        let rows = sessions(&app).await;
        if rows[0][6].is_some() {
            tied = Some((attempt, rows));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (attempt, rows) = tied.expect("the session is tied to carol within five seconds");
    assert_eq!(rows.len(), 1, "still one session: {rows:?}");
    assert_eq!(rows[0][6], Some(customer["id"].to_string()), "{rows:?}");
    assert_eq!(rows[0][7].as_deref(), Some("open"));

    let (status, body) = app
        .get(&format!("/api/v1/customers/{}", customer["id"]), &isp.dev)
        .await;
    assert_eq!(status, axum::http::StatusCode::OK, "{body}");
    assert_eq!(
        body["online"],
        json!(true),
        "counted online once tied: {body}"
    );
    let (status, usage) = app
        .get(
            &format!("/api/v1/customers/{}/usage", customer["id"]),
            &isp.dev,
        )
        .await;
    assert_eq!(status, axum::http::StatusCode::OK, "{usage}");
    let counted = u64::from(attempt) * 1000;
    assert_eq!(
        usage["period"]["input_octets"],
        json!(counted),
        "the session's counters count from the record that tied it: {usage}"
    );
}

on_both_backends!(
    a_session_begun_before_its_customer_existed_is_tied_when_next_heard,
    accounting_is_recorded_as_freeradius_records_it,
    simultaneous_sessions_are_counted_as_freeradius_counts_them,
);
