//! The ISP's network and settings in the web panel over HTTP, without a browser: routers
//! (the RADIUS secret shown once and written to FreeRADIUS's `nas`), zones, IP pools
//! (capacity, use, exact blocks, overlaps refused), the tenant's operating settings, what each
//! role's navigation offers, and the CSRF token on every ISP form (packages are in
//! `panel_isp_packages.rs`, customers in `panel_isp_customers.rs` and `panel_isp_actions.rs`).
//! Each test reads the database as well as the pages; `support::panel` plays the browser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use sea_orm::EntityTrait as _;
use serde_json::json;
use support::panel::{Isp, Reply, Visitor, created, isp, nas_rows, staff_of};
use support::{Backend, TestApp, spawn};

/// The secret shown on a router's page, if the page shows one.
fn secret_on(page: &Reply) -> Option<String> {
    let start = page.body.find("id=\"router-secret\"")?;
    let rest = &page.body[start..];
    let code = rest.find("<code class=\"big\">")? + "<code class=\"big\">".len();
    let end = rest[code..].find("</code>")? + code;
    Some(rest[code..end].to_owned())
}

/// The router form's fields with `changes` applied.
fn router_form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("name", "Core 1"),
        ("nas_address", "10.9.0.1"),
        ("secret", ""),
        ("api_address", ""),
        ("api_port", ""),
        ("api_user", ""),
        ("api_password", ""),
        ("time_zone", ""),
        ("notes", "rack 2"),
    ];
    for (name, value) in changes {
        fields.retain(|(n, _)| n != name);
        fields.push((name, value));
    }
    fields
}

