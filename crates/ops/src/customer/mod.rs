//! Customer operations, shared by the API, the panel and the importer: who may own and
//! change a customer (`domain::access`), which packages it may use (its owner's, of its
//! connection type), and every change written with its FreeRADIUS projection.

pub mod import;

use std::net::Ipv4Addr;

use crate::Ctx;
use crate::error::OpError;
use chrono::{DateTime, TimeDelta, Utc};
use domain::access::{
    self, Actor, Owner, Role, customer_scope, network_scope, tenant_scope, user_scope,
};
use domain::customer::{BillingType, CustomerStatus, Msisdn, PppPassword, Username};
use domain::field::{FieldError, FieldErrors};
use domain::ids::{TenantId, UserId};
use domain::locale::CountryCode;
use domain::network::MacAddr;
use domain::package::ConnectionType;
use store::Author;
use store::customer::{Customer, CustomerChanges, CustomerFilter, NewCustomer, StaticIp};
use store::list::{Page, PageRequest};
use store::tenant::Tenant;

/// A customer as asked for, its fields raw where reading them needs the tenant (mobile,
/// user name of a hotspot customer).
#[derive(Debug, Clone, Default)]
pub struct CustomerInput {
    /// The tenant (platform roles); others create in their own.
    pub tenant_id: Option<TenantId>,
    /// The owning operator or sub-operator (default: the caller if it is one, else the
    /// tenant).
    pub owner_id: Option<UserId>,
    /// The package.
    pub package_id: i64,
    /// How it connects (default: as its package does); its package must be of this type.
    pub connection_type: Option<ConnectionType>,
    /// How it pays (default: the tenant's default).
    pub billing_type: Option<BillingType>,
    /// Its name.
    pub name: String,
    /// Its mobile, as typed.
    pub mobile: Option<String>,
    /// Its e-mail.
    pub email: Option<String>,
    /// Its postal address.
    pub address: String,
    /// Its zone.
    pub zone_id: Option<i64>,
    /// Its home router.
    pub router_id: Option<i64>,
    /// Its user name (made up for hotspot customers: `<mobile>@<realm>`).
    pub username: Option<String>,
    /// Its password (default: a random one, returned once).
    pub password: Option<String>,
    /// Its status (default: active).
    pub status: Option<CustomerStatus>,
    /// When its service ends (prepaid default: now plus the package's validity).
    pub expires_at: Option<DateTime<Utc>>,
    /// A static address from `ip_pool_id` (`None` with a pool: the first free one).
    pub static_ip: Option<Ipv4Addr>,
    /// The pool its static address comes from, or its own address pool.
    pub ip_pool_id: Option<i64>,
    /// Ask for a static address from `ip_pool_id` even without a given address.
    pub allocate_static: bool,
    /// The MAC it is bound to, as typed.
    pub mac: Option<String>,
    /// Sessions allowed at once (default 1).
    pub simultaneous_use: Option<i32>,
    /// Free comment.
    pub comment: String,
}

