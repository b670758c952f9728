//! The LibreQoS export over HTTP (`ops::libreqos`): a tenant's `ShapedDevices.csv`, streamed
//! a page of customers at a time, its `network.json`, and what an export shapes and leaves
//! out. API only: LibreQoS fetches the files, no page shows them.

pub mod api;
