//! Sign-up drafts (`signup_draft`): a staff member's customer sign-up kept between the
//! wizard's steps, seen through a `domain::customer::signup::DraftScope` (its tenant, and its
//! author unless the caller runs the tenant). A draft past its expiry is not found, as if
//! gone; the housekeeping job deletes it. Every change is audited (`signup.*`, the values
//! without the password, which is kept sealed under [`SECRET_CONTEXT`]). Which values a
//! step accepts is `ops::customer::signup`'s; this module keeps them.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, Condition, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use crate::Db;
use crate::entity::signup_draft::{ActiveModel, Column, Entity, Model};
use crate::error::{StoreError, StoreResult};
use crate::write::{AuditEntry, Author, Write};
use domain::customer::signup::DraftScope;
use domain::ids::UserId;

/// A stored draft.
pub type Draft = Model;

/// The associated data the draft's password is sealed with.
pub const SECRET_CONTEXT: &str = "signup_draft.secret";

/// What a draft holds after a step: the step reached, the values as JSON, the sealed
/// password (`None` keeps the one held), and its new expiry.
#[derive(Debug, Clone)]
pub struct Saved {
    /// The step reached (its code).
    pub step: &'static str,
    /// The values, as JSON.
    pub values: String,
    /// The password, sealed; `None` keeps the one held.
    pub secret: Option<String>,
    /// When the draft expires.
    pub expires_at: DateTime<Utc>,
}

fn seen(scope: &DraftScope, now: DateTime<Utc>) -> Condition {
    let mut condition = Condition::all()
        .add(Column::TenantId.eq(scope.tenant().0))
        .add(Column::ExpiresAt.gt(now));
    if let Some(author) = scope.author() {
        condition = condition.add(Column::AuthorId.eq(author.0));
    }
    condition
}

/// The draft's state for the audit log (the password left out).
fn snapshot(d: &Draft) -> Value {
    let values: Value = serde_json::from_str(&d.values).unwrap_or(Value::Null);
    json!({
        "id": d.id, "tenant_id": d.tenant_id, "author_id": d.author_id, "step": d.step,
        "values": values, "password_set": d.secret.is_some(), "expires_at": d.expires_at,
    })
}

/// A draft the caller sees, unless expired at `now`.
pub async fn find<C: sea_orm::ConnectionTrait>(
    conn: &C,
    scope: &DraftScope,
    id: i64,
    now: DateTime<Utc>,
) -> StoreResult<Option<Draft>> {
    Ok(Entity::find_by_id(id)
        .filter(seen(scope, now))
        .one(conn)
        .await?)
}

/// The drafts the caller sees, not expired at `now`, the latest changed first, at most
/// `limit`.
pub async fn list<C: sea_orm::ConnectionTrait>(
    conn: &C,
    scope: &DraftScope,
    now: DateTime<Utc>,
    limit: u64,
) -> StoreResult<Vec<Draft>> {
    Ok(Entity::find()
        .filter(seen(scope, now))
        .order_by_desc(Column::UpdatedAt)
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Starts a draft by `author` in the scope's tenant, refused past `max` open drafts there.
pub async fn create(
    w: &mut Write,
    scope: &DraftScope,
    author: UserId,
    saved: Saved,
    max: u64,
) -> StoreResult<Draft> {
    let open = Entity::find()
        .filter(Column::TenantId.eq(scope.tenant().0))
        .filter(Column::ExpiresAt.gt(w.now()))
        .count(w.tx())
        .await?;
    if open >= max {
        return Err(StoreError::Refused {
            field: "draft",
            code: "too_many_drafts",
        });
    }
    let now = w.now();
    let draft = ActiveModel {
        id: NotSet,
        tenant_id: Set(scope.tenant().0),
        author_id: Set(author.0),
        step: Set(saved.step.to_owned()),
        values: Set(saved.values),
        secret: Set(saved.secret),
        created_at: Set(now),
        updated_at: Set(now),
        expires_at: Set(saved.expires_at),
    }
    .insert(w.tx())
    .await?;
    audit(w, "signup.start", None, Some(&draft)).await?;
    Ok(draft)
}

/// Keeps a step's values in a draft the caller sees.
pub async fn save(w: &mut Write, scope: &DraftScope, id: i64, saved: Saved) -> StoreResult<Draft> {
    let before = find(w.tx(), scope, id, w.now())
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut row: ActiveModel = before.clone().into();
    row.step = Set(saved.step.to_owned());
    row.values = Set(saved.values);
    if let Some(secret) = saved.secret {
        row.secret = Set(Some(secret));
    }
    row.updated_at = Set(w.now());
    row.expires_at = Set(saved.expires_at);
    let after = row.update(w.tx()).await?;
    audit(w, "signup.save", Some(&before), Some(&after)).await?;
    Ok(after)
}

/// Deletes a draft the caller sees and returns it, or `None` when it is gone already (a
/// second activation, or a discard, that lost the race): the draft row is what makes an
/// activation happen once. `action` names the audit entry (`signup.finish`,
/// `signup.discard`).
pub async fn take(
    w: &mut Write,
    scope: &DraftScope,
    id: i64,
    action: &'static str,
) -> StoreResult<Option<Draft>> {
    let Some(draft) = find(w.tx(), scope, id, w.now()).await? else {
        return Ok(None);
    };
    let done = Entity::delete_many()
        .filter(Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    if done.rows_affected == 0 {
        return Ok(None);
    }
    audit(w, action, Some(&draft), None).await?;
    Ok(Some(draft))
}

/// Deletes the drafts expired at `now`, in one audited transaction; returns how many.
pub async fn purge_expired(db: &Db, now: DateTime<Utc>) -> StoreResult<u64> {
    let mut w = db.write(Author::system("housekeeping"), now).await?;
    let done = Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(w.tx())
        .await?;
    if done.rows_affected == 0 {
        w.rollback().await?;
        return Ok(0);
    }
    w.audit(AuditEntry {
        tenant_id: None,
        action: "signup.expire",
        entity: "signup_draft",
        entity_id: None,
        before: None,
        after: Some(json!({ "drafts": done.rows_affected })),
    })
    .await?;
    w.commit().await?;
    Ok(done.rows_affected)
}

async fn audit(
    w: &mut Write,
    action: &'static str,
    before: Option<&Draft>,
    after: Option<&Draft>,
) -> StoreResult<()> {
    let subject = after.or(before).ok_or(StoreError::NotFound)?;
    w.audit(AuditEntry {
        tenant_id: Some(domain::ids::TenantId(subject.tenant_id)),
        action,
        entity: "signup_draft",
        entity_id: Some(subject.id),
        before: before.map(snapshot),
        after: after.map(snapshot),
    })
    .await
}
