//! Configuration: `lastmile.toml` (every key optional) plus `LASTMILE_*` environment
//! overrides, then command-line flags. Unknown keys in the file are errors; every key has a
//! default that works on a laptop. Secrets (the keyring, the database password) never show
//! in `Debug` or in logs.
//!
//! An environment variable names a key by its path in upper case: `listen` is
//! `LASTMILE_LISTEN`, `security.session_idle_minutes` is
//! `LASTMILE_SECURITY_SESSION_IDLE_MINUTES`.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The HTTP listen address.
    pub listen: SocketAddr,
    /// Where lastmile keeps its SQLite database and its keyring.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; empty means `lastmile.db` in the data directory.
    pub database_url: String,
    /// Pooled database connections.
    pub database_max_connections: u32,
    /// The address users reach lastmile at (for links); empty means `http://<listen>`.
    pub public_url: String,
    /// Log filter (`info`, `lastmile=debug,warn`).
    pub log: String,
    /// `text`, or `json`: one JSON object a line, for a log collector.
    pub log_format: LogFormat,
    /// Sign-in and session settings.
    pub security: Security,
    /// Background jobs.
    pub jobs: Jobs,
    /// Rules about customers that hold on the whole installation.
    pub customers: Customers,
    /// The built-in RADIUS server.
    pub radius: Radius,
    /// Scheduled backups.
    pub backup: Backup,
}

/// Scheduled backups (`crate::backup`): a copy every `every_hours` into `dir`, the newest
/// `keep` kept. Off while `dir` is empty.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Backup {
    /// Where the copies go; empty: no scheduled backups.
    pub dir: String,
    /// How many copies are kept (at least one).
    pub keep: u32,
    /// Hours between copies.
    pub every_hours: u32,
}

impl Default for Backup {
    fn default() -> Self {
        Self {
            dir: String::new(),
            keep: 7,
            every_hours: 24,
        }
    }
}

/// How `serve` writes its log.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

/// Sign-in and session settings.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Security {
    /// A panel session ends after this many minutes without a request.
    pub session_idle_minutes: u32,
    /// A panel session ends this many hours after sign-in, used or not.
    pub session_max_hours: u32,
    /// API tokens live this many days.
    pub token_days: u32,
    /// Argon2id memory cost, KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id iterations.
    pub argon2_iterations: u32,
    /// Password hashes computed at once; 0 means half the CPU cores (at least one).
    pub max_concurrent_hashes: u32,
    /// Sign-ins waiting for a hashing slot beyond which new ones are turned away (503).
    pub max_queued_hashes: u32,
    /// Wrong sign-ins per minute allowed per account and per address; the next is refused.
    pub sign_in_failures_per_minute: u32,
    /// Refused payment notices, callbacks and return pages per minute allowed per address;
    /// past it the address is answered 429 unread for the rest of the minute.
    pub hook_refusals_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// The keyring that seals secrets at rest (`id:base64key` entries separated by `;` or
    /// new lines); empty means the file `secret.key` in the data directory.
    pub secret_keys: String,
}

/// Rules about customers that hold on the whole installation.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Customers {
    /// Days a user name freed by a rename or a deletion rests before another customer may
    /// take it (accounting and logs then never mix two subscribers); 0 frees it at once.
    pub name_rest_days: u32,
}

impl Default for Customers {
    fn default() -> Self {
        Self {
            name_rest_days: u32::try_from(store::db::NAME_REST_DAYS).unwrap_or(90),
        }
    }
}

