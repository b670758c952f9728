//! Scopes as conditions: the one place that turns a caller's scope (decided in
//! `domain::access`) into the `WHERE` of a query, per table. Area modules AND these into
//! every query for tenant data; they take the scope types, which only `domain::access`
//! makes, so a query cannot be written without the caller's scope.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition};

use crate::entity::{audit_log, staff_user, tenant};
use domain::access::{
    AuditScope, CustomerScope, JobScope, NetworkScope, PackageScope, Reseller, Scope, TenantScope,
    UserScope,
};
use domain::ids::{TenantId, UserId};

/// The tenants a scope sees.
pub fn tenants(scope: &TenantScope) -> Condition {
    use tenant::Column;
    match scope.get() {
        Scope::All => Condition::all(),
        Scope::OwnedTenants(owner) => Condition::all().add(Column::OwnerId.eq(owner.0)),
        Scope::Tenant(id) | Scope::Subtree { tenant: id, .. } => {
            Condition::all().add(Column::Id.eq(id.0))
        }
        Scope::Only(_) => nothing(),
    }
}

/// The staff users a scope sees.
pub fn users(scope: &UserScope) -> Condition {
    use staff_user::Column;
    match scope.get() {
        Scope::All => Condition::all(),
        Scope::OwnedTenants(owner) => Condition::any()
            .add(Column::Id.eq(owner.0))
            .add(Column::TenantId.in_subquery(owned_tenants(owner))),
        Scope::Tenant(id) => Condition::all().add(Column::TenantId.eq(id.0)),
        Scope::Subtree { tenant, root, .. } => Condition::all()
            .add(Column::TenantId.eq(tenant.0))
            .add(subtree(root)),
        Scope::Only(id) => Condition::all().add(Column::Id.eq(id.0)),
    }
}

/// The audit entries a scope reads.
pub fn audit(scope: &AuditScope) -> Condition {
    use audit_log::Column;
    match scope.get() {
        Scope::All => Condition::all(),
        Scope::OwnedTenants(owner) => Condition::any()
            .add(Column::ActorId.eq(owner.0))
            .add(Column::TenantId.in_subquery(owned_tenants(owner))),
        Scope::Tenant(id) => Condition::all().add(Column::TenantId.eq(id.0)),
        Scope::Subtree { tenant, root, .. } => Condition::all()
            .add(Column::TenantId.eq(tenant.0))
            .add(Column::ActorId.in_subquery(subtree_ids(tenant, root))),
        Scope::Only(id) => Condition::all().add(Column::ActorId.eq(id.0)),
    }
}

/// The jobs a scope sees: by tenant, by who asked for them (a reseller's subtree, or one
/// user); jobs of no tenant (the platform's own) only for the whole platform.
pub fn jobs(scope: &JobScope) -> Condition {
    use crate::entity::job::Column;
    match scope.get() {
        Scope::All => Condition::all(),
        Scope::OwnedTenants(owner) => {
            Condition::all().add(Column::TenantId.in_subquery(owned_tenants(owner)))
        }
        Scope::Tenant(id) => Condition::all().add(Column::TenantId.eq(id.0)),
        Scope::Subtree { tenant, root, .. } => Condition::all()
            .add(Column::TenantId.eq(tenant.0))
            .add(Column::CreatedBy.in_subquery(subtree_ids(tenant, root))),
        Scope::Only(id) => Condition::all().add(Column::CreatedBy.eq(id.0)),
    }
}

/// Rows of a table with a `tenant_id` column that a tenant-level scope sees: routers, zones,
/// pools (a reseller's subtree sees its whole tenant's network).
pub fn tenant_rows(scope: Scope, tenant: impl ColumnTrait) -> Condition {
    match scope {
        Scope::All => Condition::all(),
        Scope::OwnedTenants(owner) => {
            Condition::all().add(tenant.in_subquery(owned_tenants(owner)))
        }
        Scope::Tenant(id) | Scope::Subtree { tenant: id, .. } => {
            Condition::all().add(tenant.eq(id.0))
        }
        Scope::Only(_) => nothing(),
    }
}

/// The routers, zones and pools a scope sees.
pub fn network(scope: &NetworkScope, tenant: impl ColumnTrait) -> Condition {
    tenant_rows(scope.get(), tenant)
}

/// The packages a scope sees: a reseller's own and its sub-operators'.
pub fn packages(scope: &PackageScope) -> Condition {
    use crate::entity::package::Column;
    match scope.get() {
        Scope::Subtree { tenant, root, .. } => {
            Condition::all().add(Column::TenantId.eq(tenant.0)).add(
                Condition::any()
                    .add(Column::OwnerId.eq(root.0))
                    .add(Column::OwnerId.in_subquery(children_of(root))),
            )
        }
        other => tenant_rows(other, Column::TenantId),
    }
}

/// The customers a scope sees: a reseller's own (an operator's include its sub-operators').
pub fn customers(scope: &CustomerScope) -> Condition {
    use crate::entity::customer::Column;
    match scope.get() {
        // One column holds the subtree (`owner::follow_operator` keeps an operator named on
        // its sub-operators' customers), so that column's index serves it; the `OR` of both
        // would have PostgreSQL visit every row of both bitmaps.
        Scope::Subtree {
            tenant,
            root,
            reseller,
        } => Condition::all()
            .add(Column::TenantId.eq(tenant.0))
            .add(subtree_column(reseller).eq(root.0)),
        other => tenant_rows(other, Column::TenantId),
    }
}

/// The one customer column that holds a reseller's subtree: `operator_id` for an operator
/// (whose sub-operators' customers carry it too), `sub_operator_id` for a sub-operator.
pub fn subtree_column(reseller: Reseller) -> crate::entity::customer::Column {
    use crate::entity::customer::Column;
    match reseller {
        Reseller::Operator => Column::OperatorId,
        Reseller::SubOperator => Column::SubOperatorId,
    }
}

fn children_of(root: UserId) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(staff_user::Column::Id)
        .from(staff_user::Entity)
        .and_where(Expr::col(staff_user::Column::ParentId).eq(root.0))
        .to_owned()
}

/// A condition no row meets.
fn nothing() -> Condition {
    Condition::all().add(Expr::val(1).eq(0))
}

fn owned_tenants(owner: UserId) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(tenant::Column::Id)
        .from(tenant::Entity)
        .and_where(Expr::col(tenant::Column::OwnerId).eq(owner.0))
        .to_owned()
}

/// The root, its children, and its children's children.
fn subtree(root: UserId) -> Condition {
    use staff_user::Column;
    let children = Query::select()
        .column(Column::Id)
        .from(staff_user::Entity)
        .and_where(Expr::col(Column::ParentId).eq(root.0))
        .to_owned();
    Condition::any()
        .add(Column::Id.eq(root.0))
        .add(Column::ParentId.eq(root.0))
        .add(Column::ParentId.in_subquery(children))
}

fn subtree_ids(tenant: TenantId, root: UserId) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(staff_user::Column::Id)
        .from(staff_user::Entity)
        .and_where(Expr::col(staff_user::Column::TenantId).eq(tenant.0))
        .cond_where(subtree(root))
        .to_owned()
}
