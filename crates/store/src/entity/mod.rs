//! SeaORM entities: one module per table of lastmile's own. Rows are plain data; columns
//! holding a closed set's code (statuses, billing and connection types, package levels) are
//! typed as [`code::Stored`], so a row arrives with its domain values and a row holding an
//! unknown code fails to read. The area modules of this crate (`tenant`, `user`, ...) own
//! every query, so no caller builds SQL.

pub mod aaa_change;
pub mod api_token;
pub mod audit_log;
pub mod billing_run;
pub mod card;
pub mod card_attempt;
pub mod card_batch;
pub mod card_key;
pub mod code;
pub mod custom_field;
pub mod customer;
pub mod customer_field_value;
pub mod customer_name;
pub mod customer_online;
pub mod customer_quota;
pub mod customer_session;
pub mod customer_usage;
pub mod document_counter;
pub mod enforcement;
pub mod enforcement_attempt;
pub mod gateway_account;
pub mod gateway_event;
pub mod hotspot_device;
pub mod hotspot_portal;
pub mod hotspot_trial;
pub mod idempotency_key;
pub mod invoice;
pub mod ip_allocation;
pub mod ip_pool;
pub mod ip_pool_range;
pub mod job;
pub mod ledger_account;
pub mod ledger_entry;
pub mod ledger_journal;
pub mod nas;
pub mod notification;
pub mod otp_code;
pub mod package;
pub mod payment;
pub mod payment_intent;
pub mod portal_session;
pub mod radacct;
pub mod radius_item;
pub mod router;
pub mod router_health;
pub mod router_migration;
pub mod router_provisioning;
pub mod service_grant;
pub mod session;
pub mod signup_draft;
pub mod sms_event_off;
pub mod sms_gateway;
pub mod sms_message;
pub mod sms_report;
pub mod sms_template;
pub mod staff_user;
pub mod tax_rate;
pub mod tenant;
pub mod upload;
pub mod vpn_account;
pub mod vpn_server;
pub mod zone;
