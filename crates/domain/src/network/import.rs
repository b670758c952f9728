//! Import from a router (reference §2.12, done right): what a router holds in `/ip pool`,
//! `/ppp profile` and `/ppp secret` ([`Snapshot`]), and the plan of what importing it into a
//! tenant creates, leaves as it is and skips, item by item, with the reason ([`plan`]).
//!
//! The plan is pure: it sees the snapshot, what the tenant already has ([`Existing`]) and
//! the operator's choices ([`Choices`]), so the preview and the import that follows it decide
//! alike. Pools keep their exact ranges (every RouterOS form, as [`Pool`] reads them); a pool
//! whose name the tenant already uses is left alone, never overwritten. A secret whose user
//! name a customer already has is "already imported" when that customer is on this router
//! (so running the import again creates nothing) and a duplicate otherwise: reported, never
//! overwritten.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::Pool;
use crate::customer::Username;

/// The most items of each kind one import reads; a router with more is refused before
/// anything is written.
pub const MAX_SECRETS: usize = 200_000;
/// The most pools one import reads.
pub const MAX_POOLS: usize = 10_000;
/// The most PPP profiles one import reads.
pub const MAX_PROFILES: usize = 10_000;
/// The longest pool name lastmile keeps.
pub const POOL_NAME_MAX: usize = 64;

/// `/ip pool`: one pool as the router holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterPool {
    /// Pool name.
    pub name: String,
    /// Ranges as RouterOS prints them.
    pub ranges: String,
}

/// `/ppp profile`: one profile as the router holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterProfile {
    /// Profile name.
    pub name: String,
    /// Local address (or pool), if set.
    pub local_address: Option<String>,
    /// Remote address (or pool), if set.
    pub remote_address: Option<String>,
    /// Rate limit as RouterOS writes it, if set.
    pub rate_limit: Option<String>,
}

/// `/ppp secret`: one PPP account as the router holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouterSecret {
    /// Login name.
    pub name: String,
    /// Password in clear (RouterOS keeps it so; read with the `sensitive` policy).
    pub password: String,
    /// Service (`any`, `pppoe`, `pptp`, …).
    pub service: String,
    /// Profile name.
    pub profile: String,
    /// Remote address: a fixed address, or a pool's name.
    pub remote_address: Option<String>,
    /// Comment (often the subscriber's name or phone).
    pub comment: Option<String>,
    /// Whether the secret is disabled.
    pub disabled: bool,
}

/// Everything an import reads from a router.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// `/ip pool`.
    pub pools: Vec<RouterPool>,
    /// `/ppp profile`, the built-in defaults left out.
    pub profiles: Vec<RouterProfile>,
    /// `/ppp secret`.
    pub secrets: Vec<RouterSecret>,
}

/// A customer that already has a user name a secret uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    /// The customer.
    pub customer_id: i64,
    /// Whether it is a customer of this tenant on the router imported from.
    pub on_this_router: bool,
}

/// A pool the tenant has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingPool {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its ranges.
    pub pool: Pool,
}

/// What the tenant already has, as far as the plan needs it.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    /// The tenant's pools.
    pub pools: Vec<ExistingPool>,
    /// User names (lower case) customers already hold, anywhere.
    pub holders: HashMap<String, Holder>,
    /// The PPPoE packages the importer may use: id → name.
    pub packages: BTreeMap<i64, String>,
}

/// What the operator chose.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choices {
    /// Profile name → package id. A profile not named here takes the package of the same
    /// name (case aside), if there is one.
    pub packages: BTreeMap<String, i64>,
    /// Import disabled secrets too (as disabled customers).
    pub include_disabled: bool,
}

/// What happens to one pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum PoolAction {
    /// A new pool of the tenant.
    Create,
    /// The tenant has a pool of this name with the same ranges.
    Unchanged {
        /// The tenant's pool.
        pool_id: i64,
    },
    /// The tenant has a pool of this name with other ranges: left as it is.
    NameTaken {
        /// The tenant's pool.
        pool_id: i64,
        /// Its ranges.
        ranges: String,
    },
    /// Its addresses overlap a pool the tenant has (or one created before it here).
    Overlaps {
        /// That pool's name.
        with: String,
    },
    /// lastmile cannot read the ranges or the name.
    Unreadable {
        /// Why.
        reason: String,
    },
}

/// One pool of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedPool {
    /// Name on the router.
    pub name: String,
    /// Ranges as the router prints them.
    pub ranges: String,
    /// The exact CIDR blocks, when readable.
    pub blocks: Vec<String>,
    /// Addresses, when readable.
    pub capacity: u64,
    /// What happens to it.
    #[serde(flatten)]
    pub action: PoolAction,
}

