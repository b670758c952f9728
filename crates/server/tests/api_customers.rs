//! Customers through the API: creation for every connection type with the FreeRADIUS rows
//! written in the same transaction, every change rewriting them, user names unique without
//! regard to case and resting after release, static addresses allocated once, the list's
//! filters and search, and the owners' scopes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, TestApp, spawn};

struct Isp {
    dev: String,
    tenant: i64,
    home: i64,
    fixed: i64,
    op: i64,
    pppoe: i64,
    hotspot: i64,
    static_pkg: i64,
    op_pppoe: i64,
    router: i64,
}

async fn isp(app: &TestApp) -> Isp {
    let dev = app.developer().await;
    let (_, tenant) = app
        .post(
            "/api/v1/tenants",
            &dev,
            json!({"name": "Customer ISP", "country": "BD", "currency": "BDT", "time_zone": "Asia/Dhaka", "realm": "cisp",
                   "suspension_policy": "pool", "suspension_target": "suspended"}),
        )
        .await;
    let tenant = tenant["id"].as_i64().unwrap();
    let pool =
        |name: &str, ranges: &str| json!({"tenant_id": tenant, "name": name, "ranges": ranges});
    let home = app
        .post("/api/v1/ip-pools", &dev, pool("home", "10.0.0.0/22"))
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let fixed = app
        .post("/api/v1/ip-pools", &dev, pool("fixed", "203.0.113.0/30"))
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let package = |name: &str, ct: &str, pool: Option<i64>, volume: Option<i64>| {
        json!({"tenant_id": tenant, "name": name, "connection_type": ct, "download_kbps": 20000, "upload_kbps": 5000,
               "validity_days": 30, "price": 50000, "ip_pool_id": pool, "volume_bytes": volume})
    };
    let pppoe = app
        .post(
            "/api/v1/packages",
            &dev,
            package("Home", "pppoe", Some(home), None),
        )
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let hotspot = app
        .post(
            "/api/v1/packages",
            &dev,
            package("Day pass", "hotspot", Some(home), Some(5 * (1i64 << 32))),
        )
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let static_pkg = app
        .post(
            "/api/v1/packages",
            &dev,
            package("Static", "static_ip", None, None),
        )
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let op = app
        .user(
            &dev,
            json!({"email": "op@c.example", "name": "Op", "role": "operator", "tenant_id": tenant}),
        )
        .await;
    let op_pppoe = app
        .post("/api/v1/packages", &dev, json!({"parent_id": pppoe, "owner_id": op, "name": "Op home", "price": 55000, "cost_price": 50000}))
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    let router = app
        .post(
            "/api/v1/routers",
            &dev,
            json!({"tenant_id": tenant, "name": "core", "nas_address": "10.255.0.1"}),
        )
        .await
        .1["id"]
        .as_i64()
        .unwrap();
    Isp {
        dev,
        tenant,
        home,
        fixed,
        op,
        pppoe,
        hotspot,
        static_pkg,
        op_pppoe,
        router,
    }
}

/// The customer's FreeRADIUS rows as `attribute op value` strings.
async fn rows(app: &TestApp, customer: i64) -> (Vec<String>, Vec<String>, Vec<String>) {
    let stored = store::radius::read(app.state.db.conn(), customer)
        .await
        .unwrap();
    let text = |rows: &[(String, String, String)]| {
        rows.iter()
            .map(|(a, o, v)| format!("{a} {o} {v}"))
            .collect()
    };
    (stored.usernames, text(&stored.check), text(&stored.reply))
}

fn has(items: &[String], item: &str) -> bool {
    items.iter().any(|i| i == item)
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = app.post("/api/v1/customers", token, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body} → {created}");
    created
}

