//! The shapes of `GET /api/v1/customers` the bench draws at random, so a slow combination
//! of filters, search and order cannot hide behind a handful of chosen cases: each filter is
//! taken independently with its own probability, its value drawn from what the asking role
//! can see (its packages, the tenant's routers, zones and resellers) or from the seed's
//! known data (names, user-name, mobile and MAC prefixes). The generator is a seeded RNG:
//! the seed is printed, and `LASTMILE_BENCH_SEED` repeats a run's shapes.
//!
//! Beside the random shapes, every role gets the chosen cases the issue names.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{RngExt as _, SeedableRng as _};

// The seed's names: parts of them are name searches.
use lastmile::seed::{FIRST, LAST};

/// The seed's areas, as they appear in PPPoE user names (`b{stamp}{area}{n}`).
const AREAS: &[&str] = &["mirpur", "uttara", "dhanmondi", "gulshan"];
/// Partial IPv4 addresses: the seed's pools and routers, and nothing.
const IPV4_PARTS: &[&str] = &[
    "100.64.",
    "100.64.0.",
    "100.65.",
    "100.",
    "172.16.",
    "172.16.0.",
    "10.200.",
    "192.168.",
];
/// `status` values of the list.
const STATUSES: &[&str] = &[
    "active",
    "expired",
    "expires_today",
    "suspended",
    "disabled",
];
/// `connection_type` values the list accepts (`read_connection`).
const CONNECTIONS: &[&str] = &["pppoe", "hotspot", "static_ip"];
/// `billing_type` values.
const BILLINGS: &[&str] = &["prepaid", "postpaid", "free"];
/// Orders of the list; each also descending with `-`.
const SORTS: &[&str] = &["id", "name", "username", "created_at", "expires_at"];

/// What a query value must escape: the separators of a query string, and `+`.
const QUERY_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'=')
    .add(b'?');

/// The seed of the shapes: `LASTMILE_BENCH_SEED`, else a random one (printed by the caller
/// so the run can be repeated).
pub fn seed() -> u64 {
    std::env::var("LASTMILE_BENCH_SEED")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(rand::random)
}

/// Who asks: the accounts the shapes are run as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The install's Developer: sees every tenant.
    Developer,
    /// The seeded tenant's Admin.
    Admin,
    /// The operator with the most customers (`op0`).
    BigOperator,
    /// An operator with few customers (`op9`).
    SmallOperator,
    /// A sub-operator (`sub0-0`, under `op0`).
    SubOperator,
}

impl Role {
    /// Every role, in the order they are measured.
    pub const ALL: [Role; 5] = [
        Role::Developer,
        Role::Admin,
        Role::BigOperator,
        Role::SmallOperator,
        Role::SubOperator,
    ];

    /// The role's name in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Role::Developer => "Developer",
            Role::Admin => "Admin",
            Role::BigOperator => "operator op0",
            Role::SmallOperator => "operator op9",
            Role::SubOperator => "sub-operator sub0-0",
        }
    }

    /// The local part of the seeded account's e-mail (`{local}@bench-{stamp}.example`);
    /// none for the Developer, the install's own account.
    pub fn local_part(self) -> Option<&'static str> {
        match self {
            Role::Developer => None,
            Role::Admin => Some("admin"),
            Role::BigOperator => Some("op0"),
            Role::SmallOperator => Some("op9"),
            Role::SubOperator => Some("sub0-0"),
        }
    }

    /// Whether the role sees the whole tenant, and so filters by reseller (`owner_id`).
    pub fn sees_tenant(self) -> bool {
        matches!(self, Role::Developer | Role::Admin)
    }
}

/// What one role's shapes draw their values from.
#[derive(Debug, Clone, Default)]
pub struct Pools {
    /// The seeded tenant.
    pub tenant: i64,
    /// The seed's stamp: user names are `b{stamp}...` and `...@bench{stamp}`.
    pub stamp: String,
    /// Customers seeded (for mobile and MAC prefixes that exist).
    pub customers: usize,
    /// The tenant's routers.
    pub routers: Vec<i64>,
    /// The tenant's zones, areas and leaves.
    pub zones: Vec<i64>,
    /// The packages the role lists itself (all the tenant's for an Admin or the Developer).
    pub packages: Vec<i64>,
    /// The tenant's operators and sub-operators (empty for a reseller role).
    pub owners: Vec<i64>,
    /// A customer the role sees: its router and package, for the chosen three filters.
    pub sample: Option<(i64, i64)>,
}

