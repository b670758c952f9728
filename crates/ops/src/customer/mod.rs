//! Customer operations, shared by the API, the panel, the importer and the sign-up wizard
//! (`signup`, which checks and writes through [`prepare`] and [`write_new`]): who may own and
//! change a customer (`domain::access`), which packages it may use (its owner's, of its
//! connection type), what a reseller may not give without a sale (`domain::customer::sold`),
//! and every change written with its FreeRADIUS projection.

pub mod export;
pub mod import;
pub mod import_job;
pub mod signup;

use crate::Ctx;
use crate::error::OpError;
use chrono::{DateTime, TimeDelta, Utc};
use domain::access::{
    self, Actor, Owner, Role, customer_owner_scope, customer_scope, network_scope, tenant_scope,
};
use domain::customer::{
    BillingType, ChangesInput, CustomerChanges, CustomerInput, NewCustomer, PackageTerms, Terms,
    read_connection, sold,
};
use domain::enforcement::{SessionChange, SessionFacts, after_change};
use domain::field::{FieldError, FieldErrors};
use domain::ids::{TenantId, UserId};
use domain::locale::CountryCode;
use domain::package::ConnectionType;
use domain::tenant::TenantStatus;
use store::Author;
use store::customer::{Customer, CustomerFilter};
use store::list::{Page, PageRequest};
use store::tenant::Tenant;

/// The customers the caller sees.
pub async fn list(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &CustomerFilter,
    page: &PageRequest,
    sort_is_expiry: bool,
) -> Result<Page<Customer>, OpError> {
    let mut filter = filter.clone();
    // A zone holds the zones inside it: its filter takes their customers too.
    if let Some(zone) = filter.zone_id
        && filter.zone_ids.is_empty()
    {
        filter.zone_ids = store::network::zone_subtree(ctx.db.conn(), zone).await?;
    }
    Ok(store::customer::list(
        ctx.db.conn(),
        &customer_scope(actor),
        &filter,
        page,
        sort_is_expiry,
    )
    .await?)
}

