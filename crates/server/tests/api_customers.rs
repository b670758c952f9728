//! Customers through the API: creation for every connection type with the FreeRADIUS rows
//! written in the same transaction, every change rewriting them, user names unique without
//! regard to case and resting after release, static addresses allocated once, the list's
//! filters and search, and the owners' scopes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use sea_orm::EntityTrait as _;
use serde_json::{Value, json};
use support::customers::{create, has, isp, rows};
use support::{Backend, spawn};

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

both_backends!(
    a_pppoe_customer_gets_its_freeradius_rows_with_its_creation,
    every_change_rewrites_the_rows_in_the_same_transaction,
    hotspot_names_carry_the_realm_and_volume_goes_with_gigawords,
    user_names_are_unique_without_case_and_rest_after_release,
    the_rest_of_a_freed_user_name_is_a_setting,
    static_addresses_are_allocated_once_and_pools_run_out_cleanly,
    the_list_filters_searches_and_scopes,
    a_zone_takes_its_sub_zones_and_the_search_box_the_start_of_an_address_or_mac,
    a_pool_stays_while_a_customer_is_sent_to_it,
);
