//! lastmile's AAA (design.md §4), both modes. The built-in RADIUS server: its in-memory
//! state (`state`, with the open sessions of `sessions`), following the AAA change log, its
//! authentication (`server`) and its accounting (`accounting`, made durable on PostgreSQL by
//! the node's `journal`). The
//! FreeRADIUS side: the configuration that points a stock FreeRADIUS 3.2 at lastmile's
//! database (`freeradius`), and the check that the projection stored in
//! `radcheck`/`radreply` is what the domain decides (`verify`). The decision itself is
//! `domain::aaa`; the rows are written by `store::customer` in the transaction of every
//! change.
//!
//! Depends on `store`, `domain` and `radius` only: never on `ops` or `web`; the binary's
//! command line calls it.

pub mod accounting;
pub mod clock;
pub mod dburl;
pub mod freeradius;
pub mod freeradius_edit;
pub mod journal;
pub mod server;
pub mod sessions;
pub mod state;
pub mod verify;
