//! The captive portal as phones meet it: a `lastmile serve` process with its built-in RADIUS
//! server, the simulated router's hotspot servlet (`simnas::hotspot`) serving the pages
//! lastmile made, and the simulated SMS gateway.
//!
//! ```text
//! cargo bench -p lastmile --bench portal [-- PHONES]
//! ```
//!
//! For each backend, an installation seeded with 20 000 customers (`lastmile bench seed`:
//! resellers, skewed packages, mobiles sharing the `017` prefix, hotspot customers among
//! them), a hotspot router of the seeded tenant with its portal (a trial package, two
//! devices an account), then PHONES (default 200) phones at once, each on a MAC of its own:
//! half of them (drawn at random) the mobiles of seeded hotspot customers in service and
//! offline, on a device new to their account; the others new mobiles of every operator's
//! prefix, which take the trial. A third of the returning ones are *moving*: before the
//! run, their account signed in on another phone of the hotspot (one session allowed), so
//! in the run the portal says the account is in use, the phone ends the other session
//! (the server's Disconnect-Request to the hotspot), waits for the router to say it ended,
//! and connects. Each phone joins the hotspot, follows the router's page to the portal,
//! asks for a code, reads it at the gateway, types it (signs up when new), and follows the
//! hand-off to the router, which asks RADIUS by CHAP; the phone counts only when the router
//! opened its session (the ones RADIUS refused are counted apart).
//!
//! Reported: the whole sign-in from the router's page to the router's session (p50, p95,
//! p99), the same less the wait for the SMS (the portal's and the router's own time), that
//! wait (from the phone's asking to the code at the simulated gateway), the
//! moving phones' sign-in apart, each portal request's latency, and the baseline in the
//! same command: `GET /healthz` by as many clients at once.
//!
//! - `LASTMILE_BENCH_BACKENDS`: `sqlite,postgres` (default both).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark prints, and fails loudly

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Install, Latencies, ms, ratio, rows};
use gateways::sms::SmsProvider;
use gateways::sms::sim::{SimSms, SimSmsConfig, SmsScenario};
use rand::{RngExt as _, SeedableRng as _};
use reqwest::Method;
use routeros::sim::{Group, SimConfig, SimRouter};
use serde_json::{Value, json};
use simnas::hotspot::{HotspotConfig, SimHotspot};
use testkit::Backend;

const CUSTOMERS: usize = 20_000;
const SECRET: &str = "bench-portal-sms";
const RADIUS_SECRET: &str = "bench-portal-radius";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let phones = common::customers_arg(200);
    println!("portal, {phones} phones at once, {CUSTOMERS} customers");
    for backend in common::backends() {
        run(backend, phones).await;
    }
}

