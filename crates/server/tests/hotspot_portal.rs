//! The captive portal end to end, on both engines, with nothing of lastmile's mocked: the
//! simulated router's hotspot servlet (`simnas::hotspot`, over TCP) serves the login page
//! lastmile made for it, a phone (an HTTP client holding the servlet's and the portal's
//! cookies) follows it to the portal, the code goes out through the SMS outbox to the
//! simulated gateway (`gateways::sms::sim`) and is read there, and the hand-off lands on the
//! servlet's `/login`, which asks lastmile's built-in RADIUS server by CHAP and opens the
//! session only if it accepts.
//!
//! - A new mobile proves itself (a wrong code first), takes the trial, and is online on its
//!   phone; the status page shows the trial's package and the device.
//! - The same phone with a rotated MAC proves the mobile again and is bound as a second
//!   device; a third MAC at the limit of two is sent to the device list, removes one and
//!   connects.
//! - A second trial for the same mobile is not offered.
//! - Refused: a login address that is not the router's (an open redirect), a forged CHAP
//!   offer, a step without the visit's CSRF token, a sixth try of a code, and markup typed
//!   into the mobile field comes back escaped.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_builtin;
mod support_freeradius;
mod support_hotspot;

use reqwest::StatusCode;
use serde_json::Value;
use support::{Backend, until};
use support_hotspot::{field, phone, site};

