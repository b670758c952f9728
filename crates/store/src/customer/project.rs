//! From a stored customer to its FreeRADIUS rows: gathers what `domain::aaa::project`
//! needs (package service, pool names, the tenant's suspension policy, usage) and writes the
//! result. The rows of a subscriber on a capped package (volume or FUP steps) take its
//! usage as the usage watcher last recorded it (`customer_quota`), so they change when its
//! level does and `radius verify` sees no drift in between; the built-in server counts the
//! period's usage itself (`period_used`).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use super::{Customer, password, static_ip};
use crate::crypto::Keyring;
use crate::entity::code::Stored;
use crate::entity::{customer, hotspot_device, ip_pool, tenant};
use crate::error::{StoreError, StoreResult};
use crate::package::Package;
use crate::write::Write;
use chrono::{DateTime, Utc};
use domain::aaa::{self, Projection, Service, Subscriber};
use domain::customer::{CustomerStatus, UsagePeriod, usage_period};
use domain::fup::Fup;
use domain::ids::TenantId;
use domain::locale::zone_of;
use domain::network::MacAddr;
use domain::package::RateLimit;
use domain::tenant::TenantStatus;

/// The projection of `c` as the domain decides it.
pub async fn project<C: ConnectionTrait>(
    conn: &C,
    keyring: &Keyring,
    c: &Customer,
) -> StoreResult<Projection> {
    Projector::default().project(conn, keyring, c).await
}

/// Projects many customers, reading each package, pool and tenant they share once. It
/// keeps what it read: use one for one transaction or one pass over the customers, not
/// across changes of packages, pools or tenants.
#[derive(Debug, Default)]
pub struct Projector {
    packages: HashMap<i64, Package>,
    /// Per customer read: the devices RADIUS lets sign in as it ([`radius_devices`]).
    devices: HashMap<i64, Vec<MacAddr>>,
    pools: HashMap<i64, Option<String>>,
    /// Per tenant: its suspension policy, whether it is archived, its zone.
    tenants: HashMap<i64, TenantTerms>,
}

#[derive(Debug, Clone)]
struct TenantTerms {
    policy: aaa::SuspensionPolicy,
    archived: bool,
    zone: chrono_tz::Tz,
}

