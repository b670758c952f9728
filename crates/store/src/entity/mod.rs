//! SeaORM entities: one module per table of lastmile's own. Rows are plain data; the area
//! modules of this crate (`tenant`, `user`, ...) turn them into domain values and own every
//! query, so no caller builds SQL.

pub mod aaa_change;
pub mod api_token;
pub mod audit_log;
pub mod customer;
pub mod customer_name;
pub mod idempotency_key;
pub mod ip_allocation;
pub mod ip_pool;
pub mod ip_pool_range;
pub mod job;
pub mod nas;
pub mod package;
pub mod radius_item;
pub mod router;
pub mod session;
pub mod staff_user;
pub mod tenant;
pub mod upload;
pub mod zone;
