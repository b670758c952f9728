//! Tenants: scoped reads, and the changes (create, change settings, archive) through the
//! write path. A tenant is archived, never deleted: what refers to it stays.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::{Value, json};

use crate::db::Db;
use crate::entity::code::Stored;
use crate::entity::tenant::{ActiveModel, Column, Entity, Model};
use crate::error::{StoreError, StoreResult, on_unique};
use crate::list::{ListSpec, Page, PageRequest, SortColumn, SortKind};
use crate::scope;
use crate::versioned::update_versioned;
use crate::write::{AuditEntry, Write};
use domain::aaa::SuspensionPolicy;
use domain::access::{TenantFacts, TenantScope};
use domain::customer::BillingType;
use domain::ids::{TenantId, UserId};
use domain::locale::TimeZoneName;
use domain::tenant::{NewTenant, Realm, TenantChanges, TenantStatus};

/// A stored tenant.
pub type Tenant = Model;

/// The tenant list: sortable by id, name and creation time.
pub static LIST: ListSpec<Entity> = ListSpec {
    sorts: &[
        SortColumn {
            name: "id",
            column: Column::Id,
            kind: SortKind::Int,
        },
        SortColumn {
            name: "name",
            column: Column::Name,
            kind: SortKind::Text,
        },
        SortColumn {
            name: "created_at",
            column: Column::CreatedAt,
            kind: SortKind::Time,
        },
    ],
    id: Column::Id,
    default_sort: "name",
};

/// Filters of the tenant list.
#[derive(Debug, Clone, Default)]
pub struct TenantFilter {
    /// Only tenants with this status (`active` when `None`; `"all"` for every status).
    pub status: Option<String>,
    /// Names starting with this text (case-insensitive).
    pub name_prefix: Option<String>,
    /// Tenants in this country.
    pub country: Option<String>,
}

/// What the access rules need to know of a tenant.
pub fn facts(tenant: &Tenant) -> TenantFacts {
    TenantFacts {
        id: TenantId(tenant.id),
        owner_id: tenant.owner_id.map(UserId),
        active: tenant.status == TenantStatus::Active,
    }
}

/// The tenant's state for the audit log.
pub fn snapshot(tenant: &Tenant) -> Value {
    json!({
        "id": tenant.id,
        "name": tenant.name,
        "country": tenant.country,
        "currency": tenant.currency,
        "time_zone": tenant.time_zone,
        "owner_id": tenant.owner_id,
        "realm": tenant.realm,
        "suspension_policy": tenant.suspension_policy,
        "suspension_target": tenant.suspension_target,
        "default_billing_type": tenant.default_billing_type,
        "mobile_country": tenant.mobile_country,
        "distributor_mobiles": tenant.distributor_mobiles,
        "status": tenant.status,
        "version": tenant.version,
    })
}

/// A tenant in the caller's scope.
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    id: TenantId,
) -> StoreResult<Option<Tenant>> {
    Ok(Entity::find_by_id(id.0)
        .filter(scope::tenants(scope))
        .one(conn)
        .await?)
}

/// A page of the tenants in the caller's scope.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &TenantScope,
    filter: &TenantFilter,
    page: &PageRequest,
) -> StoreResult<Page<Tenant>> {
    let mut select = Entity::find().filter(scope::tenants(scope));
    match filter.status.as_deref() {
        None => select = select.filter(Column::Status.eq(Stored(TenantStatus::Active))),
        Some("all") => {}
        Some(status) => select = select.filter(Column::Status.eq(status)),
    }
    if let Some(prefix) = &filter.name_prefix {
        select = select.filter(crate::list::starts_with(Column::Name, prefix));
    }
    if let Some(country) = &filter.country {
        select = select.filter(Column::Country.eq(country.to_ascii_uppercase()));
    }
    crate::list::fetch(conn, &LIST, select, page).await
}