async fn a_router_shows_its_generated_secret_once_and_is_written_to_nas(backend: Backend) {
    let app = spawn(backend).await;
    let Isp { mut admin, .. } = isp(&app).await;

    let reply = admin
        .submit(
            "/panel/routers/new",
            "/panel/routers/new",
            &router_form(&[]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let secret = secret_on(&reply).expect("the new secret is on the page");
    assert_eq!(secret.len(), 24);
    assert_eq!(
        nas_rows(&app).await,
        [("10.9.0.1".to_owned(), secret.clone())]
    );
    let id = reply.action_id("/panel/routers/").unwrap();
    let page = format!("/panel/routers/{id}");

    // The lines to paste into the router carry the secret on the page that shows it.
    assert!(
        reply.has(&format!("secret=&quot;{secret}&quot;"))
            || reply.has(&format!("secret=&#34;{secret}&#34;")),
        "{}",
        reply.body
    );
    assert!(reply.has("src-address=10.9.0.1") && reply.has("/radius incoming set accept=yes"));

    // Never again: neither the router's page nor the list shows it; the lines name a
    // placeholder.
    let shown = admin.get(&page).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(secret_on(&shown).is_none() && !shown.has(&secret));
    assert!(shown.has("/radius add address=") && shown.has("THE-ROUTER-SECRET"));
    let list = admin.get("/panel/routers").await;
    assert_eq!(list.rows("router"), [id]);
    assert!(list.has("Core 1") && !list.has(&secret));

    // Renewing it shows the new one, once, and FreeRADIUS gets it.
    let fields = router_form(&[("new_secret", "on"), ("api_port", "8728")]);
    let reply = admin.submit(&page, &page, &fields).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let renewed = secret_on(&reply).expect("the renewed secret is on the page");
    assert_ne!(renewed, secret);
    assert_eq!(nas_rows(&app).await, [("10.9.0.1".to_owned(), renewed)]);

    // A bad address and a short secret come back with messages; nothing is written.
    let fields = [
        ("name", "Edge"),
        ("nas_address", "not an address"),
        ("secret", "short"),
    ];
    let reply = admin
        .submit("/panel/routers/new", "/panel/routers/new", &fields)
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("Not an IP address."), "{}", reply.body);
    assert!(reply.has("At least 8 characters."));
    assert!(reply.has("value=\"Edge\""), "what was typed stays");
    assert_eq!(app.count("router").await, 1);

    // Deleting takes it out of FreeRADIUS's clients.
    let reply = admin
        .submit(&page, &format!("/panel/routers/{id}/delete"), &[])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(nas_rows(&app).await.is_empty());
    assert!(admin.get("/panel/routers").await.rows("router").is_empty());
}

async fn zones_nest_and_pools_show_capacity_use_and_blocks_and_never_overlap(backend: Backend) {
    let app = spawn(backend).await;
    let Isp { mut admin, .. } = isp(&app).await;

    let new = "/panel/zones/new";
    let north = admin
        .submit(new, new, &[("name", "North"), ("parent_id", "")])
        .await
        .created_id();
    let north_id = north.to_string();
    let inner = admin
        .submit(new, new, &[("name", "North-1"), ("parent_id", &north_id)])
        .await
        .created_id();
    let list = admin.get("/panel/zones").await;
    assert_eq!(list.rows("zone").len(), 2);
    let stored = store::entity::zone::Entity::find_by_id(inner)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.parent_id, Some(north));
    // A zone cannot go inside its own child.
    let page = format!("/panel/zones/{north}");
    let inner_id = inner.to_string();
    let reply = admin
        .submit(&page, &page, &[("name", "North"), ("parent_id", &inner_id)])
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.has("A zone cannot be inside itself"),
        "{}",
        reply.body
    );

    let new = "/panel/ip-pools/new";
    let fields = [("name", "pppoe-main"), ("ranges", "10.0.0.1-10.0.0.254")];
    let reply = admin.submit(new, new, &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = admin.get(reply.location()).await;
    assert_eq!(page.text_of("pool-capacity").as_deref(), Some("254"));
    assert_eq!(page.text_of("pool-used").as_deref(), Some("0"));
    assert_eq!(
        page.text_of("pool-blocks").unwrap(),
        "10.0.0.1/32, 10.0.0.2/31, 10.0.0.4/30, 10.0.0.8/29, 10.0.0.16/28, 10.0.0.32/27, \
         10.0.0.64/26, 10.0.0.128/26, 10.0.0.192/27, 10.0.0.224/28, 10.0.0.240/29, \
         10.0.0.248/30, 10.0.0.252/31, 10.0.0.254/32"
    );

    // Overlapping another pool of the tenant is refused, with the reason beside the field.
    let reply = admin
        .submit(new, new, &[("name", "other"), ("ranges", "10.0.0.128/25")])
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.has("Overlaps another pool of the tenant."),
        "{}",
        reply.body
    );
    let reply = admin
        .submit(new, new, &[("name", "bad"), ("ranges", "10.0.0.300")])
        .await;
    assert!(reply.has("Not a valid pool:"), "{}", reply.body);
    assert_eq!(app.count("ip_pool").await, 1);

    // A comma list of a block and a range; the list shows capacity and use.
    let fields = [
        ("name", "hotspot"),
        ("ranges", "10.1.0.0/24, 10.1.1.1-10.1.1.10"),
    ];
    let reply = admin.submit(new, new, &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let list = admin.get("/panel/ip-pools").await;
    assert_eq!(list.rows("pool").len(), 2);
    assert!(list.has("<td class=\"num\">266</td>"), "{}", list.body);
    assert!(list.has("<code>10.1.0.0/24</code>"));
}

/// A tenant with an operator (`op1`) and its sub-operator (`sub1`); returns their ids.
async fn resellers(app: &TestApp, dev: &str, tenant: i64) -> (i64, i64) {
    let op = app
        .user(dev, staff_of(tenant, "op1@dhaka.example", "operator"))
        .await;
    let mut sub = staff_of(tenant, "sub1@dhaka.example", "sub_operator");
    sub["parent_id"] = json!(op);
    (op, app.user(dev, sub).await)
}

/// The tenant form's fields with the operating settings given.
fn tenant_form<'a>(settings: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("name", "Dhaka Net"),
        ("country", "BD"),
        ("currency", "BDT"),
        ("time_zone", "Asia/Dhaka"),
    ];
    fields.extend_from_slice(settings);
    fields
}

