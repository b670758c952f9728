//! Zero-touch provisioning (reference §2.10, fixing §2.18): what lastmile wants on a router
//! ([`wants`], from one source of truth per setting) and the changes that get it there from
//! what the router holds now ([`diff`]). Both are pure; `netops::provision` reads the router,
//! applies the steps and rolls them back.
//!
//! An item lastmile adds carries a `lastmile:` comment and is found by it, so a second run
//! finds it and changes nothing, and entries of others (another RADIUS server, rules typed
//! by hand) are never touched. Settings of the router's own items (`/ppp aaa`, the PPPoE
//! servers, the hotspot profiles) are set only where they differ, and every step carries
//! what it replaces so that it can be undone.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::Pool;

/// The comment prefix that marks lastmile's items on a router.
pub const MARK: &str = "lastmile:";

/// What a router is provisioned with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Where the router reaches lastmile's RADIUS server.
    pub radius_address: Ipv4Addr,
    /// The router's shared secret.
    pub secret: String,
    /// lastmile's authentication port.
    pub auth_port: u16,
    /// lastmile's accounting port.
    pub acct_port: u16,
    /// The port the router takes CoA and Disconnect requests on.
    pub coa_port: u16,
    /// Interim-update interval, seconds.
    pub interim_seconds: u32,
    /// The captive portal's address, let through the hotspot's walled garden.
    pub portal_address: Option<Ipv4Addr>,
    /// The pool suspended customers get their address from (the tenant's suspension
    /// policy), and whose traffic the firewall stops but for DNS and the portal.
    pub suspended: Option<(String, Pool)>,
    /// The router's identity, if lastmile sets it.
    pub identity: Option<String>,
    /// The SNMP community lastmile reads the router with, if any.
    pub snmp_community: Option<String>,
    /// Whether the router signs and checks Message-Authenticator (RouterOS 7.15 and later).
    pub message_auth: bool,
    /// The captive portal's pages for the hotspot's `html-directory`, when the router has a
    /// portal.
    pub portal_pages: Option<PortalPages>,
    /// Host names phones reach before they are online, to pay at the portal (the tenant's
    /// merchant accounts' checkout pages, `crate::hotspot::payment_hosts`), let through the
    /// hotspot's walled garden.
    pub payment_hosts: Vec<String>,
}

/// The pages of a router's captive portal (`crate::hotspot::router_pages`) and the
/// directory they go in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalPages {
    /// The hotspot's `html-directory`.
    pub directory: String,
    /// Each file's name and contents.
    pub files: Vec<(String, String)>,
}

/// The directory lastmile's hotspot pages go in (its own, so the router's stock pages stay
/// as they were).
pub const PORTAL_DIRECTORY: &str = "lastmile-hotspot";

/// How the item a [`Want`] is about is found in its menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum Find {
    /// The menu is one item (`/ppp aaa`).
    Singleton,
    /// lastmile's item with this comment (added when missing).
    Comment(String),
    /// The item of this name (added when missing).
    Name(String),
    /// Every item the menu has (none: nothing to do).
    Every,
}

/// One thing lastmile wants on the router: an item, found as [`Find`] says, with these
/// properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Want {
    /// The menu (`/radius`).
    pub menu: String,
    /// How its item is found.
    pub find: Find,
    /// The properties it must have, in RouterOS's names and forms.
    pub props: BTreeMap<String, String>,
    /// What it is for, for the plan's reader.
    pub why: String,
    /// Added before every other item of its chain (a firewall rule that must match first:
    /// appended, an earlier `accept` of someone else's would let the traffic through).
    #[serde(default)]
    pub first_in_chain: bool,
}

impl Want {
    fn new(menu: &str, find: Find, why: &str, props: &[(&str, String)]) -> Self {
        Self {
            menu: menu.to_owned(),
            find,
            props: props
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            why: why.to_owned(),
            first_in_chain: false,
        }
    }

    fn first_in_chain(mut self) -> Self {
        self.first_in_chain = true;
        self
    }
}

fn mark(what: &str) -> String {
    format!("{MARK}{what}")
}

