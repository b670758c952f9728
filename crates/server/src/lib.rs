//! lastmile's server: configuration, command line, HTTP (JSON API, web panel), jobs and the
//! wiring of AAA and router operations. Rules live in `domain`, persistence in `store`.

pub mod cli;
