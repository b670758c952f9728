//! Provisionings that completed on a router (`router_provisioning`): recorded with their
//! steps when applied, the latest read back to roll it back, marked when rolled back.

use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, QueryFilter, QueryOrder,
};

use crate::entity::router_provisioning::{self, ActiveModel, Column, Entity};
use crate::error::StoreResult;
use crate::write::Write;
use domain::ids::TenantId;

/// A completed provisioning.
pub type Provisioning = router_provisioning::Model;

/// Records a completed provisioning of `router`; its id.
pub async fn record_provisioning(
    w: &Write,
    tenant: TenantId,
    router: i64,
    request: &serde_json::Value,
    steps: &serde_json::Value,
) -> StoreResult<i64> {
    let row = ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant.0),
        router_id: Set(router),
        request: Set(request.to_string()),
        steps: Set(steps.to_string()),
        applied_at: Set(w.now()),
        reverted_at: Set(None),
    }
    .insert(w.tx())
    .await?;
    Ok(row.id)
}

/// The latest provisioning of `router` not rolled back, if any.
pub async fn latest_provisioning<C: ConnectionTrait>(
    conn: &C,
    router: i64,
) -> StoreResult<Option<Provisioning>> {
    Ok(Entity::find()
        .filter(Column::RouterId.eq(router))
        .filter(Column::RevertedAt.is_null())
        .order_by_desc(Column::Id)
        .one(conn)
        .await?)
}

/// Marks provisioning `id` rolled back.
pub async fn mark_reverted(w: &Write, id: i64) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(Column::RevertedAt, sea_orm::sea_query::Expr::value(w.now()))
        .filter(Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    Ok(())
}
