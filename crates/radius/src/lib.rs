//! RADIUS protocol (RFC 2865, 2866, 2869, 5176): packets, dictionaries, authenticators,
//! PAP/CHAP/MS-CHAP, an async client and a server loop. Knows nothing of ISPs.
//!
//! Layers, bottom up:
//! - [`code`], [`attr`], [`packet`]: the wire format, decoded strictly (no input panics).
//! - [`value`], [`attrs`], [`dict`]: typed values, typed constants, FreeRADIUS dictionaries.
//! - [`crypto`], [`sign`]: authenticators, Message-Authenticator, hidden attributes.
//! - [`auth`]: PAP, CHAP, MS-CHAPv1 and MS-CHAPv2 (with MPPE keys), both sides.
//! - [`client`], [`server`]: tokio UDP client (CoA/Disconnect, tests) and server loop.

pub mod attr;
pub mod attrs;
pub mod auth;
pub mod client;
pub mod code;
pub mod crypto;
pub mod dict;
pub mod error;
pub mod gigawords;
pub mod packet;
pub mod server;
pub mod sign;
pub mod value;

pub use attr::{AttrId, Attribute};
pub use attrs::Attr;
pub use code::Code;
pub use dict::Dictionary;
pub use error::{DecodeError, EncodeError, VerifyError};
pub use packet::Packet;
pub use value::{DataType, Value, ValueError};
