//! The client's error type: one variant per way a conversation with a router can fail, so
//! callers can tell a refused login from a trap, a fatal, a timeout or a lost socket.

use std::time::Duration;

use thiserror::Error;

use crate::codec::CodecError;
use crate::sentence::TrapCategory;

/// Why a client operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The address could not be parsed (`host`, `host:port`, `[v6]:port`).
    #[error("invalid router address {0:?}")]
    InvalidAddress(String),
    /// The TCP connection could not be opened.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// The address we tried.
        address: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// Connecting (TCP, TLS and login) took longer than the connect timeout.
    #[error("connecting to {address} timed out after {after:?}")]
    ConnectTimeout {
        /// The address we tried.
        address: String,
        /// The timeout in force.
        after: Duration,
    },
    /// The TLS handshake failed for a reason other than those below.
    #[error("TLS handshake failed: {0}")]
    Tls(#[source] std::io::Error),
    /// The router's API-SSL service refused every cipher we offer: it has no certificate and
    /// wants anonymous Diffie-Hellman, which rustls (rightly) does not implement.
    #[error(
        "the router's API-SSL service has no certificate: it only offers anonymous \
         Diffie-Hellman, which is insecure and not supported. Install a certificate on the \
         router (/certificate, then /ip service set api-ssl certificate=NAME) and retry"
    )]
    TlsNoCertificate,
    /// The router's certificate does not have the pinned fingerprint.
    #[error("the router's certificate has fingerprint {actual}, not the pinned {expected}")]
    FingerprintMismatch {
        /// The pinned SHA-256 fingerprint.
        expected: String,
        /// The SHA-256 fingerprint the router presented.
        actual: String,
    },
    /// A fingerprint given in configuration is not 32 hexadecimal bytes.
    #[error("invalid SHA-256 fingerprint {0:?}: expected 64 hexadecimal digits, colons allowed")]
    InvalidFingerprint(String),
    /// The router refused the login.
    #[error("login refused: {message}")]
    LoginRefused {
        /// The router's message.
        message: String,
    },
    /// The router answered a command with `!trap`.
    #[error("{command}: {message}")]
    Trap {
        /// The command word.
        command: String,
        /// The trap's category, when the router sent one.
        category: Option<TrapCategory>,
        /// The trap's message.
        message: String,
    },
    /// The router sent `!fatal` and closed the connection.
    #[error("the router closed the session: {reason}")]
    Fatal {
        /// The reason the router gave.
        reason: String,
    },
    /// A command got no `!done` within its timeout (it was cancelled on the router).
    #[error("{command} timed out after {after:?}")]
    Timeout {
        /// The command word.
        command: String,
        /// The timeout in force.
        after: Duration,
    },
    /// The connection broke (socket error, end of stream, protocol violation) or was closed.
    #[error("connection lost: {reason}")]
    ConnectionLost {
        /// What happened.
        reason: String,
    },
    /// A socket error while writing.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The router sent bytes that break the codec's rules or limits.
    #[error("protocol error: {0}")]
    Codec(#[from] CodecError),
    /// A reply had more rows than the configured maximum.
    #[error("{command} returned more than {max} rows")]
    TooManyRows {
        /// The command word.
        command: String,
        /// The configured maximum.
        max: usize,
    },
    /// A row lacked a property a typed record requires.
    #[error("{menu}: reply row lacks {property}")]
    MissingProperty {
        /// The menu path.
        menu: &'static str,
        /// The property.
        property: &'static str,
    },
    /// No item has this key.
    #[error("{menu}: no item with {key}={value}")]
    NotFound {
        /// The menu path.
        menu: &'static str,
        /// The key property.
        key: &'static str,
        /// The value looked for.
        value: String,
    },
}

impl Error {
    /// The trap category, when this is a trap.
    pub fn trap_category(&self) -> Option<TrapCategory> {
        match self {
            Self::Trap { category, .. } => *category,
            _ => None,
        }
    }
}
