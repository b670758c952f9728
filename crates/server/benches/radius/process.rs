//! What the benchmark reads of the processes it measures, from `/proc` and `pgrep`: CPU
//! time, resident memory, the kernel's dropped datagrams, which processes are PostgreSQL's
//! and which FreeRADIUS was started last.

use std::process::Command;

/// The newest `freeradius` process: the one just started.
pub fn newest_freeradius() -> u32 {
    let output = Command::new("pgrep")
        .args(["-n", "-x", "freeradius"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// User plus system CPU seconds of these processes so far.
pub fn cpu_seconds(pids: &[u32]) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            // Fields after the command name (which may hold spaces) closed by ')'.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user + system) / ticks)
        })
        .sum()
}

/// Datagrams this machine's kernel dropped so far for a full socket receive buffer
/// (`RcvbufErrors` in `/proc/net/snmp`).
pub fn udp_receive_errors() -> u64 {
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let (Some(names), Some(values)) = (udp.next(), udp.next()) else {
        return 0;
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(name, _)| *name == "RcvbufErrors")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0)
}

/// Every PostgreSQL server process.
pub fn postgres_pids() -> Vec<u32> {
    let output = Command::new("pgrep").args(["-x", "postgres"]).output();
    output
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// A process's resident memory: its own (anonymous: the state, the caches it allocates)
/// and the file pages mapped in (on SQLite, the database file's pages SQLite reads through
/// its memory map, which the kernel may drop and read again).
pub fn resident(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let mib = |field: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kib| kib / 1024)
    };
    format!(
        "{} MiB (own {} MiB, mapped files {} MiB; peak {} MiB)",
        mib("VmRSS:"),
        mib("RssAnon:"),
        mib("RssFile:"),
        mib("VmHWM:")
    )
}
