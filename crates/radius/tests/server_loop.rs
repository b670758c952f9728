//! The crate's client against the crate's server over loopback UDP: authentication methods,
//! accounting, CoA/Disconnect NAKs, duplicate detection, the Message-Authenticator policy,
//! dropped packets and shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use radius::auth::{chap, mschap, pap};
use radius::client::{Client, ClientConfig, ClientError, ErrorCause};
use radius::{Attribute, Code, Packet, attrs};
use support::{SECRET, start_server};
use tokio::net::UdpSocket;

fn quick() -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_millis(300),
        retries: 1,
        ..ClientConfig::default()
    }
}

fn access_request(user: &str) -> Packet {
    let mut request = Packet::new(Code::AccessRequest, rand::random());
    request.add(attrs::USER_NAME, &user.to_owned());
    request
}

async fn raw_exchange(server: std::net::SocketAddr, bytes: &[u8]) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    exchange_on(&socket, server, bytes).await
}

async fn exchange_on(
    socket: &UdpSocket,
    server: std::net::SocketAddr,
    bytes: &[u8],
) -> Option<Vec<u8>> {
    socket.send_to(bytes, server).await.unwrap();
    let mut buf = [0u8; 4096];
    match tokio::time::timeout(Duration::from_millis(500), socket.recv(&mut buf)).await {
        Ok(Ok(len)) => Some(buf[..len].to_vec()),
        _ => None,
    }
}

#[tokio::test]
async fn pap_request_with_the_right_password_is_accepted_with_its_reply_attributes() {
    let server = start_server(true).await;
    let client = Client::with_config(server.address, SECRET, quick());
    let mut request = access_request("alice");
    pap::add_user_password(&mut request, b"secret1", SECRET.as_bytes()).unwrap();
    let response = client.send(&request).await.unwrap();
    assert_eq!(response.packet.code, Code::AccessAccept);
    assert_eq!(
        response.packet.value(attrs::MIKROTIK_RATE_LIMIT),
        Some(Ok("10M/50M".to_owned()))
    );
    assert_eq!(
        response.packet.attributes[0].id,
        attrs::MESSAGE_AUTHENTICATOR.id(),
        "Message-Authenticator must come first"
    );
    server.stop().await;
}

#[tokio::test]
async fn pap_request_with_a_wrong_password_is_rejected() {
    let server = start_server(true).await;
    let client = Client::with_config(server.address, SECRET, quick());
    let mut request = access_request("alice");
    pap::add_user_password(&mut request, b"nope", SECRET.as_bytes()).unwrap();
    let response = client.send(&request).await.unwrap();
    assert_eq!(response.packet.code, Code::AccessReject);
    server.stop().await;
}

#[tokio::test]
async fn chap_request_with_the_right_password_is_accepted() {
    let server = start_server(true).await;
    let client = Client::with_config(server.address, SECRET, quick());
    let mut request = access_request("alice");
    chap::add_chap_password(&mut request, 1, b"secret1", None);
    assert_eq!(
        client.send(&request).await.unwrap().packet.code,
        Code::AccessAccept
    );
    let mut wrong = access_request("alice");
    chap::add_chap_password(&mut wrong, 1, b"secret2", None);
    assert_eq!(
        client.send(&wrong).await.unwrap().packet.code,
        Code::AccessReject
    );
    server.stop().await;
}

#[tokio::test]
async fn mschapv2_accept_carries_a_success_the_client_verifies_and_mppe_keys() {
    let server = start_server(true).await;
    let client = Client::with_config(server.address, SECRET, quick());
    let mut request = access_request("alice");
    let exchange = mschap::add_v2(&mut request, "secret1");
    let response = client.send(&request).await.unwrap();
    assert_eq!(response.packet.code, Code::AccessAccept);
    assert!(exchange.verify_success(&response.packet));
    let keys = mschap::mppe_keys(
        &response.packet,
        SECRET.as_bytes(),
        &response.request_authenticator,
    );
    assert!(keys.is_some());
    server.stop().await;
}

#[tokio::test]
async fn mschapv1_with_a_wrong_password_is_rejected_with_an_error() {
    let server = start_server(true).await;
    let client = Client::with_config(server.address, SECRET, quick());
    let mut request = access_request("alice");
    mschap::add_v1(&mut request, "secret2");
    let response = client.send(&request).await.unwrap();
    assert_eq!(response.packet.code, Code::AccessReject);
    assert!(response.packet.contains(attrs::MS_CHAP_ERROR.id()));
    server.stop().await;
}

#[tokio::test]
async fn accounting_requests_are_acknowledged() {
    let server = start_server(true).await;
    let client = Client::with_config(server.address, SECRET, quick());
    let mut request = Packet::new(Code::AccountingRequest, 3);
    request.add(attrs::ACCT_STATUS_TYPE, &attrs::acct_status_type::START);
    request.add(attrs::ACCT_SESSION_ID, &"81a00002".to_owned());
    let response = client.send(&request).await.unwrap();
    assert_eq!(response.packet.code, Code::AccountingResponse);
    server.stop().await;
}

#[tokio::test]
async fn a_coa_for_an_unknown_session_is_naked_with_its_error_cause() {
    let server = start_server(true).await;
    let client = Client::with_config(server.address, SECRET, quick());
    let attributes = vec![Attribute::new(attrs::USER_NAME.id(), *b"mallory")];
    let response = client.coa(attributes).await.unwrap();
    assert_eq!(response.packet.code, Code::CoaNak);
    assert_eq!(
        response.error_causes(),
        vec![ErrorCause::SessionContextNotFound]
    );
    assert!(response.request.contains(attrs::EVENT_TIMESTAMP.id()));
    let known = vec![Attribute::new(attrs::USER_NAME.id(), *b"alice")];
    let response = client.disconnect(known).await.unwrap();
    assert_eq!(response.packet.code, Code::DisconnectAck);
    server.stop().await;
}