/// Creates a tenant owned by `owner` (the Super Admin creating it, if one is).
pub async fn create(w: &mut Write, new: &NewTenant, owner: Option<UserId>) -> StoreResult<Tenant> {
    let now = w.now();
    let row = ActiveModel {
        id: NotSet,
        name: Set(new.name.clone()),
        country: Set(new.country.as_str().to_owned()),
        currency: Set(new.currency.as_str().to_owned()),
        time_zone: Set(new.time_zone.as_str().to_owned()),
        owner_id: Set(owner.map(|o| o.0)),
        currency_locked: Set(false),
        status: Set(Stored(TenantStatus::Active)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        archived_at: Set(None),
        realm: Set(Some(free_realm(w, new).await?.as_str().to_owned())),
        suspension_policy: Set(new
            .settings
            .suspension
            .as_ref()
            .map_or("reject", SuspensionPolicy::kind)
            .to_owned()),
        suspension_target: Set(new
            .settings
            .suspension
            .as_ref()
            .and_then(|p| p.target())
            .map(str::to_owned)),
        default_billing_type: Set(Stored(
            new.settings
                .default_billing_type
                .unwrap_or(BillingType::Prepaid),
        )),
        mobile_country: Set(new
            .settings
            .mobile_country
            .as_ref()
            .map(|c| c.as_str().to_owned())),
        utc_offset_minutes: Set(new.time_zone.utc_offset_minutes(now)),
        billing_day: Set(1),
        due_days: Set(7),
        grace_days: Set(3),
        remind_days: Set(3),
        bin: Set(String::new()),
        address: Set(String::new()),
        sms_lang: Set("en".to_owned()),
        distributor_mobiles: Set(new.settings.distributor_mobiles.unwrap_or(false)),
    };
    let tenant = row
        .insert(w.tx())
        .await
        .map_err(|e| on_unique(e, UNIQUE_KEYS))?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(tenant.id)),
        action: "tenant.create",
        entity: "tenant",
        entity_id: Some(tenant.id),
        before: None,
        after: Some(snapshot(&tenant)),
    })
    .await?;
    Ok(tenant)
}

const UNIQUE_KEYS: &[(&str, &str)] = &[("tenant_realm_key", "realm"), ("tenant.realm", "realm")];

/// The realm asked for, or the first free one made from the name.
async fn free_realm(w: &mut Write, new: &NewTenant) -> StoreResult<Realm> {
    if let Some(realm) = &new.settings.realm {
        return Ok(realm.clone());
    }
    let base = Realm::suggest(&new.name);
    for n in 1..1000 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            base.numbered(n)
        };
        let taken = Entity::find()
            .filter(Column::Realm.eq(candidate.as_str()))
            .one(w.tx())
            .await?
            .is_some();
        if !taken {
            return Ok(candidate);
        }
    }
    Err(StoreError::Refused {
        field: "realm",
        code: "taken",
    })
}

/// The tenant's suspension policy.
pub fn suspension_policy(tenant: &Tenant) -> SuspensionPolicy {
    SuspensionPolicy::parse(
        &tenant.suspension_policy,
        tenant.suspension_target.as_deref(),
    )
    .unwrap_or(SuspensionPolicy::Reject)
}

/// The tenant's realm (every tenant has one; the id stands in for a row from before realms).
pub fn realm(tenant: &Tenant) -> String {
    tenant
        .realm
        .clone()
        .unwrap_or_else(|| format!("t{}", tenant.id))
}

