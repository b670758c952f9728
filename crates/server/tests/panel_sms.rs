//! The panel's Messages page (`/panel/sms`) over HTTP, without a browser, on both engines:
//!
//! - A tenant's Admin opens it from the navigation and reads the defaults (every event, its
//!   placeholders, each text as sent with its parts and encoding); saves its own Bangla
//!   text and sees it marked as its own, then puts the default back; a text with a
//!   placeholder the event lacks, or too long for six parts, comes back beside its textarea
//!   as typed and keeps nothing; switches an event off and on (the sign-in code has no
//!   switch, and a forged post to switch it off is refused); changes the language; sees
//!   the day's count and the latest message with its number masked; reads it all in Bangla.
//! - A reseller and a Manager without the tenant's settings get no link and 403, as the
//!   API answers them; a Manager granted them gets the page. Another tenant's Admin cannot
//!   read or change it (404), and works in its own.
//! - A platform user picks the tenant (`?tenant_id=`), and the forms keep it.
//!
//! Each test reads the database as well as the pages; `support::panel` plays the browser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use domain::ids::TenantId;
use reqwest::StatusCode;
use serde_json::json;
use support::panel::{Reply, Visitor, isp, staff_of};
use support::{Backend, TestApp, spawn, until};

/// The tenant's language as stored.
async fn stored_lang(app: &TestApp, tenant: i64) -> String {
    store::tenant::find_any(app.state.db.conn(), TenantId(tenant))
        .await
        .unwrap()
        .expect("the tenant is stored")
        .sms_lang
}

