//! Sign-ins: panel sessions and API tokens. Both are stored as the SHA-256 of a random token
//! the client holds, so a database leak gives no working credential. Sign-in and sign-out
//! are audited; a session's "last seen" and a token's "last used" are bookkeeping and are
//! not.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, QueryFilter,
};
use serde_json::json;

use crate::db::Db;
use crate::entity::code::Stored;
use crate::entity::{api_token, idempotency_key, session, staff_user, tenant};
use crate::error::{StoreError, StoreResult};
use crate::write::{AuditEntry, Write};
use domain::ids::{TenantId, UserId};

pub use crate::entity::session::Stage;

/// A stored panel session.
pub type Session = session::Model;

/// A new panel session.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 (hex) of the cookie token.
    pub id: String,
    /// The user.
    pub user_id: UserId,
    /// Its tenant (for the audit entry).
    pub tenant_id: Option<TenantId>,
    /// Stage.
    pub stage: Stage,
    /// The session's CSRF token.
    pub csrf: String,
    /// Absolute expiry.
    pub expires_at: DateTime<Utc>,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent (truncated).
    pub user_agent: Option<String>,
}

/// Who a credential belongs to, as read at each request.
#[derive(Debug, Clone)]
pub struct Holder {
    /// The user.
    pub user: staff_user::Model,
    /// Its tenant, if it has one.
    pub tenant: Option<tenant::Model>,
}

/// A user with its tenant, whatever its state (the caller judges whether it may act).
pub async fn holder<C: ConnectionTrait>(conn: &C, user_id: i64) -> StoreResult<Option<Holder>> {
    let Some(user) = staff_user::Entity::find_by_id(user_id).one(conn).await? else {
        return Ok(None);
    };
    let tenant = match user.tenant_id {
        Some(id) => tenant::Entity::find_by_id(id).one(conn).await?,
        None => None,
    };
    Ok(Some(Holder { user, tenant }))
}

/// Starts a session. A full session is a sign-in and is audited as one; the MFA stage is
/// audited when it becomes full.
pub async fn start_session(w: &mut Write, new: NewSession) -> StoreResult<()> {
    let now = w.now();
    session::ActiveModel {
        id: Set(new.id.clone()),
        user_id: Set(new.user_id.0),
        stage: Set(Stored(new.stage)),
        csrf: Set(new.csrf),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(new.expires_at),
        ip: Set(new.ip),
        user_agent: Set(new.user_agent),
    }
    .insert(w.tx())
    .await?;
    if new.stage == Stage::Full {
        signed_in(w, new.user_id, new.tenant_id, "panel").await?;
    }
    Ok(())
}

/// Records a sign-in: the user's last sign-in time and the audit entry.
pub async fn signed_in(
    w: &mut Write,
    user_id: UserId,
    tenant_id: Option<TenantId>,
    via: &str,
) -> StoreResult<()> {
    crate::user::record_sign_in(w, user_id).await?;
    w.audit(AuditEntry {
        tenant_id,
        action: "auth.sign_in",
        entity: "user",
        entity_id: Some(user_id.0),
        before: None,
        after: Some(json!({ "via": via })),
    })
    .await
}