/// Changes a tenant's settings if it is still at `version`. The currency is fixed once
/// anything priced exists under the tenant.
pub async fn update(
    w: &mut Write,
    scope: &TenantScope,
    id: TenantId,
    version: i32,
    changes: &TenantChanges,
) -> StoreResult<Tenant> {
    let before = find(w.tx(), scope, id).await?.ok_or(StoreError::NotFound)?;
    if before.status != TenantStatus::Active {
        return Err(StoreError::Refused {
            field: "status",
            code: "archived",
        });
    }
    let currency_changes = changes
        .currency
        .as_ref()
        .is_some_and(|c| c.as_str() != before.currency);
    if currency_changes && before.currency_locked {
        return Err(StoreError::Refused {
            field: "currency",
            code: "currency_locked",
        });
    }
    let mut row: ActiveModel = before.clone().into();
    if let Some(name) = &changes.name {
        row.name = Set(name.clone());
    }
    if let Some(country) = &changes.country {
        row.country = Set(country.as_str().to_owned());
    }
    if let Some(currency) = &changes.currency {
        row.currency = Set(currency.as_str().to_owned());
    }
    if let Some(zone) = &changes.time_zone {
        row.time_zone = Set(zone.as_str().to_owned());
        row.utc_offset_minutes = Set(zone.utc_offset_minutes(w.now()));
    }
    let settings = &changes.settings;
    if let Some(realm) = &settings.realm {
        if before.realm.as_deref() != Some(realm.as_str()) && has_customers(w, id).await? {
            // Made-up user names carry the realm: it stays once customers exist.
            return Err(StoreError::Refused {
                field: "realm",
                code: "realm_in_use",
            });
        }
        row.realm = Set(Some(realm.as_str().to_owned()));
    }
    if let Some(policy) = &settings.suspension {
        row.suspension_policy = Set(policy.kind().to_owned());
        row.suspension_target = Set(policy.target().map(str::to_owned));
    }
    if let Some(billing) = settings.default_billing_type {
        row.default_billing_type = Set(Stored(billing));
    }
    if let Some(country) = &settings.mobile_country {
        row.mobile_country = Set(Some(country.as_str().to_owned()));
    }
    if let Some(shown) = settings.distributor_mobiles {
        row.distributor_mobiles = Set(shown);
    }
    let after = update_versioned::<Entity>(w, row, id.0, version, UNIQUE_KEYS).await?;
    if suspension_policy(&after) != suspension_policy(&before) {
        // Suspended customers answer with the policy: their rows follow it (at once when
        // they are few, through a converging job after commit when they are many).
        let reach = crate::customer::Reach::Suspended { tenant: id.0 };
        crate::customer::rewrite_or_converge(w, id, reach, "tenant.suspension_policy").await?;
    }
    w.audit(AuditEntry {
        tenant_id: Some(id),
        action: "tenant.update",
        entity: "tenant",
        entity_id: Some(id.0),
        before: Some(snapshot(&before)),
        after: Some(snapshot(&after)),
    })
    .await?;
    Ok(after)
}

/// Archives a tenant: its staff can no longer sign in, its subscribers' FreeRADIUS rows
/// and its routers' `nas` rows go (so nobody is served any more), its records stay.
pub async fn archive(w: &mut Write, scope: &TenantScope, id: TenantId) -> StoreResult<Tenant> {
    let before = find(w.tx(), scope, id).await?.ok_or(StoreError::NotFound)?;
    if before.status == TenantStatus::Archived {
        return Err(StoreError::Refused {
            field: "status",
            code: "archived",
        });
    }
    let mut row: ActiveModel = before.clone().into();
    row.status = Set(Stored(TenantStatus::Archived));
    row.archived_at = Set(Some(w.now()));
    let after = update_versioned::<Entity>(w, row, id.0, before.version, UNIQUE_KEYS).await?;
    // The ISP stops serving: FreeRADIUS forgets its subscribers and its routers.
    crate::radius::remove_tenant(w, id).await?;
    w.aaa_changed(Some(id), None, "tenant.archive").await?;
    w.audit(AuditEntry {
        tenant_id: Some(id),
        action: "tenant.archive",
        entity: "tenant",
        entity_id: Some(id.0),
        before: Some(snapshot(&before)),
        after: Some(snapshot(&after)),
    })
    .await?;
    Ok(after)
}

/// True when tenant `id` is archived (or gone).
pub async fn is_archived<C: ConnectionTrait>(conn: &C, id: TenantId) -> StoreResult<bool> {
    Ok(Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .is_none_or(|t| t.status != TenantStatus::Active))
}

async fn has_customers(w: &Write, id: TenantId) -> StoreResult<bool> {
    use crate::entity::customer;
    Ok(customer::Entity::find()
        .filter(customer::Column::TenantId.eq(id.0))
        .one(w.tx())
        .await?
        .is_some())
}

