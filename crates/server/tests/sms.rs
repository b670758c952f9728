//! The SMS outbox (`ops::sms`, the `sms.send` job, `/api/v1/sms-*`, `/hooks/sms/{id}`)
//! against a real simulated gateway (`gateways::sms::sim`) over loopback, on both engines: a
//! gateway's settings are sealed whole and never shown; a queued message goes out through
//! the job with its exact text (Bangla included) and the provider's signed delivery report
//! marks it delivered; a reference queues once and sends once; a transient failure is tried
//! again, a permanent one fails with the provider's reason; budgets and per-number limits
//! refuse with their codes; a tenant without a gateway uses the platform's default; and
//! another tenant's staff see nothing of any of it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use gateways::sms::SmsProvider;
use gateways::sms::sim::{ReportOutcome, SimSms, SimSmsConfig, SmsScenario};
use ops::OpError;
use ops::clock::Clock;
use ops::sms::SmsRequest;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};
use support::{Backend, PASSWORD, TestApp, spawn, spawn_on, until};

/// The simulator's key: Twilio's Auth Token.
const SECRET: &str = "sim-auth-token-5c1e7a";

/// A simulated gateway whose reports leave `report_delay_ms` after each send.
async fn sim(scenario: SmsScenario) -> SimSms {
    SimSms::start(SimSmsConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        username: "ACsim".to_owned(),
        secret: SECRET.to_owned(),
        callback_url: None,
        scenario,
    })
    .await
    .expect("the simulated SMS gateway starts")
}

/// Twilio settings for `sim`, reporting to `callback` when given.
fn twilio(sim: &SimSms, callback: Option<String>) -> Value {
    let mut settings = json!({
        "driver": "twilio",
        "base_url": sim.base_url(SmsProvider::Twilio),
        "account_sid": "ACsim",
        "auth_token": SECRET,
        "sender": "+15005550006",
    });
    if let Some(url) = callback {
        settings["status_callback"] = json!(url);
    }
    settings
}

/// A tenant and its Admin's token.
async fn tenant_with_admin(app: &TestApp, dev: &str, name: &str) -> (i64, String) {
    let tenant = app.tenant(dev, name).await;
    let email = format!("admin@{}.example", name.to_lowercase());
    app.user(
        dev,
        json!({"email": email, "name": "Admin", "role": "admin", "tenant_id": tenant}),
    )
    .await;
    (tenant, app.login(&email, PASSWORD).await)
}

/// Creates a gateway; its answer.
async fn gateway(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = app.post("/api/v1/sms-gateways", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

/// Queues a test message through gateway `id`; the answer's status and body.
async fn test_message(
    app: &TestApp,
    token: &str,
    id: i64,
    to: &str,
    text: &str,
) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/sms-gateways/{id}/test"),
        token,
        json!({"to": to, "text": text}),
    )
    .await
}

/// Message `id` as the database holds it: status, attempts, last error, gateway.
async fn row(app: &TestApp, id: i64) -> (String, i32, Option<String>, Option<i64>) {
    let backend = app.state.db.conn().get_database_backend();
    let sql =
        format!("SELECT status, attempts, last_error, gateway_id FROM sms_message WHERE id = {id}");
    let row = app
        .state
        .db
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(backend, sql))
        .await
        .unwrap()
        .expect("the message is there");
    (
        row.try_get("", "status").unwrap(),
        row.try_get("", "attempts").unwrap(),
        row.try_get("", "last_error").unwrap(),
        row.try_get("", "gateway_id").unwrap(),
    )
}

/// Waits until message `id` is in `status`.
async fn until_status(
    app: &TestApp,
    id: i64,
    status: &str,
) -> (String, i32, Option<String>, Option<i64>) {
    until(
        &format!("message {id} {status}"),
        async || row(app, id).await,
        |r| r.0 == status,
    )
    .await
}

