//! Test support shared by lastmile's crates: fresh databases on both backends. A test that
//! needs PostgreSQL and cannot reach it fails with a message saying how to start it; it never
//! skips.
//!
//! PostgreSQL databases are cloned from a migrated template (`CREATE DATABASE ... TEMPLATE`),
//! built once per schema fingerprint under an advisory lock, so a fresh database costs a file
//! copy, not a migration run. The server is `PG_TEST_URL`, by default the local trust-auth
//! server (`postgres://postgres@127.0.0.1:5432/postgres`).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stderr)]

pub mod db;

pub use db::{Backend, TestDb};
