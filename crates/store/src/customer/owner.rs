//! Customers follow their reseller: when an operator or a sub-operator is archived, or a
//! sub-operator moves to another operator, the customers it owns move in the same
//! transaction, so the old owner no longer sees or manages them and the new one does. Each
//! moved customer gets a new version and an audit entry (`customer.reassign`) saying who
//! owned it before and after.
//!
//! The move changes no FreeRADIUS row: who owns a customer is no part of what RADIUS
//! answers for it.

use sea_orm::ExprTrait as _;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;

use crate::entity::customer::{Column, Entity};
use crate::error::StoreResult;
use crate::write::{AuditEntry, Write};
use domain::access::Owner;
use domain::ids::{TenantId, UserId};

/// A customer's id, tenant, operator, sub-operator and version.
type Held = (i64, i64, Option<i64>, Option<i64>, i32);

/// Rows moved per statement, so a reseller with many customers never holds one huge
/// statement.
const CHUNK: u64 = 1000;

/// Moves every live customer `from` owns directly (as its sub-operator, or as its operator
/// with no sub-operator) to `to`. Returns how many moved.
pub async fn move_customers(w: &mut Write, from: UserId, to: Owner) -> StoreResult<usize> {
    let owned = Condition::any().add(Column::SubOperatorId.eq(from.0)).add(
        Condition::all()
            .add(Column::OperatorId.eq(from.0))
            .add(Column::SubOperatorId.is_null()),
    );
    let (operator, sub_operator) = columns(to);
    reassign(w, owned, operator, sub_operator).await
}

/// Points the customers of sub-operator `sub_operator` at its new operator `operator`.
/// Returns how many moved.
pub async fn follow_operator(
    w: &mut Write,
    sub_operator: UserId,
    operator: Option<UserId>,
) -> StoreResult<usize> {
    let owned = Condition::all().add(Column::SubOperatorId.eq(sub_operator.0));
    reassign(w, owned, operator.map(|o| o.0), Some(sub_operator.0)).await
}

/// The `operator_id` and `sub_operator_id` of a customer owned by `owner`.
fn columns(owner: Owner) -> (Option<i64>, Option<i64>) {
    match owner {
        Owner::Tenant(_) => (None, None),
        Owner::Operator { operator, .. } => (Some(operator.0), None),
        Owner::SubOperator {
            operator,
            sub_operator,
            ..
        } => (operator.map(|o| o.0), Some(sub_operator.0)),
    }
}

async fn reassign(
    w: &mut Write,
    owned: Condition,
    operator: Option<i64>,
    sub_operator: Option<i64>,
) -> StoreResult<usize> {
    let mut moved = 0;
    let mut after_id = 0;
    loop {
        let batch: Vec<Held> = Entity::find()
            .select_only()
            .columns([
                Column::Id,
                Column::TenantId,
                Column::OperatorId,
                Column::SubOperatorId,
                Column::Version,
            ])
            .filter(owned.clone())
            .filter(Column::ArchivedAt.is_null())
            .filter(Column::Id.gt(after_id))
            .order_by_asc(Column::Id)
            .limit(CHUNK)
            .into_tuple()
            .all(w.tx())
            .await?;
        let Some(last) = batch.last() else {
            return Ok(moved);
        };
        after_id = last.0;
        let changing: Vec<_> = batch
            .into_iter()
            .filter(|(_, _, op, sub, _)| (*op, *sub) != (operator, sub_operator))
            .collect();
        if changing.is_empty() {
            continue;
        }
        let ids: Vec<i64> = changing.iter().map(|c| c.0).collect();
        Entity::update_many()
            .col_expr(Column::OperatorId, Expr::value(operator))
            .col_expr(Column::SubOperatorId, Expr::value(sub_operator))
            .col_expr(Column::Version, Expr::col(Column::Version).add(1))
            .col_expr(Column::UpdatedAt, Expr::value(w.now()))
            .filter(Column::Id.is_in(ids))
            .exec(w.tx())
            .await?;
        let entries = changing
            .iter()
            .map(|(id, tenant, op, sub, version)| AuditEntry {
                tenant_id: Some(TenantId(*tenant)),
                action: "customer.reassign",
                entity: "customer",
                entity_id: Some(*id),
                before: Some(json!({"operator_id": op, "sub_operator_id": sub, "version": version})),
                after: Some(json!({
                    "operator_id": operator, "sub_operator_id": sub_operator, "version": version + 1,
                })),
            })
            .collect();
        moved += changing.len();
        w.audit_many(entries).await?;
    }
}
