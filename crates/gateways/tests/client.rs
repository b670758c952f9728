//! The client against providers that are not there, too slow, or hostile: real TCP, with
//! small servers on loopback playing the provider.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::time::{Duration, Instant};

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use gateways::{Checkout, Client, GatewayConfig, GatewayError, Provider};
use http::StatusCode;

/// The providers whose webhooks are signed in a header (Stripe, generic); bKash and
/// SSLCommerz have tests of their own.
const SIGNED: [Provider; 2] = [Provider::Stripe, Provider::Generic];

fn cfg(provider: Provider, base_url: String) -> GatewayConfig {
    GatewayConfig {
        provider,
        base_url,
        key_id: String::new(),
        username: String::new(),
        secret_key: "sk_test_client".to_owned(),
        webhook_secret: "whsec_client".to_owned(),
    }
}

fn checkout() -> Checkout {
    Checkout {
        merchant_ref: "INV-1".to_owned(),
        amount: 500,
        currency: "EUR".to_owned(),
        description: "Plan".to_owned(),
        success_url: "https://isp.example/ok".to_owned(),
        cancel_url: "https://isp.example/no".to_owned(),
        webhook_url: "https://isp.example/hook".to_owned(),
    }
}

/// A loopback port with nothing listening on it.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// Serves `app` on loopback and returns its address.
async fn provider(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

#[tokio::test]
async fn a_closed_port_is_unreachable_at_once() {
    let client = Client::new().unwrap();
    let port = closed_port().await;
    for provider in SIGNED {
        let cfg = cfg(provider, format!("http://127.0.0.1:{port}/{provider}"));
        let started = Instant::now();
        let created = client.create(&cfg, &checkout()).await;
        let confirmed = client.confirm(&cfg, "cs_1").await;
        assert!(started.elapsed() < Duration::from_secs(2));
        for result in [created.map(drop), confirmed.map(drop)] {
            let error = result.unwrap_err();
            assert!(matches!(error, GatewayError::Unreachable(_)), "{error:?}");
            assert!(error.is_retryable());
            assert!(!error.to_string().contains("sk_test"));
        }
    }
}

#[tokio::test]
async fn plain_http_to_another_host_is_refused_before_connecting() {
    let client = Client::new().unwrap();
    let cfg = cfg(Provider::Stripe, "http://pay.example.com".to_owned());
    let started = Instant::now();
    let result = client.confirm(&cfg, "cs_1").await;
    assert!(
        matches!(result, Err(GatewayError::Unreachable(_))),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(100));
}

#[tokio::test]
async fn a_provider_that_never_answers_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    // Accepts and holds the connection, never answering.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = Client::new().unwrap();
    let started = Instant::now();
    let result = client
        .confirm(
            &cfg(Provider::Generic, format!("http://{address}")),
            "pay_1",
        )
        .await;
    assert_eq!(result, Err(GatewayError::Timeout));
    assert!(started.elapsed() < Duration::from_secs(12));
}

#[tokio::test]
async fn answers_larger_than_a_mebibyte_are_not_read() {
    let huge = || async { "x".repeat(2 << 20) };
    let app = Router::new()
        .route("/v1/payments/{id}", get(huge))
        .route("/v1/checkout", post(huge));
    let base = provider(app).await;
    let client = Client::new().unwrap();
    let result = client
        .confirm(&cfg(Provider::Generic, base.clone()), "pay_1")
        .await;
    assert!(
        matches!(result, Err(GatewayError::Malformed(_))),
        "{result:?}"
    );
    let result = client
        .create(&cfg(Provider::Generic, base), &checkout())
        .await;
    assert!(
        matches!(result, Err(GatewayError::Malformed(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn answers_that_do_not_fit_the_protocol_are_malformed() {
    let app = Router::new()
        .route("/v1/checkout/sessions/{id}", get(|| async { "{\"id\":\"cs_other\"}" }))
        .route("/v1/checkout/sessions", post(|| async { "<html>hello</html>" }))
        .route(
            "/v1/payments/{id}",
            get(|| async {
                r#"{"id":"pay_1","status":"succeeded","amount":"500","currency":"EUR","merchant_ref":"INV-1","txn_id":"t"}"#
            }),
        );
    let base = provider(app).await;
    let client = Client::new().unwrap();
    let stripe = cfg(Provider::Stripe, base.clone());
    let generic = cfg(Provider::Generic, base);
    for result in [
        client.confirm(&stripe, "cs_1").await,
        client.confirm(&generic, "pay_1").await,
    ] {
        assert!(
            matches!(result, Err(GatewayError::Malformed(_))),
            "{result:?}"
        );
    }
    let result = client.create(&stripe, &checkout()).await;
    assert!(
        matches!(result, Err(GatewayError::Malformed(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn redirects_are_not_followed_and_errors_carry_the_providers_message() {
    let app = Router::new()
        .route(
            "/v1/payments/{id}",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [("location", "http://127.0.0.1:1/elsewhere")],
                )
                    .into_response()
            }),
        )
        .route(
            "/v1/checkout",
            post(|| async {
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    r#"{"error":{"code":"bad","message":"amount too large\nfor this account"}}"#,
                )
            }),
        );
    let base = provider(app).await;
    let client = Client::new().unwrap();
    let cfg = cfg(Provider::Generic, base);
    let result = client.confirm(&cfg, "pay_1").await;
    assert!(
        matches!(result, Err(GatewayError::Rejected { status: 302, .. })),
        "{result:?}"
    );
    let result = client.create(&cfg, &checkout()).await;
    assert_eq!(
        result,
        Err(GatewayError::Rejected {
            status: 422,
            message: "amount too largefor this account".to_owned()
        })
    );
}

#[tokio::test]
async fn an_id_that_is_not_an_identifier_is_refused_before_sending() {
    let client = Client::new().unwrap();
    let port = closed_port().await;
    let cfg = cfg(Provider::Generic, format!("http://127.0.0.1:{port}"));
    for id in ["", "..", "a b", "é"] {
        let result = client.confirm(&cfg, id).await;
        assert!(
            matches!(result, Err(GatewayError::Malformed(_))),
            "{id}: {result:?}"
        );
    }
}

#[tokio::test]
async fn a_certificate_no_public_authority_signed_is_refused() {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let tls = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        acceptor.accept(socket).await.map(drop)
    });

    let client = Client::new().unwrap();
    let cfg = cfg(Provider::Stripe, format!("https://localhost:{port}"));
    let result = client.confirm(&cfg, "cs_1").await;
    let Err(GatewayError::Unreachable(message)) = &result else {
        panic!("{result:?}");
    };
    assert!(message.to_lowercase().contains("certificate"), "{message}");
    assert!(
        handshakes.await.unwrap().is_err(),
        "the server saw a completed handshake"
    );
}
