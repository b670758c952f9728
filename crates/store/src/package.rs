//! Packages in three levels: master packages hold the service (connection type, rates,
//! volume, validity, pool); operator and sub-operator packages offer a parent package under
//! their owner's name and prices and copy the service from their master, kept in step when
//! the master changes. A package in use cannot be deleted.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, Condition,
    ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use crate::entity::code::Stored;
use crate::entity::customer;
use crate::entity::package::{ActiveModel, Column, Entity, Model};
use crate::error::{StoreError, StoreResult, on_unique};
use crate::list::{ListSpec, Page, PageRequest, SortColumn, SortKind};
use crate::scope;
use crate::versioned::update_versioned;
use crate::write::{AuditEntry, Write};
use domain::access::PackageScope;
use domain::fup::Fup;
use domain::ids::{TenantId, UserId};
use domain::money::Money;
use domain::package::{BurstInput, ConnectionType, PackageLevel, PackageStatus, RateLimit};

/// A stored package.
pub type Package = Model;

const KEYS: &[(&str, &str)] = &[
    ("package_owner_parent_key", "parent_id"),
    ("package.owner_id, package.parent_id", "parent_id"),
];

/// The package list.
pub static LIST: ListSpec<Entity> = ListSpec {
    sorts: &[
        SortColumn {
            name: "id",
            column: Column::Id,
            kind: SortKind::Int,
        },
        SortColumn {
            name: "name",
            column: Column::Name,
            kind: SortKind::Text,
        },
        SortColumn {
            name: "price",
            column: Column::Price,
            kind: SortKind::Int,
        },
    ],
    id: Column::Id,
    default_sort: "name",
};

/// Filters of the package list.
#[derive(Debug, Clone, Default)]
pub struct PackageFilter {
    /// Only this tenant.
    pub tenant_id: Option<TenantId>,
    /// Only this level.
    pub level: Option<String>,
    /// Only packages of this owner.
    pub owner_id: Option<UserId>,
    /// Only this connection type.
    pub connection_type: Option<ConnectionType>,
    /// Only packages derived from this one.
    pub parent_id: Option<i64>,
    /// Names starting with this.
    pub name_prefix: Option<String>,
}

/// The service a master package sells.
#[derive(Debug, Clone)]
pub struct ServiceRow {
    /// Connection type.
    pub connection_type: ConnectionType,
    /// Speed.
    pub rate: RateLimit,
    /// Volume per period, bytes.
    pub volume_bytes: Option<i64>,
    /// FUP steps in the period.
    pub fup: Fup,
    /// Validity, minutes.
    pub validity_minutes: i64,
    /// The pool its subscribers take addresses from.
    pub ip_pool_id: Option<i64>,
}

/// A new master package.
#[derive(Debug, Clone)]
pub struct NewMaster {
    /// Its tenant.
    pub tenant_id: TenantId,
    /// Its name.
    pub name: String,
    /// Its service.
    pub service: ServiceRow,
    /// What a customer of the tenant pays.
    pub price: Money,
}

/// A new derived package: `parent` offered to `owner`.
#[derive(Debug, Clone)]
pub struct NewDerived {
    /// The parent (a master for an operator package, an operator package for a
    /// sub-operator package).
    pub parent: Package,
    /// The operator or sub-operator it is offered to.
    pub owner: UserId,
    /// Its name as the owner sells it.
    pub name: String,
    /// What the owner's customer pays.
    pub price: Money,
    /// What the owner owes upstream.
    pub cost_price: Money,
}

/// Changes to a package; service fields apply to master packages only.
#[derive(Debug, Clone, Default)]
pub struct PackageChanges {
    /// New name.
    pub name: Option<String>,
    /// New service (masters only).
    pub service: Option<ServiceRow>,
    /// New price.
    pub price: Option<Money>,
    /// New cost price (derived packages only).
    pub cost_price: Option<Money>,
}