async fn a_pppoe_customer_gets_its_freeradius_rows_with_its_creation(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let c = create(
        &app,
        &isp.dev,
        json!({"tenant_id": isp.tenant, "package_id": isp.pppoe, "connection_type": "pppoe", "name": "Alice",
               "username": "Alice.Home", "password": "s3cret!x", "mobile": "01712345678", "router_id": isp.router}),
    )
    .await;
    assert_eq!(
        (
            c["mobile"].as_str(),
            c["billing_type"].as_str(),
            c["state"].as_str()
        ),
        (Some("+8801712345678"), Some("prepaid"), Some("active"))
    );
    assert!(
        c.get("password").is_none(),
        "a given password is not echoed"
    );
    let id = c["id"].as_i64().unwrap();
    let (names, check, reply) = rows(&app, id).await;
    assert_eq!(names, ["Alice.Home"]);
    assert!(has(&check, "Cleartext-Password := s3cret!x"), "{check:?}");
    assert!(has(&check, "Simultaneous-Use := 1"));
    let expires = chrono::DateTime::parse_from_rfc3339(c["expires_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    assert!(
        has(&check, &format!("Expiration := {expires}")),
        "{check:?}"
    );
    assert!(
        has(&reply, "Mikrotik-Rate-Limit := 5M/20M") && has(&reply, "Framed-Pool := home"),
        "{reply:?}"
    );
    // Sealed in lastmile's own table; the audit and the AAA change log hold the creation.
    let stored = store::entity::customer::Entity::find_by_id(id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password.starts_with("enc:v1:"));
    assert!(app.count("aaa_change").await >= 1);
    let (_, password) = app
        .get(&format!("/api/v1/customers/{id}/password"), &isp.dev)
        .await;
    assert_eq!(password["password"], "s3cret!x");
    // Who read the password in clear is in the audit log, without the password.
    let (_, audit) = app
        .get(
            &format!("/api/v1/audit?entity=customer&entity_id={id}&action=customer.read_password"),
            &isp.dev,
        )
        .await;
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert!(!audit.to_string().contains("s3cret!x"), "{audit}");
}

async fn every_change_rewrites_the_rows_in_the_same_transaction(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let c = create(
        &app,
        &isp.dev,
        json!({"tenant_id": isp.tenant, "owner_id": isp.op, "package_id": isp.op_pppoe, "connection_type": "pppoe",
               "name": "Bob", "username": "bob", "billing_type": "postpaid"}),
    )
    .await;
    let id = c["id"].as_i64().unwrap();
    let generated = c["password"].as_str().unwrap().to_owned();
    let (_, check, _) = rows(&app, id).await;
    assert!(has(&check, &format!("Cleartext-Password := {generated}")));
    assert!(
        !check.iter().any(|c| c.starts_with("Expiration")),
        "postpaid customers have no Expiration: {check:?}"
    );
    let path = format!("/api/v1/customers/{id}");
    let mut version = c["version"].as_i64().unwrap();
    let mut step = |body: Value| {
        let app = &app;
        let path = path.clone();
        let dev = isp.dev.clone();
        version += 1;
        let mut body = body;
        body["version"] = json!(version - 1);
        async move {
            let (status, answer) = app.patch(&path, &dev, body.clone()).await;
            assert_eq!(status, StatusCode::OK, "{body} → {answer}");
        }
    };
    step(json!({"status": "suspended"})).await;
    let (_, check, reply) = rows(&app, id).await;
    assert!(
        !has(&check, "Auth-Type := Reject") && has(&reply, "Framed-Pool := suspended"),
        "the pool policy: {reply:?}"
    );
    step(json!({"status": "disabled"})).await;
    assert!(has(&rows(&app, id).await.1, "Auth-Type := Reject"));
    step(json!({"status": "active", "password": "n3w-pass"})).await;
    let (_, check, _) = rows(&app, id).await;
    assert!(has(&check, "Cleartext-Password := n3w-pass") && !has(&check, "Auth-Type := Reject"));
    step(json!({"mac": "aa-bb-cc-00-11-22"})).await;
    assert!(has(
        &rows(&app, id).await.1,
        "Calling-Station-Id == AA:BB:CC:00:11:22"
    ));
    step(json!({"username": "Bob.Renamed"})).await;
    assert_eq!(rows(&app, id).await.0, ["Bob.Renamed"]);
    step(json!({"static_ip": "203.0.113.2", "ip_pool_id": isp.fixed})).await;
    let (_, _, reply) = rows(&app, id).await;
    assert!(
        has(&reply, "Framed-IP-Address := 203.0.113.2")
            && !reply.iter().any(|r| r.starts_with("Framed-Pool")),
        "{reply:?}"
    );
    // A package of another owner, or of another connection type, is refused and nothing changes.
    let (status, answer) = app
        .patch(
            &path,
            &isp.dev,
            json!({"package_id": isp.pppoe, "version": version}),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_usable"))
    );
    let (status, _) = app
        .patch(
            &path,
            &isp.dev,
            json!({"package_id": isp.hotspot, "version": version}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, audit) = app
        .get(
            &format!("/api/v1/audit?entity=customer&entity_id={id}&sort=id"),
            &isp.dev,
        )
        .await;
    let actions: Vec<_> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "customer.create",
            "customer.suspend",
            "customer.disable",
            "customer.resume",
            "customer.update",
            "customer.rename",
            "customer.update"
        ]
    );
    // Deleting removes the rows and frees the address.
    assert_eq!(app.delete(&path, &isp.dev).await.0, StatusCode::NO_CONTENT);
    let (names, check, reply) = rows(&app, id).await;
    assert!(names.is_empty() && check.is_empty() && reply.is_empty());
    assert_eq!(app.count("ip_allocation").await, 0);
}