/// The built-in RADIUS server (design.md §4, built-in mode).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Radius {
    /// Answer RADIUS from lastmile itself. Off when a FreeRADIUS serves lastmile's tables
    /// instead (it holds the ports then).
    pub enabled: bool,
    /// Where Access-Requests arrive. The default takes requests from this machine only:
    /// routers reach it on an address of the network they share (`0.0.0.0:1812`, or the
    /// address of the interface they talk to).
    pub auth_listen: SocketAddr,
    /// Where Accounting-Requests arrive.
    pub acct_listen: SocketAddr,
    /// The Interim-Update interval routers are asked for (Acct-Interim-Interval), seconds;
    /// 0 leaves it to each router. A session with no update for three intervals (at least
    /// one and two minutes) is closed as stale.
    pub interim_seconds: u32,
    /// How often stale sessions are looked for, seconds.
    pub stale_check_seconds: u32,
    /// The port routers take Disconnect and CoA requests on (RouterOS `/radius incoming`).
    pub coa_port: u16,
    /// How long a session's Stop may take to follow a Disconnect-ACK before the router's
    /// API is asked to remove it, seconds.
    pub disconnect_verify_seconds: u32,
    /// Requests (CoA, Disconnect, API removal) in flight to one router at most, per node.
    pub enforce_router_concurrency: u32,
    /// Requests started per second to one router at most, per node; 0 for no pacing.
    pub enforce_router_per_second: u32,
    /// When a router's accounting record counts as durable, so that it is acknowledged.
    /// `journal` (the default): synced to this node's journal (`accounting-journal` in the
    /// data directory), the database written behind it; on SQLite, whose own log is on
    /// this disk, it means `database`. `database`: committed to the database first, so
    /// that the record is in `radacct` by the time the router hears back.
    pub accounting_durability: AccountingDurability,
    /// Mebibytes of journal the database may be behind (an outage, a slow disk) before
    /// nothing more is acknowledged: about 8 000 records a MiB.
    pub journal_max_mib: u32,
}

/// When an accounting record counts as durable ([`Radius::accounting_durability`]).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AccountingDurability {
    /// Synced to the node's journal; the database written behind it (PostgreSQL).
    Journal,
    /// Committed to the database.
    Database,
}

impl Default for Radius {
    fn default() -> Self {
        Self {
            enabled: true,
            auth_listen: SocketAddr::from(([127, 0, 0, 1], 1812)),
            acct_listen: SocketAddr::from(([127, 0, 0, 1], 1813)),
            interim_seconds: 300,
            stale_check_seconds: 60,
            coa_port: 3799,
            disconnect_verify_seconds: 10,
            enforce_router_concurrency: 16,
            enforce_router_per_second: 200,
            accounting_durability: AccountingDurability::Journal,
            journal_max_mib: 1024,
        }
    }
}

/// Background jobs.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Jobs {
    /// Workers running jobs of any kind at once (one more takes only the express kinds,
    /// `jobs::EXPRESS`); 0 runs none on this node.
    pub workers: u32,
    /// Seconds between polls when no job is waiting.
    pub poll_seconds: u32,
    /// How often the usage watcher runs (`ops::fair_usage`), seconds: a volume cap or FUP
    /// step crossed during a session reaches it within this. 0: not queued by this node.
    pub usage_watch_seconds: u32,
    /// Whether this node queues the billing runs (`billing.run`, every five minutes): off
    /// where another node or an operator's `lastmile billing run` does them.
    pub billing_runs: bool,
    /// How often every router lastmile has API access to is checked (`router.health`),
    /// seconds. 0: not queued by this node.
    pub router_health_seconds: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("lastmile-data"),
            database_url: String::new(),
            database_max_connections: 16,
            public_url: String::new(),
            log: "info".to_owned(),
            log_format: LogFormat::Text,
            security: Security::default(),
            jobs: Jobs::default(),
            customers: Customers::default(),
            backup: Backup::default(),
            radius: Radius::default(),
        }
    }
}

impl Default for Security {
    fn default() -> Self {
        Self {
            session_idle_minutes: 30,
            session_max_hours: 12,
            token_days: 30,
            // OWASP's Argon2id baseline (19 MiB, 2 passes): tens of milliseconds per hash.
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            max_concurrent_hashes: 0,
            max_queued_hashes: 32,
            sign_in_failures_per_minute: 10,
            hook_refusals_per_minute: 30,
            trusted_proxies: Vec::new(),
            secret_keys: String::new(),
        }
    }
}