/// The value of hidden field `name` in `html`.
fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name}: {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// What one phone's sign-in took, and whether the router opened its session.
struct Signed {
    /// The account was in use on another phone, whose session this one ended.
    took_over: bool,
    whole: Duration,
    sms_wait: Duration,
    requests: Vec<Duration>,
    online: bool,
}

/// One phone: join with `mac`, prove `mobile`, sign up when `new`, go online.
async fn sign_in(
    base: String,
    key: String,
    hotspot: String,
    sms: Arc<SimSms>,
    mac: String,
    mobile: String,
    new: bool,
) -> Signed {
    let phone = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (Linux; Android 14) Mobile")
        .build()
        .unwrap();
    let portal = |path: &str| format!("{base}/hs/{key}{path}");
    let mut requests = Vec::new();
    let timed = async |requests: &mut Vec<Duration>, request: reqwest::RequestBuilder| {
        let sent = Instant::now();
        let response = request.send().await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        let body = response.text().await.unwrap();
        requests.push(sent.elapsed());
        (status, location, body)
    };
    phone
        .get(format!("{hotspot}/_sim/join?mac={mac}"))
        .send()
        .await
        .unwrap();
    let login = phone
        .get(format!("{hotspot}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let started = Instant::now();
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
    let (status, _, _) = timed(&mut requests, phone.post(portal("/start")).form(&form)).await;
    assert_eq!(status, 303);
    let (_, _, page) = timed(&mut requests, phone.get(portal(""))).await;
    let csrf = field(&page, "_csrf");
    let to = format!("+88{mobile}");
    // The codes this number had before (a moving account's first phone had one).
    let is_code = |m: &gateways::sms::sim::Received| {
        m.to == to && m.text.chars().take(6).all(|c| c.is_ascii_digit())
    };
    let before = sms.messages().iter().filter(|m| is_code(m)).count();
    let (status, _, body) = timed(
        &mut requests,
        phone
            .post(portal("/mobile"))
            .form(&[("_csrf", csrf.as_str()), ("mobile", mobile.as_str())]),
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let waiting = Instant::now();
    let code = loop {
        if let Some(m) = sms
            .messages()
            .into_iter()
            .filter(|m| is_code(m))
            .nth(before)
        {
            break m.text.chars().take(6).collect::<String>();
        }
        assert!(
            waiting.elapsed() < Duration::from_secs(120),
            "no code for {to}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let sms_wait = waiting.elapsed();
    let (status, mut location, body) = timed(
        &mut requests,
        phone
            .post(portal("/code"))
            .form(&[("_csrf", csrf.as_str()), ("code", code.as_str())]),
    )
    .await;
    assert_eq!(status, 303, "{body}");
    if new {
        let (_, _, page) = timed(&mut requests, phone.get(portal(""))).await;
        assert!(page.contains("id=\"trial\""), "{page}");
        let (status, to_router, body) = timed(
            &mut requests,
            phone
                .post(portal("/signup"))
                .form(&[("_csrf", csrf.as_str()), ("trial", "1")]),
        )
        .await;
        assert_eq!(status, 303, "{body}");
        location = to_router;
    }
    let mut took_over = false;
    if location
        .as_deref()
        .is_none_or(|to| !to.starts_with(&format!("{hotspot}/login?")))
    {
        // Not handed off: the account is in use on another phone. End that session, wait
        // for the router to say it ended, and connect.
        let (_, _, page) = timed(&mut requests, phone.get(portal(""))).await;
        assert!(page.contains("data-screen=\"in_use\""), "{page}");
        took_over = true;
        let account = field(&page, "account");
        let form = [("_csrf", csrf.as_str()), ("account", account.as_str())];
        let (status, _, body) =
            timed(&mut requests, phone.post(portal("/take-over")).form(&form)).await;
        assert_eq!(status, 303, "{body}");
        let asked = Instant::now();
        loop {
            let (_, _, page) = timed(&mut requests, phone.get(portal(""))).await;
            if page.contains("data-screen=\"signin\"") {
                break;
            }
            assert!(
                asked.elapsed() < Duration::from_secs(120),
                "the other session never ended: {page}"
            );
            // The page itself asks again after two seconds; a phone does no sooner.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let (status, to_router, body) =
            timed(&mut requests, phone.post(portal("/connect")).form(&form)).await;
        assert_eq!(status, 303, "{body}");
        location = to_router;
    }
    let handoff = location.unwrap();
    assert!(
        handoff.starts_with(&format!("{hotspot}/login?")),
        "{handoff}"
    );
    let alogin = phone
        .get(&handoff)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The router's `alogin.html` (to the portal's welcome), or its login page again with
    // the refusal when RADIUS refused.
    Signed {
        took_over,
        whole: started.elapsed(),
        sms_wait,
        requests,
        online: alogin.contains("/welcome"),
    }
}

async fn run(backend: Backend, phones: usize) {
    println!("\n{backend:?}");
    let install = Install::new(backend).await;
    let seed = install.run(&[
        "bench",
        "seed",
        "--customers",
        &CUSTOMERS.to_string(),
        "--with-staff",
    ]);
    let (email, password) = seed
        .lines()
        .find_map(|line| {
            let mut parts = line.strip_prefix("account admin ")?.splitn(2, ' ');
            Some((parts.next()?.to_owned(), parts.next()?.trim().to_owned()))
        })
        .unwrap();
    let conn = install.connect().await;
    let http = common::client();
    // The hotspot takes the server's Disconnect-Requests on a port the server is told.
    let coa = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let coa_port = coa.local_addr().unwrap().port().to_string();
    let (server, radius, _) = install
        .serve_radius(&[("LASTMILE_RADIUS_COA_PORT", coa_port.as_str())], &http)
        .await;
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = login["token"].as_str().unwrap().to_owned();
    let tenant = server.seeded_tenant(&http, &admin).await;

    let sms = Arc::new(
        SimSms::start(SimSmsConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            username: "ACbench".to_owned(),
            secret: SECRET.to_owned(),
            callback_url: None,
            scenario: SmsScenario::default(),
        })
        .await
        .unwrap(),
    );
    server
        .send_json(
            &http,
            &admin,
            Method::POST,
            "/api/v1/sms-gateways",
            &json!({"name": "Twilio", "daily_budget": 1_000_000, "settings": {
                "driver": "twilio", "base_url": sms.base_url(SmsProvider::Twilio),
                "account_sid": "ACbench", "auth_token": SECRET, "sender": "+15005550006"}}),
        )
        .await;
    let router = Arc::new(
        SimRouter::start(SimConfig::new("lastmile", "bench-api-pass", Group::Full))
            .await
            .unwrap(),
    );
    let router_id = server
        .send_json(
            &http,
            &admin,
            Method::POST,
            "/api/v1/routers",
            &json!({"tenant_id": tenant, "name": "hotspot-bench", "nas_address": "127.0.0.1",
                    "secret": RADIUS_SECRET, "api_address": "127.0.0.1",
                    "api_port": router.address().port(), "api_user": "lastmile",
                    "api_password": "bench-api-pass"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let pool = server
        .send_json(
            &http,
            &admin,
            Method::POST,
            "/api/v1/ip-pools",
            &json!({"tenant_id": tenant, "name": "hotspot-bench", "ranges": "198.18.0.0/16"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let mut packages = Vec::new();
    for name in ["Portal Day", "Portal Trial"] {
        packages.push(
            server
                .send_json(
                    &http,
                    &admin,
                    Method::POST,
                    "/api/v1/packages",
                    &json!({"tenant_id": tenant, "name": name, "connection_type": "hotspot",
                            "download_kbps": 5000, "upload_kbps": 2000, "validity_days": 1,
                            "price": 2000, "ip_pool_id": pool}),
                )
                .await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let portal = server
        .send_json(
            &http,
            &admin,
            Method::POST,
            "/api/v1/hotspot-portals",
            &json!({"router_id": router_id, "package_id": packages[0],
                    "trial_package_id": packages[1], "max_devices": 2,
                    "codes_per_hour": 10_000}),
        )
        .await;
    let key = portal["portal_key"].as_str().unwrap().to_owned();
    for page in portal["router_pages"].as_array().unwrap() {
        let name = format!("hotspot/{}", page["name"].as_str().unwrap());
        router
            .insert(
                "/file",
                &[
                    ("name", name.as_str()),
                    ("contents", page["contents"].as_str().unwrap()),
                ],
            )
            .unwrap();
    }
    let mut config = HotspotConfig::new("127.0.0.1".parse().unwrap(), RADIUS_SECRET);
    config.auth_server = format!("127.0.0.1:{}", radius.auth).parse().unwrap();
    config.acct_server = format!("127.0.0.1:{}", radius.acct).parse().unwrap();
    let hotspot = SimHotspot::start_on(config, Arc::clone(&router), coa)
        .await
        .unwrap();

    // Returning phones: seeded hotspot customers in service (paid time left, volume left),
    // alone on their mobile, not bound by staff to one MAC, offline (a seeded session is on
    // a seeded router, which is not running here to be asked to end it).
    let now = ops::clock::Clock::system().now();
    let returning: Vec<String> = rows(
        &conn,
        &format!(
            "SELECT c.mobile, c.billing_type, c.expires_at FROM customer c \
             WHERE c.tenant_id = {tenant} \
             AND c.connection_type = 'hotspot' AND c.status = 'active' \
             AND c.archived_at IS NULL AND c.mobile IS NOT NULL AND c.mac IS NULL \
             AND NOT EXISTS (SELECT 1 FROM customer_quota q \
                             WHERE q.customer_id = c.id AND q.level = -1) \
             AND (SELECT COUNT(*) FROM customer o WHERE o.mobile = c.mobile) = 1 \
             AND NOT EXISTS (SELECT 1 FROM radacct r \
                             WHERE r.customer_id = c.id AND r.acctstoptime IS NULL) \
             ORDER BY c.id"
        ),
    )
    .await
    .iter()
    .filter(|r| {
        let billing: String = r.try_get("", "billing_type").unwrap();
        let expires: Option<chrono::DateTime<chrono::Utc>> = r.try_get("", "expires_at").unwrap();
        billing != "prepaid" || expires.is_some_and(|at| at > now + chrono::TimeDelta::hours(1))
    })
    .map(|r| {
        let e164: String = r.try_get("", "mobile").unwrap();
        format!("0{}", &e164[4..])
    })
    .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let prefixes = ["013", "014", "015", "016", "018", "019"];
    // Each phone: its mobile, whether it is new, whether its account moves from another
    // phone.
    let drawn: Vec<(String, bool, bool)> = (0..phones)
        .map(|i| {
            if rng.random_bool(0.5) && !returning.is_empty() {
                let pick = returning[rng.random_range(0..returning.len())].clone();
                (pick, false, rng.random_bool(1.0 / 3.0))
            } else {
                let prefix = prefixes[rng.random_range(0..prefixes.len())];
                (format!("{prefix}{:08}", 20_000_000 + i), true, false)
            }
        })
        .collect();
    // A mobile drawn twice signs in once (its second phone would wait out the cooldown).
    let mut seen = std::collections::HashSet::new();
    let drawn: Vec<(String, bool, bool)> = drawn
        .into_iter()
        .filter(|(m, _, _)| seen.insert(m.clone()))
        .collect();
    let new = drawn.iter().filter(|(_, n, _)| *n).count();
    let moving = drawn.iter().filter(|(_, _, m)| *m).count();
    println!(
        "  {} phones: {} returning (of {} seeded hotspot customers in service and offline; \
         {moving} of them moving from another phone), {new} new",
        drawn.len(),
        drawn.len() - new,
        returning.len()
    );
    // The moving accounts sign in on their first phone, before the run (not measured); the
    // run's code to the same number waits out the minute between codes.
    let first: Vec<_> = drawn
        .iter()
        .enumerate()
        .filter(|(_, (_, _, moving))| *moving)
        .map(|(i, (mobile, _, _))| {
            let mac = format!("02:A0:00:00:{:02X}:{:02X}", i / 256, i % 256);
            tokio::spawn(sign_in(
                server.base.clone(),
                key.clone(),
                hotspot.url(),
                Arc::clone(&sms),
                mac,
                mobile.clone(),
                false,
            ))
        })
        .collect();
    for task in first {
        assert!(task.await.unwrap().online, "a moving account's first phone");
    }
    tokio::time::sleep(Duration::from_secs(61)).await;

    // The baseline: /healthz by as many clients at once.
    let health = format!("{}/healthz", server.base);
    let tasks: Vec<_> = (0..drawn.len())
        .map(|_| {
            let url = health.clone();
            tokio::spawn(async move {
                let client = common::client();
                let sent = Instant::now();
                client
                    .get(&url)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                sent.elapsed()
            })
        })
        .collect();
    let mut baseline = Vec::new();
    for task in tasks {
        baseline.push(task.await.unwrap());
    }
    let baseline = Latencies::new(baseline);

    let started = Instant::now();
    let tasks: Vec<_> = drawn
        .into_iter()
        .enumerate()
        .map(|(i, (mobile, new, _))| {
            let mac = format!("02:B0:00:00:{:02X}:{:02X}", i / 256, i % 256);
            tokio::spawn(sign_in(
                server.base.clone(),
                key.clone(),
                hotspot.url(),
                Arc::clone(&sms),
                mac,
                mobile,
                new,
            ))
        })
        .collect();
    let mut whole = Vec::new();
    let mut portal_only = Vec::new();
    let mut sms_waits = Vec::new();
    let mut moved = Vec::new();
    let mut requests = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let signed = task.await.unwrap();
        if !signed.online {
            refused += 1;
            continue;
        }
        if signed.took_over {
            moved.push(signed.whole);
        }
        whole.push(signed.whole);
        portal_only.push(signed.whole.saturating_sub(signed.sms_wait));
        sms_waits.push(signed.sms_wait);
        requests.extend(signed.requests);
    }
    let took = started.elapsed();
    let count = whole.len();
    let whole = Latencies::new(whole);
    let moved_count = moved.len();
    let moved = Latencies::new(moved);
    let portal_only = Latencies::new(portal_only);
    let sms_waits = Latencies::new(sms_waits);
    let requests = Latencies::new(requests);
    assert_eq!(hotspot.active().len(), count, "every phone is online");
    let line = |label: &str, l: &Latencies| {
        println!(
            "  {label:<34} p50 {}  p95 {}  p99 {}",
            ms(l.quantile(0.5)),
            ms(l.quantile(0.95)),
            ms(l.quantile(0.99))
        );
    };
    println!(
        "  {count} phones online in {}; {refused} handed off and refused by RADIUS",
        ms(took)
    );
    line("sign-in, router page to session", &whole);
    line("  less the wait for the SMS", &portal_only);
    line("  the wait for the SMS code", &sms_waits);
    if moved_count > 0 {
        line(
            &format!("  the {moved_count} ending another phone's"),
            &moved,
        );
    }
    line("each portal request", &requests);
    line("baseline: GET /healthz", &baseline);
    println!(
        "  a portal request's p50 is {} the baseline's",
        ratio(requests.quantile(0.5), baseline.quantile(0.5))
    );
    server.stop().await;
}
