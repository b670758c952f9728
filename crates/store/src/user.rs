//! Staff users: scoped reads, the sign-in lookup, and the changes (create, change, archive
//! with reassignment of children, TOTP enrolment) through the write path. Password hashes
//! and TOTP secrets never enter an audit snapshot.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, Condition,
    ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::{Value, json};

use crate::entity::code::Stored;
use crate::entity::staff_user::{ActiveModel, Column, Entity, Model};
use crate::entity::{api_token, session, tenant};
use crate::error::{StoreError, StoreResult, on_unique};
use crate::list::{ListSpec, Page, PageRequest, SortColumn, SortKind};
use crate::scope;
use crate::versioned::update_versioned;
use crate::write::{AuditEntry, Write};
use domain::access::{Owner, Permission, PermissionSet, Role, UserFacts, UserScope};
use domain::ids::{TenantId, UserId};
use domain::user::{Email, UserStatus};

/// A stored staff user.
pub type User = Model;

const UNIQUE_KEYS: &[(&str, &str)] = &[
    ("staff_user_email_key", "email"),
    ("staff_user.email", "email"),
];

/// The user list: sortable by id, e-mail, name, role and creation time.
pub static LIST: ListSpec<Entity> = ListSpec {
    sorts: &[
        SortColumn {
            name: "id",
            column: Column::Id,
            kind: SortKind::Int,
        },
        SortColumn {
            name: "email",
            column: Column::Email,
            kind: SortKind::Text,
        },
        SortColumn {
            name: "name",
            column: Column::Name,
            kind: SortKind::Text,
        },
        SortColumn {
            name: "role",
            column: Column::Role,
            kind: SortKind::Int,
        },
        SortColumn {
            name: "created_at",
            column: Column::CreatedAt,
            kind: SortKind::Time,
        },
    ],
    id: Column::Id,
    default_sort: "id",
};

/// Filters of the user list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Only this role.
    pub role: Option<Role>,
    /// Only this tenant.
    pub tenant_id: Option<TenantId>,
    /// Only children of this user.
    pub parent_id: Option<UserId>,
    /// Only this status; archived users are left out unless asked for.
    pub status: Option<UserStatus>,
    /// E-mail prefix or part of the name.
    pub search: Option<String>,
}

/// A new user's row, decided by the caller (fields parsed, placement decided, password
/// hashed).
#[derive(Debug, Clone)]
pub struct NewUserRow {
    /// Sign-in name.
    pub email: Email,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Tenant.
    pub tenant_id: Option<TenantId>,
    /// Parent.
    pub parent_id: Option<UserId>,
    /// Granted permissions.
    pub permissions: PermissionSet,
    /// Argon2id PHC string.
    pub password_hash: String,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// New display name.
    pub name: Option<String>,
    /// New sign-in name.
    pub email: Option<Email>,
    /// New password hash.
    pub password_hash: Option<String>,
    /// Active or disabled.
    pub status: Option<UserStatus>,
    /// New granted permissions.
    pub permissions: Option<PermissionSet>,
    /// New parent (`Some(None)` detaches).
    pub parent_id: Option<Option<UserId>>,
}

/// The user's role.
pub fn role(user: &User) -> StoreResult<Role> {
    Role::from_level(user.role).ok_or_else(|| {
        StoreError::Corrupt(format!(
            "user {} holds role level {}, which is no role",
            user.id, user.role
        ))
    })
}

/// The user's granted permissions.
pub fn permissions(user: &User) -> PermissionSet {
    serde_json::from_str::<Vec<String>>(&user.permissions)
        .unwrap_or_default()
        .iter()
        .filter_map(|name| Permission::parse(name))
        .collect()
}

/// What the access rules need to know of a user.
pub fn facts(user: &User) -> StoreResult<UserFacts> {
    Ok(UserFacts {
        id: UserId(user.id),
        role: role(user)?,
        tenant_id: user.tenant_id.map(TenantId),
        parent_id: user.parent_id.map(UserId),
        active: user.status == UserStatus::Active,
    })
}

/// The user's state for the audit log, without secrets.
pub fn snapshot(user: &User) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": Role::from_level(user.role).map(Role::as_str),
        "tenant_id": user.tenant_id,
        "parent_id": user.parent_id,
        "permissions": permissions(user).iter().map(Permission::as_str).collect::<Vec<_>>(),
        "totp_enabled": user.totp_enabled,
        "status": user.status,
        "version": user.version,
    })
}

fn permissions_json(set: PermissionSet) -> String {
    Value::from(set.iter().map(Permission::as_str).collect::<Vec<_>>()).to_string()
}