impl Default for Jobs {
    fn default() -> Self {
        Self {
            workers: 2,
            poll_seconds: 5,
            usage_watch_seconds: 60,
            billing_runs: true,
            router_health_seconds: 300,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field("database_max_connections", &self.database_max_connections)
            .field("public_url", &self.public_url)
            .field("log", &self.log)
            .field("log_format", &self.log_format)
            .field("security", &self.security)
            .field("jobs", &self.jobs)
            .field("customers", &self.customers)
            .field("backup", &self.backup)
            .field("radius", &self.radius)
            .finish()
    }
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Security")
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_max_hours", &self.session_max_hours)
            .field("token_days", &self.token_days)
            .field("argon2_memory_kib", &self.argon2_memory_kib)
            .field("argon2_iterations", &self.argon2_iterations)
            .field("max_concurrent_hashes", &self.max_concurrent_hashes)
            .field("max_queued_hashes", &self.max_queued_hashes)
            .field(
                "sign_in_failures_per_minute",
                &self.sign_in_failures_per_minute,
            )
            .field("hook_refusals_per_minute", &self.hook_refusals_per_minute)
            .field("trusted_proxies", &self.trusted_proxies)
            .field(
                "secret_keys",
                &if self.secret_keys.is_empty() {
                    ""
                } else {
                    "[redacted]"
                },
            )
            .finish()
    }
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("workers", &self.workers)
            .field("poll_seconds", &self.poll_seconds)
            .field("usage_watch_seconds", &self.usage_watch_seconds)
            .field("billing_runs", &self.billing_runs)
            .field("router_health_seconds", &self.router_health_seconds)
            .finish()
    }
}

/// A URL with its password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:[redacted]{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Why the configuration is refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file or an override is not valid.
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Loads `path` (or `lastmile.toml` in the working directory if it exists; nothing
    /// otherwise), then applies the `LASTMILE_*` variables of `env`. Returns the
    /// configuration and the names of environment variables it did not know.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Config, Vec<String>), ConfigError> {
        let text = match path {
            Some(path) => std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_owned(),
                source,
            })?,
            None => match std::fs::read_to_string("lastmile.toml") {
                Ok(text) => text,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(source) => {
                    return Err(ConfigError::Read {
                        path: "lastmile.toml".into(),
                        source,
                    });
                }
            },
        };
        Self::from_parts(&text, env)
    }

    /// Parses configuration text and applies environment overrides.
    pub fn from_parts(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Config, Vec<String>), ConfigError> {
        // Parse the file alone first, so its unknown keys are reported as its own.
        let file: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let mut table = toml::Value::try_from(DefaultsView(&file))
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let mut unknown = Vec::new();
        for (name, value) in env {
            let Some(key) = name.strip_prefix("LASTMILE_") else {
                continue;
            };
            if key == "CONFIG" {
                continue;
            }
            let applied = apply_env(&mut table, &key.to_ascii_lowercase(), &value)
                .map_err(|e| ConfigError::Invalid(format!("{name}: {e}")))?;
            if !applied {
                unknown.push(name);
            }
        }
        let config: Config = table.try_into().map_err(|e: toml::de::Error| {
            ConfigError::Invalid(format!("environment override: {e}"))
        })?;
        Ok((config, unknown))
    }

    /// The database URL: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("lastmile.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// The base URL for links.
    pub fn public_url(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.public_url.trim_end_matches('/').to_owned()
        }
    }

    /// True when users reach lastmile over HTTPS (cookies are then `Secure`).
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Sets `key` (a lower-cased env suffix) in `table` to `raw`, parsed like the value it
/// replaces. False when no key has that name.
fn apply_env(table: &mut toml::Value, key: &str, raw: &str) -> Result<bool, String> {
    let Some(map) = table.as_table_mut() else {
        return Ok(false);
    };
    for (name, value) in map.iter_mut() {
        if name == key {
            *value = parse_like(value, raw)?;
            return Ok(true);
        }
        if let Some(rest) = key
            .strip_prefix(name.as_str())
            .and_then(|r| r.strip_prefix('_'))
            && value.is_table()
            && apply_env(value, rest, raw)?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

fn parse_like(current: &toml::Value, raw: &str) -> Result<toml::Value, String> {
    Ok(match current {
        toml::Value::Integer(_) => {
            toml::Value::Integer(raw.trim().parse().map_err(|_| "expected an integer")?)
        }
        toml::Value::Boolean(_) => {
            toml::Value::Boolean(raw.trim().parse().map_err(|_| "expected true or false")?)
        }
        toml::Value::Array(_) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_owned()))
                .collect(),
        ),
        _ => toml::Value::String(raw.to_owned()),
    })
}

/// Serialises a configuration back into a TOML table (for applying overrides).
struct DefaultsView<'a>(&'a Config);

