//! Network values: IPv4 ranges and pools (parsed exactly into CIDR blocks), MAC addresses,
//! and the allocation of static addresses from a pool.

mod mac;
mod range;
pub mod router;

pub use mac::MacAddr;
pub use range::{Block, Pool, RangeError, first_free};
