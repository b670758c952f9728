//! Checks several FreeRADIUS tests share: expiry judged by FreeRADIUS itself, the post-auth
//! log without passwords, and reading a column for assertions on the database.

use chrono::TimeDelta;
use sea_orm::ConnectionTrait as _;

use super::FreeRadius;
use super::api::{self, Isp};
use crate::support::TestApp;

/// `lastmile radius verify` (with `--fix` when asked) on the test's database and keyring.
pub fn radius_verify(app: &TestApp, fix: bool) -> super::Run {
    let config = &app.config;
    let (url, data) = (config.database_url(), config.data_dir.display().to_string());
    let mut args = vec![
        "radius",
        "verify",
        "--database-url",
        &url,
        "--data-dir",
        &data,
    ];
    if fix {
        args.push("--fix");
    }
    super::lastmile(&args)
}

const ACCEPT: &str = "Access-Accept";
const REJECT: &str = "Access-Reject";

/// Values of one column of a query, as text (NULL as `None`).
pub async fn column(app: &TestApp, sql: &str) -> Vec<Option<String>> {
    let backend = app.state.db.conn().get_database_backend();
    let rows = app
        .state
        .db
        .conn()
        .query_all_raw(sea_orm::Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get_by_index::<Option<String>>(0).unwrap())
        .collect()
}

/// Expiry on both sides of now, judged by FreeRADIUS from the all-digit `Expiration`: one
/// minute past is refused, one minute ahead is accepted with the rest as Session-Timeout,
/// whatever the tenant's zone.
pub async fn expiry_is_enforced_by_freeradius(app: &TestApp, isp: &Isp, radius: &FreeRadius) {
    let now = app.clock().now();
    let past = api::expiring(app, isp, "expired1", now - TimeDelta::minutes(1)).await;
    let soon = api::expiring(app, isp, "ending1", now + TimeDelta::minutes(1)).await;
    assert_eq!(
        (past["state"].as_str(), soon["state"].as_str()),
        (Some("expired"), Some("active"))
    );
    let reply = radius.login(&isp.secret, "expired1", "expired1-pw1");
    radius.expect(&reply, REJECT, "a customer expired a minute ago");
    let reply = radius.login(&isp.secret, "ending1", "ending1-pw1");
    radius.expect(&reply, ACCEPT, "a customer expiring in a minute");
    let left: u64 = reply
        .get("Session-Timeout")
        .expect("Session-Timeout")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&left), "Session-Timeout {left}");
}

/// No password in the post-auth log, though it recorded accepts and rejects.
pub async fn radpostauth_holds_no_password(app: &TestApp) {
    let replies = column(app, "SELECT reply FROM radpostauth").await;
    assert!(replies.contains(&Some(ACCEPT.to_owned())), "{replies:?}");
    assert!(replies.contains(&Some(REJECT.to_owned())), "{replies:?}");
    let passwords = column(app, "SELECT pass FROM radpostauth").await;
    assert!(
        passwords
            .iter()
            .all(|p| p.as_deref().unwrap_or("").is_empty()),
        "{passwords:?}"
    );
}
