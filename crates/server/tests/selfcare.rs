//! The customer's own site (`/my/{isp}`) over HTTP, on SQLite and PostgreSQL, with an SMS
//! gateway at the simulated provider:
//!
//! - a subscriber signs in with its user name and password (a sign-in form without its
//!   token is refused, a wrong password is, and too many are throttled), sees its package,
//!   expiry, usage and graph, its receipts (another's is not found), recharges with a card,
//!   and changes its password: RADIUS's row has the new one at once, the old one no longer
//!   signs in;
//! - a subscriber signs in with a code sent to its mobile (a wrong code is refused with the
//!   tries left; a number that is no one's gets no SMS and the same answer) and cannot
//!   switch to an account not on its mobile; a session is of its ISP only; sign-in and
//!   sign-out are audited.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_builtin;
mod support_freeradius;
mod support_hotspot;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Backend;
use support_freeradius::api;
use support_hotspot::{Site, field, location, phone, site};

async fn realm(site: &Site, tenant: i64) -> String {
    let (status, body) = site
        .app
        .get(&format!("/api/v1/tenants/{tenant}"), &site.dev)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["realm"].as_str().unwrap().to_owned()
}

/// A hotspot customer of the site's tenant on its day package, valid ten more days.
async fn subscriber(site: &Site, username: &str, mobile: &str) -> Value {
    let expires = site.app.state.clock.now() + chrono::TimeDelta::days(10);
    api::customer(
        &site.app,
        &site.dev,
        site.tenant,
        site.day_package,
        username,
        json!({"connection_type": "hotspot", "mobile": mobile, "billing_type": "prepaid",
               "expires_at": expires}),
    )
    .await
}

async fn get(client: &reqwest::Client, url: &str) -> (StatusCode, String) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

async fn post(client: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(url).form(form).send().await.unwrap()
}

