//! Customers (subscribers): scoped reads, the customer list (filters over indexed columns,
//! name search by trigram on PostgreSQL and FTS5 on SQLite), and every change through the
//! write path with the FreeRADIUS projection rewritten in the same transaction, the user
//! name history kept, and static addresses allocated from pools.
//!
//! User names are unique on the installation without regard to case; a name freed by a
//! rename or a deletion is not taken by another customer while it rests (`Db::name_rest`,
//! 90 days unless configured), so accounting and logs never mix two subscribers.

mod bulk;
mod list;
mod owner;
mod project;
pub mod readdress;

use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

pub use bulk::{NameHolder, create_many, name_holders, taken_mobiles, taken_names};
pub use list::{CustomerFilter, FieldFilter, LIST, Search, StatusFilter, list};
pub use owner::{follow_operator, move_customers};
pub use project::{
    CONVERGE_BATCH, CONVERGE_KIND, Converge, INLINE_REWRITE, Projector, Reach, Terms,
    converge_batch, project, radius_devices, reached, rewrite_or_converge, rewrite_projection,
};

use crate::entity::code::Stored;
use crate::entity::customer::{ActiveModel, Column, Entity, Model};
use crate::entity::customer_name;
use crate::error::{StoreError, StoreResult, on_unique};
use crate::network;
use crate::scope;
use crate::versioned::update_versioned;
use crate::write::{AuditEntry, Write};
use domain::access::{CustomerScope, Owner};
use domain::customer::{CustomerChanges, NewCustomer, StaticIp, Username};
use domain::ids::{TenantId, UserId};

/// A stored customer.
pub type Customer = Model;

/// Where a customer's sealed password belongs.
pub const PASSWORD_CONTEXT: &str = "customer.password";

const KEYS: &[(&str, &str)] = &[
    ("customer_username_key", "username"),
    ("customer.username_key", "username"),
    ("customer_mobile_key", "mobile"),
    ("customer.tenant_id, customer.mobile", "mobile"),
];

/// The customer's static address.
pub fn static_ip(c: &Customer) -> Option<Ipv4Addr> {
    c.static_ip
        .and_then(|n| u32::try_from(n).ok())
        .map(Ipv4Addr::from)
}

/// Who owns the customer.
pub fn owner(c: &Customer) -> Owner {
    let tenant = TenantId(c.tenant_id);
    match (c.operator_id, c.sub_operator_id) {
        (_, Some(sub)) => Owner::SubOperator {
            tenant,
            operator: c.operator_id.map(UserId),
            sub_operator: UserId(sub),
        },
        (Some(op), None) => Owner::Operator {
            tenant,
            operator: UserId(op),
        },
        (None, None) => Owner::Tenant(tenant),
    }
}

/// The customer's state for the audit log (the password left out).
pub fn snapshot(c: &Customer) -> Value {
    json!({
        "id": c.id, "tenant_id": c.tenant_id, "operator_id": c.operator_id, "sub_operator_id": c.sub_operator_id,
        "package_id": c.package_id, "connection_type": c.connection_type, "billing_type": c.billing_type,
        "name": c.name, "mobile": c.mobile, "email": c.email, "zone_id": c.zone_id, "router_id": c.router_id,
        "username": c.username, "status": c.status, "expires_at": c.expires_at,
        "static_ip": static_ip(c).map(|ip| ip.to_string()), "ip_pool_id": c.ip_pool_id, "mac": c.mac,
        "simultaneous_use": c.simultaneous_use, "version": c.version,
    })
}

/// A customer in the caller's scope.
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    scope: &CustomerScope,
    id: i64,
) -> StoreResult<Option<Customer>> {
    Ok(Entity::find_by_id(id)
        .filter(scope::customers(scope))
        .filter(Column::ArchivedAt.is_null())
        .one(conn)
        .await?)
}

/// The live customer `scope` sees whose mobile is `mobile` (E.164).
pub async fn by_mobile<C: ConnectionTrait>(
    conn: &C,
    scope: &CustomerScope,
    mobile: &str,
) -> StoreResult<Option<Customer>> {
    Ok(Entity::find()
        .filter(scope::customers(scope))
        .filter(Column::Mobile.eq(mobile))
        .filter(Column::ArchivedAt.is_null())
        .one(conn)
        .await?)
}

