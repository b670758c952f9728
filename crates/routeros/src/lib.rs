//! MikroTik RouterOS binary API: word/sentence codec, async client over TCP and TLS, typed
//! menu helpers and a simulated router. Knows nothing of ISPs.
//!
//! - [`codec`]: word lengths, sentences, the bounded incremental [`codec::Decoder`].
//! - [`word`]: what kind of word a byte string is (command, attribute, query, reply…).
//! - [`sentence`]: [`Command`] builder, [`Reply`] parsing, property [`Row`]s, [`ItemId`].
//! - [`query`]: `print` query builder ([`Query`]).
//! - [`client`]: the tokio [`Client`] (TCP, TLS with three trust modes, both login methods,
//!   tagged concurrent commands, cancellable streams, timeouts).
//! - [`menu`]: typed helpers for the menus lastmile drives (`/ppp/secret`, `/radius`, …).
//! - [`sim`]: a simulated router speaking the same protocol over TCP and TLS.

pub mod client;
pub mod codec;
mod error;
pub mod menu;
pub mod query;
pub mod sentence;
pub mod sim;
pub mod word;

pub use client::{
    Client, ClientConfig, Fingerprint, LoginMethod, ReplyStream, Response, Trust,
    presented_fingerprint,
};
pub use error::Error;
pub use query::Query;
pub use sentence::{Command, ItemId, Reply, ReplyKind, Row, TrapCategory};