/// One shape of the list: a query string, and whether the measured request is its second
/// page (the first page's `next_cursor`, found when it is measured).
#[derive(Debug, Clone)]
pub struct Shape {
    /// The list: `customers`, or `sessions` for the sessions list's cases.
    pub list: &'static str,
    /// `#7` for a random shape, the case for a chosen one.
    pub name: String,
    /// The first page's query string (escaped), without `cursor`.
    pub query: String,
    /// Measure the page after the first.
    pub next_page: bool,
}

/// A query string under construction.
#[derive(Default)]
struct Query(String);

impl Query {
    /// Appends `name=value`, the value escaped.
    fn push(&mut self, name: &str, value: impl std::fmt::Display) {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        let value = value.to_string();
        write!(
            self.0,
            "{name}={}",
            utf8_percent_encode(&value, QUERY_VALUE)
        )
        .unwrap();
    }
}

/// `count` random shapes for `role`, then the chosen ones; drawn from `seed` (mixed with
/// the role, so each role has its own stream) at `now`.
pub fn shapes(
    role: Role,
    pools: &Pools,
    seed: u64,
    count: usize,
    now: DateTime<Utc>,
) -> Vec<Shape> {
    let index = Role::ALL.iter().position(|r| *r == role).unwrap_or(0) as u64;
    let mut rng = StdRng::seed_from_u64(seed ^ (index + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut out: Vec<Shape> = (0..count)
        .map(|i| random_shape(&mut rng, role, pools, now, i + 1))
        .collect();
    out.extend(chosen_shapes(role, pools));
    out
}

/// One random shape: each filter taken independently with its own probability.
fn random_shape(
    rng: &mut StdRng,
    role: Role,
    pools: &Pools,
    now: DateTime<Utc>,
    number: usize,
) -> Shape {
    let mut q = Query::default();
    // The Developer sees every tenant: half its shapes name the tenant, half do not.
    if role == Role::Developer && rng.random_bool(0.5) {
        q.push("tenant_id", pools.tenant);
    }
    maybe_pick(rng, &mut q, 0.40, "status", STATUSES);
    maybe_pick(rng, &mut q, 0.15, "connection_type", CONNECTIONS);
    maybe_pick(rng, &mut q, 0.20, "billing_type", BILLINGS);
    // Uniform over the packages, not over customers: the rare packages come up.
    maybe_pick(rng, &mut q, 0.30, "package_id", &pools.packages);
    maybe_pick(rng, &mut q, 0.30, "router_id", &pools.routers);
    maybe_pick(rng, &mut q, 0.20, "online", &["true", "false"]);
    maybe_pick(rng, &mut q, 0.25, "zone_id", &pools.zones);
    if role.sees_tenant() {
        maybe_pick(rng, &mut q, 0.20, "owner_id", &pools.owners);
    }
    if rng.random_bool(0.15) {
        let (after, before) = expiry_window(rng, now);
        q.push("expires_after", after);
        q.push("expires_before", before);
    }
    if rng.random_bool(0.25) {
        q.push("q", search(rng, pools));
    }
    if rng.random_bool(0.50) {
        q.push("sort", sort(rng));
    }
    Shape {
        list: "customers",
        name: format!("#{number}"),
        query: q.0,
        next_page: rng.random_bool(0.20),
    }
}

/// With probability `p`, `name=` one of `values` (uniformly); nothing when there are none.
fn maybe_pick<T: std::fmt::Display>(
    rng: &mut StdRng,
    q: &mut Query,
    p: f64,
    name: &str,
    values: &[T],
) {
    if rng.random_bool(p)
        && let Some(value) = values.choose(rng)
    {
        q.push(name, value);
    }
}

/// A window of 1 hour to 10 days holding `now`, as `expires_after` and `expires_before`.
fn expiry_window(rng: &mut StdRng, now: DateTime<Utc>) -> (String, String) {
    let minutes = rng.random_range(60..=10 * 24 * 60);
    let after = now - TimeDelta::minutes(rng.random_range(0..=minutes));
    let before = after + TimeDelta::minutes(minutes);
    let rfc3339 = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    (rfc3339(after), rfc3339(before))
}

/// A `sort` value: one of the orders, ascending or descending.
fn sort(rng: &mut StdRng) -> String {
    let order = SORTS.choose(rng).copied().unwrap_or("id");
    if rng.random_bool(0.5) {
        format!("-{order}")
    } else {
        order.to_owned()
    }
}

/// A search text `q`: a part of a name, a user-name, mobile or MAC prefix, or a partial
/// IPv4 address.
fn search(rng: &mut StdRng, pools: &Pools) -> String {
    match rng.random_range(0..5) {
        0 => name_part(rng),
        1 => username_prefix(rng, pools),
        2 => mobile_prefix(rng, pools),
        3 => mac_prefix(rng, pools),
        _ => IPV4_PARTS
            .choose(rng)
            .copied()
            .unwrap_or("100.64.")
            .to_owned(),
    }
}

/// 3 to 6 letters from inside one of the seed's first or last names, lower-cased.
fn name_part(rng: &mut StdRng) -> String {
    let names = if rng.random_bool(0.6) { FIRST } else { LAST };
    let name = names.choose(rng).copied().unwrap_or("Rahim");
    let len = rng.random_range(3..=6.min(name.len()));
    let start = rng.random_range(0..=name.len() - len);
    name[start..start + len].to_ascii_lowercase()
}

/// A customer the seed made: its index `n` (`0..customers`).
fn some_customer(rng: &mut StdRng, pools: &Pools) -> usize {
    rng.random_range(0..pools.customers.max(1))
}

/// A PPPoE user-name prefix many or few names share: `b{stamp}`, `b{stamp}{area}` or
/// `b{stamp}{area}` with the first 1 to 3 digits of a customer's number.
fn username_prefix(rng: &mut StdRng, pools: &Pools) -> String {
    let stamp = &pools.stamp;
    let area = AREAS.choose(rng).copied().unwrap_or("mirpur");
    match rng.random_range(0..3) {
        0 => format!("b{stamp}"),
        1 => format!("b{stamp}{area}"),
        _ => {
            let n = some_customer(rng, pools).to_string();
            let digits = rng.random_range(1..=3).min(n.len());
            format!("b{stamp}{area}{}", &n[..digits])
        }
    }
}

/// A national mobile prefix (`0171`, `01710`, ... up to 8 digits) of a seeded customer's
/// number (`017{10_000_000 + n}`).
fn mobile_prefix(rng: &mut StdRng, pools: &Pools) -> String {
    let mobile = format!("017{:08}", 10_000_000 + some_customer(rng, pools));
    let len = rng.random_range(4..=8);
    mobile[..len].to_owned()
}

/// A MAC prefix (`02:00:0` and the like, 5 to 14 characters) of a seeded customer with a
/// MAC (every fourth: `02:xx:xx:xx:xx:00`).
fn mac_prefix(rng: &mut StdRng, pools: &Pools) -> String {
    let n = some_customer(rng, pools) / 4 * 4;
    let mac = format!(
        "02:{:02x}:{:02x}:{:02x}:{:02x}:00",
        (n >> 24) & 0xff,
        (n >> 16) & 0xff,
        (n >> 8) & 0xff,
        n & 0xff
    );
    let len = rng.random_range(5..=14);
    mac[..len].to_owned()
}

/// The cases the issue names, for every role: no filter (the baseline), one filter, three
/// filters, a user-name prefix many names share, a part of a name, the page after the first
/// by name, the order of expiry, those expiring today, online and offline; and the sessions
/// list: all (the page after the first), live, live on a router, ended. The Developer names
/// the tenant.
pub fn chosen_shapes(role: Role, pools: &Pools) -> Vec<Shape> {
    let tenant = if role == Role::Developer {
        format!("tenant_id={}&", pools.tenant)
    } else {
        String::new()
    };
    let (router, package) = pools.sample.unwrap_or((
        pools.routers.first().copied().unwrap_or(0),
        pools.packages.first().copied().unwrap_or(0),
    ));
    let stamp = &pools.stamp;
    let cases = [
        ("no filter (baseline)", String::new(), false),
        ("status=active", "status=active".to_owned(), false),
        (
            "status + router_id + package_id",
            format!("status=active&router_id={router}&package_id={package}"),
            false,
        ),
        ("q= user-name prefix b{stamp}", format!("q=b{stamp}"), false),
        ("q= part of a name (rahi)", "q=rahi".to_owned(), false),
        // The page after the first: the table says "next page".
        ("sort=name", "sort=name".to_owned(), true),
        ("sort=expires_at", "sort=expires_at".to_owned(), false),
        (
            "status=expires_today",
            "status=expires_today".to_owned(),
            false,
        ),
        ("online=true", "online=true".to_owned(), false),
        (
            "online=false + router_id",
            format!("online=false&router_id={router}"),
            false,
        ),
    ];
    let sessions = [
        ("sessions: all", String::new(), true),
        ("sessions: live", "open=true".to_owned(), false),
        (
            "sessions: live on a router",
            format!("open=true&router_id={router}"),
            false,
        ),
        ("sessions: ended", "open=false".to_owned(), false),
    ];
    let lists = cases
        .into_iter()
        .map(|case| ("customers", case))
        .chain(sessions.into_iter().map(|case| ("sessions", case)));
    lists
        .map(|(list, (name, query, next_page))| Shape {
            list,
            name: name.to_owned(),
            query: format!("{tenant}{query}").trim_end_matches('&').to_owned(),
            next_page,
        })
        .collect()
}