/// One customer the caller sees.
pub async fn get(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Customer, OpError> {
    store::customer::find(ctx.db.conn(), &customer_scope(actor), id)
        .await?
        .ok_or(OpError::NotFound)
}

/// The tenant a new customer goes to.
pub async fn tenant_of(
    ctx: &Ctx<'_>,
    actor: &Actor,
    wanted: Option<TenantId>,
) -> Result<Tenant, OpError> {
    let id = wanted
        .or(actor.tenant_id)
        .ok_or_else(|| OpError::field("tenant_id", "required"))?;
    let tenant = store::tenant::find(ctx.db.conn(), &tenant_scope(actor), id)
        .await?
        .ok_or_else(|| OpError::field("tenant_id", "not_found"))?;
    if tenant.status != TenantStatus::Active {
        return Err(OpError::field("tenant_id", "archived"));
    }
    Ok(tenant)
}

/// The owner of a new customer: the reseller named (one of the tenant whose customers the
/// caller sees), the caller itself when it is a reseller, or the tenant.
pub async fn owner_for(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant: TenantId,
    owner_id: Option<UserId>,
) -> Result<Owner, OpError> {
    let wanted = owner_id.or(match actor.role {
        Role::Operator | Role::SubOperator => Some(actor.user_id),
        _ => None,
    });
    let Some(id) = wanted else {
        return Ok(Owner::Tenant(tenant));
    };
    let user = store::user::find(ctx.db.conn(), &customer_owner_scope(actor), id)
        .await?
        .filter(|u| u.tenant_id == Some(tenant.0) && u.status == domain::user::UserStatus::Active)
        .ok_or_else(|| OpError::field("owner_id", "not_found"))?;
    reseller_owner(&user, tenant)
}

/// The owner a reseller of `tenant` is to its customers; another role is refused
/// (`owner_id`/`not_a_reseller`).
pub(crate) fn reseller_owner(user: &store::user::User, tenant: TenantId) -> Result<Owner, OpError> {
    let id = UserId(user.id);
    match store::user::role(user)? {
        Role::Operator => Ok(Owner::Operator {
            tenant,
            operator: id,
        }),
        Role::SubOperator => Ok(Owner::SubOperator {
            tenant,
            operator: user.parent_id.map(UserId),
            sub_operator: id,
        }),
        _ => Err(OpError::field("owner_id", "not_a_reseller")),
    }
}

/// The package a customer of `owner` may use: its owner's (a master when the tenant owns
/// it), of the customer's connection type.
pub async fn usable_package(
    ctx: &Ctx<'_>,
    owner: Owner,
    package_id: i64,
    connection: ConnectionType,
) -> Result<store::package::Package, OpError> {
    match store::package::find_usable(
        ctx.db.conn(),
        owner.user(),
        owner.tenant(),
        connection,
        package_id,
    )
    .await?
    {
        Ok(package) => Ok(package),
        Err(Some(other)) if other.connection_type != connection => {
            Err(OpError::field("package_id", "wrong_connection_type"))
        }
        Err(_) => Err(OpError::field("package_id", "not_usable")),
    }
}

/// The connection type of the tenant's package `package_id` (whether the owner may use it
/// is checked after).
async fn package_connection(
    ctx: &Ctx<'_>,
    tenant: TenantId,
    package_id: i64,
) -> Result<ConnectionType, OpError> {
    store::package::find_any(ctx.db.conn(), package_id)
        .await?
        .filter(|p| p.tenant_id == tenant.0)
        .map(|p| p.connection_type.get())
        .ok_or_else(|| OpError::field("package_id", "not_usable"))
}

/// The country mobile numbers of `tenant` are read in (`None` if its code is unreadable).
pub fn mobile_country(tenant: &Tenant) -> Option<CountryCode> {
    let code = tenant.mobile_country.as_deref().unwrap_or(&tenant.country);
    CountryCode::parse("mobile", code).ok()
}

/// The time zone of `tenant` (UTC if its name is unreadable).
pub fn zone(tenant: &Tenant) -> chrono_tz::Tz {
    domain::locale::zone_of(&tenant.time_zone)
}

/// What a package decides for a new customer.
pub fn package_terms(package: &store::package::Package) -> PackageTerms {
    PackageTerms {
        id: package.id,
        connection: package.connection_type.get(),
        validity_minutes: package.validity_minutes,
    }
}

/// A new random customer password (`domain::customer::PASSWORD_CHARS`).
pub fn random_password() -> String {
    use domain::customer::{PASSWORD_CHARS, PASSWORD_LEN};
    store::crypto::random_text(PASSWORD_CHARS, PASSWORD_LEN)
}

/// Records an error for each of the zone, router and pool named that is not the tenant's
/// or not seen by the caller.
async fn check_network(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant: TenantId,
    named: [Option<i64>; 3],
    errors: &mut FieldErrors,
) -> Result<(), OpError> {
    let scope = network_scope(actor);
    let conn = ctx.db.conn();
    let [zone, router, pool] = named;
    if let Some(id) = zone
        && store::network::find_zone(conn, &scope, id)
            .await?
            .is_none_or(|z| z.tenant_id != tenant.0)
    {
        errors.push(FieldError::new("zone_id", "not_found"));
    }
    if let Some(id) = router
        && store::network::find_router(conn, &scope, id)
            .await?
            .is_none_or(|r| r.tenant_id != tenant.0)
    {
        errors.push(FieldError::new("router_id", "not_found"));
    }
    if let Some(id) = pool
        && store::network::find_pool(conn, &scope, id)
            .await?
            .is_none_or(|p| p.tenant_id != tenant.0)
    {
        errors.push(FieldError::new("ip_pool_id", "not_found"));
    }
    Ok(())
}

/// Keeps the value of `result`, or records its field errors; other errors pass.
fn gather<T>(result: Result<T, OpError>, errors: &mut FieldErrors) -> Result<Option<T>, OpError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(OpError::Invalid(more)) => {
            errors.extend(more);
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

/// Creates a customer; returns it with its password when one was made up. Every refused
/// field is reported in one answer: the references (tenant, owner, package, zone, router,
/// pool) and the fields themselves.
pub async fn create(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    input: &CustomerInput,
) -> Result<(Customer, Option<String>), OpError> {
    let prepared = prepare(ctx, actor, input).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let customer = write_new(&mut w, &prepared).await?;
    w.commit().await?;
    Ok((customer, prepared.made_up))
}

/// A new customer checked and placed, ready to be written ([`prepare`], [`write_new`]).
#[derive(Debug)]
pub struct Prepared {
    /// Its tenant.
    pub tenant: Tenant,
    /// The customer.
    pub new: NewCustomer,
    /// The tenant's custom field definitions.
    defs: Vec<store::custom_field::Definition>,
    /// Its custom field values.
    values: Vec<domain::custom_field::ValueChange>,
    /// The password lastmile made up, when none was given.
    pub made_up: Option<String>,
}

/// Writes the customer `prepared` (with its FreeRADIUS projection, its custom fields and
/// their audit entries) in `w`; the caller commits.
pub async fn write_new(w: &mut store::Write, prepared: &Prepared) -> Result<Customer, OpError> {
    let customer = store::customer::create(w, &prepared.new).await?;
    store::custom_field::set_values(
        w,
        TenantId(prepared.tenant.id),
        customer.id,
        &prepared.defs,
        &prepared.values,
    )
    .await?;
    Ok(customer)
}

/// Checks everything a new customer needs (the caller's rights, the references, every
/// field, the custom fields, what a reseller may give) without writing; every refused field
/// is reported in one answer.
pub async fn prepare(
    ctx: &Ctx<'_>,
    actor: &Actor,
    input: &CustomerInput,
) -> Result<Prepared, OpError> {
    let tenant = tenant_of(ctx, actor, input.tenant_id).await?;
    let tenant_id = TenantId(tenant.id);
    let owner = owner_for(ctx, actor, tenant_id, input.owner_id).await?;
    access::manage_customers_of(actor, owner)?;
    let mut errors = FieldErrors::new();
    let package = match input.package_id {
        None => None,
        Some(package_id) => {
            let asked = match input.connection_type.as_deref().map(read_connection) {
                Some(Ok(connection)) => Some(connection),
                // Reported by the parse below.
                Some(Err(_)) => None,
                None => gather(
                    package_connection(ctx, tenant_id, package_id).await,
                    &mut errors,
                )?,
            };
            match asked {
                Some(connection) => gather(
                    usable_package(ctx, owner, package_id, connection).await,
                    &mut errors,
                )?,
                None => None,
            }
        }
    };
    let pool = input.ip_pool_id;
    check_network(
        ctx,
        actor,
        tenant_id,
        [input.zone_id, input.router_id, pool],
        &mut errors,
    )
    .await?;
    let country = mobile_country(&tenant);
    let realm = store::tenant::realm(&tenant);
    let made_up = random_password();
    let terms = Terms {
        owner,
        package: package.as_ref().map(package_terms),
        mobile_country: country.as_ref(),
        realm: &realm,
        default_billing: tenant.default_billing_type.get(),
        zone: zone(&tenant),
        made_up_password: &made_up,
    };
    // The custom fields, against the tenant's definitions: their errors join the rest.
    let defs = crate::custom_field::of_tenant(ctx, tenant_id).await?;
    let values =
        crate::custom_field::check(&defs, &input.custom_fields, None).unwrap_or_else(|more| {
            errors.extend(more);
            Vec::new()
        });
    let new = match NewCustomer::parse(input, &terms, ctx.now) {
        Ok(parsed) if errors.is_empty() => parsed,
        Ok(_) => return Err(OpError::Invalid(errors)),
        Err(more) => {
            errors.extend(more);
            return Err(if errors.is_empty() {
                OpError::field("package_id", "not_usable")
            } else {
                OpError::Invalid(errors)
            });
        }
    };
    let (mut new, made_up_used) = new;
    sold_only(actor, input, &mut new, ctx.now)?;
    Ok(Prepared {
        tenant,
        new,
        defs,
        values,
        made_up: made_up_used.then_some(made_up),
    })
}

/// Changes a customer the caller may manage, if it is still at `version`. Every refused
/// field is reported in one answer.
pub async fn update(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    version: i32,
    input: &ChangesInput,
) -> Result<Customer, OpError> {
    let customer = get(ctx, actor, id).await?;
    let owner = store::customer::owner(&customer);
    access::manage_customers_of(actor, owner)?;
    let tenant_id = TenantId(customer.tenant_id);
    let tenant = store::tenant::find(ctx.db.conn(), &tenant_scope(actor), tenant_id)
        .await?
        .ok_or(OpError::NotFound)?;
    let country = mobile_country(&tenant);
    let mut errors = FieldErrors::new();
    let changes = match CustomerChanges::parse(input, country.as_ref(), zone(&tenant)) {
        Ok(changes) => Some(changes),
        Err(more) => {
            errors.extend(more);
            None
        }
    };
    if let Some(package_id) = input.package_id {
        gather(
            usable_package(ctx, owner, package_id, customer.connection_type.get()).await,
            &mut errors,
        )?;
    }
    let pool = input.ip_pool_id.flatten();
    check_network(
        ctx,
        actor,
        tenant_id,
        [input.zone_id.flatten(), input.router_id.flatten(), pool],
        &mut errors,
    )
    .await?;
    if let Some(changes) = &changes
        && !access::gives_time(actor)
        && let Err(more) = sold::check_change(served(&customer), changes, ctx.now)
    {
        errors.extend(more);
    }
    // The custom fields given, against the tenant's definitions and what the customer
    // holds (a required field stays filled).
    let defs = crate::custom_field::of_tenant(ctx, tenant_id).await?;
    let held: std::collections::HashSet<i64> = crate::custom_field::values_of(ctx, id)
        .await?
        .into_keys()
        .collect();
    let values = crate::custom_field::check(&defs, &input.custom_fields, Some(&held))
        .unwrap_or_else(|more| {
            errors.extend(more);
            Vec::new()
        });
    let Some(changes) = changes.filter(|_| errors.is_empty()) else {
        return Err(OpError::Invalid(errors));
    };
    let scope = customer_scope(actor);
    let before = customer;
    let mut w = ctx.db.write(author, ctx.now).await?;
    if input.only_custom_fields() {
        // Only custom fields: nothing RADIUS reads changes, so no projection is rewritten;
        // the customer takes a new version when a value changed.
        if before.version != version {
            return Err(OpError::VersionMismatch);
        }
        if !store::custom_field::set_values(&mut w, tenant_id, id, &defs, &values).await? {
            w.rollback().await?;
            return Ok(before);
        }
        let customer = store::custom_field::touch_customer(&mut w, &scope, id, version).await?;
        w.commit().await?;
        return Ok(customer);
    }
    let customer = store::customer::update(&mut w, &scope, id, version, &changes).await?;
    store::custom_field::set_values(&mut w, tenant_id, id, &defs, &values).await?;
    reach_sessions(&mut w, &before, &customer, ctx.now).await?;
    w.commit().await?;
    Ok(customer)
}

/// A reseller's new customer (`new`, parsed from `input`) is served only what it sells
/// (`domain::customer::sold`): a prepaid one starts without time unless an expiry that
/// gives none was asked for.
pub(crate) fn sold_only(
    actor: &Actor,
    input: &CustomerInput,
    new: &mut NewCustomer,
    now: DateTime<Utc>,
) -> Result<(), FieldErrors> {
    if access::gives_time(actor) {
        return Ok(());
    }
    let asked = input
        .expires_at
        .as_deref()
        .is_some_and(|t| !t.trim().is_empty());
    if !asked && new.billing_type == BillingType::Prepaid {
        new.expires_at = None;
    }
    sold::check_new(new.billing_type, new.expires_at, now)
}

/// What `c` is served, as far as what was paid goes.
pub(crate) fn served(c: &Customer) -> sold::Served {
    sold::Served {
        billing: c.billing_type.get(),
        package_id: c.package_id,
        expires_at: c.expires_at,
    }
}

/// Queues what a change from `before` to `after` does to the customer's live sessions
/// (`domain::enforcement::after_change`): ended, or given the new rate.
pub(crate) async fn reach_sessions(
    w: &mut store::Write,
    before: &Customer,
    after: &Customer,
    now: DateTime<Utc>,
) -> Result<(), OpError> {
    match after_change(&session_facts(before), &session_facts(after), now) {
        Some(SessionChange::End(reason)) => {
            crate::enforcement::end_sessions(w, after, reason).await?;
        }
        Some(SessionChange::Rate(reason)) => {
            let projection = store::customer::project(w.tx(), w.keyring(), after).await?;
            if let Some(rate) = projection.rate_limit() {
                crate::enforcement::change_rate(w, after, reason, rate).await?;
            }
        }
        None => {}
    }
    Ok(())
}

/// What of `c` decides whether a change reaches its live sessions.
fn session_facts(c: &Customer) -> SessionFacts<'_> {
    SessionFacts {
        status: c.status.get(),
        billing: c.billing_type.get(),
        expires_at: c.expires_at,
        package_id: c.package_id,
        mac: c.mac.as_deref(),
    }
}

/// Deletes (archives) a customer: RADIUS forgets it, its user name rests, its records stay.
pub async fn archive(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
) -> Result<Customer, OpError> {
    let customer = get(ctx, actor, id).await?;
    access::manage_customers_of(actor, store::customer::owner(&customer))?;
    let scope = customer_scope(actor);
    let mut w = ctx.db.write(author, ctx.now).await?;
    crate::enforcement::end_sessions(&mut w, &customer, "archive").await?;
    let customer = store::customer::archive(&mut w, &scope, id).await?;
    w.commit().await?;
    Ok(customer)
}

/// The customer's password in clear, for those who may manage it. Every reading is in the
/// audit log (who read whose password, when), since the password opens the subscriber's
/// service to whoever holds it.
pub async fn password(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
) -> Result<String, OpError> {
    let customer = get(ctx, actor, id).await?;
    access::manage_customers_of(actor, store::customer::owner(&customer))?;
    let clear = store::customer::password(ctx.db.keyring(), &customer)
        .map_err(|e| OpError::Internal(e.to_string()))?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    w.audit(store::AuditEntry {
        tenant_id: Some(TenantId(customer.tenant_id)),
        action: "customer.read_password",
        entity: "customer",
        entity_id: Some(customer.id),
        before: None,
        after: None,
    })
    .await?;
    w.commit().await?;
    Ok(clear.to_string())
}

/// The start and end of today in `zone`, as UTC (for "expires today").
pub fn today(now: DateTime<Utc>, zone: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    use chrono::TimeZone as _;
    let local = now.with_timezone(&zone).date_naive();
    let start = local
        .and_hms_opt(0, 0, 0)
        .and_then(|t| zone.from_local_datetime(&t).earliest());
    let start = start.map_or(now, |s| s.with_timezone(&Utc));
    (start, start + TimeDelta::days(1))
}