/// The package's speed.
pub fn rate(p: &Package) -> StoreResult<RateLimit> {
    RateLimit::parse(
        p.download_kbps,
        p.upload_kbps,
        BurstInput {
            down_kbps: p.burst_download_kbps,
            up_kbps: p.burst_upload_kbps,
            threshold_down_kbps: p.burst_threshold_download_kbps,
            threshold_up_kbps: p.burst_threshold_upload_kbps,
            time_secs: p.burst_time_secs.map(i64::from),
        },
    )
    .map_err(|e| StoreError::Corrupt(format!("package {} rate: {e}", p.id)))
}

/// The package's FUP steps.
pub fn fup(p: &Package) -> StoreResult<Fup> {
    Fup::from_stored(&p.fup).map_err(|e| StoreError::Corrupt(format!("package {}: {e}", p.id)))
}

/// The package's state for the audit log.
pub fn snapshot(p: &Package) -> Value {
    json!({
        "id": p.id, "tenant_id": p.tenant_id, "level": p.level, "parent_id": p.parent_id, "owner_id": p.owner_id,
        "name": p.name, "connection_type": p.connection_type, "download_kbps": p.download_kbps,
        "upload_kbps": p.upload_kbps, "volume_bytes": p.volume_bytes, "fup": p.fup, "validity_minutes": p.validity_minutes,
        "price": p.price, "cost_price": p.cost_price, "ip_pool_id": p.ip_pool_id,
        "version": p.version,
    })
}

/// A package in the caller's scope.
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    scope: &PackageScope,
    id: i64,
) -> StoreResult<Option<Package>> {
    Ok(Entity::find_by_id(id)
        .filter(scope::packages(scope))
        .filter(Column::ArchivedAt.is_null())
        .one(conn)
        .await?)
}

/// A package by id, unscoped (the master of a package found in scope).
pub async fn find_any<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Option<Package>> {
    Ok(Entity::find_by_id(id).one(conn).await?)
}

/// The names of the packages `ids`, in one query, whoever owns them (for naming the package
/// of a customer the caller sees).
pub async fn names<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> StoreResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::Name)
        .filter(Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?)
}

/// A page of the packages in the caller's scope.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &PackageScope,
    filter: &PackageFilter,
    page: &PageRequest,
) -> StoreResult<Page<Package>> {
    let mut select = Entity::find()
        .filter(scope::packages(scope))
        .filter(Column::ArchivedAt.is_null());
    if let Some(t) = filter.tenant_id {
        select = select.filter(Column::TenantId.eq(t.0));
    }
    if let Some(level) = &filter.level {
        select = select.filter(Column::Level.eq(level.as_str()));
    }
    if let Some(owner) = filter.owner_id {
        select = select.filter(Column::OwnerId.eq(owner.0));
    }
    if let Some(ct) = filter.connection_type {
        select = select.filter(Column::ConnectionType.eq(Stored(ct)));
    }
    if let Some(parent) = filter.parent_id {
        select = select.filter(Column::ParentId.eq(parent));
    }
    if let Some(prefix) = &filter.name_prefix {
        select = select.filter(crate::list::starts_with(Column::Name, prefix));
    }
    crate::list::fetch(conn, &LIST, select, page).await
}

fn service_columns(row: &mut ActiveModel, s: &ServiceRow) {
    let burst = s.rate.burst;
    row.connection_type = Set(Stored(s.connection_type));
    row.download_kbps = Set(i64::from(s.rate.down_kbps));
    row.upload_kbps = Set(i64::from(s.rate.up_kbps));
    row.burst_download_kbps = Set(burst.map(|b| i64::from(b.down_kbps)));
    row.burst_upload_kbps = Set(burst.map(|b| i64::from(b.up_kbps)));
    row.burst_threshold_download_kbps = Set(burst.map(|b| i64::from(b.threshold_down_kbps)));
    row.burst_threshold_upload_kbps = Set(burst.map(|b| i64::from(b.threshold_up_kbps)));
    row.burst_time_secs = Set(burst.map(|b| i32::try_from(b.time_secs).unwrap_or(i32::MAX)));
    row.volume_bytes = Set(s.volume_bytes);
    row.fup = Set(s.fup.to_stored());
    row.validity_minutes = Set(s.validity_minutes);
    row.ip_pool_id = Set(s.ip_pool_id);
}

