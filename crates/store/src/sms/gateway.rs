//! The SMS gateways' rows: a tenant's gateways and the platform's default, each one
//! driver's settings sealed whole with the keyring (opened only for the sender and the
//! delivery-report check; the API shows which keys are set, never a value), and which
//! gateway a tenant's messages take (its own active one, else the platform's default).

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::Gateway;
use crate::crypto::Keyring;
use crate::entity::{sms_gateway, tenant};
use crate::error::{StoreError, StoreResult};
use crate::write::{AuditEntry, Write};
use domain::access::TenantScope;
use domain::ids::TenantId;

/// Where a gateway's sealed settings belong.
pub const SETTINGS_CONTEXT: &str = "sms_gateway.settings";

/// A gateway to add.
#[derive(Clone)]
pub struct NewGateway<'a> {
    /// Its tenant; `None` for the platform's default.
    pub tenant: Option<TenantId>,
    /// What staff call it.
    pub name: &'a str,
    /// The driver's name.
    pub driver: &'a str,
    /// The driver's settings as JSON, secrets included: sealed here.
    pub settings: &'a str,
    /// `active` or `disabled`.
    pub status: &'a str,
    /// The most messages a tenant sends through it in a day.
    pub daily_budget: i32,
}

impl std::fmt::Debug for NewGateway<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewGateway")
            .field("tenant", &self.tenant)
            .field("name", &self.name)
            .field("driver", &self.driver)
            .finish_non_exhaustive()
    }
}

/// What a change of a gateway sets (`None`: left as it is).
#[derive(Clone, Default)]
pub struct GatewayChanges<'a> {
    /// A new name.
    pub name: Option<&'a str>,
    /// New settings, with their driver.
    pub settings: Option<(&'a str, &'a str)>,
    /// `active` or `disabled`.
    pub status: Option<&'a str>,
    /// A new daily budget.
    pub daily_budget: Option<i32>,
}

impl std::fmt::Debug for GatewayChanges<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayChanges")
            .field("name", &self.name)
            .field("driver", &self.settings.map(|(driver, _)| driver))
            .field("status", &self.status)
            .field("daily_budget", &self.daily_budget)
            .finish()
    }
}

/// The names of the keys `settings` (a JSON object) sets, sorted, without their values.
pub fn keys_of(settings: &str) -> Vec<String> {
    let mut keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(settings)
        .map(|map| {
            map.into_iter()
                .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
                .map(|(k, _)| k)
                .collect()
        })
        .unwrap_or_default();
    keys.sort();
    keys
}

/// What the audit log shows of a gateway: never a setting's value.
pub fn gateway_json(g: &Gateway, keys: &[String]) -> Value {
    json!({
        "id": g.id,
        "tenant_id": g.tenant_id,
        "name": g.name,
        "driver": g.driver,
        "settings_keys": keys,
        "status": g.status,
        "daily_budget": g.daily_budget,
        "version": g.version,
    })
}

/// Gateway `id`'s settings, opened: for the sender and the delivery-report check only.
pub fn settings(keyring: &Keyring, g: &Gateway) -> StoreResult<Zeroizing<String>> {
    Ok(keyring.open_string(SETTINGS_CONTEXT, &g.settings)?)
}

/// The keys gateway `g`'s settings set, without their values.
pub fn settings_keys(keyring: &Keyring, g: &Gateway) -> StoreResult<Vec<String>> {
    Ok(keys_of(&settings(keyring, g)?))
}

