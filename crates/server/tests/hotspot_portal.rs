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

use std::sync::Arc;

use gateways::sms::SmsProvider;
use gateways::sms::sim::{SimSms, SimSmsConfig, SmsScenario};
use ops::clock::Clock;
use reqwest::StatusCode;
use routeros::sim::{Group, SimConfig, SimRouter};
use serde_json::{Value, json};
use simnas::hotspot::{HotspotConfig, SimHotspot};
use support::{Backend, TestApp, spawn_on, until};
use support_builtin::{acct_port, port};
use support_freeradius::api;

const SECRET: &str = "sim-auth-token-portal";

/// A phone: its own cookie jar, redirects not followed (each hop is checked).
fn phone() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile")
        .build()
        .unwrap()
}

/// The value of hidden field `name` in `html`.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .unwrap_or_else(|| panic!("a redirect, got {}", response.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// What the installation and the router were set up with.
struct Site {
    app: TestApp,
    dev: String,
    key: String,
    trial_package: String,
    hotspot: SimHotspot,
    sms: SimSms,
    _router: Arc<SimRouter>,
}

impl Site {
    fn portal(&self, path: &str) -> String {
        format!("{}/hs/{}{path}", self.app.base, self.key)
    }

    /// Joins the hotspot with `mac` and follows its login page to the portal; returns the
    /// portal's first page.
    async fn arrive(&self, phone: &reqwest::Client, mac: &str) -> String {
        let joined = phone
            .get(format!("{}/_sim/join?mac={mac}", self.hotspot.url()))
            .send()
            .await
            .unwrap();
        assert!(joined.status().is_redirection(), "{}", joined.status());
        let login = phone
            .get(format!("{}/", self.hotspot.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(login.contains(&self.portal("/start")), "{login}");
        let form: Vec<(String, String)> = [
            "mac",
            "ip",
            "login_url",
            "dst",
            "chap_id",
            "chap_challenge",
            "err",
        ]
        .iter()
        .map(|n| ((*n).to_owned(), field(&login, n)))
        .collect();
        assert_eq!(form[0].1, mac, "the router said the phone's MAC");
        let started = phone
            .post(self.portal("/start"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&started), format!("/hs/{}", self.key));
        self.page(phone).await
    }

    async fn page(&self, phone: &reqwest::Client) -> String {
        let page = phone.get(self.portal("")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        page.text().await.unwrap()
    }

    /// Posts step `path` of the page `html` with `fields`.
    async fn post(
        &self,
        phone: &reqwest::Client,
        html: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form = vec![("_csrf".to_owned(), field(html, "_csrf"))];
        form.extend(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        phone
            .post(self.portal(path))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// The last code the gateway got for `to`.
    async fn code_for(&self, to: &str, already: usize) -> String {
        let messages = until(
            "the code reaches the simulated gateway",
            async || {
                self.sms
                    .messages()
                    .into_iter()
                    .filter(|m| m.to == to)
                    .collect::<Vec<_>>()
            },
            |m| m.len() > already,
        )
        .await;
        let text = &messages.last().unwrap().text;
        assert!(text.contains("Wi-Fi code"), "{text}");
        text.chars().take(6).collect()
    }

    /// Proves `mobile` on the visit whose page is `html`; returns the next page.
    async fn prove(&self, phone: &reqwest::Client, html: &str, mobile: &str) -> reqwest::Response {
        let e164 = format!("+88{mobile}");
        let before = self.sms.messages().iter().filter(|m| m.to == e164).count();
        let sent = self
            .post(phone, html, "/mobile", &[("mobile", mobile)])
            .await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER);
        let code_page = self.page(phone).await;
        assert!(code_page.contains("data-screen=\"code\""), "{code_page}");
        let code = self.code_for(&e164, before).await;
        self.post(phone, &code_page, "/code", &[("code", &code)])
            .await
    }

    /// Follows a hand-off to the router; checks the router opened the session.
    async fn online(&self, phone: &reqwest::Client, handoff: reqwest::Response, mac: &str) {
        assert_eq!(handoff.status(), StatusCode::SEE_OTHER);
        let to = location(&handoff);
        assert!(
            to.starts_with(&format!("{}/login?username=", self.hotspot.url())),
            "{to}"
        );
        let login = phone.get(&to).send().await.unwrap();
        let body = login.text().await.unwrap();
        assert!(
            self.hotspot.active().iter().any(|h| h.mac == mac),
            "the router opened no session for {mac}: {body}\n{:?}",
            self.hotspot.access_requests()
        );
    }
}

async fn site(backend: Backend) -> Site {
    let clock = Clock::fixed(Clock::system().now());
    let app = spawn_on(backend, clock, |_| {}).await;
    let isp = api::isp(&app, "Asia/Dhaka", ("reject", None)).await;
    let dev = isp.dev.clone();
    let sms = SimSms::start(SimSmsConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        username: "ACsim".to_owned(),
        secret: SECRET.to_owned(),
        callback_url: None,
        scenario: SmsScenario::default(),
    })
    .await
    .unwrap();
    let (status, body) = app
        .post(
            "/api/v1/sms-gateways",
            &dev,
            json!({"tenant_id": isp.tenant, "name": "sim", "settings": {
                "driver": "twilio", "base_url": sms.base_url(SmsProvider::Twilio),
                "account_sid": "ACsim", "auth_token": SECRET, "sender": "+15005550006"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let router = Arc::new(
        SimRouter::start(SimConfig::new("lastmile", "api-pass-1", Group::Full))
            .await
            .unwrap(),
    );
    let (_, routers) = app.get("/api/v1/routers", &dev).await;
    let router_id = routers["items"][0]["id"].as_i64().unwrap();
    let (status, body) = app
        .patch(
            &format!("/api/v1/routers/{router_id}"),
            &dev,
            json!({"api_address": "127.0.0.1", "api_port": router.address().port(),
                   "api_user": "lastmile", "api_password": "api-pass-1",
                   "version": routers["items"][0]["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut packages = Vec::new();
    for (name, days) in [("Hotspot Day", 1), ("Hotspot Try", 1)] {
        let (status, body) = app
            .post(
                "/api/v1/packages",
                &dev,
                json!({"tenant_id": isp.tenant, "name": name, "connection_type": "hotspot",
                       "download_kbps": 5000, "upload_kbps": 2000, "validity_days": days,
                       "price": 2000, "ip_pool_id": isp.pool}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        packages.push(body["id"].as_i64().unwrap());
    }
    let (status, portal) = app
        .post(
            "/api/v1/hotspot-portals",
            &dev,
            json!({"router_id": router_id, "package_id": packages[0],
                   "trial_package_id": packages[1], "max_devices": 2}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{portal}");
    let key = portal["portal_key"].as_str().unwrap().to_owned();
    // The pages lastmile made for the router, put where its hotspot serves them from.
    let pages = domain::hotspot::router_pages(&app.base, &key);
    for (name, contents) in &pages {
        router
            .insert(
                "/file",
                &[("name", &format!("hotspot/{name}")), ("contents", contents)],
            )
            .unwrap();
    }
    let mut config = HotspotConfig::new("127.0.0.1".parse().unwrap(), &isp.secret);
    config.auth_server = format!("127.0.0.1:{}", port(&app)).parse().unwrap();
    config.acct_server = format!("127.0.0.1:{}", acct_port(&app)).parse().unwrap();
    let hotspot = SimHotspot::start(config, Arc::clone(&router))
        .await
        .unwrap();
    Site {
        app,
        dev,
        key,
        trial_package: "Hotspot Try".to_owned(),
        hotspot,
        sms,
        _router: router,
    }
}

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