impl serde::Serialize for DefaultsView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let c = self.0;
        let mut st = s.serialize_struct("Config", 12)?;
        st.serialize_field("listen", &c.listen.to_string())?;
        st.serialize_field("data_dir", &c.data_dir.display().to_string())?;
        st.serialize_field("database_url", &c.database_url)?;
        st.serialize_field("database_max_connections", &c.database_max_connections)?;
        st.serialize_field("public_url", &c.public_url)?;
        st.serialize_field("log", &c.log)?;
        st.serialize_field("log_format", &c.log_format)?;
        st.serialize_field("security", &SecurityView(&c.security))?;
        st.serialize_field("jobs", &JobsView(&c.jobs))?;
        st.serialize_field("customers", &c.customers)?;
        st.serialize_field("backup", &c.backup)?;
        st.serialize_field("radius", &c.radius)?;
        st.end()
    }
}

struct SecurityView<'a>(&'a Security);

impl serde::Serialize for SecurityView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let c = self.0;
        let mut st = s.serialize_struct("Security", 12)?;
        st.serialize_field("session_idle_minutes", &c.session_idle_minutes)?;
        st.serialize_field("session_max_hours", &c.session_max_hours)?;
        st.serialize_field("token_days", &c.token_days)?;
        st.serialize_field("argon2_memory_kib", &c.argon2_memory_kib)?;
        st.serialize_field("argon2_iterations", &c.argon2_iterations)?;
        st.serialize_field("max_concurrent_hashes", &c.max_concurrent_hashes)?;
        st.serialize_field("max_queued_hashes", &c.max_queued_hashes)?;
        st.serialize_field(
            "sign_in_failures_per_minute",
            &c.sign_in_failures_per_minute,
        )?;
        st.serialize_field("hook_refusals_per_minute", &c.hook_refusals_per_minute)?;
        let proxies: Vec<String> = c.trusted_proxies.iter().map(ToString::to_string).collect();
        st.serialize_field("trusted_proxies", &proxies)?;
        st.serialize_field("secret_keys", &c.secret_keys)?;
        st.end()
    }
}

struct JobsView<'a>(&'a Jobs);

impl serde::Serialize for JobsView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Jobs", 5)?;
        st.serialize_field("workers", &self.0.workers)?;
        st.serialize_field("poll_seconds", &self.0.poll_seconds)?;
        st.serialize_field("usage_watch_seconds", &self.0.usage_watch_seconds)?;
        st.serialize_field("billing_runs", &self.0.billing_runs)?;
        st.serialize_field("router_health_seconds", &self.0.router_health_seconds)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn an_empty_file_gives_laptop_defaults() {
        let (config, unknown) = Config::from_parts("", env(&[])).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database_url(), "sqlite://lastmile-data/lastmile.db");
        assert!(unknown.is_empty());
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors() {
        let error = Config::from_parts("listn = \"0.0.0.0:80\"", env(&[])).unwrap_err();
        assert!(error.to_string().contains("listn"), "{error}");
        let error = Config::from_parts("[security]\nfoo = 1", env(&[])).unwrap_err();
        assert!(error.to_string().contains("foo"), "{error}");
    }

    #[test]
    fn environment_variables_override_the_file_by_key_path() {
        let text = "listen = \"127.0.0.1:9000\"\n[security]\nsession_idle_minutes = 5\n";
        let (config, unknown) = Config::from_parts(
            text,
            env(&[
                ("LASTMILE_LISTEN", "0.0.0.0:8081"),
                ("LASTMILE_SECURITY_SESSION_IDLE_MINUTES", "45"),
                ("LASTMILE_SECURITY_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.2"),
                ("LASTMILE_JOBS_WORKERS", "0"),
                ("LASTMILE_NOPE", "1"),
                ("PATH", "/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:8081");
        assert_eq!(config.security.session_idle_minutes, 45);
        assert_eq!(config.security.trusted_proxies.len(), 2);
        assert_eq!(config.jobs.workers, 0);
        assert_eq!(unknown, ["LASTMILE_NOPE"]);
    }

    #[test]
    fn a_bad_override_names_its_variable() {
        let error =
            Config::from_parts("", env(&[("LASTMILE_SECURITY_TOKEN_DAYS", "soon")])).unwrap_err();
        assert!(
            error.to_string().contains("LASTMILE_SECURITY_TOKEN_DAYS"),
            "{error}"
        );
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let text = "database_url = \"postgres://lm:hunter2@db/lm\"\n[security]\nsecret_keys = \"k1:AAAA\"\n";
        let (config, _) = Config::from_parts(text, env(&[])).unwrap();
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("AAAA"),
            "{shown}"
        );
        assert!(shown.contains("lm:[redacted]@db"), "{shown}");
    }
}
