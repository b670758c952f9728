//! Router-to-RADIUS migrations (`router_migration`): begun, the secrets each disabled noted
//! after every batch (so a migration cut short still knows what to enable again), finished
//! with how it ended, the latest read back to roll it back, marked when rolled back.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, QueryFilter, QueryOrder,
};

use crate::entity::router_migration::{self, ActiveModel, Column, Entity};
use crate::error::StoreResult;
use crate::write::Write;
use domain::ids::TenantId;

/// A migration.
pub type Migration = router_migration::Model;

/// Begins a migration of `router`; its id.
pub async fn begin_migration(
    w: &Write,
    tenant: TenantId,
    router: i64,
    request: &serde_json::Value,
) -> StoreResult<i64> {
    let row = ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant.0),
        router_id: Set(router),
        request: Set(request.to_string()),
        disabled: Set("[]".to_owned()),
        outcome: Set("running".to_owned()),
        started_at: Set(w.now()),
        finished_at: Set(None),
        reverted_at: Set(None),
    }
    .insert(w.tx())
    .await?;
    Ok(row.id)
}

/// Notes that migration `id` has disabled the secrets `names` (all of them so far). An
/// observation of the router's state, written as soon as the router did it: the audited
/// account of the migration is its end's.
pub async fn note_disabled<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    names: &[String],
) -> StoreResult<()> {
    let names = serde_json::to_string(names).unwrap_or_else(|_| "[]".to_owned());
    Entity::update_many()
        .col_expr(Column::Disabled, Expr::value(names))
        .filter(Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The names migration `row` disabled.
pub fn disabled_names(row: &Migration) -> Vec<String> {
    serde_json::from_str(&row.disabled).unwrap_or_default()
}

/// Ends migration `id` with `outcome` (`done` or `failed`).
pub async fn finish_migration(w: &Write, id: i64, outcome: &str) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(Column::Outcome, Expr::value(outcome))
        .col_expr(Column::FinishedAt, Expr::value(w.now()))
        .filter(Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    Ok(())
}

/// Migration `id` of `router`.
pub async fn find_migration<C: ConnectionTrait>(
    conn: &C,
    router: i64,
    id: i64,
) -> StoreResult<Option<Migration>> {
    Ok(Entity::find_by_id(id)
        .filter(Column::RouterId.eq(router))
        .one(conn)
        .await?)
}

/// The latest migration of `router` that disabled secrets and is not rolled back, if any.
pub async fn latest_migration<C: ConnectionTrait>(
    conn: &C,
    router: i64,
) -> StoreResult<Option<Migration>> {
    Ok(Entity::find()
        .filter(Column::RouterId.eq(router))
        .filter(Column::RevertedAt.is_null())
        .filter(Column::Disabled.ne("[]"))
        .order_by_desc(Column::Id)
        .one(conn)
        .await?)
}

/// Marks migration `id` rolled back: its secrets are enabled again.
pub async fn mark_migration_reverted(w: &Write, id: i64) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(Column::RevertedAt, Expr::value(w.now()))
        .filter(Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    Ok(())
}
