//! Import from a router through the API, against the simulated router over TCP: the plan
//! shows every pool, profile and secret with what happens to it and writes nothing; the
//! import creates the pools with their exact ranges and the customers with their FreeRADIUS
//! rows, bound to the router; a second run creates nothing; the file of everything read is
//! kept for download; an API user that cannot read passwords is refused with a message
//! saying what to change; the first bill asked for is an invoice for the period imported,
//! issued once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use routeros::sim::{Faults, Group, SimConfig, SimRouter};
use serde_json::{Value, json};
use support::customers::{Isp, has, isp, reach_router, rows, wait_for_job};
use support::{Backend, TestApp, spawn};

/// Gives router `isp.router` API access to `sim`.
async fn reach(app: &TestApp, isp: &Isp, sim: &SimRouter) {
    reach_router(app, isp, sim.address().port()).await;
}

/// Asks for an import and waits for its job; returns the job.
async fn run_import(app: &TestApp, isp: &Isp, body: Value) -> Value {
    let (status, queued) = app
        .post(
            &format!("/api/v1/routers/{}/import", isp.router),
            &isp.dev,
            body,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["kind"], "router.import");
    wait_for_job(app, &isp.dev, queued["id"].as_i64().unwrap()).await
}

fn action(plan: &Value, list: &str, name: &str) -> Value {
    plan[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in the plan's {list}: {plan}"))
        .clone()
}

/// What the simulated router holds: pools in every range form, profiles, and secrets each
/// meeting another rule.
fn fill(sim: &SimRouter) {
    for (name, ranges) in [
        ("home", "10.0.0.0/22"),
        ("pppoe-a", "100.64.0.2-100.64.0.254"),
        ("pppoe-b", "100.64.1.0/24,100.64.2.10-100.64.2.20"),
        ("single", "100.64.3.7"),
        ("clash", "10.0.1.0/24"),
        ("fixed", "203.0.113.0/29"),
    ] {
        sim.insert("/ip/pool", &[("name", name), ("ranges", ranges)])
            .unwrap();
    }
    for (name, rate) in [("Home", "20M/5M"), ("gold", "50M/10M"), ("legacy", "1M/1M")] {
        sim.insert(
            "/ppp/profile",
            &[
                ("name", name),
                ("local-address", "100.64.0.1"),
                ("remote-address", "pppoe-a"),
                ("rate-limit", rate),
            ],
        )
        .unwrap();
    }
    let secret = |name: &str, profile: &str, extra: &[(&str, &str)]| {
        let mut props = vec![
            ("name", name),
            ("password", "pw-of-router"),
            ("service", "pppoe"),
            ("profile", profile),
        ];
        props.extend_from_slice(extra);
        sim.insert("/ppp/secret", &props).unwrap();
    };
    secret("sub1", "Home", &[]);
    secret("sub2", "gold", &[("remote-address", "100.64.0.50")]);
    secret("sub3", "Home", &[("disabled", "yes")]);
    secret("sub4", "legacy", &[]);
    secret("sub5", "Home", &[("service", "l2tp")]);
    secret("dup1", "Home", &[]);
    secret(
        "sub6",
        "Home",
        &[("comment", "Rahim Uddin\r\nroad 4, house 9")],
    );
}

async fn a_router_is_planned_then_imported_once_and_its_file_is_kept(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let (_, gold) = app
        .post(
            "/api/v1/packages",
            &isp.dev,
            json!({"tenant_id": isp.tenant, "name": "Gold 50M", "connection_type": "pppoe", "download_kbps": 50000,
                   "upload_kbps": 10000, "validity_days": 30, "price": 90000}),
        )
        .await;
    let gold = gold["id"].as_i64().unwrap();
    support::customers::create(
        &app,
        &isp.dev,
        json!({"tenant_id": isp.tenant, "name": "Already here", "connection_type": "pppoe", "package_id": isp.pppoe,
               "username": "dup1", "password": "pw-of-lastmile"}),
    )
    .await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    fill(&sim);
    reach(&app, &isp, &sim).await;
    let customers_before = app.count("customer").await;
    let pools_before = app.count("ip_pool").await;

    // A package the importer may not use is refused at once.
    let (status, body) = app
        .post(
            &format!("/api/v1/routers/{}/import", isp.router),
            &isp.dev,
            json!({"dry_run": true, "packages": {"gold": isp.op_pppoe}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"][0]["code"], "not_usable", "{body}");

    // The plan: every item with its action; nothing written.
    let choice = json!({"gold": gold});
    let job = run_import(&app, &isp, json!({"dry_run": true, "packages": choice})).await;
    assert_eq!(job["status"], "done", "{job}");
    let plan = &job["result"]["plan"];
    assert_eq!(
        action(plan, "pools", "home")["action"],
        "unchanged",
        "{plan}"
    );
    let a = action(plan, "pools", "pppoe-a");
    assert_eq!(
        (a["action"].as_str(), a["capacity"].as_u64()),
        (Some("create"), Some(253))
    );
    let b = action(plan, "pools", "pppoe-b");
    assert_eq!(b["capacity"], 256 + 11, "{b}");
    assert_eq!(b["blocks"].as_array().unwrap().len(), 1 + 4, "{b}");
    assert_eq!(
        action(plan, "pools", "single")["blocks"],
        json!(["100.64.3.7/32"])
    );
    assert_eq!(action(plan, "pools", "clash")["action"], "overlaps");
    assert_eq!(action(plan, "pools", "clash")["with"], "home");
    assert_eq!(action(plan, "pools", "fixed")["action"], "name_taken");
    let home = action(plan, "profiles", "Home");
    assert_eq!(home["package_id"], isp.pppoe, "{home}");
    assert_eq!(home["matched_by_name"], true);
    assert_eq!(action(plan, "profiles", "gold")["package_id"], gold);
    assert_eq!(
        action(plan, "profiles", "legacy")["package_id"],
        Value::Null
    );
    let secrets: Vec<(String, String)> = plan["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("sub1", "create"),
        ("sub2", "create"),
        ("sub3", "disabled"),
        ("sub4", "no_package"),
        ("sub5", "service"),
        ("dup1", "duplicate"),
        ("sub6", "create"),
    ];
    assert_eq!(
        secrets,
        expected.map(|(n, a)| (n.to_owned(), a.to_owned())),
        "{plan}"
    );
    assert_eq!(
        plan["counts"],
        json!({"pools_created": 3, "pools_skipped": 3, "customers_created": 3, "already_imported": 0,
               "secrets_skipped": 4})
    );
    assert_eq!(app.count("customer").await, customers_before);
    assert_eq!(app.count("ip_pool").await, pools_before);

    // The file of everything read, passwords included, for those who may import.
    let file_path = format!("/api/v1/routers/{}/import/{}/file", isp.router, job["id"]);
    let response = app
        .http
        .get(format!("{}{file_path}", app.base))
        .bearer_auth(&isp.dev)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let csv = response.text().await.unwrap();
    assert!(
        csv.starts_with("kind,name,ranges,profile,password"),
        "{csv}"
    );
    assert!(
        csv.contains("secret,sub2,,gold,pw-of-router,pppoe,,100.64.0.50,,no,"),
        "{csv}"
    );
    assert!(
        csv.contains("pool,pppoe-b,\"100.64.1.0/24,100.64.2.10-100.64.2.20\""),
        "{csv}"
    );
    assert_eq!(csv.lines().filter(|l| l.starts_with("secret,")).count(), 7);
    // Sealed at rest: the stored bytes are not the CSV.
    let file = job["result"]["file"].as_i64().unwrap();
    let stored = store::upload::read(&app.state.db, file)
        .await
        .unwrap()
        .unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains("pw-of-router"));

    // The import: pools with their exact ranges, customers bound to the router.
    let job = run_import(&app, &isp, json!({"dry_run": false, "packages": choice})).await;
    assert_eq!(job["status"], "done", "{job}");
    let applied = &job["result"]["applied"];
    assert_eq!(applied["customers"]["created"], 3, "{job}");
    assert_eq!(applied["pools"].as_object().unwrap().len(), 3, "{job}");
    assert_eq!(app.count("customer").await, customers_before + 3);
    let (_, pools) = app
        .get(
            &format!("/api/v1/ip-pools?tenant_id={}&q=pppoe-b", isp.tenant),
            &isp.dev,
        )
        .await;
    assert_eq!(
        pools["items"][0]["ranges"], "100.64.1.0-100.64.1.255,100.64.2.10-100.64.2.20",
        "{pools}"
    );
    let (_, found) = app.get("/api/v1/customers?q=sub2", &isp.dev).await;
    let sub2 = &found["items"][0];
    assert_eq!(sub2["package_id"], gold, "{found}");
    assert_eq!(sub2["router_id"], isp.router, "{found}");
    let (_, check, reply) = rows(&app, sub2["id"].as_i64().unwrap()).await;
    assert!(
        has(&check, "Cleartext-Password := pw-of-router"),
        "{check:?}"
    );
    assert!(has(&reply, "Framed-IP-Address := 100.64.0.50"), "{reply:?}");
    let (_, found) = app.get("/api/v1/customers?q=sub6", &isp.dev).await;
    assert_eq!(found["items"][0]["name"], "Rahim Uddin", "{found}");
    let (_, dup) = app.get("/api/v1/customers?q=dup1", &isp.dev).await;
    assert_eq!(
        dup["items"][0]["name"], "Already here",
        "not overwritten: {dup}"
    );
    let (_, check, _) = rows(&app, dup["items"][0]["id"].as_i64().unwrap()).await;
    assert!(
        has(&check, "Cleartext-Password := pw-of-lastmile"),
        "{check:?}"
    );

    // Again, with the disabled ones: only what is new is created.
    let job = run_import(
        &app,
        &isp,
        json!({"dry_run": false, "include_disabled": true, "packages": choice}),
    )
    .await;
    assert_eq!(job["status"], "done", "{job}");
    let counts = &job["result"]["plan"]["counts"];
    assert_eq!(
        *counts,
        json!({"pools_created": 0, "pools_skipped": 6, "customers_created": 1, "already_imported": 3,
               "secrets_skipped": 3}),
        "{job}"
    );
    assert_eq!(app.count("customer").await, customers_before + 4);
    let (_, found) = app.get("/api/v1/customers?q=sub3", &isp.dev).await;
    assert_eq!(found["items"][0]["status"], "disabled", "{found}");

    // Who read the file and who imported is in the audit log.
    let (_, audit) = app
        .get("/api/v1/audit?action=router.import.file", &isp.dev)
        .await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(1), "{audit}");
    let report = aaa::verify::verify(&app.state.db, false, app.clock().now())
        .await
        .unwrap();
    assert!(report.clean(), "{report:?}");
}

async fn an_api_user_that_cannot_read_passwords_is_told_what_to_change(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Write))
        .await
        .unwrap();
    fill(&sim);
    reach(&app, &isp, &sim).await;
    let job = run_import(&app, &isp, json!({"dry_run": true})).await;
    assert_eq!(job["status"], "failed", "{job}");
    let error = job["last_error"].as_str().unwrap();
    assert!(
        error.contains("group write") && error.contains("group full"),
        "{error}"
    );
    // A router without API access is refused before any job.
    let (_, router) = app
        .post(
            "/api/v1/routers",
            &isp.dev,
            json!({"tenant_id": isp.tenant, "name": "edge", "nas_address": "10.255.0.2"}),
        )
        .await;
    let (status, body) = app
        .post(
            &format!("/api/v1/routers/{}/import", router["id"]),
            &isp.dev,
            json!({"dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "api_address", "{body}");
}

async fn a_router_that_breaks_off_or_refuses_mid_read_leaves_nothing_written(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    fill(&sim);
    reach(&app, &isp, &sim).await;
    let (customers, pools) = (app.count("customer").await, app.count("ip_pool").await);
    // Refusals and closed sessions at each menu first, then the connection dropped after
    // each sentence until the read gets through.
    let mut faults = Vec::new();
    for command in ["/ip/pool/print", "/ppp/profile/print", "/ppp/secret/print"] {
        faults.push(Faults {
            trap_on_command: Some(command.to_owned()),
            ..Faults::default()
        });
        faults.push(Faults {
            fatal_on_command: Some(command.to_owned()),
            ..Faults::default()
        });
    }
    faults.extend((1..=60).map(|after| Faults {
        drop_after_sentences: Some(after),
        ..Faults::default()
    }));
    let mut failed = 0;
    for fault in faults {
        sim.set_faults(fault.clone());
        let job = run_import(&app, &isp, json!({"dry_run": false})).await;
        sim.set_faults(Faults::default());
        if job["status"] == "failed" {
            failed += 1;
            assert_eq!(app.count("customer").await, customers, "{fault:?}: {job}");
            assert_eq!(app.count("ip_pool").await, pools, "{fault:?}: {job}");
            assert_eq!(app.count("upload").await, 0, "nothing kept: {fault:?}");
        } else {
            // Past the last sentence of the read: the whole import went through.
            assert_eq!(job["status"], "done", "{job}");
            assert!(fault.drop_after_sentences.is_some(), "{fault:?}: {job}");
            break;
        }
    }
    assert!(failed >= 6 + 10, "{failed} runs broke off");
}

async fn a_fixed_address_is_kept_in_a_pool_past_the_first_five_hundred(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    for i in 0..520 {
        let ranges = format!("10.9.{}.{}/28", i / 16, (i % 16) * 16);
        sim.insert(
            "/ip/pool",
            &[("name", &format!("p-{i:03}")), ("ranges", &ranges)],
        )
        .unwrap();
    }
    sim.insert("/ppp/profile", &[("name", "Home")]).unwrap();
    sim.insert(
        "/ppp/secret",
        &[
            ("name", "far"),
            ("password", "pw-far-1"),
            ("profile", "Home"),
            ("remote-address", "10.9.32.117"),
        ],
    )
    .unwrap();
    reach(&app, &isp, &sim).await;
    let job = run_import(&app, &isp, json!({"dry_run": false})).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["result"]["applied"]["customers"]["created"], 1, "{job}");
    let (_, found) = app.get("/api/v1/customers?q=far", &isp.dev).await;
    let (_, _, reply) = rows(&app, found["items"][0]["id"].as_i64().unwrap()).await;
    assert!(has(&reply, "Framed-IP-Address := 10.9.32.117"), "{reply:?}");
}

async fn the_plans_page_chooses_a_package_for_each_profile(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    fill(&sim);
    reach(&app, &isp, &sim).await;
    let mut dev = support::panel::Visitor::signed_in(&app, "dev@example.com").await;
    let page = format!("/panel/routers/{}", isp.router);
    let reply = dev
        .submit(&page, &format!("{page}/import"), &[("dry_run", "yes")])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let job_page = reply.location().to_owned();
    let job: i64 = job_page
        .strip_prefix("/panel/jobs/")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(wait_for_job(&app, &isp.dev, job).await["status"], "done");
    let shown = dev.get(&job_page).await;
    assert!(shown.has("id=\"import-choices\""), "{}", shown.body);
    assert!(shown.has("name=\"package:gold\""), "{}", shown.body);

    // The gold profile's secrets join the Home package, chosen here.
    let home = isp.pppoe.to_string();
    let reply = dev
        .submit(
            &job_page,
            &format!("{page}/import"),
            &[("package:gold", home.as_str()), ("dry_run", "no")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let job: i64 = reply
        .location()
        .strip_prefix("/panel/jobs/")
        .unwrap()
        .parse()
        .unwrap();
    let done = wait_for_job(&app, &isp.dev, job).await;
    assert_eq!(done["status"], "done", "{done}");
    let (_, found) = app.get("/api/v1/customers?q=sub2", &isp.dev).await;
    assert_eq!(found["items"][0]["package_id"], isp.pppoe, "{found}");

    // A choice that is not a package is refused on the router's page.
    let reply = dev
        .submit(
            &page,
            &format!("{page}/import"),
            &[("package:gold", "not-a-number"), ("dry_run", "yes")],
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
}

/// The customer `username` as the API gives it.
async fn customer(app: &TestApp, isp: &Isp, username: &str) -> Value {
    let (_, found) = app
        .get(&format!("/api/v1/customers?q={username}"), &isp.dev)
        .await;
    found["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["username"] == username)
        .unwrap_or_else(|| panic!("{username} was not imported: {found}"))
        .clone()
}

/// Customer `id`'s invoices.
async fn invoices(app: &TestApp, isp: &Isp, id: i64) -> Vec<Value> {
    let (status, found) = app
        .get(
            &format!("/api/v1/invoices?customer_id={id}&series=invoice"),
            &isp.dev,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    found["items"].as_array().unwrap().clone()
}

async fn the_first_bill_charges_the_period_imported_once(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let sim = SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
        .await
        .unwrap();
    // The profile takes the package of its name: "Home", 500.00 BDT for 30 days.
    sim.insert("/ppp/profile", &[("name", "Home")]).unwrap();
    for (name, disabled) in [("bill-a", "no"), ("bill-b", "no"), ("bill-off", "yes")] {
        sim.insert(
            "/ppp/secret",
            &[
                ("name", name),
                ("password", "pw-of-router"),
                ("profile", "Home"),
                ("disabled", disabled),
            ],
        )
        .unwrap();
    }
    reach(&app, &isp, &sim).await;
    let body = json!({"dry_run": false, "include_disabled": true, "first_bill": true});
    let job = run_import(&app, &isp, body.clone()).await;
    assert_eq!(job["status"], "done", "{job}");
    let report = &job["result"]["applied"]["customers"];
    assert_eq!(report["created"], 3, "{job}");
    assert_eq!(
        report["billed"],
        json!({"customers": 2, "amount": 100000}),
        "{job}"
    );

    for name in ["bill-a", "bill-b"] {
        let c = customer(&app, &isp, name).await;
        let id = c["id"].as_i64().unwrap();
        let bills = invoices(&app, &isp, id).await;
        assert_eq!(bills.len(), 1, "{bills:?}");
        assert_eq!(
            (&bills[0]["total"], &bills[0]["status"]),
            (&json!(50000), &json!("open")),
            "{bills:?}"
        );
        assert!(bills[0]["due_at"].is_string(), "{bills:?}");
        // The bill is for the time the import gave: the expiry is the package's 30 days.
        let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
        assert_eq!(
            at(&c["expires_at"]) - at(&c["created_at"]),
            chrono::TimeDelta::days(30),
            "{c}"
        );
    }
    // A disabled customer is not served, so not billed.
    let off = customer(&app, &isp, "bill-off").await;
    assert!(
        invoices(&app, &isp, off["id"].as_i64().unwrap())
            .await
            .is_empty()
    );

    // The bill is paid like a postpaid invoice (the tenant's Admin takes the cash); the
    // expiry stays where it was.
    app.user(
        &isp.dev,
        json!({"email": "admin@c.example", "name": "Admin", "role": "admin", "tenant_id": isp.tenant}),
    )
    .await;
    let admin = app.login("admin@c.example", support::PASSWORD).await;
    let a = customer(&app, &isp, "bill-a").await;
    let a_id = a["id"].as_i64().unwrap();
    let (status, paid) = app
        .post(
            "/api/v1/payments",
            &admin,
            json!({"customer_id": a_id, "amount": 50000}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(invoices(&app, &isp, a_id).await[0]["status"], "paid");
    assert_eq!(
        customer(&app, &isp, "bill-a").await["expires_at"],
        a["expires_at"]
    );

    // Again: nothing is created, so nothing is billed.
    let journals = app.count("ledger_journal").await;
    let job = run_import(&app, &isp, body).await;
    let report = &job["result"]["applied"]["customers"];
    assert_eq!(report["created"], 0, "{job}");
    assert_eq!(report["billed"]["customers"], 0, "{job}");
    assert_eq!(app.count("ledger_journal").await, journals);
    let breaches = store::ledger::verify(app.state.db.conn(), None)
        .await
        .unwrap();
    assert!(breaches.is_empty(), "{breaches:?}");
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
    a_router_is_planned_then_imported_once_and_its_file_is_kept,
    an_api_user_that_cannot_read_passwords_is_told_what_to_change,
    a_router_that_breaks_off_or_refuses_mid_read_leaves_nothing_written,
    a_fixed_address_is_kept_in_a_pool_past_the_first_five_hundred,
    the_plans_page_chooses_a_package_for_each_profile,
    the_first_bill_charges_the_period_imported_once,
);
