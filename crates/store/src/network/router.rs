//! Routers: each mirrored into FreeRADIUS's `nas` in the same transaction, with its RADIUS
//! secret and API password sealed at rest.

use std::net::IpAddr;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::{Value, json};

use super::NetworkFilter;
use crate::entity::code::Stored;
use crate::entity::{nas, router};
use crate::error::{StoreError, StoreResult, on_unique};
use crate::list::{ListSpec, Page, PageRequest, SortColumn, SortKind};
use crate::versioned::update_versioned;
use crate::write::{AuditEntry, Write};
use domain::access::NetworkScope;
use domain::ids::TenantId;
use domain::network::router::TlsTrust;
use domain::tenant::TenantStatus;

/// A stored router.
pub type Router = router::Model;

/// Where a router's sealed secrets belong.
pub const SECRET_CONTEXT: &str = "router.secret";
/// Where a router's sealed API password belongs.
pub const API_PASSWORD_CONTEXT: &str = "router.api_password";

const ROUTER_KEYS: &[(&str, &str)] = &[
    ("router_nas_address_key", "nas_address"),
    ("router.nas_address", "nas_address"),
    ("router_tenant_name_key", "name"),
    ("router.tenant_id, router.name", "name"),
];
/// The router list.
pub static ROUTERS: ListSpec<router::Entity> = ListSpec {
    sorts: &[
        SortColumn {
            name: "id",
            column: router::Column::Id,
            kind: SortKind::Int,
        },
        SortColumn {
            name: "name",
            column: router::Column::Name,
            kind: SortKind::Text,
        },
    ],
    id: router::Column::Id,
    default_sort: "name",
};

/// The columns the network reads go by.
const COLUMNS: super::Columns<router::Entity> = super::Columns {
    tenant: router::Column::TenantId,
    archived: router::Column::ArchivedAt,
    name: router::Column::Name,
};

/// A new router, validated; secrets in clear (they are sealed here).
#[derive(Debug, Clone)]
pub struct NewRouter {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its name.
    pub name: String,
    /// The RADIUS source address.
    pub nas_address: IpAddr,
    /// The RADIUS shared secret.
    pub secret: String,
    /// The RouterOS API host.
    pub api_address: Option<String>,
    /// The RouterOS API port.
    pub api_port: u16,
    /// The RouterOS API user.
    pub api_user: Option<String>,
    /// The RouterOS API password.
    pub api_password: Option<String>,
    /// API over TLS (8729).
    pub api_tls: bool,
    /// How its API-SSL certificate is trusted.
    pub api_tls_trust: TlsTrust,
    /// The router's time zone.
    pub time_zone: Option<String>,
    /// Free notes.
    pub notes: String,
    /// Refuse its Access-Requests without a Message-Authenticator (the built-in server).
    pub require_message_authenticator: bool,
}

/// Changes to a router; `None` leaves a field.
#[derive(Debug, Clone, Default)]
pub struct RouterChanges {
    /// New name.
    pub name: Option<String>,
    /// New RADIUS source address.
    pub nas_address: Option<IpAddr>,
    /// New shared secret.
    pub secret: Option<String>,
    /// New API host (`Some(None)` clears it).
    pub api_address: Option<Option<String>>,
    /// New API port.
    pub api_port: Option<u16>,
    /// New API user.
    pub api_user: Option<Option<String>>,
    /// New API password.
    pub api_password: Option<Option<String>>,
    /// API over TLS.
    pub api_tls: Option<bool>,
    /// New certificate trust.
    pub api_tls_trust: Option<TlsTrust>,
    /// New time zone.
    pub time_zone: Option<Option<String>>,
    /// New notes.
    pub notes: Option<String>,
    /// Refuse its Access-Requests without a Message-Authenticator.
    pub require_message_authenticator: Option<bool>,
}

/// The router's state for the audit log (no secrets).
pub fn router_snapshot(r: &Router) -> Value {
    json!({
        "id": r.id, "tenant_id": r.tenant_id, "name": r.name, "nas_address": r.nas_address,
        "api_address": r.api_address, "api_port": r.api_port, "api_user": r.api_user, "api_tls": r.api_tls,
        "api_tls_trust": r.api_tls_trust, "api_tls_fingerprint": r.api_tls_fingerprint,
        "api_tls_ca_set": r.api_tls_ca.is_some(),
        "require_message_authenticator": r.require_message_authenticator,
        "time_zone": r.time_zone, "notes": r.notes, "version": r.version,
        "secret_set": !r.secret.is_empty(), "api_password_set": r.api_password.is_some(),
    })
}

