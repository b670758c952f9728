//! Access to the ISP's records: network (routers, zones, pools), packages and customers.
//!
//! Network records belong to the tenant: everyone in it may read them (an operator picks a
//! router for its customer), those who run the tenant change them. Packages and customers
//! belong to an owner: the tenant (master packages, customers kept by the Admin), an
//! operator, or a sub-operator; resellers see their own and their sub-operators'.

use super::scope::subtree;
use super::{Actor, Denied, Permission, Role, Scope, TenantFacts, UserScope, user_scope};
use crate::ids::{TenantId, UserId};

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
    /// Which routers, zones and pools a caller sees: those of the tenants it sees.
    NetworkScope
);
scope_type!(
    /// Which packages a caller sees.
    PackageScope
);
scope_type!(
    /// Which customers a caller sees ("accessible customers": every customer query goes
    /// through one).
    CustomerScope
);

/// The routers, zones and pools `actor` sees.
pub fn network_scope(actor: &Actor) -> NetworkScope {
    NetworkScope(super::tenant_scope(actor).get())
}

/// May `actor` change the routers, zones and pools of `tenant` (found in its scope)?
pub fn manage_network(actor: &Actor, tenant: &TenantFacts) -> Result<(), Denied> {
    let allowed = match actor.role {
        Role::Developer => true,
        Role::SuperAdmin => tenant.owner_id == Some(actor.user_id),
        Role::Admin => actor.tenant_id == Some(tenant.id),
        Role::Manager | Role::Staff => {
            actor.tenant_id == Some(tenant.id) && actor.can(Permission::ManageNetwork)
        }
        _ => false,
    };
    if allowed && tenant.active {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

/// May `actor` define the custom fields of `tenant`'s customers (found in its scope)? A
/// tenant setting: its Admin, and Managers or Staff granted `manage_tenant_settings`.
/// Everyone in the tenant reads the definitions (they shape the customer forms).
pub fn manage_custom_fields(actor: &Actor, tenant: &TenantFacts) -> Result<(), Denied> {
    let allowed = match actor.role {
        Role::Developer => true,
        Role::SuperAdmin => tenant.owner_id == Some(actor.user_id),
        Role::Admin => actor.tenant_id == Some(tenant.id),
        Role::Manager | Role::Staff => {
            actor.tenant_id == Some(tenant.id) && actor.can(Permission::ManageTenantSettings)
        }
        _ => false,
    };
    if allowed && tenant.active {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

/// May `actor` read the traffic of `tenant`'s routers and of the whole tenant (the
/// dashboard's aggregate graphs)? Those who run or staff the tenant: a reseller sees its own
/// customers' graphs, not the ISP's.
pub fn view_network_traffic(actor: &Actor, tenant: &TenantFacts) -> Result<(), Denied> {
    let allowed = match actor.role {
        Role::Developer => true,
        Role::SuperAdmin => tenant.owner_id == Some(actor.user_id),
        Role::Admin | Role::Manager | Role::Staff => actor.tenant_id == Some(tenant.id),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

/// Who runs the whole tenant (sees every package and customer of it).
fn tenant_wide(actor: &Actor, permission: Permission) -> Option<Scope> {
    match (actor.role, actor.tenant_id) {
        (Role::Developer, _) => Some(Scope::All),
        (Role::SuperAdmin, _) => Some(Scope::OwnedTenants(actor.user_id)),
        (Role::Admin, Some(t)) => Some(Scope::Tenant(t)),
        (Role::Manager | Role::Staff | Role::Accountant | Role::SalesManager, Some(t))
            if actor.can(permission) =>
        {
            Some(Scope::Tenant(t))
        }
        _ => None,
    }
}

/// The packages `actor` sees: the whole tenant's for those who run it, a reseller's own and
/// its sub-operators'.
pub fn package_scope(actor: &Actor) -> PackageScope {
    PackageScope(tenant_wide(actor, Permission::ManagePackages).unwrap_or(
        match (actor.role, actor.tenant_id) {
            (Role::Operator | Role::SubOperator, Some(tenant)) => subtree(actor, tenant),
            _ => Scope::Only(actor.user_id),
        },
    ))
}

/// The customers `actor` sees: the whole tenant's for those who run it (Managers and the
/// other staff roles with `view_customers`), a reseller's own and its sub-operators'.
pub fn customer_scope(actor: &Actor) -> CustomerScope {
    let wide = tenant_wide(actor, Permission::ViewCustomers)
        .or_else(|| tenant_wide(actor, Permission::ManageCustomers));
    CustomerScope(wide.unwrap_or(match (actor.role, actor.tenant_id) {
        (Role::Operator | Role::SubOperator, Some(tenant)) => subtree(actor, tenant),
        _ => Scope::Only(actor.user_id),
    }))
}

/// May `actor` export the shaping files for LibreQoS (`ShapedDevices.csv`, `network.json`),
/// and of which customers? Those who run the tenant (Admin, and above it the Developer and
/// the owning Super Admin) and resellers, for the customers they see; a Manager or Staff
/// user granted both `manage_network` (the files configure a network device) and sight of
/// the customers (`view_customers` or `manage_customers`). Others are refused: the files
/// hold every subscriber's address and speed.
pub fn export_shaping(actor: &Actor) -> Result<CustomerScope, Denied> {
    let allowed = match actor.role {
        Role::Developer | Role::SuperAdmin | Role::Admin | Role::Operator | Role::SubOperator => {
            true
        }
        Role::Manager | Role::Staff => {
            actor.can(Permission::ManageNetwork)
                && (actor.can(Permission::ViewCustomers) || actor.can(Permission::ManageCustomers))
        }
        _ => false,
    };
    if allowed {
        Ok(customer_scope(actor))
    } else {
        Err(Denied::Forbidden)
    }
}

/// The customers of `tenant`, for lastmile's own work on a customer it found by id with no
/// user behind it (the usage watcher ending or slowing its sessions).
pub fn system_customer_scope(tenant: TenantId) -> CustomerScope {
    CustomerScope(Scope::Tenant(tenant))
}

/// The resellers `actor` may name as the owner of a customer: those whose customers it sees.
/// Whoever sees the tenant's customers (a Manager granted `manage_customers`, an Accountant)
/// names any reseller of it without being granted `view_users`; a reseller names itself and
/// its sub-operators. Whether it may act for that owner is [`manage_customers_of`]'s answer.
pub fn customer_owner_scope(actor: &Actor) -> UserScope {
    super::scope::owners_of(user_scope(actor), customer_scope(actor).get())
}

/// The resellers `actor` may name as the owner of a derived package: every reseller of the
/// tenant for those who see its packages, else the users it sees. Whether it may offer them
/// one is [`assign_packages_to`]'s answer.
pub fn package_owner_scope(actor: &Actor) -> UserScope {
    super::scope::owners_of(user_scope(actor), package_scope(actor).get())
}

/// May `actor` create and change master packages in `tenant`?
pub fn manage_master_packages(actor: &Actor, tenant: &TenantFacts) -> Result<(), Denied> {
    let allowed = match actor.role {
        Role::Developer => true,
        Role::SuperAdmin => tenant.owner_id == Some(actor.user_id),
        Role::Admin => actor.tenant_id == Some(tenant.id),
        Role::Manager | Role::Staff => {
            actor.tenant_id == Some(tenant.id) && actor.can(Permission::ManagePackages)
        }
        _ => false,
    };
    if allowed && tenant.active {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

/// Who owns a package or a customer: the tenant itself, an operator, or a sub-operator under
/// an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The tenant (its Admin and staff).
    Tenant(TenantId),
    /// An operator.
    Operator {
        /// The tenant.
        tenant: TenantId,
        /// The operator.
        operator: UserId,
    },
    /// A sub-operator.
    SubOperator {
        /// The tenant.
        tenant: TenantId,
        /// The operator above it, if it has one.
        operator: Option<UserId>,
        /// The sub-operator.
        sub_operator: UserId,
    },
}

impl Owner {
    /// The tenant.
    pub fn tenant(self) -> TenantId {
        match self {
            Owner::Tenant(t)
            | Owner::Operator { tenant: t, .. }
            | Owner::SubOperator { tenant: t, .. } => t,
        }
    }

    /// The owning user, if a reseller owns it.
    pub fn user(self) -> Option<UserId> {
        match self {
            Owner::Tenant(_) => None,
            Owner::Operator { operator, .. } => Some(operator),
            Owner::SubOperator { sub_operator, .. } => Some(sub_operator),
        }
    }

    /// The operator column of a customer (the operator above a sub-operator).
    pub fn operator(self) -> Option<UserId> {
        match self {
            Owner::Tenant(_) => None,
            Owner::Operator { operator, .. } => Some(operator),
            Owner::SubOperator { operator, .. } => operator,
        }
    }

    /// The sub-operator column of a customer.
    pub fn sub_operator(self) -> Option<UserId> {
        match self {
            Owner::SubOperator { sub_operator, .. } => Some(sub_operator),
            _ => None,
        }
    }
}

/// May `actor` create or change customers (and their packages' assignment) owned by `owner`?
/// Resellers act for themselves (an operator also for its sub-operators); those who run the
/// tenant act for anyone in it, Managers and Staff with `manage_customers`.
pub fn manage_customers_of(actor: &Actor, owner: Owner) -> Result<(), Denied> {
    let own_tenant = actor.tenant_id == Some(owner.tenant());
    let allowed = match actor.role {
        Role::Developer | Role::SuperAdmin => actor.can(Permission::ManageCustomers),
        Role::Admin => own_tenant,
        Role::Manager | Role::Staff => own_tenant && actor.can(Permission::ManageCustomers),
        Role::Operator => own_tenant && owner.operator() == Some(actor.user_id),
        Role::SubOperator => own_tenant && owner.sub_operator() == Some(actor.user_id),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

/// May `actor` offer packages to `owner` (an operator gets operator packages from the
/// tenant; a sub-operator gets sub-operator packages from its operator)?
pub fn assign_packages_to(actor: &Actor, owner: Owner) -> Result<(), Denied> {
    let own_tenant = actor.tenant_id == Some(owner.tenant());
    let allowed = match (actor.role, owner) {
        (_, Owner::Tenant(_)) => false,
        (Role::Developer | Role::SuperAdmin, _) => true,
        (Role::Admin, _) => own_tenant,
        (Role::Manager | Role::Staff, _) => own_tenant && actor.can(Permission::ManagePackages),
        (Role::Operator, Owner::SubOperator { operator, .. }) => {
            own_tenant && operator == Some(actor.user_id)
        }
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{PermissionSet, Reseller};

    const T: TenantId = TenantId(1);

    fn actor(id: i64, role: Role, granted: &[Permission]) -> Actor {
        let tenant = if role.is_platform() { None } else { Some(T) };
        Actor::new(
            UserId(id),
            role,
            tenant,
            granted.iter().copied().collect::<PermissionSet>(),
        )
    }

    #[test]
    fn resellers_manage_their_own_customers_and_operators_their_sub_operators() {
        let op = actor(5, Role::Operator, &[]);
        let mine = Owner::Operator {
            tenant: T,
            operator: UserId(5),
        };
        let my_sub = Owner::SubOperator {
            tenant: T,
            operator: Some(UserId(5)),
            sub_operator: UserId(6),
        };
        let other = Owner::Operator {
            tenant: T,
            operator: UserId(7),
        };
        assert!(manage_customers_of(&op, mine).is_ok());
        assert!(manage_customers_of(&op, my_sub).is_ok());
        assert!(manage_customers_of(&op, other).is_err());
        assert!(manage_customers_of(&op, Owner::Tenant(T)).is_err());
        let sub = actor(6, Role::SubOperator, &[]);
        assert!(manage_customers_of(&sub, my_sub).is_ok());
        assert!(manage_customers_of(&sub, mine).is_err());
        assert!(manage_customers_of(&actor(9, Role::Accountant, &[]), mine).is_err());
        assert!(
            manage_customers_of(
                &actor(8, Role::Manager, &[Permission::ManageCustomers]),
                other
            )
            .is_ok()
        );
        assert!(manage_customers_of(&actor(8, Role::Manager, &[]), other).is_err());
    }

    #[test]
    fn customer_and_package_scopes_follow_the_role() {
        assert_eq!(
            customer_scope(&actor(1, Role::Admin, &[])).get(),
            Scope::Tenant(T)
        );
        assert_eq!(
            customer_scope(&actor(5, Role::Operator, &[])).get(),
            Scope::Subtree {
                tenant: T,
                root: UserId(5),
                reseller: Reseller::Operator,
            }
        );
        assert_eq!(
            customer_scope(&actor(9, Role::Accountant, &[])).get(),
            Scope::Tenant(T),
            "accountants see customers"
        );
        assert_eq!(
            customer_scope(&actor(10, Role::CardDistributor, &[])).get(),
            Scope::Only(UserId(10))
        );
        assert_eq!(
            customer_scope(&actor(8, Role::Staff, &[])).get(),
            Scope::Only(UserId(8))
        );
        assert_eq!(
            package_scope(&actor(8, Role::Manager, &[Permission::ManagePackages])).get(),
            Scope::Tenant(T)
        );
        assert_eq!(
            package_scope(&actor(6, Role::SubOperator, &[])).get(),
            Scope::Subtree {
                tenant: T,
                root: UserId(6),
                reseller: Reseller::SubOperator,
            }
        );
    }

    #[test]
    fn who_sees_the_tenants_customers_or_packages_names_any_of_its_resellers_as_owner() {
        let manager = actor(8, Role::Manager, &[Permission::ManageCustomers]);
        assert_eq!(customer_owner_scope(&manager).get(), Scope::Tenant(T));
        assert_eq!(package_owner_scope(&manager).get(), Scope::Only(UserId(8)));
        let packager = actor(8, Role::Manager, &[Permission::ManagePackages]);
        assert_eq!(package_owner_scope(&packager).get(), Scope::Tenant(T));
        assert_eq!(
            customer_owner_scope(&actor(9, Role::Accountant, &[])).get(),
            Scope::Tenant(T)
        );
        let op = Scope::Subtree {
            tenant: T,
            root: UserId(5),
            reseller: Reseller::Operator,
        };
        assert_eq!(
            customer_owner_scope(&actor(5, Role::Operator, &[])).get(),
            op
        );
        assert_eq!(
            package_owner_scope(&actor(5, Role::Operator, &[])).get(),
            op
        );
        assert_eq!(
            customer_owner_scope(&actor(10, Role::CardDistributor, &[])).get(),
            Scope::Only(UserId(10))
        );
        assert_eq!(
            customer_owner_scope(&actor(2, Role::SuperAdmin, &[])).get(),
            Scope::OwnedTenants(UserId(2))
        );
    }

    #[test]
    fn only_those_who_run_the_tenant_change_its_network_and_master_packages() {
        let tenant = TenantFacts {
            id: T,
            owner_id: Some(UserId(2)),
            active: true,
        };
        assert!(manage_network(&actor(1, Role::Admin, &[]), &tenant).is_ok());
        assert!(manage_network(&actor(2, Role::SuperAdmin, &[]), &tenant).is_ok());
        assert!(manage_network(&actor(3, Role::SuperAdmin, &[]), &tenant).is_err());
        assert!(manage_network(&actor(5, Role::Operator, &[]), &tenant).is_err());
        assert!(
            manage_network(
                &actor(8, Role::Manager, &[Permission::ManageNetwork]),
                &tenant
            )
            .is_ok()
        );
        assert!(manage_master_packages(&actor(5, Role::Operator, &[]), &tenant).is_err());
        let op = Owner::Operator {
            tenant: T,
            operator: UserId(5),
        };
        let sub = Owner::SubOperator {
            tenant: T,
            operator: Some(UserId(5)),
            sub_operator: UserId(6),
        };
        assert!(assign_packages_to(&actor(1, Role::Admin, &[]), op).is_ok());
        assert!(assign_packages_to(&actor(5, Role::Operator, &[]), sub).is_ok());
        assert!(assign_packages_to(&actor(5, Role::Operator, &[]), op).is_err());
        assert!(assign_packages_to(&actor(7, Role::Operator, &[]), sub).is_err());
    }
}
