//! Fair-usage standings (`customer_quota`): for a subscriber on a capped package (a volume
//! cap or FUP steps), the period the usage watcher last checked it in, the level it set
//! (`domain::fup::Level`) and the period's bytes when it set it. The FreeRADIUS rows take
//! their usage from here (`customer::Projector`), so they change only when the level or the
//! period does. The watcher (`ops::fair_usage`) reads its candidates here and writes the
//! standing in the transaction that re-projects the subscriber and reaches its sessions.

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::OnConflict,
};

use crate::entity::customer_quota::{ActiveModel, Column, Entity, Model};
use crate::error::StoreResult;
use crate::write::Write;

/// A standing as stored.
pub type Standing = Model;

/// The bytes the subscriber's rows count as used: its period's bytes when the watcher last
/// set its level (0 before the first check).
pub async fn recorded_used<C: ConnectionTrait>(conn: &C, customer: i64) -> StoreResult<i64> {
    Ok(Entity::find_by_id(customer)
        .one(conn)
        .await?
        .map_or(0, |s| s.used_bytes))
}

/// The standing of `customer`, if it has one.
pub async fn find<C: ConnectionTrait>(conn: &C, customer: i64) -> StoreResult<Option<Standing>> {
    Ok(Entity::find_by_id(customer).one(conn).await?)
}

/// The standings of the customers among `ids` that have one.
pub async fn find_many<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, Standing>> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows = Entity::find()
            .filter(Column::CustomerId.is_in(chunk.iter().copied()))
            .all(conn)
            .await?;
        out.extend(rows.into_iter().map(|s| (s.customer_id, s)));
    }
    Ok(out)
}

/// The customers whose standing the watcher must look at whether they are online or not:
/// slowed, used up, or in a period that may have ended by `day` (a new period starts them
/// afresh). In id order.
pub async fn due<C: ConnectionTrait>(conn: &C, day: NaiveDate) -> StoreResult<Vec<i64>> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(Entity::find()
        .select_only()
        .column(Column::CustomerId)
        .filter(
            sea_orm::Condition::any()
                .add(Column::Level.ne(0))
                .add(Column::PeriodLast.lte(day)),
        )
        .order_by_asc(Column::CustomerId)
        .into_tuple()
        .all(conn)
        .await?)
}

/// Forgets the standing of `customer` (its package is no longer capped).
pub async fn remove(w: &Write, customer: i64) -> StoreResult<bool> {
    let gone = Entity::delete_by_id(customer).exec(w.tx()).await?;
    Ok(gone.rows_affected > 0)
}

/// Moves the standing of `new.customer_id` from `old` (as the caller read it; `None`: it
/// had none) to `new`, in the change's transaction; false when another pass moved it first
/// (the caller then leaves it: that pass reaches the sessions).
pub async fn replace(w: &Write, old: Option<&Standing>, new: &Standing) -> StoreResult<bool> {
    let moved = match old {
        None => {
            let row = ActiveModel {
                customer_id: Set(new.customer_id),
                tenant_id: Set(new.tenant_id),
                period_first: Set(new.period_first),
                period_last: Set(new.period_last),
                level: Set(new.level),
                used_bytes: Set(new.used_bytes),
                checked_at: Set(new.checked_at),
            };
            Entity::insert(row)
                .on_conflict(
                    OnConflict::column(Column::CustomerId)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(w.tx())
                .await?
        }
        Some(old) => {
            Entity::update_many()
                .col_expr(Column::PeriodFirst, Expr::value(new.period_first))
                .col_expr(Column::PeriodLast, Expr::value(new.period_last))
                .col_expr(Column::Level, Expr::value(new.level))
                .col_expr(Column::UsedBytes, Expr::value(new.used_bytes))
                .col_expr(Column::CheckedAt, Expr::value(new.checked_at))
                .filter(Column::CustomerId.eq(old.customer_id))
                .filter(Column::PeriodFirst.eq(old.period_first))
                .filter(Column::PeriodLast.eq(old.period_last))
                .filter(Column::Level.eq(old.level))
                .exec(w.tx())
                .await?
                .rows_affected
        }
    };
    Ok(moved == 1)
}
