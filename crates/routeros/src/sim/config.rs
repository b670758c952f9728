//! How a simulated router is configured: listeners, users, login method, `!empty`
//! behaviour, state file, injected faults and the limits that protect it from hostile
//! clients; and the simulator's error type.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

use super::Group;
use crate::codec::Limits;

/// What can go wrong starting or driving the simulator.
#[derive(Debug, Error)]
pub enum SimError {
    /// A listener could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// The socket error.
        source: std::io::Error,
    },
    /// The TLS certificate or configuration could not be built.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The state file could not be read or written.
    #[error("state file: {0}")]
    State(String),
    /// No such menu.
    #[error("unknown menu {0}")]
    UnknownMenu(String),
    /// The model refused an item.
    #[error("refused: {0}")]
    Refused(String),
}

/// A router user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUser {
    /// Login name.
    pub name: String,
    /// Password.
    pub password: String,
    /// Group.
    pub group: Group,
}

/// Which login method the simulated router implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SimLogin {
    /// RouterOS 6.43 and later: name and password in one `/login`.
    #[default]
    Modern,
    /// Before 6.43: `/login` returns a challenge, answered with an MD5 response.
    Legacy,
}

/// Faults to inject; they can be changed while the router runs ([`SimRouter::set_faults`](super::SimRouter::set_faults)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Refuse every login.
    pub refuse_login: bool,
    /// Wait this long before answering each command (login excepted).
    pub reply_delay: Option<Duration>,
    /// Close a connection after sending this many sentences on it (read at connect).
    pub drop_after_sentences: Option<u64>,
    /// Answer this command word (such as `/system/reboot`) with `!fatal` and close.
    pub fatal_on_command: Option<String>,
    /// Answer this command word with a `!trap` (category 1) and do nothing.
    pub trap_on_command: Option<String>,
    /// Do this command word but never answer it: the change is made, and the client's
    /// timeout fires as it does when a reply is lost.
    pub silent_on_command: Option<String>,
}

/// Bounds that protect the simulator from hostile clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimLimits {
    /// Codec limits before login (small: only `/login` is expected).
    pub before_login: Limits,
    /// Codec limits once logged in.
    pub after_login: Limits,
    /// Sentences accepted before a successful login.
    pub max_sentences_before_login: usize,
    /// Time allowed from connect to successful login.
    pub login_timeout: Duration,
    /// Connections served at once; more are closed at once.
    pub max_connections: usize,
    /// Streams and delayed commands one connection may have open.
    pub max_in_flight: usize,
}

impl Default for SimLimits {
    fn default() -> Self {
        Self {
            before_login: Limits {
                max_word_len: 1024,
                max_words: 16,
                max_sentence_len: 4096,
            },
            after_login: Limits {
                max_word_len: 1 << 20,
                max_words: 4096,
                max_sentence_len: 8 << 20,
            },
            max_sentences_before_login: 8,
            login_timeout: Duration::from_secs(30),
            max_connections: 256,
            max_in_flight: 1024,
        }
    }
}

/// How to run a simulated router.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Plain API listener (port 0 picks a free port).
    pub listen: SocketAddr,
    /// API-SSL listener, if any.
    pub tls_listen: Option<SocketAddr>,
    /// Whether API-SSL has a (self-signed) certificate; without one every handshake fails as
    /// on a router whose API-SSL has none.
    pub tls_certificate: bool,
    /// `/system/identity` name (ignored when a state file provides one).
    pub identity: String,
    /// Users created at start (a state file's users are kept; these are added or updated).
    pub users: Vec<SimUser>,
    /// Login method.
    pub login: SimLogin,
    /// Answer empty `print`s with `!empty` before `!done` (RouterOS 7.18+).
    pub empty_replies: bool,
    /// Load the configuration from this file at start (if it exists) and save it there.
    pub state_file: Option<PathBuf>,
    /// Faults in force at start.
    pub faults: Faults,
    /// Protection limits.
    pub limits: SimLimits,
}

impl SimConfig {
    /// Plain TCP on a free loopback port, one user, identity `MikroTik`.
    pub fn new(user: &str, password: &str, group: Group) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls_listen: None,
            tls_certificate: true,
            identity: "MikroTik".to_owned(),
            users: vec![SimUser {
                name: user.to_owned(),
                password: password.to_owned(),
                group,
            }],
            login: SimLogin::Modern,
            empty_replies: false,
            state_file: None,
            faults: Faults::default(),
            limits: SimLimits::default(),
        }
    }

    /// Also serves API-SSL on a free loopback port.
    pub fn with_tls(mut self) -> Self {
        self.tls_listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        self
    }
}
