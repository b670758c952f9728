//! Creating many customers at once (the importer): the same rows, history, projection, AAA
//! change log and audit entries as one by one, written with multi-row statements so that
//! 10^5 customers take seconds, not minutes.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter,
};

use super::{Customer, NewCustomer, PASSWORD_CONTEXT, Projector, snapshot};
use crate::entity::code::Stored;
use crate::entity::customer::{ActiveModel, Entity};
use crate::entity::customer_name;
use crate::entity::radius_item::{radcheck, radreply};
use crate::error::{StoreError, StoreResult, on_unique};
use crate::write::{AuditEntry, Write};
use domain::aaa::Subscriber;
use domain::ids::TenantId;

/// The user names among `keys` (lower case) held by a customer or resting (for `rest`) after
/// a rename or deletion.
pub async fn taken_names<C: ConnectionTrait>(
    conn: &C,
    keys: &[String],
    now: DateTime<Utc>,
    rest: TimeDelta,
) -> StoreResult<HashSet<String>> {
    let since = now - rest;
    let mut taken = HashSet::new();
    for chunk in keys.chunks(500) {
        let rows = customer_name::Entity::find()
            .filter(customer_name::Column::UsernameKey.is_in(chunk.to_vec()))
            .filter(
                Condition::any()
                    .add(customer_name::Column::ValidTo.is_null())
                    .add(customer_name::Column::ValidTo.gt(since)),
            )
            .all(conn)
            .await?;
        taken.extend(rows.into_iter().map(|r| r.username_key));
    }
    Ok(taken)
}

/// A live customer holding a user name: `(key, id, tenant, router)`.
pub type NameHolder = (String, i64, i64, Option<i64>);

/// The live customers holding any of the user names `keys` (lower case), anywhere.
pub async fn name_holders<C: ConnectionTrait>(
    conn: &C,
    keys: &[String],
) -> StoreResult<Vec<NameHolder>> {
    use crate::entity::customer::Column;
    let mut found = Vec::new();
    for chunk in keys.chunks(500) {
        let rows = Entity::find()
            .filter(Column::UsernameKey.is_in(chunk.to_vec()))
            .filter(Column::ArchivedAt.is_null())
            .all(conn)
            .await?;
        found.extend(
            rows.into_iter()
                .map(|c| (c.username_key, c.id, c.tenant_id, c.router_id)),
        );
    }
    Ok(found)
}

/// The mobiles among `mobiles` (E.164) that customers of `tenant` already have.
pub async fn taken_mobiles<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    mobiles: &[String],
) -> StoreResult<HashSet<String>> {
    let mut taken = HashSet::new();
    for chunk in mobiles.chunks(500) {
        let rows = Entity::find()
            .filter(crate::entity::customer::Column::TenantId.eq(tenant.0))
            .filter(crate::entity::customer::Column::Mobile.is_in(chunk.to_vec()))
            .filter(crate::entity::customer::Column::ArchivedAt.is_null())
            .all(conn)
            .await?;
        taken.extend(rows.into_iter().filter_map(|c| c.mobile));
    }
    Ok(taken)
}

