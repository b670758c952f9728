//! The async client (tokio, UDP): sends one request to a server and waits for a valid reply,
//! retransmitting the identical packet (same identifier and authenticator, RFC 5080 §2.2.1)
//! with exponential backoff. Replies are checked (identifier, code, Response Authenticator,
//! Message-Authenticator) and invalid ones are ignored, as RFC 2865 says. lastmile uses it for
//! CoA and Disconnect (RFC 5176); `lastmile radius test` uses it for everything.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, SystemTime};

use thiserror::Error;
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};
use tracing::debug;

use crate::attr::Attribute;
use crate::attrs;
use crate::code::Code;
use crate::error::{EncodeError, VerifyError};
use crate::packet::{MAX_PACKET_LEN, Packet};
use crate::sign::{sent_authenticator, verify_reply};

/// How the client sends and waits.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// How long to wait for a reply to the first transmission.
    pub timeout: Duration,
    /// How many times to retransmit after the first transmission.
    pub retries: u32,
    /// The wait doubles with each retransmission, up to this.
    pub max_timeout: Duration,
    /// Add a Message-Authenticator to Access-Requests (default: yes).
    pub message_authenticator: bool,
    /// Refuse replies without a Message-Authenticator (default: no; FreeRADIUS 3.2.1 does not
    /// always send one).
    pub require_message_authenticator: bool,
    /// Add Event-Timestamp (now) to CoA and Disconnect requests that lack one (RFC 5176 §3.3,
    /// replay protection; default: yes).
    pub event_timestamp: bool,
    /// The address to send from (default: any, as the system routes); a NAS's own address
    /// when testing as that NAS.
    pub source: Option<IpAddr>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            timeout: Duration::from_secs(3),
            retries: 2,
            max_timeout: Duration::from_secs(12),
            message_authenticator: true,
            require_message_authenticator: false,
            event_timestamp: true,
            source: None,
        }
    }
}

/// Why no valid reply was had.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The request cannot be encoded.
    #[error("cannot encode the request: {0}")]
    Encode(#[from] EncodeError),
    /// The socket failed.
    #[error("socket error: {0}")]
    Io(#[from] io::Error),
    /// No valid reply after every transmission.
    #[error("no valid reply after {attempts} transmissions{}", last_invalid.as_ref().map(|e| format!(" (last reply refused: {e})")).unwrap_or_default())]
    Timeout {
        /// Transmissions made.
        attempts: u32,
        /// Why the last invalid reply, if any, was refused (a wrong secret shows here).
        last_invalid: Option<VerifyError>,
    },
}

/// A valid reply.
#[derive(Debug, Clone)]
pub struct Response {
    /// The reply packet.
    pub packet: Packet,
    /// The request as sent (with the Message-Authenticator and Event-Timestamp the client
    /// added).
    pub request: Packet,
    /// The authenticator the request was sent with (needed to decrypt hidden reply
    /// attributes such as MS-MPPE keys).
    pub request_authenticator: [u8; 16],
    /// Transmissions made before this reply came.
    pub attempts: u32,
}

impl Response {
    /// True for Access-Accept, Accounting-Response, CoA-ACK and Disconnect-ACK.
    pub fn is_positive(&self) -> bool {
        self.packet.code.is_positive_reply()
    }

    /// The Error-Cause values of a NAK (RFC 5176 §3.6).
    pub fn error_causes(&self) -> Vec<ErrorCause> {
        self.packet
            .get_all(attrs::ERROR_CAUSE.id())
            .filter_map(|v| <[u8; 4]>::try_from(v).ok())
            .map(|v| ErrorCause::from_u32(u32::from_be_bytes(v)))
            .collect()
    }
}

/// An Error-Cause value (RFC 5176 §3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCause {
    /// 201 Residual Session Context Removed.
    ResidualSessionContextRemoved,
    /// 202 Invalid EAP Packet (Ignored).
    InvalidEapPacket,
    /// 401 Unsupported Attribute.
    UnsupportedAttribute,
    /// 402 Missing Attribute.
    MissingAttribute,
    /// 403 NAS Identification Mismatch.
    NasIdentificationMismatch,
    /// 404 Invalid Request.
    InvalidRequest,
    /// 405 Unsupported Service.
    UnsupportedService,
    /// 406 Unsupported Extension.
    UnsupportedExtension,
    /// 407 Invalid Attribute Value.
    InvalidAttributeValue,
    /// 501 Administratively Prohibited.
    AdministrativelyProhibited,
    /// 502 Request Not Routable (Proxy).
    RequestNotRoutable,
    /// 503 Session Context Not Found.
    SessionContextNotFound,
    /// 504 Session Context Not Removable.
    SessionContextNotRemovable,
    /// 505 Other Proxy Processing Error.
    OtherProxyProcessingError,
    /// 506 Resources Unavailable.
    ResourcesUnavailable,
    /// 507 Request Initiated.
    RequestInitiated,
    /// 508 Multiple Session Selection Unsupported.
    MultipleSessionSelectionUnsupported,
    /// Any other value.
    Other(u32),
}

