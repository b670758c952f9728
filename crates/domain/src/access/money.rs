//! Who may move money (billing-design.md §1.5): who recharges a customer and from which
//! account, who reads a reseller's balance, who tops it up and who sets its terms. Money is
//! handled by the tenant's own people: the platform roles see books but collect nothing.

use super::{Actor, Denied, Owner, Permission, Role, UserFacts};
use crate::billing::Collector;
use crate::ids::UserId;

/// May `actor` recharge a customer owned by `owner`, and whose account collects the money?
/// A reseller collects for its own customers (an operator also for its sub-operators') from
/// its balance; the tenant's Admin, and Managers and Staff granted `receive_payments`,
/// collect for any customer of the tenant in cash.
pub fn recharge_customers_of(actor: &Actor, owner: Owner) -> Result<Collector, Denied> {
    let own_tenant = actor.tenant_id == Some(owner.tenant());
    match actor.role {
        Role::Admin if own_tenant => Ok(Collector::Cash(actor.user_id)),
        Role::Manager | Role::Staff if own_tenant && actor.can(Permission::ReceivePayments) => {
            Ok(Collector::Cash(actor.user_id))
        }
        Role::Operator if own_tenant && owner.operator() == Some(actor.user_id) => {
            Ok(Collector::Reseller(actor.user_id))
        }
        Role::SubOperator if own_tenant && owner.sub_operator() == Some(actor.user_id) => {
            Ok(Collector::Reseller(actor.user_id))
        }
        _ => Err(Denied::Forbidden),
    }
}

/// May `actor` give a customer time, free billing or another package by hand, without a
/// sale? The tenant's own people may (the owner's decision, audited); a reseller, which
/// pays upward for what it sells, sells time only by recharge (`crate::customer::sold`).
pub fn gives_time(actor: &Actor) -> bool {
    !actor.role.is_reseller()
}

/// True if `user` holds a balance: operators and sub-operators, and card distributors,
/// which pay their parent for cards (`crate::card_account`).
pub fn has_balance(user: &UserFacts) -> bool {
    matches!(
        user.role,
        Role::Operator | Role::SubOperator | Role::CardDistributor
    )
}

