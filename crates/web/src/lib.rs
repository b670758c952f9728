//! lastmile's HTTP: the JSON API under `/api/v1` and the staff panel, their templates and
//! translations. Handlers are boring: they extract, call an operation of `ops` with the
//! caller's actor, and map the result to JSON or to a page. No rule lives here.
//!
//! Floors, bottom up: [`state`] (what handlers share), the edges [`http`] (API: errors,
//! bearer callers, JSON, idempotency, versions, lists, metrics) and [`page`] (panel: chrome,
//! session, forms, CSRF, lookups) with [`i18n`]; then one module per area (`auth`,
//! `tenant`, `user`, `audit`, `network`, `package`, `customer`, `online`, `ledger`), each with its
//! `api` and `panel`; and on top [`routes`], which assembles them.

pub mod auth;
pub mod http;
pub mod i18n;
pub mod page;
pub mod routes;
pub mod state;

/// Tenants (ISPs) and their operating settings.
pub mod tenant {
    pub mod api;
    pub mod panel;
}

/// Staff users.
pub mod user {
    pub mod api;
    pub mod panel;
}

/// The audit log.
pub mod audit {
    pub mod api;
    pub mod panel;
}

/// Recharge cards: batches, their life, redemption, and the distributor's API.
pub mod card {
    pub mod api;
    pub mod distributor;
    pub mod panel;
    pub mod print;
}

/// The captive portal: its set-up and the pages phones see.
pub mod hotspot {
    pub mod api;
    pub mod portal;
}

/// The SMS outbox: gateways, messages, delivery reports, what messages say.
pub mod sms {
    pub mod api;
    pub mod panel;
    pub mod templates;
}

/// VPN accounts: remote Winbox access to customers' and resellers' routers.
pub mod vpn {
    pub mod api;
    pub mod panel;
}

/// Routers, zones and IP pools.
pub mod network {
    pub mod api;
    pub mod panel;
}

/// Master, operator and sub-operator packages.
pub mod package {
    pub mod api;
    pub mod panel;
}

/// Background jobs, their progress and results.
pub mod job {
    pub mod api;
    pub mod panel;
}

/// Customers and their import.
pub mod customer {
    pub mod api;
    pub mod export;
    pub mod import;
    pub mod panel;
}

/// Custom fields on customers: the tenant's definitions.
pub mod custom_field {
    pub mod api;
    pub mod panel;
}

/// Who is online: subscribers' sessions and usage.
pub mod online {
    pub mod api;
    pub mod panel;
}

/// The LibreQoS export: ShapedDevices.csv and network.json.
pub mod libreqos;

/// Postpaid billing: cash payments, billing runs.
pub mod billing {
    pub mod api;
    pub mod online;
}

/// Money: recharges, resellers' balances and top-ups, statements and journals.
pub mod ledger {
    pub mod api;
    pub mod panel;
    pub mod receipt;
}

/// Traffic graphs: the series as JSON and drawn as SVG.
pub mod traffic;

/// The customer's own site (`/my/{isp}`).
pub mod selfcare;

pub use state::AppState;