const ERROR_CAUSES: [(u32, ErrorCause, &str); 17] = [
    (
        201,
        ErrorCause::ResidualSessionContextRemoved,
        "Residual Session Context Removed",
    ),
    (202, ErrorCause::InvalidEapPacket, "Invalid EAP Packet"),
    (
        401,
        ErrorCause::UnsupportedAttribute,
        "Unsupported Attribute",
    ),
    (402, ErrorCause::MissingAttribute, "Missing Attribute"),
    (
        403,
        ErrorCause::NasIdentificationMismatch,
        "NAS Identification Mismatch",
    ),
    (404, ErrorCause::InvalidRequest, "Invalid Request"),
    (405, ErrorCause::UnsupportedService, "Unsupported Service"),
    (
        406,
        ErrorCause::UnsupportedExtension,
        "Unsupported Extension",
    ),
    (
        407,
        ErrorCause::InvalidAttributeValue,
        "Invalid Attribute Value",
    ),
    (
        501,
        ErrorCause::AdministrativelyProhibited,
        "Administratively Prohibited",
    ),
    (
        502,
        ErrorCause::RequestNotRoutable,
        "Request Not Routable (Proxy)",
    ),
    (
        503,
        ErrorCause::SessionContextNotFound,
        "Session Context Not Found",
    ),
    (
        504,
        ErrorCause::SessionContextNotRemovable,
        "Session Context Not Removable",
    ),
    (
        505,
        ErrorCause::OtherProxyProcessingError,
        "Other Proxy Processing Error",
    ),
    (
        506,
        ErrorCause::ResourcesUnavailable,
        "Resources Unavailable",
    ),
    (507, ErrorCause::RequestInitiated, "Request Initiated"),
    (
        508,
        ErrorCause::MultipleSessionSelectionUnsupported,
        "Multiple Session Selection Unsupported",
    ),
];

impl ErrorCause {
    /// The cause for a numeric value.
    pub fn from_u32(value: u32) -> ErrorCause {
        ERROR_CAUSES
            .iter()
            .find(|(n, _, _)| *n == value)
            .map_or(ErrorCause::Other(value), |(_, cause, _)| *cause)
    }

    /// The numeric value.
    pub fn as_u32(self) -> u32 {
        match self {
            ErrorCause::Other(value) => value,
            cause => ERROR_CAUSES
                .iter()
                .find(|(_, c, _)| *c == cause)
                .map_or(0, |(n, _, _)| *n),
        }
    }
}

impl fmt::Display for ErrorCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ERROR_CAUSES.iter().find(|(_, c, _)| c == self) {
            Some((n, _, name)) => write!(f, "{n} {name}"),
            None => write!(f, "{} (unknown)", self.as_u32()),
        }
    }
}

/// A client of one server.
#[derive(Clone)]
pub struct Client {
    server: SocketAddr,
    secret: Vec<u8>,
    config: ClientConfig,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.server)
            .field("secret", &"<redacted>")
            .field("config", &self.config)
            .finish()
    }
}

impl Client {
    /// A client of `server` with the default configuration.
    pub fn new(server: SocketAddr, secret: impl Into<Vec<u8>>) -> Client {
        Client::with_config(server, secret, ClientConfig::default())
    }

    /// A client of `server` with a configuration.
    pub fn with_config(
        server: SocketAddr,
        secret: impl Into<Vec<u8>>,
        config: ClientConfig,
    ) -> Client {
        Client {
            server,
            secret: secret.into(),
            config,
        }
    }

