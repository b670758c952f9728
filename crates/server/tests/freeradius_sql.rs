//! lastmile's FreeRADIUS projection served by a real FreeRADIUS 3.2 with the configuration
//! `lastmile radius freeradius-config` generates, on SQLite and PostgreSQL, driven by
//! `radclient`/`radtest` as the NAS: who is accepted with what, who is refused, that every
//! change reaches the next request, Simultaneous-Use, the router's secret, no password in
//! `radpostauth`; and `lastmile radius verify` finding and repairing drift.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_freeradius;

use sea_orm::ConnectionTrait as _;
use serde_json::json;
use support::{Backend, spawn};
use support_freeradius::FreeRadius;
use support_freeradius::api::{self, VOLUME};
use support_freeradius::checks::{
    column, expiry_is_enforced_by_freeradius, radius_verify, radpostauth_holds_no_password,
};

const ACCEPT: &str = "Access-Accept";
const REJECT: &str = "Access-Reject";

async fn an_active_customer_is_accepted_with_its_package_and_the_refused_are_rejected(
    backend: Backend,
) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let (dev, t) = (isp.dev.clone(), isp.tenant);
    api::customer(
        &app,
        &dev,
        t,
        isp.home,
        "alice",
        json!({"billing_type": "prepaid"}),
    )
    .await;
    api::customer(&app, &dev, t, isp.home, "bob",
        json!({"billing_type": "postpaid", "static_ip": "10.20.0.5", "ip_pool_id": isp.static_pool})).await;
    api::customer(
        &app,
        &dev,
        t,
        isp.home,
        "carol",
        json!({"status": "disabled"}),
    )
    .await;
    api::customer(
        &app,
        &dev,
        t,
        isp.home,
        "dave",
        json!({"status": "suspended"}),
    )
    .await;
    let radius = FreeRadius::start(&app).await;

    // The router made in lastmile is FreeRADIUS's client, with the secret lastmile made,
    // looked up in `nas` when it first sends.
    radius.expect(
        &radius.radtest(&isp.secret, "alice", "alice-pw1"),
        ACCEPT,
        "radtest with the router's secret",
    );
    assert!(
        radius.log().contains("Adding client 127.0.0.1"),
        "{}",
        radius.tail()
    );
    let wrong_secret = radius.login("testing123", "alice", "alice-pw1");
    assert_eq!(
        wrong_secret.code, None,
        "no answer to the stock secret:\n{}",
        wrong_secret.raw
    );

    let reply = radius.login(&isp.secret, "alice", "alice-pw1");
    radius.expect(&reply, ACCEPT, "an active prepaid PPPoE customer");
    assert_eq!(reply.get("Mikrotik-Rate-Limit"), Some("10M/50M"));
    assert_eq!(reply.get("Framed-Pool"), Some("pppoe-main"));
    assert_eq!(reply.get("Framed-IP-Address"), None);
    // The volume left, low 32 bits and gigawords.
    let low = (VOLUME as u64 & 0xFFFF_FFFF).to_string();
    assert_eq!(reply.get("Mikrotik-Total-Limit"), Some(low.as_str()));
    assert_eq!(reply.get("Mikrotik-Total-Limit-Gigawords"), Some("1"));
    // Prepaid: FreeRADIUS turns the 30-day Expiration into the session's limit.
    let left: i64 = reply.get("Session-Timeout").unwrap().parse().unwrap();
    assert!((29 * 86_400..=30 * 86_400).contains(&left), "{left}");

    let reply = radius.login(&isp.secret, "bob", "bob-pw1");
    radius.expect(&reply, ACCEPT, "a postpaid customer with a static address");
    assert_eq!(reply.get("Framed-IP-Address"), Some("10.20.0.5"));
    assert_eq!(reply.get("Framed-Pool"), None);
    assert_eq!(reply.get("Session-Timeout"), None);

    radius.expect(
        &radius.login(&isp.secret, "alice", "wrong-pw"),
        REJECT,
        "a wrong password",
    );
    radius.expect(
        &radius.login(&isp.secret, "carol", "carol-pw1"),
        REJECT,
        "a disabled customer",
    );
    radius.expect(
        &radius.login(&isp.secret, "dave", "dave-pw1"),
        REJECT,
        "suspended, policy reject",
    );
    radius.expect(
        &radius.login(&isp.secret, "nobody", "nobody-pw1"),
        REJECT,
        "an unknown name",
    );
    expiry_is_enforced_by_freeradius(&app, &isp, &radius).await;
    radpostauth_holds_no_password(&app).await;
}

