//! lastmile's rules, pure: roles and access, tenants and staff users, validation of what
//! comes in at the edge. No IO, no clock reads, no database: time and randomness come in as
//! parameters, so every rule here is a plain function with table tests beside it.
//!
//! `store` persists what this crate describes, `ops` acts on it and `web` serves it; none decides
//! who may do what: that is [`access`].

pub mod aaa;
pub mod access;
pub mod billing;
pub mod card;
pub mod card_account;
pub mod code;
pub mod custom_field;
pub mod customer;
pub mod enforcement;
pub mod field;
pub mod fup;
pub mod hotspot;
pub mod ids;
pub mod invoice;
pub mod ledger;
pub mod libreqos;
pub mod locale;
pub mod money;
pub mod network;
pub mod otp;
pub mod package;
pub mod postpaid;
pub mod sms;
pub mod tenant;
pub mod text;
pub mod traffic;
pub mod user;
pub mod vpn;
