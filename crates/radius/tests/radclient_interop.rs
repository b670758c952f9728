//! FreeRADIUS's own clients (`radtest`, `radclient` from Debian's freeradius-utils) against a
//! small server built on this crate: PAP and CHAP, with and without Message-Authenticator,
//! accounting and Status-Server.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support;

use std::path::Path;
use std::process::Stdio;

use support::{SECRET, start_server};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

fn require_tool(path: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: install the Debian package freeradius-utils"
    );
}

async fn radtest(method: &str, user: &str, password: &str, server: std::net::SocketAddr) -> String {
    require_tool("/usr/bin/radtest");
    let output = Command::new("/usr/bin/radtest")
        .args([
            "-t",
            method,
            user,
            password,
            &server.to_string(),
            "0",
            SECRET,
        ])
        .output()
        .await
        .expect("radtest runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn radclient(kind: &str, attributes: &str, server: std::net::SocketAddr) -> String {
    require_tool("/usr/bin/radclient");
    let mut child = Command::new("/usr/bin/radclient")
        .args([
            "-x",
            "-t",
            "1",
            "-r",
            "1",
            &server.to_string(),
            kind,
            SECRET,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("radclient runs");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(attributes.as_bytes()).await.unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    text
}

#[tokio::test]
async fn radtest_pap_with_the_right_password_is_accepted_with_the_rate_limit() {
    let server = start_server(true).await;
    let output = radtest("pap", "alice", "secret1", server.address).await;
    assert!(output.contains("Received Access-Accept"), "{output}");
    assert!(
        output.contains("Mikrotik-Rate-Limit = \"10M/50M\""),
        "{output}"
    );
    server.stop().await;
}

#[tokio::test]
async fn radtest_pap_with_a_wrong_password_is_rejected() {
    let server = start_server(true).await;
    let output = radtest("pap", "alice", "wrong", server.address).await;
    assert!(output.contains("Received Access-Reject"), "{output}");
    server.stop().await;
}

#[tokio::test]
async fn radtest_chap_with_the_right_password_is_accepted() {
    let server = start_server(true).await;
    let output = radtest("chap", "alice", "secret1", server.address).await;
    assert!(output.contains("Received Access-Accept"), "{output}");
    server.stop().await;
}

#[tokio::test]
async fn radtest_chap_with_a_wrong_password_is_rejected() {
    let server = start_server(true).await;
    let output = radtest("chap", "alice", "wrong", server.address).await;
    assert!(output.contains("Received Access-Reject"), "{output}");
    server.stop().await;
}

#[tokio::test]
async fn radtest_mschap_with_the_right_password_is_accepted() {
    let server = start_server(true).await;
    let output = radtest("mschap", "alice", "secret1", server.address).await;
    assert!(output.contains("Received Access-Accept"), "{output}");
    server.stop().await;
}

#[tokio::test]
async fn radclient_pap_without_message_authenticator_is_accepted_when_not_required() {
    let server = start_server(false).await;
    let output = radclient(
        "auth",
        "User-Name = \"alice\", User-Password = \"secret1\"\n",
        server.address,
    )
    .await;
    assert!(output.contains("Received Access-Accept"), "{output}");
    server.stop().await;
}

#[tokio::test]
async fn radclient_chap_without_message_authenticator_is_accepted_when_not_required() {
    let server = start_server(false).await;
    let output = radclient(
        "auth",
        "User-Name = \"alice\", CHAP-Password = \"secret1\"\n",
        server.address,
    )
    .await;
    assert!(output.contains("Received Access-Accept"), "{output}");
    server.stop().await;
}

#[tokio::test]
async fn radclient_pap_without_message_authenticator_gets_no_reply_when_required() {
    let server = start_server(true).await;
    let output = radclient(
        "auth",
        "User-Name = \"alice\", User-Password = \"secret1\"\n",
        server.address,
    )
    .await;
    assert!(!output.contains("Received Access-"), "{output}");
    assert!(
        server
            .stats
            .snapshot()
            .dropped_missing_message_authenticator
            >= 1
    );
    server.stop().await;
}

#[tokio::test]
async fn radclient_chap_with_message_authenticator_is_accepted_when_required() {
    let server = start_server(true).await;
    let output = radclient(
        "auth",
        "User-Name = \"alice\", CHAP-Password = \"secret1\", Message-Authenticator = 0x00\n",
        server.address,
    )
    .await;
    assert!(output.contains("Received Access-Accept"), "{output}");
    server.stop().await;
}

#[tokio::test]
async fn radclient_accounting_start_is_acknowledged() {
    let server = start_server(true).await;
    let output = radclient(
        "acct",
        "User-Name = \"alice\", Acct-Status-Type = Start, Acct-Session-Id = \"81a00002\"\n",
        server.address,
    )
    .await;
    assert!(output.contains("Received Accounting-Response"), "{output}");
    server.stop().await;
}

#[tokio::test]
async fn radclient_status_server_is_answered() {
    let server = start_server(true).await;
    let output = radclient("status", "Message-Authenticator = 0x00\n", server.address).await;
    assert!(output.contains("Received Access-Accept"), "{output}");
    server.stop().await;
}
