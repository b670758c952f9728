//! The FreeRADIUS projection, store side: writes a customer's `radcheck` and `radreply` rows
//! (in the write transaction of the change that caused them) from what `domain::aaa` says,
//! and reads them back for `lastmile radius verify`. A customer's items are all its own: the
//! projection keeps `radusergroup` free of its customers' names, so that no group (left by
//! an earlier system, or added by hand) can add attributes lastmile did not decide.

use std::collections::HashMap;

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
    let owner = Owner {
        tenant,
        customer: Some(customer),
        vpn_account: None,
    };
    insert(w, &owner, username, projection).await
}

/// Whose rows are written: a customer's or a VPN account's, of a tenant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Owner {
    pub tenant: TenantId,
    pub customer: Option<i64>,
    pub vpn_account: Option<i64>,
}

/// Inserts `projection`'s items under `username` as `owner`'s rows (the caller removed the
/// old ones).
pub(crate) async fn insert(
    w: &Write,
    owner: &Owner,
    username: &str,
    projection: &Projection,
) -> StoreResult<()> {
    if !projection.check.is_empty() {
        let rows = projection.check.iter().map(|item| radcheck::ActiveModel {
            id: NotSet,
            username: Set(username.to_owned()),
            attribute: Set(item.attribute.to_owned()),
            op: Set(item.op.to_owned()),
            value: Set(item.value.clone()),
            tenant_id: Set(Some(owner.tenant.0)),
            customer_id: Set(owner.customer),
            vpn_account_id: Set(owner.vpn_account),
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
            tenant_id: Set(Some(owner.tenant.0)),
            customer_id: Set(owner.customer),
            vpn_account_id: Set(owner.vpn_account),
        });
        radreply::Entity::insert_many(rows)
            .exec_without_returning(w.tx())
            .await?;
    }
    Ok(())
}