/// A user in the caller's scope.
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    scope: &UserScope,
    id: UserId,
) -> StoreResult<Option<User>> {
    Ok(Entity::find_by_id(id.0)
        .filter(scope::users(scope))
        .one(conn)
        .await?)
}

/// A page of the users in the caller's scope.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &UserScope,
    filter: &UserFilter,
    page: &PageRequest,
) -> StoreResult<Page<User>> {
    let mut select = Entity::find().filter(scope::users(scope));
    if let Some(role) = filter.role {
        select = select.filter(Column::Role.eq(role.level()));
    }
    if let Some(tenant) = filter.tenant_id {
        select = select.filter(Column::TenantId.eq(tenant.0));
    }
    if let Some(parent) = filter.parent_id {
        select = select.filter(Column::ParentId.eq(parent.0));
    }
    select = match filter.status {
        Some(status) => select.filter(Column::Status.eq(Stored(status))),
        None => select.filter(Column::Status.ne(Stored(UserStatus::Archived))),
    };
    if let Some(text) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        select = select.filter(
            Condition::any()
                .add(crate::list::starts_with(Column::Email, text))
                .add(crate::list::contains(Column::Name, text)),
        );
    }
    crate::list::fetch(conn, &LIST, select, page).await
}

/// The account signing in as `email`, with its tenant. The one unscoped user lookup: sign-in
/// comes before any scope.
pub async fn find_for_sign_in<C: ConnectionTrait>(
    conn: &C,
    email: &Email,
) -> StoreResult<Option<(User, Option<tenant::Model>)>> {
    let user = Entity::find()
        .filter(Column::Email.eq(email.as_str()))
        .filter(Column::ArchivedAt.is_null())
        .one(conn)
        .await?;
    let Some(user) = user else { return Ok(None) };
    let tenant = match user.tenant_id {
        Some(id) => tenant::Entity::find_by_id(id).one(conn).await?,
        None => None,
    };
    Ok(Some((user, tenant)))
}

/// A user by id without scope: the signed-in user's own record, or the staff user named on
/// a document or a dashboard the caller already reads (who took a receipt's money).
pub async fn find_self<C: ConnectionTrait>(conn: &C, id: UserId) -> StoreResult<Option<User>> {
    Ok(Entity::find_by_id(id.0).one(conn).await?)
}

/// The direct children of a user (found in scope by the caller), archived ones left out.
pub async fn children<C: ConnectionTrait>(conn: &C, id: UserId) -> StoreResult<Vec<User>> {
    Ok(Entity::find()
        .filter(Column::ParentId.eq(id.0))
        .filter(Column::Status.ne(Stored(UserStatus::Archived)))
        .all(conn)
        .await?)
}

/// How many staff users exist (archived ones included): zero on a fresh installation.
pub async fn count_all<C: ConnectionTrait>(conn: &C) -> StoreResult<u64> {
    Ok(Entity::find().count(conn).await?)
}

/// Creates a user.
pub async fn create(w: &mut Write, new: &NewUserRow) -> StoreResult<User> {
    let now = w.now();
    let row = ActiveModel {
        id: NotSet,
        tenant_id: Set(new.tenant_id.map(|t| t.0)),
        email: Set(new.email.as_str().to_owned()),
        name: Set(new.name.clone()),
        role: Set(new.role.level()),
        parent_id: Set(new.parent_id.map(|p| p.0)),
        permissions: Set(permissions_json(new.permissions)),
        password_hash: Set(new.password_hash.clone()),
        totp_secret: Set(None),
        totp_enabled: Set(false),
        status: Set(Stored(UserStatus::Active)),
        version: Set(1),
        last_login_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        totp_last_step: Set(None),
    };
    let user = row
        .insert(w.tx())
        .await
        .map_err(|e| on_unique(e, UNIQUE_KEYS))?;
    w.audit(AuditEntry {
        tenant_id: user.tenant_id.map(TenantId),
        action: "user.create",
        entity: "user",
        entity_id: Some(user.id),
        before: None,
        after: Some(snapshot(&user)),
    })
    .await?;
    Ok(user)
}