/// Queues a message of `tenant` in-process, as other operations do.
async fn queue(
    app: &TestApp,
    tenant: Option<i64>,
    to: &str,
    kind: &str,
    text: &str,
    reference: &str,
) -> Result<store::sms::Message, OpError> {
    let result = ops::sms::queue(
        &app.state.ctx(),
        store::Author::system("test"),
        tenant.map(domain::ids::TenantId),
        &SmsRequest {
            to,
            kind,
            text,
            reference,
            gateway_id: None,
        },
    )
    .await;
    app.state.jobs_wake.notify_one();
    result
}

/// The code of the first field error of a refusal.
fn refusal(result: Result<store::sms::Message, OpError>) -> (String, &'static str) {
    match result {
        Err(OpError::Invalid(errors)) => (errors.0[0].field.clone(), errors.0[0].code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn a_test_message_goes_out_with_its_exact_text_and_is_reported_delivered(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let (tenant, admin) = tenant_with_admin(&app, &dev, "Padma").await;
    let sim = sim(SmsScenario {
        // After the sender has recorded what the provider answered.
        report_delay_ms: 500,
        ..SmsScenario::default()
    })
    .await;

    let created = gateway(
        &app,
        &admin,
        json!({"name": "Twilio", "settings": twilio(&sim, None), "daily_budget": 100}),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["tenant_id"], tenant, "{created}");
    assert_eq!(created["driver"], "twilio", "{created}");
    assert!(!created.to_string().contains(SECRET), "{created}");
    let keys: Vec<&str> = created["settings_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"auth_token") && keys.contains(&"account_sid"),
        "{created}"
    );

    // The column holds the settings sealed: no secret, not even the account.
    let backend_kind = app.state.db.conn().get_database_backend();
    let stored = app
        .state
        .db
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            backend_kind,
            format!("SELECT settings FROM sms_gateway WHERE id = {id}"),
        ))
        .await
        .unwrap()
        .unwrap();
    let sealed: String = stored.try_get("", "settings").unwrap();
    assert!(sealed.starts_with("enc:v1:"), "{sealed}");
    assert!(
        !sealed.contains(SECRET) && !sealed.contains("ACsim"),
        "{sealed}"
    );
    let (_, audit) = app.get("/api/v1/audit?limit=50", &dev).await;
    assert!(
        !audit.to_string().contains(SECRET),
        "the audit log shows no secret"
    );

    // Reports come back to this installation's hook, signed for that URL.
    let callback = format!("{}/hooks/sms/{id}", app.base);
    let (status, changed) = app
        .patch(
            &format!("/api/v1/sms-gateways/{id}"),
            &admin,
            json!({"settings": twilio(&sim, Some(callback)), "version": created["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert!(!changed.to_string().contains(SECRET), "{changed}");
    assert_eq!(changed["version"], 2, "{changed}");

    let text = "আপনার বিল ৫০০ টাকা পরিশোধ হয়েছে। ধন্যবাদ!";
    let (status, queued) = test_message(&app, &admin, id, "01712345678", text).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["to"], "+8801712345678", "{queued}");
    assert_eq!(queued["encoding"], "ucs2", "{queued}");
    assert_eq!(queued["parts"], 1, "{queued}");
    let message = queued["id"].as_i64().unwrap();

    let taken = until(
        "the simulator takes it",
        async || sim.messages(),
        |m| !m.is_empty(),
    )
    .await;
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].text, text);
    assert_eq!(taken[0].to, "+8801712345678");

    let (_, _, _, gateway_id) = until_status(&app, message, "delivered").await;
    assert_eq!(gateway_id, Some(id));
    // The dashboard counts the day's SMS against the budget.
    let mut panel = support::panel::Visitor::signed_in(&app, "admin@padma.example").await;
    let tile = panel
        .get("/panel")
        .await
        .text_of("tile-sms")
        .unwrap_or_default();
    assert!(tile.starts_with("1 SMS sent today / 100"), "{tile}");
    let (status, listed) = app
        .get("/api/v1/sms-messages?status=delivered&kind=test", &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["items"][0]["id"], message, "{listed}");
    assert_eq!(listed["items"][0]["text"], text, "{listed}");
    assert!(
        listed["items"][0]["provider_id"]
            .as_str()
            .unwrap()
            .starts_with("SM")
    );

    // A report again (the provider redelivers) changes nothing and is answered.
    let again = app
        .http
        .post(format!("{}/hooks/sms/{id}", app.base))
        .header("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("MessageSid=SMx&MessageStatus=failed")
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        StatusCode::FORBIDDEN,
        "a badly signed report is refused"
    );
    assert_eq!(row(&app, message).await.0, "delivered");
    let unknown = app
        .http
        .post(format!("{}/hooks/sms/999999", app.base))
        .body("id=1&status=Success")
        .send()
        .await
        .unwrap();
    assert_eq!(
        unknown.status(),
        StatusCode::NO_CONTENT,
        "an unknown gateway is ignored"
    );

    // One reference, one message, one send.
    let first = queue(
        &app,
        Some(tenant),
        "+8801712345679",
        "welcome",
        "Welcome to Padma Net",
        "welcome:7",
    )
    .await
    .unwrap();
    let second = queue(
        &app,
        Some(tenant),
        "01712345679",
        "welcome",
        "Welcome to Padma Net",
        "welcome:7",
    )
    .await
    .unwrap();
    assert_eq!(first.id, second.id);
    until_status(&app, first.id, "delivered").await;
    let again = queue(
        &app,
        Some(tenant),
        "01712345679",
        "welcome",
        "Welcome to Padma Net",
        "welcome:7",
    )
    .await
    .unwrap();
    assert_eq!(again.id, first.id);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let to_welcome: Vec<_> = sim
        .messages()
        .into_iter()
        .filter(|m| m.to == "+8801712345679")
        .collect();
    assert_eq!(to_welcome.len(), 1, "{to_welcome:?}");
    let (_, all) = app.get("/api/v1/sms-messages", &admin).await;
    assert_eq!(all["total"], 2, "{all}");

    // A provider that reports at once, before the sender has recorded its answer: the
    // report is held and applied when the sender records the message as sent.
    sim.set_scenario(SmsScenario {
        report_delay_ms: 0,
        ..SmsScenario::default()
    });
    for n in 0..3 {
        let quick = queue(
            &app,
            Some(tenant),
            &format!("0171234570{n}"),
            "welcome",
            "Quick report",
            &format!("quick:{n}"),
        )
        .await
        .unwrap();
        until_status(&app, quick.id, "delivered").await;
    }
    assert_eq!(
        app.count("sms_report").await,
        0,
        "held reports are let go once applied"
    );
}

async fn transient_failures_are_retried_and_permanent_ones_fail_with_the_reason(backend: Backend) {
    let clock = Clock::fixed(Clock::system().now());
    let app = spawn_on(backend, clock, |_| {}).await;
    let dev = app.developer().await;
    let (tenant, admin) = tenant_with_admin(&app, &dev, "Meghna").await;
    let sim = sim(SmsScenario {
        reject_prefix: Some("+88019".to_owned()),
        report: ReportOutcome::Silent,
        ..SmsScenario::default()
    })
    .await;
    gateway(
        &app,
        &admin,
        json!({"name": "Twilio", "settings": twilio(&sim, None)}),
    )
    .await;

    sim.fail_next(1);
    let message = queue(
        &app,
        Some(tenant),
        "01812345678",
        "recharge",
        "Recharged: 30 days",
        "recharge:1",
    )
    .await
    .unwrap();
    let (_, attempts, error, _) = until(
        "the first attempt fails",
        async || row(&app, message.id).await,
        |r| r.0 == "queued" && r.1 == 1,
    )
    .await;
    assert_eq!(attempts, 1);
    assert!(error.unwrap().contains("unavailable"));
    assert!(sim.messages().is_empty());

    // Ten seconds later it is due again, and goes out.
    app.clock().shift(11);
    let (_, attempts, error, _) = until_status(&app, message.id, "sent").await;
    assert_eq!(attempts, 2);
    assert_eq!(error, None);
    assert_eq!(sim.messages().len(), 1);
    assert_eq!(sim.messages()[0].text, "Recharged: 30 days");

    let refused = queue(
        &app,
        Some(tenant),
        "01912345678",
        "due",
        "Your bill is due",
        "due:1",
    )
    .await
    .unwrap();
    let (_, attempts, error, _) = until_status(&app, refused.id, "failed").await;
    assert_eq!(attempts, 1, "a refusal is not tried again");
    let error = error.unwrap();
    assert!(error.contains("21211"), "{error}");
    assert_eq!(sim.messages().len(), 1);
    let (_, failed) = app.get("/api/v1/sms-messages?status=failed", &admin).await;
    assert_eq!(failed["total"], 1, "{failed}");
    assert_eq!(failed["items"][0]["last_error"], error.as_str(), "{failed}");
}

async fn budgets_and_per_number_limits_refuse_with_clear_codes(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let (tenant, admin) = tenant_with_admin(&app, &dev, "Jamuna").await;
    let sim = sim(SmsScenario::default()).await;
    let created = gateway(
        &app,
        &admin,
        json!({"name": "Twilio", "settings": twilio(&sim, None), "daily_budget": 12}),
    )
    .await;
    let id = created["id"].as_i64().unwrap();

    // The number is read in the tenant's country, and the text must fit six parts.
    let (status, body) = test_message(&app, &admin, id, "12345", "hello").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "to", "{body}");
    assert_eq!(
        body["error"]["fields"][0]["code"], "invalid_mobile",
        "{body}"
    );
    let long = "ক".repeat(67 * 6 + 1);
    let (status, body) = test_message(&app, &admin, id, "01712345678", &long).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["fields"][0]["code"], "too_many_parts",
        "{body}"
    );

    // Five one-time codes a day to a number, ten messages.
    for n in 0..5 {
        queue(
            &app,
            Some(tenant),
            "01711111111",
            "otp",
            &format!("{n}23456 is your code"),
            &format!("otp:{n}"),
        )
        .await
        .unwrap();
    }
    let sixth = queue(
        &app,
        Some(tenant),
        "01711111111",
        "otp",
        "623456 is your code",
        "otp:5",
    )
    .await;
    assert_eq!(refusal(sixth), ("to".to_owned(), "otp_daily_limit"));
    for n in 0..5 {
        queue(
            &app,
            Some(tenant),
            "01711111111",
            "manual",
            "Hello",
            &format!("manual:{n}"),
        )
        .await
        .unwrap();
    }
    let eleventh = queue(
        &app,
        Some(tenant),
        "+8801711111111",
        "manual",
        "Hello",
        "manual:5",
    )
    .await;
    assert_eq!(refusal(eleventh), ("to".to_owned(), "number_daily_limit"));

    // Twelve messages a day for the tenant: two more to other numbers, then none.
    queue(
        &app,
        Some(tenant),
        "01722222222",
        "manual",
        "Hello",
        "manual:a",
    )
    .await
    .unwrap();
    queue(
        &app,
        Some(tenant),
        "01733333333",
        "manual",
        "Hello",
        "manual:b",
    )
    .await
    .unwrap();
    let (status, body) = test_message(&app, &admin, id, "01744444444", "hello").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["fields"][0]["field"], "daily_budget",
        "{body}"
    );
    assert_eq!(
        body["error"]["fields"][0]["code"], "sms_budget_exhausted",
        "{body}"
    );
    assert_eq!(app.count("sms_message").await, 12);
    // A reference already used is its message, budget or not.
    let known = queue(
        &app,
        Some(tenant),
        "01722222222",
        "manual",
        "Hello",
        "manual:a",
    )
    .await;
    assert!(known.is_ok());
}

