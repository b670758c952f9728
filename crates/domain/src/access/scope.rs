//! Scopes: the part of the data a caller may see, computed from the [`Actor`] alone. Their
//! contents are private: only this module makes them, so a store query cannot be handed a
//! scope the caller does not have.

use super::{Actor, Permission, Role};
use crate::ids::{TenantId, UserId};

/// The shapes a visibility scope takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything on the platform.
    All,
    /// The tenants this Super Admin created (and, for users and audit, the Super Admin itself).
    OwnedTenants(UserId),
    /// One tenant.
    Tenant(TenantId),
    /// A reseller's subtree in its tenant: the root, its children and their children.
    Subtree {
        /// The tenant.
        tenant: TenantId,
        /// The operator or sub-operator at the top.
        root: UserId,
        /// Which of the two the root is.
        reseller: Reseller,
    },
    /// One user only (itself, or its own actions for the audit log).
    Only(UserId),
}

/// The level of the reseller at the top of a subtree. An operator's subtree holds every
/// customer whose operator it is (its sub-operators' customers name it too); a
/// sub-operator's, every customer whose sub-operator it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reseller {
    /// An operator.
    Operator,
    /// A sub-operator.
    SubOperator,
}

/// The subtree of `actor`, a reseller, in `tenant`.
pub(super) fn subtree(actor: &Actor, tenant: TenantId) -> Scope {
    Scope::Subtree {
        tenant,
        root: actor.user_id,
        reseller: match actor.role {
            Role::SubOperator => Reseller::SubOperator,
            _ => Reseller::Operator,
        },
    }
}

macro_rules! scope_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name(Scope);

        impl $name {
            /// The shape of this scope, for the store to turn into a condition.
            pub fn get(&self) -> Scope {
                self.0
            }
        }
    };
}

scope_type!(
    /// Which staff users a caller sees.
    UserScope
);
scope_type!(
    /// Which tenants a caller sees.
    TenantScope
);
scope_type!(
    /// Which audit entries a caller reads.
    AuditScope
);
scope_type!(
    /// Which background jobs a caller sees.
    JobScope
);

/// The users `actor` sees: everyone for the Developer, the owned tenants for a Super Admin,
/// the tenant for its Admin and for Managers and Staff granted `view_users` or
/// `manage_users`, the subtree for resellers, and itself for everyone else.
pub fn user_scope(actor: &Actor) -> UserScope {
    UserScope(match (actor.role, actor.tenant_id) {
        (Role::Developer, _) => Scope::All,
        (Role::SuperAdmin, _) => Scope::OwnedTenants(actor.user_id),
        (Role::Admin, Some(tenant)) => Scope::Tenant(tenant),
        (Role::Manager | Role::Staff, Some(tenant))
            if actor.can(Permission::ViewUsers) || actor.can(Permission::ManageUsers) =>
        {
            Scope::Tenant(tenant)
        }
        (Role::Operator | Role::SubOperator, Some(tenant)) => subtree(actor, tenant),
        _ => Scope::Only(actor.user_id),
    })
}

/// `users`, widened to the whole tenant when `records` (the shape of the caller's customer
/// or package scope) is the tenant: the users a caller may name as the owner of such
/// records. Who sees a tenant's customers sees their resellers too, granted `view_users` or
/// not.
pub(super) fn owners_of(users: UserScope, records: Scope) -> UserScope {
    match records {
        Scope::Tenant(tenant) => UserScope(Scope::Tenant(tenant)),
        _ => users,
    }
}

/// The users `actor` may hand cards to (or narrow a card list by): the whole tenant's for
/// who runs its stock (`super::card_reach`), `view_users` granted or not; its own users
/// otherwise (an operator's subtree).
pub fn card_holder_scope(actor: &Actor) -> UserScope {
    match (super::card_reach(actor), actor.tenant_id) {
        (Some(super::CardReach::Stock { manages: true, .. }), Some(tenant)) => {
            UserScope(Scope::Tenant(tenant))
        }
        _ => user_scope(actor),
    }
}

/// The tenants `actor` sees: all for the Developer, the owned ones for a Super Admin, its own
/// for everyone else.
pub fn tenant_scope(actor: &Actor) -> TenantScope {
    TenantScope(match (actor.role, actor.tenant_id) {
        (Role::Developer, _) => Scope::All,
        (Role::SuperAdmin, _) => Scope::OwnedTenants(actor.user_id),
        (_, Some(tenant)) => Scope::Tenant(tenant),
        // A tenant role without a tenant cannot be stored; see nothing rather than guess.
        (_, None) => Scope::Only(actor.user_id),
    })
}

/// The audit entries `actor` reads: by tenant for those who run it (Managers and Staff with
/// `view_audit`), by subtree for resellers, and its own actions for everyone else.
pub fn audit_scope(actor: &Actor) -> AuditScope {
    AuditScope(match (actor.role, actor.tenant_id) {
        (Role::Developer, _) => Scope::All,
        (Role::SuperAdmin, _) => Scope::OwnedTenants(actor.user_id),
        (Role::Admin, Some(tenant)) => Scope::Tenant(tenant),
        (Role::Manager | Role::Staff, Some(tenant)) if actor.can(Permission::ViewAudit) => {
            Scope::Tenant(tenant)
        }
        (Role::Operator | Role::SubOperator, Some(tenant)) => subtree(actor, tenant),
        _ => Scope::Only(actor.user_id),
    })
}

/// The jobs `actor` sees: all for the Developer (the platform's own housekeeping included),
/// the owned tenants' for a Super Admin, the tenant's for its Admin and for Managers and
/// Staff granted the work jobs do (`manage_customers`, `manage_network`) or `view_audit`,
/// the jobs of its subtree for a reseller, and the jobs it started for everyone else.
pub fn job_scope(actor: &Actor) -> JobScope {
    JobScope(match (actor.role, actor.tenant_id) {
        (Role::Developer, _) => Scope::All,
        (Role::SuperAdmin, _) => Scope::OwnedTenants(actor.user_id),
        (Role::Admin, Some(tenant)) => Scope::Tenant(tenant),
        (Role::Manager | Role::Staff, Some(tenant))
            if actor.can(Permission::ManageCustomers)
                || actor.can(Permission::ManageNetwork)
                || actor.can(Permission::ViewAudit) =>
        {
            Scope::Tenant(tenant)
        }
        (Role::Operator | Role::SubOperator, Some(tenant)) => subtree(actor, tenant),
        _ => Scope::Only(actor.user_id),
    })
}