fn yes(on: bool) -> String {
    if on { "yes" } else { "no" }.to_owned()
}

/// `seconds` as RouterOS writes a duration (`5m`, `90s`).
fn duration(seconds: u32) -> String {
    if seconds.is_multiple_of(3600) && seconds > 0 {
        format!("{}h", seconds / 3600)
    } else if seconds.is_multiple_of(60) && seconds > 0 {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

/// The menus [`wants`] may name, each with the properties read to compare (the finding
/// property and every property a want sets there).
pub const MENUS: &[&str] = &[
    "/radius",
    "/radius/incoming",
    "/ppp/aaa",
    "/interface/pppoe-server/server",
    "/file",
    "/ip/hotspot/profile",
    "/ip/hotspot/walled-garden/ip",
    "/ip/hotspot/walled-garden",
    "/ip/pool",
    "/ppp/profile",
    "/ip/firewall/filter",
    "/ip/firewall/nat",
    "/interface/l2tp-server/server",
    "/interface/sstp-server/server",
    "/interface/pptp-server/server",
    "/system/script",
    "/system/scheduler",
    "/system/identity",
    "/snmp",
    "/snmp/community",
];

/// Everything lastmile wants on a router provisioned with `s`, in the order it is applied.
pub fn wants(s: &Settings) -> Vec<Want> {
    let interim = duration(s.interim_seconds.max(60));
    let mut radius = vec![
        ("address", s.radius_address.to_string()),
        ("secret", s.secret.clone()),
        ("service", "ppp,hotspot".to_owned()),
        ("authentication-port", s.auth_port.to_string()),
        ("accounting-port", s.acct_port.to_string()),
        ("timeout", "3s".to_owned()),
        ("disabled", yes(false)),
    ];
    if s.message_auth {
        radius.push(("require-message-auth", yes(true)));
    }
    let mut out = vec![
        Want::new(
            "/radius",
            Find::Comment(mark("radius")),
            "lastmile as the RADIUS server for PPP and hotspot",
            &radius,
        ),
        Want::new(
            "/radius/incoming",
            Find::Singleton,
            "CoA and Disconnect from lastmile",
            &[("accept", yes(true)), ("port", s.coa_port.to_string())],
        ),
        Want::new(
            "/ppp/aaa",
            Find::Singleton,
            "PPP through RADIUS, with accounting and interim updates",
            &[
                ("use-radius", yes(true)),
                ("accounting", yes(true)),
                ("interim-update", interim.clone()),
            ],
        ),
        Want::new(
            "/interface/pppoe-server/server",
            Find::Every,
            "PPPoE logins with the methods RADIUS answers",
            &[("authentication", "pap,chap,mschap2".to_owned())],
        ),
        Want::new(
            "/ip/hotspot/profile",
            Find::Every,
            "hotspot logins through RADIUS, for the portal flow",
            &[
                ("use-radius", yes(true)),
                ("radius-accounting", yes(true)),
                ("radius-interim-update", interim),
                (
                    "login-by",
                    "http-chap,http-pap,cookie,mac-cookie".to_owned(),
                ),
            ],
        ),
    ];
    if let Some(pages) = &s.portal_pages {
        // The pages first, then the profile pointed at them.
        let profile = out
            .iter()
            .position(|w| w.menu == "/ip/hotspot/profile")
            .unwrap_or(out.len());
        if let Some(want) = out.get_mut(profile) {
            want.props
                .insert("html-directory".to_owned(), pages.directory.clone());
        }
        let files = pages.files.iter().map(|(name, contents)| {
            Want::new(
                "/file",
                Find::Name(format!("{}/{name}", pages.directory)),
                "a page of the captive portal, for the hotspot",
                &[("contents", contents.clone())],
            )
        });
        out.splice(profile..profile, files);
    }
    if let Some(portal) = s.portal_address {
        out.push(Want::new(
            "/ip/hotspot/walled-garden/ip",
            Find::Comment(mark("portal")),
            "the captive portal, reachable before login",
            &[
                ("action", "accept".to_owned()),
                ("dst-address", portal.to_string()),
                ("disabled", yes(false)),
            ],
        ));
    }
    for host in &s.payment_hosts {
        out.push(Want::new(
            "/ip/hotspot/walled-garden",
            Find::Comment(mark(&format!("pay {host}"))),
            "a payment provider's page, reachable before login to pay at the portal",
            &[
                ("action", "allow".to_owned()),
                ("dst-host", host.clone()),
                ("disabled", yes(false)),
            ],
        ));
    }
    if let Some((name, pool)) = &s.suspended {
        // One source of truth: the pool's ranges are the rules' source addresses.
        out.push(Want::new(
            "/ip/pool",
            Find::Name(name.clone()),
            "the pool suspended customers get their address from",
            &[("ranges", pool.routeros_ranges())],
        ));
        for (i, block) in pool.blocks().iter().enumerate() {
            let mut rule = vec![
                ("chain", "forward".to_owned()),
                ("src-address", block.to_string()),
                ("action", "drop".to_owned()),
                ("disabled", yes(false)),
            ];
            // The portal stays reachable: it is where a suspended customer pays.
            if let Some(portal) = s.portal_address {
                rule.push(("dst-address", format!("!{portal}")));
            }
            out.push(
                Want::new(
                    "/ip/firewall/filter",
                    Find::Comment(mark(&format!("suspended-{i}"))),
                    "suspended customers' traffic stopped (but for the portal)",
                    &rule,
                )
                .first_in_chain(),
            );
        }
    }
    out.extend(duplicate_sessions());
    if let Some(identity) = &s.identity {
        out.push(Want::new(
            "/system/identity",
            Find::Singleton,
            "the router's name",
            &[("name", identity.clone())],
        ));
    }
    if let Some(community) = &s.snmp_community {
        out.push(Want::new(
            "/snmp",
            Find::Singleton,
            "SNMP for lastmile's health checks",
            &[("enabled", yes(true))],
        ));
        out.push(Want::new(
            "/snmp/community",
            Find::Name(community.clone()),
            "the community lastmile reads with",
            &[("addresses", format!("{}/32", s.radius_address))],
        ));
    }
    out
}

/// The name of the script (and of its schedule) that ends duplicate PPP sessions.
pub const DUPLICATES: &str = "lastmile-duplicate-sessions";

/// The script's source, in RouterOS's scripting language: for each user name with more
/// than one session in `/ppp active`, every session but the newest (the least uptime) is
/// removed. A router that lost a session's end (a power cut at the customer's end, a
/// PPPoE server that missed the LCP echo) keeps a stale session beside the new one; the
/// stale one holds the address and counts against Simultaneous-Use. Kept free of commas:
/// the plan compares comma lists without regard to order.
pub const DUPLICATES_SOURCE: &str = r#":local newest [:toarray ""]
:local uptimes [:toarray ""]
:foreach id in=[/ppp active find] do={
  :local name [/ppp active get $id name]
  :local up [/ppp active get $id uptime]
  :if (([:typeof ($uptimes->$name)] = "nothing") || ($up < ($uptimes->$name))) do={
    :set ($newest->$name) $id
    :set ($uptimes->$name) $up
  }
}
:foreach id in=[/ppp active find] do={
  :local name [/ppp active get $id name]
  :if (($newest->$name) != $id) do={
    :log info ("lastmile: ending an older session of " . $name)
    /ppp active remove $id
  }
}
"#;

/// The duplicate-session script and the schedule running it every minute, found by name.
fn duplicate_sessions() -> [Want; 2] {
    let policy = "read,write,test".to_owned();
    [
        Want::new(
            "/system/script",
            Find::Name(DUPLICATES.to_owned()),
            "ends a user's older PPP sessions, keeping the newest",
            &[
                ("source", DUPLICATES_SOURCE.to_owned()),
                ("policy", policy.clone()),
                ("comment", mark("duplicate-sessions")),
            ],
        ),
        Want::new(
            "/system/scheduler",
            Find::Name(DUPLICATES.to_owned()),
            "runs the duplicate-session script every minute",
            &[
                ("interval", "1m".to_owned()),
                ("on-event", DUPLICATES.to_owned()),
                ("policy", policy),
                ("comment", mark("duplicate-sessions")),
                ("disabled", yes(false)),
            ],
        ),
    ]
}

/// What pushing lastmile's pools to a router wants (reference §2.13, the profile push): for
/// each pool, `/ip/pool` of its name with its exact ranges (what `Framed-Pool` names), and a
/// `/ppp/profile` of its name giving addresses from it, with `gateway` as the router's own
/// end of each link when given (an address outside every customer pool, as a BNG's
/// loopback). Found by name: a second push changes nothing, and a pool or profile of the
/// same name set by hand is brought to lastmile's values, never duplicated.
pub fn pool_wants(pools: &[(String, Pool)], gateway: Option<Ipv4Addr>) -> Vec<Want> {
    let mut out = Vec::with_capacity(pools.len() * 2);
    for (name, pool) in pools {
        out.push(Want::new(
            "/ip/pool",
            Find::Name(name.clone()),
            "a pool lastmile's packages give addresses from",
            &[("ranges", pool.routeros_ranges())],
        ));
        let mut profile = vec![("remote-address", name.clone())];
        if let Some(gateway) = gateway {
            profile.push(("local-address", gateway.to_string()));
        }
        out.push(Want::new(
            "/ppp/profile",
            Find::Name(name.clone()),
            "a PPP profile giving addresses from the pool",
            &profile,
        ));
    }
    out
}

/// An item of a menu as the router printed it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Its `.id` (none for a singleton).
    pub id: Option<String>,
    /// Its properties.
    pub props: BTreeMap<String, String>,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    /// Adds an item with these properties (undone by removing it).
    Add {
        /// Its properties.
        props: BTreeMap<String, String>,
    },
    /// Sets properties of an item (of the singleton when `id` is none), undone by setting
    /// back what they were (`before`; empty where the property had no value).
    Set {
        /// The item.
        id: Option<String>,
        /// The new values.
        props: BTreeMap<String, String>,
        /// The values they replace.
        before: BTreeMap<String, String>,
    },
    /// Removes an item of lastmile's no longer wanted, undone by adding it back with the
    /// properties it had.
    Remove {
        /// The item.
        id: String,
        /// Its properties as read.
        props: BTreeMap<String, String>,
    },
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The menu.
    pub menu: String,
    /// What it is for.
    pub why: String,
    /// What it does.
    #[serde(flatten)]
    pub change: Change,
}

/// The value RouterOS means: `true`/`false` print for `yes`/`no`, and the order of a comma
/// list does not matter.
fn normal(value: &str) -> String {
    match value {
        "true" | "yes" => "yes".to_owned(),
        "false" | "no" => "no".to_owned(),
        _ if value.contains(',') => {
            let mut parts: Vec<&str> = value.split(',').map(str::trim).collect();
            parts.sort_unstable();
            parts.join(",")
        }
        _ => value.to_owned(),
    }
}

/// The properties of `want` that `item` does not have, with what it has instead.
fn differing(
    want: &BTreeMap<String, String>,
    item: &Item,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut set = BTreeMap::new();
    let mut before = BTreeMap::new();
    for (k, v) in want {
        let have = item.props.get(k).cloned().unwrap_or_default();
        if normal(&have) != normal(v) {
            set.insert(k.clone(), v.clone());
            before.insert(k.clone(), have);
        }
    }
    (set, before)
}

/// The id of the first item of `items` in `want`'s chain, if there is one.
fn first_of_chain(want: &Want, items: &[Item]) -> Option<String> {
    let chain = want.props.get("chain")?;
    items
        .iter()
        .find(|i| i.props.get("chain") == Some(chain))
        .and_then(|i| i.id.clone())
}

/// The steps that take a router holding `current` (menu → items) to `wants`; none when it
/// already has them. An item added first in its chain is placed before the chain's first
/// (`place-before`).
pub fn diff(wants: &[Want], current: &BTreeMap<String, Vec<Item>>) -> Vec<Step> {
    let mut steps = Vec::new();
    let empty = Vec::new();
    for want in wants {
        let items = current.get(&want.menu).unwrap_or(&empty);
        let step = |change| Step {
            menu: want.menu.clone(),
            why: want.why.clone(),
            change,
        };
        let mut set_on = |item: &Item| {
            let (props, before) = differing(&want.props, item);
            if !props.is_empty() {
                steps.push(step(Change::Set {
                    id: item.id.clone(),
                    props,
                    before,
                }));
            }
        };
        match &want.find {
            Find::Singleton => set_on(items.first().unwrap_or(&Item::default())),
            Find::Every => items.iter().for_each(set_on),
            Find::Comment(key) | Find::Name(key) => {
                let prop = if matches!(want.find, Find::Comment(_)) {
                    "comment"
                } else {
                    "name"
                };
                match items
                    .iter()
                    .find(|i| i.props.get(prop).map(String::as_str) == Some(key))
                {
                    Some(item) => set_on(item),
                    None => {
                        let mut props = want.props.clone();
                        props.insert(prop.to_owned(), key.clone());
                        if let Some(first) = want
                            .first_in_chain
                            .then(|| first_of_chain(want, items))
                            .flatten()
                        {
                            props.insert("place-before".to_owned(), first);
                        }
                        steps.push(step(Change::Add { props }));
                    }
                }
            }
        }
    }
    steps
}

/// The steps that remove the items of `menu` in `current` whose comment `ours` claims
/// (lastmile's, of a kind) but no want of `wants` finds: what a deleted account left.
/// Items of others, and lastmile's wanted ones, are never touched.
pub fn strays(
    menu: &str,
    ours: impl Fn(&str) -> bool,
    wants: &[Want],
    current: &BTreeMap<String, Vec<Item>>,
    why: &str,
) -> Vec<Step> {
    let wanted: std::collections::HashSet<&str> = wants
        .iter()
        .filter(|w| w.menu == menu)
        .filter_map(|w| match &w.find {
            Find::Comment(c) => Some(c.as_str()),
            _ => None,
        })
        .collect();
    let empty = Vec::new();
    current
        .get(menu)
        .unwrap_or(&empty)
        .iter()
        .filter_map(|item| {
            let comment = item.props.get("comment")?;
            let id = item.id.clone()?;
            (ours(comment) && !wanted.contains(comment.as_str())).then(|| Step {
                menu: menu.to_owned(),
                why: why.to_owned(),
                change: Change::Remove {
                    id,
                    props: item
                        .props
                        .iter()
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                },
            })
        })
        .collect()
}

/// The properties whose values are secrets: never shown, logged or kept in clear.
const SECRET_PROPS: &[&str] = &["secret", "password", "ipsec-secret"];

/// `steps` with every secret value hidden, for what is shown, audited or kept readable.
pub fn redacted(steps: &[Step]) -> Vec<Step> {
    let hide = |props: &BTreeMap<String, String>| {
        props
            .iter()
            .map(|(k, v)| {
                let v = if SECRET_PROPS.contains(&k.as_str()) && !v.is_empty() {
                    "(hidden)".to_owned()
                } else {
                    v.clone()
                };
                (k.clone(), v)
            })
            .collect()
    };
    steps
        .iter()
        .map(|step| Step {
            menu: step.menu.clone(),
            why: step.why.clone(),
            change: match &step.change {
                Change::Add { props } => Change::Add { props: hide(props) },
                Change::Set { id, props, before } => Change::Set {
                    id: id.clone(),
                    props: hide(props),
                    before: hide(before),
                },
                Change::Remove { id, props } => Change::Remove {
                    id: id.clone(),
                    props: hide(props),
                },
            },
        })
        .collect()
}

/// The properties read from `menu` to compare with `wants`: `.id`, the finding
/// properties, and every property a want sets there.
pub fn proplist(wants: &[Want], menu: &str) -> Vec<String> {
    let mut props = vec![".id".to_owned(), "comment".to_owned(), "name".to_owned()];
    for want in wants.iter().filter(|w| w.menu == menu) {
        props.extend(want.props.keys().cloned());
    }
    props.sort();
    props.dedup();
    props
}

#[cfg(test)]
#[path = "provision_tests.rs"]
mod tests;
