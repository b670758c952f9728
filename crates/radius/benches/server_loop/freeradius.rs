//! FreeRADIUS 3.2 as the benchmark's baseline: the installed configuration copied to a
//! temporary directory, a users file with the benchmark user, auth on a free loopback port,
//! and `freeradius -f` (threaded, no debug output) run until dropped.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const FREERADIUS: &str = "/usr/sbin/freeradius";
const CONFIG: &str = "/etc/freeradius/3.0";

/// A running FreeRADIUS, killed when dropped.
pub struct FreeRadius {
    child: Child,
    /// Its auth address.
    pub auth: SocketAddr,
    dir: PathBuf,
}

impl FreeRadius {
    /// Starts FreeRADIUS answering `user` with `password`, or says why it cannot.
    pub fn start(user: &str, password: &str) -> Result<FreeRadius, String> {
        if !Path::new(FREERADIUS).exists() {
            return Err("FreeRADIUS is not installed (Debian package freeradius)".into());
        }
        let dir = std::env::temp_dir().join(format!("radius-bench-{}", std::process::id()));
        let raddb = dir.join("raddb");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("log")).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(dir.join("run")).map_err(|e| e.to_string())?;
        run(Command::new("cp").arg("-a").arg(CONFIG).arg(&raddb))?;
        let ports = free_ports()?;
        let conf = raddb.join("radiusd.conf");
        let text = std::fs::read_to_string(&conf).map_err(|e| e.to_string())?;
        let text = text
            .replace(
                "raddbdir = /etc/freeradius/3.0",
                &format!("raddbdir = {}", raddb.display()),
            )
            .replace(
                "logdir = /var/log/freeradius",
                &format!("logdir = {}", dir.join("log").display()),
            )
            .replace(
                "run_dir = ${localstatedir}/run/${name}",
                &format!("run_dir = {}", dir.join("run").display()),
            );
        std::fs::write(&conf, text).map_err(|e| e.to_string())?;
        let sites = raddb.join("sites-enabled");
        let available = raddb.join("sites-available");
        rewrite_site(
            &sites.join("default"),
            &available.join("default"),
            ports[0],
            ports[1],
        )?;
        rewrite_site(
            &sites.join("inner-tunnel"),
            &available.join("inner-tunnel"),
            ports[2],
            ports[2],
        )?;
        let users =
            format!("{user}\tCleartext-Password := \"{password}\"\n\tSession-Timeout = 3600\n");
        std::fs::write(raddb.join("mods-config/files/authorize"), users)
            .map_err(|e| e.to_string())?;
        run(Command::new("chown")
            .arg("-R")
            .arg("freerad:freerad")
            .arg(&dir))?;
        let child = Command::new(FREERADIUS)
            .arg("-f")
            .arg("-d")
            .arg(&raddb)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("freeradius: {e}"))?;
        Ok(FreeRadius {
            child,
            auth: SocketAddr::from(([127, 0, 0, 1], ports[0])),
            dir,
        })
    }
}

impl Drop for FreeRadius {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        other => Err(format!("{command:?}: {other:?}")),
    }
}

fn free_ports() -> Result<[u16; 3], String> {
    let sockets = (0..3)
        .map(|_| UdpSocket::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let mut ports = [0u16; 3];
    for (slot, socket) in ports.iter_mut().zip(&sockets) {
        *slot = socket.local_addr().map_err(|e| e.to_string())?.port();
    }
    Ok(ports)
}

/// Rewrites a site's `listen` blocks: IPv6 ones removed, the others bound to 127.0.0.1 on
/// `auth` or `acct` by their type.
fn rewrite_site(site: &Path, source: &Path, auth: u16, acct: u16) -> Result<(), String> {
    let text = std::fs::read_to_string(source).map_err(|e| e.to_string())?;
    let mut out = String::new();
    let mut block: Vec<&str> = Vec::new();
    let mut depth = 0i64;
    for line in text.lines() {
        let code = line.split('#').next().unwrap_or_default();
        let opens =
            block.is_empty() && code.trim_start().starts_with("listen") && code.contains('{');
        if block.is_empty() && !opens {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        block.push(line);
        depth += code.matches('{').count() as i64 - code.matches('}').count() as i64;
        if depth == 0 {
            let setting = |line: &str, key: &str| {
                let code = line.split('#').next().unwrap_or_default().trim();
                code.strip_prefix(key)
                    .map(|rest| rest.trim_start_matches([' ', '\t', '=']).trim().to_owned())
            };
            if !block.iter().any(|l| setting(l, "ipv6addr").is_some()) {
                let kind = block
                    .iter()
                    .find_map(|l| setting(l, "type"))
                    .unwrap_or_default();
                let port = if kind == "acct" { acct } else { auth };
                for line in &block {
                    if setting(line, "port").is_some() {
                        out.push_str(&format!("\tport = {port}\n"));
                    } else if setting(line, "ipaddr").is_some() {
                        out.push_str("\tipaddr = 127.0.0.1\n");
                    } else {
                        out.push_str(line);
                        out.push('\n');
                    }
                }
            }
            block.clear();
        }
    }
    let _ = std::fs::remove_file(site);
    std::fs::write(site, out).map_err(|e| e.to_string())
}