/// The text a page's textarea `field` holds, unescaped as a browser reads it.
fn textarea(page: &Reply, field: &str) -> String {
    let open = format!("name=\"{field}\"");
    let start = page
        .body
        .find(&open)
        .unwrap_or_else(|| panic!("{field}: {}", page.body));
    let from = start + page.body[start..].find('>').unwrap() + 1;
    let to = from + page.body[from..].find("</textarea>").unwrap();
    page.body[from..to]
        .replace("&#123;", "{")
        .replace("&#125;", "}")
        .replace("&#40;", "(")
        .replace("&#41;", ")")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&lt;", "<")
        .replace("&#62;", ">")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// Follows a redirect back to the page, checking where it went.
async fn back_to_page(browser: &mut Visitor<'_>, reply: &Reply, page: &str) -> Reply {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.location().to_owned();
    assert!(
        location == page || location.starts_with(&format!("{page}#")),
        "back to {page}, not {location}"
    );
    let shown = browser.get(&location).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(shown.has("Saved."), "the flash: {}", shown.body);
    shown
}

const OWN_BANGLA: &str = "{network}: {name}, {package} রিচার্জ হয়েছে। মেয়াদ {expires}।";

async fn a_tenant_admin_reads_and_changes_what_its_messages_say(backend: Backend) {
    let app = spawn(backend).await;
    let mut isp = isp(&app).await;
    let browser = &mut isp.admin;

    // From the navigation, the defaults.
    let dashboard = browser.get("/panel").await;
    assert!(dashboard.has("href=\"/panel/sms\""), "{}", dashboard.body);
    let page = browser.get("/panel/sms").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.has("href=\"/panel/sms\" aria-current=\"page\""));
    assert_eq!(
        page.text_of("sms-title").as_deref(),
        Some("Messages (SMS) · Dhaka Net")
    );
    assert!(
        !page.has("id=\"sms-tenant\""),
        "its own tenant, none to pick"
    );
    assert_eq!(page.body.matches("data-event=\"").count(), 9);
    for event in domain::sms::Event::ALL {
        for lang in domain::sms::Lang::ALL {
            let field = format!("text_{}_{}", event.as_str(), lang.as_str());
            assert_eq!(textarea(&page, &field), event.default_text(lang), "{field}");
            assert_eq!(
                page.text_of(&format!("{field}-kind")).as_deref(),
                Some("Default text")
            );
        }
    }
    assert_eq!(
        page.text_of("text_recharge_en-sample").as_deref(),
        Some("Dhaka Net: Home 20M recharged (BDT 1,050.00). Valid until 2026-12-31.")
    );
    assert_eq!(
        page.text_of("text_recharge_en-parts").as_deref(),
        Some("1 part(s) · GSM 7-bit")
    );
    assert_eq!(
        page.text_of("text_recharge_bn-parts").as_deref(),
        Some("2 part(s) · UCS-2 (Unicode)")
    );
    assert_eq!(
        page.text_of("event-otp-placeholders").as_deref(),
        Some("{network}, {code}, {minutes}")
    );
    assert_eq!(
        page.text_of("event-recharge-placeholders").as_deref(),
        Some("{network}, {name}, {package}, {amount}, {expires}")
    );
    assert!(page.has("<option value=\"en\" selected>"), "{}", page.body);
    assert_eq!(page.text_of("sms-total").as_deref(), Some("0 queued today"));
    assert!(page.has("id=\"sms-no-messages\""));

    // Its own Bangla text, marked as its own; the English one stays the default.
    let reply = browser
        .submit(
            "/panel/sms",
            "/panel/sms/templates/recharge/bn",
            &[("text_recharge_bn", OWN_BANGLA), ("action", "save")],
        )
        .await;
    let page = back_to_page(browser, &reply, "/panel/sms").await;
    assert_eq!(
        page.text_of("text_recharge_bn-kind").as_deref(),
        Some("Your own text")
    );
    assert_eq!(textarea(&page, "text_recharge_bn"), OWN_BANGLA);
    assert_eq!(
        page.text_of("text_recharge_bn-sample").as_deref(),
        Some("Dhaka Net: Rahim Uddin, Home 20M রিচার্জ হয়েছে। মেয়াদ 2026-12-31।")
    );
    assert_eq!(
        page.text_of("text_recharge_en-kind").as_deref(),
        Some("Default text")
    );
    assert!(page.has("id=\"reset-text_recharge_bn\""));
    assert!(!page.has("id=\"reset-text_recharge_en\""));
    assert_eq!(app.count("sms_template").await, 1);

    // A placeholder the event lacks: refused beside its textarea, as typed, nothing kept.
    let reply = browser
        .submit(
            "/panel/sms",
            "/panel/sms/templates/payment/en",
            &[("text_payment_en", "Thanks {nme} <b>"), ("action", "save")],
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(
        reply.text_of("text_payment_en-error").as_deref(),
        Some("No placeholder {nme} here; these are: network, name, amount.")
    );
    assert_eq!(textarea(&reply, "text_payment_en"), "Thanks {nme} <b>");
    assert!(!reply.has("Thanks {nme} <b>"), "typed text is escaped");
    assert_eq!(reply.text_of("text_payment_bn-error").as_deref(), Some(""));
    assert_eq!(
        reply.text_of("text_payment_en-kind").as_deref(),
        Some("Default text")
    );
    assert_eq!(
        textarea(&reply, "text_recharge_bn"),
        OWN_BANGLA,
        "the other texts stay as stored"
    );
    // Too long: said in parts, not characters.
    let long = format!("{{network}} {}", "x".repeat(1000));
    let reply = browser
        .submit(
            "/panel/sms",
            "/panel/sms/templates/welcome/en",
            &[("text_welcome_en", &long), ("action", "save")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.text_of("text_welcome_en-error").as_deref(),
        Some("Too long for an SMS: 7 parts, at most 6.")
    );
    assert_eq!(textarea(&reply, "text_welcome_en"), long);
    assert_eq!(
        app.count("sms_template").await,
        1,
        "nothing refused is kept"
    );

    // The default back.
    let reply = browser
        .submit(
            "/panel/sms",
            "/panel/sms/templates/recharge/bn",
            &[("text_recharge_bn", "ignored"), ("action", "reset")],
        )
        .await;
    let page = back_to_page(browser, &reply, "/panel/sms").await;
    assert_eq!(
        page.text_of("text_recharge_bn-kind").as_deref(),
        Some("Default text")
    );
    assert_eq!(
        textarea(&page, "text_recharge_bn"),
        domain::sms::Event::Recharge.default_text(domain::sms::Lang::Bn)
    );
    assert_eq!(app.count("sms_template").await, 0);

    // An event off and on again; the sign-in code has no switch.
    assert_eq!(page.text_of("event-welcome-state").as_deref(), Some("On"));
    assert!(page.has("id=\"switch-off-welcome\""));
    assert_eq!(page.text_of("event-otp-state").as_deref(), Some("On"));
    assert!(!page.has("id=\"switch-off-otp\""));
    assert!(!page.has("action=\"/panel/sms/events/otp"));
    assert!(page.has("Always on: the captive portal needs sign-in codes."));
    let reply = browser
        .submit(
            "/panel/sms",
            "/panel/sms/events/welcome",
            &[("on", "false")],
        )
        .await;
    let page = back_to_page(browser, &reply, "/panel/sms").await;
    assert_eq!(page.text_of("event-welcome-state").as_deref(), Some("Off"));
    assert!(page.has("id=\"switch-on-welcome\""));
    assert!(!page.has("id=\"switch-off-welcome\""));
    assert_eq!(page.text_of("event-payment-state").as_deref(), Some("On"));
    assert_eq!(app.count("sms_event_off").await, 1);
    let reply = browser
        .submit("/panel/sms", "/panel/sms/events/otp", &[("on", "false")])
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.text_of("event-error").as_deref(),
        Some("Sign-in codes cannot be switched off: the captive portal needs them.")
    );
    assert_eq!(reply.text_of("event-otp-state").as_deref(), Some("On"));
    assert_eq!(app.count("sms_event_off").await, 1);
    let reply = browser
        .submit("/panel/sms", "/panel/sms/events/welcome", &[("on", "true")])
        .await;
    let page = back_to_page(browser, &reply, "/panel/sms").await;
    assert_eq!(page.text_of("event-welcome-state").as_deref(), Some("On"));
    assert_eq!(app.count("sms_event_off").await, 0);

    // The language.
    let reply = browser
        .submit("/panel/sms", "/panel/sms/language", &[("lang", "fr")])
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.has("Messages are written in English (en) or Bangla (bn)."));
    assert_eq!(stored_lang(&app, isp.tenant).await, "en");
    let reply = browser
        .submit("/panel/sms", "/panel/sms/language", &[("lang", "bn")])
        .await;
    let page = back_to_page(browser, &reply, "/panel/sms").await;
    assert!(page.has("<option value=\"bn\" selected>"), "{}", page.body);
    assert!(!page.has("<option value=\"en\" selected>"));
    assert_eq!(stored_lang(&app, isp.tenant).await, "bn");

    // A message: the day's count and the latest, its number masked.
    let (status, gateway) = app
        .post(
            "/api/v1/sms-gateways",
            &isp.dev,
            json!({"tenant_id": isp.tenant, "name": "Log", "settings": {"driver": "log"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{gateway}");
    let (status, sent) = app
        .post(
            &format!("/api/v1/sms-gateways/{}/test", gateway["id"]),
            &isp.dev,
            json!({"to": "01712345678", "text": "hello"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{sent}");
    let id = sent["id"].as_i64().unwrap();
    until(
        "the message is sent",
        async || app.get("/api/v1/sms-messages", &isp.dev).await.1,
        |listed| listed["items"][0]["status"] == "sent",
    )
    .await;
    let page = browser.get("/panel/sms").await;
    assert!(page.has("<td>Sent</td>"), "{}", page.body);
    assert_eq!(page.rows("message"), [id]);
    assert!(page.has("<code>017•••••678</code>"), "{}", page.body);
    assert!(!page.has("1712345678"), "the number is masked");
    assert!(page.has("<td>Test</td>"));
    assert_eq!(
        page.text_of("sms-total").as_deref(),
        Some("1 queued today / 1000 daily budget")
    );
    assert_eq!(page.text_of("sms-sent").as_deref(), Some("1 sent"));

    // In Bangla.
    browser.get("/lang/bn?next=/panel/sms").await;
    let page = browser.get("/panel/sms").await;
    assert!(page.has(">বার্তা</a>"), "{}", page.body);
    assert!(page.has("সাইন-ইন কোড"));
    assert_eq!(
        page.text_of("text_otp_bn-kind").as_deref(),
        Some("ডিফল্ট লেখা")
    );
    assert!(page.has("<td>পরীক্ষা</td>"));
}

async fn who_may_not_manage_a_tenants_messages_gets_no_page(backend: Backend) {
    let app = spawn(backend).await;
    let isp = isp(&app).await;
    let api = format!("/api/v1/tenants/{}/sms-templates", isp.tenant);
    let tenant = isp.tenant.to_string();
    app.user(
        &isp.dev,
        staff_of(isp.tenant, "op@dhaka.example", "operator"),
    )
    .await;
    let mut manager = staff_of(isp.tenant, "manager@dhaka.example", "manager");
    manager["permissions"] = json!(["view_customers"]);
    app.user(&isp.dev, manager).await;
    let mut settings = staff_of(isp.tenant, "settings@dhaka.example", "manager");
    settings["permissions"] = json!(["manage_tenant_settings"]);
    app.user(&isp.dev, settings).await;

    // A reseller and a Manager without the tenant's settings: no link, 403 as in the API.
    for email in ["op@dhaka.example", "manager@dhaka.example"] {
        let mut browser = Visitor::signed_in(&app, email).await;
        let dashboard = browser.get("/panel").await;
        assert!(!dashboard.has("href=\"/panel/sms\""), "{email}");
        let page = browser.get("/panel/sms").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{email}: {}", page.body);
        assert!(!page.has("data-event="), "{email}");
        let token = app.login(email, support::PASSWORD).await;
        let (status, _) = app.get(&api, &token).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{email}: the API agrees");
        for (action, fields) in [
            ("/panel/sms/language", vec![("lang", "bn")]),
            ("/panel/sms/events/welcome", vec![("on", "false")]),
            (
                "/panel/sms/templates/recharge/en",
                vec![("text_recharge_en", "Hi {name}"), ("action", "save")],
            ),
        ] {
            let reply = browser.submit("/panel", action, &fields).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{email} {action}");
        }
    }
    // A Manager granted the tenant's settings: the link and the page.
    let mut browser = Visitor::signed_in(&app, "settings@dhaka.example").await;
    assert!(browser.get("/panel").await.has("href=\"/panel/sms\""));
    let page = browser.get("/panel/sms").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body.matches("data-event=\"").count(), 9);

    // Another tenant's Admin: nothing of Dhaka's to read or change; its own page is its own.
    let sylhet = app.tenant(&isp.dev, "Sylhet Net").await;
    app.user(&isp.dev, staff_of(sylhet, "admin@sylhet.example", "admin"))
        .await;
    let mut other = Visitor::signed_in(&app, "admin@sylhet.example").await;
    let page = other.get(&format!("/panel/sms?tenant_id={tenant}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
    assert!(!page.has("Dhaka Net"));
    let page = other.get(&format!("/panel/sms?tenant={tenant}")).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let token = app.login("admin@sylhet.example", support::PASSWORD).await;
    let (status, _) = app.get(&api, &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the API agrees");
    for (action, fields) in [
        ("/panel/sms/language", vec![("lang", "bn")]),
        ("/panel/sms/events/welcome", vec![("on", "false")]),
        (
            "/panel/sms/templates/recharge/en",
            vec![("text_recharge_en", "Hi {name}"), ("action", "save")],
        ),
    ] {
        let reply = other
            .submit(
                "/panel/sms",
                &format!("{action}?tenant_id={tenant}"),
                &fields,
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{action}");
    }
    assert_eq!(stored_lang(&app, isp.tenant).await, "en");
    assert_eq!(app.count("sms_template").await, 0);
    assert_eq!(app.count("sms_event_off").await, 0);
    let own = other.get("/panel/sms").await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(
        own.text_of("sms-title").as_deref(),
        Some("Messages (SMS) · Sylhet Net")
    );
    assert!(!own.has("id=\"sms-tenant\""), "no tenant to pick");
}

async fn a_platform_user_picks_the_tenant_and_its_forms_keep_it(backend: Backend) {
    let app = spawn(backend).await;
    let dev = app.developer().await;
    let first = app.tenant(&dev, "Dhaka Net").await;
    let second = app.tenant(&dev, "Sylhet Net").await;
    let mut browser = Visitor::signed_in(&app, "dev@example.com").await;

    let page = browser.get("/panel/sms").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.has("id=\"sms-tenant\""));
    let shown = if page.has(&format!("<option value=\"{first}\" selected>")) {
        first
    } else {
        second
    };
    assert!(page.has(&format!("action=\"/panel/sms/language?tenant_id={shown}\"")));

    let here = format!("/panel/sms?tenant_id={second}");
    let page = browser.get(&here).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.has(&format!("<option value=\"{second}\" selected>")));
    assert_eq!(
        page.text_of("sms-title").as_deref(),
        Some("Messages (SMS) · Sylhet Net")
    );
    let reply = browser
        .submit(
            &here,
            &format!("/panel/sms/language?tenant_id={second}"),
            &[("lang", "bn")],
        )
        .await;
    back_to_page(&mut browser, &reply, &here).await;
    assert_eq!(stored_lang(&app, second).await, "bn");
    assert_eq!(stored_lang(&app, first).await, "en");
    let reply = browser
        .submit(
            &here,
            &format!("/panel/sms/events/recharge?tenant_id={second}"),
            &[("on", "false")],
        )
        .await;
    let page = back_to_page(&mut browser, &reply, &here).await;
    assert_eq!(page.text_of("event-recharge-state").as_deref(), Some("Off"));
    let page = browser.get(&format!("/panel/sms?tenant={first}")).await;
    assert_eq!(page.text_of("event-recharge-state").as_deref(), Some("On"));
}

both_backends!(
    a_tenant_admin_reads_and_changes_what_its_messages_say,
    who_may_not_manage_a_tenants_messages_gets_no_page,
    a_platform_user_picks_the_tenant_and_its_forms_keep_it,
);
