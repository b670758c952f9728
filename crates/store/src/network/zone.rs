//! Zones: a tree of areas per tenant (city, then neighbourhoods) that customers are filed under.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::{Value, json};

use super::NetworkFilter;
use crate::entity::{customer, zone};
use crate::error::{StoreError, StoreResult, on_unique};
use crate::list::{ListSpec, Page, PageRequest, SortColumn, SortKind};
use crate::versioned::update_versioned;
use crate::write::{AuditEntry, Write};
use domain::access::NetworkScope;
use domain::ids::TenantId;

/// A stored zone.
pub type Zone = zone::Model;

const ZONE_KEYS: &[(&str, &str)] = &[
    ("zone_tenant_name_key", "name"),
    ("zone.tenant_id, zone.name", "name"),
];

/// The zone list.
pub static ZONES: ListSpec<zone::Entity> = ListSpec {
    sorts: &[
        SortColumn {
            name: "id",
            column: zone::Column::Id,
            kind: SortKind::Int,
        },
        SortColumn {
            name: "name",
            column: zone::Column::Name,
            kind: SortKind::Text,
        },
    ],
    id: zone::Column::Id,
    default_sort: "name",
};

/// The columns the network reads go by.
const COLUMNS: super::Columns<zone::Entity> = super::Columns {
    tenant: zone::Column::TenantId,
    archived: zone::Column::ArchivedAt,
    name: zone::Column::Name,
};

/// The zone's state for the audit log.
pub fn zone_snapshot(z: &Zone) -> Value {
    json!({ "id": z.id, "tenant_id": z.tenant_id, "name": z.name, "parent_id": z.parent_id, "version": z.version })
}

/// A zone in the caller's scope.
pub async fn find_zone<C: ConnectionTrait>(
    conn: &C,
    scope: &NetworkScope,
    id: i64,
) -> StoreResult<Option<Zone>> {
    Ok(super::live(scope, &COLUMNS)
        .filter(zone::Column::Id.eq(id))
        .one(conn)
        .await?)
}

/// A page of the zones in the caller's scope.
pub async fn list_zones<C: ConnectionTrait>(
    conn: &C,
    scope: &NetworkScope,
    filter: &NetworkFilter,
    page: &PageRequest,
) -> StoreResult<Page<Zone>> {
    super::list_live(conn, scope, filter, page, &ZONES, &COLUMNS).await
}

/// Creates a zone (its parent, if any, was found in the same tenant by the caller).
pub async fn create_zone(
    w: &mut Write,
    tenant: TenantId,
    name: &str,
    parent: Option<i64>,
) -> StoreResult<Zone> {
    let now = w.now();
    let saved = zone::ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant.0),
        name: Set(name.to_owned()),
        parent_id: Set(parent),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
    }
    .insert(w.tx())
    .await
    .map_err(|e| on_unique(e, ZONE_KEYS))?;
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "zone.create",
        entity: "zone",
        entity_id: Some(saved.id),
        before: None,
        after: Some(zone_snapshot(&saved)),
    })
    .await?;
    Ok(saved)
}

/// Zone `id` and every zone inside it, at any depth (zones are few per tenant: one query
/// per level).
pub async fn zone_subtree<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Vec<i64>> {
    let mut all = vec![id];
    let mut level = vec![id];
    // A tree of zones is never deeper than this; it also stops a cycle written by hand.
    for _ in 0..64 {
        let children: Vec<i64> = zone::Entity::find()
            .select_only()
            .column(zone::Column::Id)
            .filter(zone::Column::ParentId.is_in(level))
            .filter(zone::Column::ArchivedAt.is_null())
            .into_tuple()
            .all(conn)
            .await?;
        let fresh: Vec<i64> = children.into_iter().filter(|c| !all.contains(c)).collect();
        if fresh.is_empty() {
            break;
        }
        all.extend(&fresh);
        level = fresh;
    }
    Ok(all)
}

/// Renames or moves a zone if it is still at `version`; a zone cannot be its own ancestor.
pub async fn update_zone(
    w: &mut Write,
    scope: &NetworkScope,
    id: i64,
    version: i32,
    name: Option<&str>,
    parent: Option<Option<i64>>,
) -> StoreResult<Zone> {
    let before = find_zone(w.tx(), scope, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if let Some(Some(mut ancestor)) = parent {
        // Walk up from the new parent: meeting this zone means a cycle.
        for _ in 0..64 {
            if ancestor == id {
                return Err(StoreError::Refused {
                    field: "parent_id",
                    code: "zone_cycle",
                });
            }
            match zone::Entity::find_by_id(ancestor)
                .one(w.tx())
                .await?
                .and_then(|z| z.parent_id)
            {
                Some(next) => ancestor = next,
                None => break,
            }
        }
    }
    let mut row: zone::ActiveModel = before.clone().into();
    if let Some(name) = name {
        row.name = Set(name.to_owned());
    }
    if let Some(parent) = parent {
        row.parent_id = Set(parent);
    }
    let after = update_versioned::<zone::Entity>(w, row, id, version, ZONE_KEYS).await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(after.tenant_id)),
        action: "zone.update",
        entity: "zone",
        entity_id: Some(id),
        before: Some(zone_snapshot(&before)),
        after: Some(zone_snapshot(&after)),
    })
    .await?;
    Ok(after)
}

/// Archives a zone; its children move to its parent and its customers keep their history.
pub async fn archive_zone(w: &mut Write, scope: &NetworkScope, id: i64) -> StoreResult<Zone> {
    let before = find_zone(w.tx(), scope, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    zone::Entity::update_many()
        .col_expr(zone::Column::ParentId, Expr::value(before.parent_id))
        .filter(zone::Column::ParentId.eq(id))
        .exec(w.tx())
        .await?;
    customer::Entity::update_many()
        .col_expr(customer::Column::ZoneId, Expr::value(Option::<i64>::None))
        .filter(customer::Column::ZoneId.eq(id))
        .exec(w.tx())
        .await?;
    zone::Entity::update_many()
        .col_expr(zone::Column::ArchivedAt, Expr::value(w.now()))
        .filter(zone::Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(before.tenant_id)),
        action: "zone.archive",
        entity: "zone",
        entity_id: Some(id),
        before: Some(zone_snapshot(&before)),
        after: None,
    })
    .await?;
    Ok(before)
}
