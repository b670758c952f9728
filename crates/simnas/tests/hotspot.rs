//! The simulated hotspot servlet, as a browser and a RADIUS server see it: a simulated
//! router (pages pushed through its API's `/file` menu, sessions in `/ip/hotspot/active`), a
//! small RADIUS server that knows `alice` / `s3cret`, and an HTTP client keeping cookies.
//!
//! - joining sets the `sim-mac` cookie; a browser that has not joined is told to;
//! - the login page (ours, pushed as a file, or the built-in one) has its variables
//!   substituted, CHAP id and challenge as octal escapes, fresh on every load;
//! - a CHAP login (hex MD5 of id, password, challenge) and a PAP one are accepted, listed in
//!   `/ip/hotspot/active` and accounted (Start, Interim-Updates, Class echoed);
//! - a wrong password, an unknown user and a silent server each show their error;
//! - logout, reconnect (the mac-cookie replays the exact CHAP response), a row removed
//!   through the API, a Disconnect-Request and a Session-Timeout each end the session with
//!   their Stop; a CoA-Request is ACKed, and either for a session it lacks is NAKed (503);
//! - a rotated MAC is a new client; malformed input gets a 400.
//!
//! One file past the usual length: every scenario runs against the same router, RADIUS
//! peer and cookie-keeping browser set up here, and reads as one tour of the servlet.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use radius::server::{Handler, NasClient, Request, Server, ServerConfig};
use radius::{Code, Packet, attrs};
use reqwest::StatusCode;
use routeros::sim::{Group, SimConfig, SimRouter};
use routeros::{Client, ClientConfig, Command};
use simnas::{HotspotConfig, SimHotspot};

const SECRET: &str = "hotspot-secret";
const API_USER: &str = "api";
const API_PASSWORD: &str = "api-password";
const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// What the test RADIUS server was sent.
#[derive(Default)]
struct Seen {
    access: Mutex<Vec<Packet>>,
    accounting: Mutex<Vec<Packet>>,
}

/// Accepts `alice` and `brief` with `s3cret` (by PAP or CHAP); `alice` gets a Class and
/// updates every second, `brief` a one-second session. A wrong password of a known user is
/// refused with a Reply-Message, an unknown user without one.
struct Aaa(Arc<Seen>);

impl Handler for Aaa {
    async fn handle(&self, request: Request) -> Option<Packet> {
        let packet = &request.packet;
        match packet.code {
            Code::AccessRequest => {
                self.0.access.lock().unwrap().push(packet.clone());
                let user: String = packet.value(attrs::USER_NAME)?.ok()?;
                let known = user == "alice" || user == "brief";
                if known && request.check_password("s3cret").is_accept() {
                    let mut reply = request.reply(Code::AccessAccept);
                    if user == "alice" {
                        reply.add(attrs::CLASS, &b"lastmile:alice".to_vec());
                        reply.add(attrs::ACCT_INTERIM_INTERVAL, &1);
                    } else {
                        reply.add(attrs::SESSION_TIMEOUT, &1);
                    }
                    return Some(reply);
                }
                let mut reply = request.reply(Code::AccessReject);
                if known {
                    reply.add(attrs::REPLY_MESSAGE, &"Your password is wrong".to_owned());
                }
                Some(reply)
            }
            Code::AccountingRequest => {
                self.0.accounting.lock().unwrap().push(packet.clone());
                Some(request.reply(Code::AccountingResponse))
            }
            _ => None,
        }
    }
}

/// A router, a RADIUS server and a hotspot between them.
struct Lab {
    router: Arc<SimRouter>,
    hotspot: SimHotspot,
    seen: Arc<Seen>,
}

impl Lab {
    async fn start() -> Lab {
        let seen = Arc::new(Seen::default());
        let clients = HashMap::from([(LOCALHOST, NasClient::new(SECRET))]);
        let server = Server::bind(
            SocketAddr::new(LOCALHOST, 0),
            clients,
            Aaa(Arc::clone(&seen)),
            ServerConfig::default(),
        )
        .await
        .unwrap();
        let address = server.local_addr().unwrap();
        tokio::spawn(server.run(std::future::pending()));
        let mut config = HotspotConfig::new(LOCALHOST, SECRET);
        config.auth_server = address;
        config.acct_server = address;
        config.identity = "lab-router".to_owned();
        Lab::with_config(config, seen).await
    }

