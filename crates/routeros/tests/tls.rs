//! API-SSL against the simulated router: a pinned fingerprint, accept-any, system roots
//! refusing a self-signed certificate, a wrong pin, and a router without a certificate.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

mod common;

use common::{PASSWORD, USER, router_with};
use routeros::menu;
use routeros::sim::{Group, SimConfig};
use routeros::{Client, ClientConfig, Error, Fingerprint, Trust};

fn tls_config(router: &routeros::sim::SimRouter, trust: Trust) -> ClientConfig {
    ClientConfig::new(router.tls_address().unwrap().to_string(), USER, PASSWORD).with_tls(trust)
}

#[tokio::test]
async fn a_pinned_fingerprint_connects_over_tls() {
    let router = router_with(SimConfig::new(USER, PASSWORD, Group::Full).with_tls()).await;
    let pin = router.fingerprint().unwrap();
    let client = Client::connect(&tls_config(&router, Trust::Fingerprint(pin)))
        .await
        .unwrap();
    assert_eq!(menu::IDENTITY.get(&client).await.unwrap().name, "MikroTik");
}

#[tokio::test]
async fn concurrent_commands_work_over_tls() {
    let router = router_with(SimConfig::new(USER, PASSWORD, Group::Full).with_tls()).await;
    let client = Client::connect(&tls_config(&router, Trust::AcceptAny))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                let props = menu::Props::new()
                    .with("name", format!("p{i}"))
                    .with("ranges", format!("10.{i}.0.1-10.{i}.0.9"));
                menu::IP_POOLS.add(&client, &props).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(router.rows("/ip/pool").unwrap().len(), 16);
}

#[tokio::test]
async fn a_wrong_pin_is_refused_with_both_fingerprints() {
    let router = router_with(SimConfig::new(USER, PASSWORD, Group::Full).with_tls()).await;
    let wrong = Fingerprint::parse(&"00".repeat(32)).unwrap();
    let error = Client::connect(&tls_config(&router, Trust::Fingerprint(wrong)))
        .await
        .unwrap_err();
    match error {
        Error::FingerprintMismatch { expected, actual } => {
            assert_eq!(expected, "00".repeat(32));
            assert_eq!(actual, router.fingerprint().unwrap().to_string());
        }
        other => panic!("expected a fingerprint mismatch, got {other}"),
    }
}

#[tokio::test]
async fn system_roots_refuse_a_self_signed_router_certificate() {
    let router = router_with(SimConfig::new(USER, PASSWORD, Group::Full).with_tls()).await;
    let mut config = tls_config(&router, Trust::SystemRoots);
    if let Some(tls) = config.tls.as_mut() {
        tls.server_name = Some("localhost".into());
    }
    let error = Client::connect(&config).await.unwrap_err();
    assert!(matches!(error, Error::Tls(_)), "{error}");
}

#[tokio::test]
async fn a_router_without_a_certificate_gets_a_clear_instruction() {
    let mut sim = SimConfig::new(USER, PASSWORD, Group::Full).with_tls();
    sim.tls_certificate = false;
    let router = router_with(sim).await;
    let error = Client::connect(&tls_config(&router, Trust::AcceptAny))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::TlsNoCertificate), "{error}");
    assert!(
        error
            .to_string()
            .contains("Install a certificate on the router")
    );
}
