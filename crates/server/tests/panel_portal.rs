//! A router's captive portal in the panel (`/panel/routers/{id}/portal`), on both engines:
//! the router's page leads to it; without API access the page says the router needs it;
//! the form lists the tenant's hotspot packages only, keeps what was typed when refused
//! (a device limit out of range, a `.local` host name), and sets the portal up; the page
//! then shows its key and the pages for the router, as the API does. An operator without
//! the right to change the network reaches none of it. A portal is changed and switched
//! off from the same page or the API (a stale version refused), and a portal switched off
//! lets no phone in.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use reqwest::StatusCode;
use serde_json::json;
use support::panel::{Visitor, created, isp, staff_of};
use support::{Backend, spawn};

async fn a_router_portal_is_set_up_from_its_page(backend: Backend) {
    let app = spawn(backend).await;
    let support::panel::Isp {
        dev,
        tenant,
        mut admin,
    } = isp(&app).await;
    let router = created(
        &app,
        &dev,
        "/api/v1/routers",
        json!({"tenant_id": tenant, "name": "hs-1", "nas_address": "10.0.0.1"}),
    )
    .await;
    let id = router["id"].as_i64().unwrap();
    let page = format!("/panel/routers/{id}/portal");
    let router_page = admin.get(&format!("/panel/routers/{id}")).await;
    assert_eq!(router_page.status, StatusCode::OK, "{}", router_page.body);
    assert!(
        router_page.has(&format!("href=\"{page}\"")),
        "{}",
        router_page.body
    );

    // No API access yet: the page says so and offers no form.
    let without = admin.get(&page).await;
    assert_eq!(without.status, StatusCode::OK, "{}", without.body);
    assert!(without.has("id=\"portal-needs-api\""), "{}", without.body);
    assert!(!without.has("id=\"portal-form\""));
    let (status, body) = app
        .patch(
            &format!("/api/v1/routers/{id}"),
            &dev,
            json!({"api_address": "10.0.0.1", "api_user": "lastmile", "api_password": "api-pass-1",
                   "version": router["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Hotspot packages only.
    let hotspot = created(
        &app,
        &dev,
        "/api/v1/packages",
        json!({"tenant_id": tenant, "name": "Hotspot Day", "connection_type": "hotspot",
               "download_kbps": 5000, "upload_kbps": 2000, "validity_days": 1, "price": 2000}),
    )
    .await;
    created(
        &app,
        &dev,
        "/api/v1/packages",
        json!({"tenant_id": tenant, "name": "Home PPPoE", "connection_type": "pppoe",
               "download_kbps": 5000, "upload_kbps": 2000, "validity_days": 30, "price": 50000}),
    )
    .await;
    let form = admin.get(&page).await;
    assert!(form.has("id=\"portal-form\""), "{}", form.body);
    assert!(form.has("Hotspot Day"));
    assert!(!form.has("Home PPPoE"), "not a hotspot package");
    let package = hotspot["id"].as_i64().unwrap().to_string();

    // Refused: what was typed stays, each field says why.
    let refused = admin
        .submit(
            &page,
            &page,
            &[
                ("package_id", &package),
                ("max_devices", "11"),
                ("codes_per_hour", "60"),
                ("hosts", "hotspot.local"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.input("max_devices").as_deref(), Some("11"));
    assert_eq!(refused.input("hosts").as_deref(), Some("hotspot.local"));
    assert!(refused.has("Between 1 and 10."), "{}", refused.body);
    assert!(
        refused.has("Not an IP address or a host name."),
        "{}",
        refused.body
    );
    let (_, none) = app.get("/api/v1/hotspot-portals", &dev).await;
    assert_eq!(none["items"].as_array().map_or(0, Vec::len), 0, "{none}");

    let made = admin
        .submit(
            &page,
            &page,
            &[
                ("package_id", &package),
                ("trial_package_id", &package),
                ("max_devices", "3"),
                ("codes_per_hour", "120"),
                ("hosts", "wifi.dhaka.example"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    assert_eq!(made.location(), page);
    let shown = admin.get(&page).await;
    let key = shown
        .text_of("portal-key")
        .expect("the portal's key is shown");
    let (_, listed) = app.get("/api/v1/hotspot-portals", &dev).await;
    assert_eq!(listed["items"][0]["portal_key"], key.as_str(), "{listed}");
    assert_eq!(listed["items"][0]["max_devices"], 3, "{listed}");
    assert!(
        shown.has(&format!("/hs/{key}/router/login.html")),
        "{}",
        shown.body
    );
    assert!(shown.has("wifi.dhaka.example"));
    assert!(shown.has("id=\"save-portal\""), "set up once, then changed");
    assert!(!shown.has("id=\"create-portal\""));
    // The page for the router is served where the page says.
    let login = app
        .http
        .get(format!("{}/hs/{key}/router/login.html", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);

    // An operator does not change the network: neither the page nor the form.
    app.user(&dev, staff_of(tenant, "op@dhaka.example", "operator"))
        .await;
    let mut operator = Visitor::signed_in(&app, "op@dhaka.example").await;
    let refused = operator.get(&page).await;
    assert!(
        matches!(
            refused.status,
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
        ),
        "{}",
        refused.status
    );
    // With a good CSRF token: refused for who it is, not for a forged form.
    let csrf = operator
        .get("/panel")
        .await
        .input("_csrf")
        .expect("the panel's forms carry a CSRF token");
    let posted = operator
        .post(&page, &[("_csrf", &csrf), ("package_id", &package)])
        .await;
    assert!(
        matches!(posted.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        posted.status
    );
}

async fn a_portal_is_changed_and_switched_off(backend: Backend) {
    let app = spawn(backend).await;
    let support::panel::Isp {
        dev,
        tenant,
        mut admin,
    } = isp(&app).await;
    let router = created(
        &app,
        &dev,
        "/api/v1/routers",
        json!({"tenant_id": tenant, "name": "hs-2", "nas_address": "10.0.0.2",
               "api_address": "10.0.0.2", "api_user": "lastmile", "api_password": "api-pass-1"}),
    )
    .await;
    let id = router["id"].as_i64().unwrap();
    let hotspot = created(
        &app,
        &dev,
        "/api/v1/packages",
        json!({"tenant_id": tenant, "name": "Hotspot Week", "connection_type": "hotspot",
               "download_kbps": 5000, "upload_kbps": 2000, "validity_days": 7, "price": 9000}),
    )
    .await;
    let portal = created(
        &app,
        &dev,
        "/api/v1/hotspot-portals",
        json!({"router_id": id, "package_id": hotspot["id"], "max_devices": 3}),
    )
    .await;
    let key = portal["portal_key"].as_str().unwrap().to_owned();
    let page = format!("/panel/routers/{id}/portal");

    // The form shows the portal as it is; saved without "On", it is switched off.
    let form = admin.get(&page).await;
    assert_eq!(form.input("max_devices").as_deref(), Some("3"));
    assert_eq!(form.text_of("portal-status").as_deref(), Some("On"));
    let package = hotspot["id"].to_string();
    let saved = admin
        .submit(
            &page,
            &page,
            &[
                ("package_id", &package),
                ("max_devices", "4"),
                ("codes_per_hour", "90"),
                ("hosts", "wifi.dhaka.example"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, now) = app
        .get(&format!("/api/v1/hotspot-portals/{}", portal["id"]), &dev)
        .await;
    assert_eq!(
        (&now["max_devices"], &now["status"], &now["portal_key"]),
        (&json!(4), &json!("disabled"), &json!(key)),
        "{now}"
    );
    assert_eq!(
        admin.get(&page).await.text_of("portal-status").as_deref(),
        Some("Off")
    );

    // Off, its router's phones are not let in.
    let start = app
        .http
        .post(format!("{}/hs/{key}/start", app.base))
        .form(&[
            ("mac", "02:00:00:00:00:01"),
            ("login_url", "http://10.5.0.1/login"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::NOT_FOUND);

    // Through the API: refused values, a stale version, then back on.
    let path = format!("/api/v1/hotspot-portals/{}", portal["id"]);
    let body = |max: i64, version: &serde_json::Value| json!({"package_id": hotspot["id"], "max_devices": max, "active": true, "version": version});
    let (status, refused) = app.put(&path, &dev, body(0, &now["version"])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, stale) = app.put(&path, &dev, body(2, &portal["version"])).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{stale}");
    let (status, on) = app.put(&path, &dev, body(2, &now["version"])).await;
    assert_eq!(status, StatusCode::OK, "{on}");
    assert_eq!(
        (&on["status"], &on["max_devices"]),
        (&json!("active"), &json!(2))
    );
    assert_eq!(on["hosts"], json!([]), "a PUT sets every setting");
    assert_eq!(
        support::panel::audited(&app, "hotspot.portal_update").await,
        2
    );
}

both_backends!(
    a_router_portal_is_set_up_from_its_page,
    a_portal_is_changed_and_switched_off,
);