async fn a_tenant_without_a_gateway_uses_the_platform_default(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let (tenant, admin) = tenant_with_admin(&app, &dev, "Karnaphuli").await;
    let none = queue(
        &app,
        Some(tenant),
        "01712345678",
        "welcome",
        "Welcome",
        "welcome:1",
    )
    .await;
    assert_eq!(refusal(none), ("gateway".to_owned(), "no_sms_gateway"));

    let sim = sim(SmsScenario::default()).await;
    let (status, body) = app
        .post(
            "/api/v1/sms-gateways",
            &admin,
            json!({"name": "Own", "settings": {"driver": "log"}}),
        )
        .await;
    // Its own gateway, switched off: the tenant has no active one.
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let own = body["id"].as_i64().unwrap();
    let (status, _) = app
        .patch(
            &format!("/api/v1/sms-gateways/{own}"),
            &admin,
            json!({"status": "disabled", "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let platform = gateway(
        &app,
        &dev,
        json!({"name": "Platform", "settings": twilio(&sim, None)}),
    )
    .await;
    let platform_id = platform["id"].as_i64().unwrap();
    assert_eq!(platform["tenant_id"], Value::Null, "{platform}");

    let message = queue(
        &app,
        Some(tenant),
        "01712345678",
        "welcome",
        "Welcome to Karnaphuli",
        "welcome:1",
    )
    .await
    .unwrap();
    // No status callback and no public address: nothing reports back.
    let (_, _, _, through) = until_status(&app, message.id, "sent").await;
    assert_eq!(through, Some(platform_id));
    assert_eq!(sim.messages().len(), 1);
    assert_eq!(sim.messages()[0].text, "Welcome to Karnaphuli");

    // The tenant's staff neither see nor change the platform's gateway.
    let (_, listed) = app.get("/api/v1/sms-gateways", &admin).await;
    let ids: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![own]);
    let (status, _) = app
        .patch(
            &format!("/api/v1/sms-gateways/{platform_id}"),
            &admin,
            json!({"status": "disabled", "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = test_message(&app, &admin, platform_id, "01712345678", "hi").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = app.get("/api/v1/sms-gateways", &dev).await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
}

async fn another_tenants_staff_see_nothing_of_it(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let (tenant, admin) = tenant_with_admin(&app, &dev, "Surma").await;
    let (_, other) = tenant_with_admin(&app, &dev, "Rupsha").await;
    let created = gateway(
        &app,
        &admin,
        json!({"name": "Log", "settings": {"driver": "log"}}),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    let (status, sent) = test_message(&app, &admin, id, "01712345678", "hello").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    until_status(&app, sent["id"].as_i64().unwrap(), "sent").await;

    let (status, listed) = app.get("/api/v1/sms-gateways", &other).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed, json!([]));
    let (status, messages) = app.get("/api/v1/sms-messages", &other).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(messages["total"], 0, "{messages}");
    let (status, _) = app
        .patch(
            &format!("/api/v1/sms-gateways/{id}"),
            &other,
            json!({"name": "Mine", "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = test_message(&app, &other, id, "01712345678", "hello").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .post(
            "/api/v1/sms-gateways",
            &other,
            json!({"name": "Theirs", "tenant_id": tenant, "settings": {"driver": "log"}}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A reseller of the tenant does not manage its gateways nor read its messages.
    app.user(
        &dev,
        json!({"email": "op@surma.example", "name": "Op", "role": "operator", "tenant_id": tenant}),
    )
    .await;
    let operator = app.login("op@surma.example", PASSWORD).await;
    let (status, _) = app.get("/api/v1/sms-gateways", &operator).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.get("/api/v1/sms-messages", &operator).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Settings that no driver takes are refused, field by field.
    let (status, body) = app
        .post(
            "/api/v1/sms-gateways",
            &admin,
            json!({"name": "Bad", "settings": {"driver": "twilio", "account_sid": "AC1"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"]["fields"][0]["code"], "invalid_settings",
        "{body}"
    );
}

both_backends!(
    a_test_message_goes_out_with_its_exact_text_and_is_reported_delivered,
    transient_failures_are_retried_and_permanent_ones_fail_with_the_reason,
    budgets_and_per_number_limits_refuse_with_clear_codes,
    a_tenant_without_a_gateway_uses_the_platform_default,
    another_tenants_staff_see_nothing_of_it,
);
