//! The SMS drivers against a running simulated gateway, with a small webhook receiver
//! standing in for the server's delivery-report routes, and against a hostile provider that
//! answers garbage: real loopback TCP throughout.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use gateways::sms::report::{self, DeliveryStatus, ReportError, ReportFields};
use gateways::sms::sim::{ReportOutcome, SimSms, SimSmsConfig, SmsScenario};
use gateways::sms::{
    AfricasTalkingConfig, BodyFormat, BulkSmsBdConfig, GenericConfig, HttpMethod, OutgoingSms,
    SmsConfig, SmsError, SmsGateway, SmsProvider, SslWirelessConfig, TwilioConfig,
};
use http::{HeaderMap, Method, StatusCode, Uri};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::mpsc;

const USERNAME: &str = "AC0123456789abcdef0123456789abcdef";
const SECRET: &str = "sim-secret-key";
const NUMBER: &str = "+8801712345678";
const BANGLA: &str =
    "১২৩৪৫৬ আপনার ISP Net Wi-Fi কোড। ৫ মিনিট বৈধ। কাউকে বলবেন না।\n@portal.example #123456";

/// One request the receiver got.
#[derive(Debug)]
struct Hook {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

async fn receive(
    State(hooks): State<mpsc::UnboundedSender<Hook>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let _ = hooks.send(Hook {
        method,
        uri,
        headers,
        body,
    });
    StatusCode::OK
}

/// A simulator, a report receiver, and the receiver's address.
struct Harness {
    sim: SimSms,
    hooks: mpsc::UnboundedReceiver<Hook>,
    /// `http://127.0.0.1:PORT`, the receiver.
    hook_base: String,
}

impl Harness {
    async fn start() -> Harness {
        let (tx, hooks) = mpsc::unbounded_channel();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook_base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().fallback(receive).with_state(tx);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let sim = SimSms::start(SimSmsConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            username: USERNAME.to_owned(),
            secret: SECRET.to_owned(),
            callback_url: Some(format!("{hook_base}/report?tenant=t1")),
            scenario: SmsScenario::default(),
        })
        .await
        .unwrap();
        Harness {
            sim,
            hooks,
            hook_base,
        }
    }

    /// Where Twilio's reports go: its own path, with a query, since the signature covers it.
    fn twilio_callback(&self) -> String {
        format!("{}/twilio?tenant=t1&x=a%20b", self.hook_base)
    }

    fn config(&self, provider: SmsProvider, secret: &str) -> SmsConfig {
        let base_url = self.sim.base_url(provider);
        match provider {
            SmsProvider::Twilio => SmsConfig::Twilio(TwilioConfig {
                base_url,
                account_sid: USERNAME.to_owned(),
                auth_token: secret.to_owned(),
                sender: "+15005550006".to_owned(),
                messaging_service_sid: None,
                status_callback: Some(self.twilio_callback()),
            }),
            SmsProvider::Bulksmsbd => SmsConfig::Bulksmsbd(BulkSmsBdConfig {
                base_url,
                api_key: secret.to_owned(),
                sender: "8809617000000".to_owned(),
            }),
            SmsProvider::Sslwireless => SmsConfig::Sslwireless(SslWirelessConfig {
                base_url,
                api_token: secret.to_owned(),
                sid: "ISPNETBRAND".to_owned(),
            }),
            SmsProvider::Africastalking => SmsConfig::Africastalking(AfricasTalkingConfig {
                base_url,
                username: USERNAME.to_owned(),
                api_key: secret.to_owned(),
                sender: "ISPNet".to_owned(),
            }),
            SmsProvider::Generic => SmsConfig::Generic(GenericConfig {
                method: HttpMethod::Get,
                url: format!(
                    "{base_url}/send?key={{secret}}&to={{to_local}}&text={{text}}&from={{sender}}&ref={{reference}}"
                ),
                body: None,
                body_format: BodyFormat::Form,
                sender: "ISP Net".to_owned(),
                secret: secret.to_owned(),
                success_substring: Some("\"ok\":true".to_owned()),
                id_pointer: Some("/id".to_owned()),
                allow_plain_http: false,
                report: ReportFields::default(),
            }),
        }
    }

