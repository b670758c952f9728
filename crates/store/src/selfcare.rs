//! The customer's own pages: `customer_session` (migration `000046`), a subscriber's
//! signed-in browser. A session is found by the SHA-256 of its cookie's token and lives
//! until its end; one waiting for a code (`code`) holds the mobile and the last code sent,
//! and opens nothing until the code turns it `full` for one customer. Ending a customer's
//! sessions (its password changed) deletes its rows.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::entity::customer_session::{self, ActiveModel, Column, Entity};
use crate::error::StoreResult;

/// A subscriber's session.
pub type CustomerSession = customer_session::Model;

/// A session waiting for a code.
pub const STAGE_CODE: &str = "code";
/// A signed-in session.
pub const STAGE_FULL: &str = "full";

/// A session to open.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// The hash of its token.
    pub id: &'a str,
    /// The ISP.
    pub tenant_id: i64,
    /// The customer, when signed in at once (by password).
    pub customer_id: Option<i64>,
    /// The mobile signing in by a code.
    pub mobile: Option<&'a str>,
    /// Its CSRF token.
    pub csrf: &'a str,
    /// `en` or `bn`.
    pub lang: &'a str,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
    /// The browser's address.
    pub ip: Option<String>,
}

/// Opens a session.
pub async fn open<C: ConnectionTrait>(
    conn: &C,
    new: &NewSession<'_>,
    now: DateTime<Utc>,
) -> StoreResult<CustomerSession> {
    let stage = if new.customer_id.is_some() {
        STAGE_FULL
    } else {
        STAGE_CODE
    };
    Ok(ActiveModel {
        id: Set(new.id.to_owned()),
        tenant_id: Set(new.tenant_id),
        customer_id: Set(new.customer_id),
        stage: Set(stage.to_owned()),
        mobile: Set(new.mobile.map(str::to_owned)),
        otp_id: Set(None),
        csrf: Set(new.csrf.to_owned()),
        lang: Set(new.lang.to_owned()),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(new.expires_at),
        ip: Set(new.ip.clone()),
    }
    .insert(conn)
    .await?)
}

/// The live session with token hash `id`.
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<CustomerSession>> {
    Ok(Entity::find_by_id(id.to_owned())
        .filter(Column::ExpiresAt.gt(now))
        .one(conn)
        .await?)
}

/// Records the code `otp_id` sent to the session's mobile.
pub async fn code_sent<C: ConnectionTrait>(conn: &C, id: &str, otp_id: i64) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(Column::OtpId, Expr::value(otp_id))
        .filter(Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Signs the session in as `customer_id`; false when it was not waiting for a code.
pub async fn sign_in<C: ConnectionTrait>(
    conn: &C,
    id: &str,
    customer_id: i64,
) -> StoreResult<bool> {
    let done = Entity::update_many()
        .col_expr(Column::CustomerId, Expr::value(customer_id))
        .col_expr(Column::Stage, Expr::value(STAGE_FULL))
        .filter(Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Marks the session seen at `now`.
pub async fn touch<C: ConnectionTrait>(conn: &C, id: &str, now: DateTime<Utc>) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(Column::LastSeenAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends one session.
pub async fn end<C: ConnectionTrait>(conn: &C, id: &str) -> StoreResult<()> {
    Entity::delete_by_id(id.to_owned()).exec(conn).await?;
    Ok(())
}

/// Ends the customer's sessions but `keep`; returns how many.
pub async fn end_others<C: ConnectionTrait>(
    conn: &C,
    customer_id: i64,
    keep: &str,
) -> StoreResult<u64> {
    let done = Entity::delete_many()
        .filter(Column::CustomerId.eq(customer_id))
        .filter(Column::Id.ne(keep))
        .exec(conn)
        .await?;
    Ok(done.rows_affected)
}

/// Deletes the sessions ended before `before`; returns how many.
pub async fn purge<C: ConnectionTrait>(conn: &C, before: DateTime<Utc>) -> StoreResult<u64> {
    let done = Entity::delete_many()
        .filter(Column::ExpiresAt.lt(before))
        .exec(conn)
        .await?;
    Ok(done.rows_affected)
}

/// The live tenant whose realm is `isp` (or `t<id>`, the name of one without a realm).
pub async fn tenant_at<C: ConnectionTrait>(
    conn: &C,
    isp: &str,
) -> StoreResult<Option<crate::tenant::Tenant>> {
    use crate::entity::tenant::{Column as T, Entity as Tenants};
    let by_id = isp
        .strip_prefix('t')
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0);
    let mut query = Tenants::find().filter(T::ArchivedAt.is_null());
    query = match by_id {
        Some(id) => query.filter(
            sea_orm::Condition::any()
                .add(
                    sea_orm::Condition::all()
                        .add(T::Id.eq(id))
                        .add(T::Realm.is_null()),
                )
                .add(T::Realm.eq(isp)),
        ),
        None => query.filter(T::Realm.eq(isp.to_ascii_lowercase())),
    };
    Ok(query.one(conn).await?)
}

/// The tenant's live customer whose user name has the key `key` (lower case).
pub async fn named<C: ConnectionTrait>(
    conn: &C,
    tenant: i64,
    key: &str,
) -> StoreResult<Option<crate::customer::Customer>> {
    use crate::entity::customer::{Column as C2, Entity as Customers};
    Ok(Customers::find()
        .filter(C2::TenantId.eq(tenant))
        .filter(C2::UsernameKey.eq(key))
        .filter(C2::ArchivedAt.is_null())
        .one(conn)
        .await?)
}

/// The tenant's live customers whose mobile is `msisdn` (E.164), oldest first.
pub async fn with_mobile<C: ConnectionTrait>(
    conn: &C,
    tenant: i64,
    msisdn: &str,
) -> StoreResult<Vec<crate::customer::Customer>> {
    use crate::entity::customer::{Column as C2, Entity as Customers};
    use sea_orm::QueryOrder as _;
    Ok(Customers::find()
        .filter(C2::TenantId.eq(tenant))
        .filter(C2::Mobile.eq(msisdn))
        .filter(C2::ArchivedAt.is_null())
        .order_by_asc(C2::Id)
        .all(conn)
        .await?)
}

/// The code `id` (`otp_code`).
pub async fn otp<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> StoreResult<Option<crate::hotspot::Otp>> {
    Ok(crate::entity::otp_code::Entity::find_by_id(id)
        .one(conn)
        .await?)
}