/// A live session by its id, with its holder.
pub async fn find_session(
    db: &Db,
    id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<(Session, Holder)>> {
    let Some(session) = session::Entity::find_by_id(id.to_owned())
        .filter(session::Column::ExpiresAt.gt(now))
        .one(db.conn())
        .await?
    else {
        return Ok(None);
    };
    Ok(holder(db.conn(), session.user_id)
        .await?
        .map(|h| (session, h)))
}

/// True if the session is at the MFA stage.
pub fn awaits_second_factor(session: &Session) -> bool {
    session.stage == Stage::Mfa
}

/// Marks a session as seen now (called at most once a minute per session).
pub async fn touch_session(db: &Db, id: &str, now: DateTime<Utc>) -> StoreResult<()> {
    session::Entity::update_many()
        .col_expr(session::Column::LastSeenAt, Expr::value(now))
        .filter(session::Column::Id.eq(id))
        .exec(db.conn())
        .await?;
    Ok(())
}

/// Ends a session; audited as a sign-out when it was a full one.
pub async fn end_session(w: &mut Write, id: &str) -> StoreResult<()> {
    let Some(session) = session::Entity::find_by_id(id.to_owned())
        .one(w.tx())
        .await?
    else {
        return Err(StoreError::NotFound);
    };
    session::Entity::delete_by_id(id.to_owned())
        .exec(w.tx())
        .await?;
    let tenant_id = staff_user::Entity::find_by_id(session.user_id)
        .one(w.tx())
        .await?
        .and_then(|u| u.tenant_id)
        .map(TenantId);
    w.audit(AuditEntry {
        tenant_id,
        action: "auth.sign_out",
        entity: "user",
        entity_id: Some(session.user_id),
        before: None,
        after: Some(json!({ "via": "panel" })),
    })
    .await
}

/// Ends a session without an audit entry: the MFA stage given up or replaced.
pub async fn drop_session(db: &Db, id: &str) -> StoreResult<()> {
    session::Entity::delete_by_id(id.to_owned())
        .exec(db.conn())
        .await?;
    Ok(())
}

/// A stored API token.
pub type Token = api_token::Model;

/// Issues an API token (its hash is stored) and records the sign-in.
pub async fn issue_token(
    w: &mut Write,
    user_id: UserId,
    tenant_id: Option<TenantId>,
    hash: &str,
    name: &str,
    expires_at: DateTime<Utc>,
) -> StoreResult<Token> {
    let token = api_token::ActiveModel {
        id: NotSet,
        user_id: Set(user_id.0),
        token_hash: Set(hash.to_owned()),
        name: Set(name.to_owned()),
        created_at: Set(w.now()),
        last_used_at: Set(None),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
    }
    .insert(w.tx())
    .await?;
    signed_in(w, user_id, tenant_id, "api").await?;
    Ok(token)
}

/// A live token by its hash, with its holder.
pub async fn find_token(
    db: &Db,
    hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<(Token, Holder)>> {
    let Some(token) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash))
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(api_token::Column::ExpiresAt.gt(now))
        .one(db.conn())
        .await?
    else {
        return Ok(None);
    };
    Ok(holder(db.conn(), token.user_id).await?.map(|h| (token, h)))
}

/// Marks a token as used now (called at most every few minutes per token).
pub async fn touch_token(db: &Db, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(id))
        .exec(db.conn())
        .await?;
    Ok(())
}

/// Revokes a token: the API sign-out.
pub async fn revoke_token(
    w: &mut Write,
    token: &Token,
    tenant_id: Option<TenantId>,
) -> StoreResult<()> {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(w.now()))
        .filter(api_token::Column::Id.eq(token.id))
        .exec(w.tx())
        .await?;
    w.audit(AuditEntry {
        tenant_id,
        action: "auth.sign_out",
        entity: "user",
        entity_id: Some(token.user_id),
        before: None,
        after: Some(json!({ "via": "api" })),
    })
    .await
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Expired sessions.
    pub sessions: u64,
    /// Tokens expired or revoked before the cut-off.
    pub tokens: u64,
    /// Idempotency keys older than the cut-off.
    pub idempotency_keys: u64,
}

/// Deletes expired sessions, tokens dead since before `keep_tokens_after`, and idempotency
/// keys created before `keep_keys_after`.
pub async fn purge_expired(
    db: &Db,
    now: DateTime<Utc>,
    keep_tokens_after: DateTime<Utc>,
    keep_keys_after: DateTime<Utc>,
) -> StoreResult<Purged> {
    let sessions = session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lte(now))
        .exec(db.conn())
        .await?
        .rows_affected;
    let tokens = api_token::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(api_token::Column::ExpiresAt.lt(keep_tokens_after))
                .add(api_token::Column::RevokedAt.lt(keep_tokens_after)),
        )
        .exec(db.conn())
        .await?
        .rows_affected;
    let idempotency_keys = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(keep_keys_after))
        .exec(db.conn())
        .await?
        .rows_affected;
    Ok(Purged {
        sessions,
        tokens,
        idempotency_keys,
    })
}