async fn the_tenant_operating_settings_change_through_the_tenant_form(backend: Backend) {
    let app = spawn(backend).await;
    let Isp {
        dev,
        tenant,
        mut admin,
    } = isp(&app).await;
    let page = format!("/panel/tenants/{tenant}");
    let form = admin.get(&page).await;
    assert!(
        form.has("name=\"realm\" value=\"dhaka-net\""),
        "{}",
        form.body
    );

    // An address-list policy needs the list's name; a bad realm is refused.
    let reply = admin
        .submit(
            &page,
            &page,
            &tenant_form(&[
                ("realm", "-bad-"),
                ("suspension_policy", "address_list"),
                ("suspension_target", ""),
                ("default_billing_type", "postpaid"),
            ]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("This field is required."), "{}", reply.body);
    assert!(reply.has("2 to 32 of a-z, 0-9 and hyphens"));
    let stored = store::entity::tenant::Entity::find_by_id(tenant)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            stored.suspension_policy.as_str(),
            stored.default_billing_type.as_str()
        ),
        ("reject", "prepaid")
    );

    let settings = [
        ("realm", "dhaka"),
        ("suspension_policy", "address_list"),
        ("suspension_target", "suspended"),
        ("default_billing_type", "postpaid"),
        ("mobile_country", "IN"),
        ("distributor_mobiles", "1"),
    ];
    assert!(
        !stored.distributor_mobiles,
        "distributors read no mobiles unless the tenant says so"
    );
    let reply = admin.submit(&page, &page, &tenant_form(&settings)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let stored = store::entity::tenant::Entity::find_by_id(tenant)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.realm.as_deref(), Some("dhaka"));
    assert_eq!(
        (
            stored.suspension_policy.as_str(),
            stored.suspension_target.as_deref()
        ),
        ("address_list", Some("suspended"))
    );
    assert_eq!(stored.default_billing_type.code(), "postpaid");
    assert_eq!(stored.mobile_country.as_deref(), Some("IN"));
    assert!(stored.distributor_mobiles);

    // Once the tenant has a customer, its realm stays.
    let master = created(
        &app,
        &dev,
        "/api/v1/packages",
        json!({"tenant_id": tenant, "name": "Home", "connection_type": "pppoe",
               "download_kbps": 10000, "upload_kbps": 2000, "validity_days": 30, "price": 100}),
    )
    .await;
    created(
        &app,
        &dev,
        "/api/v1/customers",
        json!({"tenant_id": tenant, "package_id": master["id"], "connection_type": "pppoe",
               "name": "First", "username": "first", "password": "first-pass"}),
    )
    .await;
    let mut moved = settings.to_vec();
    moved[0] = ("realm", "dhaka-2");
    let reply = admin.submit(&page, &page, &tenant_form(&moved)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.has("The realm cannot change once the tenant has customers."),
        "{}",
        reply.body
    );
    // The same form with the realm untouched still saves.
    let reply = admin.submit(&page, &page, &tenant_form(&settings)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    // A new tenant takes its settings from the same form; a realm in use is refused.
    let mut developer = Visitor::signed_in(&app, "dev@example.com").await;
    let new = "/panel/tenants/new";
    let mut fields = vec![
        ("name", "Chittagong Fiber"),
        ("country", "BD"),
        ("currency", "BDT"),
        ("time_zone", "Asia/Dhaka"),
        ("realm", "dhaka"),
        ("suspension_policy", "pool"),
        ("suspension_target", "walled"),
        ("default_billing_type", "free"),
    ];
    let reply = developer.submit(new, new, &fields).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("Already taken."), "{}", reply.body);
    assert_eq!(app.count("tenant").await, 1);
    fields[4] = ("realm", "ctg");
    let reply = developer.submit(new, new, &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let stored = store::entity::tenant::Entity::find_by_id(reply.created_id())
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.realm.as_deref(), Some("ctg"));
    assert_eq!(
        (
            stored.suspension_policy.as_str(),
            stored.suspension_target.as_deref(),
            stored.default_billing_type.as_str()
        ),
        ("pool", Some("walled"), "free")
    );
}

