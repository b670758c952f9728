//! The LibreQoS export, pure: what lastmile's customers, packages and addresses become in
//! LibreQoS's two input files. [`Network`] is the node tree of `network.json` (routers,
//! and under each the zones its customers are filed in) and gives every customer the
//! name of its Parent Node, so the two files agree; [`row`] turns one customer into a
//! line of `ShapedDevices.csv` or says why it is left out ([`Skip`]).
//!
//! What it does not own: reading the customers (`store::libreqos`), who may export
//! (`access::export_shaping`), writing files or answering HTTP (`ops`, `web`, the CLI).
//!
//! The format, as LibreQoS reads it: one circuit per customer, one device per circuit;
//! rates in Mbit/s with decimals (LibreQoS 1.5 and later), download being towards the
//! subscriber; a maximum of at least 0.2 Mbit/s and a minimum of at least 0.1 Mbit/s, never
//! above the maximum; several addresses in one cell separated by `, `; an empty Parent Node
//! puts the circuit under LibreQoS's generated parent nodes (a flat network, whose
//! `network.json` is `{}`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value, json};

use crate::customer::CustomerState;
use crate::text::spreadsheet_safe;

/// The columns of `ShapedDevices.csv`, in LibreQoS's order.
pub const HEADER: [&str; 13] = [
    "Circuit ID",
    "Circuit Name",
    "Device ID",
    "Device Name",
    "Parent Node",
    "MAC",
    "IPv4",
    "IPv6",
    "Download Min Mbps",
    "Upload Min Mbps",
    "Download Max Mbps",
    "Upload Max Mbps",
    "Comment",
];

/// A node's bandwidth in `network.json` when none is asked for, Mbit/s each way. Routers
/// and zones store no capacity, so a node caps nothing below 10 Gbit/s unless the ISP says
/// what its links carry.
pub const DEFAULT_NODE_MBPS: u32 = 10_000;

/// The largest node bandwidth accepted, Mbit/s (400 Gbit/s).
pub const NODE_MBPS_MAX: u32 = 400_000;

/// The rate a circuit is guaranteed (LibreQoS's minimum), kbit/s: 1 Mbit/s, as LibreQoS's
/// own integrations write, or the whole rate of a slower package. Packages hold no
/// committed rate; the maximum is what shapes.
pub const GUARANTEED_KBPS: u32 = 1_000;

/// The slowest maximum LibreQoS accepts, kbit/s (0.2 Mbit/s). A slower package is left out
/// rather than written into a file LibreQoS would refuse whole.
pub const MAX_FLOOR_KBPS: u32 = 200;

/// How the export lays the network out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Routers at the top, the zones of their customers beneath them.
    #[default]
    Tree,
    /// No nodes: every circuit with an empty Parent Node, `network.json` `{}`.
    Flat,
}

impl Layout {
    /// Parses `tree` or `flat`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "tree" => Some(Self::Tree),
            "flat" => Some(Self::Flat),
            _ => None,
        }
    }
}

/// Where a customer is filed: its router and its zone, either or both absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Place {
    /// The router it connects through.
    pub router: Option<i64>,
    /// The zone it is filed under.
    pub zone: Option<i64>,
}

/// A router as the tree names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterNode {
    /// Its id.
    pub id: i64,
    /// Its name (unique in its tenant).
    pub name: String,
}

/// A zone as the tree names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneNode {
    /// Its id.
    pub id: i64,
    /// Its name (unique in its tenant).
    pub name: String,
    /// The zone it lies in, if any.
    pub parent: Option<i64>,
}

#[derive(Debug, Clone)]
struct Node {
    name: String,
    parent: Option<Place>,
}

/// The node tree of `network.json` and the Parent Node of every place in it.
///
/// A router is a top node (named as the router); a zone under a router is named
/// `zone @ router`, with the zones around it up to the top as its ancestors; a zone of
/// customers without a router is a top node of its own (named as the zone). Names are made
/// spreadsheet-safe once, here, so the CSV and the JSON carry the same text; a name already
/// taken gets the ids it stands for appended.
#[derive(Debug, Clone)]
pub struct Network {
    layout: Layout,
    mbps: u32,
    nodes: BTreeMap<Place, Node>,
    routers: HashSet<i64>,
    zones: HashMap<i64, Option<i64>>,
}

