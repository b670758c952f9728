//! Routers, zones and IP pools through the API: routers mirrored into FreeRADIUS's `nas`
//! with their secret shown once and sealed at rest, pools stored exactly and never
//! overlapping, and bad input refused field by field.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, spawn};

async fn nas_rows(app: &support::TestApp) -> Vec<(String, String, String)> {
    use sea_orm::ConnectionTrait as _;
    let conn = app.state.db.conn();
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT nasname, shortname, secret FROM nas ORDER BY id",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get::<String>("", "nasname").unwrap(),
                r.try_get::<Option<String>>("", "shortname")
                    .unwrap()
                    .unwrap_or_default(),
                r.try_get::<String>("", "secret").unwrap(),
            )
        })
        .collect()
}

async fn a_router_is_a_freeradius_client_with_a_secret_shown_once(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Dhaka Net").await;
    let (status, created) = app
        .post(
            "/api/v1/routers",
            &dev,
            json!({"tenant_id": tenant, "name": "core-1", "nas_address": "10.1.0.1", "api_address": "10.1.0.1",
                   "api_user": "lastmile", "api_password": "router-api-secret"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        secret.len(),
        24,
        "a random secret is made when none is given"
    );
    assert_eq!(created["api_password_set"], true);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        nas_rows(&app).await,
        [("10.1.0.1".to_owned(), "core-1".to_owned(), secret.clone())]
    );

    // Never shown again, and sealed in the router's own row.
    let (_, read) = app.get(&format!("/api/v1/routers/{id}"), &dev).await;
    assert!(
        read.get("secret").is_none() && read.get("api_password").is_none(),
        "{read}"
    );
    let router = store::entity::router::Entity::find_by_id(id)
        .one(app.state.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert!(router.secret.starts_with("enc:v1:") && !router.secret.contains(&secret));
    assert!(router.api_password.unwrap().starts_with("enc:v1:"));

    // A change of address or secret reaches the nas row; deletion removes it.
    let (status, _) = app
        .patch(
            &format!("/api/v1/routers/{id}"),
            &dev,
            json!({"nas_address": "10.1.0.9", "secret": "a-new-secret-123", "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        nas_rows(&app).await,
        [(
            "10.1.0.9".to_owned(),
            "core-1".to_owned(),
            "a-new-secret-123".to_owned()
        )]
    );
    let (status, _) = app.delete(&format!("/api/v1/routers/{id}"), &dev).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(nas_rows(&app).await.is_empty());
}

async fn a_radius_address_is_unique_on_the_installation(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let a = app.tenant(&dev, "Tenant A").await;
    let b = app.tenant(&dev, "Tenant B").await;
    let body = |tenant: i64, name: &str| json!({"tenant_id": tenant, "name": name, "nas_address": "192.0.2.10"});
    assert_eq!(
        app.post("/api/v1/routers", &dev, body(a, "r1")).await.0,
        StatusCode::CREATED
    );
    let (status, answer) = app.post("/api/v1/routers", &dev, body(b, "r2")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (
            answer["error"]["fields"][0]["field"].as_str(),
            answer["error"]["fields"][0]["code"].as_str()
        ),
        (Some("nas_address"), Some("taken"))
    );
    for (bad, field) in [
        (
            json!({"tenant_id": a, "name": "x", "nas_address": "not-an-ip"}),
            "nas_address",
        ),
        (
            json!({"tenant_id": a, "name": "x", "nas_address": "0.0.0.0"}),
            "nas_address",
        ),
        (
            json!({"tenant_id": a, "name": "x", "nas_address": "192.0.2.11", "secret": "short"}),
            "secret",
        ),
        (
            json!({"tenant_id": a, "name": "x", "nas_address": "192.0.2.11", "api_port": 70000}),
            "api_port",
        ),
        (
            json!({"tenant_id": a, "name": "", "nas_address": "192.0.2.11"}),
            "name",
        ),
    ] {
        let (status, answer) = app.post("/api/v1/routers", &dev, bad.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad} {answer}");
        assert_eq!(answer["error"]["fields"][0]["field"], field, "{answer}");
    }
    assert_eq!(nas_rows(&app).await.len(), 1);
}

async fn pools_are_stored_exactly_and_never_overlap(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Pool ISP").await;
    let (status, pool) = app
        .post(
            "/api/v1/ip-pools",
            &dev,
            json!({"tenant_id": tenant, "name": "home", "ranges": "10.0.0.1-10.0.0.254"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pool}");
    assert_eq!(pool["capacity"], 254, "the whole range, not a lossy /25");
    assert_eq!(pool["blocks"].as_array().unwrap().len(), 14);
    assert_eq!(pool["used"], 0);
    let (status, answer) = app
        .post(
            "/api/v1/ip-pools",
            &dev,
            json!({"tenant_id": tenant, "name": "other", "ranges": "10.0.0.128/25"}),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("pool_overlap"))
    );
    // Another tenant may use the same private range.
    let other = app.tenant(&dev, "Other ISP").await;
    let (status, _) = app
        .post(
            "/api/v1/ip-pools",
            &dev,
            json!({"tenant_id": other, "name": "home", "ranges": "10.0.0.0/24"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, multi) = app
        .post("/api/v1/ip-pools", &dev, json!({"tenant_id": tenant, "name": "multi", "ranges": "10.1.0.0/30, 10.1.0.8-10.1.0.9"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (multi["capacity"].as_i64(), multi["ranges"].as_str()),
        (Some(6), Some("10.1.0.0-10.1.0.3,10.1.0.8-10.1.0.9"))
    );
    for bad in [
        "10.0.0.300",
        "10.2.0.9-10.2.0.1",
        "10.2.0.1/24",
        "",
        "10.0.0.0/7",
    ] {
        let (status, answer) = app
            .post(
                "/api/v1/ip-pools",
                &dev,
                json!({"tenant_id": tenant, "name": "bad", "ranges": bad}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(answer["error"]["fields"][0]["field"], "ranges");
    }
    let (status, _) = app
        .post(
            "/api/v1/ip-pools",
            &dev,
            json!({"tenant_id": tenant, "name": "bad name", "ranges": "10.9.0.0/24"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn a_router_trusts_its_api_certificate_by_store_pin_or_ca(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "TLS ISP").await;
    let router = |address: &str, trust: Value| {
        let mut body = json!({"tenant_id": tenant, "name": format!("edge {address}"),
                              "nas_address": address, "api_tls": true});
        body.as_object_mut()
            .unwrap()
            .extend(trust.as_object().unwrap().clone());
        body
    };
    let (status, plain) = app
        .post("/api/v1/routers", &dev, router("10.8.0.1", json!({})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{plain}");
    assert_eq!(plain["api_tls_trust"], "system");
    let pin = vec!["AB"; 32].join(":");
    let (status, pinned) = app
        .post(
            "/api/v1/routers",
            &dev,
            router(
                "10.8.0.2",
                json!({"api_tls_trust": "pinned", "api_tls_fingerprint": pin}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pinned}");
    assert_eq!(
        (
            pinned["api_tls_trust"].as_str(),
            pinned["api_tls_fingerprint"].as_str()
        ),
        (Some("pinned"), Some("ab".repeat(32).as_str()))
    );
    let pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";
    let (status, by_ca) = app
        .post(
            "/api/v1/routers",
            &dev,
            router(
                "10.8.0.3",
                json!({"api_tls_trust": "ca", "api_tls_ca": pem}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{by_ca}");
    assert_eq!(by_ca["api_tls_ca_set"], true);
    for (trust, code) in [
        (
            json!({"api_tls_trust": "pinned", "api_tls_fingerprint": "abcd"}),
            "invalid_fingerprint",
        ),
        (
            json!({"api_tls_trust": "ca", "api_tls_ca": "not a certificate"}),
            "invalid_certificate",
        ),
        (json!({"api_tls_trust": "anything"}), "unknown_trust"),
    ] {
        let (status, refused) = app
            .post("/api/v1/routers", &dev, router("10.8.0.9", trust))
            .await;
        assert_eq!(
            (status, refused["error"]["fields"][0]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{refused}"
        );
    }
    // Pinned later, once the fingerprint the router presents was checked.
    let (status, changed) = app
        .patch(
            &format!("/api/v1/routers/{}", plain["id"]),
            &dev,
            json!({"api_tls_trust": "pinned", "api_tls_fingerprint": "cd".repeat(32),
                   "version": plain["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["api_tls_fingerprint"], "cd".repeat(32));
}

async fn zones_nest_without_cycles(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Zone ISP").await;
    let zone = |name: &str, parent: Option<i64>| json!({"tenant_id": tenant, "name": name, "parent_id": parent});
    let (_, city) = app.post("/api/v1/zones", &dev, zone("Dhaka", None)).await;
    let city = city["id"].as_i64().unwrap();
    let (status, area) = app
        .post("/api/v1/zones", &dev, zone("Mirpur", Some(city)))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let area = area["id"].as_i64().unwrap();
    let (status, answer) = app
        .patch(
            &format!("/api/v1/zones/{city}"),
            &dev,
            json!({"parent_id": area, "version": 1}),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["fields"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("zone_cycle"))
    );
    let (status, _) = app.post("/api/v1/zones", &dev, zone("Mirpur", None)).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "names are unique in a tenant"
    );
}

async fn operators_read_the_network_of_their_tenant_but_do_not_change_it(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let tenant = app.tenant(&dev, "Scoped ISP").await;
    let other = app.tenant(&dev, "Elsewhere ISP").await;
    app.user(
        &dev,
        json!({"email": "op@s.example", "name": "Op", "role": "operator", "tenant_id": tenant}),
    )
    .await;
    let op = app.login("op@s.example", support::PASSWORD).await;
    let (_, mine) = app
        .post(
            "/api/v1/ip-pools",
            &dev,
            json!({"tenant_id": tenant, "name": "p", "ranges": "10.0.0.0/24"}),
        )
        .await;
    let (_, theirs) = app
        .post(
            "/api/v1/ip-pools",
            &dev,
            json!({"tenant_id": other, "name": "p", "ranges": "10.0.0.0/24"}),
        )
        .await;
    let mine = mine["id"].as_i64().unwrap();
    let theirs = theirs["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&format!("/api/v1/ip-pools/{mine}"), &op).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/v1/ip-pools/{theirs}"), &op).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, list): (StatusCode, Value) = app.get("/api/v1/ip-pools", &op).await;
    assert_eq!(list["total"], 1);
    assert_eq!(
        app.patch(
            &format!("/api/v1/ip-pools/{mine}"),
            &op,
            json!({"name": "q", "version": 1})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(
            "/api/v1/ip-pools",
            &op,
            json!({"name": "new", "ranges": "10.5.0.0/24"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(
            "/api/v1/routers",
            &op,
            json!({"name": "r", "nas_address": "10.9.9.9"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
}

use sea_orm::EntityTrait as _;

both_backends!(
    a_router_trusts_its_api_certificate_by_store_pin_or_ca,
    a_router_is_a_freeradius_client_with_a_secret_shown_once,
    a_radius_address_is_unique_on_the_installation,
    pools_are_stored_exactly_and_never_overlap,
    zones_nest_without_cycles,
    operators_read_the_network_of_their_tenant_but_do_not_change_it,
);