fn blank(w: &Write, tenant: TenantId) -> ActiveModel {
    let now = w.now();
    ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant.0),
        version: Set(1),
        status: Set(Stored(PackageStatus::Active)),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        cost_price: Set(0),
        ..Default::default()
    }
}

/// Creates a master package; the tenant's currency is fixed from now on.
pub async fn create_master(w: &mut Write, new: &NewMaster) -> StoreResult<Package> {
    let mut row = blank(w, new.tenant_id);
    row.level = Set(Stored(PackageLevel::Master));
    row.parent_id = Set(None);
    row.master_id = Set(None);
    row.owner_id = Set(None);
    row.name = Set(new.name.clone());
    row.price = Set(new.price.minor());
    service_columns(&mut row, &new.service);
    let saved = row.insert(w.tx()).await?;
    // A master is its own master: derived packages and customers find the service there.
    let saved = ActiveModel {
        master_id: Set(Some(saved.id)),
        ..saved.into()
    }
    .update(w.tx())
    .await?;
    crate::tenant::lock_currency(w, new.tenant_id).await?;
    audit(w, "package.create", None, Some(&saved)).await?;
    Ok(saved)
}

/// Creates an operator or sub-operator package from its parent.
pub async fn create_derived(w: &mut Write, new: &NewDerived) -> StoreResult<Package> {
    let parent = &new.parent;
    let level = if parent.level == PackageLevel::Master {
        PackageLevel::Operator
    } else {
        PackageLevel::SubOperator
    };
    let mut row: ActiveModel = blank(w, TenantId(parent.tenant_id));
    row.level = Set(Stored(level));
    row.parent_id = Set(Some(parent.id));
    row.master_id = Set(parent.master_id.or(Some(parent.id)));
    row.owner_id = Set(Some(new.owner.0));
    row.name = Set(new.name.clone());
    row.price = Set(new.price.minor());
    row.cost_price = Set(new.cost_price.minor());
    row.connection_type = Set(parent.connection_type);
    row.download_kbps = Set(parent.download_kbps);
    row.upload_kbps = Set(parent.upload_kbps);
    row.burst_download_kbps = Set(parent.burst_download_kbps);
    row.burst_upload_kbps = Set(parent.burst_upload_kbps);
    row.burst_threshold_download_kbps = Set(parent.burst_threshold_download_kbps);
    row.burst_threshold_upload_kbps = Set(parent.burst_threshold_upload_kbps);
    row.burst_time_secs = Set(parent.burst_time_secs);
    row.volume_bytes = Set(parent.volume_bytes);
    row.fup = Set(parent.fup.clone());
    row.validity_minutes = Set(parent.validity_minutes);
    row.ip_pool_id = Set(parent.ip_pool_id);
    let saved = row.insert(w.tx()).await.map_err(|e| on_unique(e, KEYS))?;
    audit(w, "package.create", None, Some(&saved)).await?;
    Ok(saved)
}

