//! Zero-touch provisioning through the API, against the simulated router over TCP: the plan
//! lists every step and changes nothing; applying it gives the router lastmile's RADIUS
//! entry, CoA, PPP AAA, hotspot profile, walled garden, suspended pool and its firewall rule,
//! and, for a router with a captive portal, the portal's pages in a directory of their own
//! with the hotspot profiles pointed at it; it leaves the entries of others as they were; a second run plans nothing; a step that
//! fails (the connection dropped at any sentence, a trap, a reply that never comes) leaves
//! the router exactly as it was.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;

use sea_orm::EntityTrait as _;

use reqwest::StatusCode;
use routeros::sim::{Faults, Group, SimConfig, SimRouter};
use serde_json::{Value, json};
use support::customers::{Isp, isp, reach_router, wait_for_job};
use support::panel::Visitor;
use support::{Backend, TestApp, spawn};

/// Everything the router holds in those menus, as text.
fn state(sim: &SimRouter) -> BTreeMap<&'static str, Vec<String>> {
    // Every menu provisioning may touch.
    domain::network::provision::MENUS
        .iter()
        .map(|menu| {
            let rows = sim.rows(menu).unwrap();
            (*menu, rows.iter().map(|r| format!("{r:?}")).collect())
        })
        .collect()
}