/// The customers the caller sees.
pub async fn list(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &CustomerFilter,
    page: &PageRequest,
    sort_is_expiry: bool,
) -> Result<Page<Customer>, OpError> {
    Ok(store::customer::list(
        ctx.db.conn(),
        &customer_scope(actor),
        filter,
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
    if tenant.status != store::tenant::ACTIVE {
        return Err(OpError::field("tenant_id", "archived"));
    }
    Ok(tenant)
}

/// The owner of a new customer: the reseller named (one the caller sees in the tenant), the
/// caller itself when it is a reseller, or the tenant.
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
    let user = store::user::find(ctx.db.conn(), &user_scope(actor), id)
        .await?
        .filter(|u| {
            u.tenant_id == Some(tenant.0)
                && store::user::status(u) == domain::user::UserStatus::Active
        })
        .ok_or_else(|| OpError::field("owner_id", "not_found"))?;
    match store::user::role(&user)? {
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
        Err(Some(other)) if other.connection_type != connection.as_str() => {
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
        .and_then(|p| ConnectionType::parse(&p.connection_type))
        .ok_or_else(|| OpError::field("package_id", "not_usable"))
}

/// The country mobile numbers of `tenant` are read in.
pub fn mobile_country(tenant: &Tenant) -> Result<CountryCode, FieldError> {
    let code = tenant.mobile_country.as_deref().unwrap_or(&tenant.country);
    CountryCode::parse("mobile", code)
}

/// A new random customer password (`domain::customer::PASSWORD_CHARS`).
pub fn random_password() -> String {
    use domain::customer::{PASSWORD_CHARS, PASSWORD_LEN};
    store::crypto::random_text(PASSWORD_CHARS, PASSWORD_LEN)
}

/// Checks a zone and a router belong to the tenant and the caller sees them.
async fn check_network(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant: TenantId,
    zone: Option<i64>,
    router: Option<i64>,
) -> Result<(), OpError> {
    let scope = network_scope(actor);
    if let Some(id) = zone
        && store::network::find_zone(ctx.db.conn(), &scope, id)
            .await?
            .is_none_or(|z| z.tenant_id != tenant.0)
    {
        return Err(OpError::field("zone_id", "not_found"));
    }
    if let Some(id) = router
        && store::network::find_router(ctx.db.conn(), &scope, id)
            .await?
            .is_none_or(|r| r.tenant_id != tenant.0)
    {
        return Err(OpError::field("router_id", "not_found"));
    }
    Ok(())
}

/// Checks a pool belongs to the tenant and the caller sees it.
async fn check_pool(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant: TenantId,
    pool: Option<i64>,
) -> Result<(), OpError> {
    if let Some(id) = pool
        && store::network::find_pool(ctx.db.conn(), &network_scope(actor), id)
            .await?
            .is_none_or(|p| p.tenant_id != tenant.0)
    {
        return Err(OpError::field("ip_pool_id", "not_found"));
    }
    Ok(())
}

/// Turns a customer input into a validated new customer for `tenant` and `owner` (no
/// database access but for the package): shared by single creation and the importer.
pub fn validate(
    input: &CustomerInput,
    tenant: &Tenant,
    owner: Owner,
    package: &store::package::Package,
    now: DateTime<Utc>,
) -> Result<(NewCustomer, Option<String>), FieldErrors> {
    let mut errors = FieldErrors::new();
    // The package was checked to be of the connection type asked for, if one was.
    let connection =
        ConnectionType::parse(&package.connection_type).unwrap_or(ConnectionType::Other);
    let name = errors.take(domain::text::bounded("name", &input.name, 1, 120));
    let mobile = match (
        input.mobile.as_deref().filter(|m| !m.trim().is_empty()),
        mobile_country(tenant),
    ) {
        (None, _) => None,
        (Some(m), Ok(country)) => errors.take(Msisdn::parse(m, &country)),
        (Some(_), Err(e)) => errors.take(Err(e)),
    };
    let email = input
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .and_then(|e| errors.take(domain::user::Email::parse(e)))
        .map(|e| e.as_str().to_owned());
    let address = errors.take(domain::text::bounded("address", &input.address, 0, 500));
    let comment = errors.take(domain::text::bounded("comment", &input.comment, 0, 2000));
    let username = match (
        connection,
        input.username.as_deref().filter(|u| !u.trim().is_empty()),
    ) {
        (_, Some(given)) => errors.take(Username::parse(given)),
        (ConnectionType::Hotspot, None) => match &mobile {
            Some(m) => errors.take(Username::parse(&format!(
                "{}@{}",
                m.digits(),
                store::tenant::realm(tenant)
            ))),
            None => errors.take(Err(FieldError::new("mobile", "required"))),
        },
        (_, None) => errors.take(Err(FieldError::new("username", "required"))),
    };
    let (password, generated) = match input.password.as_deref() {
        Some(p) => (errors.take(PppPassword::parse("password", p)), None),
        None => {
            let made = random_password();
            (PppPassword::parse("password", &made).ok(), Some(made))
        }
    };
    let mac = input
        .mac
        .as_deref()
        .filter(|m| !m.trim().is_empty())
        .and_then(|m| {
            errors.take(MacAddr::parse(m).ok_or_else(|| FieldError::new("mac", "invalid_mac")))
        });
    let simultaneous_use = input.simultaneous_use.unwrap_or(1);
    if !(1..=100).contains(&simultaneous_use) {
        errors.push(
            FieldError::new("simultaneous_use", "out_of_range")
                .with("min", 1)
                .with("max", 100),
        );
    }
    let billing = input
        .billing_type
        .or_else(|| BillingType::parse(&tenant.default_billing_type))
        .unwrap_or(BillingType::Prepaid);
    let expires_at = match (billing, input.expires_at) {
        (_, Some(at)) => Some(at),
        (BillingType::Prepaid, None) => Some(now + TimeDelta::minutes(package.validity_minutes)),
        _ => None,
    };
    let static_ip = match (
        input.static_ip,
        input.ip_pool_id,
        input.allocate_static || input.static_ip.is_some(),
    ) {
        (_, Some(pool_id), true) => Some(StaticIp {
            pool_id,
            address: input.static_ip,
        }),
        (Some(_), None, _) => {
            errors.push(FieldError::new("ip_pool_id", "required"));
            None
        }
        _ => None,
    };
    if connection == ConnectionType::StaticIp && static_ip.is_none() && input.ip_pool_id.is_none() {
        errors.push(FieldError::new("static_ip", "required"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(name), Some(username), Some(password), Some(address), Some(comment)) =
        (name, username, password, address, comment)
    else {
        return Err(errors);
    };
    let new = NewCustomer {
        owner,
        package_id: package.id,
        connection_type: connection,
        billing_type: billing,
        name,
        mobile,
        email,
        address,
        zone_id: input.zone_id,
        router_id: input.router_id,
        username,
        password,
        status: input.status.unwrap_or(CustomerStatus::Active),
        expires_at,
        ip_pool_id: if static_ip.is_some() {
            None
        } else {
            input.ip_pool_id
        },
        static_ip,
        mac,
        simultaneous_use,
        comment,
    };
    Ok((new, generated))
}

/// Creates a customer; returns it with its password when one was made up.
pub async fn create(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    input: &CustomerInput,
) -> Result<(Customer, Option<String>), OpError> {
    let tenant = tenant_of(ctx, actor, input.tenant_id).await?;
    let tenant_id = TenantId(tenant.id);
    let owner = owner_for(ctx, actor, tenant_id, input.owner_id).await?;
    access::manage_customers_of(actor, owner)?;
    let connection = match input.connection_type {
        Some(asked) => asked,
        None => package_connection(ctx, tenant_id, input.package_id).await?,
    };
    let package = usable_package(ctx, owner, input.package_id, connection).await?;
    check_network(ctx, actor, tenant_id, input.zone_id, input.router_id).await?;
    check_pool(ctx, actor, tenant_id, input.ip_pool_id).await?;
    let now = ctx.now;
    let (new, generated) = validate(input, &tenant, owner, &package, now)?;
    let mut w = ctx.db.write(author, now).await?;
    let customer = store::customer::create(&mut w, &new).await?;
    w.commit().await?;
    Ok((customer, generated))
}

/// Changes to a customer as asked, raw where reading them needs the tenant.
#[derive(Debug, Clone, Default)]
pub struct CustomerUpdate {
    /// The parsed changes.
    pub changes: CustomerChanges,
    /// A new mobile as typed (`Some("")` clears it).
    pub mobile: Option<String>,
}

/// Changes a customer the caller may manage, if it is still at `version`.
pub async fn update(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    version: i32,
    update: CustomerUpdate,
) -> Result<Customer, OpError> {
    let customer = get(ctx, actor, id).await?;
    let owner = store::customer::owner(&customer);
    access::manage_customers_of(actor, owner)?;
    let tenant_id = TenantId(customer.tenant_id);
    let mut changes = update.changes;
    if let Some(mobile) = update.mobile {
        let tenant = tenant_of(ctx, actor, Some(tenant_id)).await?;
        changes.mobile = Some(if mobile.trim().is_empty() {
            None
        } else {
            Some(Msisdn::parse(&mobile, &mobile_country(&tenant)?)?)
        });
    }
    if let Some(package_id) = changes.package_id {
        let connection =
            ConnectionType::parse(&customer.connection_type).unwrap_or(ConnectionType::Other);
        usable_package(ctx, owner, package_id, connection).await?;
    }
    check_network(
        ctx,
        actor,
        tenant_id,
        changes.zone_id.flatten(),
        changes.router_id.flatten(),
    )
    .await?;
    let pool = changes
        .static_ip
        .flatten()
        .map(|s| s.pool_id)
        .or(changes.ip_pool_id.flatten());
    check_pool(ctx, actor, tenant_id, pool).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let customer =
        store::customer::update(&mut w, &customer_scope(actor), id, version, &changes).await?;
    w.commit().await?;
    Ok(customer)
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
    let mut w = ctx.db.write(author, ctx.now).await?;
    let customer = store::customer::archive(&mut w, &customer_scope(actor), id).await?;
    w.commit().await?;
    Ok(customer)
}

/// The customer's password in clear, for those who may manage it.
pub async fn password(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<String, OpError> {
    let customer = get(ctx, actor, id).await?;
    access::manage_customers_of(actor, store::customer::owner(&customer))?;
    let clear = store::customer::password(ctx.db.keyring(), &customer)
        .map_err(|e| OpError::Internal(e.to_string()))?;
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
