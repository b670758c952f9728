use super::*;
use crate::access::{Reseller, Scope, audit_scope, tenant_scope, user_scope};

const T1: TenantId = TenantId(1);
const T2: TenantId = TenantId(2);

fn actor(id: i64, role: Role, tenant: Option<TenantId>, granted: &[Permission]) -> Actor {
    Actor::new(UserId(id), role, tenant, granted.iter().copied().collect())
}

fn facts(id: i64, role: Role, tenant: Option<TenantId>, parent: Option<i64>) -> UserFacts {
    UserFacts {
        id: UserId(id),
        role,
        tenant_id: tenant,
        parent_id: parent.map(UserId),
        active: true,
    }
}

fn tenant(id: TenantId, owner: Option<i64>) -> TenantFacts {
    TenantFacts {
        id,
        owner_id: owner.map(UserId),
        active: true,
    }
}

fn placement<'a>(
    role: Role,
    tenant: Option<&'a TenantFacts>,
    parent: Option<&'a UserFacts>,
) -> NewUserPlacement<'a> {
    NewUserPlacement {
        role,
        tenant,
        tenant_given: tenant.is_some(),
        parent,
        parent_given: parent.is_some(),
        permissions: PermissionSet::EMPTY,
    }
}

#[test]
fn the_creation_table_is_the_one_of_the_design() {
    use Role::*;
    let table: &[(Role, &[Role])] = &[
        (
            Developer,
            &[
                SuperAdmin,
                Admin,
                Operator,
                SubOperator,
                Manager,
                Accountant,
                SalesManager,
                Staff,
                CardDistributor,
                Customer,
            ],
        ),
        (
            SuperAdmin,
            &[
                Admin,
                Operator,
                SubOperator,
                Manager,
                Accountant,
                SalesManager,
                Staff,
                CardDistributor,
                Customer,
            ],
        ),
        (
            Admin,
            &[
                Operator,
                SubOperator,
                Manager,
                Accountant,
                SalesManager,
                Staff,
                CardDistributor,
                Customer,
            ],
        ),
        (Operator, &[SubOperator, CardDistributor, Customer]),
        (SubOperator, &[Customer]),
        (
            Manager,
            &[Accountant, SalesManager, Staff, CardDistributor, Customer],
        ),
        (Accountant, &[]),
        (SalesManager, &[]),
        (Staff, &[CardDistributor, Customer]),
        (CardDistributor, &[]),
        (Customer, &[]),
    ];
    for (creator, creatable) in table {
        for role in Role::ALL {
            assert_eq!(
                may_create_role(*creator, role),
                creatable.contains(&role),
                "{creator} creating {role}"
            );
        }
    }
}

#[test]
fn nobody_manages_its_own_level_or_above() {
    for a in Role::ALL {
        for b in Role::ALL {
            assert_eq!(can_manage(a, b), a.level() < b.level());
        }
    }
}

#[test]
fn an_admin_places_an_operator_in_its_own_tenant() {
    let admin = actor(1, Role::Admin, Some(T1), &[]);
    let placed = place_new_user(&admin, &placement(Role::Operator, None, None)).unwrap();
    assert_eq!(placed.tenant_id, Some(T1));
    assert_eq!(placed.parent_id, None);
}

#[test]
fn a_tenant_outside_the_scope_is_reported_as_not_found() {
    let admin = actor(1, Role::Admin, Some(T1), &[]);
    let mut new = placement(Role::Operator, None, None);
    new.tenant_given = true;
    let err = place_new_user(&admin, &new).unwrap_err();
    assert_eq!(
        err,
        PlacementError::Invalid(FieldErrors::one(FieldError::new("tenant_id", "not_found")))
    );
}

#[test]
fn the_developer_must_name_the_tenant_of_a_tenant_role() {
    let dev = actor(1, Role::Developer, None, &[]);
    let err = place_new_user(&dev, &placement(Role::Admin, None, None)).unwrap_err();
    assert_eq!(
        err,
        PlacementError::Invalid(FieldErrors::one(FieldError::new("tenant_id", "required")))
    );
    let t = tenant(T2, None);
    let ok = place_new_user(&dev, &placement(Role::Admin, Some(&t), None)).unwrap();
    assert_eq!(ok.tenant_id, Some(T2));
}

