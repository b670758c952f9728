//! From a stored customer to its FreeRADIUS rows: gathers what `domain::aaa::project`
//! needs (package service, pool names, the tenant's suspension policy, usage) and writes the
//! result. Usage counts as zero until accounting is ingested.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use super::{Customer, billing, password, static_ip, status};
use crate::crypto::Keyring;
use crate::entity::{customer, ip_pool, tenant};
use crate::error::{StoreError, StoreResult};
use crate::package::Package;
use crate::write::Write;
use domain::aaa::{self, Projection, Service, Subscriber};
use domain::ids::TenantId;
use domain::network::MacAddr;

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
    pools: HashMap<i64, Option<String>>,
    /// Per tenant: its suspension policy, and whether it is archived.
    tenants: HashMap<i64, (aaa::SuspensionPolicy, bool)>,
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
        let sub = Subscriber {
            username: &c.username,
            password: &clear,
            billing: billing(c),
            status: status(c),
            expires_at: c.expires_at,
            mac: c.mac.as_deref().and_then(MacAddr::parse),
            static_ip: static_ip(c),
            simultaneous_use: u32::try_from(c.simultaneous_use).unwrap_or(1),
            tenant_archived: false,
        };
        self.project_as(conn, c, &sub).await
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
        self.load(conn, c).await?;
        let cached = || StoreError::Corrupt(format!("customer {}: projection cache", c.id));
        let package = self.packages.get(&c.package_id).ok_or_else(cached)?;
        let (policy, archived) = self.tenants.get(&c.tenant_id).ok_or_else(cached)?;
        let sub = aaa::Subscriber {
            tenant_archived: *archived,
            ..sub.clone()
        };
        let pool = pool_of(c, package)
            .and_then(|id| self.pools.get(&id))
            .and_then(Option::as_deref);
        let service = Service {
            rate: crate::package::rate(package)?,
            volume_bytes: package.volume_bytes,
            pool,
        };
        Ok(aaa::project(&sub, &service, policy, 0))
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
            let archived = tenant.status != crate::tenant::ACTIVE;
            slot.insert((crate::tenant::suspension_policy(&tenant), archived));
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

/// The pool `c` takes its address from: none with a static address, otherwise its own pool,
/// else its package's.
fn pool_of(c: &Customer, package: &Package) -> Option<i64> {
    if c.static_ip.is_some() {
        None
    } else {
        c.ip_pool_id.or(package.ip_pool_id)
    }
}

/// Rewrites the FreeRADIUS rows of `c`.
pub async fn rewrite_projection(w: &Write, c: &Customer) -> StoreResult<()> {
    let projection = project(w.tx(), w.keyring(), c).await?;
    crate::radius::write(w, TenantId(c.tenant_id), c.id, &c.username, &projection).await
}

/// Rewrites the rows of every live customer matching `condition` and records each in the
/// AAA change log; returns how many were rewritten.
pub async fn rewrite_where(
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
    for c in &customers {
        let projection = projector.project(w.tx(), w.keyring(), c).await?;
        crate::radius::write(w, TenantId(c.tenant_id), c.id, &c.username, &projection).await?;
        w.aaa_changed(Some(TenantId(c.tenant_id)), Some(c.id), kind)
            .await?;
    }
    Ok(customers.len() as u64)
}

/// Rewrites the rows of the customers on any of `packages`.
pub async fn rewrite_projections_of_packages(w: &mut Write, packages: &[i64]) -> StoreResult<u64> {
    if packages.is_empty() {
        return Ok(0);
    }
    rewrite_where(
        w,
        Condition::all().add(customer::Column::PackageId.is_in(packages.to_vec())),
        "package.update",
    )
    .await
}
