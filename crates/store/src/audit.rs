//! The audit log, read side: scoped, filtered pages, newest first by default. Entries are
//! written only by [`crate::write::Write::audit`], in the transaction of their change.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entity::audit_log::{Column, Entity, Model};
use crate::error::StoreResult;
use crate::list::{ListSpec, Page, PageRequest, SortColumn, SortKind};
use crate::scope;
use domain::access::AuditScope;
use domain::ids::{TenantId, UserId};

/// A stored audit entry.
pub type Entry = Model;

/// The audit list: by id (the order entries were written).
pub static LIST: ListSpec<Entity> = ListSpec {
    sorts: &[SortColumn {
        name: "id",
        column: Column::Id,
        kind: SortKind::Int,
    }],
    id: Column::Id,
    default_sort: "-id",
};

/// Filters of the audit list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Entries by this actor.
    pub actor_id: Option<UserId>,
    /// Entries about this kind of record (`tenant`, `user`).
    pub entity: Option<String>,
    /// Entries about this record.
    pub entity_id: Option<i64>,
    /// Entries of this action (`user.create`).
    pub action: Option<String>,
    /// Entries of this tenant.
    pub tenant_id: Option<TenantId>,
    /// Entries at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub to: Option<DateTime<Utc>>,
}

/// A page of the audit entries in the caller's scope.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &AuditScope,
    filter: &AuditFilter,
    page: &PageRequest,
) -> StoreResult<Page<Entry>> {
    let mut select = Entity::find().filter(scope::audit(scope));
    if let Some(actor) = filter.actor_id {
        select = select.filter(Column::ActorId.eq(actor.0));
    }
    if let Some(entity) = &filter.entity {
        select = select.filter(Column::Entity.eq(entity.as_str()));
    }
    if let Some(id) = filter.entity_id {
        select = select.filter(Column::EntityId.eq(id));
    }
    if let Some(action) = &filter.action {
        select = select.filter(Column::Action.eq(action.as_str()));
    }
    if let Some(tenant) = filter.tenant_id {
        select = select.filter(Column::TenantId.eq(tenant.0));
    }
    if let Some(from) = filter.from {
        select = select.filter(Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(Column::At.lt(to));
    }
    crate::list::fetch(conn, &LIST, select, page).await
}