async fn each_role_is_offered_the_sections_it_may_use(backend: Backend) {
    let app = spawn(backend).await;
    let Isp {
        dev,
        tenant,
        mut admin,
    } = isp(&app).await;
    resellers(&app, &dev, tenant).await;
    app.user(
        &dev,
        staff_of(tenant, "cards@dhaka.example", "card_distributor"),
    )
    .await;
    let sections = [
        "/panel/customers",
        "/panel/packages",
        "/panel/routers",
        "/panel/zones",
        "/panel/ip-pools",
    ];
    let offered = |page: &Reply| -> Vec<&str> {
        sections
            .iter()
            .copied()
            .filter(|s| page.has(&format!("<a href=\"{s}\"")))
            .collect()
    };
    let dashboard = admin.get("/panel").await;
    assert_eq!(offered(&dashboard), sections);
    let mut operator = Visitor::signed_in(&app, "op1@dhaka.example").await;
    let dashboard = operator.get("/panel").await;
    assert_eq!(offered(&dashboard), ["/panel/customers", "/panel/packages"]);
    let mut cards = Visitor::signed_in(&app, "cards@dhaka.example").await;
    let dashboard = cards.get("/panel").await;
    assert!(offered(&dashboard).is_empty(), "{}", dashboard.body);
    // Nor does the address show a card distributor any customer or let it create one.
    let list = cards.get("/panel/customers").await;
    assert!(list.rows("customer").is_empty());
    assert_eq!(
        cards.get("/panel/customers/new").await.status,
        StatusCode::FORBIDDEN
    );
    // The operator reads the network but may not change it.
    assert_eq!(
        operator.get("/panel/routers/new").await.status,
        StatusCode::FORBIDDEN
    );
}