/// Up to `limit` live customers `scope` sees with a mobile, changed at or after `since`,
/// after id `after`, in id order: (id, mobile, changed at).
pub async fn mobiles<C: ConnectionTrait>(
    conn: &C,
    scope: &CustomerScope,
    since: Option<chrono::DateTime<chrono::Utc>>,
    after: i64,
    limit: u64,
) -> StoreResult<Vec<(i64, String, chrono::DateTime<chrono::Utc>)>> {
    let mut select = Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::Mobile)
        .column(Column::UpdatedAt)
        .filter(scope::customers(scope))
        .filter(Column::Mobile.is_not_null())
        .filter(Column::ArchivedAt.is_null())
        .filter(Column::Id.gt(after));
    if let Some(since) = since {
        select = select.filter(Column::UpdatedAt.gte(since));
    }
    Ok(select
        .order_by_asc(Column::Id)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await?)
}

/// The live customers among `ids`, whoever owns them, in id order: for lastmile's own
/// work (a job that found the ids in a table of its own), never for a caller's request.
pub async fn find_live_many<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> StoreResult<Vec<Customer>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        out.extend(
            Entity::find()
                .filter(Column::Id.is_in(chunk.iter().copied()))
                .filter(Column::ArchivedAt.is_null())
                .order_by_asc(Column::Id)
                .all(conn)
                .await?,
        );
    }
    Ok(out)
}

/// Refuses a user name held, or freed less than the rest ago, by another customer.
async fn check_name_free(w: &Write, key: &str, customer: Option<i64>) -> StoreResult<()> {
    let since = w.now() - w.name_rest();
    let mut query = customer_name::Entity::find()
        .filter(customer_name::Column::UsernameKey.eq(key))
        .filter(
            sea_orm::Condition::any()
                .add(customer_name::Column::ValidTo.is_null())
                .add(customer_name::Column::ValidTo.gt(since)),
        );
    if let Some(id) = customer {
        query = query.filter(customer_name::Column::CustomerId.ne(id));
    }
    if query.one(w.tx()).await?.is_some() {
        return Err(StoreError::Taken { field: "username" });
    }
    Ok(())
}

async fn open_name(w: &Write, tenant: i64, customer: i64, username: &Username) -> StoreResult<()> {
    customer_name::ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant),
        customer_id: Set(customer),
        username: Set(username.as_str().to_owned()),
        username_key: Set(username.key()),
        valid_from: Set(w.now()),
        valid_to: Set(None),
    }
    .insert(w.tx())
    .await?;
    Ok(())
}

async fn close_names(w: &Write, customer: i64) -> StoreResult<()> {
    customer_name::Entity::update_many()
        .col_expr(customer_name::Column::ValidTo, Expr::value(w.now()))
        .filter(customer_name::Column::CustomerId.eq(customer))
        .filter(customer_name::Column::ValidTo.is_null())
        .exec(w.tx())
        .await?;
    Ok(())
}

/// Creates a customer with its name history, its static address and its projection.
pub async fn create(w: &mut Write, new: &NewCustomer) -> StoreResult<Customer> {
    check_name_free(w, &new.username.key(), None).await?;
    let now = w.now();
    let tenant = new.owner.tenant();
    let row = ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant.0),
        operator_id: Set(new.owner.operator().map(|u| u.0)),
        sub_operator_id: Set(new.owner.sub_operator().map(|u| u.0)),
        package_id: Set(new.package_id),
        connection_type: Set(Stored(new.connection_type)),
        billing_type: Set(Stored(new.billing_type)),
        name: Set(new.name.clone()),
        mobile: Set(new.mobile.as_ref().map(|m| m.as_str().to_owned())),
        email: Set(new.email.clone()),
        address: Set(new.address.clone()),
        zone_id: Set(new.zone_id),
        router_id: Set(new.router_id),
        username: Set(new.username.as_str().to_owned()),
        username_key: Set(new.username.key()),
        password: Set(w
            .keyring()
            .seal(PASSWORD_CONTEXT, new.password.expose().as_bytes())?),
        status: Set(Stored(new.status)),
        expires_at: Set(new.expires_at),
        static_ip: Set(None),
        ip_pool_id: Set(new.ip_pool_id),
        mac: Set(new.mac.map(|m| m.to_string())),
        simultaneous_use: Set(new.simultaneous_use.max(1)),
        comment: Set(new.comment.clone()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        suspended_for: Set(None),
        custom_price: Set(None),
    };
    let mut saved = row.insert(w.tx()).await.map_err(|e| on_unique(e, KEYS))?;
    if let Some(wanted) = new.static_ip {
        saved = assign_static(w, saved, wanted).await?;
    }
    open_name(w, tenant.0, saved.id, &new.username).await?;
    rewrite_projection(w, &saved).await?;
    w.aaa_changed(Some(tenant), Some(saved.id), "customer.create")
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "customer.create",
        entity: "customer",
        entity_id: Some(saved.id),
        before: None,
        after: Some(snapshot(&saved)),
    })
    .await?;
    Ok(saved)
}

