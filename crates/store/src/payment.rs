//! Payments taken from customers (`payment`): each recorded with the journal that posts it
//! and the receipt issued for it, in that journal's transaction.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::payment::{ActiveModel, Column, Entity, Model};
use crate::error::StoreResult;
use crate::write::Write;
use domain::ids::TenantId;

/// A stored payment.
pub type Payment = Model;

/// A payment to record.
#[derive(Debug, Clone)]
pub struct NewPayment<'a> {
    /// The tenant.
    pub tenant: TenantId,
    /// The customer who paid.
    pub customer_id: i64,
    /// How (`cash`).
    pub method: &'a str,
    /// How much, in minor units.
    pub amount: i64,
    /// In what.
    pub currency: &'a str,
    /// Who took it.
    pub collector_id: Option<i64>,
    /// The journal that posts it.
    pub journal_id: i64,
    /// The receipt issued for it.
    pub receipt_id: Option<i64>,
    /// An online payment's merchant account, provider transaction and intent.
    pub online: Option<(i64, &'a str, i64)>,
}

/// Records `new` in `w`, received now.
pub async fn insert(w: &Write, new: &NewPayment<'_>) -> StoreResult<Payment> {
    let row = ActiveModel {
        id: NotSet,
        tenant_id: Set(new.tenant.0),
        customer_id: Set(new.customer_id),
        method: Set(new.method.to_owned()),
        amount: Set(new.amount),
        currency: Set(new.currency.to_owned()),
        collector_id: Set(new.collector_id),
        journal_id: Set(new.journal_id),
        receipt_id: Set(new.receipt_id),
        received_at: Set(w.now()),
        gateway_account_id: Set(new.online.map(|(a, _, _)| a)),
        provider_txn_id: Set(new.online.map(|(_, t, _)| t.to_owned())),
        intent_id: Set(new.online.map(|(_, _, i)| i)),
    };
    Ok(row.insert(w.tx()).await?)
}

/// The payment posted by journal `id`.
pub async fn by_journal<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Option<Payment>> {
    Ok(Entity::find()
        .filter(Column::JournalId.eq(id))
        .one(conn)
        .await?)
}

/// Customer `id`'s latest payments, newest first.
pub async fn of_customer<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    limit: u64,
) -> StoreResult<Vec<Payment>> {
    Ok(Entity::find()
        .filter(Column::CustomerId.eq(id))
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Σ of the payments of `tenant` received in `from..to`.
pub async fn total<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<i64> {
    let sum: Option<Option<i64>> = Entity::find()
        .select_only()
        .column_as(Column::Amount.sum(), "sum")
        .filter(Column::TenantId.eq(tenant.0))
        .filter(Column::ReceivedAt.gte(from))
        .filter(Column::ReceivedAt.lt(to))
        .into_tuple::<Option<i64>>()
        .one(conn)
        .await?;
    Ok(sum.flatten().unwrap_or(0))
}