/// Changes a user in the caller's scope if it is still at `version`.
pub async fn update(
    w: &mut Write,
    scope: &UserScope,
    id: UserId,
    version: i32,
    changes: &UserChanges,
) -> StoreResult<User> {
    let before = find(w.tx(), scope, id).await?.ok_or(StoreError::NotFound)?;
    if before.status == UserStatus::Archived {
        return Err(StoreError::Refused {
            field: "status",
            code: "archived",
        });
    }
    let mut row: ActiveModel = before.clone().into();
    if let Some(name) = &changes.name {
        row.name = Set(name.clone());
    }
    if let Some(email) = &changes.email {
        row.email = Set(email.as_str().to_owned());
    }
    if let Some(hash) = &changes.password_hash {
        row.password_hash = Set(hash.clone());
    }
    if let Some(status) = changes.status {
        if status == UserStatus::Archived {
            return Err(StoreError::Refused {
                field: "status",
                code: "use_delete",
            });
        }
        row.status = Set(Stored(status));
    }
    if let Some(permissions) = changes.permissions {
        row.permissions = Set(permissions_json(permissions));
    }
    if let Some(parent) = changes.parent_id {
        row.parent_id = Set(parent.map(|p| p.0));
    }
    let after = update_versioned::<Entity>(w, row, id.0, version, UNIQUE_KEYS).await?;
    if after.parent_id != before.parent_id && role(&after)? == Role::SubOperator {
        // A sub-operator's customers belong to its operator too: they follow it.
        crate::customer::follow_operator(w, id, after.parent_id.map(UserId)).await?;
    }
    if changes.password_hash.is_some() || changes.status == Some(UserStatus::Disabled) {
        // A new password, or a disabled account, ends the sign-ins made before.
        end_sign_ins(w, id, &Keep::default()).await?;
    }
    let action = match changes.status {
        Some(UserStatus::Disabled) if before.status != after.status => "user.disable",
        Some(UserStatus::Active) if before.status != after.status => "user.enable",
        _ => "user.update",
    };
    w.audit(AuditEntry {
        tenant_id: after.tenant_id.map(TenantId),
        action,
        entity: "user",
        entity_id: Some(id.0),
        before: Some(snapshot(&before)),
        after: Some(snapshot(&after)),
    })
    .await?;
    Ok(after)
}

/// Who owns customers handed to `user` of `tenant`: the operator or sub-operator it is (a
/// sub-operator with its operator), or the tenant itself for anyone else or nobody.
async fn owner_for_customers(
    w: &Write,
    tenant: TenantId,
    user: Option<UserId>,
) -> StoreResult<Owner> {
    let Some(id) = user else {
        return Ok(Owner::Tenant(tenant));
    };
    let Some(found) = Entity::find_by_id(id.0).one(w.tx()).await? else {
        return Ok(Owner::Tenant(tenant));
    };
    Ok(match role(&found)? {
        Role::Operator => Owner::Operator {
            tenant,
            operator: id,
        },
        Role::SubOperator => Owner::SubOperator {
            tenant,
            operator: found.parent_id.map(UserId),
            sub_operator: id,
        },
        _ => Owner::Tenant(tenant),
    })
}

/// Archives a user in the caller's scope: its children move to `reassign_to` (or, when that
/// is `None`, to the archived user's own parent), its sessions and tokens end, and it never
/// signs in again. What refers to it stays.
pub async fn archive(
    w: &mut Write,
    scope: &UserScope,
    id: UserId,
    reassign_to: Option<UserId>,
) -> StoreResult<User> {
    let before = find(w.tx(), scope, id).await?.ok_or(StoreError::NotFound)?;
    if before.status == UserStatus::Archived {
        return Err(StoreError::Refused {
            field: "status",
            code: "archived",
        });
    }
    let new_parent = reassign_to.map(|u| u.0).or(before.parent_id);
    // The reseller's own customers go where its children go; the tenant keeps them when
    // there is nobody above it.
    if matches!(role(&before)?, Role::Operator | Role::SubOperator)
        && let Some(tenant) = before.tenant_id.map(TenantId)
    {
        let to = owner_for_customers(w, tenant, new_parent.map(UserId)).await?;
        crate::customer::move_customers(w, id, to).await?;
    }
    let children = children(w.tx(), id).await?;
    for child in children {
        let mut row: ActiveModel = child.clone().into();
        row.parent_id = Set(new_parent);
        let moved =
            update_versioned::<Entity>(w, row, UserId(child.id).0, child.version, UNIQUE_KEYS)
                .await?;
        if role(&moved)? == Role::SubOperator {
            crate::customer::follow_operator(w, UserId(moved.id), new_parent.map(UserId)).await?;
        }
        w.audit(AuditEntry {
            tenant_id: moved.tenant_id.map(TenantId),
            action: "user.reassign",
            entity: "user",
            entity_id: Some(moved.id),
            before: Some(snapshot(&child)),
            after: Some(snapshot(&moved)),
        })
        .await?;
    }
    let mut row: ActiveModel = before.clone().into();
    row.status = Set(Stored(UserStatus::Archived));
    row.archived_at = Set(Some(w.now()));
    let after = update_versioned::<Entity>(w, row, id.0, before.version, UNIQUE_KEYS).await?;
    end_sign_ins(w, id, &Keep::default()).await?;
    w.audit(AuditEntry {
        tenant_id: after.tenant_id.map(TenantId),
        action: "user.archive",
        entity: "user",
        entity_id: Some(id.0),
        before: Some(snapshot(&before)),
        after: Some(snapshot(&after)),
    })
    .await?;
    Ok(after)
}

