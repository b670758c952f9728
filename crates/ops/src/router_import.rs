//! Import from a router, the operations' side (the reading is `netops::import`'s, the
//! planning `domain::network::import`'s): queuing the job ([`submit`]), what the tenant
//! already has for the plan to see ([`existing`]), the file of everything read
//! ([`snapshot_csv`]) and the writing of a plan ([`apply`]): the pools it creates, then its
//! customers through the same path as a CSV import (validation, batches of one transaction
//! each with their FreeRADIUS rows, audit). Nothing here talks to a router.
//!
//! Who may: those who change the tenant's network and manage its customers. The customers
//! are the tenant's own, bound to the router, of the packages the plan names.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::Ctx;
use crate::customer::import::{Fields, ImportOptions, ImportReport, Progress, RowError};
use crate::error::OpError;
use domain::access::{Actor, Permission};
use domain::customer::{COMMENT_MAX, NAME_MAX, Username};
use domain::field::{FieldError, FieldErrors};
use domain::ids::TenantId;
use domain::network::Pool;
use domain::network::import::{
    Choices, Existing, ExistingPool, Holder, MAX_PROFILES, Plan, PoolAction, SecretAction, Snapshot,
};
use domain::package::ConnectionType;
use store::Author;
use store::job::Job;
use store::network::Router;

/// The job kind.
pub const KIND: &str = "router.import";
/// The keyring context the file of everything read is sealed under (it holds passwords).
pub const SNAPSHOT_CONTEXT: &str = "router.import.snapshot";

/// What an import job does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRequest {
    /// The router read.
    pub router_id: i64,
    /// Profile → package, and whether disabled secrets come too.
    #[serde(default)]
    pub choices: Choices,
    /// Only plan: write nothing.
    pub dry_run: bool,
    /// Bill each active customer created for the first period it is given
    /// (`crate::first_bill`).
    #[serde(default)]
    pub first_bill: bool,
}

/// The router `id` if `actor` may import from it, with API access configured.
pub async fn importable(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Router, OpError> {
    if !actor.can(Permission::ManageCustomers) {
        return Err(OpError::Forbidden);
    }
    let router = crate::network::get_router(ctx, actor, id).await?;
    crate::network::may_change(ctx, actor, router.tenant_id).await?;
    if router.api_address.is_none() || router.api_user.is_none() {
        return Err(OpError::field("api_address", "required"));
    }
    Ok(router)
}

/// Queues an import (or, with `dry_run`, its plan) from the router `request` names; one at
/// a time per router: one already queued or running is the answer. Refused at once: a
/// router the actor may not import from or without API access, and a package the
/// importer may not use.
pub async fn submit(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    request: &ImportRequest,
) -> Result<Job, OpError> {
    let router = importable(ctx, actor, request.router_id).await?;
    let tenant = TenantId(router.tenant_id);
    let usable = usable_packages(ctx, tenant).await?;
    let mut errors = FieldErrors::new();
    if request.choices.packages.len() > MAX_PROFILES {
        errors.push(FieldError::new("packages", "too_many_items").with("max", MAX_PROFILES));
    }
    for (profile, id) in &request.choices.packages {
        if !usable.contains_key(id) {
            errors.push(FieldError::new("packages", "not_usable").with("profile", profile));
        }
    }
    if !errors.is_empty() {
        return Err(OpError::Invalid(errors));
    }
    let payload = serde_json::to_value(request).map_err(|e| OpError::Internal(e.to_string()))?;
    let key = format!("{KIND}:{}", router.id);
    crate::network::queue_router_job(ctx, author, &router, KIND, key, payload).await
}

/// The packages an import from router `id` may give its profiles (the tenant's PPPoE
/// masters): id → name; for the panel's choice after a plan.
pub async fn packages(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: i64,
) -> Result<BTreeMap<i64, String>, OpError> {
    let router = importable(ctx, actor, id).await?;
    usable_packages(ctx, TenantId(router.tenant_id)).await
}

/// The PPPoE packages an import into `tenant` may use (the tenant's masters): id → name.
async fn usable_packages(
    ctx: &Ctx<'_>,
    tenant: TenantId,
) -> Result<BTreeMap<i64, String>, OpError> {
    Ok(
        store::package::usable(ctx.db.conn(), None, tenant, ConnectionType::Pppoe)
            .await?
            .into_iter()
            .collect(),
    )
}

/// What the tenant of `router` has that the plan of importing `snapshot` must see: its
/// pools, the customers holding the secrets' user names, and the packages it may use.
pub async fn existing(
    ctx: &Ctx<'_>,
    router: &Router,
    snapshot: &Snapshot,
) -> Result<Existing, OpError> {
    let tenant = TenantId(router.tenant_id);
    let mut pools = Vec::new();
    for p in store::network::tenant_pools(ctx.db.conn(), tenant).await? {
        pools.push(ExistingPool {
            id: p.id,
            pool: store::network::pool_ranges(&p)?,
            name: p.name,
        });
    }
    let keys: Vec<String> = snapshot
        .secrets
        .iter()
        .filter_map(|s| Username::parse(&s.name).ok())
        .map(|u| u.key())
        .collect();
    let holders = store::customer::name_holders(ctx.db.conn(), &keys)
        .await?
        .into_iter()
        .map(|(key, customer_id, tenant_id, router_id)| {
            let on_this_router = tenant_id == router.tenant_id && router_id == Some(router.id);
            (
                key,
                Holder {
                    customer_id,
                    on_this_router,
                },
            )
        })
        .collect();
    Ok(Existing {
        pools,
        holders,
        packages: usable_packages(ctx, tenant).await?,
    })
}

/// Everything read, as CSV: one row per pool, profile and secret (`kind` first), passwords
/// included (the caller seals it).
pub fn snapshot_csv(snapshot: &Snapshot) -> Result<Vec<u8>, OpError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "kind",
        "name",
        "ranges",
        "profile",
        "password",
        "service",
        "local_address",
        "remote_address",
        "rate_limit",
        "disabled",
        "comment",
    ];
    let broken = |e: csv::Error| OpError::Internal(e.to_string());
    out.write_record(header).map_err(broken)?;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    for p in &snapshot.pools {
        out.write_record(["pool", &p.name, &p.ranges, "", "", "", "", "", "", "", ""])
            .map_err(broken)?;
    }
    for p in &snapshot.profiles {
        out.write_record([
            "profile",
            &p.name,
            "",
            "",
            "",
            "",
            &opt(&p.local_address),
            &opt(&p.remote_address),
            &opt(&p.rate_limit),
            "",
            "",
        ])
        .map_err(broken)?;
    }
    for s in &snapshot.secrets {
        out.write_record([
            "secret",
            &s.name,
            "",
            &s.profile,
            &s.password,
            &s.service,
            "",
            &opt(&s.remote_address),
            "",
            if s.disabled { "yes" } else { "no" },
            &opt(&s.comment),
        ])
        .map_err(broken)?;
    }
    out.into_inner()
        .map_err(|e| OpError::Internal(e.to_string()))
}

