//! A tenant's VAT rates (`tax_rate`): the rate in force at an instant, the history, and a
//! new rate from a date.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, QueryFilter, QueryOrder,
};

use crate::entity::tax_rate::{ActiveModel, Column, Entity, Model};
use crate::error::StoreResult;
use crate::write::{AuditEntry, Write};
use domain::billing::Vat;
use domain::ids::TenantId;

/// A stored rate.
pub type TaxRate = Model;

/// The VAT in force for `tenant` at `at` (none set: no VAT).
pub async fn vat_at<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    at: DateTime<Utc>,
) -> StoreResult<Vat> {
    let rate = Entity::find()
        .filter(Column::TenantId.eq(tenant.0))
        .filter(Column::EffectiveFrom.lte(at))
        .order_by_desc(Column::EffectiveFrom)
        .order_by_desc(Column::Id)
        .one(conn)
        .await?;
    Ok(rate.map_or_else(Vat::default, |r| Vat {
        rate_bp: i64::from(r.rate_bp),
        inclusive: r.inclusive,
    }))
}

/// Every rate of `tenant`, newest first.
pub async fn history<C: ConnectionTrait>(conn: &C, tenant: TenantId) -> StoreResult<Vec<TaxRate>> {
    Ok(Entity::find()
        .filter(Column::TenantId.eq(tenant.0))
        .order_by_desc(Column::EffectiveFrom)
        .order_by_desc(Column::Id)
        .all(conn)
        .await?)
}

/// Sets `vat` for `tenant` from `from` on, audited.
pub async fn add(
    w: &mut Write,
    tenant: TenantId,
    vat: Vat,
    from: DateTime<Utc>,
) -> StoreResult<TaxRate> {
    let row = ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant.0),
        rate_bp: Set(i32::try_from(vat.rate_bp).unwrap_or(i32::MAX)),
        inclusive: Set(vat.inclusive),
        effective_from: Set(from),
        created_at: Set(w.now()),
    };
    let saved = row.insert(w.tx()).await?;
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "tenant.set_vat",
        entity: "tenant",
        entity_id: Some(tenant.0),
        before: None,
        after: Some(serde_json::json!({
            "rate_bp": saved.rate_bp,
            "inclusive": saved.inclusive,
            "effective_from": saved.effective_from,
        })),
    })
    .await?;
    Ok(saved)
}
