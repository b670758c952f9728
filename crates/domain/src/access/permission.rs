//! Permissions: what a Manager or a Staff user is granted, one by one. Other roles hold a
//! fixed set that follows from their role ([`PermissionSet::of_role`]).

use serde::{Deserialize, Serialize};

/// One grantable permission. The snake_case names are stored and sent as they are; never
/// rename one.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// See the tenant's staff users.
    ViewUsers,
    /// Create, edit, disable and delete staff users below one's own level.
    ManageUsers,
    /// Read the tenant's audit log.
    ViewAudit,
    /// Edit the tenant's settings.
    ManageTenantSettings,
    /// See customers.
    ViewCustomers,
    /// Create and change customers.
    ManageCustomers,
    /// Create and change packages.
    ManagePackages,
    /// Create and change routers, pools and zones.
    ManageNetwork,
    /// Take payments and recharge customers.
    ReceivePayments,
    /// Read reports and ledgers.
    ViewReports,
    /// Generate and assign recharge cards.
    ManageCards,
    /// Send SMS.
    SendSms,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 12] = [
        Permission::ViewUsers,
        Permission::ManageUsers,
        Permission::ViewAudit,
        Permission::ManageTenantSettings,
        Permission::ViewCustomers,
        Permission::ManageCustomers,
        Permission::ManagePackages,
        Permission::ManageNetwork,
        Permission::ReceivePayments,
        Permission::ViewReports,
        Permission::ManageCards,
        Permission::SendSms,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ViewUsers => "view_users",
            Permission::ManageUsers => "manage_users",
            Permission::ViewAudit => "view_audit",
            Permission::ManageTenantSettings => "manage_tenant_settings",
            Permission::ViewCustomers => "view_customers",
            Permission::ManageCustomers => "manage_customers",
            Permission::ManagePackages => "manage_packages",
            Permission::ManageNetwork => "manage_network",
            Permission::ReceivePayments => "receive_payments",
            Permission::ViewReports => "view_reports",
            Permission::ManageCards => "manage_cards",
            Permission::SendSms => "send_sms",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(name: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == name)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of permissions (a bit set; small and `Copy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PermissionSet(u32);

impl PermissionSet {
    /// No permission.
    pub const EMPTY: PermissionSet = PermissionSet(0);

    /// Every permission.
    pub fn all() -> Self {
        Permission::ALL.into_iter().collect()
    }

    /// True if `permission` is in the set.
    pub fn has(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    /// True if every permission of `other` is in this set.
    pub fn contains_all(self, other: PermissionSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// The permissions, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |p| self.has(*p))
    }

    /// The permissions a user of `role` holds: everything for the roles that run a tenant,
    /// the granted set for Manager and Staff, and a fixed set for the rest.
    pub fn of_role(role: super::Role, granted: PermissionSet) -> PermissionSet {
        use super::Role;
        match role {
            Role::Developer | Role::SuperAdmin | Role::Admin => PermissionSet::all(),
            Role::Manager | Role::Staff => granted,
            Role::Operator => [
                Permission::ViewUsers,
                Permission::ManageUsers,
                Permission::ViewAudit,
                Permission::ViewCustomers,
                Permission::ManageCustomers,
                Permission::ManagePackages,
                Permission::ReceivePayments,
                Permission::ViewReports,
                Permission::ManageCards,
                Permission::SendSms,
            ]
            .into_iter()
            .collect(),
            Role::SubOperator => [
                Permission::ViewAudit,
                Permission::ViewCustomers,
                Permission::ManageCustomers,
                Permission::ReceivePayments,
                Permission::ViewReports,
                Permission::SendSms,
            ]
            .into_iter()
            .collect(),
            Role::Accountant => [Permission::ViewCustomers, Permission::ViewReports]
                .into_iter()
                .collect(),
            Role::SalesManager => [Permission::ViewCustomers].into_iter().collect(),
            Role::CardDistributor => [Permission::ManageCards].into_iter().collect(),
            Role::Customer => PermissionSet::EMPTY,
        }
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        PermissionSet(iter.into_iter().fold(0, |bits, p| bits | p.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_names_round_trip_and_sets_hold_what_was_put_in() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        let set: PermissionSet = [Permission::ViewUsers, Permission::SendSms]
            .into_iter()
            .collect();
        assert!(set.has(Permission::SendSms));
        assert!(!set.has(Permission::ManageUsers));
        assert_eq!(set.iter().count(), 2);
        assert!(PermissionSet::all().contains_all(set));
        assert!(!set.contains_all(PermissionSet::all()));
    }
}