async fn changes_reach_the_next_request_in_a_tenant_west_of_utc(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "America/New_York", ("reject", None)).await;
    let dev = isp.dev.clone();
    let alice = api::customer(
        &app,
        &dev,
        isp.tenant,
        isp.home,
        "alice",
        json!({"billing_type": "postpaid"}),
    )
    .await;
    let radius = FreeRadius::start(&app).await;
    radius.expect(
        &radius.login(&isp.secret, "alice", "alice-pw1"),
        ACCEPT,
        "before any change",
    );

    let id = alice["id"].as_i64().unwrap();
    let (_, current) = app.get(&format!("/api/v1/customers/{id}"), &dev).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/customers/{id}/password"),
            &dev,
            json!({"password": "new-pass-2", "version": current["version"]}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    radius.expect(
        &radius.login(&isp.secret, "alice", "alice-pw1"),
        REJECT,
        "the old password",
    );
    radius.expect(
        &radius.login(&isp.secret, "alice", "new-pass-2"),
        ACCEPT,
        "the new password",
    );

    api::change(&app, &dev, &alice, json!({"package_id": isp.fast})).await;
    let reply = radius.login(&isp.secret, "alice", "new-pass-2");
    radius.expect(&reply, ACCEPT, "after a package change");
    assert_eq!(reply.get("Mikrotik-Rate-Limit"), Some("20M/100M"));
    assert_eq!(reply.get("Framed-Pool"), Some("fast-pool"));
    assert_eq!(
        reply.get("Mikrotik-Total-Limit"),
        None,
        "the new package has no volume"
    );

    api::change(&app, &dev, &alice, json!({"username": "alice.home"})).await;
    radius.expect(
        &radius.login(&isp.secret, "alice", "new-pass-2"),
        REJECT,
        "the old name",
    );
    radius.expect(
        &radius.login(&isp.secret, "alice.home", "new-pass-2"),
        ACCEPT,
        "the new name",
    );

    api::change(&app, &dev, &alice, json!({"mac": "aa:bb:cc:00:11:22"})).await;
    let from = |mac: &str| {
        radius.auth(
            &isp.secret,
            &[
                ("User-Name", "alice.home"),
                ("User-Password", "new-pass-2"),
                ("Calling-Station-Id", mac),
            ],
        )
    };
    radius.expect(&from("AA:BB:CC:00:11:22"), ACCEPT, "from the bound MAC");
    radius.expect(&from("AA:BB:CC:00:11:23"), REJECT, "from another MAC");
    radius.expect(
        &radius.login(&isp.secret, "alice.home", "new-pass-2"),
        REJECT,
        "without a MAC",
    );

    api::act(&app, &dev, &alice, "disable").await;
    radius.expect(&from("AA:BB:CC:00:11:22"), REJECT, "disabled");
    api::act(&app, &dev, &alice, "resume").await;
    radius.expect(&from("AA:BB:CC:00:11:22"), ACCEPT, "resumed");

    expiry_is_enforced_by_freeradius(&app, &isp, &radius).await;
}

