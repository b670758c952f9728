//! lastmile's server: configuration, command line, HTTP (JSON API, web panel), jobs and the
//! wiring of AAA and router operations. Rules live in `domain`, persistence in `store`.
//!
//! Areas line up with `domain` and `store`: `tenant`, `user`, `audit`, `auth` each hold the
//! area's operations (`mod.rs`), its API handlers (`api.rs`) and its panel pages
//! (`panel.rs`). Shared machinery: `http` (API edge), `web` (panel edge), `jobs`, `app`.

pub mod aaa;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod customer;
pub mod error;
pub mod http;
pub mod i18n;
pub mod jobs;
pub mod network;
pub mod package;
pub mod seed;
pub mod tenant;
pub mod user;
pub mod web;