impl Network {
    /// The tree holding `places` (the router and zone pairs of the customers exported),
    /// each node `mbps` each way. Routers and zones not found in `routers` and `zones`
    /// (archived) are left out of a place; a zone's ancestry stops at a loop.
    pub fn build(
        layout: Layout,
        mbps: u32,
        routers: &[RouterNode],
        zones: &[ZoneNode],
        places: &[Place],
    ) -> Self {
        let mut network = Self {
            layout,
            mbps,
            nodes: BTreeMap::new(),
            routers: routers.iter().map(|r| r.id).collect(),
            zones: rooted(zones),
        };
        if layout == Layout::Flat {
            return network;
        }
        let router_names: HashMap<i64, &str> =
            routers.iter().map(|r| (r.id, r.name.as_str())).collect();
        let zone_names: HashMap<i64, &str> =
            zones.iter().map(|z| (z.id, z.name.as_str())).collect();
        let mut wanted: BTreeSet<Place> = BTreeSet::new();
        for place in places {
            let place = network.known(*place);
            if let Some(router) = place.router {
                wanted.insert(Place {
                    router: Some(router),
                    zone: None,
                });
            }
            for zone in network.ancestry(place.zone) {
                wanted.insert(Place {
                    router: place.router,
                    zone: Some(zone),
                });
            }
        }
        // Names are given routers first, then zones under routers, then zones alone, so a
        // router keeps its own name when a zone shares it.
        let mut wanted: Vec<Place> = wanted.into_iter().collect();
        wanted.sort_by_key(|p| (p.router.is_none(), p.zone.is_some(), *p));
        let mut taken: HashSet<String> = HashSet::new();
        for place in wanted {
            let router = place.router.and_then(|r| router_names.get(&r).copied());
            let zone = place.zone.and_then(|z| zone_names.get(&z).copied());
            let base = match (router, zone) {
                (Some(r), Some(z)) => format!("{z} @ {r}"),
                (Some(r), None) => r.to_owned(),
                (None, Some(z)) => z.to_owned(),
                (None, None) => continue,
            };
            let name = unique(spreadsheet_safe(&base), place, &mut taken);
            let parent = match place
                .zone
                .and_then(|z| network.zones.get(&z).copied().flatten())
            {
                Some(up) => Some(Place {
                    router: place.router,
                    zone: Some(up),
                }),
                None if place.zone.is_some() && place.router.is_some() => Some(Place {
                    router: place.router,
                    zone: None,
                }),
                None => None,
            };
            network.nodes.insert(place, Node { name, parent });
        }
        network
    }

    /// The place as the tree knows it: a router or zone it does not hold is absent.
    fn known(&self, place: Place) -> Place {
        Place {
            router: place.router.filter(|r| self.routers.contains(r)),
            zone: place.zone.filter(|z| self.zones.contains_key(z)),
        }
    }

    /// `zone` and the zones above it.
    fn ancestry(&self, zone: Option<i64>) -> Vec<i64> {
        let mut chain = Vec::new();
        let mut next = zone;
        // `rooted` cut every loop; the bound is a second guard.
        while let Some(z) = next
            && chain.len() <= self.zones.len()
        {
            chain.push(z);
            next = self.zones.get(&z).copied().flatten();
        }
        chain
    }

    /// The Parent Node of a customer at `place`: its deepest node, or empty (LibreQoS's
    /// generated parent nodes) when flat or when the tree does not hold the place.
    pub fn parent_node(&self, place: Place) -> &str {
        self.nodes
            .get(&self.known(place))
            .map_or("", |n| n.name.as_str())
    }

    /// The names of every node.
    pub fn node_names(&self) -> impl Iterator<Item = &str> {
        self.nodes.values().map(|n| n.name.as_str())
    }

    /// How many nodes the tree holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the tree holds no node (a flat network).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// `network.json`: `{}` when flat, else the nested nodes with their bandwidth and
    /// children.
    pub fn to_json(&self) -> Value {
        let mut children: HashMap<Option<Place>, Vec<Place>> = HashMap::new();
        for (place, node) in &self.nodes {
            children.entry(node.parent).or_default().push(*place);
        }
        Value::Object(self.level(None, &children))
    }

    fn level(
        &self,
        parent: Option<Place>,
        children: &HashMap<Option<Place>, Vec<Place>>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for place in children.get(&parent).map(Vec::as_slice).unwrap_or_default() {
            let Some(node) = self.nodes.get(place) else {
                continue;
            };
            let mut body = Map::new();
            body.insert("downloadBandwidthMbps".into(), json!(self.mbps));
            body.insert("uploadBandwidthMbps".into(), json!(self.mbps));
            body.insert("type".into(), json!("Site"));
            let below = self.level(Some(*place), children);
            if !below.is_empty() {
                body.insert("children".into(), Value::Object(below));
            }
            out.insert(node.name.clone(), Value::Object(body));
        }
        out
    }

