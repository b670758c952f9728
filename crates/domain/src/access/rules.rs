//! The decisions: who may create, change and delete whom, and which tenants. Each takes a
//! target the store has already found inside the caller's scope.

use super::{Actor, Denied, Permission, PermissionSet, Role, TenantFacts, UserFacts};
use crate::field::{FieldError, FieldErrors};
use crate::ids::{TenantId, UserId};

/// A user manages only users of a higher level (a lower rank) than its own.
pub fn can_manage(actor: Role, target: Role) -> bool {
    actor < target
}

/// The creation table of design.md §3, before scope and permissions: may a `creator` create
/// a user of `role` at all?
pub fn may_create_role(creator: Role, role: Role) -> bool {
    if !can_manage(creator, role) {
        return false;
    }
    match creator {
        Role::Developer => true,
        Role::SuperAdmin => role >= Role::Admin,
        Role::Admin => role >= Role::Operator,
        Role::Operator => {
            matches!(
                role,
                Role::SubOperator | Role::CardDistributor | Role::Customer
            )
        }
        Role::SubOperator => role == Role::Customer,
        // Below their own level, as far as their granted permissions go (checked by the
        // caller with the permission the kind of record needs).
        Role::Manager | Role::Staff => true,
        Role::Accountant | Role::SalesManager | Role::CardDistributor | Role::Customer => false,
    }
}

/// Where a new staff user goes, as asked by the caller: the tenant and parent have been
/// looked up inside the caller's scopes (`None` when not given).
#[derive(Debug, Clone)]
pub struct NewUserPlacement<'a> {
    /// The role asked for.
    pub role: Role,
    /// The tenant asked for, found in the caller's tenant scope.
    pub tenant: Option<&'a TenantFacts>,
    /// True if the caller named a tenant (found or not).
    pub tenant_given: bool,
    /// The parent asked for, found in the caller's user scope.
    pub parent: Option<&'a UserFacts>,
    /// True if the caller named a parent (found or not).
    pub parent_given: bool,
    /// The permissions asked for.
    pub permissions: PermissionSet,
}

/// Why a placement is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacementError {
    /// Something in the input is wrong (HTTP 422).
    Invalid(FieldErrors),
    /// The caller may not create this (HTTP 403).
    Forbidden,
}

/// The decided placement of a new user: its tenant, parent and granted permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The tenant, `None` for Developer and Super Admin.
    pub tenant_id: Option<TenantId>,
    /// The parent operator, for sub-operators and card distributors.
    pub parent_id: Option<UserId>,
    /// The granted permissions (Manager and Staff only).
    pub permissions: PermissionSet,
}

/// Decides whether `actor` may create a staff user placed as `new` asks, and where it goes.
pub fn place_new_user(
    actor: &Actor,
    new: &NewUserPlacement<'_>,
) -> Result<Placement, PlacementError> {
    if !new.role.is_staff() {
        return Err(invalid(FieldError::new("role", "not_staff_role")));
    }
    if !may_create_role(actor.role, new.role) {
        return Err(PlacementError::Forbidden);
    }
    if actor.role.takes_permissions() && !actor.can(Permission::ManageUsers) {
        return Err(PlacementError::Forbidden);
    }
    check_permissions(actor, new.role, new.permissions)?;

    let mut errors = FieldErrors::new();
    let tenant_id = place_tenant(actor, new, &mut errors);
    let parent_id = place_parent(actor, new, tenant_id, &mut errors);
    if !errors.is_empty() {
        return Err(PlacementError::Invalid(errors));
    }
    Ok(Placement {
        tenant_id,
        parent_id,
        permissions: new.permissions,
    })
}

fn place_tenant(
    actor: &Actor,
    new: &NewUserPlacement<'_>,
    errors: &mut FieldErrors,
) -> Option<TenantId> {
    if new.role.is_platform() {
        if new.tenant_given {
            errors.push(FieldError::new("tenant_id", "must_be_absent"));
        }
        return None;
    }
    match (new.tenant, new.tenant_given, actor.tenant_id) {
        (Some(tenant), _, _) if !tenant.active => {
            errors.push(FieldError::new("tenant_id", "archived"));
            None
        }
        (Some(tenant), _, _) => Some(tenant.id),
        (None, true, _) => {
            errors.push(FieldError::new("tenant_id", "not_found"));
            None
        }
        (None, false, Some(own)) => Some(own),
        (None, false, None) => {
            errors.push(FieldError::new("tenant_id", "required"));
            None
        }
    }
}

fn place_parent(
    actor: &Actor,
    new: &NewUserPlacement<'_>,
    tenant_id: Option<TenantId>,
    errors: &mut FieldErrors,
) -> Option<UserId> {
    let allowed = parent_roles(new.role);
    if allowed.is_empty() {
        if new.parent_given {
            errors.push(FieldError::new("parent_id", "must_be_absent"));
        }
        return None;
    }
    // A reseller creates users under itself.
    if actor.role.is_reseller() {
        return match new.parent {
            Some(parent) if parent.id != actor.user_id => {
                errors.push(FieldError::new("parent_id", "must_be_self"));
                None
            }
            None if new.parent_given => {
                errors.push(FieldError::new("parent_id", "not_found"));
                None
            }
            _ => Some(actor.user_id),
        };
    }
    match new.parent {
        Some(parent) => {
            if !allowed.contains(&parent.role) {
                errors.push(FieldError::new("parent_id", "wrong_parent_role"));
            } else if parent.tenant_id != tenant_id {
                errors.push(FieldError::new("parent_id", "other_tenant"));
            } else if !parent.active {
                errors.push(FieldError::new("parent_id", "inactive"));
            }
            Some(parent.id)
        }
        None if new.parent_given => {
            errors.push(FieldError::new("parent_id", "not_found"));
            None
        }
        None if new.role == Role::SubOperator => {
            errors.push(FieldError::new("parent_id", "required"));
            None
        }
        None => None,
    }
}

