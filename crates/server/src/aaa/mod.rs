//! AAA wiring on the FreeRADIUS side (design.md §4, mode 1): the configuration that points a
//! stock FreeRADIUS 3.2 at lastmile's database (`freeradius`), and the check that the
//! projection stored in `radcheck`/`radreply` is what the domain decides (`verify`). The
//! decision itself is `domain::aaa`; the rows are written by `store::customer` in the
//! transaction of every change.

pub mod dburl;
pub mod freeradius;
pub mod freeradius_edit;
pub mod verify;
