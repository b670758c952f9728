//! RADIUS protocol (RFC 2865, 2866, 2869, 5176): packets, dictionaries, authenticators,
//! PAP/CHAP/MS-CHAP, an async client and a server loop. Knows nothing of ISPs.
//!
//! Layers, bottom up:
//! - [`code`], [`attr`], [`packet`]: the wire format, decoded strictly (no input panics).
//! - [`value`], [`attrs`], [`dict`]: typed values, typed constants, FreeRADIUS dictionaries.
//! - [`crypto`], [`sign`]: authenticators, Message-Authenticator, hidden attributes.
//! - [`auth`]: PAP, CHAP, MS-CHAPv1 and MS-CHAPv2 (with MPPE keys), both sides.
//! - [`client`], [`server`]: tokio UDP client (CoA/Disconnect, tests) and server loop.
//!
//! A CoA-Request that changes a session's rate limit:
//!
//! ```no_run
//! use radius::client::Client;
//! use radius::{Attribute, Code, attrs};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let nas = Client::new("192.0.2.1:3799".parse()?, "nas-secret");
//! let response = nas
//!     .coa(vec![
//!         Attribute::new(attrs::USER_NAME.id(), *b"alice"),
//!         Attribute::new(attrs::MIKROTIK_RATE_LIMIT.id(), *b"2M/10M"),
//!     ])
//!     .await?;
//! if response.packet.code == Code::CoaNak {
//!     println!("refused: {:?}", response.error_causes());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! A server that checks passwords from the application's store:
//!
//! ```no_run
//! use std::collections::HashMap;
//! use std::net::IpAddr;
//!
//! use radius::server::{Handler, NasClient, Request, Server, ServerConfig};
//! use radius::{Code, Packet, attrs};
//!
//! struct Aaa;
//!
//! impl Handler for Aaa {
//!     async fn handle(&self, request: Request) -> Option<Packet> {
//!         match request.packet.code {
//!             Code::AccessRequest => {
//!                 let accepted = request.check_password("secret1").is_accept();
//!                 let code = if accepted { Code::AccessAccept } else { Code::AccessReject };
//!                 let mut reply = request.reply(code);
//!                 if accepted {
//!                     reply.add(attrs::MIKROTIK_RATE_LIMIT, &"10M/50M".to_owned());
//!                 }
//!                 Some(reply)
//!             }
//!             Code::AccountingRequest => Some(request.reply(Code::AccountingResponse)),
//!             _ => None,
//!         }
//!     }
//! }
//!
//! # async fn demo() -> std::io::Result<()> {
//! let nas_ip: IpAddr = [192, 0, 2, 1].into();
//! let nas: HashMap<IpAddr, NasClient> = [(nas_ip, NasClient::new("nas-secret"))].into();
//! let address = ([0, 0, 0, 0], 1812).into();
//! let server = Server::bind(address, nas, Aaa, ServerConfig::default()).await?;
//! // Serve until the application's shutdown signal (here: never).
//! server.run(std::future::pending()).await
//! # }
//! ```

pub mod attr;
pub mod attr_id;
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