/// May `actor` read the balance and statement of reseller `user` (already found in the
/// actor's user scope)? Itself, its operator, and who reads the tenant's reports.
pub fn view_balance_of(actor: &Actor, user: &UserFacts) -> Result<(), Denied> {
    if !has_balance(user) {
        return Err(Denied::NotFound);
    }
    let own_tenant = actor.tenant_id.is_some() && actor.tenant_id == user.tenant_id;
    let allowed = user.id == actor.user_id
        || match actor.role {
            Role::Developer | Role::SuperAdmin => true,
            Role::Admin | Role::Accountant => own_tenant,
            Role::Manager | Role::Staff => own_tenant && actor.can(Permission::ViewReports),
            Role::Operator | Role::SubOperator => {
                own_tenant && user.parent_id == Some(actor.user_id)
            }
            _ => false,
        };
    if allowed {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

/// Where the funds of a top-up come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopupSource {
    /// The tenant received them (cash taken by this staff user).
    Cash(UserId),
    /// This reseller moves its own funds down (gated on its balance).
    Reseller(UserId),
}

/// May `actor` move funds to reseller `user`, and from where? The tenant's Admin (or a
/// Manager granted `receive_payments`) books funds the tenant received; an operator moves
/// its own funds to its sub-operators. No one tops up itself.
pub fn topup(actor: &Actor, user: &UserFacts) -> Result<TopupSource, Denied> {
    if !has_balance(user) {
        return Err(Denied::NotFound);
    }
    let own_tenant = actor.tenant_id.is_some() && actor.tenant_id == user.tenant_id;
    if user.id == actor.user_id || !user.active {
        return Err(Denied::Forbidden);
    }
    match actor.role {
        Role::Admin if own_tenant => Ok(TopupSource::Cash(actor.user_id)),
        Role::Manager if own_tenant && actor.can(Permission::ReceivePayments) => {
            Ok(TopupSource::Cash(actor.user_id))
        }
        Role::Operator | Role::SubOperator
            if own_tenant && user.parent_id == Some(actor.user_id) =>
        {
            Ok(TopupSource::Reseller(actor.user_id))
        }
        _ => Err(Denied::Forbidden),
    }
}

/// May `actor` issue credit notes on the invoices of tenant `tenant` (take money off what a
/// customer owes)? The tenant's Admin, and Managers granted `receive_payments`. A note takes
/// its share off every level of the invoice's chain (the resellers' margins pro rata, like
/// a payment's), so no reseller may decide it for the levels above.
pub fn credit_invoices(actor: &Actor, tenant: crate::ids::TenantId) -> Result<(), Denied> {
    let own_tenant = actor.tenant_id == Some(tenant);
    match actor.role {
        Role::Admin if own_tenant => Ok(()),
        Role::Manager if own_tenant && actor.can(Permission::ReceivePayments) => Ok(()),
        _ => Err(Denied::Forbidden),
    }
}

/// May `actor` correct the books of tenant `tenant` by reversing a journal (a mistaken
/// top-up booked back by its mirror image)? The tenant's Admin only: it moves resellers'
/// balances, which no one below the owner decides for others.
pub fn reverse_journals(actor: &Actor, tenant: crate::ids::TenantId) -> Result<(), Denied> {
    match actor.role {
        Role::Admin if actor.tenant_id == Some(tenant) => Ok(()),
        _ => Err(Denied::Forbidden),
    }
}

/// May `actor` set the own price of a customer owned by `owner` (what its invoices charge,
/// and so its seller's margin)? The seller itself: a reseller for its own direct customers
/// (an operator not for its sub-operators'); the tenant's Admin, and Managers granted
/// `receive_payments`, for any customer of the tenant.
pub fn set_customer_price(actor: &Actor, owner: Owner) -> Result<(), Denied> {
    let own_tenant = actor.tenant_id == Some(owner.tenant());
    match actor.role {
        Role::Admin if own_tenant => Ok(()),
        Role::Manager if own_tenant && actor.can(Permission::ReceivePayments) => Ok(()),
        Role::Operator
            if own_tenant
                && owner.operator() == Some(actor.user_id)
                && owner.sub_operator().is_none() =>
        {
            Ok(())
        }
        Role::SubOperator if own_tenant && owner.sub_operator() == Some(actor.user_id) => Ok(()),
        _ => Err(Denied::Forbidden),
    }
}

/// May `actor` set the account terms (prepaid or credit, the limit) of reseller `user`, and
/// who covers its credit? The tenant's Admin sets any reseller's, the tenant covering; an
/// operator sets its sub-operators', and covers what they owe below zero from its own
/// balance (`Some(operator)`).
pub fn set_account_terms(actor: &Actor, user: &UserFacts) -> Result<Option<UserId>, Denied> {
    if !has_balance(user) {
        return Err(Denied::NotFound);
    }
    let own_tenant = actor.tenant_id.is_some() && actor.tenant_id == user.tenant_id;
    match actor.role {
        Role::Admin if own_tenant => Ok(None),
        Role::Operator | Role::SubOperator
            if own_tenant && user.parent_id == Some(actor.user_id) =>
        {
            Ok(Some(actor.user_id))
        }
        _ => Err(Denied::Forbidden),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::PermissionSet;
    use crate::ids::TenantId;

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

    fn reseller(id: i64, role: Role, parent: Option<i64>) -> UserFacts {
        UserFacts {
            id: UserId(id),
            role,
            tenant_id: Some(T),
            parent_id: parent.map(UserId),
            active: true,
        }
    }

    #[test]
    fn only_the_seller_sets_a_customers_own_price_and_only_the_owner_credits() {
        let op = Owner::Operator {
            tenant: T,
            operator: UserId(10),
        };
        let sub = Owner::SubOperator {
            tenant: T,
            operator: Some(UserId(10)),
            sub_operator: UserId(20),
        };
        let operator = actor(10, Role::Operator, &[]);
        let sub_operator = actor(20, Role::SubOperator, &[]);
        assert_eq!(set_customer_price(&operator, op), Ok(()));
        assert_eq!(set_customer_price(&operator, sub), Err(Denied::Forbidden));
        assert_eq!(set_customer_price(&sub_operator, sub), Ok(()));
        assert_eq!(
            set_customer_price(&sub_operator, op),
            Err(Denied::Forbidden)
        );
        assert_eq!(set_customer_price(&actor(2, Role::Admin, &[]), sub), Ok(()));
        let cashier = actor(3, Role::Staff, &[Permission::ReceivePayments]);
        assert_eq!(set_customer_price(&cashier, op), Err(Denied::Forbidden));
        let manager = actor(4, Role::Manager, &[Permission::ReceivePayments]);
        assert_eq!(set_customer_price(&manager, op), Ok(()));
        assert!(set_customer_price(&actor(5, Role::Developer, &[]), op).is_err());

        assert_eq!(credit_invoices(&actor(2, Role::Admin, &[]), T), Ok(()));
        assert_eq!(credit_invoices(&manager, T), Ok(()));
        for denied in [
            operator,
            sub_operator,
            cashier,
            actor(4, Role::Manager, &[]),
        ] {
            assert_eq!(credit_invoices(&denied, T), Err(Denied::Forbidden));
        }
        assert!(credit_invoices(&actor(2, Role::Admin, &[]), TenantId(9)).is_err());
    }

    #[test]
    fn resellers_collect_from_their_balance_and_the_tenant_in_cash() {
        let op = Owner::Operator {
            tenant: T,
            operator: UserId(10),
        };
        let sub = Owner::SubOperator {
            tenant: T,
            operator: Some(UserId(10)),
            sub_operator: UserId(20),
        };
        assert_eq!(
            recharge_customers_of(&actor(10, Role::Operator, &[]), sub),
            Ok(Collector::Reseller(UserId(10)))
        );
        assert_eq!(
            recharge_customers_of(&actor(20, Role::SubOperator, &[]), sub),
            Ok(Collector::Reseller(UserId(20)))
        );
        assert_eq!(
            recharge_customers_of(&actor(20, Role::SubOperator, &[]), op),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            recharge_customers_of(&actor(2, Role::Admin, &[]), op),
            Ok(Collector::Cash(UserId(2)))
        );
        assert!(recharge_customers_of(&actor(3, Role::Staff, &[]), op).is_err());
        assert!(
            recharge_customers_of(&actor(3, Role::Staff, &[Permission::ReceivePayments]), op)
                .is_ok()
        );
        assert!(recharge_customers_of(&actor(1, Role::Developer, &[]), op).is_err());
        assert!(recharge_customers_of(&actor(4, Role::Accountant, &[]), op).is_err());
    }

    #[test]
    fn funds_move_down_and_terms_are_the_owners() {
        let op = reseller(10, Role::Operator, None);
        let sub = reseller(20, Role::SubOperator, Some(10));
        let admin = actor(2, Role::Admin, &[]);
        let operator = actor(10, Role::Operator, &[]);
        assert_eq!(topup(&admin, &op), Ok(TopupSource::Cash(UserId(2))));
        assert_eq!(
            topup(&operator, &sub),
            Ok(TopupSource::Reseller(UserId(10)))
        );
        assert_eq!(topup(&operator, &op), Err(Denied::Forbidden));
        assert_eq!(
            topup(&actor(20, Role::SubOperator, &[]), &op),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            topup(&admin, &reseller(5, Role::Staff, None)),
            Err(Denied::NotFound)
        );
        assert_eq!(set_account_terms(&admin, &sub), Ok(None));
        assert_eq!(set_account_terms(&operator, &sub), Ok(Some(UserId(10))));
        assert!(set_account_terms(&operator, &op).is_err());
        assert!(set_account_terms(&actor(20, Role::SubOperator, &[]), &sub).is_err());
        assert!(view_balance_of(&operator, &sub).is_ok());
        assert!(view_balance_of(&actor(20, Role::SubOperator, &[]), &sub).is_ok());
        assert!(view_balance_of(&actor(20, Role::SubOperator, &[]), &op).is_err());
        assert!(view_balance_of(&actor(4, Role::Accountant, &[]), &op).is_ok());
    }

    #[test]
    fn a_distributor_is_funded_and_given_terms_by_its_parent() {
        let sub = actor(20, Role::SubOperator, &[]);
        let of_sub = reseller(30, Role::CardDistributor, Some(20));
        let of_op = reseller(31, Role::CardDistributor, Some(10));
        assert_eq!(topup(&sub, &of_sub), Ok(TopupSource::Reseller(UserId(20))));
        assert_eq!(topup(&sub, &of_op), Err(Denied::Forbidden));
        assert_eq!(set_account_terms(&sub, &of_sub), Ok(Some(UserId(20))));
        assert_eq!(
            set_account_terms(&actor(2, Role::Admin, &[]), &of_op),
            Ok(None)
        );
        assert!(view_balance_of(&sub, &of_sub).is_ok());
        assert!(view_balance_of(&actor(30, Role::CardDistributor, &[]), &of_sub).is_ok());
        assert!(view_balance_of(&actor(31, Role::CardDistributor, &[]), &of_sub).is_err());
        // A distributor moves no funds and sets no terms.
        assert!(topup(&actor(30, Role::CardDistributor, &[]), &of_op).is_err());
    }
}
