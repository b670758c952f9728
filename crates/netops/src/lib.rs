//! Router operations and enforcement: the work that talks to routers over RADIUS
//! (CoA/Disconnect) and the RouterOS API, run as jobs after the change that asked for it
//! committed (design.md §1, §6). It reads and records through `store`, decides through
//! `domain`, and speaks through `radius` and `routeros`; nothing above it does network IO
//! to a router.
//!
//! So far: [`enforce`], the enforcement ladder that gives a customer's live sessions a new
//! rate or ends them; [`gates`], how hard it may press each router; [`recorder`], the
//! writer of the ladders' ends in batches; [`import`], reading what an import from a router
//! takes; [`migrate`], the router-to-RADIUS migration; [`provision`], reading, applying and rolling back a provisioning plan; and
//! [`router`], the API connection to a router as lastmile stores it.

pub mod enforce;
pub mod gates;
pub mod import;
pub mod migrate;
pub mod provision;
pub mod recorder;
pub mod router;

pub use enforce::{Settings, run};
pub use gates::{Gates, Limits};
pub use recorder::Recorder;
