//! Tenant operations, shared by the API and the panel: each takes the caller's actor, asks
//! `domain::access`, and goes through the store's scoped reads and the write path.

use crate::Ctx;
use crate::error::OpError;
use domain::access::{self, Actor, tenant_scope};
use domain::ids::TenantId;
use domain::tenant::{NewTenant, TenantChanges};
use store::Author;
use store::list::{Page, PageRequest};
use store::tenant::{Tenant, TenantFilter};

/// The tenants the caller sees.
pub async fn list(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &TenantFilter,
    page: &PageRequest,
) -> Result<Page<Tenant>, OpError> {
    Ok(store::tenant::list(ctx.db.conn(), &tenant_scope(actor), filter, page).await?)
}

/// One tenant the caller sees.
pub async fn get(ctx: &Ctx<'_>, actor: &Actor, id: TenantId) -> Result<Tenant, OpError> {
    store::tenant::find(ctx.db.conn(), &tenant_scope(actor), id)
        .await?
        .ok_or(OpError::NotFound)
}

/// Creates a tenant (Developer, or a Super Admin who then owns it).
pub async fn create(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    new: &NewTenant,
) -> Result<Tenant, OpError> {
    let owner = access::create_tenant(actor)?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let tenant = store::tenant::create(&mut w, new, owner).await?;
    w.commit().await?;
    Ok(tenant)
}

/// Changes a tenant's settings, if it is still at `version`.
pub async fn update(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: TenantId,
    version: i32,
    changes: &TenantChanges,
) -> Result<Tenant, OpError> {
    let tenant = get(ctx, actor, id).await?;
    access::update_tenant(actor, &store::tenant::facts(&tenant))?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let tenant = store::tenant::update(&mut w, &tenant_scope(actor), id, version, changes).await?;
    w.commit().await?;
    Ok(tenant)
}

/// Archives a tenant: its staff can no longer sign in; its records stay.
pub async fn archive(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: TenantId,
) -> Result<Tenant, OpError> {
    let tenant = get(ctx, actor, id).await?;
    access::delete_tenant(actor, &store::tenant::facts(&tenant))?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let tenant = store::tenant::archive(&mut w, &tenant_scope(actor), id).await?;
    w.commit().await?;
    Ok(tenant)
}

/// The VAT rates of a tenant the caller sees, newest first.
pub async fn vat_rates(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: TenantId,
) -> Result<Vec<store::tax::TaxRate>, OpError> {
    let tenant = get(ctx, actor, id).await?;
    Ok(store::tax::history(ctx.db.conn(), TenantId(tenant.id)).await?)
}

/// Sets a tenant's VAT from `from` (now when absent; never in the past, which would
/// rewrite what sales already used), for those who change its settings.
pub async fn set_vat(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: TenantId,
    vat: domain::billing::Vat,
    from: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<store::tax::TaxRate, OpError> {
    let tenant = get(ctx, actor, id).await?;
    access::update_tenant(actor, &store::tenant::facts(&tenant))?;
    let from = from.unwrap_or(ctx.now);
    if from < ctx.now - chrono::TimeDelta::minutes(1) {
        return Err(OpError::field("effective_from", "in_the_past"));
    }
    let mut w = ctx.db.write(author, ctx.now).await?;
    let rate = store::tax::add(&mut w, TenantId(tenant.id), vat, from.max(ctx.now)).await?;
    w.commit().await?;
    Ok(rate)
}

/// Sets a tenant's postpaid terms (billing day, days to pay, grace, reminders), for those
/// who change its settings. Invoices already issued keep their due dates.
pub async fn set_billing_terms(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: TenantId,
    terms: domain::postpaid::Terms,
) -> Result<Tenant, OpError> {
    let tenant = get(ctx, actor, id).await?;
    access::update_tenant(actor, &store::tenant::facts(&tenant))?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let tenant = store::tenant::set_billing_terms(&mut w, TenantId(tenant.id), &terms).await?;
    w.commit().await?;
    Ok(tenant)
}

/// Sets a tenant's registration for VAT (its BIN and issuing address, printed on its tax
/// invoices), for those who change its settings. Documents print the seller as it is when
/// they are printed: they snapshot the buyer, not yet the seller.
pub async fn set_tax_identity(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: TenantId,
    identity: &domain::invoice::TaxIdentity,
) -> Result<Tenant, OpError> {
    let tenant = get(ctx, actor, id).await?;
    access::update_tenant(actor, &store::tenant::facts(&tenant))?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let tenant = store::tenant::set_tax_identity(&mut w, TenantId(tenant.id), identity).await?;
    w.commit().await?;
    Ok(tenant)
}
