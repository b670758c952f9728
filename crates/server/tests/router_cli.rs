//! `lastmile sim-router` and `lastmile router check` as processes: the check reads what the
//! simulated router serves over TCP and TLS, reports failures with a reason and a failing
//! exit code, and a `--state` file survives a restart.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use routeros::menu::{self, Props};
use routeros::{Client, ClientConfig, Query};

const BIN: &str = env!("CARGO_BIN_EXE_lastmile");

/// A running `lastmile sim-router`, killed when dropped.
struct SimProcess {
    child: Child,
    api: String,
    /// The API-SSL address and, when it has a certificate, its fingerprint.
    api_ssl: Option<(String, Option<String>)>,
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sim_router(extra: &[&str]) -> SimProcess {
    let mut child = Command::new(BIN)
        .args([
            "sim-router",
            "--listen",
            "127.0.0.1:0",
            "--user",
            "api",
            "--password",
            "pw-123456",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut api = None;
    let mut api_ssl = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["api", address] => api = Some((*address).to_owned()),
            ["api-ssl", address, "fingerprint", fingerprint] => {
                api_ssl = Some(((*address).to_owned(), Some((*fingerprint).to_owned())));
            }
            ["api-ssl", address, ..] => api_ssl = Some(((*address).to_owned(), None)),
            ["ready"] => break,
            _ => {}
        }
    }
    SimProcess {
        child,
        api: api.expect("sim-router printed its address"),
        api_ssl,
    }
}

fn check(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["router", "check"])
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn router_check_prints_what_the_simulated_router_serves() {
    let sim = sim_router(&["--identity", "7--acme--hq--10.0.0.1"]);
    let output = check(&[&sim.api, "--user", "api", "--password", "pw-123456"]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        stdout.contains("identity: 7--acme--hq--10.0.0.1"),
        "{stdout}"
    );
    assert!(stdout.contains("version: 7."), "{stdout}");
    assert!(stdout.contains("board: CHR"), "{stdout}");
    assert!(stdout.contains("uptime: "), "{stdout}");
    assert!(stdout.contains("api user group: full"), "{stdout}");
}

#[test]
fn router_check_over_tls_trusts_the_pinned_fingerprint() {
    let sim = sim_router(&["--tls-listen", "127.0.0.1:0", "--group", "write"]);
    let (address, fingerprint) = sim.api_ssl.clone().unwrap();
    let fingerprint = fingerprint.unwrap();
    let output = check(&[
        &address,
        "--user",
        "api",
        "--password",
        "pw-123456",
        "--tls",
        "--fingerprint",
        &fingerprint,
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("api user group: write"));
    assert!(
        text(&output.stdout).contains(&format!("certificate fingerprint: {fingerprint}")),
        "{}",
        text(&output.stdout)
    );
    // Not pinned yet: the check names the certificate the router presents, to pin it on
    // first contact.
    let output = check(&[
        &address,
        "--user",
        "api",
        "--password",
        "pw-123456",
        "--tls",
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains(&format!("presents certificate fingerprint {fingerprint}")),
        "{}",
        text(&output.stderr)
    );
    let wrong = "ab".repeat(32);
    let output = check(&[
        &address,
        "--user",
        "api",
        "--password",
        "pw-123456",
        "--tls",
        "--fingerprint",
        &wrong,
    ]);
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("not the pinned"),
        "{}",
        text(&output.stderr)
    );
    assert!(
        text(&output.stderr).contains(&format!("presents certificate fingerprint {fingerprint}")),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn router_check_explains_a_router_whose_api_ssl_has_no_certificate() {
    let sim = sim_router(&["--tls-listen", "127.0.0.1:0", "--tls-without-certificate"]);
    let (address, fingerprint) = sim.api_ssl.clone().unwrap();
    assert_eq!(fingerprint, None);
    let output = check(&[
        &address,
        "--user",
        "api",
        "--password",
        "pw-123456",
        "--tls",
        "--insecure-accept-any-certificate",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("Install a certificate on the router"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn a_wrong_password_gives_a_reason_and_a_failing_exit_code() {
    let sim = sim_router(&[]);
    let output = check(&[&sim.api, "--user", "api", "--password", "wrong"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("login refused: invalid user name or password"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn a_router_that_is_not_there_gives_a_reason_and_a_failing_exit_code() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    drop(listener);
    let output = check(&[&address, "--user", "api", "--password", "pw"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("cannot connect"),
        "{}",
        text(&output.stderr)
    );
}

fn wait_for_file_containing(path: &Path, needle: &str) {
    for _ in 0..200 {
        if std::fs::read_to_string(path).is_ok_and(|text| text.contains(needle)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{} never contained {needle}", path.display());
}

#[test]
fn the_state_file_keeps_the_configuration_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("router.json");
    let state_arg = state.to_str().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    {
        let sim = sim_router(&["--state", state_arg]);
        runtime.block_on(async {
            let client = Client::connect(&ClientConfig::new(&sim.api, "api", "pw-123456"))
                .await
                .unwrap();
            let props = Props::new()
                .with("name", "rehearsed")
                .with("profile", "default");
            menu::PPP_SECRETS.add(&client, &props).await.unwrap();
        });
        wait_for_file_containing(&state, "rehearsed");
    }
    let sim = sim_router(&["--state", state_arg]);
    runtime.block_on(async {
        let client = Client::connect(&ClientConfig::new(&sim.api, "api", "pw-123456"))
            .await
            .unwrap();
        let secrets = menu::PPP_SECRETS
            .print(&client, &Query::new())
            .await
            .unwrap();
        assert_eq!(
            secrets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["rehearsed"]
        );
    });
}
