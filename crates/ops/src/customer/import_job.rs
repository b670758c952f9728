//! A CSV import as a background job: the file is kept (by content hash) and the job queued
//! in one transaction, so an import never runs inside an HTTP request and its timeout; the
//! worker runs [`super::import::import`] as the user who asked, reporting progress (rows
//! done of all rows) after each batch, and keeps the per-line report as the job's result.
//!
//! The same file sent again for the same tenant is refused as a duplicate while the first
//! import of it is queued or running, and for a day after it was sent.

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::import::{ImportOptions, check_file};
use crate::Ctx;
use crate::error::OpError;
use domain::access::{Actor, Permission, tenant_scope};
use domain::field::FieldError;
use domain::ids::TenantId;
use store::job::{Job, NewJob};
use store::upload::NewUpload;
use store::{AuditEntry, Author};

/// The job kind.
pub const KIND: &str = "customer.import";

/// How long a file sent once is refused when sent again.
const DUPLICATE_WINDOW: TimeDelta = TimeDelta::days(1);

/// What the worker needs to run an import.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportJob {
    /// The file (`upload`).
    pub upload_id: i64,
    /// The tenant imported into.
    pub tenant_id: i64,
    /// The user who asked: the import runs with its rights as they are when it runs.
    pub user_id: i64,
    /// Only validate.
    pub dry_run: bool,
    /// Create nothing if any row is refused.
    pub all_or_nothing: bool,
    /// Bill the time given with each customer created.
    #[serde(default)]
    pub first_bill: bool,
}

impl ImportJob {
    /// The import's options.
    pub fn options(&self) -> ImportOptions {
        ImportOptions {
            tenant_id: Some(self.tenant_id),
            dry_run: self.dry_run,
            all_or_nothing: self.all_or_nothing,
            first_bill: self.first_bill,
        }
    }
}

/// Queues the import of `csv` into the tenant `options` names (or the actor's); returns the
/// job. Refused at once: a file too large or with unknown or missing columns, a tenant the
/// actor may not import into, and a duplicate of a file sent in the last day.
pub async fn submit(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    csv: &[u8],
    options: &ImportOptions,
) -> Result<Job, OpError> {
    if !actor.can(Permission::ManageCustomers) {
        return Err(OpError::Forbidden);
    }
    let tenant_id = options
        .tenant_id
        .map(TenantId)
        .or(actor.tenant_id)
        .ok_or_else(|| OpError::field("tenant_id", "required"))?;
    let tenant = store::tenant::find(ctx.db.conn(), &tenant_scope(actor), tenant_id)
        .await?
        .ok_or_else(|| OpError::field("tenant_id", "not_found"))?;
    if tenant.status != domain::tenant::TenantStatus::Active {
        return Err(OpError::field("tenant_id", "archived"));
    }
    check_file(csv)?;
    let sha256 = hex::encode(Sha256::digest(csv));
    let mode = if options.dry_run { "check" } else { "import" };
    let key = format!("{KIND}:{}:{sha256}:{mode}", tenant_id.0);
    let mut w = ctx.db.write(author, ctx.now).await?;
    let held_after = ctx.now - DUPLICATE_WINDOW;
    if let Some(earlier) = store::job::holder_of_dedupe_key(w.tx(), &key, held_after).await? {
        return Err(duplicate(&earlier));
    }
    let upload_id = store::upload::save(
        &w,
        &NewUpload {
            tenant_id: Some(tenant_id),
            kind: KIND,
            sha256: &sha256,
            content: csv,
            created_by: Some(actor.user_id),
        },
    )
    .await?;
    let payload = ImportJob {
        upload_id,
        tenant_id: tenant_id.0,
        user_id: actor.user_id.0,
        dry_run: options.dry_run,
        all_or_nothing: options.all_or_nothing,
        first_bill: options.first_bill,
    };
    let new = NewJob {
        kind: KIND,
        payload: serde_json::to_value(&payload).map_err(|e| OpError::Internal(e.to_string()))?,
        run_at: ctx.now,
        dedupe_key: Some(key.clone()),
        max_attempts: 3,
        tenant_id: Some(tenant_id),
        created_by: Some(actor.user_id),
    };
    // Two of the same file sent at once: the second finds the key taken.
    let Some(id) = w.enqueue(new).await? else {
        return match store::job::by_dedupe_key(w.tx(), &key).await? {
            Some(earlier) => Err(duplicate(&earlier)),
            None => Err(OpError::Busy),
        };
    };
    w.audit(AuditEntry {
        tenant_id: Some(tenant_id),
        action: "customer.import",
        entity: "job",
        entity_id: Some(id.0),
        before: None,
        after: Some(serde_json::json!({
            "sha256": sha256, "bytes": csv.len(), "dry_run": options.dry_run,
            "all_or_nothing": options.all_or_nothing, "first_bill": options.first_bill,
        })),
    })
    .await?;
    w.commit().await?;
    store::job::find(ctx.db, id)
        .await?
        .ok_or_else(|| OpError::Internal(format!("job {} vanished", id.0)))
}

fn duplicate(earlier: &Job) -> OpError {
    OpError::from(FieldError::new("csv", "duplicate_import").with("job", earlier.id))
}