/// A router in the caller's scope.
pub async fn find_router<C: ConnectionTrait>(
    conn: &C,
    scope: &NetworkScope,
    id: i64,
) -> StoreResult<Option<Router>> {
    Ok(super::live(scope, &COLUMNS)
        .filter(router::Column::Id.eq(id))
        .one(conn)
        .await?)
}

/// A page of the routers in the caller's scope.
pub async fn list_routers<C: ConnectionTrait>(
    conn: &C,
    scope: &NetworkScope,
    filter: &NetworkFilter,
    page: &PageRequest,
) -> StoreResult<Page<Router>> {
    super::list_live(conn, scope, filter, page, &ROUTERS, &COLUMNS).await
}

fn seal(w: &Write, context: &str, clear: &str) -> StoreResult<String> {
    Ok(w.keyring().seal(context, clear.as_bytes())?)
}

/// Creates a router and its `nas` row.
pub async fn create_router(w: &mut Write, new: &NewRouter) -> StoreResult<Router> {
    let now = w.now();
    let row = router::ActiveModel {
        id: NotSet,
        tenant_id: Set(new.tenant_id.0),
        name: Set(new.name.clone()),
        nas_address: Set(new.nas_address.to_string()),
        secret: Set(seal(w, SECRET_CONTEXT, &new.secret)?),
        api_address: Set(new.api_address.clone()),
        api_port: Set(i32::from(new.api_port)),
        api_user: Set(new.api_user.clone()),
        api_password: Set(match &new.api_password {
            Some(p) => Some(seal(w, API_PASSWORD_CONTEXT, p)?),
            None => None,
        }),
        api_tls: Set(new.api_tls),
        require_message_authenticator: Set(new.require_message_authenticator),
        api_tls_trust: Set(new.api_tls_trust.kind().to_owned()),
        api_tls_fingerprint: Set(new.api_tls_trust.fingerprint().map(str::to_owned)),
        api_tls_ca: Set(new.api_tls_trust.ca().map(str::to_owned)),
        time_zone: Set(new.time_zone.clone()),
        notes: Set(new.notes.clone()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
    };
    let saved = row
        .insert(w.tx())
        .await
        .map_err(|e| on_unique(e, ROUTER_KEYS))?;
    mirror_nas(w, &saved, &new.secret).await?;
    // The built-in RADIUS server's clients follow the change log.
    w.aaa_changed(Some(new.tenant_id), None, "router.create")
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(new.tenant_id),
        action: "router.create",
        entity: "router",
        entity_id: Some(saved.id),
        before: None,
        after: Some(router_snapshot(&saved)),
    })
    .await?;
    Ok(saved)
}

/// Writes the router's `nas` row (FreeRADIUS reads it at start-up).
async fn mirror_nas(w: &Write, r: &Router, secret: &str) -> StoreResult<()> {
    nas::Entity::delete_many()
        .filter(nas::Column::RouterId.eq(r.id))
        .exec(w.tx())
        .await?;
    // An archived tenant's routers are no RADIUS clients any more.
    if crate::tenant::is_archived(w.tx(), TenantId(r.tenant_id)).await? {
        return Ok(());
    }
    nas::ActiveModel {
        id: NotSet,
        nasname: Set(r.nas_address.clone()),
        shortname: Set(Some(r.name.chars().take(32).collect())),
        nas_type: Set(Some("other".to_owned())),
        ports: Set(Some(3799)),
        secret: Set(secret.to_owned()),
        server: Set(None),
        community: Set(None),
        description: Set(Some(format!("lastmile router {}", r.id))),
        tenant_id: Set(Some(r.tenant_id)),
        router_id: Set(Some(r.id)),
    }
    .insert(w.tx())
    .await?;
    Ok(())
}

/// Whether a RADIUS client should exist for each router of `ids`: per router found,
/// `(router archived, its tenant archived)`.
pub async fn router_states<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, (bool, bool)>> {
    use crate::entity::tenant;
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let routers: Vec<(i64, i64, Option<chrono::DateTime<chrono::Utc>>)> = router::Entity::find()
        .select_only()
        .column(router::Column::Id)
        .column(router::Column::TenantId)
        .column(router::Column::ArchivedAt)
        .filter(router::Column::Id.is_in(ids.to_vec()))
        .into_tuple()
        .all(conn)
        .await?;
    let mut tenants: Vec<i64> = routers.iter().map(|r| r.1).collect();
    tenants.sort_unstable();
    tenants.dedup();
    let live: std::collections::HashSet<i64> = tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .filter(tenant::Column::Id.is_in(tenants))
        .filter(tenant::Column::Status.eq(Stored(TenantStatus::Active)))
        .into_tuple()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    Ok(routers
        .into_iter()
        .map(|(id, tenant, archived_at)| (id, (archived_at.is_some(), !live.contains(&tenant))))
        .collect())
}