/// Changes a package if it is still at `version`. A master's service change is copied to
/// every package derived from it; the ids of those packages (the master's included) are
/// returned so the caller can re-project their customers.
pub async fn update(
    w: &mut Write,
    scope: &PackageScope,
    id: i64,
    version: i32,
    changes: &PackageChanges,
) -> StoreResult<(Package, Vec<i64>)> {
    let before = find(w.tx(), scope, id).await?.ok_or(StoreError::NotFound)?;
    let mut row: ActiveModel = before.clone().into();
    if let Some(name) = &changes.name {
        row.name = Set(name.clone());
    }
    if let Some(price) = changes.price {
        row.price = Set(price.minor());
    }
    if let Some(cost) = changes.cost_price {
        row.cost_price = Set(cost.minor());
    }
    let mut affected = Vec::new();
    if let Some(service) = &changes.service {
        if before.level != PackageLevel::Master {
            return Err(StoreError::Refused {
                field: "download_kbps",
                code: "service_of_master",
            });
        }
        if before.connection_type != service.connection_type && in_use(w.tx(), id).await? {
            return Err(StoreError::Refused {
                field: "connection_type",
                code: "in_use",
            });
        }
        service_columns(&mut row, service);
        let mut copy = ActiveModel {
            ..Default::default()
        };
        service_columns(&mut copy, service);
        Entity::update_many()
            .set(copy)
            .filter(Column::MasterId.eq(id))
            .filter(Column::Id.ne(id))
            .exec(w.tx())
            .await?;
        affected = Entity::find()
            .filter(Column::MasterId.eq(id))
            .all(w.tx())
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
    }
    let after = update_versioned::<Entity>(w, row, id, version, KEYS).await?;
    let cost_ok = after.level == PackageLevel::Master || after.cost_price <= after.price;
    if !cost_ok {
        return Err(StoreError::Refused {
            field: "cost_price",
            code: "cost_above_price",
        });
    }
    audit(w, "package.update", Some(&before), Some(&after)).await?;
    Ok((after, affected))
}

/// True if a customer or a derived package uses the package.
pub async fn in_use<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<bool> {
    let customers = customer::Entity::find()
        .filter(customer::Column::PackageId.eq(id))
        .filter(customer::Column::ArchivedAt.is_null())
        .count(conn)
        .await?;
    let derived = Entity::find()
        .filter(Column::ParentId.eq(id))
        .filter(Column::ArchivedAt.is_null())
        .count(conn)
        .await?;
    Ok(customers > 0 || derived > 0)
}

/// Archives a package nobody uses.
pub async fn archive(w: &mut Write, scope: &PackageScope, id: i64) -> StoreResult<Package> {
    let before = find(w.tx(), scope, id).await?.ok_or(StoreError::NotFound)?;
    if in_use(w.tx(), id).await? {
        return Err(StoreError::Refused {
            field: "id",
            code: "in_use",
        });
    }
    Entity::update_many()
        .col_expr(Column::ArchivedAt, Expr::value(w.now()))
        .col_expr(Column::Status, Expr::value("archived"))
        .filter(Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    audit(w, "package.archive", Some(&before), None).await?;
    Ok(before)
}

/// The packages a customer owned by `owner_user` (or by the tenant, when `None`) may use,
/// of one connection type: the owner's own packages, or the tenant's masters.
pub fn usable_by(
    owner_user: Option<UserId>,
    tenant: TenantId,
    connection: ConnectionType,
) -> Condition {
    let owner = match owner_user {
        Some(user) => Condition::all().add(Column::OwnerId.eq(user.0)),
        None => Condition::all().add(Column::Level.eq(Stored(PackageLevel::Master))),
    };
    owner
        .add(Column::TenantId.eq(tenant.0))
        .add(Column::ConnectionType.eq(Stored(connection)))
        .add(Column::ArchivedAt.is_null())
}

/// The packages a customer of `owner_user` (or of the tenant) may use with `connection`:
/// `(id, name)` by name.
pub async fn usable<C: ConnectionTrait>(
    conn: &C,
    owner_user: Option<UserId>,
    tenant: TenantId,
    connection: ConnectionType,
) -> StoreResult<Vec<(i64, String)>> {
    Ok(Entity::find()
        .filter(usable_by(owner_user, tenant, connection))
        .order_by_asc(Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect())
}

/// Package `id` if a customer of `owner_user` (or of the tenant) may use it with
/// `connection`; else, the package of that id in the tenant, if there is one.
pub async fn find_usable<C: ConnectionTrait>(
    conn: &C,
    owner_user: Option<UserId>,
    tenant: TenantId,
    connection: ConnectionType,
    id: i64,
) -> StoreResult<Result<Package, Option<Package>>> {
    let usable = Entity::find_by_id(id)
        .filter(usable_by(owner_user, tenant, connection))
        .one(conn)
        .await?;
    match usable {
        Some(p) => Ok(Ok(p)),
        None => Ok(Err(Entity::find_by_id(id)
            .filter(Column::TenantId.eq(tenant.0))
            .one(conn)
            .await?)),
    }
}

async fn audit(
    w: &mut Write,
    action: &'static str,
    before: Option<&Package>,
    after: Option<&Package>,
) -> StoreResult<()> {
    let subject = after.or(before).ok_or(StoreError::NotFound)?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(subject.tenant_id)),
        action,
        entity: "package",
        entity_id: Some(subject.id),
        before: before.map(snapshot),
        after: after.map(snapshot),
    })
    .await
}

