//! The optimistic version check, written once. Every row a user edits carries `version`
//! (and `updated_at`): an update names the version its caller read and is applied only if
//! the row is still at it, in the same statement (`UPDATE … WHERE id = ? AND version = ?`),
//! so two edits of one read can never both land, on either engine, without a lock held
//! between the read and the write. The loser gets [`StoreError::VersionMismatch`] (HTTP
//! 412); its transaction is dropped, taking whatever else it wrote with it.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

use crate::entity;
use crate::error::{StoreError, StoreResult, on_unique};
use crate::write::Write;

/// A table whose rows are edited under a version: its id, version and update-time columns.
pub(crate) trait Versioned: EntityTrait {
    /// The `id` column.
    const ID: Self::Column;
    /// The `version` column.
    const VERSION: Self::Column;
    /// The `updated_at` column.
    const UPDATED_AT: Self::Column;
}

macro_rules! versioned {
    ($($table:ident),* $(,)?) => {$(
        impl Versioned for entity::$table::Entity {
            const ID: Self::Column = entity::$table::Column::Id;
            const VERSION: Self::Column = entity::$table::Column::Version;
            const UPDATED_AT: Self::Column = entity::$table::Column::UpdatedAt;
        }
    )*};
}

versioned!(
    tenant,
    staff_user,
    customer,
    router,
    ip_pool,
    zone,
    package,
    hotspot_portal,
    custom_field
);

/// Saves the changed columns of `row` as version `version + 1` if row `id` is still at
/// `version`, and returns the row as saved. A unique violation of one of `keys` (index
/// name, field) is [`StoreError::Taken`] for that field.
pub(crate) async fn update_versioned<E>(
    w: &Write,
    mut row: E::ActiveModel,
    id: i64,
    version: i32,
    keys: &[(&str, &'static str)],
) -> StoreResult<E::Model>
where
    E: Versioned,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    E::Model: Send + Sync,
{
    row.set(E::VERSION, (version + 1).into());
    row.set(E::UPDATED_AT, w.now().into());
    let done = E::update_many()
        .set(row)
        .filter(E::ID.eq(id))
        .filter(E::VERSION.eq(version))
        .exec(w.tx())
        .await
        .map_err(|e| on_unique(e, keys))?;
    if done.rows_affected == 0 {
        return Err(StoreError::VersionMismatch);
    }
    E::find()
        .filter(E::ID.eq(id))
        .one(w.tx())
        .await?
        .ok_or(StoreError::NotFound)
}