/// The credential a user is signed in with, kept when its other sign-ins end.
#[derive(Debug, Clone, Default)]
pub struct Keep {
    /// A panel session id.
    pub session: Option<String>,
    /// An API token id.
    pub token: Option<i64>,
}

/// Ends the panel sessions and API tokens of a user, but the one to keep.
pub async fn end_sign_ins(w: &Write, id: UserId, keep: &Keep) -> StoreResult<()> {
    let mut sessions = session::Entity::delete_many().filter(session::Column::UserId.eq(id.0));
    if let Some(current) = &keep.session {
        sessions = sessions.filter(session::Column::Id.ne(current.as_str()));
    }
    sessions.exec(w.tx()).await?;
    let mut tokens = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(w.now()))
        .filter(api_token::Column::UserId.eq(id.0))
        .filter(api_token::Column::RevokedAt.is_null());
    if let Some(current) = keep.token {
        tokens = tokens.filter(api_token::Column::Id.ne(current));
    }
    tokens.exec(w.tx()).await?;
    Ok(())
}

/// Accepts TOTP time step `step` for a user if it is later than the last one accepted: a
/// code is good once. True when accepted.
pub async fn accept_totp_step<C: ConnectionTrait>(
    conn: &C,
    id: UserId,
    step: i64,
) -> StoreResult<bool> {
    let done = Entity::update_many()
        .col_expr(Column::TotpLastStep, Expr::value(step))
        .filter(Column::Id.eq(id.0))
        .filter(
            Condition::any()
                .add(Column::TotpLastStep.is_null())
                .add(Column::TotpLastStep.lt(step)),
        )
        .exec(conn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The signed-in user changes its own name, e-mail or password; a new password ends its
/// other sign-ins (all but `keep`).
pub async fn update_own(
    w: &mut Write,
    id: UserId,
    changes: &UserChanges,
    keep: &Keep,
) -> StoreResult<User> {
    let before = find_self(w.tx(), id).await?.ok_or(StoreError::NotFound)?;
    let mut row: ActiveModel = before.clone().into();
    if let Some(name) = &changes.name {
        row.name = Set(name.clone());
    }
    if let Some(email) = &changes.email {
        row.email = Set(email.as_str().to_owned());
    }
    if let Some(hash) = &changes.password_hash {
        row.password_hash = Set(hash.clone());
    }
    let after = update_versioned::<Entity>(w, row, id.0, before.version, UNIQUE_KEYS).await?;
    if changes.password_hash.is_some() {
        end_sign_ins(w, id, keep).await?;
    }
    let action = if changes.password_hash.is_some() {
        "user.change_password"
    } else {
        "user.update_own"
    };
    w.audit(AuditEntry {
        tenant_id: after.tenant_id.map(TenantId),
        action,
        entity: "user",
        entity_id: Some(id.0),
        before: Some(snapshot(&before)),
        after: Some(snapshot(&after)),
    })
    .await?;
    Ok(after)
}

/// Stores a TOTP secret (sealed) awaiting confirmation, or enables or removes the second
/// factor. `secret` is `Some` to start an enrolment; `enabled` turns it on or off.
pub async fn set_totp(
    w: &mut Write,
    id: UserId,
    secret: Option<Option<String>>,
    enabled: bool,
) -> StoreResult<User> {
    let before = find_self(w.tx(), id).await?.ok_or(StoreError::NotFound)?;
    let mut row: ActiveModel = before.clone().into();
    if let Some(secret) = secret {
        row.totp_secret = Set(secret);
    }
    row.totp_enabled = Set(enabled);
    let after = update_versioned::<Entity>(w, row, id.0, before.version, UNIQUE_KEYS).await?;
    let action = match (before.totp_enabled, after.totp_enabled) {
        (false, true) => "user.totp_enable",
        (true, false) => "user.totp_disable",
        _ => "user.totp_enrol",
    };
    w.audit(AuditEntry {
        tenant_id: after.tenant_id.map(TenantId),
        action,
        entity: "user",
        entity_id: Some(id.0),
        before: Some(snapshot(&before)),
        after: Some(snapshot(&after)),
    })
    .await?;
    Ok(after)
}

/// Records a successful sign-in time (the caller writes the audit entry of the sign-in).
pub async fn record_sign_in(w: &mut Write, id: UserId) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(Column::LastLoginAt, Expr::value(w.now()))
        .filter(Column::Id.eq(id.0))
        .exec(w.tx())
        .await?;
    Ok(())
}
