//! The LibreQoS export: `ShapedDevices.csv` and `network.json` of one tenant's customers in
//! service, for the API and the command line alike. [`open`] asks `domain::access` who may
//! (`export_shaping`), settles the tenant and reads the network tree; the [`Export`] it
//! returns then hands out the CSV a page of customers at a time ([`Export::next_chunk`]),
//! so neither the HTTP answer nor the file is ever held whole, and counts what it left out
//! and why ([`Export::report`]).
//!
//! The rules (which customers, which address, which rates, the node names) are
//! `domain::libreqos`'s; the reads are `store::libreqos`'s. Nothing is written: the export
//! is a read of data the caller may already list, and like the other list exports it is
//! not audited.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::{Ctx, OpError};
use domain::access::{self, Actor, CustomerScope};
use domain::customer::{CustomerState, CustomerStatus};
use domain::ids::TenantId;
use domain::libreqos::{
    DEFAULT_NODE_MBPS, Layout, NODE_MBPS_MAX, Network, Report, Subscriber, row, write_header,
};

/// What the caller asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The tenant: required of the platform's roles, the caller's own otherwise.
    pub tenant: Option<TenantId>,
    /// The tree, or a flat network.
    pub layout: Layout,
    /// Each node's bandwidth, Mbit/s each way ([`DEFAULT_NODE_MBPS`] when not given).
    pub node_mbps: Option<u32>,
}

/// An export under way: the network tree read, the customers handed out page by page.
#[derive(Debug)]
pub struct Export {
    tenant: TenantId,
    scope: CustomerScope,
    network: Network,
    now: DateTime<Utc>,
    after: i64,
    started: bool,
    done: bool,
    report: Report,
}

/// Starts the export of `options.tenant` (or the caller's) for `actor`: 403 for a caller
/// who may not, 404 for a tenant it does not see, 422 for a platform caller naming no
/// tenant or a node bandwidth out of range.
pub async fn open(ctx: &Ctx<'_>, actor: &Actor, options: &Options) -> Result<Export, OpError> {
    let scope = access::export_shaping(actor)?;
    let mbps = options.node_mbps.unwrap_or(DEFAULT_NODE_MBPS);
    if !(1..=NODE_MBPS_MAX).contains(&mbps) {
        return Err(domain::field::FieldError::new("node_mbps", "out_of_range")
            .with("min", 1)
            .with("max", NODE_MBPS_MAX)
            .into());
    }
    let tenant = match (actor.tenant_id, options.tenant) {
        (Some(own), Some(asked)) if own != asked => return Err(OpError::NotFound),
        (Some(own), _) => own,
        (None, Some(asked)) => asked,
        (None, None) => return Err(OpError::field("tenant_id", "required")),
    };
    let conn = ctx.db.conn();
    store::libreqos::tenant_named(conn, &access::tenant_scope(actor), &tenant.0.to_string())
        .await?
        .ok_or(OpError::NotFound)?;
    let network_scope = access::network_scope(actor);
    let routers = store::libreqos::routers(conn, &network_scope, tenant).await?;
    let zones = store::libreqos::zones(conn, &network_scope, tenant).await?;
    let places = match options.layout {
        Layout::Tree => store::libreqos::places(conn, &scope, tenant).await?,
        Layout::Flat => Vec::new(),
    };
    let network = Network::build(options.layout, mbps, &routers, &zones, &places);
    Ok(Export {
        tenant,
        scope,
        network,
        now: ctx.now,
        after: 0,
        started: false,
        done: false,
        report: Report::default(),
    })
}

impl Export {
    /// The tenant exported.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// `network.json`.
    pub fn network_json(&self) -> Value {
        self.network.to_json()
    }

    /// The nodes of the tree.
    pub fn nodes(&self) -> usize {
        self.network.len()
    }

    /// What was shaped and left out so far (all of it once [`Export::next_chunk`] answered
    /// `None`).
    pub fn report(&self) -> Report {
        self.report
    }

    /// The next part of `ShapedDevices.csv` (the header first), one page of customers; `None`
    /// when every customer was read.
    pub async fn next_chunk(&mut self, db: &store::Db) -> Result<Option<Vec<u8>>, OpError> {
        if self.done {
            return Ok(None);
        }
        let mut out = Vec::new();
        if !self.started {
            write_header(&mut out);
            self.started = true;
        }
        let page = store::libreqos::page(db.conn(), &self.scope, self.tenant, self.after).await?;
        if (page.len() as u64) < store::libreqos::PAGE {
            self.done = true;
        }
        for c in &page {
            self.after = c.id;
            let sub = Subscriber {
                customer_id: c.id,
                name: &c.name,
                username: &c.username,
                mac: c.mac.as_deref(),
                place: c.place,
                state: Some(CustomerState::of(
                    CustomerStatus::Active,
                    c.billing_type,
                    c.expires_at,
                    self.now,
                )),
                static_ip: c.static_ip,
                session_ipv4: &c.ipv4,
                session_ipv6: &c.ipv6,
                down_kbps: c.down_kbps,
                up_kbps: c.up_kbps,
                package: &c.package,
            };
            match row(&sub, &self.network) {
                Ok(line) => {
                    line.write_to(&mut out);
                    self.report.count(Ok(()));
                }
                Err(skip) => self.report.count(Err(skip)),
            }
        }
        Ok(Some(out))
    }
}

/// What an export of `options` would shape and leave out, without the file: the whole
/// pass, its lines dropped as they are made.
pub async fn summary(
    ctx: &Ctx<'_>,
    actor: &Actor,
    options: &Options,
) -> Result<(TenantId, usize, Report), OpError> {
    let mut export = open(ctx, actor, options).await?;
    while export.next_chunk(ctx.db).await?.is_some() {}
    Ok((export.tenant(), export.nodes(), export.report()))
}

/// The tenant a command line names (`--tenant`, its id or realm), or the only active one
/// when it names none; 422 `tenant_id` `required` when there are several, 404 when none
/// matches.
pub async fn cli_tenant(
    ctx: &Ctx<'_>,
    actor: &Actor,
    key: Option<&str>,
) -> Result<TenantId, OpError> {
    let scope = access::tenant_scope(actor);
    match key {
        Some(key) => store::libreqos::tenant_named(ctx.db.conn(), &scope, key)
            .await?
            .ok_or(OpError::NotFound),
        None => match store::libreqos::active_tenants(ctx.db.conn(), &scope, 2)
            .await?
            .as_slice()
        {
            [only] => Ok(*only),
            [] => Err(OpError::NotFound),
            _ => Err(OpError::field("tenant_id", "required")),
        },
    }
}
