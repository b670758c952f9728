//! What messages say (`ops::sms::template`, `/api/v1/tenants/{id}/sms-templates`,
//! `/api/v1/sms-templates/preview`), on both engines, against a real simulated gateway:
//!
//! - A tenant's Admin reads every event's text in English and Bangla (the defaults at
//!   first), previews a text (Bangla goes in UCS-2 parts), sets its own (a placeholder the
//!   event lacks is refused, before anything is kept), puts the default back, and sets the
//!   language its customers are written to in; each change is audited. Another tenant's
//!   Admin sees none of it, a reseller may not change it.
//! - A recharge is told to the customer by SMS in the tenant's language and words: the
//!   notice the recharge leaves is written into the outbox with the customer's name, the
//!   package and the new expiry, and the simulated gateway gets exactly that; a customer
//!   without a mobile is skipped; a second delivery pass writes nothing again. With the
//!   tenant's recharge messages switched off, the next recharge's notice is skipped; the
//!   sign-in code cannot be switched off.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;
mod support_builtin;
mod support_freeradius;

use gateways::sms::SmsProvider;
use gateways::sms::sim::{SimSms, SimSmsConfig, SmsScenario};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, PASSWORD, TestApp, error_code, spawn, until};
use support_freeradius::api;

const SECRET: &str = "sim-auth-token-templates";

async fn sim() -> SimSms {
    SimSms::start(SimSmsConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        username: "ACsim".to_owned(),
        secret: SECRET.to_owned(),
        callback_url: None,
        scenario: SmsScenario::default(),
    })
    .await
    .expect("the simulated SMS gateway starts")
}

/// A tenant's Admin: the tenant and the token.
async fn admin_of(app: &TestApp, dev: &str, name: &str) -> (i64, String) {
    let tenant = app.tenant(dev, name).await;
    let email = format!("admin@{}.example", name.to_lowercase());
    app.user(
        dev,
        json!({"email": email, "name": "Admin", "role": "admin", "tenant_id": tenant}),
    )
    .await;
    (tenant, app.login(&email, PASSWORD).await)
}

