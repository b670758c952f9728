//! Custom field operations, shared by the API and the panel: a tenant's definitions (read by
//! everyone in the tenant, since they shape the customer forms; defined by those who may
//! change its settings, `domain::access::manage_custom_fields`), and the reading and
//! checking of a customer's values for the customer operations (`customer`, its import and
//! its export), which write them in the customer's own transaction.

use std::collections::{HashMap, HashSet};

use crate::Ctx;
use crate::error::OpError;
use domain::access::{self, Actor, tenant_scope};
use domain::custom_field::{
    DefinitionChanges, DefinitionInput, FieldDef, FieldInput, NewDefinition, ValueChange,
    parse_values,
};
use domain::ids::TenantId;
use store::Author;
use store::custom_field::Definition;
use store::tenant::Tenant;

/// The tenant a request about definitions is for: the one named (platform roles), else the
/// caller's.
pub async fn tenant_for(
    ctx: &Ctx<'_>,
    actor: &Actor,
    wanted: Option<TenantId>,
) -> Result<Tenant, OpError> {
    let id = wanted
        .or(actor.tenant_id)
        .ok_or_else(|| OpError::field("tenant_id", "required"))?;
    store::tenant::find(ctx.db.conn(), &tenant_scope(actor), id)
        .await?
        .ok_or_else(|| OpError::field("tenant_id", "not_found"))
}

/// Tenant `tenant`'s definitions (active or not), in their order.
pub async fn list(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant: TenantId,
) -> Result<Vec<Definition>, OpError> {
    Ok(store::custom_field::list(ctx.db.conn(), &tenant_scope(actor), tenant).await?)
}

/// One definition the caller sees.
pub async fn get(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Definition, OpError> {
    store::custom_field::find(ctx.db.conn(), &tenant_scope(actor), id)
        .await?
        .ok_or(OpError::NotFound)
}

/// May the caller define tenant `tenant`'s fields (found in its scope)?
pub async fn may_define(ctx: &Ctx<'_>, actor: &Actor, tenant: TenantId) -> Result<(), OpError> {
    let tenant = store::tenant::find(ctx.db.conn(), &tenant_scope(actor), tenant)
        .await?
        .ok_or(OpError::NotFound)?;
    Ok(access::manage_custom_fields(
        actor,
        &store::tenant::facts(&tenant),
    )?)
}

/// Defines a new field in the tenant named (or the caller's).
pub async fn create(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    tenant: Option<TenantId>,
    input: &DefinitionInput,
) -> Result<Definition, OpError> {
    let tenant = TenantId(tenant_for(ctx, actor, tenant).await?.id);
    may_define(ctx, actor, tenant).await?;
    let new = NewDefinition::parse(input)?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let saved = store::custom_field::create(&mut w, tenant, &new).await?;
    w.commit().await?;
    Ok(saved)
}

/// Changes a definition if it is still at `version`; the key and the kind stay.
pub async fn update(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    version: i32,
    input: &DefinitionInput,
) -> Result<Definition, OpError> {
    let found = get(ctx, actor, id).await?;
    may_define(ctx, actor, TenantId(found.tenant_id)).await?;
    let changes = DefinitionChanges::parse(input, &found.key, found.kind.get())?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let saved =
        store::custom_field::update(&mut w, &tenant_scope(actor), id, version, &changes).await?;
    w.commit().await?;
    Ok(saved)
}

/// Deletes a definition no customer holds a value for (one in use is deactivated instead).
pub async fn delete(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    version: i32,
) -> Result<Definition, OpError> {
    let found = get(ctx, actor, id).await?;
    may_define(ctx, actor, TenantId(found.tenant_id)).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let gone = store::custom_field::delete(&mut w, &tenant_scope(actor), id, version).await?;
    w.commit().await?;
    Ok(gone)
}

/// Tenant `tenant`'s definitions for a customer the caller already reached there.
pub async fn of_tenant(ctx: &Ctx<'_>, tenant: TenantId) -> Result<Vec<Definition>, OpError> {
    Ok(store::custom_field::of_tenant(ctx.db.conn(), tenant).await?)
}

/// The definitions as the value rules read them.
pub fn rules(defs: &[Definition]) -> Vec<FieldDef> {
    defs.iter().map(store::custom_field::def).collect()
}

/// Checks the values given for a customer of the tenant whose definitions are `defs`:
/// `held` is `None` for a new customer, else the fields it has a value for.
pub fn check(
    defs: &[Definition],
    given: &[(String, FieldInput)],
    held: Option<&HashSet<i64>>,
) -> Result<Vec<ValueChange>, domain::field::FieldErrors> {
    parse_values(&rules(defs), given, held)
}

/// The values of customer `id` (already found in the caller's scope), by field id.
pub async fn values_of(ctx: &Ctx<'_>, id: i64) -> Result<HashMap<i64, String>, OpError> {
    Ok(store::custom_field::values_of(ctx.db.conn(), &[id])
        .await?
        .into_iter()
        .map(|v| (v.field_id, v.value))
        .collect())
}

/// The values of the customers `ids` (a page the caller listed), by customer and field.
pub async fn values_among(
    ctx: &Ctx<'_>,
    ids: &[i64],
) -> Result<HashMap<i64, HashMap<i64, String>>, OpError> {
    let mut out: HashMap<i64, HashMap<i64, String>> = HashMap::new();
    for v in store::custom_field::values_of(ctx.db.conn(), ids).await? {
        out.entry(v.customer_id)
            .or_default()
            .insert(v.field_id, v.value);
    }
    Ok(out)
}

/// The list filter on field `key` of `tenant` (active fields only) for the text typed.
pub async fn list_filter(
    ctx: &Ctx<'_>,
    tenant: Option<TenantId>,
    key: &str,
    value: &str,
) -> Result<store::customer::FieldFilter, OpError> {
    let tenant = tenant.ok_or_else(|| OpError::field("tenant_id", "required"))?;
    let defs = of_tenant(ctx, tenant).await?;
    let def = defs
        .iter()
        .find(|d| d.active && d.key == key.trim())
        .ok_or_else(|| OpError::field("field", "unknown_field"))?;
    let matcher = domain::custom_field::parse_filter(&store::custom_field::def(def), value)?;
    Ok(store::customer::FieldFilter {
        field_id: def.id,
        matcher,
    })
}
