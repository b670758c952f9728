//! The SMS outbox as an ISP meets it: over the API of a `lastmile serve` process, against
//! the simulated SMS gateway speaking Twilio's API on loopback.
//!
//! ```text
//! cargo bench -p lastmile --bench sms [-- MESSAGES]
//! ```
//!
//! For each backend, a fresh installation with one tenant, its Admin and a Twilio gateway
//! pointed at the simulator (reports off), then:
//!
//! 1. **The baseline**: MESSAGES (default 2 000) sent straight to the simulator by the same
//!    driver from this process, 16 at once: what the provider alone takes.
//! 2. **The outbox**: MESSAGES queued through the API by 16 clients (a test message each, to
//!    numbers drawn from the operators' prefixes, Bangla and English texts of one to three
//!    parts), and the time from the first request until the server's `sms.send` job has
//!    sent the last; messages/s against the baseline's, and the queueing requests' p50,
//!    p95 and p99.
//!
//! - `LASTMILE_BENCH_BACKENDS`: `sqlite,postgres` (default both).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a benchmark prints, and fails loudly

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Install, Request, post_all, report, rows};
use gateways::sms::sim::{SimSms, SimSmsConfig, SmsScenario};
use gateways::sms::{OutgoingSms, SmsConfig, SmsGateway, SmsProvider};
use rand::{RngExt as _, SeedableRng as _};
use reqwest::Method;
use serde_json::{Value, json};
use testkit::Backend;

const CLIENTS: usize = 16;
const SECRET: &str = "bench-sms-secret";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let messages = common::customers_arg(2_000);
    println!("sms, {messages} messages, {CLIENTS} clients");
    for backend in common::backends() {
        run(backend, messages).await;
    }
}

/// Numbers and texts drawn as an ISP's are: the operators' prefixes, short and long texts
/// in both scripts.
fn draw(n: usize) -> Vec<(String, String)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let prefixes = ["013", "014", "015", "016", "017", "018", "019"];
    let texts = [
        "Your code is 482913. It expires in 5 minutes.",
        "আপনার বিল ৫০০ টাকা পরিশোধ হয়েছে। ধন্যবাদ!",
        "Dear customer, your package Home 20M expires on 2026-12-31. Recharge with a card or \
         online to stay connected. Call 16xxx for help. Thank you for staying with us!",
        "প্রিয় গ্রাহক, আপনার প্যাকেজের মেয়াদ শেষ হতে চলেছে। কার্ড বা অনলাইনে রিচার্জ করুন, \
         সংযোগ চালু রাখুন। সাহায্যের জন্য কল করুন। ধন্যবাদ!",
    ];
    (0..n)
        .map(|i| {
            let prefix = prefixes[rng.random_range(0..prefixes.len())];
            let number = format!("{prefix}{:08}", 10_000_000 + i);
            let text = texts[rng.random_range(0..texts.len())].to_owned();
            (number, text)
        })
        .collect()
}

async fn run(backend: Backend, messages: usize) {
    println!("\n{backend:?}");
    let sim = SimSms::start(SimSmsConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        username: "ACbench".to_owned(),
        secret: SECRET.to_owned(),
        callback_url: None,
        scenario: SmsScenario::default(),
    })
    .await
    .unwrap();
    let settings = json!({
        "driver": "twilio",
        "base_url": sim.base_url(SmsProvider::Twilio),
        "account_sid": "ACbench",
        "auth_token": SECRET,
        "sender": "+15005550006",
    });
    let drawn = draw(messages);

    // 1. The provider alone.
    let config: SmsConfig = serde_json::from_value(settings.clone()).unwrap();
    let driver = Arc::new(SmsGateway::new(config, gateways::sms::http_client().unwrap()).unwrap());
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let driver = driver.clone();
            let mine: Vec<(String, String)> =
                drawn.iter().skip(c).step_by(CLIENTS).cloned().collect();
            tokio::spawn(async move {
                for (i, (number, text)) in mine.into_iter().enumerate() {
                    let to = format!("+880{}", &number[1..]);
                    let message = OutgoingSms {
                        to,
                        text,
                        reference: format!("direct-{c}-{i}"),
                    };
                    driver.send(&message).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let direct = started.elapsed();
    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "  provider alone (baseline) {:>7.0}/s  ({} for {messages})",
        rate(messages, direct),
        common::ms(direct)
    );

    // 2. Through the outbox.
    let install = Install::new(backend).await;
    let http = common::client();
    let (server, _) = install.serve(&[], &http).await;
    let (dev, _) = server.sign_in(&http).await;
    let tenant = server
        .send_json(
            &http,
            &dev,
            Method::POST,
            "/api/v1/tenants",
            &json!({"name": "Bench ISP", "country": "BD", "currency": "BDT", "time_zone": "Asia/Dhaka", "realm": "bench"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    server
        .send_json(
            &http,
            &dev,
            Method::POST,
            "/api/v1/users",
            &json!({"email": "admin@bench.example", "name": "Admin", "role": "admin", "tenant_id": tenant,
                    "password": "bench admin password 1"}),
        )
        .await;
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({"email": "admin@bench.example", "password": "bench admin password 1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let admin = login["token"].as_str().unwrap().to_owned();
    let gateway = server
        .send_json(
            &http,
            &admin,
            Method::POST,
            "/api/v1/sms-gateways",
            &json!({"name": "Twilio", "settings": settings, "daily_budget": 1_000_000}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/sms-gateways/{gateway}/test");
    let mut clients: Vec<Vec<Request>> = vec![Vec::new(); CLIENTS];
    for (i, (number, text)) in drawn.into_iter().enumerate() {
        let body = json!({"to": number, "text": text});
        clients[i % CLIENTS].push((admin.clone(), path.clone(), body));
    }
    let conn = install.connect().await;
    let started = Instant::now();
    let queued = post_all(&server.base, clients).await;
    let sent_count = async || -> i64 {
        rows(
            &conn,
            "SELECT COUNT(*) AS n FROM sms_message WHERE status IN ('sent', 'delivered')",
        )
        .await[0]
            .try_get("", "n")
            .unwrap()
    };
    loop {
        let sent = sent_count().await;
        if sent >= messages as i64 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "only {sent} of {messages} sent in ten minutes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let outbox = started.elapsed();
    report("queueing (API)", &queued, None);
    println!(
        "  queued to sent          {:>7.0}/s  ({} for {messages}; {:.2}x the provider alone's rate)",
        rate(messages, outbox),
        common::ms(outbox),
        rate(messages, outbox) / rate(messages, direct)
    );
    assert_eq!(
        sim.messages().len(),
        messages * 2,
        "each message reached the provider once"
    );
    server.stop().await;
}
