//! A real FreeRADIUS 3.2 (Debian's `freeradius` package) for interop tests: the installed
//! configuration copied to a temporary directory, a `users` file written for the test, free
//! loopback ports for auth, accounting, the inner tunnel and the `coa` site, and
//! `freeradius -X` run as a child process until the test ends. Plus a runner for the
//! `lastmile` binary.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[path = "../support_raddb/mod.rs"]
mod raddb;

pub use raddb::{Run, lastmile};
use raddb::{replace_listens, run};

pub const SECRET: &str = "testing123";
const FREERADIUS: &str = "/usr/sbin/freeradius";
const CONFIG: &str = "/etc/freeradius/3.0";

/// A running FreeRADIUS, killed when dropped.
pub struct FreeRadius {
    child: Child,
    pub auth: SocketAddr,
    pub acct: SocketAddr,
    pub coa: SocketAddr,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl FreeRadius {
    /// Starts FreeRADIUS with `users` as its users file (mods-config/files/authorize).
    pub fn start(users: &str) -> FreeRadius {
        assert!(
            Path::new(FREERADIUS).exists() && Path::new(CONFIG).exists(),
            "FreeRADIUS is missing: install the Debian package freeradius (3.2)"
        );
        let dir = tempfile::tempdir().unwrap();
        let raddb = dir.path().join("raddb");
        run(Command::new("cp").arg("-a").arg(CONFIG).arg(&raddb));
        for sub in ["log", "run"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let [auth, acct, coa, inner] = free_ports();
        rewrite(&raddb.join("radiusd.conf"), |text| {
            text.replace(
                "raddbdir = /etc/freeradius/3.0",
                &format!("raddbdir = {}", raddb.display()),
            )
            .replace(
                "logdir = /var/log/freeradius",
                &format!("logdir = {}", dir.path().join("log").display()),
            )
            .replace(
                "run_dir = ${localstatedir}/run/${name}",
                &format!("run_dir = {}", dir.path().join("run").display()),
            )
        });
        let sites = raddb.join("sites-enabled");
        let available = raddb.join("sites-available");
        let ports = |kind: &str| match kind {
            "auth" => auth,
            "acct" => acct,
            "coa" => coa,
            _ => 0,
        };
        replace_listens(&sites.join("default"), &available.join("default"), &ports);
        replace_listens(
            &sites.join("inner-tunnel"),
            &available.join("inner-tunnel"),
            &|_| inner,
        );
        replace_listens(&sites.join("coa"), &available.join("coa"), &ports);
        std::fs::write(raddb.join("mods-config/files/authorize"), users).unwrap();
        run(Command::new("chown")
            .arg("-R")
            .arg("freerad:freerad")
            .arg(dir.path()));

        let mut child = Command::new(FREERADIUS)
            .arg("-X")
            .arg("-d")
            .arg(&raddb)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("freeradius starts");
        let log = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = Arc::clone(&log);
            let ready_tx = ready_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if line.contains("Ready to process requests") {
                        let _ = ready_tx.send(());
                    }
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let loopback = |port| SocketAddr::from(([127, 0, 0, 1], port));
        let mut server = FreeRadius {
            child,
            auth: loopback(auth),
            acct: loopback(acct),
            coa: loopback(coa),
            log,
            _dir: dir,
        };
        if ready_rx.recv_timeout(Duration::from_secs(60)).is_err() {
            let status = server.child.try_wait().ok().flatten();
            panic!(
                "FreeRADIUS did not become ready (exit: {status:?}):\n{}",
                server.log()
            );
        }
        server
    }

    /// Everything FreeRADIUS has printed so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for FreeRadius {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Four distinct free UDP ports on loopback (held open together while chosen).
fn free_ports() -> [u16; 4] {
    let sockets: Vec<UdpSocket> = (0..4)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    let ports: Vec<u16> = sockets
        .iter()
        .map(|s| s.local_addr().unwrap().port())
        .collect();
    [ports[0], ports[1], ports[2], ports[3]]
}

fn rewrite(path: &Path, edit: impl FnOnce(&str) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    let edited = edit(&text);
    assert_ne!(text, edited, "{} was not changed", path.display());
    std::fs::write(path, edited).unwrap();
}