    fn gateway(&self, provider: SmsProvider) -> SmsGateway {
        SmsGateway::new(
            self.config(provider, SECRET),
            gateways::sms::http_client().unwrap(),
        )
        .unwrap()
    }

    async fn next_hook(&mut self) -> Hook {
        tokio::time::timeout(Duration::from_secs(10), self.hooks.recv())
            .await
            .expect("no report within 10 s")
            .expect("receiver closed")
    }

    /// No report arrives within `wait`.
    async fn no_hook(&mut self, wait: Duration) {
        if let Ok(hook) = tokio::time::timeout(wait, self.hooks.recv()).await {
            panic!("unexpected report: {hook:?}");
        }
    }
}

fn sms(to: &str, text: &str, reference: &str) -> OutgoingSms {
    OutgoingSms {
        to: to.to_owned(),
        text: text.to_owned(),
        reference: reference.to_owned(),
    }
}

/// The number as each API carries it.
fn wire_number(provider: SmsProvider) -> &'static str {
    match provider {
        SmsProvider::Twilio | SmsProvider::Africastalking => "+8801712345678",
        SmsProvider::Bulksmsbd | SmsProvider::Sslwireless => "8801712345678",
        SmsProvider::Generic => "01712345678",
    }
}

/// Reads `hook` with the reader `provider`'s reports need.
fn read_report(
    harness: &Harness,
    provider: SmsProvider,
    hook: &Hook,
) -> Result<report::DeliveryReport, ReportError> {
    match provider {
        SmsProvider::Twilio => {
            let url = format!("{}{}", harness.hook_base, hook.uri);
            let signature = hook.headers["x-twilio-signature"].to_str().unwrap();
            report::verify_twilio(SECRET, &url, signature, &hook.body)
        }
        SmsProvider::Africastalking => report::africastalking(&hook.body),
        SmsProvider::Bulksmsbd => report::bulksmsbd(&hook.body),
        SmsProvider::Sslwireless => report::sslwireless(&hook.body),
        SmsProvider::Generic => {
            assert_eq!(hook.method, Method::GET);
            let query = hook.uri.query().unwrap_or_default();
            report::generic(&ReportFields::default(), query.as_bytes())
        }
    }
}

#[tokio::test]
async fn every_driver_sends_bangla_text_that_the_gateway_records_exactly() {
    let harness = Harness::start().await;
    for (i, provider) in SmsProvider::ALL.into_iter().enumerate() {
        let reference = format!("otp-{i}");
        let accepted = harness
            .gateway(provider)
            .send(&sms(NUMBER, BANGLA, &reference))
            .await
            .unwrap_or_else(|e| panic!("{provider}: {e}"));
        let messages = harness.sim.messages();
        let last = messages.last().unwrap();
        assert_eq!(last.provider, provider);
        assert_eq!(last.text, BANGLA, "{provider}");
        assert_eq!(last.to, wire_number(provider), "{provider}");
        assert_eq!(last.provider_id, accepted.provider_id, "{provider}");
        assert!(!last.sender.is_empty(), "{provider}");
    }
    assert_eq!(harness.sim.messages().len(), SmsProvider::ALL.len());
    let sent = harness.sim.messages();
    let ssl = sent
        .iter()
        .find(|m| m.provider == SmsProvider::Sslwireless)
        .unwrap();
    assert_eq!(ssl.reference.as_deref(), Some("otp-2"));
    let generic = sent
        .iter()
        .find(|m| m.provider == SmsProvider::Generic)
        .unwrap();
    assert_eq!(generic.reference.as_deref(), Some("otp-0"));
    assert_eq!(generic.sender, "ISP Net");
}