/// Fixes the tenant's currency: called in the transaction that creates its first priced
/// record.
pub async fn lock_currency(w: &mut Write, id: TenantId) -> StoreResult<()> {
    Entity::update_many()
        .col_expr(
            Column::CurrencyLocked,
            sea_orm::sea_query::Expr::value(true),
        )
        .filter(Column::Id.eq(id.0))
        .filter(Column::CurrencyLocked.eq(false))
        .exec(w.tx())
        .await?;
    Ok(())
}

/// Brings every tenant's `utc_offset_minutes` to its zone's offset at `now` (daylight
/// saving time moves it twice a year; the hourly housekeeping calls this). Returns how
/// many tenants changed. Not audited: the column is derived from the time zone.
pub async fn refresh_utc_offsets(db: &Db, now: DateTime<Utc>) -> StoreResult<u64> {
    let tenants = Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::TimeZone)
        .column(Column::UtcOffsetMinutes)
        .into_tuple::<(i64, String, i32)>()
        .all(db.conn())
        .await?;
    let mut changed = 0;
    for (id, zone, offset) in tenants {
        let Ok(zone) = TimeZoneName::parse("time_zone", &zone) else {
            continue;
        };
        let now_offset = zone.utc_offset_minutes(now);
        if now_offset != offset {
            Entity::update_many()
                .col_expr(Column::UtcOffsetMinutes, Expr::value(now_offset))
                .filter(Column::Id.eq(id))
                .exec(db.conn())
                .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Sets tenant `id`'s postpaid terms, audited with what they were.
pub async fn set_billing_terms(
    w: &mut Write,
    id: TenantId,
    terms: &domain::postpaid::Terms,
) -> StoreResult<Tenant> {
    let days = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    let as_json = |t: &Tenant| {
        serde_json::json!({
            "billing_day": t.billing_day, "due_days": t.due_days,
            "grace_days": t.grace_days, "remind_days": t.remind_days,
        })
    };
    set_audited(w, id, "tenant.billing_terms", as_json, |row| {
        row.billing_day = Set(i32::from(terms.billing_day.stored()));
        row.due_days = Set(days(terms.due_days));
        row.grace_days = Set(days(terms.grace_days));
        row.remind_days = Set(days(terms.remind_days));
    })
    .await
}

/// Sets tenant `id`'s registration for VAT (BIN and issuing address), audited.
pub async fn set_tax_identity(
    w: &mut Write,
    id: TenantId,
    identity: &domain::invoice::TaxIdentity,
) -> StoreResult<Tenant> {
    let as_json = |t: &Tenant| serde_json::json!({"bin": t.bin, "address": t.address});
    set_audited(w, id, "tenant.tax_identity", as_json, |row| {
        row.bin = Set(identity.bin.clone());
        row.address = Set(identity.address.clone());
    })
    .await
}

/// Changes tenant `id` by `change`, bumping its version, audited as `action` with `as_json`
/// of it before and after.
async fn set_audited(
    w: &mut Write,
    id: TenantId,
    action: &'static str,
    as_json: impl Fn(&Tenant) -> serde_json::Value,
    change: impl FnOnce(&mut ActiveModel),
) -> StoreResult<Tenant> {
    let before = Entity::find_by_id(id.0)
        .one(w.tx())
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut row: ActiveModel = before.clone().into();
    change(&mut row);
    row.version = Set(before.version + 1);
    row.updated_at = Set(w.now());
    let after = row.update(w.tx()).await?;
    w.audit(AuditEntry {
        tenant_id: Some(id),
        action,
        entity: "tenant",
        entity_id: Some(id.0),
        before: Some(as_json(&before)),
        after: Some(as_json(&after)),
    })
    .await?;
    Ok(after)
}

/// Tenant `id`, whatever its status, for the system's own work on its records (settling a
/// payment a provider took).
pub async fn find_any<C: ConnectionTrait>(conn: &C, id: TenantId) -> StoreResult<Option<Tenant>> {
    Ok(Entity::find_by_id(id.0).one(conn).await?)
}
