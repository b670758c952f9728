//! Custom fields on customers: a tenant's definitions (`custom_field`, versioned, every
//! change audited) and the customers' values (`customer_field_value`, one row per customer
//! and field that has a value, written in the customer's own transaction with an audit
//! entry naming the fields by key). What a value may be is `domain::custom_field`'s; the
//! list's filter on a value is `customer::list`'s (through the value index).
//!
//! A definition is deleted only while no customer holds a value for it; one in use is
//! retired by deactivating it, which keeps its values (out of every form, list and export)
//! until it is active again.

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use crate::entity::code::Stored;
use crate::entity::custom_field::{ActiveModel, Column, Entity, Model};
use crate::entity::customer_field_value as values;
use crate::error::{StoreError, StoreResult, on_unique};
use crate::scope;
use crate::versioned::update_versioned;
use crate::write::{AuditEntry, Write};
use domain::access::{CustomerScope, TenantScope};
use domain::custom_field::{
    DefinitionChanges, FIELDS_MAX, FieldDef, FieldValue, NewDefinition, ValueChange,
};
use domain::ids::TenantId;

/// A stored definition.
pub type Definition = Model;

/// A stored value.
pub type StoredValue = values::Model;

const KEYS: &[(&str, &str)] = &[
    ("custom_field_key", "key"),
    ("custom_field.tenant_id, custom_field.key", "key"),
];

/// The options of a definition (none for a field that is not a select).
pub fn options(d: &Definition) -> Vec<String> {
    serde_json::from_str(&d.options).unwrap_or_default()
}

/// The definition as the value rules need it.
pub fn def(d: &Definition) -> FieldDef {
    FieldDef {
        id: d.id,
        key: d.key.clone(),
        label: d.label.clone(),
        kind: d.kind.get(),
        options: options(d),
        required: d.required,
        active: d.active,
    }
}

/// The definition's state for the audit log.
pub fn snapshot(d: &Definition) -> Value {
    json!({
        "id": d.id, "tenant_id": d.tenant_id, "key": d.key, "label": d.label,
        "kind": d.kind.code(), "options": options(d), "required": d.required,
        "in_list": d.in_list, "position": d.position, "active": d.active, "version": d.version,
    })
}

/// Tenant `tenant`'s definitions the caller sees (every one, active or not), in the order
/// they are shown: by position, then by id.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    tenant: TenantId,
) -> StoreResult<Vec<Definition>> {
    Ok(Entity::find()
        .filter(scope::tenant_rows(scope.get(), Column::TenantId))
        .filter(Column::TenantId.eq(tenant.0))
        .order_by_asc(Column::Position)
        .order_by_asc(Column::Id)
        .all(conn)
        .await?)
}

/// Tenant `tenant`'s definitions, for lastmile's own work on a tenant the caller already
/// reached (a customer it sees, an import it may run).
pub async fn of_tenant<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
) -> StoreResult<Vec<Definition>> {
    Ok(Entity::find()
        .filter(Column::TenantId.eq(tenant.0))
        .order_by_asc(Column::Position)
        .order_by_asc(Column::Id)
        .all(conn)
        .await?)
}

/// A definition the caller sees.
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    id: i64,
) -> StoreResult<Option<Definition>> {
    Ok(Entity::find_by_id(id)
        .filter(scope::tenant_rows(scope.get(), Column::TenantId))
        .one(conn)
        .await?)
}

/// Creates a definition in `tenant`, at the end of the order unless a position is given;
/// refused past [`FIELDS_MAX`] definitions.
pub async fn create(
    w: &mut Write,
    tenant: TenantId,
    new: &NewDefinition,
) -> StoreResult<Definition> {
    let count = Entity::find()
        .filter(Column::TenantId.eq(tenant.0))
        .count(w.tx())
        .await?;
    if count >= FIELDS_MAX as u64 {
        return Err(StoreError::Refused {
            field: "key",
            code: "too_many_fields",
        });
    }
    let last: Option<i32> = Entity::find()
        .select_only()
        .column_as(Column::Position.max(), "last")
        .filter(Column::TenantId.eq(tenant.0))
        .into_tuple::<Option<i32>>()
        .one(w.tx())
        .await?
        .flatten();
    let position = new
        .position
        .unwrap_or_else(|| last.map_or(0, |p| (p + 1).min(domain::custom_field::POSITION_MAX)));
    let now = w.now();
    let saved = ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant.0),
        key: Set(new.key.clone()),
        label: Set(new.label.clone()),
        kind: Set(Stored(new.kind)),
        options: Set(json!(new.options).to_string()),
        required: Set(new.required),
        in_list: Set(new.in_list),
        position: Set(position),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(w.tx())
    .await
    .map_err(|e| on_unique(e, KEYS))?;
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "custom_field.create",
        entity: "custom_field",
        entity_id: Some(saved.id),
        before: None,
        after: Some(snapshot(&saved)),
    })
    .await?;
    Ok(saved)
}

