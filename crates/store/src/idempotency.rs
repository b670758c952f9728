//! Idempotency keys of API POSTs (and the panel's sale forms): the first request with a key
//! reserves it, runs, and stores its answer; a repeat with the same key and body gets that
//! answer again; a repeat with another body is refused, and one that arrives while the first
//! still runs is told so. An answer is kept sealed by the keyring ([`ANSWER_CONTEXT`]): it
//! may hold what is shown once (a card's PIN, a router's secret, a token).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter,
    SqlErr,
};

use crate::crypto::Keyring;
use crate::db::Db;
use crate::entity::idempotency_key::{ActiveModel, Column, Entity};
use crate::error::StoreResult;
use domain::ids::UserId;

/// Where kept answers are sealed.
pub const ANSWER_CONTEXT: &str = "idempotency.answer";

/// What a key says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: run the request, then [`finish`] (or [`release`]) the reservation.
    Reserved(i64),
    /// The same request already ran: give its answer.
    Replay {
        /// HTTP status.
        status: u16,
        /// JSON body.
        body: String,
    },
    /// The key was used with another body.
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
}

/// Reserves `key` for `user` and the request's body hash, or says why not.
pub async fn claim(
    db: &Db,
    user: UserId,
    key: &str,
    request_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Claim> {
    let row = ActiveModel {
        id: NotSet,
        user_id: Set(user.0),
        key: Set(key.to_owned()),
        request_hash: Set(request_hash.to_owned()),
        status_code: Set(None),
        response_body: Set(None),
        created_at: Set(now),
    };
    match row.insert(db.conn()).await {
        Ok(saved) => return Ok(Claim::Reserved(saved.id)),
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
        Err(error) => return Err(error.into()),
    }
    let existing = Entity::find()
        .filter(Column::UserId.eq(user.0))
        .filter(Column::Key.eq(key))
        .one(db.conn())
        .await?;
    Ok(match existing {
        None => Claim::InFlight,
        Some(row) if row.request_hash != request_hash => Claim::Mismatch,
        Some(row) => match (row.status_code, row.response_body) {
            (Some(status), Some(kept)) => Claim::Replay {
                status: u16::try_from(status).unwrap_or(500),
                // An answer kept before answers were sealed (at most a day old) reads as
                // it was written.
                body: if Keyring::is_sealed(&kept) {
                    db.keyring().open_string(ANSWER_CONTEXT, &kept)?.to_string()
                } else {
                    kept
                },
            },
            _ => Claim::InFlight,
        },
    })
}

/// Stores the answer of a reserved request, sealed.
pub async fn finish(db: &Db, id: i64, status: u16, body: &str) -> StoreResult<()> {
    let sealed = db.keyring().seal(ANSWER_CONTEXT, body.as_bytes())?;
    Entity::update_many()
        .col_expr(
            Column::StatusCode,
            Expr::value(i16::try_from(status).unwrap_or(500)),
        )
        .col_expr(Column::ResponseBody, Expr::value(sealed))
        .filter(Column::Id.eq(id))
        .exec(db.conn())
        .await?;
    Ok(())
}

/// Frees a reservation whose request failed on our side, so that a retry runs again.
pub async fn release(db: &Db, id: i64) -> StoreResult<()> {
    Entity::delete_by_id(id).exec(db.conn()).await?;
    Ok(())
}