/// One profile of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedProfile {
    /// Name on the router.
    pub name: String,
    /// Local address, if set.
    pub local_address: Option<String>,
    /// Remote address or pool, if set.
    pub remote_address: Option<String>,
    /// Rate limit, if set.
    pub rate_limit: Option<String>,
    /// The package its secrets become customers of, if any.
    pub package_id: Option<i64>,
    /// True when the package was found by name rather than chosen.
    pub matched_by_name: bool,
    /// Secrets on the router using it.
    pub secrets: usize,
}

/// What happens to one secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SecretAction {
    /// A new customer.
    Create {
        /// Its package.
        package_id: i64,
        /// A fixed address and the pool holding it, when the secret has one.
        static_ip: Option<(Ipv4Addr, String)>,
    },
    /// Imported from this router before: nothing to do.
    AlreadyImported {
        /// The customer.
        customer_id: i64,
    },
    /// Another customer (of this tenant on another router, or elsewhere) has the user name:
    /// reported, not overwritten.
    Duplicate,
    /// Disabled on the router, and disabled secrets were not asked for.
    Disabled,
    /// Its profile has no package.
    NoPackage,
    /// A service lastmile does not import (only `pppoe` and `any` are).
    Service,
    /// Its fixed address is in no pool of the tenant nor of this import.
    AddressOutsidePools {
        /// The address.
        address: String,
    },
    /// The user name or password cannot be a lastmile customer's.
    Invalid {
        /// The field.
        field: String,
        /// Why (a field error code).
        code: String,
    },
}

/// One secret of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedSecret {
    /// Login name on the router.
    pub name: String,
    /// Profile on the router.
    pub profile: String,
    /// Whether it is disabled on the router.
    pub disabled: bool,
    /// What happens to it.
    #[serde(flatten)]
    pub action: SecretAction,
}

/// How many items fall under each action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Pools to create.
    pub pools_created: usize,
    /// Pools left as they are (unchanged, name taken, overlapping, unreadable).
    pub pools_skipped: usize,
    /// Customers to create.
    pub customers_created: usize,
    /// Secrets imported before.
    pub already_imported: usize,
    /// Secrets skipped (duplicates, disabled, no package, other service, bad values).
    pub secrets_skipped: usize,
}

/// The plan of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Every pool read.
    pub pools: Vec<PlannedPool>,
    /// Every profile read.
    pub profiles: Vec<PlannedProfile>,
    /// Every secret read.
    pub secrets: Vec<PlannedSecret>,
    /// The totals.
    pub counts: Counts,
}

/// Plans importing `snapshot` into a tenant that has `existing`, as `choices` say.
pub fn plan(snapshot: &Snapshot, existing: &Existing, choices: &Choices) -> Plan {
    let mut out = Plan::default();
    // Pools: each read is checked against the tenant's and those this import creates before
    // it; `known` ends holding both, by name, for the fixed addresses of the secrets.
    let mut known: Vec<(String, Pool)> = existing
        .pools
        .iter()
        .map(|p| (p.name.clone(), p.pool.clone()))
        .collect();
    for p in &snapshot.pools {
        let parsed = Pool::parse(&p.ranges);
        let (blocks, capacity) = parsed.as_ref().map_or((Vec::new(), 0), |pool| {
            (
                pool.blocks().iter().map(ToString::to_string).collect(),
                pool.capacity(),
            )
        });
        let action = pool_action(p, parsed, existing, &mut known);
        if action == PoolAction::Create {
            out.counts.pools_created += 1;
        } else {
            out.counts.pools_skipped += 1;
        }
        out.pools.push(PlannedPool {
            name: p.name.clone(),
            ranges: p.ranges.clone(),
            blocks,
            capacity,
            action,
        });
    }
    // Profiles: the package chosen, else the one of the same name.
    let by_name: HashMap<String, i64> = existing
        .packages
        .iter()
        .map(|(id, name)| (name.to_lowercase(), *id))
        .collect();
    let mut packages: HashMap<&str, Option<i64>> = HashMap::new();
    for p in &snapshot.profiles {
        let chosen = choices
            .packages
            .get(&p.name)
            .copied()
            .filter(|id| existing.packages.contains_key(id));
        let named = by_name.get(&p.name.to_lowercase()).copied();
        packages.insert(p.name.as_str(), chosen.or(named));
        out.profiles.push(PlannedProfile {
            name: p.name.clone(),
            local_address: p.local_address.clone(),
            remote_address: p.remote_address.clone(),
            rate_limit: p.rate_limit.clone(),
            package_id: chosen.or(named),
            matched_by_name: chosen.is_none() && named.is_some(),
            secrets: snapshot
                .secrets
                .iter()
                .filter(|s| s.profile == p.name)
                .count(),
        });
    }
    // Secrets: a secret whose profile is a built-in one (`default`, …) was not listed above;
    // the package chosen for that name, or of that name, still applies.
    let mut seen = HashSet::new();
    for s in &snapshot.secrets {
        let package = packages
            .get(s.profile.as_str())
            .copied()
            .unwrap_or_else(|| {
                choices
                    .packages
                    .get(&s.profile)
                    .copied()
                    .filter(|id| existing.packages.contains_key(id))
                    .or_else(|| by_name.get(&s.profile.to_lowercase()).copied())
            });
        let action = secret_action(s, package, existing, choices, &known, &mut seen);
        match action {
            SecretAction::Create { .. } => out.counts.customers_created += 1,
            SecretAction::AlreadyImported { .. } => out.counts.already_imported += 1,
            _ => out.counts.secrets_skipped += 1,
        }
        out.secrets.push(PlannedSecret {
            name: s.name.clone(),
            profile: s.profile.clone(),
            disabled: s.disabled,
            action,
        });
    }
    out
}