async fn hotspot_names_carry_the_realm_and_volume_goes_with_gigawords(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let c = create(
        &app,
        &isp.dev,
        json!({"tenant_id": isp.tenant, "package_id": isp.hotspot, "connection_type": "hotspot", "name": "Guest", "mobile": "+880 1812-345678"}),
    )
    .await;
    assert_eq!(c["username"], "8801812345678@cisp");
    let (_, _, reply) = rows(&app, c["id"].as_i64().unwrap()).await;
    assert!(
        has(&reply, "Mikrotik-Total-Limit := 0")
            && has(&reply, "Mikrotik-Total-Limit-Gigawords := 5"),
        "{reply:?}"
    );
    let (status, answer) = app
        .post("/api/v1/customers", &isp.dev, json!({"tenant_id": isp.tenant, "package_id": isp.hotspot, "connection_type": "hotspot", "name": "No phone"}))
        .await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("mobile"))
    );

    // Without a connection type the customer connects as its package does; a type the
    // package is not of is refused; so is a package of another tenant.
    let c = create(
        &app,
        &isp.dev,
        json!({"tenant_id": isp.tenant, "package_id": isp.hotspot, "name": "Walk-in", "mobile": "01812345679"}),
    )
    .await;
    assert_eq!(
        (c["connection_type"].as_str(), c["username"].as_str()),
        (Some("hotspot"), Some("8801812345679@cisp"))
    );
    let (status, answer) = app
        .post("/api/v1/customers", &isp.dev, json!({"tenant_id": isp.tenant, "package_id": isp.hotspot, "connection_type": "pppoe", "name": "Mismatch", "username": "mismatch"}))
        .await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("wrong_connection_type")
        ),
        "{answer}"
    );
    let (_, other) = app
        .post("/api/v1/tenants", &isp.dev, json!({"name": "Other ISP", "country": "BD", "currency": "BDT", "time_zone": "Asia/Dhaka"}))
        .await;
    let (status, answer) = app
        .post("/api/v1/customers", &isp.dev, json!({"tenant_id": other["id"], "package_id": isp.hotspot, "name": "Elsewhere", "mobile": "01812345670"}))
        .await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_usable")),
        "{answer}"
    );
}

