//! The `lastmile` binary's library: configuration, command line, start-up (the shared state
//! the HTTP handlers and jobs use), the job workers and scheduler, and the seeds of the demo
//! and the benchmarks. It wires the other crates together and holds no rule of its own:
//! rules are `domain`'s, persistence `store`'s, operations `ops`'s, HTTP `web`'s and AAA
//! `aaa`'s. Nothing depends on this crate.

pub mod app;
pub mod backup;
pub mod cli;
pub mod config;
pub mod jobs;
pub mod seed;
