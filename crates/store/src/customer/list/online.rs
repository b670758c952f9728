//! Online or offline in the customer list: `customer_online`, kept by the database from
//! `radacct` (`m20261209_000016_sessions_usage`), looked up per customer a path reads, or
//! read by tenant when the customers online are few enough to drive the list.

use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
use sea_orm::{ColumnTrait, Condition};

use crate::entity::customer::Column;
use crate::entity::customer_online::{Column as Online, Entity as OnlineEntity};
use domain::ids::TenantId;

/// Online (`true`) or offline, looked up in `customer_online` for each customer the path
/// reads: written as a scalar subquery, which neither engine turns into a join (a join
/// could read every customer online to answer a page).
pub(super) fn probe(online: bool) -> Expr {
    let probe = "(SELECT 1 FROM \"customer_online\" \
                 WHERE \"customer_online\".\"customer_id\" = \"customer\".\"id\")";
    Expr::cust(if online {
        format!("{probe} IS NOT NULL")
    } else {
        format!("{probe} IS NULL")
    })
}

/// The customers online of `tenant` (or of every tenant): the range of
/// `customer_online_tenant_idx` the online driver reads.
pub(super) fn range(tenant: Option<TenantId>) -> Condition {
    let mut ids = Query::select()
        .column(Online::CustomerId)
        .from(OnlineEntity)
        .to_owned();
    if let Some(tenant) = tenant {
        ids.and_where(Expr::col(Online::TenantId).eq(tenant.0));
    }
    Condition::all().add(Column::Id.in_subquery(ids))
}
