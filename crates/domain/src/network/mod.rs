//! Network values: IPv4 ranges and pools (parsed exactly into CIDR blocks), MAC addresses,
//! and the allocation of static addresses from a pool.

pub mod import;
mod mac;
pub mod migration;
pub mod provision;
mod range;
pub mod router;

pub use mac::{MacAddr, mac_prefix};
pub use range::{Block, Pool, RangeError, first_free, free_addresses, ipv4_prefix, usable};