async fn user_names_are_unique_without_case_and_rest_after_release(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let body = |name: &str| json!({"tenant_id": isp.tenant, "package_id": isp.pppoe, "connection_type": "pppoe", "name": "N", "username": name});
    let first = create(&app, &isp.dev, body("carol")).await;
    for variant in ["CAROL", "Carol"] {
        let (status, answer) = app.post("/api/v1/customers", &isp.dev, body(variant)).await;
        assert_eq!(
            (status, answer["error"]["fields"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("taken")),
            "{variant}"
        );
    }
    // Deleted: the name rests 90 days, then it may be reused.
    assert_eq!(
        app.delete(&format!("/api/v1/customers/{}", first["id"]), &isp.dev)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.post("/api/v1/customers", &isp.dev, body("carol"))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    app.clock().shift(91 * 86_400);
    let dev = app.login("dev@example.com", support::PASSWORD).await;
    create(&app, &dev, body("Carol")).await;
    // Every name a customer had is kept with its time span.
    assert_eq!(app.count("customer_name").await, 2);
    let created_at = chrono::DateTime::parse_from_rfc3339(first["created_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let holder = store::customer::holder_of_name(app.state.db.conn(), "CAROL", created_at)
        .await
        .unwrap();
    assert_eq!(holder, first["id"].as_i64());
    for bad in ["with space", "a..b", "tab\there", "ünï"] {
        let (status, _) = app.post("/api/v1/customers", &dev, body(bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

async fn the_rest_of_a_freed_user_name_is_a_setting(backend: Backend) {
    let app = support::spawn_with(backend, |config| config.customers.name_rest_days = 7).await;
    let isp = isp(&app).await;
    let body = |name: &str| json!({"tenant_id": isp.tenant, "package_id": isp.pppoe, "connection_type": "pppoe", "name": "N", "username": name});
    let first = create(&app, &isp.dev, body("dora")).await;
    let path = format!("/api/v1/customers/{}", first["id"]);
    assert_eq!(app.delete(&path, &isp.dev).await.0, StatusCode::NO_CONTENT);
    app.clock().shift(6 * 86_400);
    let dev = app.login("dev@example.com", support::PASSWORD).await;
    let (status, answer) = app.post("/api/v1/customers", &dev, body("dora")).await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("taken")),
        "still resting on day 6"
    );
    app.clock().shift(2 * 86_400);
    let dev = app.login("dev@example.com", support::PASSWORD).await;
    create(&app, &dev, body("dora")).await;
}

async fn static_addresses_are_allocated_once_and_pools_run_out_cleanly(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let body = |name: &str, ip: Option<&str>| {
        json!({"tenant_id": isp.tenant, "package_id": isp.static_pkg, "connection_type": "static_ip", "name": name,
               "username": name, "ip_pool_id": isp.fixed, "static_ip": ip, "allocate_static_ip": ip.is_none()})
    };
    let a = create(&app, &isp.dev, body("s1", None)).await;
    assert_eq!(
        a["static_ip"], "203.0.113.1",
        "the first usable address of the /30"
    );
    let (status, answer) = app
        .post(
            "/api/v1/customers",
            &isp.dev,
            body("s2", Some("203.0.113.1")),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("taken"))
    );
    create(&app, &isp.dev, body("s3", None)).await;
    let (status, answer) = app
        .post("/api/v1/customers", &isp.dev, body("s4", None))
        .await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("pool_exhausted"))
    );
    let (status, answer) = app
        .post("/api/v1/customers", &isp.dev, body("s5", Some("10.9.9.9")))
        .await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("outside_pool"))
    );
    let (_, pool) = app
        .get(&format!("/api/v1/ip-pools/{}", isp.fixed), &isp.dev)
        .await;
    assert_eq!(
        (pool["capacity"].as_i64(), pool["used"].as_i64()),
        (Some(4), Some(2))
    );
    assert_eq!(
        app.count("customer").await,
        2,
        "refused customers wrote nothing"
    );
    let _ = isp.home;
}

async fn a_zone_takes_its_sub_zones_and_the_search_box_the_start_of_an_address_or_mac(
    backend: Backend,
) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let zone = |name: &str, parent: Option<i64>| json!({"tenant_id": isp.tenant, "name": name, "parent_id": parent});
    let (_, city) = app
        .post("/api/v1/zones", &isp.dev, zone("Dhaka", None))
        .await;
    let (_, area) = app
        .post(
            "/api/v1/zones",
            &isp.dev,
            zone("Mirpur", Some(city["id"].as_i64().unwrap())),
        )
        .await;
    let body = |name: &str, extra: Value| {
        let mut b = json!({"tenant_id": isp.tenant, "package_id": isp.pppoe, "connection_type": "pppoe",
                           "name": name, "username": name, "password": "s3cret!x"});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    create(
        &app,
        &isp.dev,
        body("in-city", json!({"zone_id": city["id"]})),
    )
    .await;
    create(
        &app,
        &isp.dev,
        body(
            "in-area",
            json!({"zone_id": area["id"], "mac": "aa:bb:cc:00:00:01"}),
        ),
    )
    .await;
    create(
        &app,
        &isp.dev,
        body(
            "fixed-1",
            json!({"static_ip": "203.0.113.1", "ip_pool_id": isp.fixed}),
        ),
    )
    .await;
    create(
        &app,
        &isp.dev,
        body(
            "fixed-2",
            json!({"static_ip": "203.0.113.2", "ip_pool_id": isp.fixed}),
        ),
    )
    .await;
    let names = |list: &Value| -> Vec<String> {
        let mut names: Vec<String> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["username"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    };
    let (_, list) = app
        .get(
            &format!("/api/v1/customers?zone_id={}", city["id"]),
            &isp.dev,
        )
        .await;
    assert_eq!(
        names(&list),
        ["in-area", "in-city"],
        "the city holds Mirpur"
    );
    let (_, list) = app
        .get(
            &format!("/api/v1/customers?zone_id={}", area["id"]),
            &isp.dev,
        )
        .await;
    assert_eq!(names(&list), ["in-area"]);
    for (q, wanted) in [
        ("203.0.113", vec!["fixed-1", "fixed-2"]),
        ("203.0.113.2", vec!["fixed-2"]),
        ("aa:bb:cc", vec!["in-area"]),
        ("AABBCC00", vec!["in-area"]),
    ] {
        let (_, list) = app.get(&format!("/api/v1/customers?q={q}"), &isp.dev).await;
        assert_eq!(names(&list), wanted, "{q}");
    }
}

async fn the_list_filters_searches_and_scopes(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let now = app.clock().now();
    let mk = |name: &str, user: &str, extra: Value| {
        let mut body = json!({"tenant_id": isp.tenant, "package_id": isp.pppoe, "connection_type": "pppoe", "name": name, "username": user});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    create(
        &app,
        &isp.dev,
        mk(
            "Rahim Uddin",
            "rahim",
            json!({"mobile": "01711111111", "expires_at": now + chrono::TimeDelta::days(10)}),
        ),
    )
    .await;
    create(
        &app,
        &isp.dev,
        mk(
            "Karim Sheikh",
            "karim",
            json!({"expires_at": now - chrono::TimeDelta::days(1)}),
        ),
    )
    .await;
    create(
        &app,
        &isp.dev,
        mk(
            "Salma Akter",
            "salma",
            json!({"status": "suspended", "mac": "02:00:00:00:00:05", "router_id": isp.router}),
        ),
    )
    .await;
    create(
        &app,
        &isp.dev,
        mk("Free Rider", "free1", json!({"billing_type": "free"})),
    )
    .await;
    create(
        &app,
        &isp.dev,
        json!({"tenant_id": isp.tenant, "owner_id": isp.op, "package_id": isp.op_pppoe, "connection_type": "pppoe", "name": "Op Customer", "username": "opc"}),
    )
    .await;
    let names = |v: &Value| -> Vec<String> {
        let mut n: Vec<String> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["username"].as_str().unwrap().to_owned())
            .collect();
        n.sort();
        n
    };
    for (query, want) in [
        ("status=expired", vec!["karim"]),
        ("status=active", vec!["free1", "opc", "rahim"]),
        ("status=suspended", vec!["salma"]),
        ("billing_type=free", vec!["free1"]),
        (&format!("owner_id={}", isp.op) as &str, vec!["opc"]),
        (
            &format!("router_id={}&status=suspended", isp.router),
            vec!["salma"],
        ),
        ("q=rah", vec!["rahim"]),
        ("q=Sheik", vec!["karim"]),
        (
            &format!("q=017111&tenant_id={}", isp.tenant) as &str,
            vec!["rahim"],
        ),
        ("q=02:00:00:00:00:05", vec!["salma"]),
        ("mac=02-00-00-00-00-05", vec!["salma"]),
        (
            &format!(
                "expires_before={}",
                (now + chrono::TimeDelta::days(2))
                    .to_rfc3339()
                    .replace('+', "%2B")
            ),
            vec!["karim"],
        ),
    ] {
        let (status, page) = app
            .get(&format!("/api/v1/customers?{query}"), &isp.dev)
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert_eq!(names(&page), want, "{query}");
    }
    let (_, sorted) = app
        .get("/api/v1/customers?sort=name&limit=2", &isp.dev)
        .await;
    assert_eq!(sorted["items"][0]["name"], "Free Rider");
    assert_eq!(sorted["total"], 5);
    assert!(sorted["next_cursor"].is_string());
    let (status, _) = app.get("/api/v1/customers?status=gone", &isp.dev).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The operator sees its own customer only, and not the others by id.
    let op = app.login("op@c.example", support::PASSWORD).await;
    let (_, mine) = app.get("/api/v1/customers", &op).await;
    assert_eq!(names(&mine), ["opc"]);
    let (_, all) = app.get("/api/v1/customers?q=rahim", &isp.dev).await;
    let rahim = all["items"][0]["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/customers/{rahim}"), &op).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = app
        .post("/api/v1/customers", &op, json!({"package_id": isp.pppoe, "connection_type": "pppoe", "name": "Sneak", "username": "sneak"}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a master package is not the operator's to sell"
    );
    let created = create(&app, &op, json!({"package_id": isp.op_pppoe, "connection_type": "pppoe", "name": "Mine", "username": "mine"})).await;
    assert_eq!(created["operator_id"], isp.op);
}

/// Sends a CSV import and, once queued (202), waits for its job to finish; returns the
/// status of the POST and the job's report (or the POST's body when it was refused).
async fn import(app: &TestApp, token: &str, query: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let response = app
        .http
        .post(format!("{}/api/v1/customers/import?{query}", app.base))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let queued: Value = response.json().await.unwrap();
    if status != StatusCode::ACCEPTED {
        return (status, queued);
    }
    assert_eq!(
        location,
        Some(format!("/api/v1/jobs/{}", queued["id"])),
        "{queued}"
    );
    assert_eq!(queued["kind"], "customer.import");
    let job = wait_for_job(app, token, queued["id"].as_i64().unwrap()).await;
    assert_eq!(job["status"], "done", "{job}");
    (status, job["result"].clone())
}

/// Polls a job until it is done or failed; returns it.
async fn wait_for_job(app: &TestApp, token: &str, id: i64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (status, job) = app.get(&format!("/api/v1/jobs/{id}"), token).await;
        assert_eq!(status, StatusCode::OK, "{job}");
        if job["status"] == "done" || job["status"] == "failed" {
            return job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job {id} never finished: {job}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn a_csv_import_reports_bad_rows_and_creates_the_good_ones(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let csv = format!(
        "username,password,name,mobile,connection_type,package,status,expires_at,mac,owner\n\
         imp1,pass-one,Imported One,01710000001,pppoe,{pppoe},active,2030-01-31,,\n\
         imp2,pass-two,Imported Two,01710000002,pppoe,Home,suspended,,aa:bb:cc:dd:ee:01,\n\
         bad user,pass,No Good,notaphone,pppoe,{pppoe},sleeping,yesterday,zz,\n\
         imp1,pass-dup,Duplicate,,pppoe,{pppoe},,,,\n\
         imp3,pass-three,Of The Operator,,pppoe,Op home,,,,op@c.example\n\
         imp4,pass-four,Wrong Type,,hotspot,{pppoe},,,,\n",
        pppoe = isp.pppoe
    );
    let tenant = format!("tenant_id={}", isp.tenant);
    let (_, dry) = import(
        &app,
        &isp.dev,
        &format!("{tenant}&dry_run=true"),
        csv.clone().into(),
    )
    .await;
    assert_eq!(
        (dry["rows"].as_i64(), dry["created"].as_i64()),
        (Some(6), Some(0))
    );
    assert_eq!(app.count("customer").await, 0);
    let (status, report) = import(&app, &isp.dev, &tenant, csv.clone().into()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(report["created"], 3, "{report}");
    let lines: std::collections::BTreeSet<i64> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines.into_iter().collect::<Vec<_>>(), [4, 5, 7], "{report}");
    let bad_fields: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["line"] == 4)
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in ["username", "mobile", "status", "expires_at", "mac"] {
        assert!(bad_fields.contains(&field), "{field} in {bad_fields:?}");
    }
    assert!(
        report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())),
        "every refused row says why: {report}"
    );
    // Every created row has its projection.
    let (_, list) = app.get("/api/v1/customers?q=imp", &isp.dev).await;
    for c in list["items"].as_array().unwrap() {
        let (names, check, _) = rows(&app, c["id"].as_i64().unwrap()).await;
        assert_eq!(names, [c["username"].as_str().unwrap()]);
        assert!(check.iter().any(|r| r.starts_with("Cleartext-Password")));
    }
    let imp3 = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["username"] == "imp3")
        .unwrap();
    assert_eq!(imp3["operator_id"], isp.op);
    // The same file again is refused as a duplicate, naming the job that took it.
    let (status, refused) = import(&app, &isp.dev, &tenant, csv.clone().into()).await;
    assert_eq!(
        (status, refused["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("duplicate_import")),
        "{refused}"
    );
    // Broken files: all or nothing, a bad encoding, an unknown column.
    let (_, all_or_nothing) = import(
        &app,
        &isp.dev,
        &format!("{tenant}&all_or_nothing=true"),
        csv.replace("imp1,", "imp9,")
            .replace("imp2,", "imp8,")
            .replace("imp3,", "imp7,")
            .into(),
    )
    .await;
    assert_eq!(all_or_nothing["created"], 0);
    let mut latin1 = b"username,name,connection_type,package\nlatin,Jos".to_vec();
    latin1.extend_from_slice(&[0xE9]);
    latin1.extend_from_slice(format!(",pppoe,{}\n", isp.pppoe).as_bytes());
    let (_, report) = import(&app, &isp.dev, &tenant, latin1).await;
    assert_eq!(
        (
            report["errors"][0]["code"].as_str(),
            report["created"].as_i64()
        ),
        (Some("not_utf8"), Some(0)),
        "{report}"
    );
    let (status, _) = import(&app, &isp.dev, &tenant, b"name,colour\nx,blue\n".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("customer").await, 3);
}

async fn imports_are_jobs_the_callers_scope_lists_with_their_progress(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let tenant = format!("tenant_id={}", isp.tenant);
    let mut csv = String::from("username,password,name,connection_type,package\n");
    for n in 0..2500 {
        csv.push_str(&format!(
            "bulk{n},pass-{n:05},Bulk {n},pppoe,{}\n",
            isp.pppoe
        ));
    }
    // A file over a MiB passes with an Idempotency-Key, and a retry with the key replays
    // the answer instead of refusing a duplicate.
    let padded = format!("{csv}{}", "\n".repeat(1024 * 1024));
    let send = || {
        app.http
            .post(format!("{}/api/v1/customers/import?{tenant}", app.base))
            .bearer_auth(&isp.dev)
            .header("idempotency-key", "bulk-1")
            .body(padded.clone())
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let job = wait_for_job(&app, &isp.dev, first["id"].as_i64().unwrap()).await;
    assert_eq!(job["result"]["created"], 2500, "{job}");
    assert_eq!(
        job["progress"],
        json!({"done": 2500, "total": 2500}),
        "{job}"
    );
    // Listed for the tenant's staff, not for another tenant's.
    let admin = app
        .user(&isp.dev, json!({"email": "admin@c.example", "name": "A", "role": "admin", "tenant_id": isp.tenant}))
        .await;
    assert!(admin > 0);
    let admin = app.login("admin@c.example", support::PASSWORD).await;
    let (_, jobs) = app.get("/api/v1/jobs?kind=customer.import", &admin).await;
    assert_eq!(jobs["items"][0]["id"], first["id"], "{jobs}");
    let (_, other) = app
        .post("/api/v1/tenants", &isp.dev, json!({"name": "Other ISP", "country": "BD", "currency": "BDT", "time_zone": "Asia/Dhaka"}))
        .await;
    app.user(
        &isp.dev,
        json!({"email": "other@c.example", "name": "O", "role": "admin", "tenant_id": other["id"]}),
    )
    .await;
    let stranger = app.login("other@c.example", support::PASSWORD).await;
    let (_, none) = app.get("/api/v1/jobs", &stranger).await;
    assert_eq!(none["items"], json!([]), "{none}");
    let (status, _) = app
        .get(&format!("/api/v1/jobs/{}", first["id"]), &stranger)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_pool_stays_while_a_customer_is_sent_to_it(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let (_, own) = app
        .post(
            "/api/v1/ip-pools",
            &isp.dev,
            json!({"tenant_id": isp.tenant, "name": "own", "ranges": "10.8.0.0/24"}),
        )
        .await;
    let own = own["id"].as_i64().unwrap();
    let customer = create(
        &app,
        &isp.dev,
        json!({"tenant_id": isp.tenant, "package_id": isp.pppoe, "connection_type": "pppoe", "name": "Pooled", "username": "pooled",
               "ip_pool_id": own}),
    )
    .await;
    let (_, _, reply) = rows(&app, customer["id"].as_i64().unwrap()).await;
    assert!(has(&reply, "Framed-Pool := own"), "{reply:?}");
    let pool = format!("/api/v1/ip-pools/{own}");
    let (status, answer) = app.delete(&pool, &isp.dev).await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("in_use")),
        "FreeRADIUS still sends the pool's name"
    );
    let path = format!("/api/v1/customers/{}", customer["id"]);
    assert_eq!(app.delete(&path, &isp.dev).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.delete(&pool, &isp.dev).await.0, StatusCode::NO_CONTENT);
}

use sea_orm::EntityTrait as _;

/// A change that reaches more customers than a transaction should rewrite commits at once
/// and queues a job that converges their rows in batches: the job is the tenant's, its
/// progress counts customers, and FreeRADIUS's rows agree with the change when it is done.
async fn a_wide_package_change_commits_first_and_converges_through_a_job(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let wide = store::customer::INLINE_REWRITE as usize + 100;
    let mut csv = String::from("username,password,name,connection_type,package\n");
    for n in 0..wide {
        csv.push_str(&format!(
            "wide{n:05},pass-{n},Wide {n},pppoe,{}\n",
            isp.pppoe
        ));
    }
    let (_, report) = import(
        &app,
        &isp.dev,
        &format!("tenant_id={}", isp.tenant),
        csv.into(),
    )
    .await;
    assert_eq!(report["created"].as_u64(), Some(wide as u64), "{report}");
    let (status, changed) = app
        .patch(&format!("/api/v1/packages/{}", isp.pppoe), &isp.dev, json!({"connection_type": "pppoe", "download_kbps": 30000, "upload_kbps": 6000, "validity_days": 30, "ip_pool_id": isp.home, "version": 1}))
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    // A customer change while the rows converge takes its turn between two batches.
    let (_, first) = app.get("/api/v1/customers?q=wide00000", &isp.dev).await;
    let first = &first["items"][0];
    let (status, answer) = app
        .patch(
            &format!("/api/v1/customers/{}", first["id"]),
            &isp.dev,
            json!({"password": "meanwhile-1", "version": first["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, jobs) = app.get("/api/v1/jobs?kind=radius.converge", &isp.dev).await;
    let job = &jobs["items"][0];
    assert_eq!(job["tenant_id"], isp.tenant, "{jobs}");
    let job = wait_for_job(&app, &isp.dev, job["id"].as_i64().unwrap()).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        job["result"]["customers"].as_u64(),
        Some(wide as u64),
        "{job}"
    );
    assert_eq!(job["progress"]["done"], job["progress"]["total"], "{job}");
    let (_, last) = app
        .get(
            &format!("/api/v1/customers?q=wide{:05}", wide - 1),
            &isp.dev,
        )
        .await;
    let (_, _, reply) = rows(&app, last["items"][0]["id"].as_i64().unwrap()).await;
    assert!(has(&reply, "Mikrotik-Rate-Limit := 6M/30M"), "{reply:?}");
    let report = aaa::verify::verify(&app.state.db, false, app.clock().now())
        .await
        .unwrap();
    assert!(report.clean(), "{report:?}");
}

both_backends!(
    a_pppoe_customer_gets_its_freeradius_rows_with_its_creation,
    every_change_rewrites_the_rows_in_the_same_transaction,
    a_wide_package_change_commits_first_and_converges_through_a_job,
    hotspot_names_carry_the_realm_and_volume_goes_with_gigawords,
    user_names_are_unique_without_case_and_rest_after_release,
    the_rest_of_a_freed_user_name_is_a_setting,
    static_addresses_are_allocated_once_and_pools_run_out_cleanly,
    the_list_filters_searches_and_scopes,
    a_zone_takes_its_sub_zones_and_the_search_box_the_start_of_an_address_or_mac,
    a_csv_import_reports_bad_rows_and_creates_the_good_ones,
    imports_are_jobs_the_callers_scope_lists_with_their_progress,
    a_pool_stays_while_a_customer_is_sent_to_it,
);
