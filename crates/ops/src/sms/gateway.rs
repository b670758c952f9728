//! SMS gateways: a tenant's, or the platform's default that a tenant without an active
//! one of its own inherits; their settings (a driver's configuration, checked against the
//! drivers at the edge) sealed whole, shown only as the keys they set; and which gateway a
//! tenant's message goes through.

use zeroize::Zeroizing;

use super::{DEFAULT_DAILY_BUDGET, DRIVERS, MAX_DAILY_BUDGET, MAX_SETTINGS};
use crate::Ctx;
use crate::error::OpError;
use domain::access::{self, Actor, Role};
use domain::field::{FieldError, FieldErrors};
use domain::ids::TenantId;
use store::Author;
use store::sms::{Gateway, GatewayChanges, Message, NewGateway};

/// A gateway to add.
#[derive(Clone)]
pub struct GatewayInput {
    /// The tenant; left out by a tenant's own staff, and for the platform's default.
    pub tenant_id: Option<i64>,
    /// What staff call it.
    pub name: String,
    /// The driver's settings as a JSON object with its `driver` (checked against the
    /// drivers at the edge); sealed at rest, never shown again.
    pub settings: Zeroizing<String>,
    /// `active` (the default) or `disabled`.
    pub status: Option<String>,
    /// The most messages a tenant sends through it in a day.
    pub daily_budget: Option<i64>,
}

impl std::fmt::Debug for GatewayInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayInput")
            .field("tenant_id", &self.tenant_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A change of a gateway (`None`: left as it is).
#[derive(Clone, Default)]
pub struct GatewayUpdate {
    /// A new name.
    pub name: Option<String>,
    /// New settings (the whole object, secrets included).
    pub settings: Option<Zeroizing<String>>,
    /// `active` or `disabled`.
    pub status: Option<String>,
    /// A new daily budget.
    pub daily_budget: Option<i64>,
}

impl std::fmt::Debug for GatewayUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayUpdate")
            .field("name", &self.name)
            .field("status", &self.status)
            .field("daily_budget", &self.daily_budget)
            .finish_non_exhaustive()
    }
}

/// A gateway as staff see it: which settings are set, never their values.
#[derive(Debug, Clone)]
pub struct GatewayView {
    /// The gateway (its settings sealed).
    pub gateway: Gateway,
    /// The keys its settings set.
    pub settings_keys: Vec<String>,
}

/// The settings' driver, read from the JSON object `settings` (`generic` as
/// `http_template`), with the field errors of a settings document that is no such object.
fn driver_of(settings: &str) -> Result<String, FieldErrors> {
    let mut errors = FieldErrors::new();
    if settings.len() > MAX_SETTINGS {
        errors.push(FieldError::new("settings", "too_long").with("max", MAX_SETTINGS));
        return Err(errors);
    }
    let object = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(settings);
    let driver = object
        .ok()
        .and_then(|o| o.get("driver").and_then(|d| d.as_str()).map(str::to_owned));
    match driver.as_deref() {
        Some("generic") => Ok("http_template".to_owned()),
        Some(d) if DRIVERS.contains(&d) => Ok(d.to_owned()),
        _ => {
            errors.push(
                FieldError::new("settings", "invalid_choice").with("allowed", DRIVERS.join(", ")),
            );
            Err(errors)
        }
    }
}

fn check_name(name: &str, errors: &mut FieldErrors) {
    let name = name.trim();
    if name.is_empty() {
        errors.push(FieldError::new("name", "required"));
    } else if name.chars().count() > 64 {
        errors.push(FieldError::new("name", "too_long").with("max", 64));
    } else if name.chars().any(char::is_control) {
        errors.push(FieldError::new("name", "control_characters"));
    }
}

fn check_status(status: &str, errors: &mut FieldErrors) {
    if !matches!(status, "active" | "disabled") {
        errors
            .push(FieldError::new("status", "invalid_choice").with("allowed", "active, disabled"));
    }
}

fn check_budget(budget: i64, errors: &mut FieldErrors) -> i32 {
    if !(1..=MAX_DAILY_BUDGET).contains(&budget) {
        errors.push(
            FieldError::new("daily_budget", "out_of_range")
                .with("min", 1)
                .with("max", MAX_DAILY_BUDGET),
        );
    }
    i32::try_from(budget).unwrap_or(0)
}

/// May `actor` manage the gateways of `tenant` (`None`: the platform's default)? A tenant
/// outside its scope is not found.
async fn may_manage(ctx: &Ctx<'_>, actor: &Actor, tenant: Option<i64>) -> Result<(), OpError> {
    match tenant {
        None if matches!(actor.role, Role::Developer | Role::SuperAdmin) => Ok(()),
        None => Err(OpError::Forbidden),
        Some(t) => {
            let tenant = crate::tenant::get(ctx, actor, TenantId(t)).await?;
            access::update_tenant(actor, &store::tenant::facts(&tenant))?;
            Ok(())
        }
    }
}

/// Gateway `id` if `actor` manages it; one it does not see (another tenant's, or the
/// platform's for a tenant's staff) is not found.
pub(super) async fn managed_gateway(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: i64,
) -> Result<Gateway, OpError> {
    let gateway = store::sms::gateway(ctx.db.conn(), id)
        .await?
        .ok_or(OpError::NotFound)?;
    if gateway.tenant_id.is_none() && actor.tenant_id.is_some() {
        return Err(OpError::NotFound);
    }
    may_manage(ctx, actor, gateway.tenant_id).await?;
    Ok(gateway)
}

fn view(ctx: &Ctx<'_>, gateway: Gateway) -> Result<GatewayView, OpError> {
    let settings_keys = store::sms::settings_keys(ctx.db.keyring(), &gateway)?;
    Ok(GatewayView {
        gateway,
        settings_keys,
    })
}

