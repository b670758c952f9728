//! Packages in three levels through the API: masters with their service, operator and
//! sub-operator packages offered under their owners' names and prices, service changes that
//! reach derived packages and customers, and what may not be deleted or created.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, TestApp, spawn};

struct Isp {
    dev: String,
    tenant: i64,
    pool: i64,
    op: i64,
    sub: i64,
}

async fn isp(app: &TestApp) -> Isp {
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Package ISP").await;
    let (_, pool) = app
        .post(
            "/api/v1/ip-pools",
            &dev,
            json!({"tenant_id": tenant, "name": "home", "ranges": "10.0.0.0/22"}),
        )
        .await;
    let op = app
        .user(
            &dev,
            json!({"email": "op@p.example", "name": "Op", "role": "operator", "tenant_id": tenant}),
        )
        .await;
    let sub = app
        .user(&dev, json!({"email": "sub@p.example", "name": "Sub", "role": "sub_operator", "tenant_id": tenant, "parent_id": op}))
        .await;
    Isp {
        dev,
        tenant,
        pool: pool["id"].as_i64().unwrap(),
        op,
        sub,
    }
}

fn master(tenant: i64, pool: i64) -> Value {
    json!({"tenant_id": tenant, "name": "Home 20M", "connection_type": "pppoe", "download_kbps": 20000, "upload_kbps": 5000,
           "validity_days": 30, "price": 50000, "ip_pool_id": pool})
}

async fn packages_are_derived_level_by_level_with_their_owners_prices(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let (status, m) = app
        .post("/api/v1/packages", &isp.dev, master(isp.tenant, isp.pool))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(
        (
            m["level"].as_str(),
            m["rate_limit"].as_str(),
            m["validity_minutes"].as_i64()
        ),
        (Some("master"), Some("5M/20M"), Some(43_200))
    );
    let m = m["id"].as_i64().unwrap();

    let derive = |parent: i64, owner: i64, price: i64, cost: i64| json!({"parent_id": parent, "owner_id": owner, "name": "Home", "price": price, "cost_price": cost});
    let (status, answer) = app
        .post(
            "/api/v1/packages",
            &isp.dev,
            derive(m, isp.op, 40000, 45000),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("cost_above_price"))
    );
    let (status, answer) = app
        .post(
            "/api/v1/packages",
            &isp.dev,
            derive(m, isp.sub, 60000, 50000),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("wrong_owner_level"))
    );
    let (status, op_pkg) = app
        .post(
            "/api/v1/packages",
            &isp.dev,
            derive(m, isp.op, 55000, 50000),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{op_pkg}");
    assert_eq!(
        (op_pkg["level"].as_str(), op_pkg["master_id"].as_i64()),
        (Some("operator"), Some(m))
    );
    let op_pkg = op_pkg["id"].as_i64().unwrap();
    let (status, _) = app
        .post(
            "/api/v1/packages",
            &isp.dev,
            derive(m, isp.op, 55000, 50000),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "one package per owner and parent"
    );

    // The operator offers its package to its own sub-operator, nobody else's.
    let op = app.login("op@p.example", support::PASSWORD).await;
    let (status, sub_pkg) = app
        .post(
            "/api/v1/packages",
            &op,
            derive(op_pkg, isp.sub, 60000, 55000),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sub_pkg}");
    assert_eq!(sub_pkg["level"], "sub_operator");
    assert_eq!(
        app.post("/api/v1/packages", &op, master(isp.tenant, isp.pool))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (_, mine) = app.get("/api/v1/packages", &op).await;
    let ids: Vec<i64> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        2,
        "an operator sees its own and its sub-operator's packages: {mine}"
    );
    assert_eq!(
        app.get(&format!("/api/v1/packages/{m}"), &op).await.0,
        StatusCode::NOT_FOUND
    );

    // A master's new speed reaches every level.
    let (status, _) = app
        .patch(&format!("/api/v1/packages/{m}"), &isp.dev, json!({"connection_type": "pppoe", "download_kbps": 30000, "upload_kbps": 10000, "validity_days": 30, "ip_pool_id": isp.pool, "version": 1}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let sub_id = sub_pkg["id"].as_i64().unwrap();
    let (_, sub_pkg) = app
        .get(&format!("/api/v1/packages/{sub_id}"), &isp.dev)
        .await;
    assert_eq!(sub_pkg["rate_limit"], "10M/30M");
    assert_eq!(
        app.patch(
            &format!("/api/v1/packages/{sub_id}"),
            &isp.dev,
            json!({"download_kbps": 1, "version": sub_pkg["version"]})
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // A package in use cannot be deleted; its currency is fixed.
    assert_eq!(
        app.delete(&format!("/api/v1/packages/{m}"), &isp.dev)
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (_, tenant) = app
        .get(&format!("/api/v1/tenants/{}", isp.tenant), &isp.dev)
        .await;
    assert_eq!(tenant["currency_locked"], true);
    assert_eq!(
        app.delete(&format!("/api/v1/packages/{sub_id}"), &isp.dev)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
}

async fn bad_packages_are_refused_field_by_field(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let with = |field: &str, value: Value| {
        let mut body = master(isp.tenant, isp.pool);
        body[field] = value;
        body
    };
    let cases = [
        (with("name", json!("trial")), "name", "reserved_name"),
        (with("price", json!(-1)), "price", "negative"),
        (
            with("download_kbps", json!(0)),
            "download_kbps",
            "out_of_range",
        ),
        (
            with("upload_kbps", json!(200_000_000)),
            "upload_kbps",
            "out_of_range",
        ),
        (
            with("connection_type", json!("dialup")),
            "connection_type",
            "unknown_connection_type",
        ),
        (
            with("validity_days", json!(0)),
            "validity_days",
            "validity_zero",
        ),
        (
            with("volume_bytes", json!(0)),
            "volume_bytes",
            "out_of_range",
        ),
        (
            with("burst_download_kbps", json!(40000)),
            "burst",
            "incomplete_burst",
        ),
        (
            with("ip_pool_id", json!(999_999)),
            "ip_pool_id",
            "not_found",
        ),
    ];
    for (body, field, code) in cases {
        let (status, answer) = app.post("/api/v1/packages", &isp.dev, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} {answer}");
        let hit = answer["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == field && f["code"] == code);
        assert!(hit, "{field} {code}: {answer}");
    }
    assert_eq!(app.count("package").await, 0);
}

both_backends!(
    packages_are_derived_level_by_level_with_their_owners_prices,
    bad_packages_are_refused_field_by_field
);
