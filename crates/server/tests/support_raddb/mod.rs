//! What the two FreeRADIUS harnesses share: moving a copied site's listeners to the test's
//! loopback ports, running commands that must succeed, and running the `lastmile` binary.
//! Included by `support_radius` and `support_freeradius`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::path::Path;
use std::process::Command;

/// Runs `command`, which must succeed.
pub fn run(command: &mut Command) {
    let status = command.status().unwrap();
    assert!(status.success(), "{command:?} failed: {status}");
}

/// Writes `site` as a regular file made from `source`, with every IPv6 listener removed and
/// every other one bound to 127.0.0.1 on `port_for(type)`; a port of 0 drops the listener.
pub fn replace_listens(site: &Path, source: &Path, port_for: &dyn Fn(&str) -> u16) {
    let text = std::fs::read_to_string(source).unwrap();
    let mut out = String::new();
    let mut block: Option<Vec<String>> = None;
    let mut depth = 0i32;
    for line in text.lines() {
        let code = line.split('#').next().unwrap_or_default();
        if block.is_none() && code.trim_start().starts_with("listen") && code.contains('{') {
            block = Some(Vec::new());
            depth = 0;
        }
        match block.as_mut() {
            Some(lines) => {
                lines.push(line.to_owned());
                depth += code.matches('{').count() as i32 - code.matches('}').count() as i32;
                if depth == 0 {
                    let lines = block.take().unwrap();
                    out.push_str(&rewrite_listen(&lines, port_for));
                }
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    let _ = std::fs::remove_file(site);
    std::fs::write(site, out).unwrap();
}

fn rewrite_listen(lines: &[String], port_for: &dyn Fn(&str) -> u16) -> String {
    let setting = |line: &str, key: &str| {
        let code = line.split('#').next().unwrap_or_default().trim();
        code.strip_prefix(key)
            .map(|rest| rest.trim_start().trim_start_matches('=').trim().to_owned())
    };
    if lines.iter().any(|l| setting(l, "ipv6addr").is_some()) {
        return String::new();
    }
    let kind = lines
        .iter()
        .find_map(|l| setting(l, "type"))
        .unwrap_or_default();
    let port = port_for(&kind);
    if port == 0 {
        return String::new();
    }
    let mut out = String::new();
    for line in lines {
        if setting(line, "port").is_some() {
            out.push_str(&format!("\tport = {port}\n"));
        } else if setting(line, "ipaddr").is_some() {
            out.push_str("\tipaddr = 127.0.0.1\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// What a run of the `lastmile` binary printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `lastmile` with these arguments (`as_user`: under that account, through setpriv).
pub fn lastmile_as(as_user: Option<&str>, args: &[&str]) -> Run {
    let binary = env!("CARGO_BIN_EXE_lastmile");
    // Another user may not reach the build directory (under root's home in CI): it runs a
    // copy of the binary.
    let copy = tempfile::tempdir().unwrap();
    let mut command = match as_user {
        Some(user) => {
            let copied = copy.path().join("lastmile");
            std::fs::copy(binary, &copied).unwrap();
            run(Command::new("chmod").arg("755").arg(copy.path()));
            let mut c = Command::new("setpriv");
            c.arg(format!("--reuid={user}"))
                .arg(format!("--regid={user}"))
                .arg("--init-groups")
                .arg(copied)
                .current_dir(copy.path());
            c
        }
        None => Command::new(binary),
    };
    let output = command.args(args).output().expect("lastmile runs");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `lastmile` with these arguments.
pub fn lastmile(args: &[&str]) -> Run {
    lastmile_as(None, args)
}
