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
//! - An account with all its sessions open on another phone is told so instead of being
//!   handed to a router that would refuse it; the phone ends that session (the server's
//!   Disconnect-Request to the router) and signs in. A device removed at the portal goes
//!   offline with it.
//! - An access voucher: its batch is made for the hotspot package and printed with a QR
//!   code of its link; the link fills the portal's voucher field; the code, mistyped, is
//!   told so; typed right, it becomes a walk-up account on the voucher's package and is
//!   online; a second phone with the same code signs in as that account; an unknown code
//!   is refused.
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
    // A welcome by SMS, in the tenant's words (its default, English).
    let welcome = until(
        "the welcome reaches the gateway",
        async || s.sms.messages(),
        |m| m.iter().any(|m| m.text.starts_with("Welcome to")),
    )
    .await;
    let welcome = welcome
        .iter()
        .find(|m| m.text.starts_with("Welcome to"))
        .unwrap();
    assert_eq!(welcome.to, "+8801712345678");
    assert!(welcome.text.contains("Hotspot Try"), "{}", welcome.text);
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

async fn an_account_in_use_is_taken_over_and_a_removed_device_goes_offline(backend: Backend) {
    let s = site(backend).await;
    let phone = phone();
    let mac1 = "02:11:22:33:55:01";
    let first = s.arrive(&phone, mac1).await;
    let proved = s.prove(&phone, &first, "01712345600").await;
    assert_eq!(proved.status(), StatusCode::SEE_OTHER);
    let signup = s.page(&phone).await;
    let handoff = s.post(&phone, &signup, "/signup", &[("trial", "1")]).await;
    s.online(&phone, handoff, mac1).await;
    until(
        "lastmile records the first phone's session",
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
    // Staff allow the account one session at a time.
    let customer = s.customer_with_mobile("+8801712345600").await;
    let id = customer["id"].as_i64().unwrap();
    let (status, body) = s
        .app
        .patch(
            &format!("/api/v1/customers/{id}"),
            &s.dev,
            serde_json::json!({"simultaneous_use": 1, "version": customer["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Another phone of the same mobile: told the account is online on the first, with a
    // way to end that session; no hand-off before.
    let other = support_hotspot::phone();
    let mac2 = "02:11:22:33:55:02";
    s.app.clock().shift(61);
    let page = s.arrive(&other, mac2).await;
    let proved = s.prove(&other, &page, "01712345600").await;
    assert_eq!(
        proved.status(),
        StatusCode::SEE_OTHER,
        "no hand-off while in use"
    );
    let in_use = s.page(&other).await;
    assert!(in_use.contains("data-screen=\"in_use\""), "{in_use}");
    assert!(
        in_use.contains(mac1),
        "the session's device is named: {in_use}"
    );
    let connect = s
        .post(&other, &in_use, "/connect", &[("account", &id.to_string())])
        .await;
    assert_eq!(
        connect.status(),
        StatusCode::FORBIDDEN,
        "no hand-off while in use"
    );
    let taken = s
        .post(
            &other,
            &in_use,
            "/take-over",
            &[("account", &id.to_string())],
        )
        .await;
    assert_eq!(taken.status(), StatusCode::SEE_OTHER);
    // The router is asked to end the first phone's session; the portal page waits for it,
    // then offers the sign-in.
    let ready = until(
        "the first phone's session ends and the portal offers the sign-in",
        async || s.page(&other).await,
        |page| page.contains("data-screen=\"signin\""),
    )
    .await;
    assert!(
        !s.hotspot.active().iter().any(|h| h.mac == mac1),
        "the router ended the first phone's session"
    );
    let handoff = s
        .post(&other, &ready, "/connect", &[("account", &id.to_string())])
        .await;
    s.online(&other, handoff, mac2).await;

    // A device removed at the portal goes offline: a third MAC at the limit of two removes
    // the second phone, whose session ends, and takes its place.
    let third = support_hotspot::phone();
    let mac3 = "02:11:22:33:55:03";
    s.app.clock().shift(61);
    let page = s.arrive(&third, mac3).await;
    let proved = s.prove(&third, &page, "01712345600").await;
    assert_eq!(proved.status(), StatusCode::SEE_OTHER);
    let devices = s.page(&third).await;
    assert!(devices.contains("data-screen=\"devices\""), "{devices}");
    let second = devices
        .split("<li>")
        .find(|item| item.contains(mac2))
        .map(|item| field(item, "device"))
        .expect("the second phone is listed");
    let removed = s
        .post(
            &third,
            &devices,
            "/device",
            &[("account", &id.to_string()), ("device", &second)],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    until(
        "the removed phone's session ends",
        async || s.hotspot.active(),
        |active| !active.iter().any(|h| h.mac == mac2),
    )
    .await;
    // The portal hands the third phone off at once, or, while the removed phone's session
    // still counts, waits for it to end.
    let handoff = if support_hotspot::location(&removed).starts_with(&s.hotspot.url()) {
        removed
    } else {
        let ready = until(
            "the portal offers the third phone the sign-in",
            async || s.page(&third).await,
            |page| page.contains("data-screen=\"signin\""),
        )
        .await;
        s.post(&third, &ready, "/connect", &[("account", &id.to_string())])
            .await
    };
    s.online(&third, handoff, mac3).await;
    let (_, audit) = s.app.get("/api/v1/audit?limit=100", &s.dev).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"hotspot.take_over"), "{actions:?}");
    assert!(actions.contains(&"hotspot.device_remove"), "{actions:?}");
}

async fn a_voucher_opens_a_walk_up_account_that_its_code_signs_in_again(backend: Backend) {
    let s = site(backend).await;
    let (status, made) = s
        .app
        .post(
            "/api/v1/card-batches",
            &s.dev,
            serde_json::json!({"tenant_id": s.tenant, "kind": "access",
                   "package_id": s.day_package, "quantity": 3}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let batch = made["batch"]["id"].as_i64().unwrap();
    assert_eq!(made["batch"]["kind"], "access", "{made}");
    // The printed sheet: each voucher's code with the QR code of its link.
    let mut panel = support::panel::Visitor::signed_in(&s.app, "dev@example.com").await;
    let sheet = panel.get(&format!("/card-batches/{batch}/print")).await;
    assert_eq!(sheet.status, StatusCode::OK, "{}", sheet.body);
    assert_eq!(sheet.body.matches("<svg").count(), 3, "a QR code each");
    let (status, _, csv) = s
        .app
        .call_full(
            reqwest::Method::GET,
            &format!("/api/v1/card-batches/{batch}/export"),
            Some(&s.dev),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let codes: Vec<String> = csv
        .as_str()
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 3);
    let code = codes[0].clone();
    assert_eq!(code.len(), 13, "printed K7QF2-9XWMD-R: {code}");
    assert!(sheet.body.contains(&code));

    // The voucher's link keeps the code for the portal's voucher field.
    let phone = phone();
    let link = phone
        .get(format!("{}/v/{}", s.app.base, code.replace('-', "")))
        .send()
        .await
        .unwrap();
    assert_eq!(link.status(), StatusCode::OK);
    assert!(link.text().await.unwrap().contains(&code));
    let mac1 = "02:11:22:33:66:01";
    let first = s.arrive(&phone, mac1).await;
    assert!(
        first.contains(&format!("value=\"{code}\"")),
        "the voucher field is filled: {first}"
    );
    // A typo is caught by the check symbol and told so; an unknown code is refused.
    let mut typo: Vec<char> = code.chars().collect();
    typo[0] = if typo[0] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    let told = s
        .post(&phone, &first, "/voucher", &[("voucher", &typo)])
        .await;
    assert_eq!(told.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(told.text().await.unwrap().contains("typing mistake"));
    // Typed as people type it: lower case, spaces.
    let typed = code.to_lowercase().replace('-', " ");
    let handoff = s
        .post(&phone, &first, "/voucher", &[("voucher", &typed)])
        .await;
    s.online(&phone, handoff, mac1).await;
    let status = phone.get(s.portal("/status")).send().await.unwrap();
    let status = status.text().await.unwrap();
    assert!(
        status.contains("Hotspot Day"),
        "the voucher's package: {status}"
    );
    assert!(
        status.contains("id=\"time-left\""),
        "the paid time left: {status}"
    );
    let (_, customers) = s.app.get("/api/v1/customers?limit=50", &s.dev).await;
    let walk_up: Vec<&Value> = customers["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["username"]
                .as_str()
                .is_some_and(|u| u.starts_with(&code.replace('-', "").to_lowercase()))
        })
        .collect();
    assert_eq!(walk_up.len(), 1, "one walk-up account: {customers}");
    assert!(walk_up[0]["expires_at"].is_string(), "{:?}", walk_up[0]);
    let (_, detail) = s
        .app
        .get(&format!("/api/v1/card-batches/{batch}"), &s.dev)
        .await;
    assert_eq!(detail["counts"]["redeemed"], 1, "{detail}");

    // Another phone with the same code signs in as the same account.
    let other = support_hotspot::phone();
    let mac2 = "02:11:22:33:66:02";
    let page = s.arrive(&other, mac2).await;
    let again = s
        .post(&other, &page, "/voucher", &[("voucher", &code)])
        .await;
    s.online(&other, again, mac2).await;
    let (_, customers) = s.app.get("/api/v1/customers?limit=50", &s.dev).await;
    let count = customers["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["username"] == walk_up[0]["username"])
        .count();
    assert_eq!(count, 1, "no second account");
    // A code no batch made is refused, and counts as a guess: towards the tenant's alarm
    // too, which this guess raises after an hour of guesses elsewhere.
    let now = s.app.clock().now();
    for n in 1..ops::card::TENANT_ALARM {
        store::card::record_attempt(
            s.app.state.db.conn(),
            &store::card::NewAttempt {
                tenant: domain::ids::TenantId(s.tenant),
                subject: &format!("device:elsewhere-{n}"),
                outcome: "unknown",
                input_hash: "",
                card_id: None,
                customer_id: None,
            },
            now,
        )
        .await
        .unwrap();
    }
    let third = support_hotspot::phone();
    let page = s.arrive(&third, "02:11:22:33:66:03").await;
    let unknown = domain::card::AccessCode::generate(&mut || 7).printed();
    let refused = s
        .post(&third, &page, "/voucher", &[("voucher", &unknown)])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("not valid"));
    let (_, alarm) = s
        .app
        .get("/api/v1/audit?action=card.guessing", &s.dev)
        .await;
    let alarm = alarm["items"].as_array().unwrap();
    assert_eq!(alarm.len(), 1, "{alarm:?}");
    assert_eq!(alarm[0]["tenant_id"], s.tenant, "{alarm:?}");
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
    // And as a voucher's code; its link with markup is refused without echoing it.
    let xss = s
        .post(
            &phone,
            &page,
            "/voucher",
            &[("voucher", "\"><svg onload=alert(1)>")],
        )
        .await;
    assert_eq!(xss.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = xss.text().await.unwrap();
    assert!(!body.contains("<svg onload"), "{body}");
    let link = phone
        .get(format!(
            "{}/v/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            s.app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(link.status(), StatusCode::NOT_FOUND);
    let body = link.text().await.unwrap();
    assert!(!body.contains("<script>alert"), "{body}");

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
async fn sqlite_an_account_in_use_is_taken_over_and_a_removed_device_goes_offline() {
    an_account_in_use_is_taken_over_and_a_removed_device_goes_offline(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_account_in_use_is_taken_over_and_a_removed_device_goes_offline() {
    an_account_in_use_is_taken_over_and_a_removed_device_goes_offline(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_voucher_opens_a_walk_up_account_that_its_code_signs_in_again() {
    a_voucher_opens_a_walk_up_account_that_its_code_signs_in_again(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_voucher_opens_a_walk_up_account_that_its_code_signs_in_again() {
    a_voucher_opens_a_walk_up_account_that_its_code_signs_in_again(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_forged_and_hostile_input_is_refused_or_escaped() {
    forged_and_hostile_input_is_refused_or_escaped(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_forged_and_hostile_input_is_refused_or_escaped() {
    forged_and_hostile_input_is_refused_or_escaped(Backend::Postgres).await;
}