/// Changes a definition the caller sees if it is still at `version`. An option a customer
/// holds may not be removed (`options`/`option_in_use`).
pub async fn update(
    w: &mut Write,
    scope: &TenantScope,
    id: i64,
    version: i32,
    changes: &DefinitionChanges,
) -> StoreResult<Definition> {
    let before = find(w.tx(), scope, id).await?.ok_or(StoreError::NotFound)?;
    let mut row: ActiveModel = before.clone().into();
    if let Some(label) = &changes.label {
        row.label = Set(label.clone());
    }
    if let Some(new_options) = &changes.options {
        let kept: HashSet<String> = new_options.iter().map(|o| o.to_lowercase()).collect();
        let removed: Vec<String> = options(&before)
            .iter()
            .map(|o| o.to_lowercase())
            .filter(|o| !kept.contains(o))
            .collect();
        if !removed.is_empty() {
            let held = values::Entity::find()
                .filter(values::Column::FieldId.eq(id))
                .filter(values::Column::ValueKey.is_in(removed))
                .one(w.tx())
                .await?;
            if held.is_some() {
                return Err(StoreError::Refused {
                    field: "options",
                    code: "option_in_use",
                });
            }
        }
        row.options = Set(json!(new_options).to_string());
        // Renaming an option's case renames the stored values' spelling too.
        for option in new_options {
            values::Entity::update_many()
                .col_expr(values::Column::Value, Expr::value(option.clone()))
                .filter(values::Column::FieldId.eq(id))
                .filter(values::Column::ValueKey.eq(option.to_lowercase()))
                .filter(values::Column::Value.ne(option.clone()))
                .exec(w.tx())
                .await?;
        }
    }
    if let Some(v) = changes.required {
        row.required = Set(v);
    }
    if let Some(v) = changes.in_list {
        row.in_list = Set(v);
    }
    if let Some(v) = changes.position {
        row.position = Set(v);
    }
    if let Some(v) = changes.active {
        row.active = Set(v);
    }
    let after = update_versioned::<Entity>(w, row, id, version, KEYS).await?;
    let action = match (before.active, after.active) {
        (true, false) => "custom_field.deactivate",
        (false, true) => "custom_field.activate",
        _ => "custom_field.update",
    };
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(after.tenant_id)),
        action,
        entity: "custom_field",
        entity_id: Some(id),
        before: Some(snapshot(&before)),
        after: Some(snapshot(&after)),
    })
    .await?;
    Ok(after)
}

/// Deletes a definition the caller sees, if it is still at `version` and no customer holds
/// a value for it (`id`/`in_use`: deactivate it instead).
pub async fn delete(
    w: &mut Write,
    scope: &TenantScope,
    id: i64,
    version: i32,
) -> StoreResult<Definition> {
    let before = find(w.tx(), scope, id).await?.ok_or(StoreError::NotFound)?;
    if before.version != version {
        return Err(StoreError::VersionMismatch);
    }
    let held = values::Entity::find()
        .filter(values::Column::FieldId.eq(id))
        .one(w.tx())
        .await?;
    if held.is_some() {
        return Err(StoreError::Refused {
            field: "id",
            code: "in_use",
        });
    }
    let done = Entity::delete_many()
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(version))
        .exec(w.tx())
        .await?;
    if done.rows_affected == 0 {
        return Err(StoreError::VersionMismatch);
    }
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(before.tenant_id)),
        action: "custom_field.delete",
        entity: "custom_field",
        entity_id: Some(id),
        before: Some(snapshot(&before)),
        after: None,
    })
    .await?;
    Ok(before)
}

/// The values of the customers `ids` (any fields, active or not), by customer then field.
pub async fn values_of<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> StoreResult<Vec<StoredValue>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        out.extend(
            values::Entity::find()
                .filter(values::Column::CustomerId.is_in(chunk.iter().copied()))
                .order_by_asc(values::Column::CustomerId)
                .order_by_asc(values::Column::FieldId)
                .all(conn)
                .await?,
        );
    }
    Ok(out)
}

/// The values of one customer the caller sees, by field id.
pub async fn values_of_customer<C: ConnectionTrait>(
    conn: &C,
    scope: &CustomerScope,
    customer: i64,
) -> StoreResult<HashMap<i64, String>> {
    if crate::customer::find(conn, scope, customer)
        .await?
        .is_none()
    {
        return Err(StoreError::NotFound);
    }
    Ok(values_of(conn, &[customer])
        .await?
        .into_iter()
        .map(|v| (v.field_id, v.value))
        .collect())
}