#[tokio::test]
async fn each_providers_delivery_report_reaches_the_webhook_and_parses() {
    let mut harness = Harness::start().await;
    for provider in SmsProvider::ALL {
        let accepted = harness
            .gateway(provider)
            .send(&sms(NUMBER, "123456 is your code", "dlr-1"))
            .await
            .unwrap();
        let hook = harness.next_hook().await;
        let report =
            read_report(&harness, provider, &hook).unwrap_or_else(|e| panic!("{provider}: {e}"));
        assert_eq!(report.provider_id, accepted.provider_id, "{provider}");
        assert_eq!(report.status, DeliveryStatus::Delivered, "{provider}");
        assert_eq!(report.error, None, "{provider}");
    }
}

#[tokio::test]
async fn failed_deliveries_are_reported_as_failed_with_the_providers_reason() {
    let mut harness = Harness::start().await;
    harness.sim.set_scenario(SmsScenario {
        report: ReportOutcome::Failed,
        ..SmsScenario::default()
    });
    for provider in SmsProvider::ALL {
        let accepted = harness
            .gateway(provider)
            .send(&sms(NUMBER, "123456 is your code", "dlr-failed"))
            .await
            .unwrap();
        let hook = harness.next_hook().await;
        let report = read_report(&harness, provider, &hook).unwrap();
        assert_eq!(report.provider_id, accepted.provider_id, "{provider}");
        assert_eq!(report.status, DeliveryStatus::Failed, "{provider}");
        assert!(report.error.is_some(), "{provider}");
    }
    assert_eq!(harness.sim.messages().len(), SmsProvider::ALL.len());
}

#[tokio::test]
async fn a_tampered_or_wrongly_keyed_twilio_report_is_refused() {
    let mut harness = Harness::start().await;
    harness
        .gateway(SmsProvider::Twilio)
        .send(&sms(NUMBER, "123456 is your code", "sig-1"))
        .await
        .unwrap();
    let hook = harness.next_hook().await;
    let url = format!("{}{}", harness.hook_base, hook.uri);
    assert_eq!(url, harness.twilio_callback());
    let signature = hook.headers["x-twilio-signature"].to_str().unwrap();
    assert!(report::verify_twilio(SECRET, &url, signature, &hook.body).is_ok());

    let body = String::from_utf8(hook.body.to_vec()).unwrap();
    let tampered = body.replace("MessageStatus=delivered", "MessageStatus=failed");
    assert_ne!(tampered, body);
    assert_eq!(
        report::verify_twilio(SECRET, &url, signature, tampered.as_bytes()),
        Err(ReportError::BadSignature)
    );
    assert_eq!(
        report::verify_twilio("another-token", &url, signature, &hook.body),
        Err(ReportError::BadSignature)
    );
    let other_url = url.replace("tenant=t1", "tenant=t2");
    assert_eq!(
        report::verify_twilio(SECRET, &other_url, signature, &hook.body),
        Err(ReportError::BadSignature)
    );
    assert_eq!(
        report::verify_twilio(SECRET, &url, "", &hook.body),
        Err(ReportError::BadSignature)
    );
}

#[tokio::test]
async fn a_5xx_is_transient_and_the_retry_is_taken_once() {
    let harness = Harness::start().await;
    for provider in SmsProvider::ALL {
        let gateway = harness.gateway(provider);
        let before = harness.sim.messages().len();
        harness.sim.fail_next(1);
        let message = sms(NUMBER, "123456 is your code", &format!("retry-{provider}"));
        let error = gateway.send(&message).await.unwrap_err();
        assert!(error.is_retryable(), "{provider}: {error:?}");
        assert!(matches!(error, SmsError::Transient(_)), "{provider}");
        assert_eq!(harness.sim.messages().len(), before, "{provider}");
        gateway.send(&message).await.unwrap();
        assert_eq!(harness.sim.messages().len(), before + 1, "{provider}");
    }
    assert_eq!(harness.sim.attempts(), 2 * SmsProvider::ALL.len() as u64);
}