/// Keeps the file of everything read from `router` (sealed: it holds passwords) for import
/// job `job`, before anything is written; returns the file's id.
pub async fn keep_snapshot(
    ctx: &Ctx<'_>,
    author: Author,
    router: &Router,
    job: domain::ids::JobId,
    snapshot: &Snapshot,
) -> Result<i64, OpError> {
    use sha2::Digest as _;
    let csv = snapshot_csv(snapshot)?;
    let sealed = ctx
        .db
        .keyring()
        .seal(SNAPSHOT_CONTEXT, &csv)
        .map_err(|e| OpError::Internal(e.to_string()))?;
    let sha256 = hex::encode(sha2::Sha256::digest(&csv));
    let mut w = ctx.db.write(author.clone(), ctx.now).await?;
    let file = store::upload::save(
        &w,
        &store::upload::NewUpload {
            tenant_id: Some(TenantId(router.tenant_id)),
            kind: KIND,
            sha256: &sha256,
            content: sealed.as_bytes(),
            created_by: author.user_id,
        },
    )
    .await?;
    w.audit(store::AuditEntry {
        tenant_id: Some(TenantId(router.tenant_id)),
        action: "router.import.read",
        entity: "router",
        entity_id: Some(router.id),
        before: None,
        after: Some(serde_json::json!({
            "job": job.0,
            "file": file,
            "pools": snapshot.pools.len(),
            "profiles": snapshot.profiles.len(),
            "secrets": snapshot.secrets.len(),
        })),
    })
    .await?;
    w.commit().await?;
    Ok(file)
}

/// What applying a plan did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Applied {
    /// Pools created: name → id.
    pub pools: BTreeMap<String, i64>,
    /// Pools the plan would create that could not be (name → why).
    pub pool_errors: BTreeMap<String, String>,
    /// The customers' import: created, and refusals by secret (`line` is the secret's place
    /// in the router's list, from 1).
    pub customers: ImportReport,
    /// The refused secrets by name, with their errors.
    pub refused: BTreeMap<String, Vec<RowError>>,
}

/// `text` with control characters turned to spaces, trimmed, at most `max` characters.
fn printable(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    clean.trim().chars().take(max).collect()
}

