//! A router's captive portal in the panel (`/panel/routers/{id}/portal`), on both engines:
//! the router's page leads to it; without API access the page says the router needs it;
//! the form lists the tenant's hotspot packages only, keeps what was typed when refused
//! (a device limit out of range, a `.local` host name), and sets the portal up; the page
//! then shows its key and the pages for the router, as the API does. An operator without
//! the right to change the network reaches none of it.

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
    assert!(!shown.has("id=\"portal-form\""), "set up once");
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

mod on_sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_router_portal_is_set_up_from_its_page() {
        super::a_router_portal_is_set_up_from_its_page(super::Backend::Sqlite).await
    }
}

mod on_postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_router_portal_is_set_up_from_its_page() {
        super::a_router_portal_is_set_up_from_its_page(super::Backend::Postgres).await
    }
}
