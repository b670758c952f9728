//! Package operations, shared by the API and the panel: master packages (the tenant's
//! service catalogue), operator packages (a master offered to an operator under its name and
//! prices) and sub-operator packages (an operator package offered to its sub-operator).

use crate::Ctx;
use crate::error::OpError;
use domain::access::{
    self, Actor, Owner, Role, network_scope, package_owner_scope, package_scope, tenant_scope,
};
use domain::ids::{TenantId, UserId};
use domain::money::Money;
use domain::package::{PackageLevel, check_prices};
use store::Author;
use store::list::{Page, PageRequest};
use store::package::{NewDerived, NewMaster, Package, PackageChanges, PackageFilter, ServiceRow};

/// The packages the caller sees.
pub async fn list(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &PackageFilter,
    page: &PageRequest,
) -> Result<Page<Package>, OpError> {
    Ok(store::package::list(ctx.db.conn(), &package_scope(actor), filter, page).await?)
}

/// One package the caller sees.
pub async fn get(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Package, OpError> {
    store::package::find(ctx.db.conn(), &package_scope(actor), id)
        .await?
        .ok_or(OpError::NotFound)
}

/// The owner of a package (the tenant for a master).
pub async fn owner_of(ctx: &Ctx<'_>, package: &Package) -> Result<Owner, OpError> {
    let tenant = TenantId(package.tenant_id);
    match package.owner_id {
        None => Ok(Owner::Tenant(tenant)),
        Some(id) => owner_user(ctx, tenant, UserId(id)).await,
    }
}

/// A reseller as an owner: an operator, or a sub-operator with the operator above it.
async fn owner_user(ctx: &Ctx<'_>, tenant: TenantId, id: UserId) -> Result<Owner, OpError> {
    let user = store::user::find_self(ctx.db.conn(), id)
        .await?
        .ok_or(OpError::NotFound)?;
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

/// Checks that a pool belongs to the tenant and the caller sees it.
async fn check_pool(
    ctx: &Ctx<'_>,
    actor: &Actor,
    tenant: TenantId,
    pool: Option<i64>,
) -> Result<(), OpError> {
    if let Some(id) = pool {
        match store::network::find_pool(ctx.db.conn(), &network_scope(actor), id).await? {
            Some(p) if p.tenant_id == tenant.0 => {}
            _ => return Err(OpError::field("ip_pool_id", "not_found")),
        }
    }
    Ok(())
}

/// A new master package as asked for; the tenant is the caller's own when `None`.
#[derive(Debug)]
pub struct MasterInput {
    /// The tenant.
    pub tenant: Option<TenantId>,
    /// Its name.
    pub name: String,
    /// Its service.
    pub service: ServiceRow,
    /// What a customer pays.
    pub price: Money,
}

/// Creates a master package.
pub async fn create_master(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    input: MasterInput,
) -> Result<Package, OpError> {
    let MasterInput {
        tenant,
        name,
        service,
        price,
    } = input;
    let tenant_id = tenant
        .or(actor.tenant_id)
        .ok_or_else(|| OpError::field("tenant_id", "required"))?;
    let tenant = store::tenant::find(ctx.db.conn(), &tenant_scope(actor), tenant_id)
        .await?
        .ok_or_else(|| OpError::field("tenant_id", "not_found"))?;
    access::manage_master_packages(actor, &store::tenant::facts(&tenant))?;
    check_pool(ctx, actor, tenant_id, service.ip_pool_id).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let package = store::package::create_master(
        &mut w,
        &NewMaster {
            tenant_id,
            name,
            service,
            price,
        },
    )
    .await?;
    w.commit().await?;
    Ok(package)
}

/// What a derived package is made from.
#[derive(Debug)]
pub struct DeriveInput {
    /// The package offered (a master, or an operator package).
    pub parent_id: i64,
    /// The operator or sub-operator it is offered to.
    pub owner_id: UserId,
    /// Its name as the owner sells it.
    pub name: String,
    /// What the owner's customer pays.
    pub price: Money,
    /// What the owner owes upstream (at most the price).
    pub cost_price: Money,
}

/// Offers a master package to an operator, or an operator package to one of the operator's
/// sub-operators.
pub async fn create_derived(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    input: DeriveInput,
) -> Result<Package, OpError> {
    let parent = store::package::find(ctx.db.conn(), &package_scope(actor), input.parent_id)
        .await?
        .ok_or_else(|| OpError::field("parent_id", "not_found"))?;
    let tenant = TenantId(parent.tenant_id);
    // The owner must be a reseller the caller may name, in the package's tenant.
    let owner_user = store::user::find(ctx.db.conn(), &package_owner_scope(actor), input.owner_id)
        .await?
        .filter(|u| u.tenant_id == Some(tenant.0) && u.status == domain::user::UserStatus::Active)
        .ok_or_else(|| OpError::field("owner_id", "not_found"))?;
    let owner = owner_user_owner(&owner_user, tenant)?;
    let fits = match (parent.level.get(), owner) {
        (PackageLevel::Master, Owner::Operator { .. }) => true,
        (PackageLevel::Operator, Owner::SubOperator { operator, .. }) => {
            operator.map(|o| o.0) == parent.owner_id
        }
        _ => false,
    };
    if !fits {
        return Err(OpError::field("owner_id", "wrong_owner_level"));
    }
    access::assign_packages_to(actor, owner)?;
    check_prices(input.price, input.cost_price)?;
    let new = NewDerived {
        parent,
        owner: input.owner_id,
        name: input.name,
        price: input.price,
        cost_price: input.cost_price,
    };
    let mut w = ctx.db.write(author, ctx.now).await?;
    let package = store::package::create_derived(&mut w, &new).await?;
    w.commit().await?;
    Ok(package)
}

fn owner_user_owner(user: &store::user::User, tenant: TenantId) -> Result<Owner, OpError> {
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

/// May `actor` change `package`: masters by those who run the tenant, derived packages by
/// those who may offer packages to their owner.
pub async fn may_change(ctx: &Ctx<'_>, actor: &Actor, package: &Package) -> Result<(), OpError> {
    match owner_of(ctx, package).await? {
        Owner::Tenant(tenant) => {
            let tenant = store::tenant::find(ctx.db.conn(), &tenant_scope(actor), tenant)
                .await?
                .ok_or(OpError::NotFound)?;
            Ok(access::manage_master_packages(
                actor,
                &store::tenant::facts(&tenant),
            )?)
        }
        owner => Ok(access::assign_packages_to(actor, owner)?),
    }
}

/// Changes a package; a master's service change reaches every package derived from it and
/// the FreeRADIUS rows of their customers: in the same transaction when they are few, else
/// through a job that converges them in batches after the change commits. A new speed (rate
/// or FUP steps) also reaches their online customers' live sessions, through a job
/// (`rates`) after commit.
pub async fn update(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    version: i32,
    changes: &PackageChanges,
) -> Result<Package, OpError> {
    let package = get(ctx, actor, id).await?;
    may_change(ctx, actor, &package).await?;
    if let Some(service) = &changes.service {
        check_pool(ctx, actor, TenantId(package.tenant_id), service.ip_pool_id).await?;
    }
    let before = package;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let (package, affected) =
        store::package::update(&mut w, &package_scope(actor), id, version, changes).await?;
    let faster_or_slower = store::package::rate(&before)? != store::package::rate(&package)?
        || store::package::fup(&before)? != store::package::fup(&package)?;
    if faster_or_slower && !affected.is_empty() {
        let rates = crate::rates::Rates {
            tenant_id: package.tenant_id,
            packages: affected.clone(),
            change: "package.update".to_owned(),
        };
        crate::rates::queue(&mut w, &rates).await?;
    }
    let reach = store::customer::Reach::Packages { ids: affected };
    store::customer::rewrite_or_converge(
        &mut w,
        TenantId(package.tenant_id),
        reach,
        "package.update",
    )
    .await?;
    w.commit().await?;
    Ok(package)
}

/// Deletes (archives) a package nobody uses.
pub async fn archive(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
) -> Result<Package, OpError> {
    let package = get(ctx, actor, id).await?;
    may_change(ctx, actor, &package).await?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    let package = store::package::archive(&mut w, &package_scope(actor), id).await?;
    w.commit().await?;
    Ok(package)
}

/// Resolves a reseller as an owner (for customers).
pub async fn reseller(ctx: &Ctx<'_>, tenant: TenantId, id: UserId) -> Result<Owner, OpError> {
    owner_user(ctx, tenant, id).await
}