/// What happens to pool `p`; a pool to create joins `known`.
fn pool_action(
    p: &RouterPool,
    parsed: Result<Pool, super::RangeError>,
    existing: &Existing,
    known: &mut Vec<(String, Pool)>,
) -> PoolAction {
    if let Err(e) = crate::text::bounded("name", &p.name, 1, POOL_NAME_MAX) {
        return PoolAction::Unreadable {
            reason: format!("name: {}", e.code),
        };
    }
    let pool = match parsed {
        Ok(pool) => pool,
        Err(e) => {
            return PoolAction::Unreadable {
                reason: e.to_string(),
            };
        }
    };
    let name = p.name.trim();
    if let Some(theirs) = existing
        .pools
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case(name))
    {
        return if theirs.pool == pool {
            PoolAction::Unchanged { pool_id: theirs.id }
        } else {
            PoolAction::NameTaken {
                pool_id: theirs.id,
                ranges: theirs.pool.canonical(),
            }
        };
    }
    if known
        .iter()
        .any(|(other, _)| other.eq_ignore_ascii_case(name))
    {
        return PoolAction::Unreadable {
            reason: "name: read twice".to_owned(),
        };
    }
    if let Some((other, _)) = known.iter().find(|(_, other)| other.overlaps(&pool)) {
        return PoolAction::Overlaps {
            with: other.clone(),
        };
    }
    known.push((name.to_owned(), pool));
    PoolAction::Create
}

fn secret_action(
    s: &RouterSecret,
    package: Option<i64>,
    existing: &Existing,
    choices: &Choices,
    pools: &[(String, Pool)],
    seen: &mut HashSet<String>,
) -> SecretAction {
    let username = match Username::parse(&s.name) {
        Ok(u) => u,
        Err(e) => {
            return SecretAction::Invalid {
                field: "username".to_owned(),
                code: e.code.to_owned(),
            };
        }
    };
    let key = username.key();
    if let Some(holder) = existing.holders.get(&key) {
        return if holder.on_this_router {
            SecretAction::AlreadyImported {
                customer_id: holder.customer_id,
            }
        } else {
            SecretAction::Duplicate
        };
    }
    // RouterOS keeps names unique, but only with case: `Rahim` and `rahim` are one here.
    if !seen.insert(key) {
        return SecretAction::Duplicate;
    }
    if s.disabled && !choices.include_disabled {
        return SecretAction::Disabled;
    }
    if !matches!(s.service.as_str(), "any" | "pppoe" | "") {
        return SecretAction::Service;
    }
    if let Err(e) = crate::customer::PppPassword::parse("password", &s.password) {
        return SecretAction::Invalid {
            field: "password".to_owned(),
            code: e.code.to_owned(),
        };
    }
    let Some(package_id) = package else {
        return SecretAction::NoPackage;
    };
    // A fixed address needs a pool holding it; a pool's name is the dynamic case.
    let static_ip = match s.remote_address.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => match text.parse::<Ipv4Addr>() {
            Ok(address) => match pools.iter().find(|(_, pool)| pool.contains(address)) {
                Some((name, _)) => Some((address, name.clone())),
                None => {
                    return SecretAction::AddressOutsidePools {
                        address: text.to_owned(),
                    };
                }
            },
            Err(_) => None,
        },
        _ => None,
    };
    SecretAction::Create {
        package_id,
        static_ip,
    }
}

#[cfg(test)]
#[path = "import_tests.rs"]
mod tests;