async fn a_suspended_customer_gets_what_its_tenants_policy_says(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let dev = isp.dev.clone();
    let walled = api::tenant(
        &app,
        &dev,
        "Walled ISP",
        "America/New_York",
        ("pool", Some("walled-garden")),
    )
    .await;
    let listed = api::tenant(
        &app,
        &dev,
        "Listed ISP",
        "Asia/Dhaka",
        ("address_list", Some("overdue")),
    )
    .await;
    let (_, _, walled_home, _) = api::offer(&app, &dev, walled, 40).await;
    let (_, _, listed_home, _) = api::offer(&app, &dev, listed, 70).await;
    let rejected = api::customer(&app, &dev, isp.tenant, isp.home, "sus-reject", json!({})).await;
    let pooled = api::customer(&app, &dev, walled, walled_home, "sus-pool", json!({})).await;
    let marked = api::customer(&app, &dev, listed, listed_home, "sus-list", json!({})).await;
    let radius = FreeRadius::start(&app).await;
    for (c, name) in [
        (&rejected, "sus-reject"),
        (&pooled, "sus-pool"),
        (&marked, "sus-list"),
    ] {
        radius.expect(
            &radius.login(&isp.secret, name, &format!("{name}-pw1")),
            ACCEPT,
            "before suspension",
        );
        api::act(&app, &dev, c, "suspend").await;
    }
    radius.expect(
        &radius.login(&isp.secret, "sus-reject", "sus-reject-pw1"),
        REJECT,
        "policy reject",
    );

    let reply = radius.login(&isp.secret, "sus-pool", "sus-pool-pw1");
    radius.expect(&reply, ACCEPT, "policy pool");
    assert_eq!(reply.get("Framed-Pool"), Some("walled-garden"));
    assert_eq!(reply.get("Mikrotik-Address-List"), None);

    let reply = radius.login(&isp.secret, "sus-list", "sus-list-pw1");
    radius.expect(&reply, ACCEPT, "policy address list");
    assert_eq!(reply.get("Mikrotik-Address-List"), Some("overdue"));
    assert_eq!(reply.get("Framed-Pool"), Some("pppoe-main"));
    assert_eq!(reply.get("Mikrotik-Rate-Limit"), Some("10M/50M"));

    api::act(&app, &dev, &pooled, "resume").await;
    let reply = radius.login(&isp.secret, "sus-pool", "sus-pool-pw1");
    radius.expect(&reply, ACCEPT, "resumed");
    assert_eq!(reply.get("Framed-Pool"), Some("pppoe-main"));
}

async fn a_new_suspension_policy_reaches_customers_already_suspended(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let dev = isp.dev.clone();
    let c = api::customer(&app, &dev, isp.tenant, isp.home, "late", json!({})).await;
    api::act(&app, &dev, &c, "suspend").await;
    let radius = FreeRadius::start(&app).await;
    radius.expect(
        &radius.login(&isp.secret, "late", "late-pw1"),
        REJECT,
        "policy reject",
    );

    let (_, tenant) = app
        .get(&format!("/api/v1/tenants/{}", isp.tenant), &dev)
        .await;
    let (status, body) = app
        .patch(&format!("/api/v1/tenants/{}", isp.tenant), &dev,
            json!({"suspension_policy": "address_list", "suspension_target": "overdue", "version": tenant["version"]}))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let reply = radius.login(&isp.secret, "late", "late-pw1");
    radius.expect(
        &reply,
        ACCEPT,
        "suspended, after the tenant moved to an address list",
    );
    assert_eq!(reply.get("Mikrotik-Address-List"), Some("overdue"));
}

