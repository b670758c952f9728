//! The NAS side: `radclient` and `radtest` sending from 127.0.0.1 to the test's FreeRADIUS
//! or to lastmile's own server ([`Nas`]), and what they received.

use std::io::Write as _;
use std::process::{Command, Stdio};

use super::{FreeRadius, RADCLIENT, RADTEST, require};

impl FreeRadius {
    /// Sends an Access-Request from 127.0.0.1 with `secret` and these attributes (PAP when
    /// `User-Password` is among them; a Message-Authenticator is always added).
    pub fn auth(&self, secret: &str, attrs: &[(&str, &str)]) -> Reply {
        Nas.auth_at(self.auth_port, secret, attrs)
    }

    /// PAP Access-Request for `user` with `password`.
    pub fn login(&self, secret: &str, user: &str, password: &str) -> Reply {
        self.auth(secret, &[("User-Name", user), ("User-Password", password)])
    }

    /// Sends an Accounting-Request from 127.0.0.1.
    pub fn acct(&self, secret: &str, attrs: &[(&str, &str)]) -> Reply {
        Nas.acct_at(self.acct_port, secret, attrs)
    }

    /// `radtest -t pap USER PASSWORD 127.0.0.1:PORT 0 SECRET`.
    pub fn radtest(&self, secret: &str, user: &str, password: &str) -> Reply {
        Nas.radtest_at(self.auth_port, "pap", secret, user, password)
    }

    /// Panics with the exchange and FreeRADIUS's log unless `reply` is `code`.
    pub fn expect(&self, reply: &Reply, code: &str, what: &str) {
        assert_eq!(
            reply.code.as_deref(),
            Some(code),
            "{what}:\n{}\n--- FreeRADIUS:\n{}",
            reply.raw,
            self.tail()
        );
    }
}

/// Sends with `radclient` to a server on 127.0.0.1.
fn radclient(port: u16, kind: &str, secret: &str, attrs: &[(&str, &str)]) -> Reply {
    let input: String = attrs
        .iter()
        .map(|(name, value)| {
            if value.starts_with("0x") || value.parse::<u64>().is_ok() || *name == "NAS-IP-Address"
            {
                format!("{name} = {value}\n")
            } else {
                format!("{name} = \"{value}\"\n")
            }
        })
        .collect();
    let mut child = Command::new(RADCLIENT)
        .args(["-x", "-r", "1", "-t", "2"])
        .arg(format!("127.0.0.1:{port}"))
        .arg(kind)
        .arg(secret)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("radclient runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    Reply::parse(
        &String::from_utf8_lossy(&output.stdout),
        &String::from_utf8_lossy(&output.stderr),
    )
}

/// `radclient` and `radtest` as a NAS on 127.0.0.1, for a server that is not the test's
/// FreeRADIUS (lastmile's own).
pub struct Nas;

impl Nas {
    /// An Access-Request with `secret` and these attributes, NAS-IP-Address and a
    /// Message-Authenticator added.
    pub fn auth_at(&self, port: u16, secret: &str, attrs: &[(&str, &str)]) -> Reply {
        let mut all = attrs.to_vec();
        all.push(("NAS-IP-Address", "127.0.0.1"));
        all.push(("Message-Authenticator", "0x00"));
        radclient(port, "auth", secret, &all)
    }

    /// An Accounting-Request with `secret` and these attributes, NAS-IP-Address added.
    pub fn acct_at(&self, port: u16, secret: &str, attrs: &[(&str, &str)]) -> Reply {
        let mut all = attrs.to_vec();
        all.push(("NAS-IP-Address", "127.0.0.1"));
        radclient(port, "acct", secret, &all)
    }

    /// A Status-Server (RFC 5997) with a Message-Authenticator.
    pub fn status_at(&self, port: u16, secret: &str) -> Reply {
        radclient(port, "status", secret, &[("Message-Authenticator", "0x00")])
    }

    /// The same without a Message-Authenticator.
    pub fn bare_at(&self, port: u16, secret: &str, attrs: &[(&str, &str)]) -> Reply {
        let mut all = attrs.to_vec();
        all.push(("NAS-IP-Address", "127.0.0.1"));
        radclient(port, "auth", secret, &all)
    }

    /// `radtest -t METHOD USER PASSWORD 127.0.0.1:PORT 0 SECRET` (`pap`, `chap`, `mschap`).
    pub fn radtest_at(
        &self,
        port: u16,
        method: &str,
        secret: &str,
        user: &str,
        password: &str,
    ) -> Reply {
        require(RADTEST, "freeradius-utils");
        let output = Command::new(RADTEST)
            .args(["-t", method, user, password])
            .arg(format!("127.0.0.1:{port}"))
            .args(["0", secret])
            .output()
            .expect("radtest runs");
        Reply::parse(
            &String::from_utf8_lossy(&output.stdout),
            &String::from_utf8_lossy(&output.stderr),
        )
    }

    /// Panics with the exchange unless `reply` is `code`.
    pub fn expect(&self, reply: &Reply, code: &str, what: &str) {
        assert_eq!(reply.code.as_deref(), Some(code), "{what}:\n{}", reply.raw);
    }
}

/// What radclient received.
#[derive(Debug, Clone)]
pub struct Reply {
    /// `Access-Accept`, `Access-Reject`, `Accounting-Response`; `None` without a reply.
    pub code: Option<String>,
    /// The reply's attributes, string values unquoted.
    pub attrs: Vec<(String, String)>,
    /// What radclient printed.
    pub raw: String,
}

impl Reply {
    fn parse(stdout: &str, stderr: &str) -> Reply {
        let mut code = None;
        let mut attrs = Vec::new();
        let mut in_reply = false;
        for line in stdout.lines() {
            if let Some(rest) = line.strip_prefix("Received ") {
                code = rest.split_whitespace().next().map(str::to_owned);
                in_reply = true;
            } else if line.starts_with("Sent ") {
                in_reply = false;
            } else if in_reply && let Some((name, value)) = line.trim().split_once(" = ") {
                attrs.push((name.to_owned(), value.trim_matches('"').to_owned()));
            }
        }
        Reply {
            code,
            attrs,
            raw: format!("{stdout}{stderr}"),
        }
    }

    /// The value of `name` in the reply.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}
