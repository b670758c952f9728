//! The role table of design.md §3: an ordered enum whose order is the level, so "manages only
//! users of a higher level" is a comparison.

use serde::{Deserialize, Serialize};

/// A role. The derive order is the level order: `Developer < SuperAdmin < ... < Customer`,
/// and a lower level has more power.
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
pub enum Role {
    /// Level 0: the whole platform, every tenant.
    Developer,
    /// Level 10: the tenants it created.
    SuperAdmin,
    /// Level 20: its tenant (the ISP owner).
    Admin,
    /// Level 30: its own and its sub-operators' customers; a balance.
    Operator,
    /// Level 40: its own customers; a balance.
    SubOperator,
    /// Level 50: its tenant, through granted permissions.
    Manager,
    /// Level 60: its tenant's money.
    Accountant,
    /// Level 70: leads and sales in its tenant.
    SalesManager,
    /// Level 80: support tasks granted to it.
    Staff,
    /// Level 90: recharge cards assigned to it.
    CardDistributor,
    /// Level 100: itself, through the self-service portal. Not a staff user.
    Customer,
}

impl Role {
    /// Every role, in level order.
    pub const ALL: [Role; 11] = [
        Role::Developer,
        Role::SuperAdmin,
        Role::Admin,
        Role::Operator,
        Role::SubOperator,
        Role::Manager,
        Role::Accountant,
        Role::SalesManager,
        Role::Staff,
        Role::CardDistributor,
        Role::Customer,
    ];

    /// The staff roles, those a user account can have (levels 0 to 90).
    pub const STAFF: [Role; 10] = [
        Role::Developer,
        Role::SuperAdmin,
        Role::Admin,
        Role::Operator,
        Role::SubOperator,
        Role::Manager,
        Role::Accountant,
        Role::SalesManager,
        Role::Staff,
        Role::CardDistributor,
    ];

    /// The numeric level of design.md §3 (0, 10, ... 100).
    pub fn level(self) -> i16 {
        match self {
            Role::Developer => 0,
            Role::SuperAdmin => 10,
            Role::Admin => 20,
            Role::Operator => 30,
            Role::SubOperator => 40,
            Role::Manager => 50,
            Role::Accountant => 60,
            Role::SalesManager => 70,
            Role::Staff => 80,
            Role::CardDistributor => 90,
            Role::Customer => 100,
        }
    }

    /// The role of a level, if it is one.
    pub fn from_level(level: i16) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.level() == level)
    }

    /// The snake_case name used by the API (`sub_operator`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Developer => "developer",
            Role::SuperAdmin => "super_admin",
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::SubOperator => "sub_operator",
            Role::Manager => "manager",
            Role::Accountant => "accountant",
            Role::SalesManager => "sales_manager",
            Role::Staff => "staff",
            Role::CardDistributor => "card_distributor",
            Role::Customer => "customer",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// Developer and Super Admin work above tenants; every other staff role belongs to one.
    pub fn is_platform(self) -> bool {
        matches!(self, Role::Developer | Role::SuperAdmin)
    }

    /// Staff roles are user accounts; customers are not.
    pub fn is_staff(self) -> bool {
        self != Role::Customer
    }

    /// Roles whose reach is granted permission by permission.
    pub fn takes_permissions(self) -> bool {
        matches!(self, Role::Manager | Role::Staff)
    }

    /// Operators and sub-operators own customers and see their own subtree only.
    pub fn is_reseller(self) -> bool {
        matches!(self, Role::Operator | Role::SubOperator)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_order_by_level_and_round_trip_their_names_and_levels() {
        for pair in Role::ALL.windows(2) {
            assert!(pair[0] < pair[1]);
            assert!(pair[0].level() < pair[1].level());
        }
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(Role::from_level(role.level()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::from_level(15), None);
    }
}
