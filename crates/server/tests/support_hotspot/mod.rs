//! What the captive portal's tests share: an installation with a hotspot router's portal
//! (a trial package, two devices an account), an SMS gateway at the simulated provider,
//! and the simulated router's hotspot servlet serving the pages lastmile made for it,
//! asking lastmile's built-in RADIUS server; and a phone's steps through them over HTTP.
//! Include with `mod support; mod support_builtin; mod support_freeradius; mod
//! support_hotspot;`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::sync::Arc;

use gateways::sms::SmsProvider;
use gateways::sms::sim::{SimSms, SimSmsConfig, SmsScenario};
use ops::clock::Clock;
use reqwest::StatusCode;
use routeros::sim::{Group, SimConfig, SimRouter};
use serde_json::json;
use simnas::hotspot::{HotspotConfig, SimHotspot};

use crate::support::{Backend, TestApp, spawn_on, until};
use crate::support_builtin::{acct_port, port};
use crate::support_freeradius::api;

const SECRET: &str = "sim-auth-token-portal";

/// A phone: its own cookie jar, redirects not followed (each hop is checked).
pub fn phone() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile")
        .build()
        .unwrap()
}

/// The value of hidden field `name` in `html`.
pub fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .unwrap_or_else(|| panic!("a redirect, got {}", response.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// What the installation and the router were set up with.
pub struct Site {
    pub app: TestApp,
    pub dev: String,
    pub key: String,
    pub trial_package: String,
    /// The tenant and its day package (not the trial).
    pub tenant: i64,
    pub day_package: i64,
    pub hotspot: SimHotspot,
    pub sms: SimSms,
    pub router: Arc<SimRouter>,
    /// The router's RADIUS secret.
    pub secret: String,
}

impl Site {
    pub fn portal(&self, path: &str) -> String {
        format!("{}/hs/{}{path}", self.app.base, self.key)
    }

    /// Joins the hotspot with `mac` and follows its login page to the portal; returns the
    /// portal's first page.
    pub async fn arrive(&self, phone: &reqwest::Client, mac: &str) -> String {
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

    pub async fn page(&self, phone: &reqwest::Client) -> String {
        let page = phone.get(self.portal("")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        page.text().await.unwrap()
    }

    /// Posts step `path` of the page `html` with `fields`.
    pub async fn post(
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

    /// The codes the gateway got for `to` so far (messages opening with six digits; a
    /// welcome is not one).
    pub fn codes_to(&self, to: &str) -> Vec<String> {
        self.sms
            .messages()
            .into_iter()
            .filter(|m| m.to == to && m.text.chars().take(6).all(|c| c.is_ascii_digit()))
            .map(|m| m.text.chars().take(6).collect())
            .collect()
    }

    /// The code the gateway got for `to` after the first `already`.
    pub async fn code_for(&self, to: &str, already: usize) -> String {
        let codes = until(
            "the code reaches the simulated gateway",
            async || self.codes_to(to),
            |codes| codes.len() > already,
        )
        .await;
        codes[already].clone()
    }

    /// Proves `mobile` on the visit whose page is `html`; returns the next page.
    pub async fn prove(
        &self,
        phone: &reqwest::Client,
        html: &str,
        mobile: &str,
    ) -> reqwest::Response {
        let e164 = format!("+88{mobile}");
        let before = self.codes_to(&e164).len();
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
    pub async fn online(&self, phone: &reqwest::Client, handoff: reqwest::Response, mac: &str) {
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

pub async fn site(backend: Backend) -> Site {
    let clock = Clock::fixed(Clock::system().now());
    // The hotspot takes the server's Disconnect-Requests on a port bound before the server
    // starts, so the server is told it.
    let coa = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let coa_port = coa.local_addr().unwrap().port();
    let app = spawn_on(backend, clock, |config| {
        config.radius.coa_port = coa_port;
    })
    .await;
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
    let hotspot = SimHotspot::start_on(config, Arc::clone(&router), coa)
        .await
        .unwrap();
    Site {
        app,
        dev,
        key,
        trial_package: "Hotspot Try".to_owned(),
        tenant: isp.tenant,
        day_package: packages[0],
        hotspot,
        sms,
        router,
        secret: isp.secret.clone(),
    }
}

impl Site {
    /// The address a browser opens to join the hotspot as `mac`: the simulated hotspot
    /// remembers the MAC in a cookie and sends the browser to the router's login page.
    pub fn join_url(&self, mac: &str) -> String {
        format!("{}/_sim/join?mac={mac}", self.hotspot.url())
    }

    /// The one customer with `mobile` (E.164), as the API lists it.
    pub async fn customer_with_mobile(&self, mobile: &str) -> serde_json::Value {
        let (status, customers) = self.app.get("/api/v1/customers?limit=50", &self.dev).await;
        assert_eq!(status, StatusCode::OK, "{customers}");
        let mut found: Vec<&serde_json::Value> = customers["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["mobile"] == mobile)
            .collect();
        assert_eq!(found.len(), 1, "one account for {mobile}: {customers}");
        found.pop().unwrap().clone()
    }
}