/// The roles a user of `role` may have as its parent: sub-operators hang under an
/// operator, card distributors under an operator or a sub-operator, the rest under nobody.
pub fn parent_roles(role: Role) -> &'static [Role] {
    match role {
        Role::SubOperator => &[Role::Operator],
        Role::CardDistributor => &[Role::Operator, Role::SubOperator],
        _ => &[],
    }
}

/// May the children of a deleted user (their roles) move under `new_parent` (`None`: under
/// nobody) in `tenant`? Sub-operators need an operator; card distributors may go under an
/// operator, a sub-operator or nobody.
pub fn check_reassignment(
    child_roles: &[Role],
    new_parent: Option<&UserFacts>,
    tenant: Option<TenantId>,
) -> Result<(), FieldErrors> {
    let field = "reassign_to";
    match new_parent {
        Some(parent) => {
            if parent.tenant_id != tenant {
                return Err(FieldErrors::one(FieldError::new(field, "other_tenant")));
            }
            if !parent.active {
                return Err(FieldErrors::one(FieldError::new(field, "inactive")));
            }
            if child_roles
                .iter()
                .any(|role| !parent_roles(*role).contains(&parent.role))
            {
                return Err(FieldErrors::one(FieldError::new(
                    field,
                    "wrong_parent_role",
                )));
            }
        }
        None => {
            if child_roles.contains(&Role::SubOperator) {
                return Err(FieldErrors::one(FieldError::new(field, "required")));
            }
        }
    }
    Ok(())
}

fn check_permissions(
    actor: &Actor,
    role: Role,
    permissions: PermissionSet,
) -> Result<(), PlacementError> {
    if permissions == PermissionSet::EMPTY {
        return Ok(());
    }
    if !role.takes_permissions() {
        return Err(invalid(FieldError::new("permissions", "not_applicable")));
    }
    // Nobody grants what it does not hold.
    if !actor.permissions().contains_all(permissions) {
        return Err(PlacementError::Forbidden);
    }
    Ok(())
}

fn invalid(error: FieldError) -> PlacementError {
    PlacementError::Invalid(FieldErrors::one(error))
}

/// May `actor` change `target` (name, e-mail, password, status, permissions)? The target was
/// found in the actor's user scope. One's own account is changed through the self-service
/// calls, not here. `permissions` is the new grant, if it changes.
pub fn update_user(
    actor: &Actor,
    target: &UserFacts,
    permissions: Option<PermissionSet>,
) -> Result<(), PlacementError> {
    manage(actor, target).map_err(|_| PlacementError::Forbidden)?;
    if let Some(permissions) = permissions {
        check_permissions(actor, target.role, permissions)?;
    }
    Ok(())
}

/// May `actor` move `target` under `parent` (found in the actor's user scope, `None` for
/// no parent)?
pub fn reparent_user(
    actor: &Actor,
    target: &UserFacts,
    parent: Option<&UserFacts>,
    parent_given: bool,
) -> Result<Option<UserId>, PlacementError> {
    manage(actor, target).map_err(|_| PlacementError::Forbidden)?;
    let new = NewUserPlacement {
        role: target.role,
        tenant: None,
        tenant_given: false,
        parent,
        parent_given,
        permissions: PermissionSet::EMPTY,
    };
    let mut errors = FieldErrors::new();
    let parent_id = place_parent(actor, &new, target.tenant_id, &mut errors);
    if !errors.is_empty() {
        return Err(PlacementError::Invalid(errors));
    }
    Ok(parent_id)
}

/// May `actor` delete (archive) `target`?
pub fn delete_user(actor: &Actor, target: &UserFacts) -> Result<(), Denied> {
    manage(actor, target)
}

fn manage(actor: &Actor, target: &UserFacts) -> Result<(), Denied> {
    if target.id == actor.user_id || !can_manage(actor.role, target.role) {
        return Err(Denied::Forbidden);
    }
    let allowed = match actor.role {
        Role::Developer | Role::SuperAdmin | Role::Admin => true,
        // The scope already limits them to their subtree.
        Role::Operator | Role::SubOperator => true,
        Role::Manager | Role::Staff => actor.can(Permission::ManageUsers),
        Role::Accountant | Role::SalesManager | Role::CardDistributor | Role::Customer => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

/// May `actor` create a tenant? On success, the tenant's owner: the Super Admin creating it,
/// or nobody when the Developer does.
pub fn create_tenant(actor: &Actor) -> Result<Option<UserId>, Denied> {
    match actor.role {
        Role::Developer => Ok(None),
        Role::SuperAdmin => Ok(Some(actor.user_id)),
        _ => Err(Denied::Forbidden),
    }
}

/// May `actor` change the settings of `tenant` (found in its tenant scope)?
pub fn update_tenant(actor: &Actor, tenant: &TenantFacts) -> Result<(), Denied> {
    let allowed = match actor.role {
        Role::Developer => true,
        Role::SuperAdmin => tenant.owner_id == Some(actor.user_id),
        Role::Admin => actor.tenant_id == Some(tenant.id),
        Role::Manager | Role::Staff => {
            actor.tenant_id == Some(tenant.id) && actor.can(Permission::ManageTenantSettings)
        }
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

/// May `actor` delete (archive) `tenant` (found in its tenant scope)?
pub fn delete_tenant(actor: &Actor, tenant: &TenantFacts) -> Result<(), Denied> {
    let allowed = match actor.role {
        Role::Developer => true,
        Role::SuperAdmin => tenant.owner_id == Some(actor.user_id),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