async fn every_isp_form_refuses_a_post_without_its_csrf_token(backend: Backend) {
    let app = spawn(backend).await;
    let Isp {
        dev,
        tenant,
        mut admin,
    } = isp(&app).await;
    let master = created(
        &app,
        &dev,
        "/api/v1/packages",
        json!({"tenant_id": tenant, "name": "Home", "connection_type": "pppoe",
               "download_kbps": 10000, "upload_kbps": 2000, "validity_days": 30, "price": 100}),
    )
    .await;
    let customer = created(
        &app,
        &dev,
        "/api/v1/customers",
        json!({"tenant_id": tenant, "package_id": master["id"], "connection_type": "pppoe",
               "name": "First", "username": "first", "password": "first-pass"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let counted = [
        "router",
        "zone",
        "ip_pool",
        "package",
        "customer",
        "audit_log",
    ];
    let mut before = Vec::new();
    for table in counted {
        before.push(app.count(table).await);
    }
    let posts: [(String, Vec<(&str, &str)>); 8] = [
        ("/panel/routers/new".into(), router_form(&[])),
        ("/panel/zones/new".into(), vec![("name", "North")]),
        (
            "/panel/ip-pools/new".into(),
            vec![("name", "p"), ("ranges", "10.0.0.0/24")],
        ),
        (
            "/panel/packages/new".into(),
            vec![
                ("name", "X"),
                ("download_kbps", "1M"),
                ("upload_kbps", "1M"),
            ],
        ),
        (
            "/panel/customers/new".into(),
            vec![
                ("name", "X"),
                ("username", "x"),
                ("connection_type", "pppoe"),
            ],
        ),
        (
            format!("/panel/customers/{customer}/suspend"),
            vec![("version", "1")],
        ),
        (format!("/panel/customers/{customer}/delete"), vec![]),
        (
            format!("/panel/tenants/{tenant}"),
            tenant_form(&[("suspension_policy", "pool"), ("suspension_target", "x")]),
        ),
    ];
    for (path, fields) in &posts {
        let reply = admin.post(path, fields).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            reply.has("This form has expired."),
            "{path}: {}",
            reply.body
        );
        let mut wrong = fields.clone();
        wrong.push(("_csrf", "not-the-token"));
        assert_eq!(
            admin.post(path, &wrong).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let mut after = Vec::new();
    for table in counted {
        after.push(app.count(table).await);
    }
    assert_eq!(before, after, "nothing was written");
    let (_, stored) = app
        .get(&format!("/api/v1/customers/{customer}"), &dev)
        .await;
    assert_eq!(stored["status"], "active");
}

/// `lastmile sim-router` serving API-SSL with a certificate of its own, killed when dropped:
/// its address and the fingerprint it printed.
struct TlsRouter {
    child: std::process::Child,
    address: String,
    fingerprint: String,
}

impl Drop for TlsRouter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tls_router() -> TlsRouter {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_lastmile"))
        .args([
            "sim-router",
            "--listen",
            "127.0.0.1:0",
            "--tls-listen",
            "127.0.0.1:0",
        ])
        .args(["--user", "api", "--password", "pw-123456"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut found = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["api-ssl", address, "fingerprint", fingerprint] => {
                found = Some(((*address).to_owned(), (*fingerprint).to_owned()));
            }
            ["ready"] => break,
            _ => {}
        }
    }
    let (address, fingerprint) = found.expect("the simulated router serves API-SSL");
    TlsRouter {
        child,
        address,
        fingerprint,
    }
}

/// Reads the job page until the job is done; returns the page.
async fn finished_job(visitor: &mut Visitor<'_>, page: &str) -> Reply {
    for _ in 0..200 {
        let shown = visitor.get(page).await;
        let status = shown.text_of("job-status").unwrap_or_default();
        if status == "done" || status == "failed" {
            return shown;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{page} never finished");
}

/// On first contact the operator reads, on the router's page, the fingerprint the router's
/// API-SSL presents (in a job: the request does no network IO), pins it, and a second read
/// says it is pinned. A router without TLS is told why.
async fn the_router_page_reads_the_certificate_fingerprint_to_pin(backend: Backend) {
    let app = spawn(backend).await;
    let Isp {
        dev,
        tenant,
        mut admin,
    } = isp(&app).await;
    let sim = tls_router();
    let (host, port) = sim.address.rsplit_once(':').unwrap();
    let router = created(
        &app,
        &dev,
        "/api/v1/routers",
        json!({"tenant_id": tenant, "name": "edge", "nas_address": "10.7.0.1", "api_address": host,
               "api_port": port.parse::<u16>().unwrap(), "api_tls": true, "api_user": "api", "api_password": "pw-123456"}),
    )
    .await;
    let id = router["id"].as_i64().unwrap();
    let page = format!("/panel/routers/{id}");
    let reply = admin.submit(&page, &format!("{page}/tls-probe"), &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let job = reply.location().to_owned();
    assert!(job.starts_with("/panel/jobs/"), "{job}");
    let shown = finished_job(&mut admin, &job).await;
    assert_eq!(
        shown.text_of("job-fingerprint").as_deref(),
        Some(sim.fingerprint.as_str()),
        "{}",
        shown.body
    );
    assert!(
        shown.has(&format!("<a href=\"{page}\">")),
        "a link to pin it: {}",
        shown.body
    );

    let (status, pinned) = app
        .patch(&format!("/api/v1/routers/{id}"), &dev, json!({"api_tls_trust": "pinned", "api_tls_fingerprint": sim.fingerprint, "version": router["version"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{pinned}");
    let reply = admin.submit(&page, &format!("{page}/tls-probe"), &[]).await;
    let again = finished_job(&mut admin, reply.location()).await;
    assert!(again.has("the router pins it already"), "{}", again.body);

    let plain = created(
        &app,
        &dev,
        "/api/v1/routers",
        json!({"tenant_id": tenant, "name": "plain", "nas_address": "10.7.0.2"}),
    )
    .await;
    let plain = format!("/panel/routers/{}", plain["id"]);
    let refused = admin
        .submit(&plain, &format!("{plain}/tls-probe"), &[])
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
}

both_backends!(
    a_router_shows_its_generated_secret_once_and_is_written_to_nas,
    zones_nest_and_pools_show_capacity_use_and_blocks_and_never_overlap,
    the_tenant_operating_settings_change_through_the_tenant_form,
    each_role_is_offered_the_sections_it_may_use,
    every_isp_form_refuses_a_post_without_its_csrf_token,
    the_router_page_reads_the_certificate_fingerprint_to_pin,
);
