//! What a caller's panel shows: one flag per area, from the caller's role and permissions.
//! A flag only opens a door in the navigation; every page and operation still asks the
//! access rules for the record at hand, so a hidden area is never the only guard.

use super::{Actor, Permission, Role};

/// The areas a caller's panel offers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Tenants (the platform roles; everyone else sees its own).
    pub tenants: bool,
    /// Staff users.
    pub users: bool,
    /// The audit log (everyone reads at least its own actions).
    pub audit: bool,
    /// Customers.
    pub customers: bool,
    /// Importing customers from a file.
    pub import_customers: bool,
    /// Packages (resellers see those offered to them, to sell).
    pub packages: bool,
    /// Routers, zones and IP pools.
    pub network: bool,
    /// Background jobs (everyone sees at least the jobs it started).
    pub jobs: bool,
    /// Setting a customer's expiry or free billing by hand (`money::gives_time`).
    pub gives_time: bool,
    /// A tenant's messages: what they say, which are sent, the outbox (those who change
    /// the tenant's settings, as `rules::update_tenant` has it).
    pub sms: bool,
    /// Recharge cards and vouchers: the tenant's stock, or the cards one holds
    /// (`cards::card_reach`).
    pub cards: bool,
}

/// What `actor`'s panel offers.
pub fn capabilities(actor: &Actor) -> Capabilities {
    let manages_customers = actor.can(Permission::ManageCustomers);
    Capabilities {
        tenants: actor.role.is_platform() || actor.tenant_id.is_some(),
        users: actor.role <= Role::SubOperator
            || actor.can(Permission::ViewUsers)
            || actor.can(Permission::ManageUsers),
        audit: true,
        // Card distributors and others without customer permissions see no customers.
        customers: actor.can(Permission::ViewCustomers) || manages_customers,
        import_customers: manages_customers,
        packages: actor.can(Permission::ManagePackages) || actor.role.is_reseller(),
        network: actor.can(Permission::ManageNetwork),
        jobs: true,
        gives_time: super::money::gives_time(actor),
        sms: match actor.role {
            Role::Developer | Role::SuperAdmin | Role::Admin => true,
            Role::Manager | Role::Staff => actor.can(Permission::ManageTenantSettings),
            _ => false,
        },
        cards: super::card_reach(actor).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::PermissionSet;
    use crate::ids::{TenantId, UserId};

    fn actor(role: Role, permissions: &[Permission]) -> Actor {
        let tenant = (!role.is_platform()).then_some(TenantId(1));
        let granted: PermissionSet = permissions.iter().copied().collect();
        Actor::new(UserId(9), role, tenant, granted)
    }

    #[test]
    fn each_role_is_offered_the_areas_it_works_in() {
        let admin = capabilities(&Actor::new(
            UserId(1),
            Role::Admin,
            Some(TenantId(1)),
            PermissionSet::all(),
        ));
        assert!(admin.customers && admin.network && admin.packages && admin.users);
        let distributor = capabilities(&actor(Role::CardDistributor, &[]));
        assert!(!distributor.customers && !distributor.network && !distributor.users);
        assert!(distributor.audit && distributor.jobs);
        let staff = capabilities(&actor(Role::Staff, &[Permission::ViewCustomers]));
        assert!(staff.customers && !staff.import_customers && !staff.network);
        assert!(admin.sms && !distributor.sms && !staff.sms);
        assert!(!capabilities(&actor(Role::Operator, &[])).sms);
        let settings = capabilities(&actor(Role::Manager, &[Permission::ManageTenantSettings]));
        assert!(settings.sms);
    }

    #[test]
    fn cards_are_offered_to_whoever_reaches_them() {
        for role in [
            Role::Admin,
            Role::Accountant,
            Role::Operator,
            Role::SubOperator,
            Role::CardDistributor,
        ] {
            assert!(capabilities(&actor(role, &[])).cards, "{role:?}");
        }
        assert!(capabilities(&actor(Role::Developer, &[])).cards);
        assert!(!capabilities(&actor(Role::Manager, &[])).cards);
        assert!(capabilities(&actor(Role::Manager, &[Permission::ManageCards])).cards);
        assert!(!capabilities(&actor(Role::Staff, &[Permission::ViewCustomers])).cards);
        assert!(!capabilities(&actor(Role::SalesManager, &[])).cards);
    }
}