impl Projector {
    /// The projection of `c` as the domain decides it.
    pub async fn project<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        keyring: &Keyring,
        c: &Customer,
    ) -> StoreResult<Projection> {
        let clear = password(keyring, c)?;
        if !self.devices.contains_key(&c.id) {
            self.read_devices(conn, &[c]).await?;
        }
        let devices = self.devices.get(&c.id).cloned().unwrap_or_default();
        let sub = Subscriber {
            username: &c.username,
            password: &clear,
            billing: c.billing_type.get(),
            status: c.status.get(),
            expires_at: c.expires_at,
            mac: c.mac.as_deref().and_then(MacAddr::parse),
            devices: &devices,
            static_ip: static_ip(c),
            simultaneous_use: u32::try_from(c.simultaneous_use).unwrap_or(1),
            tenant_archived: false,
        };
        self.project_as(conn, c, &sub).await
    }

    /// Reads the devices of `customers` at once, for the projections that follow.
    pub async fn read_devices<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        customers: &[&Customer],
    ) -> StoreResult<()> {
        let mut found = radius_devices(conn, customers).await?;
        for c in customers {
            self.devices
                .insert(c.id, found.remove(&c.id).unwrap_or_default());
        }
        Ok(())
    }

    /// The projection of `c` for the subscriber `sub` (its settings as given, for a
    /// customer being written): `c` gives the package, pool and tenant (whether it is
    /// archived is read here, whatever `sub` says).
    pub async fn project_as<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        c: &Customer,
        sub: &Subscriber<'_>,
    ) -> StoreResult<Projection> {
        let terms = self.terms(conn, c).await?;
        let sub = aaa::Subscriber {
            tenant_archived: terms.tenant_archived,
            ..sub.clone()
        };
        let used = if terms.capped() {
            crate::quota::recorded_used(conn, c.id).await?
        } else {
            0
        };
        Ok(aaa::project(&sub, &terms.service(), &terms.policy, used))
    }

    /// The current period of `c` at `now`, if its package is capped.
    pub async fn period<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        c: &Customer,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UsagePeriod>> {
        self.load(conn, c).await?;
        let cached = || StoreError::Corrupt(format!("customer {}: projection cache", c.id));
        let package = self.packages.get(&c.package_id).ok_or_else(cached)?;
        if package.volume_bytes.is_none() && package.fup.is_empty() {
            return Ok(None);
        }
        let zone = self.tenants.get(&c.tenant_id).ok_or_else(cached)?.zone;
        let today = now.with_timezone(&zone).date_naive();
        Ok(Some(usage_period(
            c.billing_type.get(),
            c.expires_at,
            package.validity_minutes,
            today,
            zone,
        )))
    }

    /// What the AAA decision needs of `c` besides the customer itself: its package's
    /// service (the pool resolved), its tenant's suspension policy, whether the tenant is
    /// archived.
    pub async fn terms<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        c: &Customer,
    ) -> StoreResult<Terms> {
        self.load(conn, c).await?;
        let cached = || StoreError::Corrupt(format!("customer {}: projection cache", c.id));
        let package = self.packages.get(&c.package_id).ok_or_else(cached)?;
        let tenant = self.tenants.get(&c.tenant_id).ok_or_else(cached)?;
        let pool = pool_of(c, package)
            .and_then(|id| self.pools.get(&id))
            .and_then(Clone::clone);
        Ok(Terms {
            rate: crate::package::rate(package)?,
            volume_bytes: package.volume_bytes,
            fup: crate::package::fup(package)?,
            pool,
            policy: tenant.policy.clone(),
            tenant_archived: tenant.archived,
        })
    }

    /// Reads what `c`'s projection needs and is not known yet.
    async fn load<C: ConnectionTrait>(&mut self, conn: &C, c: &Customer) -> StoreResult<()> {
        if let Entry::Vacant(slot) = self.packages.entry(c.package_id) {
            let package = crate::package::find_any(conn, c.package_id)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("customer {} without package", c.id)))?;
            slot.insert(package);
        }
        if let Entry::Vacant(slot) = self.tenants.entry(c.tenant_id) {
            let tenant = tenant::Entity::find_by_id(c.tenant_id)
                .one(conn)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("customer {} without tenant", c.id)))?;
            slot.insert(TenantTerms {
                policy: crate::tenant::suspension_policy(&tenant),
                archived: tenant.status != TenantStatus::Active,
                zone: zone_of(&tenant.time_zone),
            });
        }
        let pool = self.packages.get(&c.package_id).and_then(|p| pool_of(c, p));
        if let Some(id) = pool
            && let Entry::Vacant(slot) = self.pools.entry(id)
        {
            let name = ip_pool::Entity::find_by_id(id)
                .one(conn)
                .await?
                .map(|p| p.name);
            slot.insert(name);
        }
        Ok(())
    }
}

/// What the AAA decision needs of a customer besides the customer itself, owned (see
/// [`Projector::terms`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Terms {
    /// Its package's speed.
    pub rate: RateLimit,
    /// Its package's volume per period, bytes.
    pub volume_bytes: Option<i64>,
    /// Its package's FUP steps.
    pub fup: Fup,
    /// The router pool it takes addresses from, if any.
    pub pool: Option<String>,
    /// Its tenant's suspension policy.
    pub policy: aaa::SuspensionPolicy,
    /// Its tenant is archived.
    pub tenant_archived: bool,
}

impl Terms {
    /// The package's service, as `domain::aaa` takes it.
    pub fn service(&self) -> Service<'_> {
        Service {
            rate: self.rate,
            volume_bytes: self.volume_bytes,
            fup: &self.fup,
            pool: self.pool.as_deref(),
        }
    }

    /// The package has a volume cap or FUP steps: usage decides.
    pub fn capped(&self) -> bool {
        self.volume_bytes.is_some() || !self.fup.is_empty()
    }
}

/// The pool `c` takes its address from: none with a static address, otherwise its own pool,
/// else its package's.
fn pool_of(c: &Customer, package: &Package) -> Option<i64> {
    if c.static_ip.is_some() {
        None
    } else {
        c.ip_pool_id.or(package.ip_pool_id)
    }
}

