//! What the built-in RADIUS server's tests share: its ports, the comparison of its answer
//! with FreeRADIUS's to the same request (`radclient` as the NAS), and the accounting
//! acknowledgement. Include with `mod support; mod support_freeradius; mod support_builtin;`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use crate::support::TestApp;
use crate::support_freeradius::FreeRadius;
use crate::support_freeradius::api::Isp;
use crate::support_freeradius::nas::{Nas, Reply};

pub const ACCEPT: &str = "Access-Accept";
pub const REJECT: &str = "Access-Reject";

/// The built-in server's authentication port.
pub fn port(app: &TestApp) -> u16 {
    app.radius
        .expect("the built-in RADIUS server runs")
        .auth
        .port()
}

/// The built-in server's accounting port.
pub fn acct_port(app: &TestApp) -> u16 {
    app.radius
        .expect("the built-in RADIUS server runs")
        .acct
        .port()
}

/// A reply's attributes as compared: sorted; Message-Authenticator left out (each reply
/// is signed on its own), Session-Timeout left out (compared apart: the two answers come
/// some milliseconds apart), Acct-Interim-Interval left out (the built-in server's own
/// setting; FreeRADIUS mode leaves the interval to the router), MS-CHAP-MPPE-Keys by
/// presence (hidden with each request's authenticator).
pub fn comparable(reply: &Reply) -> Vec<(String, String)> {
    let mut attrs: Vec<(String, String)> = reply
        .attrs
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "Message-Authenticator" | "Session-Timeout" | "Acct-Interim-Interval"
            )
        })
        .map(|(name, value)| {
            let value = if name == "MS-CHAP-MPPE-Keys" {
                "(present)".to_owned()
            } else {
                value.clone()
            };
            (name.clone(), value)
        })
        .collect();
    attrs.sort();
    attrs
}

/// Sends the same request to FreeRADIUS and to the built-in server and compares the
/// answers: the code always; on an accept every attribute, Session-Timeout within 5 s.
pub fn same_answer(
    app: &TestApp,
    radius: &FreeRadius,
    isp: &Isp,
    attrs: &[(&str, &str)],
    what: &str,
) -> String {
    let theirs = radius.auth(&isp.secret, attrs);
    let ours = Nas.auth_at(port(app), &isp.secret, attrs);
    compare(radius, &theirs, &ours, what)
}

pub fn compare(radius: &FreeRadius, theirs: &Reply, ours: &Reply, what: &str) -> String {
    let both = || {
        format!(
            "{what}\n--- FreeRADIUS:\n{}\n--- built-in:\n{}\n--- FreeRADIUS log:\n{}",
            theirs.raw,
            ours.raw,
            radius.tail()
        )
    };
    assert!(theirs.code.is_some(), "FreeRADIUS answers: {}", both());
    assert_eq!(theirs.code, ours.code, "{}", both());
    if theirs.code.as_deref() == Some(ACCEPT) {
        assert_eq!(comparable(theirs), comparable(ours), "{}", both());
        let timeout = |r: &Reply| r.get("Session-Timeout").map(|v| v.parse::<i64>().unwrap());
        match (timeout(theirs), timeout(ours)) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= 5, "{a} vs {b}: {}", both()),
            (a, b) => assert_eq!(a, b, "{}", both()),
        }
    }
    ours.code.clone().unwrap_or_default()
}

/// Panics with the exchange unless `reply` is an Accounting-Response.
pub fn acked(reply: &Reply, what: &str) {
    assert_eq!(
        reply.code.as_deref(),
        Some("Accounting-Response"),
        "{what}:\n{}",
        reply.raw
    );
}

/// Runs each named `async fn name(backend)` of the test file as a test on SQLite and one
/// on PostgreSQL (`on_sqlite::name`, `on_postgres::name`), on a runtime with two workers
/// (the NAS helpers block while `radclient` runs).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await;
                }
            )*
        }
    };
}