async fn assign_static(w: &Write, customer: Customer, wanted: StaticIp) -> StoreResult<Customer> {
    let pool = crate::entity::ip_pool::Entity::find_by_id(wanted.pool_id)
        .filter(crate::entity::ip_pool::Column::TenantId.eq(customer.tenant_id))
        .filter(crate::entity::ip_pool::Column::ArchivedAt.is_null())
        .one(w.tx())
        .await?
        .ok_or(StoreError::Refused {
            field: "ip_pool_id",
            code: "not_found",
        })?;
    let address = network::allocate(w, &pool, customer.id, wanted.address).await?;
    let mut row: ActiveModel = customer.into();
    row.static_ip = Set(Some(i64::from(u32::from(address))));
    row.ip_pool_id = Set(Some(pool.id));
    Ok(row.update(w.tx()).await?)
}

/// Changes a customer in the caller's scope if it is still at `version`; the projection is
/// rewritten and the AAA change log told in the same transaction.
pub async fn update(
    w: &mut Write,
    scope: &CustomerScope,
    id: i64,
    version: i32,
    changes: &CustomerChanges,
) -> StoreResult<Customer> {
    let before = find(w.tx(), scope, id).await?.ok_or(StoreError::NotFound)?;
    let mut row: ActiveModel = before.clone().into();
    if let Some(v) = &changes.name {
        row.name = Set(v.clone());
    }
    if let Some(v) = &changes.mobile {
        row.mobile = Set(v.as_ref().map(|m| m.as_str().to_owned()));
    }
    if let Some(v) = &changes.email {
        row.email = Set(v.clone());
    }
    if let Some(v) = &changes.address {
        row.address = Set(v.clone());
    }
    if let Some(v) = changes.zone_id {
        row.zone_id = Set(v);
    }
    if let Some(v) = changes.router_id {
        row.router_id = Set(v);
    }
    let renamed = changes
        .username
        .as_ref()
        .filter(|u| u.as_str() != before.username);
    if let Some(username) = renamed {
        if username.key() != before.username_key {
            check_name_free(w, &username.key(), Some(id)).await?;
        }
        row.username = Set(username.as_str().to_owned());
        row.username_key = Set(username.key());
    }
    if let Some(v) = &changes.password {
        row.password = Set(w.keyring().seal(PASSWORD_CONTEXT, v.expose().as_bytes())?);
    }
    if let Some(v) = changes.status {
        row.status = Set(Stored(v));
        // Whoever moves the status now owns it: a run's reason no longer holds.
        row.suspended_for = Set(None);
    }
    if let Some(v) = changes.package_id
        && v != before.package_id
    {
        row.package_id = Set(v);
        // A customer's own price was set against its package's costs.
        row.custom_price = Set(None);
    }
    if let Some(v) = changes.billing_type {
        row.billing_type = Set(Stored(v));
    }
    if let Some(v) = changes.expires_at {
        row.expires_at = Set(v);
    }
    if let Some(v) = changes.ip_pool_id {
        row.ip_pool_id = Set(v);
    }
    if let Some(v) = changes.mac {
        row.mac = Set(v.map(|m| m.to_string()));
    }
    if let Some(v) = changes.simultaneous_use {
        row.simultaneous_use = Set(v.max(1));
    }
    if let Some(v) = &changes.comment {
        row.comment = Set(v.clone());
    }
    if let Some(None) = changes.static_ip {
        network::release(w, id).await?;
        row.static_ip = Set(None);
    }
    let mut after = update_versioned::<Entity>(w, row, id, version, KEYS).await?;
    if let Some(Some(wanted)) = changes.static_ip {
        after = assign_static(w, after, wanted).await?;
    }
    if let Some(username) = renamed {
        close_names(w, id).await?;
        open_name(w, after.tenant_id, id, username).await?;
    }
    rewrite_projection(w, &after).await?;
    w.aaa_changed(Some(TenantId(after.tenant_id)), Some(id), changes.action())
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(after.tenant_id)),
        action: changes.action(),
        entity: "customer",
        entity_id: Some(id),
        before: Some(snapshot(&before)),
        after: Some(snapshot(&after)),
    })
    .await?;
    Ok(after)
}

