//! Who reaches which recharge cards (hotspot-design §3.3, "Ownership"): the tenant's own
//! people with the card permission run its stock (make batches, hand cards out, suspend,
//! void, export); an accountant reads it; a reseller or card distributor reaches the cards
//! it holds, and an operator also those it handed to its sub-operators and distributors.

use super::scope::Scope;
use super::{Actor, Permission, Role};
use crate::ids::{TenantId, UserId};

/// What of the cards an actor reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardReach {
    /// The stock of the tenants `Scope` names, every card in it; `manages` when the actor
    /// may change it.
    Stock {
        /// The tenants.
        tenants: Scope,
        /// May make batches and move cards.
        manages: bool,
    },
    /// The cards `holder` holds in `tenant`, and with `children` those its sub-operators
    /// and distributors hold.
    Held {
        /// The tenant.
        tenant: TenantId,
        /// The holder.
        holder: UserId,
        /// Its children's too (an operator).
        children: bool,
    },
}

/// What of the cards `actor` reaches, if anything.
pub fn card_reach(actor: &Actor) -> Option<CardReach> {
    let manages = actor.can(Permission::ManageCards);
    let stock = |tenants| Some(CardReach::Stock { tenants, manages });
    let held = |children| {
        actor.tenant_id.map(|tenant| CardReach::Held {
            tenant,
            holder: actor.user_id,
            children,
        })
    };
    match (actor.role, actor.tenant_id) {
        (Role::Developer, _) => stock(Scope::All),
        (Role::SuperAdmin, _) => stock(Scope::OwnedTenants(actor.user_id)),
        (Role::Admin, Some(t)) => stock(Scope::Tenant(t)),
        (Role::Manager | Role::Staff, Some(t)) if manages => stock(Scope::Tenant(t)),
        (Role::Accountant, Some(t)) if actor.can(Permission::ViewReports) => {
            stock(Scope::Tenant(t))
        }
        (Role::Operator, Some(_)) => held(true),
        (Role::SubOperator | Role::CardDistributor, Some(_)) => held(false),
        _ => None,
    }
}

/// May a card be handed to a user of `role`? Resellers and card distributors hold cards.
pub fn holds_cards(role: Role) -> bool {
    matches!(
        role,
        Role::Operator | Role::SubOperator | Role::CardDistributor
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::PermissionSet;

    fn actor(role: Role, granted: &[Permission]) -> Actor {
        Actor::new(
            UserId(7),
            role,
            Some(TenantId(3)),
            granted.iter().copied().collect::<PermissionSet>(),
        )
    }

    #[test]
    fn the_tenant_runs_its_stock_and_resellers_reach_what_they_hold() {
        let tenant = Scope::Tenant(TenantId(3));
        assert_eq!(
            card_reach(&actor(Role::Admin, &[])),
            Some(CardReach::Stock {
                tenants: tenant,
                manages: true
            })
        );
        assert_eq!(card_reach(&actor(Role::Manager, &[])), None);
        assert_eq!(
            card_reach(&actor(Role::Manager, &[Permission::ManageCards])),
            Some(CardReach::Stock {
                tenants: tenant,
                manages: true
            })
        );
        assert_eq!(
            card_reach(&actor(Role::Accountant, &[])),
            Some(CardReach::Stock {
                tenants: tenant,
                manages: false
            })
        );
        let held = |children| {
            Some(CardReach::Held {
                tenant: TenantId(3),
                holder: UserId(7),
                children,
            })
        };
        assert_eq!(card_reach(&actor(Role::Operator, &[])), held(true));
        assert_eq!(card_reach(&actor(Role::SubOperator, &[])), held(false));
        assert_eq!(card_reach(&actor(Role::CardDistributor, &[])), held(false));
        assert_eq!(card_reach(&actor(Role::SalesManager, &[])), None);
        assert_eq!(card_reach(&actor(Role::Customer, &[])), None);
        assert!(holds_cards(Role::CardDistributor) && !holds_cards(Role::Staff));
    }

    #[test]
    fn who_runs_the_stock_names_the_tenants_holders_without_view_users() {
        use crate::access::{card_holder_scope, user_scope};
        let t = TenantId(1);
        let manager = Actor::new(
            UserId(5),
            Role::Manager,
            Some(t),
            [Permission::ManageCards].into_iter().collect(),
        );
        assert_eq!(card_holder_scope(&manager).get(), Scope::Tenant(t));
        assert_eq!(user_scope(&manager).get(), Scope::Only(UserId(5)));
        let operator = Actor::new(UserId(7), Role::Operator, Some(t), PermissionSet::EMPTY);
        assert_eq!(card_holder_scope(&operator), user_scope(&operator));
    }
}