/// Replaces the rows of many customers of `tenant` (id, user name, projection) with a few
/// statements per hundreds of customers.
pub async fn write_many(
    w: &Write,
    tenant: TenantId,
    rows: &[(i64, String, Projection)],
) -> StoreResult<()> {
    for chunk in rows.chunks(500) {
        let ids: Vec<i64> = chunk.iter().map(|(id, ..)| *id).collect();
        let names: Vec<String> = chunk.iter().map(|(_, name, _)| name.clone()).collect();
        radcheck::Entity::delete_many()
            .filter(radcheck::Column::CustomerId.is_in(ids.clone()))
            .exec(w.tx())
            .await?;
        radreply::Entity::delete_many()
            .filter(radreply::Column::CustomerId.is_in(ids.clone()))
            .exec(w.tx())
            .await?;
        radusergroup::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(radusergroup::Column::CustomerId.is_in(ids))
                    .add(radusergroup::Column::Username.is_in(names)),
            )
            .exec(w.tx())
            .await?;
        let mut checks = Vec::new();
        let mut replies = Vec::new();
        for (id, name, projection) in chunk {
            checks.extend(projection.check.iter().map(|item| radcheck::ActiveModel {
                id: NotSet,
                username: Set(name.clone()),
                attribute: Set(item.attribute.to_owned()),
                op: Set(item.op.to_owned()),
                value: Set(item.value.clone()),
                tenant_id: Set(Some(tenant.0)),
                customer_id: Set(Some(*id)),
                vpn_account_id: NotSet,
            }));
            replies.extend(projection.reply.iter().map(|item| radreply::ActiveModel {
                id: NotSet,
                username: Set(name.clone()),
                attribute: Set(item.attribute.to_owned()),
                op: Set(item.op.to_owned()),
                value: Set(item.value.clone()),
                tenant_id: Set(Some(tenant.0)),
                customer_id: Set(Some(*id)),
                vpn_account_id: NotSet,
            }));
        }
        for part in checks.chunks(1000) {
            radcheck::Entity::insert_many(part.to_vec())
                .exec_without_returning(w.tx())
                .await?;
        }
        for part in replies.chunks(1000) {
            radreply::Entity::insert_many(part.to_vec())
                .exec_without_returning(w.tx())
                .await?;
        }
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

/// Deletes every FreeRADIUS row of tenant `tenant`'s subscribers and the `nas` rows of
/// its routers.
pub async fn remove_tenant(w: &Write, tenant: TenantId) -> StoreResult<()> {
    radcheck::Entity::delete_many()
        .filter(radcheck::Column::TenantId.eq(tenant.0))
        .exec(w.tx())
        .await?;
    radreply::Entity::delete_many()
        .filter(radreply::Column::TenantId.eq(tenant.0))
        .exec(w.tx())
        .await?;
    radusergroup::Entity::delete_many()
        .filter(radusergroup::Column::TenantId.eq(tenant.0))
        .exec(w.tx())
        .await?;
    crate::entity::nas::Entity::delete_many()
        .filter(crate::entity::nas::Column::TenantId.eq(tenant.0))
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
    let mut groups = groups_many(conn, &[(customer, username)]).await?;
    Ok(groups.remove(&customer).unwrap_or_default())
}

/// [`groups`] of many customers `(id, user name)` in one query; customers in no group are
/// left out.
pub async fn groups_many<C: ConnectionTrait>(
    conn: &C,
    customers: &[(i64, &str)],
) -> StoreResult<HashMap<i64, Vec<String>>> {
    if customers.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<i64> = customers.iter().map(|(id, _)| *id).collect();
    let by_name: HashMap<&str, i64> = customers.iter().map(|(id, name)| (*name, *id)).collect();
    let rows = radusergroup::Entity::find()
        .filter(
            Condition::any()
                .add(radusergroup::Column::CustomerId.is_in(ids))
                .add(radusergroup::Column::Username.is_in(by_name.keys().copied())),
        )
        .order_by_asc(radusergroup::Column::Id)
        .all(conn)
        .await?;
    let mut groups: HashMap<i64, Vec<String>> = HashMap::new();
    for row in rows {
        // A row is a customer's by its id and by its user name (the same one, or two).
        let by_id = row
            .customer_id
            .filter(|id| customers.iter().any(|(c, _)| c == id));
        let named = by_name.get(row.username.as_str()).copied();
        for owner in [by_id, named.filter(|n| Some(*n) != by_id)]
            .into_iter()
            .flatten()
        {
            groups.entry(owner).or_default().push(row.groupname.clone());
        }
    }
    Ok(groups)
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
    let mut stored = read_many(conn, &[customer]).await?;
    Ok(stored.remove(&customer).unwrap_or_default())
}

/// [`read`] of many customers in two queries; customers without rows are left out.
pub async fn read_many<C: ConnectionTrait>(
    conn: &C,
    customers: &[i64],
) -> StoreResult<HashMap<i64, Stored>> {
    if customers.is_empty() {
        return Ok(HashMap::new());
    }
    let check = radcheck::Entity::find()
        .filter(radcheck::Column::CustomerId.is_in(customers.to_vec()))
        .order_by_asc(radcheck::Column::Id)
        .all(conn)
        .await?;
    let reply = radreply::Entity::find()
        .filter(radreply::Column::CustomerId.is_in(customers.to_vec()))
        .order_by_asc(radreply::Column::Id)
        .all(conn)
        .await?;
    let mut stored: HashMap<i64, Stored> = HashMap::new();
    for r in check {
        if let Some(id) = r.customer_id {
            let s = stored.entry(id).or_default();
            s.usernames.push(r.username);
            s.check.push((r.attribute, r.op, r.value));
        }
    }
    for r in reply {
        if let Some(id) = r.customer_id {
            let s = stored.entry(id).or_default();
            s.usernames.push(r.username);
            s.reply.push((r.attribute, r.op, r.value));
        }
    }
    for s in stored.values_mut() {
        s.usernames.sort();
        s.usernames.dedup();
        s.check.sort();
        s.reply.sort();
    }
    Ok(stored)
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
