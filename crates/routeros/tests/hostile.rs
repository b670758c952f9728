//! Bad input in both directions: a hostile client against the simulated router, and a
//! hostile "router" against the client. Every case must end in a typed error and a closed
//! connection, never a panic, a hang or unbounded memory.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

mod common;

use std::time::Duration;

use common::{PASSWORD, Raw, USER, router, router_with};
use routeros::codec::{Decoder, Limits, encode_sentence};
use routeros::sim::{Group, SimConfig};
use routeros::{Client, ClientConfig, Command, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn first_words(sentences: &[Vec<String>]) -> Vec<String> {
    sentences.iter().map(|s| s.join(" ")).collect()
}

#[tokio::test]
async fn a_reserved_control_byte_from_a_client_closes_its_connection() {
    let router = router().await;
    let mut raw = Raw::connect(router.address()).await;
    raw.send_bytes(&[0xF8, 1, 2, 3]).await;
    let got = first_words(&raw.until_closed().await);
    assert_eq!(got.len(), 1);
    assert!(
        got[0].starts_with("!fatal protocol error: reserved control byte"),
        "{got:?}"
    );
}

#[tokio::test]
async fn an_oversized_word_before_login_closes_the_connection_before_it_is_read() {
    let router = router().await;
    let mut raw = Raw::connect(router.address()).await;
    // A 3-byte length announcing 2 MiB, and none of the bytes.
    raw.send_bytes(&[0xDF, 0xFF, 0xFF]).await;
    let got = first_words(&raw.until_closed().await);
    assert!(got[0].contains("exceeds the limit"), "{got:?}");
}

#[tokio::test]
async fn a_sentence_that_never_ends_closes_the_connection() {
    let router = router().await;
    let mut raw = Raw::connect(router.address()).await;
    let endless: Vec<u8> = std::iter::repeat_n([3u8, b'=', b'a', b'='], 64)
        .flatten()
        .collect();
    raw.send_bytes(&endless).await;
    let got = first_words(&raw.until_closed().await);
    assert!(got[0].contains("words"), "{got:?}");
}

#[tokio::test]
async fn too_many_login_attempts_close_the_connection() {
    let router = router().await;
    let mut raw = Raw::connect(router.address()).await;
    for _ in 0..20 {
        raw.send(&["/login", "=name=api", "=password=guess"]).await;
    }
    let got = first_words(&raw.until_closed().await);
    assert_eq!(
        got.last().map(String::as_str),
        Some("!fatal too many commands before login")
    );
}

#[tokio::test]
async fn a_client_that_never_logs_in_is_disconnected() {
    let mut config = SimConfig::new(USER, PASSWORD, Group::Full);
    config.limits.login_timeout = Duration::from_millis(200);
    let router = router_with(config).await;
    let mut raw = Raw::connect(router.address()).await;
    assert_eq!(
        first_words(&raw.until_closed().await),
        ["!fatal login timeout"]
    );
}

#[tokio::test]
async fn garbage_after_login_closes_the_connection_and_the_router_keeps_serving() {
    let router = router().await;
    let mut raw = Raw::logged_in(router.address()).await;
    raw.send_bytes(&[0xFF; 32]).await;
    raw.until_closed().await;
    let mut again = Raw::logged_in(router.address()).await;
    again.send(&["/system/identity/print"]).await;
    assert_eq!(again.recv_until_done().await.len(), 2);
}

/// A fake router: answers the login, then sends `after_login` and keeps the socket open.
async fn hostile_router(after_login: Vec<u8>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut decoder = Decoder::new(Limits::default());
        let mut buf = Vec::new();
        let login = loop {
            let mut chunk = [0u8; 1024];
            let n = stream.read(&mut chunk).await.unwrap();
            buf.extend_from_slice(&chunk[..n]);
            if let (_, Some(sentence)) = decoder.decode(&buf).unwrap() {
                break sentence;
            }
        };
        let tag = login
            .words
            .iter()
            .find(|w| w.starts_with(b".tag="))
            .cloned()
            .unwrap();
        let mut reply = Vec::new();
        encode_sentence(&[b"!done".to_vec(), tag], &mut reply).unwrap();
        stream.write_all(&reply).await.unwrap();
        let _ = stream.write_all(&after_login).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    address
}

async fn error_after(after_login: Vec<u8>, limits: Limits) -> Error {
    let address = hostile_router(after_login).await;
    let mut config = ClientConfig::new(address.to_string(), USER, PASSWORD)
        .with_command_timeout(Duration::from_secs(10));
    config.limits = limits;
    let client = Client::connect(&config).await.unwrap();
    let error = client
        .run(&Command::new("/system/identity/print"))
        .await
        .unwrap_err();
    assert!(!client.is_alive());
    error
}

fn assert_protocol_error(error: &Error, needle: &str) {
    assert!(
        matches!(error, Error::ConnectionLost { reason } if reason.contains(needle)),
        "{error}"
    );
}

#[tokio::test]
async fn a_reserved_control_byte_from_the_router_is_a_protocol_error() {
    let error = error_after(vec![0xF9], Limits::default()).await;
    assert_protocol_error(&error, "reserved control byte");
}

#[tokio::test]
async fn a_word_beyond_the_clients_limit_is_refused_before_it_is_read() {
    let limits = Limits {
        max_word_len: 1024,
        ..Limits::default()
    };
    let error = error_after(vec![0xE0, 0x20, 0x00, 0x00], limits).await;
    assert_protocol_error(&error, "exceeds the limit of 1024");
}

#[tokio::test]
async fn a_reply_that_never_ends_is_refused() {
    let limits = Limits {
        max_words: 100,
        ..Limits::default()
    };
    let endless: Vec<u8> = std::iter::repeat_n([3u8, b'=', b'a', b'='], 200)
        .flatten()
        .collect();
    let error = error_after(endless, limits).await;
    assert_protocol_error(&error, "100 words");
}

#[tokio::test]
async fn a_sentence_that_is_not_a_reply_is_a_protocol_error() {
    let mut garbage = Vec::new();
    encode_sentence(&["hello", "world"], &mut garbage).unwrap();
    let error = error_after(garbage, Limits::default()).await;
    assert_protocol_error(&error, "not a reply");
}

#[tokio::test]
async fn a_router_that_never_answers_the_login_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let _keep = tokio::spawn(async move {
        let (_stream, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let mut config = ClientConfig::new(address.to_string(), USER, PASSWORD);
    config.connect_timeout = Duration::from_millis(200);
    let error = Client::connect(&config).await.unwrap_err();
    assert!(matches!(error, Error::ConnectTimeout { .. }), "{error}");
}