/// The devices RADIUS lets sign in as each hotspot customer of `customers` (`domain::aaa`'s
/// `devices`): its live bindings at the captive portal (`hotspot_device`), the
/// [`aaa::MAX_DEVICES`] last seen, in MAC order (so the projection reads the same each
/// time). A customer without any is absent.
pub async fn radius_devices<C: ConnectionTrait>(
    conn: &C,
    customers: &[&Customer],
) -> StoreResult<HashMap<i64, Vec<MacAddr>>> {
    let hotspot: Vec<i64> = customers
        .iter()
        .filter(|c| c.connection_type.get() == domain::package::ConnectionType::Hotspot)
        .map(|c| c.id)
        .collect();
    let mut by_customer: HashMap<i64, Vec<MacAddr>> = HashMap::new();
    for chunk in hotspot.chunks(1000) {
        // Oldest first: the last ones pushed are the last seen.
        let devices = hotspot_device::Entity::find()
            .filter(hotspot_device::Column::CustomerId.is_in(chunk.iter().copied()))
            .filter(hotspot_device::Column::RevokedAt.is_null())
            .order_by_asc(hotspot_device::Column::LastSeenAt)
            .order_by_asc(hotspot_device::Column::Id)
            .all(conn)
            .await?;
        for device in devices {
            if let Some(mac) = MacAddr::parse(&device.mac) {
                by_customer.entry(device.customer_id).or_default().push(mac);
            }
        }
    }
    for macs in by_customer.values_mut() {
        let keep = macs.len().saturating_sub(aaa::MAX_DEVICES);
        macs.drain(..keep);
        macs.sort_by_key(ToString::to_string);
        macs.dedup();
    }
    Ok(by_customer)
}

/// Rewrites the FreeRADIUS rows of `c`.
pub async fn rewrite_projection(w: &Write, c: &Customer) -> StoreResult<()> {
    let projection = project(w.tx(), w.keyring(), c).await?;
    crate::radius::write(w, TenantId(c.tenant_id), c.id, &c.username, &projection).await
}

/// The customers a wide change reaches: those whose rows a package, pool or policy change
/// rewrites. Kept as data, so a job can converge them after the change commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "of")]
pub enum Reach {
    /// The customers on any of these packages.
    Packages {
        /// The packages.
        ids: Vec<i64>,
    },
    /// The customers taking addresses from this pool (their own, or their package's).
    Pool {
        /// The pool.
        id: i64,
    },
    /// The suspended customers of this tenant.
    Suspended {
        /// The tenant.
        tenant: i64,
    },
}

impl Reach {
    fn condition(&self) -> Condition {
        match self {
            Reach::Packages { ids } => {
                Condition::all().add(customer::Column::PackageId.is_in(ids.clone()))
            }
            Reach::Pool { id } => super::uses_pool(*id),
            Reach::Suspended { tenant } => Condition::all()
                .add(customer::Column::TenantId.eq(*tenant))
                .add(customer::Column::Status.eq(Stored(CustomerStatus::Suspended))),
        }
    }
}

/// Customers a change rewrites in its own transaction; past this many it commits first
/// and a job converges their rows in batches, so no change holds the write lock for long.
pub const INLINE_REWRITE: u64 = 2_000;
/// Customers a converging job rewrites per transaction.
pub const CONVERGE_BATCH: u64 = 500;
/// The job kind that converges a wide change's rows.
pub const CONVERGE_KIND: &str = "radius.converge";

/// Rewrites the rows of the customers `reach` names, in this transaction when they are few
/// ([`INLINE_REWRITE`]); otherwise queues a job that converges them after commit, in
/// batches. Returns how many it rewrote now (0 when it queued the job).
pub async fn rewrite_or_converge(
    w: &mut Write,
    tenant: TenantId,
    reach: Reach,
    kind: &'static str,
) -> StoreResult<u64> {
    if matches!(&reach, Reach::Packages { ids } if ids.is_empty()) {
        return Ok(0);
    }
    // Counting stops past the threshold: a wide change pays for 2 001 ids, not a full count.
    let reached: Vec<i64> = customer::Entity::find()
        .select_only()
        .column(customer::Column::Id)
        .filter(reach.condition())
        .filter(customer::Column::ArchivedAt.is_null())
        .limit(INLINE_REWRITE + 1)
        .into_tuple()
        .all(w.tx())
        .await?;
    if reached.len() as u64 <= INLINE_REWRITE {
        return rewrite_where(w, reach.condition(), kind).await;
    }
    let payload = Converge {
        reach,
        change: kind.to_owned(),
    };
    w.enqueue(crate::job::NewJob {
        kind: CONVERGE_KIND,
        payload: serde_json::to_value(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        run_at: w.now(),
        dedupe_key: None,
        max_attempts: 10,
        tenant_id: Some(tenant),
        created_by: w.author().user_id,
    })
    .await?;
    Ok(0)
}

/// A queued convergence, the payload of a [`CONVERGE_KIND`] job: the customers a change
/// reached, and the change (`package.update`), named in the AAA change log and the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Converge {
    /// The customers whose rows follow the change.
    pub reach: Reach,
    /// The change, `area.verb`.
    pub change: String,
}