#[tokio::test]
async fn a_retransmitted_request_gets_the_cached_reply_and_the_handler_runs_once() {
    let server = start_server(true).await;
    let mut request = access_request("alice");
    request.add_message_authenticator();
    pap::add_user_password(&mut request, b"secret1", SECRET.as_bytes()).unwrap();
    let bytes = request.encode_request(SECRET.as_bytes()).unwrap();
    let nas = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let first = exchange_on(&nas, server.address, &bytes)
        .await
        .expect("a reply");
    let second = exchange_on(&nas, server.address, &bytes)
        .await
        .expect("a cached reply");
    assert_eq!(first, second);
    assert_eq!(server.calls.load(Ordering::SeqCst), 1);
    assert_eq!(server.stats.snapshot().duplicates_answered, 1);
    server.stop().await;
}

#[tokio::test]
async fn an_access_request_without_message_authenticator_is_dropped_when_required() {
    let server = start_server(true).await;
    let mut request = access_request("alice");
    pap::add_user_password(&mut request, b"secret1", SECRET.as_bytes()).unwrap();
    let bytes = request.encode_request(SECRET.as_bytes()).unwrap();
    assert_eq!(raw_exchange(server.address, &bytes).await, None);
    let stats = server.stats.snapshot();
    assert_eq!(stats.dropped_missing_message_authenticator, 1);
    assert_eq!(server.calls.load(Ordering::SeqCst), 0);
    server.stop().await;
}

#[tokio::test]
async fn an_access_request_without_message_authenticator_is_answered_when_not_required() {
    let server = start_server(false).await;
    let config = ClientConfig {
        message_authenticator: false,
        ..quick()
    };
    let client = Client::with_config(server.address, SECRET, config);
    let mut request = access_request("alice");
    pap::add_user_password(&mut request, b"secret1", SECRET.as_bytes()).unwrap();
    let response = client.send(&request).await.unwrap();
    assert_eq!(response.packet.code, Code::AccessAccept);
    server.stop().await;
}

#[tokio::test]
async fn requests_signed_with_a_wrong_secret_are_dropped_and_the_client_times_out() {
    let server = start_server(true).await;
    let client = Client::with_config(server.address, "not-the-secret", quick());
    let mut request = Packet::new(Code::AccountingRequest, 1);
    request.add(attrs::ACCT_STATUS_TYPE, &attrs::acct_status_type::STOP);
    let err = client.send(&request).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Timeout { attempts: 2, .. }),
        "{err}"
    );
    assert_eq!(server.stats.snapshot().dropped_bad_authenticator, 2);
    server.stop().await;
}

#[tokio::test]
async fn malformed_datagrams_are_dropped_and_counted() {
    let server = start_server(true).await;
    let good = {
        let mut request = Packet::new(Code::AccountingRequest, 1);
        request.add(attrs::ACCT_SESSION_ID, &"x".to_owned());
        request.encode_request(SECRET.as_bytes()).unwrap()
    };
    let mut zero_length_attribute = good.clone();
    zero_length_attribute[21] = 0;
    let mut length_beyond_datagram = good.clone();
    length_beyond_datagram[3] += 10;
    for bytes in [
        &b"short"[..],
        &good[..19],
        &zero_length_attribute,
        &length_beyond_datagram,
    ] {
        assert_eq!(raw_exchange(server.address, bytes).await, None);
    }
    assert_eq!(server.stats.snapshot().dropped_malformed, 4);
    assert_eq!(server.calls.load(Ordering::SeqCst), 0);
    server.stop().await;
}

#[tokio::test]
async fn a_reply_code_sent_to_the_server_is_dropped() {
    let server = start_server(true).await;
    let bytes = Packet::new(Code::AccessAccept, 1)
        .encode_reply(&[0; 16], SECRET.as_bytes())
        .unwrap();
    assert_eq!(raw_exchange(server.address, &bytes).await, None);
    assert_eq!(server.stats.snapshot().dropped_not_request, 1);
    server.stop().await;
}

#[tokio::test]
async fn status_server_is_answered() {
    let server = start_server(true).await;
    let client = Client::with_config(server.address, SECRET, quick());
    let response = client
        .send(&Packet::new(Code::StatusServer, 9))
        .await
        .unwrap();
    assert_eq!(response.packet.code, Code::AccessAccept);
    server.stop().await;
}

#[tokio::test]
async fn a_client_with_no_server_times_out_after_its_retries() {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let silent = socket.local_addr().unwrap();
    let client = Client::with_config(silent, SECRET, quick());
    let err = client.send(&access_request("alice")).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Timeout { attempts: 2, .. }),
        "{err}"
    );
    let mut first = [0u8; 4096];
    let mut second = [0u8; 4096];
    let (len, _) = socket.recv_from(&mut first).await.unwrap();
    let (len2, _) = socket.recv_from(&mut second).await.unwrap();
    assert_eq!(
        first[..len],
        second[..len2],
        "a retransmission is the same packet: same identifier and authenticator"
    );
}

#[tokio::test]
async fn shutdown_waits_for_the_requests_in_flight_to_be_answered() {
    let server = start_server(true).await;
    let client = Client::with_config(server.address, SECRET, quick());
    let in_flight = tokio::spawn(async move { client.send(&access_request("slow")).await });
    while server.calls.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.stop().await;
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.packet.code, Code::AccessReject);
}