#[test]
fn platform_roles_take_no_tenant() {
    let dev = actor(1, Role::Developer, None, &[]);
    let t = tenant(T1, None);
    let err = place_new_user(&dev, &placement(Role::SuperAdmin, Some(&t), None)).unwrap_err();
    assert!(matches!(err, PlacementError::Invalid(_)));
    assert!(place_new_user(&dev, &placement(Role::SuperAdmin, None, None)).is_ok());
}

#[test]
fn a_sub_operator_needs_an_operator_of_the_same_tenant_as_parent() {
    let admin = actor(1, Role::Admin, Some(T1), &[]);
    let err = place_new_user(&admin, &placement(Role::SubOperator, None, None)).unwrap_err();
    assert_eq!(
        err,
        PlacementError::Invalid(FieldErrors::one(FieldError::new("parent_id", "required")))
    );

    let manager = facts(5, Role::Manager, Some(T1), None);
    let err =
        place_new_user(&admin, &placement(Role::SubOperator, None, Some(&manager))).unwrap_err();
    assert_eq!(
        err,
        PlacementError::Invalid(FieldErrors::one(FieldError::new(
            "parent_id",
            "wrong_parent_role"
        )))
    );

    let operator = facts(6, Role::Operator, Some(T1), None);
    let ok = place_new_user(&admin, &placement(Role::SubOperator, None, Some(&operator))).unwrap();
    assert_eq!(ok.parent_id, Some(UserId(6)));
}

#[test]
fn an_operator_creates_sub_operators_and_card_distributors_under_itself() {
    let op = actor(6, Role::Operator, Some(T1), &[]);
    let sub = place_new_user(&op, &placement(Role::SubOperator, None, None)).unwrap();
    assert_eq!((sub.tenant_id, sub.parent_id), (Some(T1), Some(UserId(6))));
    let card = place_new_user(&op, &placement(Role::CardDistributor, None, None)).unwrap();
    assert_eq!(card.parent_id, Some(UserId(6)));
    assert_eq!(
        place_new_user(&op, &placement(Role::Manager, None, None)),
        Err(PlacementError::Forbidden)
    );
}

#[test]
fn managers_create_below_their_level_only_with_manage_users() {
    let plain = actor(7, Role::Manager, Some(T1), &[]);
    assert_eq!(
        place_new_user(&plain, &placement(Role::Staff, None, None)),
        Err(PlacementError::Forbidden)
    );
    let granted = actor(
        7,
        Role::Manager,
        Some(T1),
        &[Permission::ManageUsers, Permission::SendSms],
    );
    assert!(place_new_user(&granted, &placement(Role::Staff, None, None)).is_ok());
    assert_eq!(
        place_new_user(&granted, &placement(Role::Manager, None, None)),
        Err(PlacementError::Forbidden)
    );
    assert_eq!(
        place_new_user(&granted, &placement(Role::Operator, None, None)),
        Err(PlacementError::Forbidden)
    );
}

#[test]
fn nobody_grants_a_permission_it_does_not_hold() {
    let manager = actor(
        7,
        Role::Manager,
        Some(T1),
        &[Permission::ManageUsers, Permission::SendSms],
    );
    let mut new = placement(Role::Staff, None, None);
    new.permissions = [Permission::SendSms].into_iter().collect();
    assert!(place_new_user(&manager, &new).is_ok());
    new.permissions = [Permission::ManagePackages].into_iter().collect();
    assert_eq!(
        place_new_user(&manager, &new),
        Err(PlacementError::Forbidden)
    );

    let admin = actor(1, Role::Admin, Some(T1), &[]);
    let mut operator = placement(Role::Operator, None, None);
    operator.permissions = [Permission::SendSms].into_iter().collect();
    assert!(matches!(
        place_new_user(&admin, &operator),
        Err(PlacementError::Invalid(_))
    ));
}

#[test]
fn nobody_changes_itself_or_its_peers_through_user_management() {
    let admin = actor(1, Role::Admin, Some(T1), &[]);
    assert_eq!(
        delete_user(&admin, &facts(1, Role::Admin, Some(T1), None)),
        Err(Denied::Forbidden)
    );
    assert_eq!(
        delete_user(&admin, &facts(2, Role::Admin, Some(T1), None)),
        Err(Denied::Forbidden)
    );
    assert_eq!(
        delete_user(&admin, &facts(3, Role::Operator, Some(T1), None)),
        Ok(())
    );
    let accountant = actor(4, Role::Accountant, Some(T1), &[]);
    assert_eq!(
        delete_user(&accountant, &facts(5, Role::Staff, Some(T1), None)),
        Err(Denied::Forbidden)
    );
}

