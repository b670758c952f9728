//! lastmile's persistence: SeaORM over SQLite (the embedded default) and PostgreSQL, the
//! embedded migrations (the FreeRADIUS tables included), and one module per area holding
//! every query of that area.
//!
//! Reads take the caller's scope (from `domain::access`); changes take a [`write::Write`],
//! the one write path, which records the audit entry, the AAA change log and the outbox
//! jobs in the same transaction as the change.

pub mod aaa;
pub mod accounting;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod card;
pub mod crypto;
pub mod custom_field;
pub mod customer;
pub mod dashboard;
pub mod db;
pub mod enforcement;
pub mod entity;
pub mod error;
pub mod gateway;
pub mod grant;
pub mod hotspot;
pub mod idempotency;
pub mod invoice;
pub mod job;
pub mod ledger;
pub mod libreqos;
pub mod list;
pub mod migration;
pub mod network;
pub mod online;
pub mod package;
pub mod payment;
pub mod quota;
pub mod radius;
pub mod scope;
pub mod selfcare;
pub mod signup;
pub mod sms;
pub mod sms_template;
pub mod tax;
pub mod tenant;
pub mod traffic;
pub mod upload;
pub mod user;
mod versioned;
pub mod vpn;
pub mod write;

pub use db::{Backend, Db};
pub use error::{StoreError, StoreResult};
pub use job::NewJob;
pub use write::{AuditEntry, Author, Write};
