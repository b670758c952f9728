//! The async RouterOS API client: connecting over TCP or TLS, logging in, and running many
//! tagged commands at once on one connection.
//!
//! A [`Client`] is a cheap handle (clone it freely); all clones share one connection. Each
//! command gets its own `.tag` and reply stream, a timeout (after which it is cancelled on
//! the router), and a typed [`Error`]. Streams such as `listen` are read through
//! [`ReplyStream`] and ended with [`ReplyStream::cancel`]. Once the router sends `!fatal` or
//! the socket drops, [`Client::is_alive`] turns false and every call fails at once; connect
//! again for a fresh connection.

mod conn;
mod login;
mod stream;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::codec::Limits;
use crate::error::Error;
use crate::sentence::{Command, Reply, ReplyKind, Row, decode_text};
use conn::Connection;
pub use login::LoginMethod;
pub(crate) use login::hex;
pub use stream::ReplyStream;
use tls::TlsOptions;
pub use tls::{Fingerprint, Trust, presented_fingerprint};

/// The plain API port.
pub const API_PORT: u16 = 8728;
/// The API-SSL port.
pub const API_SSL_PORT: u16 = 8729;

/// Everything needed to connect and log in. Its `Debug` leaves the password out.
#[derive(Clone)]
pub struct ClientConfig {
    /// `host`, `host:port`, `[v6]` or `[v6]:port`; the port defaults to 8728, or 8729 with TLS.
    pub address: String,
    /// The API user.
    pub username: String,
    /// The API user's password.
    pub password: String,
    /// TLS settings; `None` for plain TCP.
    pub tls: Option<TlsOptions>,
    /// How to log in.
    pub login: LoginMethod,
    /// Bound on TCP connect, TLS handshake and login together.
    pub connect_timeout: Duration,
    /// Default bound on one command, from sending it to its `!done`.
    pub command_timeout: Duration,
    /// Codec limits applied to what the router sends.
    pub limits: Limits,
    /// Most `!re` rows one command may return before it fails.
    pub max_rows: usize,
    /// Replies buffered per command before the reader waits for the consumer.
    pub reply_buffer: usize,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("address", &self.address)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("tls", &self.tls)
            .field("login", &self.login)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("limits", &self.limits)
            .field("max_rows", &self.max_rows)
            .field("reply_buffer", &self.reply_buffer)
            .finish()
    }
}

impl ClientConfig {
    /// Plain TCP, automatic login method, 10 s to connect, 30 s per command.
    pub fn new(
        address: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            address: address.into(),
            username: username.into(),
            password: password.into(),
            tls: None,
            login: LoginMethod::Auto,
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(30),
            limits: Limits::default(),
            max_rows: 5_000_000,
            reply_buffer: 1024,
        }
    }

    /// Uses API-SSL with this trust mode.
    pub fn with_tls(mut self, trust: Trust) -> Self {
        self.tls = Some(TlsOptions {
            trust,
            server_name: None,
        });
        self
    }

    /// Sets the default command timeout.
    pub fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Sets the login method.
    pub fn with_login(mut self, login: LoginMethod) -> Self {
        self.login = login;
        self
    }
}

/// Splits an address into host and port.
pub fn parse_address(address: &str, default_port: u16) -> Result<(String, u16), Error> {
    let invalid = || Error::InvalidAddress(address.to_owned());
    if let Some(rest) = address.strip_prefix('[') {
        let (host, rest) = rest.split_once(']').ok_or_else(invalid)?;
        let port = match rest.strip_prefix(':') {
            Some(port) => port.parse().map_err(|_| invalid())?,
            None if rest.is_empty() => default_port,
            None => return Err(invalid()),
        };
        return Ok((host.to_owned(), port));
    }
    if address.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok((address.to_owned(), default_port));
    }
    match address.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => {
            Ok((host.to_owned(), port.parse().map_err(|_| invalid())?))
        }
        Some(_) => Err(invalid()),
        None if address.is_empty() => Err(invalid()),
        None => Ok((address.to_owned(), default_port)),
    }
}

/// What a finished command returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// The `!re` rows, in order.
    pub rows: Vec<Row>,
    /// The `=ret=` of the `!done`, such as the id an `add` created.
    pub ret: Option<Vec<u8>>,
}