    /// The layout the tree was built for.
    pub fn layout(&self) -> Layout {
        self.layout
    }
}

/// Each zone's parent, a parent not among `zones` (archived) taken as none, and every loop
/// cut where a walk up from a zone first meets a zone it passed (the store keeps zones a
/// tree; a file LibreQoS reads must hold one even if it did not).
fn rooted(zones: &[ZoneNode]) -> HashMap<i64, Option<i64>> {
    let ids: HashSet<i64> = zones.iter().map(|z| z.id).collect();
    let mut parents: HashMap<i64, Option<i64>> = zones
        .iter()
        .map(|z| (z.id, z.parent.filter(|p| ids.contains(p) && *p != z.id)))
        .collect();
    let mut order: Vec<i64> = ids.into_iter().collect();
    order.sort_unstable();
    for start in order {
        let mut walked = vec![start];
        let mut at = start;
        while let Some(up) = parents.get(&at).copied().flatten() {
            if walked.contains(&up) {
                parents.insert(at, None);
                break;
            }
            walked.push(up);
            at = up;
        }
    }
    parents
}

/// `name`, or with the ids it stands for appended when another node holds it already.
fn unique(name: String, place: Place, taken: &mut HashSet<String>) -> String {
    let mut candidate = name.clone();
    let tag = match (place.router, place.zone) {
        (Some(r), Some(z)) => format!("r{r} z{z}"),
        (Some(r), None) => format!("r{r}"),
        (None, Some(z)) => format!("z{z}"),
        (None, None) => String::new(),
    };
    let mut n = 1;
    while taken.contains(&candidate) {
        candidate = if n == 1 {
            format!("{name} [{tag}]")
        } else {
            format!("{name} [{tag} {n}]")
        };
        n += 1;
    }
    taken.insert(candidate.clone());
    candidate
}

/// A customer as the export reads it.
#[derive(Debug, Clone, Default)]
pub struct Subscriber<'a> {
    /// The customer's id: its Circuit ID and Device ID.
    pub customer_id: i64,
    /// Its name: the Circuit Name.
    pub name: &'a str,
    /// Its RADIUS user name: the Device Name.
    pub username: &'a str,
    /// The MAC it is bound to, if any.
    pub mac: Option<&'a str>,
    /// Where it is filed.
    pub place: Place,
    /// What it gets now; only [`CustomerState::Active`] is shaped.
    pub state: Option<CustomerState>,
    /// Its static address (the stored integer), if it has one.
    pub static_ip: Option<i64>,
    /// The IPv4 addresses of its open sessions, as `radacct` holds them.
    pub session_ipv4: &'a [String],
    /// The IPv6 addresses and prefixes of its open sessions (framed and delegated).
    pub session_ipv6: &'a [String],
    /// Its package's download rate, kbit/s.
    pub down_kbps: i64,
    /// Its package's upload rate, kbit/s.
    pub up_kbps: i64,
    /// Its package's name: the Comment.
    pub package: &'a str,
}

/// Why a customer is not in `ShapedDevices.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Skip {
    /// Not in service now (expired, suspended or disabled): nothing to shape.
    NotInService,
    /// No static address and no open session with one: LibreQoS could not tell its
    /// traffic.
    NoAddress,
    /// A package slower than LibreQoS accepts ([`MAX_FLOOR_KBPS`]).
    RateTooLow,
}

impl Skip {
    /// Its code (`not_in_service`, `no_address`, `rate_too_low`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotInService => "not_in_service",
            Self::NoAddress => "no_address",
            Self::RateTooLow => "rate_too_low",
        }
    }
}

/// One line of `ShapedDevices.csv`, its cells in [`HEADER`]'s order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row(pub [String; 13]);

impl Row {
    /// Appends the line, quoted where a cell needs it (RFC 4180), ending in `\n`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        write_line(out, self.0.iter().map(String::as_str));
    }
}

/// Appends the header line.
pub fn write_header(out: &mut Vec<u8>) {
    write_line(out, HEADER.iter().copied());
}

fn write_line<'a>(out: &mut Vec<u8>, cells: impl Iterator<Item = &'a str>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if cell.contains([',', '"', '\n', '\r']) || cell.starts_with(' ') || cell.ends_with(' ') {
            out.push(b'"');
            out.extend_from_slice(cell.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(cell.as_bytes());
        }
    }
    out.push(b'\n');
}