    async fn with_config(config: HotspotConfig, seen: Arc<Seen>) -> Lab {
        let router = SimRouter::start(SimConfig::new(API_USER, API_PASSWORD, Group::Full))
            .await
            .unwrap();
        let router = Arc::new(router);
        let hotspot = SimHotspot::start(config, Arc::clone(&router))
            .await
            .unwrap();
        Lab {
            router,
            hotspot,
            seen,
        }
    }

    /// A logged-in API client of the router.
    async fn api(&self) -> Client {
        let address = self.router.address().to_string();
        Client::connect(&ClientConfig::new(address, API_USER, API_PASSWORD))
            .await
            .unwrap()
    }

    /// Writes `contents` to the router's file `name`, through the API.
    async fn push_file(&self, name: &str, contents: &str) {
        self.api()
            .await
            .run(
                &Command::new("/file/add")
                    .attr("name", name)
                    .attr("contents", contents),
            )
            .await
            .unwrap();
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.hotspot.url())
    }

    /// A browser that keeps cookies and does not follow redirects.
    fn browser(&self) -> reqwest::Client {
        // reqwest's TLS is built without a provider of its own: ring, as everywhere here.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// The browser joins as `mac`.
    async fn join(&self, browser: &reqwest::Client, mac: &str) {
        let response = browser
            .get(self.url(&format!("/_sim/join?mac={mac}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
    }

    async fn get(&self, browser: &reqwest::Client, path: &str) -> (StatusCode, String) {
        let response = browser.get(self.url(path)).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    async fn post(
        &self,
        browser: &reqwest::Client,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let response = browser
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// The accounting records received with this Acct-Status-Type.
    fn accounting(&self, status: u32) -> Vec<Packet> {
        self.seen
            .accounting
            .lock()
            .unwrap()
            .iter()
            .filter(|p| p.value(attrs::ACCT_STATUS_TYPE).and_then(Result::ok) == Some(status))
            .cloned()
            .collect()
    }

    fn access_requests(&self) -> Vec<Packet> {
        self.seen.access.lock().unwrap().clone()
    }

    /// The router's `/ip/hotspot/active` rows as (user, mac).
    fn router_active(&self) -> Vec<(String, String)> {
        self.router
            .rows("/ip/hotspot/active")
            .unwrap()
            .iter()
            .map(|row| {
                (
                    row.text("user").unwrap_or_default(),
                    row.text("mac-address").unwrap_or_default(),
                )
            })
            .collect()
    }
}

const START: u32 = 1;
const STOP: u32 = 2;
const INTERIM: u32 = 3;

/// Waits until `check` gives a value, for at most five seconds.
async fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The router `login.html` of the design (§1.5), posting to a portal; here it is only read.
const PORTAL_LOGIN: &str = r#"<!doctype html><meta charset="utf-8">
<form name="f" method="post" action="https://portal.example/hs/k1/start">
 <input type="hidden" name="mac" value="$(mac)"><input type="hidden" name="ip" value="$(ip)">
 <input type="hidden" name="login_url" value="$(link-login-only)"><input type="hidden" name="dst" value="$(link-orig)">
 <input type="hidden" name="dst_esc" value="$(link-orig-esc)"><input type="hidden" name="identity" value="$(identity)">
 <input type="hidden" name="chap_id" value="$(chap-id)"><input type="hidden" name="chap_challenge" value="$(chap-challenge)">
 <input type="hidden" name="err" value="$(error-orig)"><input type="hidden" name="server" value="$(server-name)">
 <input type="hidden" name="trial" value="$(trial)"><input type="hidden" name="logged_in" value="$(logged-in)">
 <input type="hidden" name="agent" value="$(http-header-User-Agent)">
 $(if chap-id)<i>chap</i>$(else)<i>pap</i>$(endif)
</form>"#;

/// The value of the hidden input `name` of a page.
fn input(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    let end = page[start..].find('"').unwrap();
    page[start..start + end].to_owned()
}

/// The bytes of an octal escape string (`\371\015`).
fn octal_bytes(text: &str) -> Vec<u8> {
    assert_eq!(text.len() % 4, 0, "{text}");
    text.as_bytes()
        .chunks(4)
        .map(|chunk| {
            assert_eq!(chunk[0], b'\\', "{text}");
            u8::from_str_radix(std::str::from_utf8(&chunk[1..]).unwrap(), 8).unwrap()
        })
        .collect()
}

/// What the stock login page's JavaScript posts: hex(MD5(id ‖ password ‖ challenge)).
fn chap_password(page: &str, password: &str) -> String {
    let id = octal_bytes(&input(page, "chap_id"));
    let challenge = octal_bytes(&input(page, "chap_challenge"));
    hex::encode(radius::auth::chap::response(
        id[0],
        password.as_bytes(),
        &challenge,
    ))
}

/// A browser joined as `mac`, with the portal's login page pushed, logged in as alice by
/// CHAP; the login page it answered.
async fn chap_login(lab: &Lab, mac: &str) -> (reqwest::Client, String) {
    lab.push_file("hotspot/login.html", PORTAL_LOGIN).await;
    let browser = lab.browser();
    lab.join(&browser, mac).await;
    let (_, login) = lab.get(&browser, "/login").await;
    let password = chap_password(&login, "s3cret");
    let (status, page) = lab
        .post(
            &browser,
            "/login",
            &[("username", "alice"), ("password", &password)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Logged in as alice"), "{page}");
    (browser, login)
}

#[tokio::test]
async fn joining_sets_the_mac_cookie_and_a_browser_that_has_not_joined_is_told_to() {
    let lab = Lab::start().await;
    let browser = lab.browser();
    let (status, page) = lab.get(&browser, "/login").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("/_sim/join"), "{page}");

    let response = browser
        .get(lab.url("/_sim/join?mac=aa-bb-cc-dd-ee-01&dst=http://news.example/today"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "/");
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("sim-mac=AA:BB:CC:DD:EE:01;"), "{cookie}");

    let (status, page) = lab.get(&browser, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("lab-router"),
        "the built-in login page: {page}"
    );
    let state: serde_json::Value = browser
        .get(lab.url("/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let host = &state["hosts"][0];
    assert_eq!(host["mac"], "AA:BB:CC:DD:EE:01");
    assert_eq!(host["link_orig"], "http://news.example/today");
    assert!(
        host["ip"].as_str().unwrap().starts_with("10.5.50."),
        "{state}"
    );

    for bad in ["", "AA:BB:CC:DD:EE", "AA:BB:CC:DD:EE:GG", "---"] {
        let (status, _) = lab.get(&browser, &format!("/_sim/join?mac={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn the_login_page_pushed_through_the_api_gets_its_variables_and_octal_chap_values() {
    let lab = Lab::start().await;
    lab.push_file("hotspot/login.html", PORTAL_LOGIN).await;
    let browser = lab.browser();
    let response = browser
        .get(lab.url(
            "/_sim/join?mac=02:00:00:00:00:0a&dst=http%3A%2F%2Fnews.example%2Fa%3Fb%3D1%26c%3D2",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let page = browser
        .get(lab.url("/"))
        .header("User-Agent", "TestBrowser/1.0")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert_eq!(input(&page, "mac"), "02:00:00:00:00:0A");
    assert!(input(&page, "ip").starts_with("10.5.50."), "{page}");
    assert_eq!(input(&page, "login_url"), lab.url("/login"));
    assert_eq!(input(&page, "dst"), "http://news.example/a?b=1&c=2");
    assert_eq!(
        input(&page, "dst_esc"),
        "http%3A%2F%2Fnews.example%2Fa%3Fb%3D1%26c%3D2"
    );
    assert_eq!(input(&page, "identity"), "lab-router");
    assert_eq!(input(&page, "server"), "hotspot1");
    assert_eq!(input(&page, "trial"), "no");
    assert_eq!(input(&page, "logged_in"), "no");
    assert_eq!(input(&page, "err"), "");
    assert_eq!(input(&page, "agent"), "TestBrowser/1.0");
    assert!(
        page.contains("<i>chap</i>") && !page.contains("<i>pap</i>"),
        "{page}"
    );

    let chap_id = input(&page, "chap_id");
    let challenge = input(&page, "chap_challenge");
    assert_eq!(octal_bytes(&chap_id).len(), 1, "{chap_id}");
    assert_eq!(octal_bytes(&challenge).len(), 16, "{challenge}");

    let (_, again) = lab.get(&browser, "/login").await;
    assert_ne!(
        input(&again, "chap_challenge"),
        challenge,
        "every login page has its own challenge"
    );
}

#[tokio::test]
async fn a_chap_login_is_accepted_listed_as_active_and_accounted() {
    let lab = Lab::start().await;
    let (_browser, _) = chap_login(&lab, "02:00:00:00:00:01").await;

    let active = lab.hotspot.active();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].user, "alice");
    assert_eq!(active[0].mac, "02:00:00:00:00:01");
    assert_eq!(active[0].login_by, "http-chap");
    assert_eq!(
        lab.router_active(),
        [("alice".to_owned(), "02:00:00:00:00:01".to_owned())]
    );

    let request = &lab.access_requests()[0];
    let text = |attr| -> String { request.value(attr).unwrap().unwrap() };
    assert!(request.contains(attrs::CHAP_PASSWORD.id()));
    assert_eq!(request.get(attrs::CHAP_CHALLENGE.id()).unwrap().len(), 16);
    assert!(!request.contains(attrs::USER_PASSWORD.id()));
    assert_eq!(text(attrs::CALLING_STATION_ID), "02:00:00:00:00:01");
    assert_eq!(text(attrs::CALLED_STATION_ID), "hotspot1");
    assert_eq!(text(attrs::NAS_IDENTIFIER), "lab-router");
    assert_eq!(text(attrs::NAS_PORT_ID), "bridge-hotspot");
    assert_eq!(text(attrs::ACCT_SESSION_ID), active[0].session_id);
    assert_eq!(request.value(attrs::NAS_PORT_TYPE).unwrap().unwrap(), 19);
    assert_eq!(request.value(attrs::SERVICE_TYPE).unwrap().unwrap(), 1);
    assert_eq!(
        request.value(attrs::FRAMED_IP_ADDRESS).unwrap().unwrap(),
        active[0].ip
    );

    let start = until("the Start", || lab.accounting(START).pop()).await;
    let session: String = start.value(attrs::ACCT_SESSION_ID).unwrap().unwrap();
    assert_eq!(session, active[0].session_id);
    assert_eq!(
        start.get(attrs::CLASS.id()).unwrap(),
        b"lastmile:alice",
        "the Class is echoed"
    );
    let interim = until("an Interim-Update", || lab.accounting(INTERIM).pop()).await;
    assert!(interim.contains(attrs::ACCT_INPUT_GIGAWORDS.id()));
    assert_eq!(interim.get(attrs::CLASS.id()).unwrap(), b"lastmile:alice");
    let seen = lab.hotspot.access_requests();
    assert!(seen[0].accepted && seen[0].method == radius::auth::Method::Chap);
}

#[tokio::test]
async fn a_wrong_password_shows_the_servers_message_on_a_fresh_login_page() {
    let lab = Lab::start().await;
    lab.push_file("hotspot/login.html", PORTAL_LOGIN).await;
    let browser = lab.browser();
    lab.join(&browser, "02:00:00:00:00:02").await;
    let (_, login) = lab.get(&browser, "/login").await;
    let password = chap_password(&login, "not-it");
    let (status, page) = lab
        .post(
            &browser,
            "/login",
            &[("username", "alice"), ("password", &password)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(input(&page, "err"), "Your password is wrong");
    assert_ne!(
        input(&page, "chap_challenge"),
        input(&login, "chap_challenge")
    );
    assert!(lab.hotspot.active().is_empty());
    assert!(lab.router_active().is_empty());
    assert!(!lab.hotspot.access_requests()[0].accepted);

    let (_, page) = lab
        .post(
            &browser,
            "/login",
            &[("username", "mallory"), ("password", "guess")],
        )
        .await;
    assert_eq!(input(&page, "err"), "invalid username or password");
}

#[tokio::test]
async fn a_pap_login_works_and_the_status_page_shows_the_session() {
    let lab = Lab::start().await;
    let browser = lab.browser();
    lab.join(&browser, "02:00:00:00:00:03").await;
    let (status, _) = lab.get(&browser, "/status").await;
    assert_eq!(status, StatusCode::FOUND, "not logged in yet");

    let (status, page) = lab
        .get(&browser, "/login?username=alice&password=s3cret")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Logged in as alice"), "{page}");
    let request = &lab.access_requests()[0];
    assert!(request.contains(attrs::USER_PASSWORD.id()));
    assert!(!request.contains(attrs::CHAP_PASSWORD.id()));
    assert_eq!(lab.hotspot.active()[0].login_by, "http-pap");

    let (status, page) = lab.get(&browser, "/status").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Welcome alice!"), "{page}");
    assert!(page.contains("02:00:00:00:00:03"), "{page}");
    let (_, page) = lab.get(&browser, "/login").await;
    assert!(
        page.contains("You are logged in"),
        "already logged in: {page}"
    );
}

#[tokio::test]
async fn logging_out_sends_a_stop_and_removes_the_active_row() {
    let lab = Lab::start().await;
    let (browser, _) = chap_login(&lab, "02:00:00:00:00:04").await;
    until("the Start", || lab.accounting(START).pop()).await;

    let (status, page) = lab.post(&browser, "/logout", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("You have just logged off"), "{page}");
    assert!(page.contains("user alice"), "{page}");
    let stop = until("the Stop", || lab.accounting(STOP).pop()).await;
    assert_eq!(stop.value(attrs::ACCT_TERMINATE_CAUSE).unwrap().unwrap(), 1);
    assert!(stop.contains(attrs::ACCT_SESSION_TIME.id()));
    assert!(lab.hotspot.active().is_empty());
    assert!(lab.router_active().is_empty());

    let (status, page) = lab.get(&browser, "/logout").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("You were not logged in"), "{page}");
    let (status, _) = lab.get(&browser, "/status").await;
    assert_eq!(status, StatusCode::FOUND);
}

#[tokio::test]
async fn a_reconnect_replays_the_mac_cookie_and_an_erased_cookie_does_not() {
    let lab = Lab::start().await;
    let (browser, _) = chap_login(&lab, "02:00:00:00:00:05").await;
    let first = lab.access_requests()[0].clone();

    let response = browser
        .get(lab.url("/_sim/reconnect"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "/status");
    let stop = until("the Stop", || lab.accounting(STOP).pop()).await;
    assert_eq!(stop.value(attrs::ACCT_TERMINATE_CAUSE).unwrap().unwrap(), 2);

    let replay = lab.access_requests()[1].clone();
    for attr in [attrs::CHAP_PASSWORD, attrs::CHAP_CHALLENGE] {
        assert_eq!(
            replay.get(attr.id()),
            first.get(attr.id()),
            "{}",
            attr.name()
        );
    }
    let active = lab.hotspot.active();
    assert_eq!(active[0].login_by, "mac-cookie");
    assert_eq!(active[0].user, "alice");
    let (status, page) = lab.get(&browser, "/status").await;
    assert_eq!(status, StatusCode::OK, "{page}");

    lab.post(&browser, "/logout", &[("erase-cookie", "on")])
        .await;
    let (status, page) = lab.get(&browser, "/_sim/reconnect").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(input(&page, "logged_in"), "no", "{page}");
    assert_eq!(lab.access_requests().len(), 2, "nothing was replayed");
    assert!(lab.hotspot.active().is_empty());
}

#[tokio::test]
async fn a_rotated_mac_is_a_new_client_that_must_log_in() {
    let lab = Lab::start().await;
    let (browser, _) = chap_login(&lab, "02:00:00:00:00:06").await;

    lab.join(&browser, "06:00:00:00:00:07").await;
    let (status, _) = lab.get(&browser, "/status").await;
    assert_eq!(status, StatusCode::FOUND);
    let (_, page) = lab.get(&browser, "/").await;
    assert_eq!(input(&page, "mac"), "06:00:00:00:00:07");
    assert_eq!(input(&page, "logged_in"), "no");
    let (status, _) = lab.get(&browser, "/_sim/reconnect").await;
    assert_eq!(status, StatusCode::OK, "no mac-cookie for the new MAC");

    let state: serde_json::Value = browser
        .get(lab.url("/_sim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hosts = state["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2, "{state}");
    assert_ne!(hosts[0]["ip"], hosts[1]["ip"]);
    assert_eq!(state["active"][0]["mac"], "02:00:00:00:00:06");
    assert_eq!(state["cookies"][0]["mac"], "02:00:00:00:00:06");
    assert_eq!(state["cookies"][0]["method"], "chap");
}

#[tokio::test]
async fn a_session_removed_through_the_api_ends_with_an_admin_reset_stop() {
    let lab = Lab::start().await;
    chap_login(&lab, "02:00:00:00:00:08").await;
    let api = lab.api().await;
    let rows = api
        .run(&Command::new("/ip/hotspot/active/print"))
        .await
        .unwrap()
        .rows;
    let id = rows[0].text(".id").unwrap();
    api.run(&Command::new("/ip/hotspot/active/remove").attr(".id", &id))
        .await
        .unwrap();

    let stop = until("the Stop", || lab.accounting(STOP).pop()).await;
    assert_eq!(stop.value(attrs::ACCT_TERMINATE_CAUSE).unwrap().unwrap(), 6);
    assert!(lab.hotspot.active().is_empty());
}

#[tokio::test]
async fn the_servers_disconnect_ends_a_session_and_an_unknown_one_is_naked() {
    let lab = Lab::start().await;
    chap_login(&lab, "02:00:00:00:00:0a").await;
    let session = lab.hotspot.active()[0].session_id.clone();
    let coa = radius::client::Client::new(lab.hotspot.coa_address(), SECRET.as_bytes().to_vec());
    let ask = |code, session: &str| {
        let mut request = Packet::new(code, 0);
        request.add(attrs::USER_NAME, &"alice".to_owned());
        request.add(attrs::ACCT_SESSION_ID, &session.to_owned());
        request
    };

    // A rate change for the session is taken; one for a session it lacks is refused.
    let mut rate = ask(Code::CoaRequest, &session);
    rate.add(attrs::MIKROTIK_RATE_LIMIT, &"1M/2M".to_owned());
    assert_eq!(coa.send(&rate).await.unwrap().packet.code, Code::CoaAck);
    let unknown = coa
        .send(&ask(Code::DisconnectRequest, "no-such-session"))
        .await
        .unwrap()
        .packet;
    assert_eq!(unknown.code, Code::DisconnectNak);
    assert_eq!(unknown.value(attrs::ERROR_CAUSE).unwrap().unwrap(), 503);
    assert_eq!(lab.hotspot.active().len(), 1, "nothing ended");

    // The session's Disconnect: ACKed, the row gone, a Stop with Admin-Reset.
    let ended = coa
        .send(&ask(Code::DisconnectRequest, &session))
        .await
        .unwrap()
        .packet;
    assert_eq!(ended.code, Code::DisconnectAck);
    assert!(lab.hotspot.active().is_empty());
    assert!(lab.router_active().is_empty());
    let stop = until("the Stop", || lab.accounting(STOP).pop()).await;
    assert_eq!(stop.value(attrs::ACCT_TERMINATE_CAUSE).unwrap().unwrap(), 6);
    assert_eq!(
        stop.value::<String>(attrs::ACCT_SESSION_ID)
            .unwrap()
            .unwrap(),
        session
    );
}

#[tokio::test]
async fn a_session_ends_at_its_session_timeout() {
    let lab = Lab::start().await;
    let browser = lab.browser();
    lab.join(&browser, "02:00:00:00:00:09").await;
    let (_, page) = lab
        .post(
            &browser,
            "/login",
            &[("username", "brief"), ("password", "s3cret")],
        )
        .await;
    assert!(page.contains("Logged in as brief"), "{page}");
    let stop = until("the Stop", || lab.accounting(STOP).pop()).await;
    assert_eq!(stop.value(attrs::ACCT_TERMINATE_CAUSE).unwrap().unwrap(), 5);
    assert!(lab.router_active().is_empty());
}

#[tokio::test]
async fn custom_pages_and_files_pushed_through_the_api_are_served() {
    let lab = Lab::start().await;
    let api = lab.api().await;
    api.run(
        &Command::new("/ip/hotspot/profile/set")
            .attr(".id", "default")
            .attr("html-directory", "flash/lastmile"),
    )
    .await
    .unwrap();
    lab.push_file(
        "flash/lastmile/alogin.html",
        "<p>welcome $(username) via $(login-by)</p>",
    )
    .await;
    lab.push_file(
        "flash/lastmile/md5.js",
        "function hexMD5(s) { return $(x); }",
    )
    .await;
    let browser = lab.browser();
    lab.join(&browser, "02:00:00:00:00:0b").await;

    let (_, page) = lab
        .post(
            &browser,
            "/login",
            &[("username", "alice"), ("password", "s3cret")],
        )
        .await;
    assert_eq!(page, "<p>welcome alice via http-pap</p>");
    let (status, script) = lab.get(&browser, "/md5.js").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        script, "function hexMD5(s) { return $(x); }",
        "not substituted"
    );

    // A page replaced with /file/set shows at once; print computes its size.
    api.run(
        &Command::new("/file/set")
            .attr(".id", "flash/lastmile/alogin.html")
            .attr("contents", "<p>hello $(username)</p>"),
    )
    .await
    .unwrap();
    let (_, page) = lab.get(&browser, "/login").await;
    assert_eq!(page, "<p>hello alice</p>");
    let files = api.run(&Command::new("/file/print")).await.unwrap().rows;
    let alogin = files
        .iter()
        .find(|f| f.text("name").as_deref() == Some("flash/lastmile/alogin.html"))
        .unwrap();
    assert_eq!(alogin.text("size").as_deref(), Some("24"));
    assert_eq!(alogin.text("type").as_deref(), Some("file"));
}

#[tokio::test]
async fn a_radius_server_that_does_not_answer_is_reported_on_the_login_page() {
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut config = HotspotConfig::new(LOCALHOST, SECRET);
    config.auth_server = silent.local_addr().unwrap();
    config.acct_server = silent.local_addr().unwrap();
    let lab = Lab::with_config(config, Arc::new(Seen::default())).await;
    let browser = lab.browser();
    lab.join(&browser, "02:00:00:00:00:0c").await;
    let (status, page) = lab
        .post(
            &browser,
            "/login",
            &[("username", "alice"), ("password", "s3cret")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("RADIUS server is not responding"), "{page}");
    assert!(lab.hotspot.active().is_empty());
}

#[tokio::test]
async fn malformed_input_is_refused_with_a_400() {
    let lab = Lab::start().await;
    let browser = lab.browser();
    lab.join(&browser, "02:00:00:00:00:0d").await;
    let long = "u".repeat(300);
    let (status, _) = lab
        .post(
            &browser,
            "/login",
            &[("username", &long), ("password", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let huge = "p".repeat(20_000);
    let (status, _) = lab
        .post(
            &browser,
            "/login",
            &[("username", "alice"), ("password", &huge)],
        )
        .await;
    assert!(status.is_client_error(), "{status}");
    let (status, _) = lab.get(&browser, "/login?username=a&username=b").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let response = lab
        .browser()
        .get(lab.url("/"))
        .header("Cookie", "sim-mac=not-a-mac")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, _) = lab.get(&browser, "/../../etc/passwd").await;
    assert_eq!(status, StatusCode::OK, "any unknown URL is the login page");
    assert!(lab.access_requests().is_empty());
}