#[test]
fn tenant_settings_belong_to_the_developer_the_owner_and_the_admin() {
    let t = tenant(T1, Some(10));
    assert!(update_tenant(&actor(0, Role::Developer, None, &[]), &t).is_ok());
    assert!(update_tenant(&actor(10, Role::SuperAdmin, None, &[]), &t).is_ok());
    assert!(update_tenant(&actor(11, Role::SuperAdmin, None, &[]), &t).is_err());
    assert!(update_tenant(&actor(1, Role::Admin, Some(T1), &[]), &t).is_ok());
    assert!(update_tenant(&actor(2, Role::Operator, Some(T1), &[]), &t).is_err());
    assert!(update_tenant(&actor(3, Role::Manager, Some(T1), &[]), &t).is_err());
    assert!(
        update_tenant(
            &actor(
                3,
                Role::Manager,
                Some(T1),
                &[Permission::ManageTenantSettings]
            ),
            &t
        )
        .is_ok()
    );
    assert!(delete_tenant(&actor(1, Role::Admin, Some(T1), &[]), &t).is_err());
    assert!(delete_tenant(&actor(10, Role::SuperAdmin, None, &[]), &t).is_ok());
    assert_eq!(
        create_tenant(&actor(10, Role::SuperAdmin, None, &[])),
        Ok(Some(UserId(10)))
    );
    assert_eq!(
        create_tenant(&actor(1, Role::Admin, Some(T1), &[])),
        Err(Denied::Forbidden)
    );
}

#[test]
fn scopes_follow_the_role_table() {
    let cases: &[(Actor, Scope, Scope)] = &[
        (actor(0, Role::Developer, None, &[]), Scope::All, Scope::All),
        (
            actor(10, Role::SuperAdmin, None, &[]),
            Scope::OwnedTenants(UserId(10)),
            Scope::OwnedTenants(UserId(10)),
        ),
        (
            actor(1, Role::Admin, Some(T1), &[]),
            Scope::Tenant(T1),
            Scope::Tenant(T1),
        ),
        (
            actor(6, Role::Operator, Some(T1), &[]),
            Scope::Subtree {
                tenant: T1,
                root: UserId(6),
                reseller: Reseller::Operator,
            },
            Scope::Subtree {
                tenant: T1,
                root: UserId(6),
                reseller: Reseller::Operator,
            },
        ),
        (
            actor(7, Role::Manager, Some(T1), &[]),
            Scope::Only(UserId(7)),
            Scope::Only(UserId(7)),
        ),
        (
            actor(
                7,
                Role::Manager,
                Some(T1),
                &[Permission::ViewUsers, Permission::ViewAudit],
            ),
            Scope::Tenant(T1),
            Scope::Tenant(T1),
        ),
        (
            actor(8, Role::Accountant, Some(T1), &[]),
            Scope::Only(UserId(8)),
            Scope::Only(UserId(8)),
        ),
        (
            actor(9, Role::CardDistributor, Some(T1), &[]),
            Scope::Only(UserId(9)),
            Scope::Only(UserId(9)),
        ),
    ];
    for (a, users, audit) in cases {
        assert_eq!(user_scope(a).get(), *users, "{:?}", a.role);
        assert_eq!(audit_scope(a).get(), *audit, "{:?}", a.role);
    }
    assert_eq!(
        tenant_scope(&actor(9, Role::CardDistributor, Some(T2), &[])).get(),
        Scope::Tenant(T2)
    );
}

#[test]
fn children_of_a_deleted_operator_need_a_fitting_new_parent() {
    use Role::*;
    let other_operator = facts(20, Operator, Some(T1), None);
    let sub = facts(21, SubOperator, Some(T1), Some(20));
    assert!(
        check_reassignment(
            &[SubOperator, CardDistributor],
            Some(&other_operator),
            Some(T1)
        )
        .is_ok()
    );
    assert!(check_reassignment(&[SubOperator], Some(&sub), Some(T1)).is_err());
    assert!(check_reassignment(&[CardDistributor], Some(&sub), Some(T1)).is_ok());
    assert!(check_reassignment(&[SubOperator], None, Some(T1)).is_err());
    assert!(check_reassignment(&[CardDistributor], None, Some(T1)).is_ok());
    assert!(check_reassignment(&[CardDistributor], Some(&other_operator), Some(T2)).is_err());
}