#[tokio::test]
async fn a_refused_number_is_a_permanent_error_for_every_provider() {
    let mut harness = Harness::start().await;
    harness.sim.set_scenario(SmsScenario {
        reject_prefix: Some("+88019".to_owned()),
        ..SmsScenario::default()
    });
    for provider in SmsProvider::ALL {
        let error = harness
            .gateway(provider)
            .send(&sms("+8801912345678", "123456 is your code", "refused"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, SmsError::Rejected { .. }) && !error.is_retryable(),
            "{provider}: {error:?}"
        );
    }
    assert!(harness.sim.messages().is_empty());
    // Other numbers still go.
    harness
        .gateway(SmsProvider::Twilio)
        .send(&sms(NUMBER, "ok", "not-refused"))
        .await
        .unwrap();
    assert_eq!(harness.sim.messages().len(), 1);
    harness.next_hook().await;
    harness.no_hook(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn wrong_credentials_are_a_permanent_error_for_every_provider() {
    let harness = Harness::start().await;
    for provider in SmsProvider::ALL {
        let gateway = SmsGateway::new(
            harness.config(provider, "not-the-key"),
            gateways::sms::http_client().unwrap(),
        )
        .unwrap();
        let error = gateway
            .send(&sms(NUMBER, "123456 is your code", "creds"))
            .await
            .unwrap_err();
        assert!(
            matches!(error, SmsError::Rejected { .. }),
            "{provider}: {error:?}"
        );
    }
    assert!(harness.sim.messages().is_empty());
}

#[tokio::test]
async fn a_reference_sent_twice_goes_out_once_where_the_provider_dedupes() {
    let mut harness = Harness::start().await;
    for provider in [SmsProvider::Sslwireless, SmsProvider::Generic] {
        let gateway = harness.gateway(provider);
        let message = sms(NUMBER, "123456 is your code", &format!("same-{provider}"));
        let first = gateway.send(&message).await.unwrap();
        let second = gateway.send(&message).await.unwrap();
        assert_eq!(first, second, "{provider}");
        let copies = harness
            .sim
            .messages()
            .into_iter()
            .filter(|m| m.reference.as_deref() == Some(message.reference.as_str()))
            .count();
        assert_eq!(copies, 1, "{provider}");
        harness.next_hook().await;
    }
    // One report per message, not per send.
    harness.no_hook(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn a_generic_post_template_sends_json_and_forms() {
    let harness = Harness::start().await;
    let base = harness.sim.base_url(SmsProvider::Generic);
    let json = GenericConfig {
        method: HttpMethod::Post,
        url: format!("{base}/send"),
        body: Some(
            r#"{"key":"{secret}","to":"{to}","text":"{text}","from":"{sender}","ref":"{reference}"}"#
                .to_owned(),
        ),
        body_format: BodyFormat::Json,
        sender: "Quote \" Sender".to_owned(),
        secret: SECRET.to_owned(),
        success_substring: None,
        id_pointer: Some("/id".to_owned()),
        allow_plain_http: false,
                report: ReportFields::default(),
    };
    let form = GenericConfig {
        body: Some("key={secret}&to={to_digits}&text={text}&ref={reference}".to_owned()),
        body_format: BodyFormat::Form,
        ..json.clone()
    };
    let text = "say \"hi\" & 100% = {to} \\ বাংলা";
    for (i, config) in [json, form].into_iter().enumerate() {
        let gateway = SmsGateway::new(
            SmsConfig::Generic(config),
            gateways::sms::http_client().unwrap(),
        )
        .unwrap();
        let accepted = gateway
            .send(&sms(NUMBER, text, &format!("post-{i}")))
            .await
            .unwrap();
        let last = harness.sim.messages().pop().unwrap();
        assert_eq!(last.text, text);
        assert_eq!(last.provider_id, accepted.provider_id);
    }
    let sent = harness.sim.messages();
    assert_eq!(sent[0].to, "+8801712345678");
    assert_eq!(sent[0].sender, "Quote \" Sender");
    assert_eq!(sent[1].to, "8801712345678");
}

#[tokio::test]
async fn a_gateway_slower_than_the_timeout_is_transient() {
    let harness = Harness::start().await;
    harness.sim.set_scenario(SmsScenario {
        delay_ms: 1500,
        ..SmsScenario::default()
    });
    let http = gateways::sms::http_client_with_timeout(Duration::from_millis(300)).unwrap();
    let gateway = SmsGateway::new(harness.config(SmsProvider::Sslwireless, SECRET), http).unwrap();
    let error = gateway
        .send(&sms(NUMBER, "123456 is your code", "slow"))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
}

#[tokio::test]
async fn invalid_messages_are_refused_before_anything_is_sent() {
    let harness = Harness::start().await;
    let gateway = harness.gateway(SmsProvider::Twilio);
    for message in [
        sms("01712345678", "x", "r"),
        sms(NUMBER, "", "r"),
        sms(NUMBER, "x", "has space"),
        sms(NUMBER, "nul\u{0}", "r"),
        sms(NUMBER, &"x".repeat(1601), "r"),
    ] {
        assert!(matches!(
            gateway.send(&message).await,
            Err(SmsError::Invalid(_))
        ));
    }
    assert_eq!(harness.sim.attempts(), 0);
}

#[tokio::test]
async fn the_log_driver_takes_messages_and_sends_nothing() {
    let gateway = SmsGateway::new(SmsConfig::Log, gateways::sms::http_client().unwrap()).unwrap();
    let accepted = gateway
        .send(&sms(NUMBER, "123456 is your code", "log-1"))
        .await
        .unwrap();
    assert_eq!(accepted.provider_id, "log-log-1");
    assert_eq!(gateway.name(), "log");
}

#[tokio::test]
async fn the_messages_endpoint_serves_what_was_sent_to_a_number() {
    let harness = Harness::start().await;
    harness
        .gateway(SmsProvider::Bulksmsbd)
        .send(&sms(NUMBER, "123456 is your code", "m-1"))
        .await
        .unwrap();
    harness
        .gateway(SmsProvider::Twilio)
        .send(&sms("+8801812345678", "654321 is your code", "m-2"))
        .await
        .unwrap();
    let http = gateways::sms::http_client().unwrap();
    let url = format!(
        "http://{}/_messages?to=%2B8801712345678",
        harness.sim.addr()
    );
    let listed: serde_json::Value = http.get(url).send().await.unwrap().json().await.unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["text"], "123456 is your code");
    assert_eq!(listed[0]["provider"], "bulksmsbd");
}

/// A provider that answers every request with `status` and `body`.
async fn hostile(status: StatusCode, body: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(move || {
        let body = body.clone();
        async move { (status, body) }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// A provider that answers 200 with a chunked body that never stops growing past the bound.
async fn endless() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 8192];
                let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await;
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("{:x}\r\n{}\r\n", 4096, "a".repeat(4096));
                for _ in 0..64 {
                    if socket.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    base
}

fn pointed_at(provider: SmsProvider, base: &str) -> SmsGateway {
    let config = match provider {
        SmsProvider::Twilio => SmsConfig::Twilio(TwilioConfig {
            base_url: base.to_owned(),
            account_sid: USERNAME.to_owned(),
            auth_token: SECRET.to_owned(),
            sender: "+15005550006".to_owned(),
            messaging_service_sid: None,
            status_callback: None,
        }),
        SmsProvider::Bulksmsbd => SmsConfig::Bulksmsbd(BulkSmsBdConfig {
            base_url: base.to_owned(),
            api_key: SECRET.to_owned(),
            sender: "8809617000000".to_owned(),
        }),
        SmsProvider::Sslwireless => SmsConfig::Sslwireless(SslWirelessConfig {
            base_url: base.to_owned(),
            api_token: SECRET.to_owned(),
            sid: "BRAND".to_owned(),
        }),
        SmsProvider::Africastalking => SmsConfig::Africastalking(AfricasTalkingConfig {
            base_url: base.to_owned(),
            username: "sandbox".to_owned(),
            api_key: SECRET.to_owned(),
            sender: String::new(),
        }),
        SmsProvider::Generic => SmsConfig::Generic(GenericConfig {
            method: HttpMethod::Get,
            url: format!("{base}/send?to={{to}}&text={{text}}"),
            body: None,
            body_format: BodyFormat::Form,
            sender: String::new(),
            secret: String::new(),
            success_substring: Some("ACCEPTED".to_owned()),
            id_pointer: None,
            allow_plain_http: false,
            report: ReportFields::default(),
        }),
    };
    SmsGateway::new(config, gateways::sms::http_client().unwrap()).unwrap()
}

#[tokio::test]
async fn oversized_and_garbage_answers_are_errors_never_panics() {
    let message = sms(NUMBER, "123456 is your code", "hostile");
    let huge = hostile(StatusCode::OK, vec![b'{'; 2 << 20]).await;
    let garbage = hostile(StatusCode::OK, b"\xff\xfe<html>not json".to_vec()).await;
    let deep = hostile(StatusCode::OK, "[".repeat(100_000).into_bytes()).await;
    let huge_503 = hostile(StatusCode::SERVICE_UNAVAILABLE, vec![b'x'; 2 << 20]).await;
    let endless = endless().await;
    for provider in SmsProvider::ALL {
        let error = pointed_at(provider, &huge)
            .send(&message)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, SmsError::Rejected { code, .. } if code == "oversized_answer"),
            "{provider}: {error:?}"
        );
        let error = pointed_at(provider, &endless)
            .send(&message)
            .await
            .unwrap_err();
        assert!(
            matches!(&error, SmsError::Rejected { code, .. } if code == "oversized_answer"),
            "{provider}: {error:?}"
        );
        for base in [&garbage, &deep] {
            let error = pointed_at(provider, base).send(&message).await.unwrap_err();
            assert!(
                matches!(error, SmsError::Rejected { .. }),
                "{provider}: {error:?}"
            );
        }
        let error = pointed_at(provider, &huge_503)
            .send(&message)
            .await
            .unwrap_err();
        assert!(error.is_retryable(), "{provider}: {error:?}");
    }
}

#[tokio::test]
async fn an_unreachable_gateway_is_transient() {
    // Bind, then drop, to find a port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    for provider in SmsProvider::ALL {
        let error = pointed_at(provider, &base)
            .send(&sms(NUMBER, "x", "down"))
            .await
            .unwrap_err();
        assert!(error.is_retryable(), "{provider}: {error:?}");
    }
}

#[test]
fn oversized_and_malformed_reports_are_errors_never_panics() {
    let huge = vec![b'a'; report::MAX_REPORT + 1];
    let garbage: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let names = ReportFields::default();
    for body in [&huge[..], &garbage[..], b"{\"id\":[", b"id=%E0%A6&status=x"] {
        assert!(report::twilio(body).is_err());
        assert!(report::africastalking(body).is_err());
        assert!(report::bulksmsbd(body).is_err());
        assert!(report::sslwireless(body).is_err());
        assert!(report::generic(&names, body).is_err());
        assert!(report::verify_twilio(SECRET, "https://x/", "AAAA", body).is_err());
    }
}

#[test]
fn settings_that_cannot_work_are_refused_when_the_gateway_is_built() {
    let http = || gateways::sms::http_client().unwrap();
    let plain = SmsConfig::Bulksmsbd(BulkSmsBdConfig {
        base_url: "http://bulksmsbd.net".to_owned(),
        api_key: "k".to_owned(),
        sender: "s".to_owned(),
    });
    assert!(matches!(
        SmsGateway::new(plain, http()),
        Err(SmsError::Invalid(_))
    ));
    let no_sender = SmsConfig::Twilio(TwilioConfig {
        base_url: "https://api.twilio.com".to_owned(),
        account_sid: "AC1".to_owned(),
        auth_token: "t".to_owned(),
        sender: String::new(),
        messaging_service_sid: None,
        status_callback: None,
    });
    assert!(matches!(
        SmsGateway::new(no_sender, http()),
        Err(SmsError::Invalid(_))
    ));
    let unknown = SmsConfig::Generic(GenericConfig {
        method: HttpMethod::Get,
        url: "https://sms.example/?n={number}".to_owned(),
        body: None,
        body_format: BodyFormat::Form,
        sender: String::new(),
        secret: String::new(),
        success_substring: None,
        id_pointer: None,
        allow_plain_http: false,
        report: ReportFields::default(),
    });
    assert!(matches!(
        SmsGateway::new(unknown, http()),
        Err(SmsError::Invalid(_))
    ));
}
