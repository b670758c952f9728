//! Staff user operations, shared by the API and the panel: placement and permissions are
//! decided by `domain::access`, passwords hashed before the write transaction opens, and
//! every change goes through the write path.

use crate::Ctx;
use crate::error::OpError;
use domain::access::{self, Actor, NewUserPlacement, PermissionSet, tenant_scope, user_scope};
use domain::ids::{TenantId, UserId};
use domain::user::{Email, NewUser, Password, UserStatus};
use store::Author;
use store::list::{Page, PageRequest};
use store::user::{NewUserRow, User, UserChanges, UserFilter};

/// Which records a list of owners is offered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnersOf {
    /// Customers: the resellers whose customers the caller sees.
    Customers,
    /// Derived packages: the resellers whose packages the caller sees.
    Packages,
}

/// The active operators and sub-operators `actor` may name as the owner of a customer or a
/// derived package (at most `limit` of each role): those whose records it sees, granted
/// `view_users` or not (`domain::access::{customer_owner_scope, package_owner_scope}`).
pub async fn resellers(
    ctx: &Ctx<'_>,
    actor: &Actor,
    of: OwnersOf,
    limit: u64,
) -> Result<Vec<User>, OpError> {
    let scope = match of {
        OwnersOf::Customers => access::customer_owner_scope(actor),
        OwnersOf::Packages => access::package_owner_scope(actor),
    };
    let mut found = Vec::new();
    for role in [access::Role::Operator, access::Role::SubOperator] {
        let page = PageRequest::first(&store::user::LIST, limit).map_err(OpError::Invalid)?;
        let filter = UserFilter {
            role: Some(role),
            status: Some(UserStatus::Active),
            ..Default::default()
        };
        found.extend(
            store::user::list(ctx.db.conn(), &scope, &filter, &page)
                .await?
                .items,
        );
    }
    Ok(found)
}

/// The users the caller sees.
pub async fn list(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &UserFilter,
    page: &PageRequest,
) -> Result<Page<User>, OpError> {
    Ok(store::user::list(ctx.db.conn(), &user_scope(actor), filter, page).await?)
}

/// One user the caller sees.
pub async fn get(ctx: &Ctx<'_>, actor: &Actor, id: UserId) -> Result<User, OpError> {
    store::user::find(ctx.db.conn(), &user_scope(actor), id)
        .await?
        .ok_or(OpError::NotFound)
}

/// What a caller asks for when creating a user.
#[derive(Debug)]
pub struct CreateUser {
    /// The user's own fields.
    pub user: NewUser,
    /// The tenant asked for.
    pub tenant_id: Option<TenantId>,
    /// The parent asked for.
    pub parent_id: Option<UserId>,
}

/// Creates a staff user where the access rules place it.
pub async fn create(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    input: CreateUser,
) -> Result<User, OpError> {
    let conn = ctx.db.conn();
    let tenant = match input.tenant_id {
        Some(id) => store::tenant::find(conn, &tenant_scope(actor), id)
            .await?
            .map(|t| store::tenant::facts(&t)),
        None => None,
    };
    let parent = match input.parent_id {
        Some(id) => match store::user::find(conn, &user_scope(actor), id).await? {
            Some(user) => Some(store::user::facts(&user)?),
            None => None,
        },
        None => None,
    };
    let placement = access::place_new_user(
        actor,
        &NewUserPlacement {
            role: input.user.role,
            tenant: tenant.as_ref(),
            tenant_given: input.tenant_id.is_some(),
            parent: parent.as_ref(),
            parent_given: input.parent_id.is_some(),
            permissions: input.user.permissions,
        },
    )?;
    let password_hash = ctx
        .hasher
        .hash(input.user.password.expose())
        .await
        .map_err(|_| OpError::Busy)?;
    let row = NewUserRow {
        email: input.user.email,
        name: input.user.name,
        role: input.user.role,
        tenant_id: placement.tenant_id,
        parent_id: placement.parent_id,
        permissions: placement.permissions,
        password_hash,
    };
    let mut w = ctx.db.write(author, ctx.now).await?;
    let user = store::user::create(&mut w, &row).await?;
    w.commit().await?;
    Ok(user)
}

/// What a caller asks to change in a user; `None` leaves a field.
#[derive(Debug, Default)]
pub struct UpdateUser {
    /// New name.
    pub name: Option<String>,
    /// New e-mail.
    pub email: Option<Email>,
    /// New password.
    pub password: Option<Password>,
    /// Active or disabled.
    pub status: Option<UserStatus>,
    /// New permissions.
    pub permissions: Option<PermissionSet>,
    /// New parent (`Some(None)` detaches).
    pub parent_id: Option<Option<UserId>>,
}

/// Changes a user the caller manages, if it is still at `version`.
pub async fn update(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: UserId,
    version: i32,
    input: UpdateUser,
) -> Result<User, OpError> {
    let target = get(ctx, actor, id).await?;
    let facts = store::user::facts(&target)?;
    access::update_user(actor, &facts, input.permissions)?;
    if input.status == Some(UserStatus::Archived) {
        return Err(OpError::field("status", "use_delete"));
    }
    let parent_id = match input.parent_id {
        None => None,
        Some(wanted) => {
            let parent = match wanted {
                Some(pid) => {
                    match store::user::find(ctx.db.conn(), &user_scope(actor), pid).await? {
                        Some(user) => Some(store::user::facts(&user)?),
                        None => None,
                    }
                }
                None => None,
            };
            Some(access::reparent_user(
                actor,
                &facts,
                parent.as_ref(),
                wanted.is_some(),
            )?)
        }
    };
    let password_hash = match &input.password {
        Some(password) => Some(
            ctx.hasher
                .hash(password.expose())
                .await
                .map_err(|_| OpError::Busy)?,
        ),
        None => None,
    };
    let changes = UserChanges {
        name: input.name,
        email: input.email,
        password_hash,
        status: input.status,
        permissions: input.permissions,
        parent_id,
    };
    let mut w = ctx.db.write(author, ctx.now).await?;
    let user = store::user::update(&mut w, &user_scope(actor), id, version, &changes).await?;
    w.commit().await?;
    Ok(user)
}

/// Deletes (archives) a user the caller manages; its children move to `reassign_to` (found
/// in the caller's scope) or, by default, to the deleted user's parent.
pub async fn archive(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: UserId,
    reassign_to: Option<UserId>,
) -> Result<User, OpError> {
    let conn = ctx.db.conn();
    let target = get(ctx, actor, id).await?;
    let facts = store::user::facts(&target)?;
    access::delete_user(actor, &facts)?;
    let children = store::user::children(conn, id).await?;
    if !children.is_empty() {
        let roles = children
            .iter()
            .map(store::user::role)
            .collect::<Result<Vec<_>, _>>()?;
        let new_parent_id = reassign_to.or(facts.parent_id);
        let new_parent = match new_parent_id {
            Some(pid) => Some(
                store::user::find(conn, &user_scope(actor), pid)
                    .await?
                    .ok_or_else(|| OpError::field("reassign_to", "not_found"))
                    .and_then(|u| store::user::facts(&u).map_err(OpError::from))?,
            ),
            None => None,
        };
        if new_parent.as_ref().is_some_and(|p| p.id == id) {
            return Err(OpError::field("reassign_to", "must_differ"));
        }
        access::check_reassignment(&roles, new_parent.as_ref(), facts.tenant_id)?;
    }
    let mut w = ctx.db.write(author, ctx.now).await?;
    let user = store::user::archive(&mut w, &user_scope(actor), id, reassign_to).await?;
    w.commit().await?;
    Ok(user)
}