/// Writes `plan` (made from `snapshot` for `router`) as `actor`: its pools, then its
/// customers in batches (with their first bills when `first_bill`), `progress` hearing of
/// each batch.
#[expect(
    clippy::too_many_arguments,
    reason = "what was read, what was planned of it and how it is billed come from the job"
)]
pub async fn apply(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    router: &Router,
    snapshot: &Snapshot,
    plan: &Plan,
    first_bill: bool,
    progress: &mut impl Progress,
) -> Result<Applied, OpError> {
    let tenant = TenantId(router.tenant_id);
    let mut applied = Applied::default();
    for (read, planned) in snapshot.pools.iter().zip(&plan.pools) {
        if planned.action != PoolAction::Create {
            continue;
        }
        let made = match Pool::parse(&read.ranges) {
            Ok(ranges) => {
                crate::network::create_pool(
                    ctx,
                    actor,
                    author.clone(),
                    Some(tenant),
                    read.name.trim(),
                    &ranges,
                )
                .await
            }
            Err(e) => Err(OpError::from(
                FieldError::new("ranges", "invalid_ranges").with("reason", e.to_string()),
            )),
        };
        match made {
            Ok(pool) => {
                applied.pools.insert(pool.name, pool.id);
            }
            Err(e @ (OpError::Internal(_) | OpError::Busy)) => return Err(e),
            Err(e) => {
                applied.pool_errors.insert(read.name.clone(), e.to_string());
            }
        }
    }
    let mut rows: Vec<Fields> = Vec::new();
    for (place, (secret, planned)) in snapshot.secrets.iter().zip(&plan.secrets).enumerate() {
        let SecretAction::Create {
            package_id,
            static_ip,
        } = &planned.action
        else {
            continue;
        };
        // The comment's first line names the customer when there is one; control
        // characters a router lets in become spaces.
        let comment = secret.comment.as_deref().map(|c| printable(c, COMMENT_MAX));
        let name = secret
            .comment
            .as_deref()
            .and_then(|c| c.lines().map(str::trim).find(|l| !l.is_empty()))
            .map_or_else(|| secret.name.clone(), |l| printable(l, NAME_MAX));
        let mut fields = HashMap::from([
            ("name".to_owned(), name),
            ("connection_type".to_owned(), "pppoe".to_owned()),
            ("package".to_owned(), package_id.to_string()),
            ("username".to_owned(), secret.name.clone()),
            ("password".to_owned(), secret.password.clone()),
            ("router".to_owned(), router.name.clone()),
            (
                "status".to_owned(),
                if secret.disabled {
                    "disabled"
                } else {
                    "active"
                }
                .to_owned(),
            ),
        ]);
        if let Some(comment) = comment {
            fields.insert("comment".to_owned(), comment);
        }
        if let Some((address, pool)) = static_ip {
            fields.insert("static_ip".to_owned(), address.to_string());
            fields.insert("ip_pool".to_owned(), pool.clone());
        }
        rows.push((place + 1, fields));
    }
    let total = rows.len();
    let options = ImportOptions {
        tenant_id: Some(tenant.0),
        dry_run: false,
        all_or_nothing: false,
        first_bill,
    };
    applied.customers = crate::customer::import::import_fields(
        ctx,
        actor,
        author,
        rows,
        Vec::new(),
        total,
        &options,
        progress,
    )
    .await?;
    for error in &applied.customers.errors {
        if let Some(secret) = error
            .line
            .checked_sub(1)
            .and_then(|i| snapshot.secrets.get(i))
        {
            applied
                .refused
                .entry(secret.name.clone())
                .or_default()
                .push(error.clone());
        }
    }
    Ok(applied)
}

/// The file of everything import job `job` read from router `router_id`, as CSV, for those
/// who may import from that router; not found once the job's files are purged. It holds
/// passwords: each download is audited.
pub async fn snapshot_file(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    router_id: i64,
    job: domain::ids::JobId,
) -> Result<Vec<u8>, OpError> {
    let router = importable(ctx, actor, router_id).await?;
    let job = crate::job::get(ctx, actor, job).await?;
    let request: Option<ImportRequest> = serde_json::from_str(&job.payload).ok();
    if job.kind != KIND || request.map(|r| r.router_id) != Some(router.id) {
        return Err(OpError::NotFound);
    }
    let file = job
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
        .and_then(|r| r["file"].as_i64())
        .ok_or(OpError::NotFound)?;
    let sealed = store::upload::read(ctx.db, file)
        .await?
        .ok_or(OpError::NotFound)?;
    let sealed = String::from_utf8(sealed).map_err(|e| OpError::Internal(e.to_string()))?;
    let csv = ctx
        .db
        .keyring()
        .open(SNAPSHOT_CONTEXT, &sealed)
        .map_err(|e| OpError::Internal(e.to_string()))?;
    let mut w = ctx.db.write(author, ctx.now).await?;
    w.audit(store::AuditEntry {
        tenant_id: Some(TenantId(router.tenant_id)),
        action: "router.import.file",
        entity: "router",
        entity_id: Some(router.id),
        before: None,
        after: Some(serde_json::json!({ "job": job.id, "file": file })),
    })
    .await?;
    w.commit().await?;
    Ok(csv.to_vec())
}
