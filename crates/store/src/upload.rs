//! Files jobs read (a customer CSV), kept by content hash until the job that reads them is
//! done. A file is written in the transaction that queues its job, so a job never waits for
//! a file that is not there.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, EntityTrait};

use crate::db::Db;
use crate::entity::upload;
use crate::error::StoreResult;
use crate::write::Write;
use domain::ids::{TenantId, UserId};

/// A file to keep for a job.
#[derive(Debug, Clone)]
pub struct NewUpload<'a> {
    /// The tenant it belongs to.
    pub tenant_id: Option<TenantId>,
    /// What it is (`customer.import`).
    pub kind: &'static str,
    /// SHA-256 of the content, hex.
    pub sha256: &'a str,
    /// The content.
    pub content: &'a [u8],
    /// Who sent it.
    pub created_by: Option<UserId>,
}

/// Keeps `new`; returns its id.
pub async fn save(w: &Write, new: &NewUpload<'_>) -> StoreResult<i64> {
    let row = upload::ActiveModel {
        id: NotSet,
        tenant_id: Set(new.tenant_id.map(|t| t.0)),
        kind: Set(new.kind.to_owned()),
        sha256: Set(new.sha256.to_owned()),
        size: Set(i64::try_from(new.content.len()).unwrap_or(i64::MAX)),
        content: Set(new.content.to_vec()),
        created_by: Set(new.created_by.map(|u| u.0)),
        created_at: Set(w.now()),
    };
    Ok(row.insert(w.tx()).await?.id)
}

/// The content of upload `id`, if it is still kept.
pub async fn read(db: &Db, id: i64) -> StoreResult<Option<Vec<u8>>> {
    Ok(upload::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .map(|u| u.content))
}

/// Lets upload `id` go (its job is done with it).
pub async fn delete(db: &Db, id: i64) -> StoreResult<()> {
    upload::Entity::delete_by_id(id).exec(db.conn()).await?;
    Ok(())
}

/// Lets go of uploads older than `before` whose job never came for them.
pub async fn purge(db: &Db, before: DateTime<Utc>) -> StoreResult<u64> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let done = upload::Entity::delete_many()
        .filter(upload::Column::CreatedAt.lt(before))
        .exec(db.conn())
        .await?;
    Ok(done.rows_affected)
}