/// The live package `id` and every live package under it (its operators' and theirs), in
/// one read per level.
pub async fn family<C: sea_orm::ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Vec<i64>> {
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QuerySelect as _};
    let mut out = vec![id];
    let mut level = vec![id];
    // Package levels are few (domain::package::PackageLevel): the loop ends after them.
    while !level.is_empty() && out.len() < 1_000_000 {
        level = Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::ParentId.is_in(level))
            .filter(Column::ArchivedAt.is_null())
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(&level);
    }
    Ok(out)
}

/// The live packages of `tenant` that give addresses from pool `pool`.
pub async fn using_pool<C: sea_orm::ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    pool: i64,
) -> StoreResult<Vec<i64>> {
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QuerySelect as _};
    Ok(Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::TenantId.eq(tenant.0))
        .filter(Column::IpPoolId.eq(pool))
        .filter(Column::ArchivedAt.is_null())
        .into_tuple()
        .all(conn)
        .await?)
}

/// Points the live packages `ids` of `tenant` at pool `to`, in `w` (each one changed has its
/// version moved on); the ids changed.
pub async fn repoint_pool(
    w: &Write,
    tenant: TenantId,
    ids: &[i64],
    to: i64,
) -> StoreResult<Vec<i64>> {
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QuerySelect as _};
    let changed: Vec<i64> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::TenantId.eq(tenant.0))
        .filter(Column::Id.is_in(ids.iter().copied()))
        .filter(Column::IpPoolId.ne(to))
        .filter(Column::ArchivedAt.is_null())
        .into_tuple()
        .all(w.tx())
        .await?;
    if !changed.is_empty() {
        Entity::update_many()
            .col_expr(Column::IpPoolId, Expr::value(to))
            .col_expr(
                Column::Version,
                sea_orm::sea_query::ExprTrait::add(Expr::col(Column::Version), 1),
            )
            .col_expr(Column::UpdatedAt, Expr::value(w.now()))
            .filter(Column::Id.is_in(changed.iter().copied()))
            .exec(w.tx())
            .await?;
    }
    Ok(changed)
}

/// The pools the live packages of `tenant` give addresses from.
pub async fn pools_in_use<C: sea_orm::ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
) -> StoreResult<Vec<i64>> {
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QuerySelect as _};
    let pools: Vec<Option<i64>> = Entity::find()
        .select_only()
        .column(Column::IpPoolId)
        .distinct()
        .filter(Column::TenantId.eq(tenant.0))
        .filter(Column::IpPoolId.is_not_null())
        .filter(Column::ArchivedAt.is_null())
        .into_tuple()
        .all(conn)
        .await?;
    Ok(pools.into_iter().flatten().collect())
}