/// How many live customers `reach` names.
pub async fn reached<C: ConnectionTrait>(conn: &C, reach: &Reach) -> StoreResult<u64> {
    use sea_orm::PaginatorTrait as _;
    Ok(customer::Entity::find()
        .filter(reach.condition())
        .filter(customer::Column::ArchivedAt.is_null())
        .count(conn)
        .await?)
}

/// Rewrites one batch of the customers `job` reaches, those with an id above `after`, in
/// the transaction `w` (audited here); returns the last id done and how many were
/// rewritten, or `None` when none was left.
pub async fn converge_batch(
    w: &mut Write,
    job: &Converge,
    after: i64,
) -> StoreResult<Option<(i64, u64)>> {
    let (reach, kind) = (&job.reach, job.change.as_str());
    use sea_orm::QueryOrder as _;
    let mut batch = customer::Entity::find()
        .filter(reach.condition())
        .filter(customer::Column::ArchivedAt.is_null())
        .filter(customer::Column::Id.gt(after))
        .order_by_asc(customer::Column::Id)
        .limit(CONVERGE_BATCH);
    // The batch's customers are held to the commit (PostgreSQL; SQLite's write lock is
    // already held): a change of one of them made meanwhile either lands first and is read
    // here, or waits and rewrites its rows after, never under a projection read before it.
    if w.tx().get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        batch = batch.lock_exclusive();
    }
    let customers = batch.all(w.tx()).await?;
    let (Some(first), Some(last)) = (customers.first(), customers.last()) else {
        return Ok(None);
    };
    let (first, last) = (first.id, last.id);
    let mut projector = Projector::default();
    projector
        .read_devices(w.tx(), &customers.iter().collect::<Vec<_>>())
        .await?;
    let mut changed: HashMap<i64, Vec<i64>> = HashMap::new();
    for c in &customers {
        let projection = projector.project(w.tx(), w.keyring(), c).await?;
        crate::radius::write(w, TenantId(c.tenant_id), c.id, &c.username, &projection).await?;
        changed.entry(c.tenant_id).or_default().push(c.id);
    }
    for (tenant, ids) in &changed {
        w.aaa_changed_many(TenantId(*tenant), ids, kind).await?;
    }
    let tenant = changed.keys().next().copied().map(TenantId);
    w.audit(crate::write::AuditEntry {
        tenant_id: tenant,
        action: CONVERGE_KIND,
        entity: "customer",
        entity_id: None,
        before: None,
        after: Some(serde_json::json!({
            "reach": reach,
            "change": kind,
            "customers": customers.len(),
            "ids": [first, last],
        })),
    })
    .await?;
    Ok(Some((last, customers.len() as u64)))
}

/// Rewrites the rows of every live customer matching `condition` and records each in the
/// AAA change log; returns how many were rewritten.
async fn rewrite_where(
    w: &mut Write,
    condition: Condition,
    kind: &'static str,
) -> StoreResult<u64> {
    let customers = customer::Entity::find()
        .filter(condition)
        .filter(customer::Column::ArchivedAt.is_null())
        .all(w.tx())
        .await?;
    let mut projector = Projector::default();
    projector
        .read_devices(w.tx(), &customers.iter().collect::<Vec<_>>())
        .await?;
    for c in &customers {
        let projection = projector.project(w.tx(), w.keyring(), c).await?;
        crate::radius::write(w, TenantId(c.tenant_id), c.id, &c.username, &projection).await?;
        w.aaa_changed(Some(TenantId(c.tenant_id)), Some(c.id), kind)
            .await?;
    }
    Ok(customers.len() as u64)
}