async fn a_phone_signs_up_on_the_trial_and_binds_its_devices(backend: Backend) {
    let s = site(backend).await;
    let phone = phone();
    let mac1 = "02:11:22:33:44:01";
    let first = s.arrive(&phone, mac1).await;
    assert!(first.contains("data-screen=\"mobile\""), "{first}");
    assert!(
        first.contains("id=\"private-mac\""),
        "a random MAC is told so"
    );

    // A wrong code first: refused with the tries left.
    let sent = s
        .post(&phone, &first, "/mobile", &[("mobile", "01712345678")])
        .await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let code_page = s.page(&phone).await;
    let code = s.code_for("+8801712345678", 0).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = s
        .post(&phone, &code_page, "/code", &[("code", wrong)])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("4 tries left"));
    let proved = s
        .post(&phone, &code_page, "/code", &[("code", &code)])
        .await;
    assert_eq!(proved.status(), StatusCode::SEE_OTHER);
    let signup = s.page(&phone).await;
    assert!(signup.contains("data-screen=\"signup\""), "{signup}");
    assert!(signup.contains("id=\"trial\""), "the trial is offered");
    let handoff = s.post(&phone, &signup, "/signup", &[("trial", "1")]).await;
    s.online(&phone, handoff, mac1).await;
    let status = phone.get(s.portal("/status")).send().await.unwrap();
    let status = status.text().await.unwrap();
    assert!(status.contains(&s.trial_package), "{status}");
    assert!(status.contains(mac1), "{status}");
    let accepted: Vec<_> = s
        .hotspot
        .access_requests()
        .into_iter()
        .filter(|r| r.accepted)
        .collect();
    assert_eq!(accepted.len(), 1);
    assert!(
        accepted[0].user.starts_with("8801712345678@"),
        "{:?}",
        accepted[0]
    );

    // The same phone with a rotated MAC: a new device, bound after a new code (a minute on).
    let mac2 = "02:11:22:33:44:02";
    s.app.clock().shift(61);
    let page = s.arrive(&phone, mac2).await;
    let proved = s.prove(&phone, &page, "01712345678").await;
    s.online(&phone, proved, mac2).await;

    // A third MAC at the limit of two: the device list, then one removed and connected
    // (the phone left the hotspot first: the account may have two sessions at once).
    let left = phone
        .get(format!("{}/logout", s.hotspot.url()))
        .send()
        .await
        .unwrap();
    assert!(left.status().is_success(), "{}", left.status());
    until(
        "lastmile closes the session the phone logged out of",
        async || {
            s.app
                .get("/api/v1/customers?online=true&limit=50", &s.dev)
                .await
                .1
        },
        |body| {
            body["items"]
                .as_array()
                .is_some_and(|items| items.len() == 1)
        },
    )
    .await;
    let mac3 = "02:11:22:33:44:03";
    s.app.clock().shift(61);
    let page = s.arrive(&phone, mac3).await;
    let proved = s.prove(&phone, &page, "01712345678").await;
    assert_eq!(proved.status(), StatusCode::SEE_OTHER);
    let devices = s.page(&phone).await;
    assert!(devices.contains("data-screen=\"devices\""), "{devices}");
    let device = field(&devices, "device");
    let account = field(&devices, "account");
    let removed = s
        .post(
            &phone,
            &devices,
            "/device",
            &[("account", &account), ("device", &device)],
        )
        .await;
    s.online(&phone, removed, mac3).await;

    // An account staff bound to one MAC is not handed to another phone: the router would
    // refuse it; the phone is told why.
    let (status, bound) = s
        .app
        .post(
            "/api/v1/customers",
            &s.dev,
            serde_json::json!({"tenant_id": s.tenant, "package_id": s.day_package,
                   "connection_type": "hotspot", "name": "Bound", "mobile": "01912345678",
                   "mac": "AA:BB:CC:00:00:01", "billing_type": "postpaid"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    let mac4 = "02:11:22:33:44:04";
    s.app.clock().shift(61);
    let page = s.arrive(&phone, mac4).await;
    let proved = s.prove(&phone, &page, "01912345678").await;
    assert_eq!(proved.status(), StatusCode::SEE_OTHER);
    let told = s.page(&phone).await;
    assert!(told.contains("data-screen=\"bound\""), "{told}");
    let connect = s
        .post(
            &phone,
            &page,
            "/connect",
            &[("account", &bound["id"].to_string())],
        )
        .await;
    assert_eq!(
        connect.status(),
        StatusCode::FORBIDDEN,
        "no hand-off for it"
    );
    assert!(!s.hotspot.active().iter().any(|h| h.mac == mac4));

    // The trial was had: a second sign-up is not offered one (nor allowed one).
    let (status, customers) = s.app.get("/api/v1/customers?limit=50", &s.dev).await;
    assert_eq!(status, StatusCode::OK, "{customers}");
    let ours: Vec<&Value> = customers["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["mobile"] == "+8801712345678")
        .collect();
    assert_eq!(ours.len(), 1, "one account for the mobile");
}

async fn forged_and_hostile_input_is_refused_or_escaped(backend: Backend) {
    let s = site(backend).await;
    let phone = phone();
    let good = [
        ("mac", "02:11:22:33:44:09"),
        ("ip", "10.5.50.9"),
        ("login_url", "http://10.5.50.1/login"),
        ("dst", "http://example.com/"),
        ("chap_id", "\\001"),
        (
            "chap_challenge",
            "\\001\\002\\003\\004\\005\\006\\007\\010\\011\\012\\013\\014\\015\\016\\017\\020",
        ),
        ("err", ""),
    ];
    for (name, value, code) in [
        (
            "login_url",
            "http://evil.example/login",
            "foreign_login_url",
        ),
        ("login_url", "https://8.8.8.8/login", "foreign_login_url"),
        ("login_url", "javascript:alert(1)", "invalid_login_url"),
        ("chap_challenge", "<script>", "invalid_chap"),
    ] {
        let form: Vec<(&str, &str)> = good
            .iter()
            .map(|(k, v)| (*k, if *k == name { value } else { *v }))
            .collect();
        let refused = phone
            .post(s.portal("/start"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}={value}"
        );
        let body = refused.text().await.unwrap();
        assert!(!body.contains("<script>"), "{body}");
        assert!(body.contains("id=\"gone\""), "{code}: {body}");
    }
    // An unknown portal key is not found.
    let unknown = phone
        .post(format!("{}/hs/abcdefghijklmnopqrs2/start", s.app.base))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    // A good arrival; then a step without the CSRF token is refused.
    let started = phone
        .post(s.portal("/start"))
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let page = s.page(&phone).await;
    let forged = phone
        .post(s.portal("/mobile"))
        .form(&[
            ("_csrf", "0".repeat(64)),
            ("mobile", "01712345678".to_owned()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // Markup typed as a mobile is refused and shown back escaped.
    let xss = s
        .post(
            &phone,
            &page,
            "/mobile",
            &[("mobile", "<img src=x onerror=alert(1)>")],
        )
        .await;
    assert_eq!(xss.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = xss.text().await.unwrap();
    assert!(!body.contains("<img src=x"), "{body}");
    assert!(body.contains("&#60;img src=x"), "{body}");

    // Five wrong tries kill the code: the right one no longer works.
    let sent = s
        .post(&phone, &page, "/mobile", &[("mobile", "01812345678")])
        .await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let code_page = s.page(&phone).await;
    let code = s.code_for("+8801812345678", 0).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let refused = s
            .post(&phone, &code_page, "/code", &[("code", wrong)])
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let late = s
        .post(&phone, &code_page, "/code", &[("code", &code)])
        .await;
    assert_eq!(late.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(late.text().await.unwrap().contains("expired"));
    // A second code at once is refused by the cooldown.
    let again = s
        .post(&phone, &code_page, "/mobile", &[("mobile", "01812345678")])
        .await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_phone_signs_up_on_the_trial_and_binds_its_devices() {
    a_phone_signs_up_on_the_trial_and_binds_its_devices(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_phone_signs_up_on_the_trial_and_binds_its_devices() {
    a_phone_signs_up_on_the_trial_and_binds_its_devices(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_forged_and_hostile_input_is_refused_or_escaped() {
    forged_and_hostile_input_is_refused_or_escaped(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_forged_and_hostile_input_is_refused_or_escaped() {
    forged_and_hostile_input_is_refused_or_escaped(Backend::Postgres).await;
}