/// A tenant whose suspension pool exists, and its router reaching `sim`.
async fn setup(app: &TestApp, sim: &SimRouter) -> Isp {
    let isp = isp(app).await;
    let (status, body) = app
        .post(
            "/api/v1/ip-pools",
            &isp.dev,
            json!({"tenant_id": isp.tenant, "name": "suspended", "ranges": "100.65.96.0/20"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    point(app, &isp, sim).await;
    isp
}

/// Gives the router API access to `sim`.
async fn point(app: &TestApp, isp: &Isp, sim: &SimRouter) {
    reach_router(app, isp, sim.address().port()).await;
}

async fn provision(app: &TestApp, isp: &Isp, dry_run: bool) -> Value {
    let (status, queued) = app
        .post(
            &format!("/api/v1/routers/{}/provision", isp.router),
            &isp.dev,
            json!({"dry_run": dry_run, "radius_address": "198.51.100.10", "portal_address": "198.51.100.20",
                   "identity": "core-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    wait_for_job(app, &isp.dev, queued["id"].as_i64().unwrap()).await
}

fn row(sim: &SimRouter, menu: &str, key: &str, value: &str) -> routeros::Row {
    sim.rows(menu)
        .unwrap()
        .into_iter()
        .find(|r| r.text(key).as_deref() == Some(value))
        .unwrap_or_else(|| panic!("no {key}={value} in {menu}"))
}

async fn a_router_is_provisioned_once_and_what_others_set_stays(backend: Backend) {
    let app = spawn(backend).await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    // Set by hand before lastmile came: a RADIUS server for logins and a filter rule.
    sim.insert(
        "/radius",
        &[
            ("address", "10.9.9.9"),
            ("service", "login"),
            ("secret", "noc-secret"),
            ("comment", "noc"),
        ],
    )
    .unwrap();
    sim.insert(
        "/ip/firewall/filter",
        &[
            ("chain", "forward"),
            ("action", "accept"),
            ("comment", "by hand"),
        ],
    )
    .unwrap();
    sim.insert(
        "/interface/pppoe-server/server",
        &[
            ("service-name", "isp"),
            ("interface", "ether2"),
            ("disabled", "no"),
        ],
    )
    .unwrap();
    let isp = setup(&app, &sim).await;
    let before = state(&sim);

    // The plan: every step, nothing changed.
    let job = provision(&app, &isp, true).await;
    assert_eq!(job["status"], "done", "{job}");
    let steps = job["result"]["steps"].as_array().unwrap();
    let menus: Vec<&str> = steps.iter().map(|s| s["menu"].as_str().unwrap()).collect();
    assert_eq!(
        menus,
        [
            "/radius",
            "/radius/incoming",
            "/ppp/aaa",
            "/interface/pppoe-server/server",
            "/interface/pppoe-server/server",
            "/ip/hotspot/profile",
            "/ip/hotspot/walled-garden/ip",
            "/ip/pool",
            "/ip/firewall/filter",
            "/system/script",
            "/system/scheduler",
            "/system/identity",
        ],
        "{job}"
    );
    assert_eq!(steps[2]["action"], "set", "{job}");
    assert_eq!(steps[2]["before"]["use-radius"], "false", "{job}");
    assert_eq!(state(&sim), before, "a plan changes nothing");

    // Applied: lastmile's items, the others' untouched.
    let job = provision(&app, &isp, false).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["result"]["applied"]["applied"], 12, "{job}");
    let radius = row(&sim, "/radius", "comment", "lastmile:radius");
    assert_eq!(radius.text("address").as_deref(), Some("198.51.100.10"));
    let (_, router) = app
        .get(&format!("/api/v1/routers/{}", isp.router), &isp.dev)
        .await;
    let sealed: String = store::entity::router::Entity::find_by_id(isp.router)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap()
        .secret;
    let secret = app
        .state
        .db
        .keyring()
        .open_string(store::network::SECRET_CONTEXT, &sealed)
        .unwrap()
        .to_string();
    assert_eq!(radius.text("secret"), Some(secret.clone()), "{router}");
    // The secret is never shown: not in the job's result, the audit log or the kept steps.
    let (_, audit) = app
        .get("/api/v1/audit?action=router.provision.apply", &isp.dev)
        .await;
    let kept: Vec<String> = store::entity::router_provisioning::Entity::find()
        .all(app.state.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.steps)
        .collect();
    for shown in [job.to_string(), audit.to_string(), kept.join(" ")] {
        assert!(!shown.contains(&secret), "the secret shows in {shown}");
    }
    assert_eq!(
        row(&sim, "/radius", "comment", "noc")
            .text("secret")
            .as_deref(),
        Some("noc-secret")
    );
    assert_eq!(
        sim.rows("/radius/incoming").unwrap()[0]
            .text("accept")
            .as_deref(),
        Some("true")
    );
    let aaa = &sim.rows("/ppp/aaa").unwrap()[0];
    assert_eq!(aaa.text("use-radius").as_deref(), Some("true"));
    assert_eq!(aaa.text("interim-update").as_deref(), Some("5m"));
    let filter = row(
        &sim,
        "/ip/firewall/filter",
        "comment",
        "lastmile:suspended-0",
    );
    assert_eq!(
        filter.text("src-address").as_deref(),
        Some("100.65.96.0/20")
    );
    assert_eq!(
        filter.text("dst-address").as_deref(),
        Some("!198.51.100.20")
    );
    assert_eq!(
        row(&sim, "/ip/pool", "name", "suspended")
            .text("ranges")
            .as_deref(),
        Some("100.65.96.0-100.65.111.255")
    );
    let by_hand = row(&sim, "/ip/firewall/filter", "comment", "by hand");
    assert_eq!(by_hand.text("action").as_deref(), Some("accept"));
    // The suspended rule stands before the rule set by hand in its chain: appended, that
    // rule's accept would let suspended customers through.
    let order: Vec<String> = sim
        .rows("/ip/firewall/filter")
        .unwrap()
        .iter()
        .filter_map(|r| r.text("comment"))
        .collect();
    assert_eq!(order, ["lastmile:suspended-0", "by hand"], "{order:?}");
    assert_eq!(
        row(
            &sim,
            "/interface/pppoe-server/server",
            "service-name",
            "isp"
        )
        .text("authentication")
        .as_deref(),
        Some("pap,chap,mschap2")
    );

    // A second run plans nothing, and applying it changes nothing.
    let after = state(&sim);
    let job = provision(&app, &isp, false).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["result"]["steps"], json!([]), "{job}");
    assert_eq!(state(&sim), after);
    let (_, audit) = app
        .get("/api/v1/audit?action=router.provision.apply", &isp.dev)
        .await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1), "{audit}");

    // Rolled back on request: the router is as it was before lastmile came.
    let rollback = format!("/api/v1/routers/{}/provision/rollback", isp.router);
    let (status, queued) = app.post(&rollback, &isp.dev, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let job = wait_for_job(&app, &isp.dev, queued["id"].as_i64().unwrap()).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["result"]["undone"], 12, "{job}");
    assert_eq!(state(&sim), before, "rolled back");
    let (status, body) = app.post(&rollback, &isp.dev, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["fields"][0]["code"], "nothing_to_roll_back",
        "{body}"
    );
    // And provisioned again from there: the same twelve steps.
    let job = provision(&app, &isp, true).await;
    assert_eq!(
        job["result"]["steps"].as_array().map(Vec::len),
        Some(12),
        "{job}"
    );
}

async fn a_failed_step_leaves_the_router_as_it_was(backend: Backend) {
    let app = spawn(backend).await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    sim.insert(
        "/radius",
        &[
            ("address", "10.9.9.9"),
            ("service", "login"),
            ("comment", "noc"),
        ],
    )
    .unwrap();
    let isp = setup(&app, &sim).await;
    let before = state(&sim);
    let dry = provision(&app, &isp, true).await;
    let steps = dry["result"]["steps"].as_array().unwrap().len();

    // The connection dropped after each sentence of the run: the reading, every step.
    let mut failed = 0;
    for after in 1..=300 {
        sim.set_faults(Faults {
            drop_after_sentences: Some(after),
            ..Faults::default()
        });
        let job = provision(&app, &isp, false).await;
        sim.set_faults(Faults::default());
        if job["status"] == "failed" {
            failed += 1;
            assert_eq!(
                state(&sim),
                before,
                "dropped after {after} sentences: {job}"
            );
        } else {
            assert_eq!(job["status"], "done", "{job}");
            break;
        }
    }
    assert!(failed > steps, "every step was cut once: {failed} failures");
    assert_ne!(
        state(&sim),
        before,
        "the run without a fault applied the plan"
    );

    // A trap, the session closed at a step, and a reply that never comes: all undone.
    let sim2 = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    point(&app, &isp, &sim2).await;
    let blank = state(&sim2);
    for faults in [
        Faults {
            trap_on_command: Some("/system/identity/set".to_owned()),
            ..Faults::default()
        },
        Faults {
            fatal_on_command: Some("/ip/firewall/filter/add".to_owned()),
            ..Faults::default()
        },
        Faults {
            silent_on_command: Some("/ip/pool/add".to_owned()),
            ..Faults::default()
        },
    ] {
        sim2.set_faults(faults.clone());
        let job = provision(&app, &isp, false).await;
        sim2.set_faults(Faults::default());
        assert_eq!(job["status"], "failed", "{faults:?}: {job}");
        let error = job["last_error"].as_str().unwrap();
        assert!(error.contains("every step applied was undone"), "{error}");
        assert_eq!(state(&sim2), blank, "{faults:?}");
    }
}

/// Checks the router now; its last health check.
async fn health(app: &TestApp, isp: &Isp) -> Value {
    let path = format!("/api/v1/routers/{}/health", isp.router);
    let (status, queued) = app.post(&path, &isp.dev, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let job = wait_for_job(app, &isp.dev, queued["id"].as_i64().unwrap()).await;
    assert_eq!(job["status"], "done", "{job}");
    let (status, health) = app.get(&path, &isp.dev).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    health
}

async fn the_health_check_sees_the_router_and_what_drifted(backend: Backend) {
    let app = spawn(backend).await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    let isp = setup(&app, &sim).await;
    let (status, _) = app
        .get(&format!("/api/v1/routers/{}/health", isp.router), &isp.dev)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "never checked");

    // Never provisioned: seen, with nothing to compare.
    let seen = health(&app, &isp).await;
    assert_eq!(seen["identity"], "MikroTik", "{seen}");
    assert!(seen["version"].as_str().unwrap().starts_with('7'), "{seen}");
    assert!(seen["seen_at"].is_string(), "{seen}");
    assert_eq!(seen["radius_ok"], Value::Null, "{seen}");
    assert_eq!(seen["drift"], Value::Null, "{seen}");

    // Provisioned: right; then someone removes lastmile's RADIUS entry by hand.
    assert_eq!(provision(&app, &isp, false).await["status"], "done");
    let right = health(&app, &isp).await;
    assert_eq!(right["identity"], "core-1", "{right}");
    assert_eq!(
        (right["radius_ok"].as_bool(), &right["drift"]),
        (Some(true), &Value::Null),
        "{right}"
    );
    let ours = row(&sim, "/radius", "comment", "lastmile:radius")
        .id()
        .unwrap();
    assert!(sim.remove("/radius", &ours).unwrap());
    let drifted = health(&app, &isp).await;
    assert_eq!(drifted["radius_ok"], false, "{drifted}");
    assert_eq!(drifted["drift"][0]["menu"], "/radius", "{drifted}");
    assert_eq!(drifted["drift"][0]["action"], "add", "{drifted}");

    // Gone: the check fails and says why; when it was last seen stays.
    let last_seen = drifted["seen_at"].clone();
    drop(sim);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let gone = health(&app, &isp).await;
    assert!(gone["error"].is_string(), "{gone}");
    assert_eq!(gone["seen_at"], last_seen, "{gone}");
}

/// Points the router at `sim`'s API-SSL, trusting the certificate of `fingerprint`.
async fn pin(app: &TestApp, isp: &Isp, sim: &SimRouter, fingerprint: String) {
    let path = format!("/api/v1/routers/{}", isp.router);
    let (_, router) = app.get(&path, &isp.dev).await;
    let (status, body) = app
        .patch(
            &path,
            &isp.dev,
            json!({"api_port": sim.tls_address().unwrap().port(), "api_tls": true,
                   "api_tls_trust": "pinned", "api_tls_fingerprint": fingerprint,
                   "version": router["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn over_tls_the_pinned_certificate_is_checked_before_anything(backend: Backend) {
    let app = spawn(backend).await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full).with_tls())
        .await
        .unwrap();
    let isp = setup(&app, &sim).await;
    let before = state(&sim);
    // Another certificate's fingerprint: refused at the handshake, nothing sent.
    pin(&app, &isp, &sim, "ab".repeat(32)).await;
    let job = provision(&app, &isp, false).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["last_error"].as_str().unwrap().contains("fingerprint"),
        "{job}"
    );
    assert_eq!(state(&sim), before);
    // The router's own: provisioned over TLS.
    pin(&app, &isp, &sim, sim.fingerprint().unwrap().to_string()).await;
    let job = provision(&app, &isp, false).await;
    assert_eq!(job["status"], "done", "{job}");
    row(&sim, "/radius", "comment", "lastmile:radius");
}

async fn the_router_page_carries_its_operations_and_shows_their_plans(backend: Backend) {
    let app = spawn(backend).await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    sim.insert(
        "/ppp/secret",
        &[("name", "old-1"), ("password", "pw-old-1")],
    )
    .unwrap();
    let isp = setup(&app, &sim).await;
    let mut dev = Visitor::signed_in(&app, "dev@example.com").await;
    let page = format!("/panel/routers/{}", isp.router);
    let shown = dev.get(&page).await;
    for form in [
        "check-health",
        "router-import",
        "router-provision",
        "router-rollback",
        "router-pools",
        "router-migrate",
        "router-migrate-rollback",
    ] {
        assert!(
            shown.has(&format!("id=\"{form}\"")),
            "{form}: {}",
            shown.body
        );
    }
    assert!(shown.has("Not checked yet."), "{}", shown.body);

    // Each operation queues its job and shows its page.
    let follow = async |dev: &mut Visitor<'_>, reply: support::panel::Reply| {
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let job: i64 = reply
            .location()
            .strip_prefix("/panel/jobs/")
            .unwrap()
            .parse()
            .unwrap();
        let done = wait_for_job(&app, &isp.dev, job).await;
        assert_eq!(done["status"], "done", "{done}");
        dev.get(reply.location()).await
    };
    let reply = dev.submit(&page, &format!("{page}/health"), &[]).await;
    follow(&mut dev, reply).await;
    let shown = dev.get(&page).await;
    assert_eq!(
        shown.text_of("health-version").as_deref(),
        Some("7.16.2 (stable)")
    );

    let reply = dev
        .submit(&page, &format!("{page}/import"), &[("dry_run", "yes")])
        .await;
    let job = follow(&mut dev, reply).await;
    assert!(
        job.has("data-count=\"jobs.secrets_skipped\""),
        "{}",
        job.body
    );

    // A plan shows every step, the secret hidden; a bad address is refused on the page.
    let reply = dev
        .submit(
            &page,
            &format!("{page}/provision"),
            &[("radius_address", "not an address"), ("dry_run", "yes")],
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.has("Not an IP address."), "{}", reply.body);
    let reply = dev
        .submit(
            &page,
            &format!("{page}/provision"),
            &[("radius_address", "198.51.100.10"), ("dry_run", "yes")],
        )
        .await;
    let plan = follow(&mut dev, reply).await;
    assert!(plan.has("id=\"job-steps\""), "{}", plan.body);
    assert!(plan.has("lastmile:radius"), "{}", plan.body);
    assert!(plan.has("secret=••••"), "{}", plan.body);

    // Nothing was provisioned: nothing to roll back, said on the page.
    let reply = dev
        .submit(&page, &format!("{page}/provision/rollback"), &[])
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(
        reply.has("No provisioning of this router is left to roll back."),
        "{}",
        reply.body
    );

    // The pools' plan lists its steps; a migration's pace out of bounds, or one never
    // made, is said on the page.
    let reply = dev
        .submit(&page, &format!("{page}/pools"), &[("dry_run", "yes")])
        .await;
    let plan = follow(&mut dev, reply).await;
    assert!(plan.has("id=\"job-steps\""), "{}", plan.body);
    assert!(plan.has("/ppp/profile"), "{}", plan.body);
    let reply = dev
        .submit(&page, &format!("{page}/migrate"), &[("canary", "0")])
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.has("Between 1 and 20."), "{}", reply.body);
    let reply = dev
        .submit(&page, &format!("{page}/migrate/rollback"), &[])
        .await;
    assert!(
        reply.has("No migration of this router is left to roll back."),
        "{}",
        reply.body
    );
}

async fn the_packages_pools_are_pushed_once_and_by_name(backend: Backend) {
    let app = spawn(backend).await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    // By hand: a pool "home" of other ranges, and a profile of someone else's.
    sim.insert(
        "/ip/pool",
        &[("name", "home"), ("ranges", "10.9.0.2-10.9.0.9")],
    )
    .unwrap();
    sim.insert(
        "/ppp/profile",
        &[("name", "noc"), ("local-address", "10.9.9.1")],
    )
    .unwrap();
    let isp = setup(&app, &sim).await;
    let path = format!("/api/v1/routers/{}/pools", isp.router);
    let push = async |body: Value| {
        let (status, queued) = app.post(&path, &isp.dev, body).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
        wait_for_job(&app, &isp.dev, queued["id"].as_i64().unwrap()).await
    };
    let before = sim.rows("/ip/pool").unwrap();
    let plan = push(json!({"dry_run": true, "gateway": "172.31.255.1"})).await;
    assert_eq!(plan["status"], "done", "{plan}");
    // The packages give addresses from "home" only.
    assert_eq!(plan["result"]["pools"], 1, "{plan}");
    let steps: Vec<(String, String)> = plan["result"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["menu"].as_str().unwrap().to_owned(),
                s["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("/ip/pool".to_owned(), "set".to_owned()),
            ("/ppp/profile".to_owned(), "add".to_owned())
        ]
    );
    assert_eq!(
        sim.rows("/ip/pool").unwrap(),
        before,
        "a plan changes nothing"
    );

    let done = push(json!({"dry_run": false, "gateway": "172.31.255.1"})).await;
    assert_eq!(done["status"], "done", "{done}");
    let pool = row(&sim, "/ip/pool", "name", "home");
    assert_eq!(pool.text("ranges").as_deref(), Some("10.0.0.0-10.0.3.255"));
    let profile = row(&sim, "/ppp/profile", "name", "home");
    assert_eq!(profile.text("remote-address").as_deref(), Some("home"));
    assert_eq!(
        profile.text("local-address").as_deref(),
        Some("172.31.255.1")
    );
    let noc = row(&sim, "/ppp/profile", "name", "noc");
    assert_eq!(
        noc.text("local-address").as_deref(),
        Some("10.9.9.1"),
        "others' stay"
    );
    let again = push(json!({"dry_run": false, "gateway": "172.31.255.1"})).await;
    assert_eq!(again["result"]["steps"], json!([]), "{again}");

    // Pools of another tenant and a gateway that is no address are refused.
    for (body, field, code) in [
        (
            json!({"dry_run": true, "pool_ids": [999_999]}),
            "pool_ids",
            "not_found",
        ),
        (
            json!({"dry_run": true, "gateway": "0.0.0.0"}),
            "gateway",
            "invalid_ip",
        ),
    ] {
        let (status, refused) = app.post(&path, &isp.dev, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(refused["error"]["fields"][0]["field"], field, "{refused}");
        assert_eq!(refused["error"]["fields"][0]["code"], code, "{refused}");
    }
}

async fn a_router_with_a_captive_portal_gets_its_pages(backend: Backend) {
    let app = spawn(backend).await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    sim.insert("/ip/hotspot/profile", &[("name", "hsprof1")])
        .unwrap();
    let isp = setup(&app, &sim).await;
    let (status, portal) = app
        .post(
            "/api/v1/hotspot-portals",
            &isp.dev,
            json!({"router_id": isp.router, "package_id": isp.hotspot}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{portal}");
    let key = portal["portal_key"].as_str().unwrap();
    let path = format!("/api/v1/routers/{}/provision", isp.router);
    // A portal address that would break out of the page's markup is refused.
    let (status, refused) = app
        .post(
            &path,
            &isp.dev,
            json!({"dry_run": false, "radius_address": "198.51.100.10",
                   "portal_url": "https://x.example/\"><script>"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["fields"][0]["code"], "invalid_portal_url");
    let body = json!({"dry_run": false, "radius_address": "198.51.100.10",
                      "portal_address": "198.51.100.20", "portal_url": "https://portal.isp.example"});
    let (status, queued) = app.post(&path, &isp.dev, body.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let job = wait_for_job(&app, &isp.dev, queued["id"].as_i64().unwrap()).await;
    assert_eq!(job["status"], "done", "{job}");
    // The four pages, in lastmile's own directory, and the hotspot profile pointed at it.
    for (name, contents) in domain::hotspot::router_pages("https://portal.isp.example", key) {
        let file = row(&sim, "/file", "name", &format!("lastmile-hotspot/{name}"));
        assert_eq!(file.text("contents").as_deref(), Some(contents.as_str()));
    }
    let login = row(&sim, "/file", "name", "lastmile-hotspot/login.html");
    let login = login.text("contents").unwrap();
    assert!(login.contains(&format!("https://portal.isp.example/hs/{key}/start")));
    for profile in sim.rows("/ip/hotspot/profile").unwrap() {
        assert_eq!(
            profile.text("html-directory").as_deref(),
            Some("lastmile-hotspot"),
            "{profile:?}"
        );
    }
    // A second run plans nothing.
    let (status, queued) = app
        .post(
            &path,
            &isp.dev,
            json!({"dry_run": true, "radius_address": "198.51.100.10",
            "portal_address": "198.51.100.20", "portal_url": "https://portal.isp.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let plan = wait_for_job(&app, &isp.dev, queued["id"].as_i64().unwrap()).await;
    assert_eq!(plan["result"]["steps"], json!([]), "{plan}");
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
    a_router_is_provisioned_once_and_what_others_set_stays,
    a_failed_step_leaves_the_router_as_it_was,
    over_tls_the_pinned_certificate_is_checked_before_anything,
    the_health_check_sees_the_router_and_what_drifted,
    the_router_page_carries_its_operations_and_shows_their_plans,
    the_packages_pools_are_pushed_once_and_by_name,
    a_router_with_a_captive_portal_gets_its_pages,
);
