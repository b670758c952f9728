//! The FreeRADIUS projection, store side: writes a customer's `radcheck` and `radreply` rows
//! (in the write transaction of the change that caused them) from what `domain::aaa` says,
//! and reads them back for `lastmile radius verify`. A customer's items are all its own: the
//! projection keeps `radusergroup` free of its customers' names, so that no group (left by
//! an earlier system, or added by hand) can add attributes lastmile did not decide.

use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder,
};

use crate::entity::radius_item::{radcheck, radreply, radusergroup};
use crate::error::StoreResult;
use crate::write::Write;
use domain::aaa::{Item, Projection};
use domain::ids::TenantId;

/// Replaces the customer's rows with `projection` under `username`.
pub async fn write(
    w: &Write,
    tenant: TenantId,
    customer: i64,
    username: &str,
    projection: &Projection,
) -> StoreResult<()> {
    remove(w, customer).await?;
    radusergroup::Entity::delete_many()
        .filter(radusergroup::Column::Username.eq(username))
        .exec(w.tx())
        .await?;
    if !projection.check.is_empty() {
        let rows = projection.check.iter().map(|item| radcheck::ActiveModel {
            id: NotSet,
            username: Set(username.to_owned()),
            attribute: Set(item.attribute.to_owned()),
            op: Set(item.op.to_owned()),
            value: Set(item.value.clone()),
            tenant_id: Set(Some(tenant.0)),
            customer_id: Set(Some(customer)),
        });
        radcheck::Entity::insert_many(rows)
            .exec_without_returning(w.tx())
            .await?;
    }
    if !projection.reply.is_empty() {
        let rows = projection.reply.iter().map(|item| radreply::ActiveModel {
            id: NotSet,
            username: Set(username.to_owned()),
            attribute: Set(item.attribute.to_owned()),
            op: Set(item.op.to_owned()),
            value: Set(item.value.clone()),
            tenant_id: Set(Some(tenant.0)),
            customer_id: Set(Some(customer)),
        });
        radreply::Entity::insert_many(rows)
            .exec_without_returning(w.tx())
            .await?;
    }
    Ok(())
}

/// Removes the customer's rows (archived customers are unknown to FreeRADIUS).
pub async fn remove(w: &Write, customer: i64) -> StoreResult<()> {
    radcheck::Entity::delete_many()
        .filter(radcheck::Column::CustomerId.eq(customer))
        .exec(w.tx())
        .await?;
    radreply::Entity::delete_many()
        .filter(radreply::Column::CustomerId.eq(customer))
        .exec(w.tx())
        .await?;
    radusergroup::Entity::delete_many()
        .filter(radusergroup::Column::CustomerId.eq(customer))
        .exec(w.tx())
        .await?;
    Ok(())
}

/// The groups `radusergroup` puts the customer in (by its id or its user name): none, when
/// the projection holds.
pub async fn groups<C: ConnectionTrait>(
    conn: &C,
    customer: i64,
    username: &str,
) -> StoreResult<Vec<String>> {
    let rows = radusergroup::Entity::find()
        .filter(
            Condition::any()
                .add(radusergroup::Column::CustomerId.eq(customer))
                .add(radusergroup::Column::Username.eq(username)),
        )
        .order_by_asc(radusergroup::Column::Id)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| r.groupname).collect())
}

/// A stored item: attribute, operator, value.
pub type Row = (String, String, String);

/// What is stored for a customer: its user name on the rows, and the items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    /// The user names the rows carry (one, when consistent).
    pub usernames: Vec<String>,
    /// Check items, sorted.
    pub check: Vec<Row>,
    /// Reply items, sorted.
    pub reply: Vec<Row>,
}

/// The rows stored for a customer.
pub async fn read<C: ConnectionTrait>(conn: &C, customer: i64) -> StoreResult<Stored> {
    let check = radcheck::Entity::find()
        .filter(radcheck::Column::CustomerId.eq(customer))
        .order_by_asc(radcheck::Column::Id)
        .all(conn)
        .await?;
    let reply = radreply::Entity::find()
        .filter(radreply::Column::CustomerId.eq(customer))
        .order_by_asc(radreply::Column::Id)
        .all(conn)
        .await?;
    let mut usernames: Vec<String> = check
        .iter()
        .map(|r| r.username.clone())
        .chain(reply.iter().map(|r| r.username.clone()))
        .collect();
    usernames.sort();
    usernames.dedup();
    let mut check: Vec<_> = check
        .into_iter()
        .map(|r| (r.attribute, r.op, r.value))
        .collect();
    let mut reply: Vec<_> = reply
        .into_iter()
        .map(|r| (r.attribute, r.op, r.value))
        .collect();
    check.sort();
    reply.sort();
    Ok(Stored {
        usernames,
        check,
        reply,
    })
}

/// The projection as stored rows would hold it (sorted), for comparing with [`read`].
pub fn expected(projection: &Projection) -> (Vec<Row>, Vec<Row>) {
    let rows = |items: &[Item]| {
        let mut rows: Vec<_> = items
            .iter()
            .map(|i| (i.attribute.to_owned(), i.op.to_owned(), i.value.clone()))
            .collect();
        rows.sort();
        rows
    };
    (rows(&projection.check), rows(&projection.reply))
}