/// Creates `rows` (all of `tenant`, none with a static address: those go one by one) with
/// their names, projections, change log and audit entries. A taken user name or mobile fails
/// the whole batch, as the transaction it runs in.
pub async fn create_many(
    w: &mut Write,
    tenant: TenantId,
    rows: &[NewCustomer],
) -> StoreResult<Vec<Customer>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let now = w.now();
    let mut models = Vec::with_capacity(rows.len());
    for new in rows {
        if new.static_ip.is_some() || new.owner.tenant() != tenant {
            return Err(StoreError::Corrupt(
                "bulk rows must be of one tenant, without static addresses".into(),
            ));
        }
        models.push(ActiveModel {
            id: NotSet,
            tenant_id: Set(tenant.0),
            operator_id: Set(new.owner.operator().map(|u| u.0)),
            sub_operator_id: Set(new.owner.sub_operator().map(|u| u.0)),
            package_id: Set(new.package_id),
            connection_type: Set(Stored(new.connection_type)),
            billing_type: Set(Stored(new.billing_type)),
            name: Set(new.name.clone()),
            mobile: Set(new.mobile.as_ref().map(|m| m.as_str().to_owned())),
            email: Set(new.email.clone()),
            address: Set(new.address.clone()),
            zone_id: Set(new.zone_id),
            router_id: Set(new.router_id),
            username: Set(new.username.as_str().to_owned()),
            username_key: Set(new.username.key()),
            password: Set(w
                .keyring()
                .seal(PASSWORD_CONTEXT, new.password.expose().as_bytes())?),
            status: Set(Stored(new.status)),
            expires_at: Set(new.expires_at),
            static_ip: Set(None),
            ip_pool_id: Set(new.ip_pool_id),
            mac: Set(new.mac.map(|m| m.to_string())),
            simultaneous_use: Set(new.simultaneous_use.max(1)),
            comment: Set(new.comment.clone()),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            archived_at: Set(None),
            suspended_for: Set(None),
            custom_price: Set(None),
        });
    }
    let mut saved: Vec<Customer> = Vec::with_capacity(rows.len());
    for chunk in models.chunks(250) {
        let inserted = Entity::insert_many(chunk.to_vec())
            .exec_with_returning(w.tx())
            .await
            .map_err(|e| on_unique(e, super::KEYS))?;
        saved.extend(inserted);
    }
    // Rows come back in insertion order on both backends; match them by user name anyway.
    let by_key: HashMap<&str, &NewCustomer> =
        rows.iter().map(|r| (r.username.as_str(), r)).collect();

    let names: Vec<customer_name::ActiveModel> = saved
        .iter()
        .map(|c| customer_name::ActiveModel {
            id: NotSet,
            tenant_id: Set(tenant.0),
            customer_id: Set(c.id),
            username: Set(c.username.clone()),
            username_key: Set(c.username_key.clone()),
            valid_from: Set(now),
            valid_to: Set(None),
        })
        .collect();
    for chunk in names.chunks(500) {
        customer_name::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(w.tx())
            .await?;
    }

    // Packages, pools and the tenant's policy read once for the batch.
    let mut projector = Projector::default();
    let mut checks = Vec::new();
    let mut replies = Vec::new();
    for c in &saved {
        let new = by_key
            .get(c.username.as_str())
            .ok_or_else(|| StoreError::Corrupt("bulk row lost".into()))?;
        // The settings as given: the password in clear, not sealed as stored.
        let sub = Subscriber {
            username: &c.username,
            password: new.password.expose(),
            billing: new.billing_type,
            status: new.status,
            expires_at: new.expires_at,
            mac: new.mac,
            // A new customer has no device bound at the portal yet.
            devices: &[],
            static_ip: None,
            simultaneous_use: u32::try_from(c.simultaneous_use).unwrap_or(1),
            tenant_archived: false,
        };
        let projection = projector.project_as(w.tx(), c, &sub).await?;
        for item in projection.check {
            checks.push(radcheck::ActiveModel {
                id: NotSet,
                username: Set(c.username.clone()),
                attribute: Set(item.attribute.to_owned()),
                op: Set(item.op.to_owned()),
                value: Set(item.value),
                tenant_id: Set(Some(tenant.0)),
                customer_id: Set(Some(c.id)),
                vpn_account_id: NotSet,
            });
        }
        for item in projection.reply {
            replies.push(radreply::ActiveModel {
                id: NotSet,
                username: Set(c.username.clone()),
                attribute: Set(item.attribute.to_owned()),
                op: Set(item.op.to_owned()),
                value: Set(item.value),
                tenant_id: Set(Some(tenant.0)),
                customer_id: Set(Some(c.id)),
                vpn_account_id: NotSet,
            });
        }
    }
    for chunk in checks.chunks(1000) {
        radcheck::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(w.tx())
            .await?;
    }
    for chunk in replies.chunks(1000) {
        radreply::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(w.tx())
            .await?;
    }
    let ids: Vec<i64> = saved.iter().map(|c| c.id).collect();
    w.aaa_changed_many(tenant, &ids, "customer.create").await?;
    let entries = saved
        .iter()
        .map(|c| AuditEntry {
            tenant_id: Some(tenant),
            action: "customer.import",
            entity: "customer",
            entity_id: Some(c.id),
            before: None,
            after: Some(snapshot(c)),
        })
        .collect();
    w.audit_many(entries).await?;
    Ok(saved)
}
