//! Who may do what (design.md §3): the ordered [`Role`], the [`Permission`] set, the
//! [`Actor`] making a request, the scopes every store query for tenant data takes, and the
//! decisions on users and tenants.
//!
//! Visibility is a scope: the store ANDs it into every query, so what a caller may not see
//! is not found (404). Action rules take a target the store has already found in scope and
//! answer [`Denied::Forbidden`] (403) for what the caller sees but may not do. Deny by
//! default: every `match` below lists the roles that may, and the rest may not.
//!
//! Callers: `store` reads the scopes, `server` asks the decisions before every change.

mod capabilities;
mod cards;
mod isp;
mod money;
mod permission;
mod role;
mod rules;
mod scope;

pub use capabilities::{Capabilities, capabilities};
pub use cards::{CardReach, card_reach, holds_cards};
pub use isp::{
    CustomerScope, NetworkScope, Owner, PackageScope, assign_packages_to, customer_owner_scope,
    customer_scope, export_shaping, manage_custom_fields, manage_customers_of,
    manage_master_packages, manage_network, network_scope, package_owner_scope, package_scope,
    system_customer_scope, view_network_traffic,
};
pub use money::{
    TopupSource, credit_invoices, gives_time, has_balance, recharge_customers_of, reverse_journals,
    set_account_terms, set_customer_price, topup, view_balance_of,
};
pub use permission::{Permission, PermissionSet};
pub use role::Role;
pub use rules::{
    NewUserPlacement, Placement, PlacementError, can_manage, check_reassignment, create_tenant,
    delete_tenant, delete_user, may_create_role, parent_roles, place_new_user, reparent_user,
    update_tenant, update_user,
};
pub use scope::{
    AuditScope, JobScope, Reseller, Scope, TenantScope, UserScope, audit_scope, card_holder_scope,
    job_scope, tenant_scope, user_scope,
};

use crate::ids::{TenantId, UserId};

/// The signed-in staff user a request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user.
    pub user_id: UserId,
    /// Its role.
    pub role: Role,
    /// Its tenant; `None` exactly for Developer and Super Admin.
    pub tenant_id: Option<TenantId>,
    permissions: PermissionSet,
}

impl Actor {
    /// An actor with the permissions its role and its grants give it.
    pub fn new(
        user_id: UserId,
        role: Role,
        tenant_id: Option<TenantId>,
        granted: PermissionSet,
    ) -> Self {
        Self {
            user_id,
            role,
            tenant_id,
            permissions: PermissionSet::of_role(role, granted),
        }
    }

    /// True if the actor holds `permission`.
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.has(permission)
    }

    /// The actor's effective permissions.
    pub fn permissions(&self) -> PermissionSet {
        self.permissions
    }
}

/// Why an action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The caller may not see the target (HTTP 404): indistinguishable from absence.
    #[error("not found")]
    NotFound,
    /// The caller sees the target but may not do this (HTTP 403).
    #[error("forbidden")]
    Forbidden,
}

/// What the rules need to know about an existing staff user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFacts {
    /// The user.
    pub id: UserId,
    /// Its role.
    pub role: Role,
    /// Its tenant.
    pub tenant_id: Option<TenantId>,
    /// Its parent (an operator above a sub-operator or a card distributor).
    pub parent_id: Option<UserId>,
    /// False once disabled or archived.
    pub active: bool,
}

/// What the rules need to know about an existing tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantFacts {
    /// The tenant.
    pub id: TenantId,
    /// The Super Admin that created it, if one did.
    pub owner_id: Option<UserId>,
    /// False once archived.
    pub active: bool,
}