/// Adds a gateway to a tenant (the actor's own when it names none), or, for the platform's
/// roles naming no tenant, the platform's default.
pub async fn create_gateway(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    input: &GatewayInput,
) -> Result<GatewayView, OpError> {
    let mut errors = FieldErrors::new();
    check_name(&input.name, &mut errors);
    let status = input.status.as_deref().unwrap_or("active");
    check_status(status, &mut errors);
    let budget = check_budget(
        input
            .daily_budget
            .unwrap_or(i64::from(DEFAULT_DAILY_BUDGET)),
        &mut errors,
    );
    let driver = match driver_of(&input.settings) {
        Ok(d) => Some(d),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let tenant = input.tenant_id.or(actor.tenant_id.map(|t| t.0));
    may_manage(ctx, actor, tenant).await?;
    let Some(driver) = driver.filter(|_| errors.is_empty()) else {
        return Err(errors.into());
    };
    let mut w = ctx.db.write(author, ctx.now).await?;
    let gateway = store::sms::create_gateway(
        &mut w,
        &NewGateway {
            tenant: tenant.map(TenantId),
            name: input.name.trim(),
            driver: &driver,
            settings: &input.settings,
            status,
            daily_budget: budget,
        },
    )
    .await?;
    w.commit().await?;
    view(ctx, gateway)
}

/// The gateways `actor` manages: its tenant's; for the platform's roles, the platform's
/// default and their tenants' (a Developer: every one; `tenant` narrows to one tenant).
pub async fn list_gateways(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant: Option<i64>,
) -> Result<Vec<GatewayView>, OpError> {
    let conn = ctx.db.conn();
    let gateways = match (actor.role, actor.tenant_id) {
        (Role::Developer, _) => match tenant {
            Some(t) => store::sms::gateways(conn, Some(&[t]), false).await?,
            None => store::sms::gateways(conn, None, true).await?,
        },
        (Role::SuperAdmin, _) => {
            let mut owned = store::sms::tenant_ids(conn, &access::tenant_scope(actor)).await?;
            if let Some(t) = tenant {
                owned.retain(|o| *o == t);
            }
            store::sms::gateways(conn, Some(&owned), tenant.is_none()).await?
        }
        (_, Some(own)) => {
            if tenant.is_some_and(|t| t != own.0) {
                return Err(OpError::NotFound);
            }
            may_manage(ctx, actor, Some(own.0)).await?;
            store::sms::gateways(conn, Some(&[own.0]), false).await?
        }
        (_, None) => return Err(OpError::Forbidden),
    };
    gateways.into_iter().map(|g| view(ctx, g)).collect()
}

/// Gateway `id`, for those who manage it.
pub async fn get_gateway(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<GatewayView, OpError> {
    let gateway = managed_gateway(ctx, actor, id).await?;
    view(ctx, gateway)
}

/// Changes gateway `id` as read at `version`.
pub async fn update_gateway(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    version: i32,
    update: &GatewayUpdate,
) -> Result<GatewayView, OpError> {
    let gateway = managed_gateway(ctx, actor, id).await?;
    let mut errors = FieldErrors::new();
    if let Some(name) = &update.name {
        check_name(name, &mut errors);
    }
    if let Some(status) = &update.status {
        check_status(status, &mut errors);
    }
    let budget = update.daily_budget.map(|b| check_budget(b, &mut errors));
    let driver = match update.settings.as_ref().map(|s| driver_of(s)) {
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            errors.extend(e);
            None
        }
        None => None,
    };
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let changes = GatewayChanges {
        name: update.name.as_deref().map(str::trim),
        settings: driver
            .as_deref()
            .zip(update.settings.as_ref().map(|s| s.as_str())),
        status: update.status.as_deref(),
        daily_budget: budget,
    };
    let mut w = ctx.db.write(author, ctx.now).await?;
    let gateway = store::sms::update_gateway(&mut w, &gateway, version, &changes).await?;
    w.commit().await?;
    view(ctx, gateway)
}

/// Gateway `id` with its settings opened: for the sender and the delivery-report check,
/// never for a caller's eyes.
pub async fn gateway_settings(
    ctx: &Ctx<'_>,
    id: i64,
) -> Result<(Gateway, Zeroizing<String>), OpError> {
    let gateway = store::sms::gateway(ctx.db.conn(), id)
        .await?
        .ok_or(OpError::NotFound)?;
    let settings = store::sms::settings(ctx.db.keyring(), &gateway)?;
    Ok((gateway, settings))
}

/// The gateway message `m` goes through, settings opened: the one it was queued for (a
/// test), else its tenant's, else the platform's default. `None` when there is none (or
/// the one it was queued for is gone).
pub async fn gateway_for(
    ctx: &Ctx<'_>,
    m: &Message,
) -> Result<Option<(Gateway, Zeroizing<String>)>, OpError> {
    let gateway = match m.gateway_id {
        Some(id) => store::sms::gateway(ctx.db.conn(), id).await?,
        None => store::sms::effective_gateway(ctx.db.conn(), m.tenant_id).await?,
    };
    match gateway {
        Some(g) => {
            let settings = store::sms::settings(ctx.db.keyring(), &g)?;
            Ok(Some((g, settings)))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_name_a_known_driver() {
        assert_eq!(
            driver_of(r#"{"driver":"twilio"}"#).ok().as_deref(),
            Some("twilio")
        );
        assert_eq!(
            driver_of(r#"{"driver":"generic","url":"x"}"#)
                .ok()
                .as_deref(),
            Some("http_template")
        );
        assert!(driver_of(r#"{"driver":"carrier-pigeon"}"#).is_err());
        assert!(driver_of("[]").is_err());
    }
}