    /// The shared secret (to hide User-Password or decrypt reply attributes).
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// Sends a CoA-Request with these attributes (a random identifier) and waits for the
    /// CoA-ACK or CoA-NAK.
    pub async fn coa(&self, attributes: Vec<Attribute>) -> Result<Response, ClientError> {
        let mut request = Packet::new(Code::CoaRequest, rand::random());
        request.attributes = attributes;
        self.send(&request).await
    }

    /// Sends a Disconnect-Request with these attributes and waits for the Disconnect-ACK or
    /// Disconnect-NAK.
    pub async fn disconnect(&self, attributes: Vec<Attribute>) -> Result<Response, ClientError> {
        let mut request = Packet::new(Code::DisconnectRequest, rand::random());
        request.attributes = attributes;
        self.send(&request).await
    }

    /// Sends a request and waits for a valid reply, retransmitting the same bytes with
    /// backoff. Each request uses its own ephemeral socket, so concurrent requests never
    /// share an identifier space.
    pub async fn send(&self, request: &Packet) -> Result<Response, ClientError> {
        let mut request = request.clone();
        if request.code == Code::AccessRequest && self.config.message_authenticator {
            request.add_message_authenticator();
        }
        if matches!(request.code, Code::CoaRequest | Code::DisconnectRequest)
            && self.config.event_timestamp
            && !request.contains(attrs::EVENT_TIMESTAMP.id())
        {
            request.add(attrs::EVENT_TIMESTAMP, &SystemTime::now());
        }
        let bytes = request.encode_request(&self.secret)?;
        let request_authenticator = sent_authenticator(&bytes);
        let local: SocketAddr = match (self.config.source, self.server) {
            (Some(source), _) => (source, 0).into(),
            (None, SocketAddr::V4(_)) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            (None, SocketAddr::V6(_)) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(local).await?;
        socket.connect(self.server).await?;
        let mut wait = self.config.timeout;
        let mut last_invalid = None;
        let mut buf = vec![0u8; MAX_PACKET_LEN + 1];
        for attempt in 1..=self.config.retries.saturating_add(1) {
            socket.send(&bytes).await?;
            let deadline = Instant::now() + wait;
            loop {
                let len = match timeout_at(deadline, socket.recv(&mut buf)).await {
                    Err(_elapsed) => break,
                    Ok(Ok(len)) => len,
                    Ok(Err(err)) => {
                        // An ICMP error (nothing listening) is no answer: wait out the try.
                        debug!(server = %self.server, error = %err, "receive failed");
                        tokio::time::sleep_until(deadline).await;
                        break;
                    }
                };
                let data = buf.get(..len).unwrap_or_default();
                match verify_reply(
                    data,
                    &request,
                    &request_authenticator,
                    &self.secret,
                    self.config.require_message_authenticator,
                ) {
                    Ok(packet) => {
                        return Ok(Response {
                            packet,
                            request,
                            request_authenticator,
                            attempts: attempt,
                        });
                    }
                    Err(err) => {
                        debug!(server = %self.server, error = %err, "reply refused");
                        last_invalid = Some(err);
                    }
                }
            }
            wait = (wait * 2).min(self.config.max_timeout);
        }
        Err(ClientError::Timeout {
            attempts: self.config.retries.saturating_add(1),
            last_invalid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_does_not_show_the_secret() {
        let client = Client::new("127.0.0.1:3799".parse().unwrap(), "hunter2");
        assert!(!format!("{client:?}").contains("hunter2"));
        let nas = crate::server::NasClient::new("hunter2");
        assert!(!format!("{nas:?}").contains("hunter2"));
    }

    #[test]
    fn error_causes_have_names_and_numbers() {
        assert_eq!(
            ErrorCause::from_u32(503),
            ErrorCause::SessionContextNotFound
        );
        assert_eq!(ErrorCause::SessionContextNotFound.as_u32(), 503);
        assert_eq!(
            ErrorCause::SessionContextNotFound.to_string(),
            "503 Session Context Not Found"
        );
        assert_eq!(ErrorCause::from_u32(999).to_string(), "999 (unknown)");
    }
}
