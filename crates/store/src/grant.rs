//! Grants of service (`service_grant`): the time each recharge bought and what was paid for
//! it along the chain, so a package change credits what was paid (billing-design.md P4).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, QueryFilter, QueryOrder,
};

use crate::entity::service_grant::{ActiveModel, Column, Entity, Model};
use crate::error::{StoreError, StoreResult};
use crate::write::Write;
use domain::billing::{Grant, Level, Split};
use domain::ids::TenantId;

/// A stored grant.
pub type ServiceGrant = Model;

/// What a new grant records.
#[derive(Debug, Clone)]
pub struct NewGrant<'a> {
    /// The tenant.
    pub tenant: TenantId,
    /// The customer.
    pub customer_id: i64,
    /// The package.
    pub package_id: i64,
    /// The journal that paid for it (`None` for free time).
    pub journal_id: Option<i64>,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends.
    pub ends_at: DateTime<Utc>,
    /// The minutes bought.
    pub minutes: i64,
    /// What was paid, split along the chain.
    pub split: &'a Split,
}

/// Records a grant in `w`.
pub async fn insert(w: &mut Write, new: &NewGrant<'_>) -> StoreResult<ServiceGrant> {
    let levels =
        serde_json::to_string(&new.split.levels).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let row = ActiveModel {
        id: NotSet,
        tenant_id: Set(new.tenant.0),
        customer_id: Set(new.customer_id),
        package_id: Set(new.package_id),
        journal_id: Set(new.journal_id),
        starts_at: Set(new.starts_at),
        ends_at: Set(new.ends_at),
        minutes: Set(new.minutes),
        price: Set(new.split.price),
        vat: Set(new.split.vat),
        levels: Set(levels),
        ended_at: Set(None),
        created_at: Set(w.now()),
    };
    Ok(row.insert(w.tx()).await?)
}

/// The grants of `customer` that have not ended at `now` (nor been replaced), oldest first.
pub async fn live<C: ConnectionTrait>(
    conn: &C,
    customer: i64,
    now: DateTime<Utc>,
) -> StoreResult<Vec<(i64, Grant)>> {
    let rows = Entity::find()
        .filter(Column::CustomerId.eq(customer))
        .filter(Column::EndsAt.gt(now))
        .filter(Column::EndedAt.is_null())
        .order_by_asc(Column::Id)
        .all(conn)
        .await?;
    rows.into_iter().map(|r| Ok((r.id, grant(&r)?))).collect()
}

/// The grant journal `id` paid for.
pub async fn by_journal<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> StoreResult<Option<ServiceGrant>> {
    Ok(Entity::find()
        .filter(Column::JournalId.eq(id))
        .one(conn)
        .await?)
}

/// The grants of `customer`, newest first, at most `limit`.
pub async fn history<C: ConnectionTrait>(
    conn: &C,
    customer: i64,
    limit: u64,
) -> StoreResult<Vec<ServiceGrant>> {
    use sea_orm::QuerySelect as _;
    Ok(Entity::find()
        .filter(Column::CustomerId.eq(customer))
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Ends `ids` at `now`: their unused time was credited.
pub async fn end(w: &mut Write, ids: &[i64]) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    Entity::update_many()
        .col_expr(Column::EndedAt, Expr::value(w.now()))
        .filter(Column::Id.is_in(ids.to_vec()))
        .filter(Column::EndedAt.is_null())
        .exec(w.tx())
        .await?;
    Ok(())
}

/// The domain's view of a stored grant.
pub fn grant(r: &ServiceGrant) -> StoreResult<Grant> {
    let levels: Vec<Level> = serde_json::from_str(&r.levels)
        .map_err(|e| StoreError::Corrupt(format!("service_grant {}: {e}", r.id)))?;
    Ok(Grant {
        package_id: r.package_id,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        minutes: r.minutes,
        split: Split {
            price: r.price,
            vat: r.vat,
            levels,
        },
    })
}