impl Response {
    /// `=ret=` as text.
    pub fn ret_text(&self) -> Option<String> {
        self.ret.as_deref().map(|r| decode_text(r).into_owned())
    }
}

#[derive(Debug)]
struct Inner {
    conn: Connection,
    peer: Option<Fingerprint>,
    username: String,
    command_timeout: Duration,
    max_rows: usize,
    reply_buffer: usize,
}

/// A logged-in connection to a router. Clones share the connection.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl Client {
    /// Connects, runs the TLS handshake if configured, and logs in.
    pub async fn connect(config: &ClientConfig) -> Result<Self, Error> {
        let default_port = if config.tls.is_some() {
            API_SSL_PORT
        } else {
            API_PORT
        };
        let (host, port) = parse_address(&config.address, default_port)?;
        let attempt = async {
            let tcp = TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|source| Error::Connect {
                    address: config.address.clone(),
                    source,
                })?;
            tcp.set_nodelay(true)?;
            let (io, peer): (Box<dyn conn::Io>, _) = match &config.tls {
                None => (Box::new(tcp), None),
                Some(options) => {
                    let stream = tls::handshake(tcp, &host, options).await?;
                    let peer = tls::peer_fingerprint(&stream);
                    (Box::new(stream), peer)
                }
            };
            let client = Self {
                inner: Arc::new(Inner {
                    conn: Connection::start(io, config.limits),
                    peer,
                    username: config.username.clone(),
                    command_timeout: config.command_timeout,
                    max_rows: config.max_rows,
                    reply_buffer: config.reply_buffer,
                }),
            };
            login::login(&client, &config.username, &config.password, config.login).await?;
            Ok(client)
        };
        tokio::time::timeout(config.connect_timeout, attempt)
            .await
            .map_err(|_| Error::ConnectTimeout {
                address: config.address.clone(),
                after: config.connect_timeout,
            })?
    }

    /// The fingerprint of the certificate the router presented (TLS only).
    pub fn peer_fingerprint(&self) -> Option<Fingerprint> {
        self.inner.peer
    }

    /// The user this client logged in as.
    pub fn username(&self) -> &str {
        &self.inner.username
    }

    /// Whether the connection is still usable (no `!fatal`, no dropped socket).
    pub fn is_alive(&self) -> bool {
        self.inner.conn.is_alive()
    }

    /// Closes the connection; every clone sees it closed.
    pub async fn close(&self) {
        self.inner.conn.close().await;
    }

    /// Runs a command with the default timeout and collects its rows.
    pub async fn run(&self, command: &Command) -> Result<Response, Error> {
        self.run_with_timeout(command, self.inner.command_timeout)
            .await
    }

    /// Runs a command with its own timeout. On timeout the command is cancelled on the router
    /// and [`Error::Timeout`] is returned; the connection stays usable.
    pub async fn run_with_timeout(
        &self,
        command: &Command,
        timeout: Duration,
    ) -> Result<Response, Error> {
        let (rows, ret) = self.run_map(command, timeout, Ok).await?;
        Ok(Response { rows, ret })
    }

    /// Runs a command and turns each `!re` row into a `T` as it arrives (so a large print
    /// never holds raw rows and converted values at once). Returns the values and `=ret=`.
    pub async fn run_map<T>(
        &self,
        command: &Command,
        timeout: Duration,
        map: impl FnMut(Row) -> Result<T, Error>,
    ) -> Result<(Vec<T>, Option<Vec<u8>>), Error> {
        let (tag, receiver) = self.inner.conn.register(self.inner.reply_buffer)?;
        let guard = TagGuard {
            client: self,
            tag,
            cancel: true,
        };
        let work = async {
            self.inner.conn.send(command, tag).await?;
            self.collect(command, receiver, map).await
        };
        let result = match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout {
                command: command.path().into_owned(),
                after: timeout,
            }),
        };
        guard.finish(matches!(result, Err(Error::Timeout { .. })));
        result
    }

    /// The default command timeout.
    pub fn command_timeout(&self) -> Duration {
        self.inner.command_timeout
    }

    /// Starts a streaming command (`listen`, `print follow`, …) and returns its replies.
    pub async fn stream(&self, command: &Command) -> Result<ReplyStream, Error> {
        let (tag, receiver) = self.inner.conn.register(self.inner.reply_buffer)?;
        if let Err(error) = self.inner.conn.send(command, tag).await {
            self.inner.conn.unregister(tag);
            return Err(error);
        }
        Ok(ReplyStream::new(
            self.clone(),
            tag,
            receiver,
            command.path().into_owned(),
        ))
    }

    async fn collect<T>(
        &self,
        command: &Command,
        mut receiver: mpsc::Receiver<Reply>,
        mut map: impl FnMut(Row) -> Result<T, Error>,
    ) -> Result<(Vec<T>, Option<Vec<u8>>), Error> {
        let mut values = Vec::new();
        let mut failure = None;
        while let Some(reply) = receiver.recv().await {
            match reply.kind {
                ReplyKind::Re if failure.is_none() => {
                    if values.len() >= self.inner.max_rows {
                        return Err(Error::TooManyRows {
                            command: command.path().into_owned(),
                            max: self.inner.max_rows,
                        });
                    }
                    match map(reply.attributes) {
                        Ok(value) => values.push(value),
                        Err(error) => failure = Some(error),
                    }
                }
                ReplyKind::Re | ReplyKind::Empty => {}
                ReplyKind::Trap => {
                    failure.get_or_insert_with(|| trap_error(command, &reply));
                }
                ReplyKind::Done => {
                    let ret = reply.attributes.get("ret").map(<[u8]>::to_vec);
                    return match failure {
                        Some(error) => Err(error),
                        None => Ok((values, ret)),
                    };
                }
                ReplyKind::Fatal => {
                    return Err(Error::Fatal {
                        reason: reply.message(),
                    });
                }
            }
        }
        Err(self.lost())
    }

    /// The error describing why the connection is gone.
    fn lost(&self) -> Error {
        match self.inner.conn.death() {
            Some(death) => death.to_error(),
            None => Error::ConnectionLost {
                reason: "reply stream ended".to_owned(),
            },
        }
    }

    /// Sends `/cancel =tag=TAG` without waiting for its answer.
    fn cancel_in_background(&self, tag: u64) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let client = self.clone();
        runtime.spawn(async move {
            let cancel = Command::new("/cancel").attr("tag", tag.to_string());
            let own_tag = client.inner.conn.unrouted_tag();
            let _ = client.inner.conn.send(&cancel, own_tag).await;
        });
    }
}