/// Changes a router if it is still at `version`, and its `nas` row with it.
pub async fn update_router(
    w: &mut Write,
    scope: &NetworkScope,
    id: i64,
    version: i32,
    changes: &RouterChanges,
) -> StoreResult<Router> {
    let before = find_router(w.tx(), scope, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut row: router::ActiveModel = before.clone().into();
    if let Some(v) = &changes.name {
        row.name = Set(v.clone());
    }
    if let Some(v) = changes.nas_address {
        row.nas_address = Set(v.to_string());
    }
    if let Some(v) = &changes.secret {
        row.secret = Set(seal(w, SECRET_CONTEXT, v)?);
    }
    if let Some(v) = &changes.api_address {
        row.api_address = Set(v.clone());
    }
    if let Some(v) = changes.api_port {
        row.api_port = Set(i32::from(v));
    }
    if let Some(v) = &changes.api_user {
        row.api_user = Set(v.clone());
    }
    if let Some(v) = &changes.api_password {
        row.api_password = Set(match v {
            Some(p) => Some(seal(w, API_PASSWORD_CONTEXT, p)?),
            None => None,
        });
    }
    if let Some(trust) = &changes.api_tls_trust {
        row.api_tls_trust = Set(trust.kind().to_owned());
        row.api_tls_fingerprint = Set(trust.fingerprint().map(str::to_owned));
        row.api_tls_ca = Set(trust.ca().map(str::to_owned));
    }
    if let Some(v) = changes.api_tls {
        row.api_tls = Set(v);
    }
    if let Some(v) = changes.require_message_authenticator {
        row.require_message_authenticator = Set(v);
    }
    if let Some(v) = &changes.time_zone {
        row.time_zone = Set(v.clone());
    }
    if let Some(v) = &changes.notes {
        row.notes = Set(v.clone());
    }
    let after = update_versioned::<router::Entity>(w, row, id, version, ROUTER_KEYS).await?;
    let secret = w.keyring().open_string(SECRET_CONTEXT, &after.secret)?;
    mirror_nas(w, &after, &secret).await?;
    // A VPN router's accounts are accepted from its address only.
    crate::vpn::reproject_router(w, id).await?;
    w.aaa_changed(Some(TenantId(after.tenant_id)), None, "router.update")
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(after.tenant_id)),
        action: "router.update",
        entity: "router",
        entity_id: Some(id),
        before: Some(router_snapshot(&before)),
        after: Some(router_snapshot(&after)),
    })
    .await?;
    Ok(after)
}

/// Archives a router: FreeRADIUS stops knowing it (its `nas` row goes); customers keep it as
/// their home router in history.
pub async fn archive_router(w: &mut Write, scope: &NetworkScope, id: i64) -> StoreResult<Router> {
    let before = find_router(w.tx(), scope, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    router::Entity::update_many()
        .col_expr(router::Column::ArchivedAt, Expr::value(w.now()))
        .col_expr(router::Column::Version, Expr::value(before.version + 1))
        .filter(router::Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    nas::Entity::delete_many()
        .filter(nas::Column::RouterId.eq(id))
        .exec(w.tx())
        .await?;
    // A VPN router gone: its accounts are refused everywhere (no rows).
    crate::vpn::reproject_router(w, id).await?;
    w.aaa_changed(Some(TenantId(before.tenant_id)), None, "router.archive")
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(before.tenant_id)),
        action: "router.archive",
        entity: "router",
        entity_id: Some(id),
        before: Some(router_snapshot(&before)),
        after: None,
    })
    .await?;
    Ok(before)
}

/// The sealed secret of the first router, if any: a sample that shows whether a keyring is
/// the one the database was sealed with (`lastmile check`).
pub async fn sample_secret<C: ConnectionTrait>(conn: &C) -> StoreResult<Option<String>> {
    use sea_orm::QueryOrder as _;
    Ok(router::Entity::find()
        .select_only()
        .column(router::Column::Secret)
        .order_by_asc(router::Column::Id)
        .into_tuple::<String>()
        .one(conn)
        .await?)
}