async fn templates_are_checked_previewed_set_and_scoped(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let (tenant, admin) = admin_of(&app, &dev, "Dhaka").await;
    let (_, other) = admin_of(&app, &dev, "Sylhet").await;
    let path = format!("/api/v1/tenants/{tenant}/sms-templates");

    // The defaults, every event in both languages, English first.
    let (status, all) = app.get(&path, &admin).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["lang"], "en");
    let templates = all["templates"].as_array().unwrap();
    assert_eq!(templates.len(), 18, "{all}");
    assert!(templates.iter().all(|t| t["custom"] == false));
    let otp_bn = templates
        .iter()
        .find(|t| t["event"] == "otp" && t["lang"] == "bn")
        .unwrap();
    assert_eq!(otp_bn["preview"]["encoding"], "ucs2", "{otp_bn}");
    assert!(
        otp_bn["preview"]["sample"]
            .as_str()
            .unwrap()
            .starts_with("482913")
    );
    // A tenant's own examples carry its name (its parts are those its customers get).
    let otp_en = templates
        .iter()
        .find(|t| t["event"] == "otp" && t["lang"] == "en")
        .unwrap();
    assert_eq!(
        otp_en["preview"]["sample"],
        "482913 is your Dhaka Wi-Fi code. Valid 5 min. Do not share it.",
        "{otp_en}"
    );

    // A preview: its parts and encoding; a placeholder the event lacks is refused.
    let (status, shown) = app
        .post(
            "/api/v1/sms-templates/preview",
            &admin,
            json!({"event": "recharge", "text": "{network}: {package} চালু, মেয়াদ {expires}"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["encoding"], "ucs2");
    assert_eq!(shown["parts"], 1);
    assert_eq!(shown["sample"], "Dhaka Net: Home 20M চালু, মেয়াদ 2026-12-31");
    let (status, refused) = app
        .post(
            "/api/v1/sms-templates/preview",
            &admin,
            json!({"event": "payment", "text": "Code {code}"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(error_code(&refused), "unknown_placeholder", "{refused}");

    // Its own text: checked before it is kept, then shown as the tenant's.
    let one = format!("{path}/recharge/en");
    let (status, refused) = app.put(&one, &admin, json!({"text": "Hi {nme}"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let (status, set) = app
        .put(
            &one,
            &admin,
            json!({"text": "{network}: {package} is on until {expires}. Thanks, {name}!"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["custom"], true);
    assert_eq!(set["preview"]["encoding"], "gsm7");
    let (status, _) = app
        .put(&format!("{path}/nothing/en"), &admin, json!({"text": "x"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, all) = app.get(&path, &admin).await;
    let mine: Vec<&Value> = all["templates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["custom"] == true)
        .collect();
    assert_eq!(mine.len(), 1, "{all}");
    // Back to the default.
    let (status, back) = app.put(&one, &admin, json!({"text": null})).await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back["custom"], false);

    // The language customers are written in.
    let (status, _) = app
        .put(
            &format!("/api/v1/tenants/{tenant}/sms-language"),
            &admin,
            json!({"lang": "bn"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, all) = app.get(&path, &admin).await;
    assert_eq!(all["lang"], "bn");
    let (_, audit) = app.get("/api/v1/audit?limit=50", &admin).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "sms.template").count(),
        2,
        "{actions:?}"
    );
    assert!(actions.contains(&"sms.language"), "{actions:?}");

    // Another tenant's Admin sees none of it and changes nothing.
    let (status, _) = app.get(&path, &other).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.put(&one, &other, json!({"text": "x {name}"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_recharge_is_told_by_sms_in_the_tenants_language_and_words(backend: Backend) {
    let app = spawn(backend).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let sms = sim().await;
    let (status, body) = app
        .post(
            "/api/v1/sms-gateways",
            &isp.dev,
            json!({"tenant_id": isp.tenant, "name": "sim", "settings": {
                "driver": "twilio", "base_url": sms.base_url(SmsProvider::Twilio),
                "account_sid": "ACsim", "auth_token": SECRET, "sender": "+15005550006"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let path = format!("/api/v1/tenants/{}/sms-templates", isp.tenant);
    let (status, _) = app
        .put(
            &format!("/api/v1/tenants/{}/sms-language", isp.tenant),
            &isp.dev,
            json!({"lang": "bn"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, set) = app
        .put(
            &format!("{path}/recharge/bn"),
            &isp.dev,
            json!({"text": "{network}: {name}, {package} রিচার্জ হয়েছে। মেয়াদ {expires}।"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    let rahim = api::customer(
        &app,
        &isp.dev,
        isp.tenant,
        isp.home,
        "rahim",
        json!({"billing_type": "prepaid", "mobile": "01712345678", "name": "Rahim"}),
    )
    .await;
    let silent = api::customer(
        &app,
        &isp.dev,
        isp.tenant,
        isp.home,
        "nomobile",
        json!({"billing_type": "prepaid"}),
    )
    .await;
    // The tenant's Admin takes cash for each.
    app.user(
        &isp.dev,
        json!({"email": "admin@isp.example", "name": "Admin", "role": "admin",
               "tenant_id": isp.tenant}),
    )
    .await;
    let admin = app.login("admin@isp.example", PASSWORD).await;
    for customer in [&rahim, &silent] {
        let (status, done) = app
            .post(
                &format!("/api/v1/customers/{}/recharge", customer["id"]),
                &admin,
                json!({}),
            )
            .await;
        assert!(status.is_success(), "{done}");
    }
    let (_, after) = app
        .get(&format!("/api/v1/customers/{}", rahim["id"]), &isp.dev)
        .await;
    let expires: chrono::DateTime<chrono::Utc> =
        after["expires_at"].as_str().unwrap().parse().unwrap();
    let local = expires
        .with_timezone(&chrono_tz::Asia::Dhaka)
        .date_naive()
        .to_string();

    // The sender's pass writes the notices as messages; the gateway gets the words.
    let ctx = app.state.ctx();
    let first = ops::sms::template::deliver_notifications(&ctx)
        .await
        .unwrap();
    assert_eq!((first.queued, first.skipped), (1, 1), "{first:?}");
    app.state.jobs_wake.notify_one();
    let got = until(
        "the recharge's message reaches the gateway",
        async || sms.messages(),
        |m| !m.is_empty(),
    )
    .await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].to, "+8801712345678");
    assert_eq!(
        got[0].text,
        format!("FreeRADIUS ISP: Rahim, Home 50M রিচার্জ হয়েছে। মেয়াদ {local}।")
    );
    let again = ops::sms::template::deliver_notifications(&ctx)
        .await
        .unwrap();
    assert_eq!((again.queued, again.skipped, again.read), (0, 0, 0));

    // Recharge messages switched off: the next recharge's notice is skipped, nothing goes
    // out. The sign-in code cannot be switched off.
    let events = format!("/api/v1/tenants/{}/sms-events", isp.tenant);
    let (status, body) = app
        .put(&format!("{events}/recharge"), &admin, json!({"on": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .put(&format!("{events}/otp"), &admin, json!({"on": false}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "event_required");
    let (_, listed) = app.get(&path, &admin).await;
    let on: Vec<(String, bool)> = listed["templates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["lang"] == "en")
        .map(|t| (t["event"].as_str().unwrap().to_owned(), t["on"] == true))
        .collect();
    assert!(on.contains(&("recharge".to_owned(), false)), "{on:?}");
    assert_eq!(on.iter().filter(|(_, on)| !on).count(), 1, "{on:?}");
    let (status, done) = app
        .post(
            &format!("/api/v1/customers/{}/recharge", rahim["id"]),
            &admin,
            json!({}),
        )
        .await;
    assert!(status.is_success(), "{done}");
    let off = ops::sms::template::deliver_notifications(&ctx)
        .await
        .unwrap();
    assert_eq!((off.queued, off.skipped), (0, 1), "{off:?}");
    let (_, audit) = app.get("/api/v1/audit?action=sms.event", &admin).await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    // Back on, the next one is told again.
    let (status, _) = app
        .put(&format!("{events}/recharge"), &admin, json!({"on": true}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, done) = app
        .post(
            &format!("/api/v1/customers/{}/recharge", rahim["id"]),
            &admin,
            json!({}),
        )
        .await;
    assert!(status.is_success(), "{done}");
    let back = ops::sms::template::deliver_notifications(&ctx)
        .await
        .unwrap();
    assert_eq!((back.queued, back.skipped), (1, 0), "{back:?}");
}

macro_rules! both {
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

both!(
    templates_are_checked_previewed_set_and_scoped,
    a_recharge_is_told_by_sms_in_the_tenants_language_and_words,
);
