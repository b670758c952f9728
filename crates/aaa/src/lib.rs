//! lastmile's AAA. Today, the FreeRADIUS side (design.md §4, mode 1): the configuration that
//! points a stock FreeRADIUS 3.2 at lastmile's database (`freeradius`), and the check that
//! the projection stored in `radcheck`/`radreply` is what the domain decides (`verify`).
//! The decision itself is `domain::aaa`; the rows are written by `store::customer` in the
//! transaction of every change. The built-in RADIUS server comes here next.
//!
//! Depends on `store`, `domain` and `radius` only: never on `ops` or `web`; the binary's
//! command line calls it.

pub mod dburl;
pub mod freeradius;
pub mod freeradius_edit;
pub mod verify;
