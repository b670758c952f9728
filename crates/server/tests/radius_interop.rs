//! `lastmile radius test` against a real FreeRADIUS 3.2: each authentication method is
//! accepted with the right password and rejected with a wrong one, reply attributes decode by
//! name, accounting is acknowledged, and CoA and Disconnect to FreeRADIUS's `coa` site are
//! ACKed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

mod support_radius;

use support_radius::{FreeRadius, Run, SECRET, lastmile};

const USERS: &str = "\
alice\tCleartext-Password := \"secret1\"
\tMikrotik-Rate-Limit = \"10M/50M\",
\tSession-Timeout = 3600
";

fn start() -> FreeRadius {
    FreeRadius::start(USERS)
}

fn auth(server: &FreeRadius, method: &str, password: &str) -> Run {
    let address = server.auth.to_string();
    lastmile(&[
        "radius",
        "test",
        "auth",
        "--server",
        &address,
        "--secret",
        SECRET,
        "--user",
        "alice",
        "--password",
        password,
        "--method",
        method,
        "--timeout",
        "2",
    ])
}

fn assert_accepted(run: &Run, server: &FreeRadius) {
    assert_eq!(
        run.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}\nFreeRADIUS:\n{}",
        run.stdout,
        run.stderr,
        server.log()
    );
    assert!(
        run.stdout.contains("Received Access-Accept"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Mikrotik-Rate-Limit = \"10M/50M\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Session-Timeout = 3600"),
        "{}",
        run.stdout
    );
}

fn assert_rejected(run: &Run, server: &FreeRadius) {
    assert_eq!(
        run.code,
        Some(1),
        "stdout:\n{}\nstderr:\n{}\nFreeRADIUS:\n{}",
        run.stdout,
        run.stderr,
        server.log()
    );
    assert!(
        run.stdout.contains("Received Access-Reject"),
        "{}",
        run.stdout
    );
}

#[test]
fn pap_with_the_right_password_is_accepted_with_its_reply_attributes() {
    let server = start();
    assert_accepted(&auth(&server, "pap", "secret1"), &server);
}

#[test]
fn pap_with_a_wrong_password_is_rejected() {
    let server = start();
    assert_rejected(&auth(&server, "pap", "wrong"), &server);
}

#[test]
fn chap_with_the_right_password_is_accepted() {
    let server = start();
    assert_accepted(&auth(&server, "chap", "secret1"), &server);
}

#[test]
fn chap_with_a_wrong_password_is_rejected() {
    let server = start();
    assert_rejected(&auth(&server, "chap", "wrong"), &server);
}

#[test]
fn mschapv1_with_the_right_password_is_accepted() {
    let server = start();
    let run = auth(&server, "mschapv1", "secret1");
    assert_accepted(&run, &server);
    assert!(
        run.stdout.contains("MS-CHAP-MPPE-Keys = 0x"),
        "{}",
        run.stdout
    );
}

#[test]
fn mschapv1_with_a_wrong_password_is_rejected() {
    let server = start();
    assert_rejected(&auth(&server, "mschapv1", "wrong"), &server);
}

#[test]
fn mschapv2_with_the_right_password_is_accepted_and_its_success_verified() {
    let server = start();
    let run = auth(&server, "mschapv2", "secret1");
    assert_accepted(&run, &server);
    assert!(
        run.stdout.contains("MS-CHAP2-Success = 0x"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("MS-MPPE-Send-Key = 0x"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("MS-MPPE-Recv-Key = 0x"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("MS-CHAP2-Success verified"),
        "{}",
        run.stdout
    );
}

#[test]
fn mschapv2_with_a_wrong_password_is_rejected_with_an_ms_chap_error() {
    let server = start();
    let run = auth(&server, "mschapv2", "wrong");
    assert_rejected(&run, &server);
    assert!(run.stdout.contains("MS-CHAP-Error = \""), "{}", run.stdout);
}

#[test]
fn a_wrong_secret_gets_no_reply_and_exit_code_2() {
    let server = start();
    let address = server.auth.to_string();
    let run = lastmile(&[
        "radius",
        "test",
        "auth",
        "--server",
        &address,
        "--secret",
        "not-the-secret",
        "--user",
        "alice",
        "--password",
        "secret1",
        "--timeout",
        "0.5",
        "--retries",
        "1",
    ]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("no valid reply"), "{run:?}");
}

#[test]
fn accounting_start_interim_and_stop_are_acknowledged() {
    let server = start();
    let address = server.acct.to_string();
    for (status, extra) in [
        ("start", None),
        ("interim", Some("Acct-Output-Gigawords=1")),
        ("stop", Some("Acct-Terminate-Cause=User-Request")),
    ] {
        let mut args = vec![
            "radius",
            "test",
            "acct",
            "--server",
            &address,
            "--secret",
            SECRET,
            "--status",
            status,
            "--session-id",
            "81a00002",
            "--user",
            "alice",
            "--attr",
            "Acct-Session-Time=600",
            "--attr",
            "NAS-IP-Address=127.0.0.1",
        ];
        if let Some(extra) = extra {
            args.extend(["--attr", extra]);
        }
        let run = lastmile(&args);
        assert_eq!(
            run.code,
            Some(0),
            "{status}: {run:?}\nFreeRADIUS:\n{}",
            server.log()
        );
        assert!(
            run.stdout.contains("Received Accounting-Response"),
            "{run:?}"
        );
    }
}

#[test]
fn coa_to_the_coa_site_is_acked() {
    let server = start();
    let address = server.coa.to_string();
    let run = lastmile(&[
        "radius",
        "test",
        "coa",
        "--server",
        &address,
        "--secret",
        SECRET,
        "--attr",
        "User-Name=alice",
        "--attr",
        "Mikrotik-Rate-Limit=20M/20M",
    ]);
    assert_eq!(run.code, Some(0), "{run:?}\nFreeRADIUS:\n{}", server.log());
    assert!(run.stdout.contains("Received CoA-ACK"), "{run:?}");
}

#[test]
fn disconnect_to_the_coa_site_is_acked() {
    let server = start();
    let address = server.coa.to_string();
    let run = lastmile(&[
        "radius",
        "test",
        "disconnect",
        "--server",
        &address,
        "--secret",
        SECRET,
        "--attr",
        "User-Name=alice",
        "--attr",
        "Acct-Session-Id=81a00002",
    ]);
    assert_eq!(run.code, Some(0), "{run:?}\nFreeRADIUS:\n{}", server.log());
    assert!(run.stdout.contains("Received Disconnect-ACK"), "{run:?}");
}