/// The values as `{key: value}` (JSON-typed), of the fields among `defs`.
pub fn as_json(defs: &[Definition], held: &HashMap<i64, String>) -> Value {
    let mut map = serde_json::Map::new();
    for d in defs {
        if let Some(text) = held.get(&d.id)
            && let Some(value) = FieldValue::from_stored(d.kind.get(), text)
        {
            map.insert(d.key.clone(), value.to_json());
        }
    }
    Value::Object(map)
}

/// Sets customer `customer`'s values as `changes` say (a `None` value removes one), in
/// `w`, with an audit entry naming the fields by key, when anything changed. The customer
/// must have been found in the caller's scope, in tenant `tenant`, by the caller.
pub async fn set_values(
    w: &mut Write,
    tenant: TenantId,
    customer: i64,
    defs: &[Definition],
    changes: &[ValueChange],
) -> StoreResult<bool> {
    if changes.is_empty() {
        return Ok(false);
    }
    let held: HashMap<i64, String> = values_of(w.tx(), &[customer])
        .await?
        .into_iter()
        .map(|v| (v.field_id, v.value))
        .collect();
    let mut before = HashMap::new();
    let mut after = HashMap::new();
    for change in changes {
        let old = held.get(&change.field_id);
        let new = change.value.as_ref().map(FieldValue::stored);
        if old == new.as_ref() {
            continue;
        }
        values::Entity::delete_many()
            .filter(values::Column::CustomerId.eq(customer))
            .filter(values::Column::FieldId.eq(change.field_id))
            .exec(w.tx())
            .await?;
        if let Some(value) = &change.value {
            insert_value(w, tenant, customer, change.field_id, value).await?;
        }
        before.insert(change.field_id, old.cloned());
        after.insert(change.field_id, new);
    }
    if after.is_empty() {
        return Ok(false);
    }
    let named = |m: &HashMap<i64, Option<String>>| {
        let mut out = serde_json::Map::new();
        for d in defs.iter().filter(|d| m.contains_key(&d.id)) {
            out.insert(d.key.clone(), json!(m.get(&d.id).cloned().flatten()));
        }
        Value::Object(out)
    };
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "customer.custom_fields",
        entity: "customer",
        entity_id: Some(customer),
        before: Some(named(&before)),
        after: Some(named(&after)),
    })
    .await?;
    Ok(true)
}

async fn insert_value(
    w: &Write,
    tenant: TenantId,
    customer: i64,
    field: i64,
    value: &FieldValue,
) -> StoreResult<()> {
    values::Entity::insert(values::ActiveModel {
        customer_id: Set(customer),
        field_id: Set(field),
        tenant_id: Set(tenant.0),
        value: Set(value.stored()),
        value_key: Set(value.key()),
    })
    .exec_without_returning(w.tx())
    .await?;
    Ok(())
}

/// The values of customers just created in `w` (an import's batch), in multi-row
/// statements, with one audit entry per customer that has any.
pub async fn create_values_many(
    w: &mut Write,
    tenant: TenantId,
    defs: &[Definition],
    rows: &[(i64, Vec<ValueChange>)],
) -> StoreResult<()> {
    let mut models = Vec::new();
    let mut entries = Vec::new();
    for (customer, changes) in rows {
        let mut after = serde_json::Map::new();
        for change in changes {
            let Some(value) = &change.value else { continue };
            models.push(values::ActiveModel {
                customer_id: Set(*customer),
                field_id: Set(change.field_id),
                tenant_id: Set(tenant.0),
                value: Set(value.stored()),
                value_key: Set(value.key()),
            });
            if let Some(d) = defs.iter().find(|d| d.id == change.field_id) {
                after.insert(d.key.clone(), json!(value.stored()));
            }
        }
        if !after.is_empty() {
            entries.push(AuditEntry {
                tenant_id: Some(tenant),
                action: "customer.custom_fields",
                entity: "customer",
                entity_id: Some(*customer),
                before: None,
                after: Some(Value::Object(after)),
            });
        }
    }
    for chunk in models.chunks(500) {
        values::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(w.tx())
            .await?;
    }
    w.audit_many(entries).await
}

/// Gives customer `id` (in the caller's scope) a new version if it is still at `version`,
/// for a change of its custom fields alone: whoever read the customer before must read it
/// again before changing it.
pub async fn touch_customer(
    w: &mut Write,
    scope: &CustomerScope,
    id: i64,
    version: i32,
) -> StoreResult<crate::customer::Customer> {
    use crate::entity::customer;
    crate::customer::find(w.tx(), scope, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let row = <customer::ActiveModel as ActiveModelTrait>::default();
    update_versioned::<customer::Entity>(w, row, id, version, &[]).await
}