/// Sets customer `id`'s own monthly price (`None`: its package's), in `w`, if it is still
/// at `version`; audited.
pub async fn set_custom_price(
    w: &mut Write,
    scope: &CustomerScope,
    id: i64,
    version: i32,
    price: Option<i64>,
) -> StoreResult<Customer> {
    let before = find(w.tx(), scope, id).await?.ok_or(StoreError::NotFound)?;
    let mut row: ActiveModel = before.clone().into();
    row.custom_price = Set(price);
    let after = update_versioned::<Entity>(w, row, id, version, KEYS).await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(after.tenant_id)),
        action: "customer.custom_price",
        entity: "customer",
        entity_id: Some(id),
        before: Some(serde_json::json!({"custom_price": before.custom_price})),
        after: Some(serde_json::json!({"custom_price": after.custom_price})),
    })
    .await?;
    Ok(after)
}

/// Archives a customer: its RADIUS rows and static address go, its user name is closed in
/// the history (and waits out the quarantine), everything else stays.
pub async fn archive(w: &mut Write, scope: &CustomerScope, id: i64) -> StoreResult<Customer> {
    let before = find(w.tx(), scope, id).await?.ok_or(StoreError::NotFound)?;
    Entity::update_many()
        .col_expr(Column::ArchivedAt, Expr::value(w.now()))
        .col_expr(Column::Version, Expr::value(before.version + 1))
        .col_expr(Column::StaticIp, Expr::value(Option::<i64>::None))
        .filter(Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    network::release(w, id).await?;
    close_names(w, id).await?;
    crate::radius::remove(w, id).await?;
    w.aaa_changed(
        Some(TenantId(before.tenant_id)),
        Some(id),
        "customer.archive",
    )
    .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(before.tenant_id)),
        action: "customer.archive",
        entity: "customer",
        entity_id: Some(id),
        before: Some(snapshot(&before)),
        after: None,
    })
    .await?;
    Ok(before)
}

/// Customers whose RADIUS address pool is `pool`: their own, or their package's.
pub fn uses_pool(pool: i64) -> sea_orm::Condition {
    use crate::entity::package;
    let packages = sea_orm::sea_query::Query::select()
        .column(package::Column::Id)
        .from(package::Entity)
        .and_where(sea_orm::sea_query::ExprTrait::eq(
            Expr::col(package::Column::IpPoolId),
            pool,
        ))
        .to_owned();
    sea_orm::Condition::any()
        .add(Column::IpPoolId.eq(pool))
        .add(Column::PackageId.in_subquery(packages))
}

/// Whether each of `ids` is archived (`true`) or live (`false`), in one query; ids of no
/// customer are left out.
pub async fn archived_states<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, bool>> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows: Vec<(i64, Option<DateTime<Utc>>)> = Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::ArchivedAt)
        .filter(Column::Id.is_in(ids.to_vec()))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, archived_at)| (id, archived_at.is_some()))
        .collect())
}

/// The customer that held `username` at `at` (for mapping accounting to customers).
pub async fn holder_of_name<C: ConnectionTrait>(
    conn: &C,
    username: &str,
    at: DateTime<Utc>,
) -> StoreResult<Option<i64>> {
    let rows = customer_name::Entity::find()
        .filter(customer_name::Column::UsernameKey.eq(username.to_ascii_lowercase()))
        .filter(customer_name::Column::ValidFrom.lte(at))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .find(|r| r.valid_to.is_none_or(|to| to > at))
        .map(|r| r.customer_id))
}

/// The customer's password in clear (for the projection and for staff who may see it).
pub fn password(
    keyring: &crate::crypto::Keyring,
    c: &Customer,
) -> StoreResult<zeroize::Zeroizing<String>> {
    Ok(keyring.open_string(PASSWORD_CONTEXT, &c.password)?)
}

/// Up to `limit` ids of tenant `tenant`'s live customers, by id.
pub async fn list_ids<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    limit: u64,
) -> StoreResult<Vec<i64>> {
    use sea_orm::QuerySelect as _;
    Ok(Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::TenantId.eq(tenant.0))
        .filter(Column::ArchivedAt.is_null())
        .order_by_asc(Column::Id)
        .limit(limit)
        .into_tuple::<i64>()
        .all(conn)
        .await?)
}