async fn a_second_session_is_refused_and_a_case_variant_does_not_dodge_it(backend: Backend) {
    let app = spawn(backend).await;
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
    let radius = FreeRadius::start(&app).await;
    radius.expect(
        &radius.login(&isp.secret, "alice", "alice-pw1"),
        ACCEPT,
        "the first session",
    );
    let session = |status: &str| {
        radius.acct(
            &isp.secret,
            &[
                ("User-Name", "alice"),
                ("Acct-Status-Type", status),
                ("Acct-Session-Id", "81a00001"),
                ("NAS-Port", "1"),
                ("Framed-IP-Address", "10.10.0.9"),
            ],
        )
    };
    let start = session("Start");
    assert_eq!(
        start.code.as_deref(),
        Some("Accounting-Response"),
        "{}\n{}",
        start.raw,
        radius.tail()
    );
    let open = column(
        &app,
        "SELECT username FROM radacct WHERE acctstoptime IS NULL",
    )
    .await;
    assert_eq!(open, vec![Some("alice".to_owned())]);

    let second = radius.login(&isp.secret, "alice", "alice-pw1");
    radius.expect(&second, REJECT, "a second session");
    assert!(second.raw.contains("already logged in"), "{}", second.raw);
    for variant in ["ALICE", "Alice"] {
        radius.expect(
            &radius.login(&isp.secret, variant, "alice-pw1"),
            REJECT,
            "a case variant of the name",
        );
    }

    let stop = session("Stop");
    assert_eq!(
        stop.code.as_deref(),
        Some("Accounting-Response"),
        "{}",
        stop.raw
    );
    radius.expect(
        &radius.login(&isp.secret, "alice", "alice-pw1"),
        ACCEPT,
        "after the first session ended",
    );
}

async fn radius_verify_reports_drift_and_repairs_it(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let dev = isp.dev.clone();
    let alice = api::customer(&app, &dev, isp.tenant, isp.home, "alice", json!({})).await;
    let carol = api::customer(&app, &dev, isp.tenant, isp.home, "carol", json!({})).await;
    let verify = |fix: bool| radius_verify(&app, fix);
    let clean = verify(false);
    assert_eq!(clean.code, Some(0), "{clean:?}");
    assert!(
        clean
            .stdout
            .contains("2 customers checked: 0 drifted, 0 stray rows"),
        "{clean:?}"
    );

    let (alice_id, carol_id) = (alice["id"].as_i64().unwrap(), carol["id"].as_i64().unwrap());
    let (status, _) = app
        .delete(&format!("/api/v1/customers/{carol_id}"), &dev)
        .await;
    assert_eq!(status, reqwest::StatusCode::NO_CONTENT);
    for sql in [
        format!("UPDATE radcheck SET value = 'guessed' WHERE customer_id = {alice_id} AND attribute = 'Cleartext-Password'"),
        format!("INSERT INTO radreply (username, attribute, op, value, customer_id) VALUES ('alice', 'Mikrotik-Rate-Limit', ':=', '1G/1G', {alice_id})"),
        "INSERT INTO radcheck (username, attribute, op, value) VALUES ('mallory', 'Cleartext-Password', ':=', 'x')".to_owned(),
        format!("INSERT INTO radcheck (username, attribute, op, value, customer_id) VALUES ('carol', 'Cleartext-Password', ':=', 'y', {carol_id})"),
        // A group left by an earlier system would add its items to alice's.
        "INSERT INTO radusergroup (username, groupname, priority) VALUES ('alice', 'vip', 1)".to_owned(),
    ] {
        app.state.db.conn().execute_unprepared(&sql).await.unwrap();
    }

    let found = verify(false);
    assert_eq!(found.code, Some(1), "{found:?}");
    let out = &found.stdout;
    assert!(
        out.contains(&format!(
            "customer {alice_id} (alice, tenant {}): drift\n",
            isp.tenant
        )),
        "{out}"
    );
    assert!(
        out.contains("radcheck Cleartext-Password: expected := (password), stored := (password)"),
        "{out}"
    );
    assert!(
        out.contains("radreply Mikrotik-Rate-Limit: expected (none), stored := 1G/1G"),
        "{out}"
    );
    assert!(
        out.contains("(mallory Cleartext-Password): no customer, Unowned"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "(carol Cleartext-Password): customer {carol_id}, Archived"
        )),
        "{out}"
    );
    assert!(
        out.contains("radusergroup groupname: expected (none), stored vip"),
        "{out}"
    );
    assert!(out.contains("1 drifted, 2 stray rows, 0 repaired"), "{out}");
    assert!(
        !out.contains("guessed") && !out.contains("alice-pw1"),
        "passwords stay hidden: {out}"
    );

    let fixed = verify(true);
    assert_eq!(
        fixed.code,
        Some(1),
        "drift was found, and repaired: {fixed:?}"
    );
    assert!(
        fixed.stdout.contains("1 drifted, 2 stray rows, 3 repaired"),
        "{fixed:?}"
    );
    let again = verify(false);
    assert_eq!(again.code, Some(0), "{again:?}");
    assert_eq!(app.count("radusergroup").await, 0, "the group row went");
    assert!(
        again
            .stdout
            .contains("1 customers checked: 0 drifted, 0 stray rows"),
        "{again:?}"
    );
    let value = column(&app, &format!("SELECT value FROM radcheck WHERE customer_id = {alice_id} AND attribute = 'Cleartext-Password'")).await;
    assert_eq!(value, vec![Some("alice-pw1".to_owned())]);
    let audited = column(
        &app,
        "SELECT actor_label FROM audit_log WHERE action = 'radius.repair'",
    )
    .await;
    assert_eq!(audited.len(), 3, "{audited:?}");
    assert!(
        audited
            .iter()
            .all(|a| a.as_deref() == Some("system:radius-verify"))
    );
}

