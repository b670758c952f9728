//! Routers' health (`router_health`): the routers a check visits, and each router's last
//! check, replaced by the next. A check is the system's observation, not a change anyone
//! made: it is written beside the write path, as a job's progress is, and not audited.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entity::router;
use crate::entity::router_health::{self, ActiveModel, Column, Entity};
use crate::error::StoreResult;

/// A router's last check.
pub type Health = router_health::Model;

/// Every live router lastmile has API access to, of every tenant, or only router `only`.
pub async fn routers_to_check<C: ConnectionTrait>(
    conn: &C,
    only: Option<i64>,
) -> StoreResult<Vec<router::Model>> {
    let mut select = router::Entity::find()
        .filter(router::Column::ArchivedAt.is_null())
        .filter(router::Column::ApiAddress.is_not_null());
    if let Some(id) = only {
        select = select.filter(router::Column::Id.eq(id));
    }
    Ok(select.all(conn).await?)
}

/// Replaces the last check of `health.router_id`; a failed check keeps when it was last
/// seen.
pub async fn record_health<C: ConnectionTrait>(conn: &C, health: &Health) -> StoreResult<()> {
    let seen: Option<DateTime<Utc>> = match health.seen_at {
        Some(at) => Some(at),
        None => Entity::find_by_id(health.router_id)
            .one(conn)
            .await?
            .and_then(|h| h.seen_at),
    };
    let row = ActiveModel {
        router_id: Set(health.router_id),
        tenant_id: Set(health.tenant_id),
        checked_at: Set(health.checked_at),
        seen_at: Set(seen),
        version: Set(health.version.clone()),
        identity: Set(health.identity.clone()),
        uptime: Set(health.uptime.clone()),
        cpu_load: Set(health.cpu_load),
        radius_ok: Set(health.radius_ok),
        drift: Set(health.drift.clone()),
        error: Set(health.error.clone()),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::RouterId)
                .update_columns([
                    Column::TenantId,
                    Column::CheckedAt,
                    Column::SeenAt,
                    Column::Version,
                    Column::Identity,
                    Column::Uptime,
                    Column::CpuLoad,
                    Column::RadiusOk,
                    Column::Drift,
                    Column::Error,
                ])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The last check of router `id`, if it was checked.
pub async fn health_of<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Option<Health>> {
    Ok(Entity::find_by_id(id).one(conn).await?)
}