/// Adds a gateway, its settings sealed, audited without them.
pub async fn create_gateway(w: &mut Write, new: &NewGateway<'_>) -> StoreResult<Gateway> {
    let now = w.now();
    let sealed = w
        .keyring()
        .seal(SETTINGS_CONTEXT, new.settings.as_bytes())?;
    let saved = sms_gateway::ActiveModel {
        id: NotSet,
        tenant_id: Set(new.tenant.map(|t| t.0)),
        name: Set(new.name.to_owned()),
        driver: Set(new.driver.to_owned()),
        settings: Set(sealed),
        status: Set(new.status.to_owned()),
        daily_budget: Set(new.daily_budget),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(w.tx())
    .await?;
    w.audit(AuditEntry {
        tenant_id: new.tenant,
        action: "sms_gateway.create",
        entity: "sms_gateway",
        entity_id: Some(saved.id),
        before: None,
        after: Some(gateway_json(&saved, &keys_of(new.settings))),
    })
    .await?;
    Ok(saved)
}

/// Changes gateway `g` (as read, at `version`), audited without its settings' values.
pub async fn update_gateway(
    w: &mut Write,
    g: &Gateway,
    version: i32,
    changes: &GatewayChanges<'_>,
) -> StoreResult<Gateway> {
    use sms_gateway::Column;
    if g.version != version {
        return Err(StoreError::VersionMismatch);
    }
    let before_keys = settings_keys(w.keyring(), g)?;
    let mut update = sms_gateway::Entity::update_many()
        .col_expr(Column::Version, Expr::value(version + 1))
        .col_expr(Column::UpdatedAt, Expr::value(w.now()));
    if let Some(name) = changes.name {
        update = update.col_expr(Column::Name, Expr::value(name));
    }
    if let Some((driver, settings)) = changes.settings {
        let sealed = w.keyring().seal(SETTINGS_CONTEXT, settings.as_bytes())?;
        update = update
            .col_expr(Column::Driver, Expr::value(driver))
            .col_expr(Column::Settings, Expr::value(sealed));
    }
    if let Some(status) = changes.status {
        update = update.col_expr(Column::Status, Expr::value(status));
    }
    if let Some(budget) = changes.daily_budget {
        update = update.col_expr(Column::DailyBudget, Expr::value(budget));
    }
    let done = update
        .filter(Column::Id.eq(g.id))
        .filter(Column::Version.eq(version))
        .exec(w.tx())
        .await?;
    if done.rows_affected != 1 {
        return Err(StoreError::VersionMismatch);
    }
    let after = gateway(w.tx(), g.id).await?.ok_or(StoreError::NotFound)?;
    let after_keys = match changes.settings {
        Some((_, settings)) => keys_of(settings),
        None => before_keys.clone(),
    };
    w.audit(AuditEntry {
        tenant_id: g.tenant_id.map(TenantId),
        action: "sms_gateway.update",
        entity: "sms_gateway",
        entity_id: Some(g.id),
        before: Some(gateway_json(g, &before_keys)),
        after: Some(gateway_json(&after, &after_keys)),
    })
    .await?;
    Ok(after)
}

/// Gateway `id`, whatever its tenant (the caller checks who asks).
pub async fn gateway<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Option<Gateway>> {
    Ok(sms_gateway::Entity::find_by_id(id).one(conn).await?)
}

/// The gateways of `tenants` (every tenant's when `None`), and the platform's when
/// `platform`, by id.
pub async fn gateways<C: ConnectionTrait>(
    conn: &C,
    tenants: Option<&[i64]>,
    platform: bool,
) -> StoreResult<Vec<Gateway>> {
    use sea_orm::Condition;
    use sms_gateway::Column;
    let mut reach = Condition::any();
    match tenants {
        Some(t) => reach = reach.add(Column::TenantId.is_in(t.iter().copied())),
        None => reach = reach.add(Column::TenantId.is_not_null()),
    }
    if platform {
        reach = reach.add(Column::TenantId.is_null());
    }
    Ok(sms_gateway::Entity::find()
        .filter(reach)
        .order_by_asc(Column::Id)
        .all(conn)
        .await?)
}

/// The gateway a message of `tenant` goes through: the tenant's own first active one, else
/// the platform's first active default (inheritance); `None` when neither exists.
pub async fn effective_gateway<C: ConnectionTrait>(
    conn: &C,
    tenant: Option<i64>,
) -> StoreResult<Option<Gateway>> {
    use sms_gateway::Column;
    if let Some(t) = tenant {
        let own = sms_gateway::Entity::find()
            .filter(Column::TenantId.eq(t))
            .filter(Column::Status.eq("active"))
            .order_by_asc(Column::Id)
            .one(conn)
            .await?;
        if own.is_some() {
            return Ok(own);
        }
    }
    Ok(sms_gateway::Entity::find()
        .filter(Column::TenantId.is_null())
        .filter(Column::Status.eq("active"))
        .order_by_asc(Column::Id)
        .one(conn)
        .await?)
}

/// The ids of the tenants in `scope`.
pub async fn tenant_ids<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
) -> StoreResult<Vec<i64>> {
    Ok(tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .filter(crate::scope::tenants(scope))
        .into_tuple::<i64>()
        .all(conn)
        .await?)
}