async fn archiving_a_tenant_stops_its_service_and_verify_watches_it_stay_stopped(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let dev = isp.dev.clone();
    api::customer(&app, &dev, isp.tenant, isp.home, "alice", json!({})).await;
    let radius = FreeRadius::start(&app).await;
    radius.expect(
        &radius.login(&isp.secret, "alice", "alice-pw1"),
        ACCEPT,
        "served while the tenant is",
    );
    let (status, body) = app
        .delete(&format!("/api/v1/tenants/{}", isp.tenant), &dev)
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    radius.expect(
        &radius.login(&isp.secret, "alice", "alice-pw1"),
        REJECT,
        "an archived tenant's customer",
    );
    let rows = |table: &str| {
        format!(
            "SELECT CAST(tenant_id AS TEXT) FROM {table} WHERE tenant_id = {}",
            isp.tenant
        )
    };
    for table in ["radcheck", "radreply", "nas"] {
        assert!(column(&app, &rows(table)).await.is_empty(), "{table}");
    }
    let conn = app.state.db.conn();
    let verify = |fix: bool| radius_verify(&app, fix);
    let clean = verify(false);
    assert_eq!(clean.code, Some(0), "{clean:?}");
    // Rows put back behind lastmile's back are drift, and repaired.
    let router = column(
        &app,
        &format!(
            "SELECT CAST(id AS TEXT) FROM router WHERE tenant_id = {}",
            isp.tenant
        ),
    )
    .await;
    let router = router[0].clone().unwrap();
    for sql in [
        format!(
            "INSERT INTO nas (nasname, shortname, secret, tenant_id, router_id) VALUES ('127.0.0.9', 'old', 'x', {}, {router})",
            isp.tenant
        ),
        format!(
            "INSERT INTO radcheck (username, attribute, op, value, tenant_id, customer_id) SELECT username, 'Cleartext-Password', ':=', 'z', tenant_id, id FROM customer WHERE tenant_id = {}",
            isp.tenant
        ),
    ] {
        conn.execute_unprepared(&sql).await.unwrap();
    }
    let found = verify(false);
    assert_eq!(found.code, Some(1), "{found:?}");
    assert!(
        found
            .stdout
            .contains(&format!("(127.0.0.9): router {router}, TenantArchived")),
        "{found:?}"
    );
    assert!(
        found.stdout.contains("1 drifted, 1 stray rows"),
        "{found:?}"
    );
    assert!(
        !found.stdout.contains(":= z"),
        "passwords stay hidden: {found:?}"
    );
    let fixed = verify(true);
    assert!(fixed.stdout.contains("2 repaired"), "{fixed:?}");
    assert_eq!(verify(false).code, Some(0));
    for table in ["radcheck", "nas"] {
        assert!(column(&app, &rows(table)).await.is_empty(), "{table}");
    }
}