async fn rows(site: &Site, sql: &str) -> Vec<String> {
    use sea_orm::ConnectionTrait as _;
    let conn = site.app.state.db.conn();
    conn.query_all_raw(sea_orm::Statement::from_string(
        conn.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get_by_index::<String>(0).unwrap())
    .collect()
}

async fn a_subscriber_signs_in_sees_its_service_and_changes_its_password(backend: Backend) {
    let site = site(backend).await;
    let isp = realm(&site, site.tenant).await;
    let my = |path: &str| format!("{}/my/{isp}{path}", site.app.base);
    let amina = subscriber(&site, "amina", "01711111111").await;
    let other = subscriber(&site, "omar", "01733333333").await;
    let browser = phone();

    // The sign-in page; a post without its token, and a wrong password, are refused.
    let (status, html) = get(&browser, &my("/login")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let token = field(&html, "_csrf");
    let forged = post(
        &phone(),
        &my("/login"),
        &[
            ("_csrf", &token),
            ("username", "amina"),
            ("password", "amina-pw1"),
        ],
    )
    .await;
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "another browser's token"
    );
    let wrong = post(
        &browser,
        &my("/login"),
        &[
            ("_csrf", &token),
            ("username", "amina"),
            ("password", "nope-nope"),
        ],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let html = wrong.text().await.unwrap();
    assert!(html.contains("id=\"error\""), "{html}");

    // The right one.
    let token = field(&html, "_csrf");
    let signed = post(
        &browser,
        &my("/login"),
        &[
            ("_csrf", &token),
            ("username", "AMINA"),
            ("password", "amina-pw1"),
        ],
    )
    .await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed), format!("/my/{isp}"));
    let (status, home) = get(&browser, &my("")).await;
    assert_eq!(status, StatusCode::OK, "{home}");
    assert!(home.contains("data-view=\"home\""), "{home}");
    assert!(home.contains("amina"));
    assert!(home.contains("Hotspot Day"), "the package: {home}");
    assert!(home.contains(&format!("/my/{isp}/traffic.svg?period=day")));
    assert!(home.contains("id=\"offline\""));
    let (status, svg) = get(&browser, &my("/traffic.svg?period=week")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(svg.starts_with("<svg"), "{svg}");

    // A card recharges it.
    let (status, made) = site
        .app
        .post(
            "/api/v1/card-batches",
            &site.dev,
            json!({"tenant_id": site.tenant, "package_id": site.day_package, "quantity": 1,
                   "keep_pins": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let pin = made["pins"][0]["pin"].as_str().unwrap().to_owned();
    let csrf = field(&home, "_csrf");
    let recharged = post(&browser, &my("/card"), &[("_csrf", &csrf), ("pin", &pin)]).await;
    let status = recharged.status();
    let html = recharged.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"notice\""), "{html}");
    let (_, after) = site
        .app
        .get(&format!("/api/v1/customers/{}", amina["id"]), &site.dev)
        .await;
    assert!(
        after["expires_at"].as_str().unwrap() > amina["expires_at"].as_str().unwrap(),
        "the card gave time: {after}"
    );
    let again = post(&browser, &my("/card"), &[("_csrf", &csrf), ("pin", &pin)]).await;
    assert_eq!(
        again.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a card redeems once"
    );

    // Its receipts; another's is not found.
    let (status, bills) = get(&browser, &my("/bills")).await;
    assert_eq!(status, StatusCode::OK);
    let own: Vec<i64> = bills
        .match_indices(&format!("/my/{isp}/documents/"))
        .filter_map(|(at, m)| {
            bills[at + m.len()..]
                .split('"')
                .next()
                .and_then(|id| id.parse().ok())
        })
        .collect();
    assert!(!own.is_empty(), "the card's receipt is listed: {bills}");
    let (status, receipt) = get(&browser, &my(&format!("/documents/{}", own[0]))).await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert!(receipt.contains("amina"), "{receipt}");
    site.app
        .user(
            &site.dev,
            json!({"email": "admin@isp.example", "name": "Admin", "role": "admin",
                   "tenant_id": site.tenant}),
        )
        .await;
    let admin = site.app.login("admin@isp.example", support::PASSWORD).await;
    let (status, theirs) = site
        .app
        .post(
            &format!("/api/v1/customers/{}/recharge", other["id"]),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");
    let foreign = theirs["receipt_id"].as_i64().unwrap();
    let (status, _) = get(&browser, &my(&format!("/documents/{foreign}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another customer's receipt");

    // The password: wrong current, two that differ, then a good change.
    let (_, form) = get(&browser, &my("/password")).await;
    let csrf = field(&form, "_csrf");
    let refused = post(
        &browser,
        &my("/password"),
        &[
            ("_csrf", &csrf),
            ("current_password", "guess"),
            ("password", "new-pass-9"),
            ("confirm", "new-pass-9"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = post(
        &browser,
        &my("/password"),
        &[
            ("_csrf", &csrf),
            ("current_password", "amina-pw1"),
            ("password", "new-pass-9"),
            ("confirm", "new-pass-8"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let forged = post(
        &browser,
        &my("/password"),
        &[
            ("_csrf", "forged"),
            ("current_password", "amina-pw1"),
            ("password", "new-pass-9"),
            ("confirm", "new-pass-9"),
        ],
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let changed = post(
        &browser,
        &my("/password"),
        &[
            ("_csrf", &csrf),
            ("current_password", "amina-pw1"),
            ("password", "new-pass-9"),
            ("confirm", "new-pass-9"),
        ],
    )
    .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(
        rows(
            &site,
            "SELECT value FROM radcheck WHERE username = 'amina' AND attribute = 'Cleartext-Password'"
        )
        .await,
        vec!["new-pass-9".to_owned()],
        "RADIUS has the new password at once"
    );

    // Signed out, the old password no longer signs in; the new one does.
    let (_, home) = get(&browser, &my("")).await;
    let out = post(
        &browser,
        &my("/logout"),
        &[("_csrf", &field(&home, "_csrf"))],
    )
    .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let (status, _) = get(&browser, &my("/bills")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed out");
    let (_, html) = get(&browser, &my("/login")).await;
    let token = field(&html, "_csrf");
    let old = post(
        &browser,
        &my("/login"),
        &[
            ("_csrf", &token),
            ("username", "amina"),
            ("password", "amina-pw1"),
        ],
    )
    .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let html = old.text().await.unwrap();
    let new = post(
        &browser,
        &my("/login"),
        &[
            ("_csrf", &field(&html, "_csrf")),
            ("username", "amina"),
            ("password", "new-pass-9"),
        ],
    )
    .await;
    assert_eq!(new.status(), StatusCode::SEE_OTHER);

    // Too many wrong passwords: throttled as staff's are.
    let attacker = phone();
    let mut statuses = Vec::new();
    for _ in 0..30 {
        let (_, html) = get(&attacker, &my("/login")).await;
        let tried = post(
            &attacker,
            &my("/login"),
            &[
                ("_csrf", &field(&html, "_csrf")),
                ("username", "omar"),
                ("password", "wrong-one"),
            ],
        )
        .await;
        statuses.push(tried.status());
        if tried.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );

    let audited = rows(
        &site,
        &format!(
            "SELECT action FROM audit_log WHERE entity = 'customer' AND entity_id = {} \
             AND action IN ('customer.sign_in', 'customer.sign_out') ORDER BY id",
            amina["id"]
        ),
    )
    .await;
    assert_eq!(
        audited,
        ["customer.sign_in", "customer.sign_out", "customer.sign_in"]
    );
}

async fn a_code_signs_in_by_mobile_and_a_session_is_of_its_isp_only(backend: Backend) {
    let site = site(backend).await;
    let isp = realm(&site, site.tenant).await;
    let my = |path: &str| format!("{}/my/{isp}{path}", site.app.base);
    let bina = subscriber(&site, "bina", "01722222222").await;
    let browser = phone();

    // A number that is no one's: the same answer, and no SMS.
    let (_, html) = get(&browser, &my("/login")).await;
    let nobody = post(
        &browser,
        &my("/code"),
        &[("_csrf", &field(&html, "_csrf")), ("mobile", "01799999999")],
    )
    .await;
    assert_eq!(nobody.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&nobody), format!("/my/{isp}/code"));

    let (_, html) = get(&browser, &my("/login")).await;
    let asked = post(
        &browser,
        &my("/code"),
        &[("_csrf", &field(&html, "_csrf")), ("mobile", "01722222222")],
    )
    .await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let (status, code_page) = get(&browser, &my("/code")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(code_page.contains("id=\"code-sent\""), "{code_page}");
    let code = site.code_for("+8801722222222", 0).await;
    assert!(
        site.codes_to("+8801799999999").is_empty(),
        "no SMS to a number of no one"
    );

    // The home page is not open before the code.
    let (status, _) = get(&browser, &my("")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let wrong_code = if code == "000000" { "111111" } else { "000000" };
    let wrong = post(
        &browser,
        &my("/code/check"),
        &[("_csrf", &field(&code_page, "_csrf")), ("code", wrong_code)],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = wrong.text().await.unwrap();
    assert!(html.contains('4'), "tries left: {html}");
    let right = post(
        &browser,
        &my("/code/check"),
        &[("_csrf", &field(&code_page, "_csrf")), ("code", &code)],
    )
    .await;
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    let (status, home) = get(&browser, &my("")).await;
    assert_eq!(status, StatusCode::OK, "{home}");
    assert!(home.contains("<span class=\"muted\">bina</span>"), "{home}");

    // An account not on the proved mobile is no switch away.
    let stranger = subscriber(&site, "zed", "01744444444").await;
    let refused = post(
        &browser,
        &my("/switch"),
        &[
            ("_csrf", &field(&home, "_csrf")),
            ("account", &stranger["id"].to_string()),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);

    // Another ISP's site does not take this session; an unknown one is not found.
    let other = site.app.tenant(&site.dev, "Other ISP").await;
    let other_realm = realm(&site, other).await;
    let (status, _) = get(&browser, &format!("{}/my/{other_realm}", site.app.base)).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "signed in only at its own ISP"
    );
    let (status, _) = get(&browser, &format!("{}/my/no-such-isp/login", site.app.base)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let audited = rows(
        &site,
        &format!(
            "SELECT action FROM audit_log WHERE entity = 'customer' AND entity_id = {} \
             AND action = 'customer.sign_in'",
            bina["id"]
        ),
    )
    .await;
    assert_eq!(audited.len(), 1);
}

on_both_backends!(
    a_subscriber_signs_in_sees_its_service_and_changes_its_password,
    a_code_signs_in_by_mobile_and_a_session_is_of_its_isp_only,
);