/// Builds the error for a `!trap` reply.
pub(crate) fn trap_error(command: &Command, reply: &Reply) -> Error {
    Error::Trap {
        command: command.path().into_owned(),
        category: reply.category(),
        message: reply.message(),
    }
}

/// Unregisters a tag when the command ends or its future is dropped; cancels it on the router
/// when it did not finish.
struct TagGuard<'a> {
    client: &'a Client,
    tag: u64,
    cancel: bool,
}

impl TagGuard<'_> {
    fn finish(mut self, cancel: bool) {
        self.cancel = cancel;
    }
}

impl Drop for TagGuard<'_> {
    fn drop(&mut self) {
        self.client.inner.conn.unregister(self.tag);
        if self.cancel && self.client.is_alive() {
            self.client.cancel_in_background(self.tag);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_configuration_never_shows_its_password() {
        let config = ClientConfig::new("10.0.0.1", "lastmile", "s3cret-api-password");
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret-api-password"), "{shown}");
        assert!(
            shown.contains("lastmile") && shown.contains("10.0.0.1"),
            "{shown}"
        );
    }

    #[test]
    fn addresses_take_the_default_port_when_none_is_given() {
        assert_eq!(
            parse_address("10.0.0.1", 8728).unwrap(),
            ("10.0.0.1".into(), 8728)
        );
        assert_eq!(
            parse_address("10.0.0.1:18728", 8728).unwrap(),
            ("10.0.0.1".into(), 18728)
        );
        assert_eq!(
            parse_address("router.example", 8729).unwrap(),
            ("router.example".into(), 8729)
        );
        assert_eq!(
            parse_address("[::1]:9000", 8728).unwrap(),
            ("::1".into(), 9000)
        );
        assert_eq!(parse_address("[::1]", 8728).unwrap(), ("::1".into(), 8728));
        assert_eq!(parse_address("::1", 8728).unwrap(), ("::1".into(), 8728));
        assert!(parse_address("host:port", 8728).is_err());
        assert!(parse_address("", 8728).is_err());
        assert!(parse_address(":80", 8728).is_err());
    }
}