both_backends!(
    archiving_a_tenant_stops_its_service_and_verify_watches_it_stay_stopped,
    an_active_customer_is_accepted_with_its_package_and_the_refused_are_rejected,
    changes_reach_the_next_request_in_a_tenant_west_of_utc,
    a_suspended_customer_gets_what_its_tenants_policy_says,
    a_new_suspension_policy_reaches_customers_already_suspended,
    a_second_session_is_refused_and_a_case_variant_does_not_dodge_it,
    radius_verify_reports_drift_and_repairs_it,
);

#[test]
fn the_generator_fails_clearly_without_an_installed_freeradius() {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("raddb");
    let run = support_freeradius::lastmile(&[
        "radius",
        "freeradius-config",
        "--database-url",
        "sqlite:///var/lib/lastmile/lastmile.db",
        "--from",
        "/nonexistent/freeradius",
        "--out",
        target.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(
        run.stderr
            .contains("no FreeRADIUS configuration at /nonexistent/freeradius"),
        "{run:?}"
    );
    assert!(run.stderr.contains("apt-get install freeradius"), "{run:?}");
}

#[test]
fn the_generator_runs_as_freeradius_own_user_and_keeps_to_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("raddb");
    std::fs::create_dir(&out).unwrap();
    let status = std::process::Command::new("chown")
        .args(["-R", "freerad:freerad"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let args = [
        "radius",
        "freeradius-config",
        "--database-url",
        "postgres://lastmile:pw@db.example:5433/isp",
        "--db-user",
        "radius_ro",
        "--db-password",
        "ro-secret",
        "--out",
        out.to_str().unwrap(),
    ];
    let run = support_freeradius::lastmile_as(Some("freerad"), &args);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("wrote mods-available/sql"), "{run:?}");
    assert!(
        run.stdout.contains("wrote lastmile-freeradius-role.sql"),
        "{run:?}"
    );
    let sql = std::fs::read_to_string(out.join("mods-available/sql")).unwrap();
    for line in [
        "dialect = \"postgresql\"",
        "server = 'db.example'",
        "port = 5433",
        "login = 'radius_ro'",
        "password = 'ro-secret'",
        "radius_db = 'isp'",
        "read_clients = no",
        "client_table = \"nas\"",
    ] {
        assert!(sql.contains(line), "{line} in\n{sql}");
    }
    let link = std::fs::read_link(out.join("mods-enabled/sql")).unwrap();
    assert_eq!(link, std::path::PathBuf::from("../mods-available/sql"));
    // Routers are looked up in `nas`; clients.conf defines none of its own.
    let clients = std::fs::read_to_string(out.join("clients.conf")).unwrap();
    assert!(
        clients.contains("dynamic_clients = lastmile_clients"),
        "{clients}"
    );
    assert!(!clients.contains("secret"), "{clients}");
    let site = std::fs::read_link(out.join("sites-enabled/lastmile-clients")).unwrap();
    assert_eq!(
        site,
        std::path::PathBuf::from("../sites-available/lastmile-clients")
    );
    let role = std::fs::read_to_string(out.join("lastmile-freeradius-role.sql")).unwrap();
    assert!(
        role.contains("GRANT CONNECT ON DATABASE \"isp\" TO \"radius_ro\""),
        "{role}"
    );
    let readme = std::fs::read_to_string(out.join("README")).unwrap();
    assert!(readme.contains("psql -d isp -f"), "{readme}");
    // A second run would mix with the first: refused.
    let again = support_freeradius::lastmile_as(Some("freerad"), &args);
    assert_eq!(again.code, Some(2), "{again:?}");
    assert!(again.stderr.contains("is not empty"), "{again:?}");
}