/// How many customers an export shaped, and how many it left out and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Report {
    /// Lines written.
    pub shaped: u64,
    /// Left out: not in service.
    pub not_in_service: u64,
    /// Left out: no address.
    pub no_address: u64,
    /// Left out: a package slower than LibreQoS accepts.
    pub rate_too_low: u64,
}

impl Report {
    /// Counts one customer's outcome.
    pub fn count(&mut self, outcome: Result<(), Skip>) {
        match outcome {
            Ok(()) => self.shaped += 1,
            Err(Skip::NotInService) => self.not_in_service += 1,
            Err(Skip::NoAddress) => self.no_address += 1,
            Err(Skip::RateTooLow) => self.rate_too_low += 1,
        }
    }

    /// Every customer left out.
    pub fn skipped(&self) -> u64 {
        self.not_in_service + self.no_address + self.rate_too_low
    }
}

/// The line of `sub`, its Parent Node from `network`, or why it has none.
///
/// Addresses: the static address when it has one, else the IPv4 addresses of its open
/// sessions; the IPv6 ones of its sessions in either case. Rates: the package's download
/// and upload as the maximum (a MikroTik burst has no equal in LibreQoS, which shapes to
/// the steady rate), [`GUARANTEED_KBPS`] or the whole rate if slower as the minimum.
pub fn row(sub: &Subscriber<'_>, network: &Network) -> Result<Row, Skip> {
    if sub.state != Some(CustomerState::Active) {
        return Err(Skip::NotInService);
    }
    let down = rate(sub.down_kbps)?;
    let up = rate(sub.up_kbps)?;
    let ipv4 = ipv4_cell(sub.static_ip, sub.session_ipv4);
    let ipv6 = ipv6_cell(sub.session_ipv6);
    if ipv4.is_empty() && ipv6.is_empty() {
        return Err(Skip::NoAddress);
    }
    let id = sub.customer_id.to_string();
    Ok(Row([
        id.clone(),
        spreadsheet_safe(sub.name),
        id,
        spreadsheet_safe(sub.username),
        network.parent_node(sub.place).to_owned(),
        sub.mac.map(spreadsheet_safe).unwrap_or_default(),
        ipv4,
        ipv6,
        mbps(down.min(GUARANTEED_KBPS)),
        mbps(up.min(GUARANTEED_KBPS)),
        mbps(down),
        mbps(up),
        spreadsheet_safe(sub.package),
    ]))
}

/// A package rate LibreQoS accepts, kbit/s.
fn rate(kbps: i64) -> Result<u32, Skip> {
    match u32::try_from(kbps) {
        Ok(k) if k >= MAX_FLOOR_KBPS => Ok(k),
        _ => Err(Skip::RateTooLow),
    }
}

/// `kbps` in Mbit/s as LibreQoS reads it: `10`, `1.5`, `0.512`.
pub fn mbps(kbps: u32) -> String {
    let whole = kbps / 1000;
    let part = kbps % 1000;
    if part == 0 {
        return whole.to_string();
    }
    let decimals = format!("{part:03}");
    format!("{whole}.{}", decimals.trim_end_matches('0'))
}

fn ipv4_cell(static_ip: Option<i64>, sessions: &[String]) -> String {
    let fixed = static_ip
        .and_then(|v| u32::try_from(v).ok())
        .map(Ipv4Addr::from);
    let addresses: BTreeSet<Ipv4Addr> = match fixed {
        Some(address) => BTreeSet::from([address]),
        None => sessions
            .iter()
            .filter_map(|s| s.trim().parse::<Ipv4Addr>().ok())
            .filter(|a| !a.is_unspecified())
            .collect(),
    };
    join(addresses.iter().map(ToString::to_string))
}

fn ipv6_cell(sessions: &[String]) -> String {
    let networks: BTreeSet<(Ipv6Addr, u8)> = sessions.iter().filter_map(|s| ipv6(s)).collect();
    join(networks.iter().map(|(a, len)| format!("{a}/{len}")))
}

/// An IPv6 address (as a /128) or prefix, as `radacct` may hold it.
fn ipv6(text: &str) -> Option<(Ipv6Addr, u8)> {
    let text = text.trim();
    let (address, len) = match text.split_once('/') {
        Some((a, l)) => (a, l.parse::<u8>().ok().filter(|l| *l <= 128)?),
        None => (text, 128),
    };
    let address = address.parse::<Ipv6Addr>().ok()?;
    (!address.is_unspecified()).then_some((address, len))
}

fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
#[path = "libreqos_tests.rs"]
mod tests;
