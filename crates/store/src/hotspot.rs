//! The captive portal's persistence (hotspot-design.md §1.5, §2.4, §4.3): portals, found by
//! their public key; visits, found by the SHA-256 of their cookie (the cookie itself is
//! never stored); one-time codes, kept as keyed hashes and moved only by conditional
//! `UPDATE`s (a try counts once, a code is used once, however many requests race); the
//! devices bound to accounts; and each mobile's one trial, unique per tenant.
//!
//! Visits and codes are written on the connection, outside audited writes: they are a
//! phone's progress, not a change to the ISP's records. What changes records (a portal, an
//! account's devices, a trial) goes through [`Write`] with its audit entry.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::entity::{hotspot_device, hotspot_portal, hotspot_trial, otp_code, portal_session};
use crate::error::{StoreResult, on_unique};
use crate::write::{AuditEntry, Write};
use domain::ids::TenantId;

/// A stored portal.
pub type Portal = hotspot_portal::Model;
/// A stored visit.
pub type Visit = portal_session::Model;
/// A stored one-time code.
pub type Otp = otp_code::Model;
/// A bound device.
pub type Device = hotspot_device::Model;

/// The alphabet of portal keys and visit cookies (RFC 4648 base32, lower case).
const BASE32: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

/// The length of a visit's cookie (160 bits).
pub const TOKEN_LEN: usize = 32;

/// SHA-256 of a visit's cookie, hex: what is stored and looked up.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What the audit log shows of a portal.
pub fn portal_json(p: &Portal) -> Value {
    json!({
        "id": p.id, "tenant_id": p.tenant_id, "router_id": p.router_id,
        "portal_key": p.portal_key, "owner_id": p.owner_id, "package_id": p.package_id,
        "trial_package_id": p.trial_package_id, "max_devices": p.max_devices,
        "codes_per_hour": p.codes_per_hour,
        "hosts": p.hosts, "status": p.status, "version": p.version,
    })
}

/// A portal to make.
#[derive(Debug, Clone)]
pub struct NewPortal<'a> {
    /// Its tenant.
    pub tenant: TenantId,
    /// Its router.
    pub router_id: i64,
    /// The reseller new accounts belong to.
    pub owner_id: Option<i64>,
    /// The package new accounts are made on.
    pub package_id: i64,
    /// The trial's package.
    pub trial_package_id: Option<i64>,
    /// Devices an account may bind.
    pub max_devices: i32,
    /// Codes its phones may be sent in an hour.
    pub codes_per_hour: i32,
    /// Host names of the router's login page, comma-separated.
    pub hosts: &'a str,
}

/// Makes a portal with a new key, in `w`; a router has one portal (`router_id` taken).
pub async fn create_portal(w: &mut Write, new: &NewPortal<'_>) -> StoreResult<Portal> {
    let now = w.now();
    let portal = hotspot_portal::ActiveModel {
        id: NotSet,
        tenant_id: Set(new.tenant.0),
        router_id: Set(new.router_id),
        portal_key: Set(crate::crypto::random_text(BASE32, domain::hotspot::KEY_LEN)),
        owner_id: Set(new.owner_id),
        package_id: Set(new.package_id),
        trial_package_id: Set(new.trial_package_id),
        max_devices: Set(new.max_devices),
        codes_per_hour: Set(new.codes_per_hour),
        hosts: Set(new.hosts.to_owned()),
        status: Set("active".to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(w.tx())
    .await
    .map_err(|e| {
        on_unique(
            e,
            &[
                ("hotspot_portal_router_key", "router_id"),
                ("hotspot_portal.router_id", "router_id"),
            ],
        )
    })?;
    w.audit(AuditEntry {
        tenant_id: Some(new.tenant),
        action: "hotspot.portal_create",
        entity: "hotspot_portal",
        entity_id: Some(portal.id),
        before: None,
        after: Some(portal_json(&portal)),
    })
    .await?;
    Ok(portal)
}

/// What a portal's edit sets: everything but its router and key.
#[derive(Debug, Clone)]
pub struct PortalChanges<'a> {
    /// The reseller new accounts belong to.
    pub owner_id: Option<i64>,
    /// The package new accounts are made on.
    pub package_id: i64,
    /// The trial's package.
    pub trial_package_id: Option<i64>,
    /// Devices an account may bind.
    pub max_devices: i32,
    /// Codes its phones may be sent in an hour.
    pub codes_per_hour: i32,
    /// Host names of the router's login page, comma-separated.
    pub hosts: &'a str,
    /// `active`, or `disabled` (its visits are refused and provisioning leaves it out).
    pub status: &'a str,
}

/// Saves `changes` to portal `before` if it is still at `version`, in `w`, audited.
pub async fn update_portal(
    w: &mut Write,
    before: &Portal,
    version: i32,
    changes: &PortalChanges<'_>,
) -> StoreResult<Portal> {
    let row = hotspot_portal::ActiveModel {
        owner_id: Set(changes.owner_id),
        package_id: Set(changes.package_id),
        trial_package_id: Set(changes.trial_package_id),
        max_devices: Set(changes.max_devices),
        codes_per_hour: Set(changes.codes_per_hour),
        hosts: Set(changes.hosts.to_owned()),
        status: Set(changes.status.to_owned()),
        ..Default::default()
    };
    let after = crate::versioned::update_versioned::<hotspot_portal::Entity>(
        w,
        row,
        before.id,
        version,
        &[],
    )
    .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(after.tenant_id)),
        action: "hotspot.portal_update",
        entity: "hotspot_portal",
        entity_id: Some(after.id),
        before: Some(portal_json(before)),
        after: Some(portal_json(&after)),
    })
    .await?;
    Ok(after)
}

/// The portal with `key`.
pub async fn portal_by_key<C: ConnectionTrait>(conn: &C, key: &str) -> StoreResult<Option<Portal>> {
    Ok(hotspot_portal::Entity::find()
        .filter(hotspot_portal::Column::PortalKey.eq(key))
        .one(conn)
        .await?)
}

/// Portal `id`.
pub async fn portal<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Option<Portal>> {
    Ok(hotspot_portal::Entity::find_by_id(id).one(conn).await?)
}

/// The portals of `tenant` (every tenant's when `None`), by id.
pub async fn portals<C: ConnectionTrait>(
    conn: &C,
    tenant: Option<TenantId>,
) -> StoreResult<Vec<Portal>> {
    let mut select = hotspot_portal::Entity::find().order_by_asc(hotspot_portal::Column::Id);
    if let Some(t) = tenant {
        select = select.filter(hotspot_portal::Column::TenantId.eq(t.0));
    }
    Ok(select.all(conn).await?)
}

/// A visit to open.
#[derive(Debug, Clone)]
pub struct NewVisit<'a> {
    /// Its portal.
    pub portal: &'a Portal,
    /// The MAC the router said.
    pub mac: Option<String>,
    /// The address the router said.
    pub ip: Option<String>,
    /// The router's login address, checked.
    pub login_url: &'a str,
    /// The first address.
    pub dst: Option<String>,
    /// The CHAP offer: id and challenge as hex.
    pub chap: Option<(i32, String)>,
    /// The router's error code.
    pub router_error: Option<&'a str>,
    /// `en` or `bn`.
    pub lang: &'a str,
    /// When it ends.
    pub expires_at: DateTime<Utc>,
}

/// Opens a visit; returns its cookie (shown once, stored only hashed) and the visit.
pub async fn open_visit<C: ConnectionTrait>(
    conn: &C,
    new: &NewVisit<'_>,
    now: DateTime<Utc>,
) -> StoreResult<(String, Visit)> {
    let token = crate::crypto::random_text(BASE32, TOKEN_LEN);
    let (chap_id, chap_challenge) = match &new.chap {
        Some((id, challenge)) => (Some(*id), Some(challenge.clone())),
        None => (None, None),
    };
    let visit = portal_session::ActiveModel {
        id: NotSet,
        token_hash: Set(token_hash(&token)),
        tenant_id: Set(new.portal.tenant_id),
        portal_id: Set(new.portal.id),
        router_id: Set(new.portal.router_id),
        mac: Set(new.mac.clone()),
        ip: Set(new.ip.clone()),
        login_url: Set(new.login_url.to_owned()),
        dst: Set(new.dst.clone()),
        chap_id: Set(chap_id),
        chap_challenge: Set(chap_challenge),
        router_error: Set(new.router_error.map(str::to_owned)),
        lang: Set(new.lang.to_owned()),
        mobile: Set(None),
        verified_at: Set(None),
        customer_id: Set(None),
        codes: Set(0),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
        handed_off_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok((token, visit))
}

/// The live visit whose cookie is `token`.
pub async fn visit<C: ConnectionTrait>(
    conn: &C,
    token: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<Visit>> {
    Ok(portal_session::Entity::find()
        .filter(portal_session::Column::TokenHash.eq(token_hash(token)))
        .filter(portal_session::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?)
}

/// What a step of a visit changes (`None`: left as it is).
#[derive(Debug, Clone, Default)]
pub struct VisitChanges {
    /// The language.
    pub lang: Option<String>,
    /// The mobile a code goes to (a new one forgets the proof and the account).
    pub mobile: Option<String>,
    /// The mobile proved at.
    pub verified_at: Option<DateTime<Utc>>,
    /// The account chosen.
    pub customer_id: Option<i64>,
    /// Handed off to the router at.
    pub handed_off_at: Option<DateTime<Utc>>,
    /// A new end.
    pub expires_at: Option<DateTime<Utc>>,
    /// One more code sent.
    pub code_sent: bool,
    /// Proved by an access voucher, whose account this is: the visit acts for it, and
    /// forgets any mobile typed.
    pub voucher: Option<i64>,
}

/// Applies `changes` to visit `id`.
pub async fn change_visit<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    changes: VisitChanges,
) -> StoreResult<()> {
    let mut update =
        portal_session::Entity::update_many().filter(portal_session::Column::Id.eq(id));
    if let Some(lang) = changes.lang {
        update = update.col_expr(portal_session::Column::Lang, Expr::value(lang));
    }
    if let Some(mobile) = changes.mobile {
        update = update
            .col_expr(portal_session::Column::Mobile, Expr::value(mobile))
            .col_expr(
                portal_session::Column::VerifiedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                portal_session::Column::CustomerId,
                Expr::value(Option::<i64>::None),
            );
    }
    if let Some(account) = changes.voucher {
        update = update
            .col_expr(
                portal_session::Column::Mobile,
                Expr::value(Option::<String>::None),
            )
            .col_expr(portal_session::Column::CustomerId, Expr::value(account));
    }
    if let Some(at) = changes.verified_at {
        update = update.col_expr(portal_session::Column::VerifiedAt, Expr::value(at));
    }
    if let Some(customer) = changes.customer_id {
        update = update.col_expr(portal_session::Column::CustomerId, Expr::value(customer));
    }
    if let Some(at) = changes.handed_off_at {
        update = update.col_expr(portal_session::Column::HandedOffAt, Expr::value(at));
    }
    if let Some(at) = changes.expires_at {
        update = update.col_expr(portal_session::Column::ExpiresAt, Expr::value(at));
    }
    if changes.code_sent {
        update = update.col_expr(
            portal_session::Column::Codes,
            Expr::col(portal_session::Column::Codes).add(1),
        );
    }
    update.exec(conn).await?;
    Ok(())
}

/// Deletes visits that ended before `before`; returns how many.
pub async fn drop_visits<C: ConnectionTrait>(conn: &C, before: DateTime<Utc>) -> StoreResult<u64> {
    Ok(portal_session::Entity::delete_many()
        .filter(portal_session::Column::ExpiresAt.lt(before))
        .exec(conn)
        .await?
        .rows_affected)
}

/// A code to keep.
#[derive(Debug, Clone)]
pub struct NewOtp<'a> {
    /// Its tenant.
    pub tenant: TenantId,
    /// The visit it is sent in.
    pub visit: Option<&'a Visit>,
    /// `domain::otp::Purpose`.
    pub purpose: &'a str,
    /// The number, E.164.
    pub msisdn: &'a str,
    /// The code's keyed hash, hex.
    pub code_mac: &'a str,
    /// When it dies.
    pub expires_at: DateTime<Utc>,
}

/// Keeps a code, ending the codes sent before it in the same visit; returns it.
pub async fn insert_otp<C: ConnectionTrait>(
    conn: &C,
    new: &NewOtp<'_>,
    now: DateTime<Utc>,
) -> StoreResult<Otp> {
    if let Some(visit) = new.visit {
        otp_code::Entity::update_many()
            .col_expr(otp_code::Column::ExpiresAt, Expr::value(now))
            .filter(otp_code::Column::PortalSessionId.eq(visit.id))
            .filter(otp_code::Column::UsedAt.is_null())
            .filter(otp_code::Column::ExpiresAt.gt(now))
            .exec(conn)
            .await?;
    }
    Ok(otp_code::ActiveModel {
        id: NotSet,
        tenant_id: Set(new.tenant.0),
        portal_session_id: Set(new.visit.map(|v| v.id)),
        router_id: Set(new.visit.map(|v| v.router_id)),
        purpose: Set(new.purpose.to_owned()),
        msisdn: Set(new.msisdn.to_owned()),
        code_mac: Set(new.code_mac.to_owned()),
        tries: Set(0),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
        used_at: Set(None),
    }
    .insert(conn)
    .await?)
}

/// When codes were sent to `msisdn` in `tenant` at or after `since`, and the wrong tries
/// made on them.
pub async fn sent_to<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    msisdn: &str,
    since: DateTime<Utc>,
) -> StoreResult<(Vec<DateTime<Utc>>, i64)> {
    let codes = otp_code::Entity::find()
        .filter(otp_code::Column::TenantId.eq(tenant.0))
        .filter(otp_code::Column::Msisdn.eq(msisdn))
        .filter(otp_code::Column::CreatedAt.gte(since))
        .all(conn)
        .await?;
    let tries = codes
        .iter()
        .map(|c| i64::from(c.tries) - i64::from(c.used_at.is_some()))
        .sum();
    Ok((codes.into_iter().map(|c| c.created_at).collect(), tries))
}

/// Codes sent through `router` at or after `since`.
pub async fn sent_through<C: ConnectionTrait>(
    conn: &C,
    router: i64,
    since: DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(otp_code::Entity::find()
        .filter(otp_code::Column::RouterId.eq(router))
        .filter(otp_code::Column::CreatedAt.gte(since))
        .count(conn)
        .await?)
}

/// The last code sent in visit `visit`.
pub async fn last_otp<C: ConnectionTrait>(conn: &C, visit: i64) -> StoreResult<Option<Otp>> {
    Ok(otp_code::Entity::find()
        .filter(otp_code::Column::PortalSessionId.eq(visit))
        .order_by_desc(otp_code::Column::Id)
        .one(conn)
        .await?)
}

/// Counts a try on code `id` if it had `tries` tries (each try counts once, whatever
/// races it); false when another request counted first.
pub async fn count_try<C: ConnectionTrait>(conn: &C, id: i64, tries: i32) -> StoreResult<bool> {
    let done = otp_code::Entity::update_many()
        .col_expr(otp_code::Column::Tries, Expr::value(tries + 1))
        .filter(otp_code::Column::Id.eq(id))
        .filter(otp_code::Column::Tries.eq(tries))
        .filter(otp_code::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Uses code `id` at `now`; false when it was used already (a code opens one door once).
pub async fn use_otp<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = otp_code::Entity::update_many()
        .col_expr(otp_code::Column::UsedAt, Expr::value(now))
        .filter(otp_code::Column::Id.eq(id))
        .filter(otp_code::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The devices bound to the customers `ids`, oldest first.
pub async fn devices_of<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> StoreResult<Vec<Device>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(hotspot_device::Entity::find()
        .filter(hotspot_device::Column::CustomerId.is_in(ids.iter().copied()))
        .filter(hotspot_device::Column::RevokedAt.is_null())
        .order_by_asc(hotspot_device::Column::LastSeenAt)
        .order_by_asc(hotspot_device::Column::Id)
        .all(conn)
        .await?)
}

/// Rewrites customer `id`'s FreeRADIUS rows and notes it in the AAA change log, in `w`: its
/// devices changed, and with them who RADIUS lets sign in as it.
async fn devices_changed(w: &mut Write, tenant: TenantId, id: i64) -> StoreResult<()> {
    let customer = crate::entity::customer::Entity::find_by_id(id)
        .filter(crate::entity::customer::Column::ArchivedAt.is_null())
        .one(w.tx())
        .await?;
    if let Some(customer) = customer {
        crate::customer::rewrite_projection(w, &customer).await?;
        w.aaa_changed(Some(tenant), Some(id), "customer.devices")
            .await?;
    }
    Ok(())
}

/// A device to bind.
#[derive(Debug, Clone)]
pub struct NewDevice<'a> {
    /// The customer's tenant.
    pub tenant: TenantId,
    /// The customer.
    pub customer_id: i64,
    /// `AA:BB:CC:DD:EE:FF`.
    pub mac: &'a str,
    /// Locally administered.
    pub randomised: bool,
    /// What it is.
    pub label: &'a str,
    /// Where it was seen.
    pub router_id: i64,
}

fn device_json(d: &Device) -> Value {
    json!({
        "id": d.id, "customer_id": d.customer_id, "mac": d.mac, "randomised": d.randomised,
        "label": d.label, "router_id": d.router_id, "revoked_at": d.revoked_at,
    })
}

/// Binds a device to a customer in `w` (a device bound already is only marked seen); a new
/// one is let in by RADIUS from this commit on (the customer's rows rewritten, the change
/// logged).
pub async fn bind(w: &mut Write, new: &NewDevice<'_>) -> StoreResult<Device> {
    let now = w.now();
    let live = hotspot_device::Entity::find()
        .filter(hotspot_device::Column::CustomerId.eq(new.customer_id))
        .filter(hotspot_device::Column::Mac.eq(new.mac))
        .filter(hotspot_device::Column::RevokedAt.is_null())
        .one(w.tx())
        .await?;
    if let Some(device) = live {
        let mut row: hotspot_device::ActiveModel = device.into();
        row.last_seen_at = Set(now);
        row.router_id = Set(Some(new.router_id));
        return Ok(row.update(w.tx()).await?);
    }
    let device = hotspot_device::ActiveModel {
        id: NotSet,
        tenant_id: Set(new.tenant.0),
        customer_id: Set(new.customer_id),
        mac: Set(new.mac.to_owned()),
        randomised: Set(new.randomised),
        label: Set(new.label.to_owned()),
        router_id: Set(Some(new.router_id)),
        first_seen_at: Set(now),
        last_seen_at: Set(now),
        revoked_at: Set(None),
    }
    .insert(w.tx())
    .await?;
    w.audit(AuditEntry {
        tenant_id: Some(new.tenant),
        action: "hotspot.device_bind",
        entity: "customer",
        entity_id: Some(new.customer_id),
        before: None,
        after: Some(device_json(&device)),
    })
    .await?;
    devices_changed(w, new.tenant, new.customer_id).await?;
    Ok(device)
}

/// Removes device `id` of customer `customer` in `w` (RADIUS no longer lets it in); the
/// device removed, or `None` when it is not bound to it.
pub async fn revoke(w: &mut Write, customer: i64, id: i64) -> StoreResult<Option<Device>> {
    let Some(device) = hotspot_device::Entity::find_by_id(id)
        .filter(hotspot_device::Column::CustomerId.eq(customer))
        .filter(hotspot_device::Column::RevokedAt.is_null())
        .one(w.tx())
        .await?
    else {
        return Ok(None);
    };
    let before = device_json(&device);
    let tenant = TenantId(device.tenant_id);
    let mut row: hotspot_device::ActiveModel = device.into();
    row.revoked_at = Set(Some(w.now()));
    let after = row.update(w.tx()).await?;
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "hotspot.device_remove",
        entity: "customer",
        entity_id: Some(customer),
        before: Some(before),
        after: Some(device_json(&after)),
    })
    .await?;
    devices_changed(w, tenant, customer).await?;
    Ok(Some(after))
}

/// Whether `msisdn` had its trial in `tenant`.
pub async fn had_trial<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    msisdn: &str,
) -> StoreResult<bool> {
    Ok(hotspot_trial::Entity::find()
        .filter(hotspot_trial::Column::TenantId.eq(tenant.0))
        .filter(hotspot_trial::Column::Msisdn.eq(msisdn))
        .count(conn)
        .await?
        > 0)
}

/// Records `msisdn`'s trial in `w`; a second one for the same mobile is refused
/// (`msisdn`/`taken`), whoever races.
pub async fn grant_trial(
    w: &mut Write,
    tenant: TenantId,
    msisdn: &str,
    customer: i64,
) -> StoreResult<()> {
    hotspot_trial::ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant.0),
        msisdn: Set(msisdn.to_owned()),
        customer_id: Set(customer),
        granted_at: Set(w.now()),
    }
    .insert(w.tx())
    .await
    .map_err(|e| {
        on_unique(
            e,
            &[
                ("hotspot_trial_number_key", "msisdn"),
                ("hotspot_trial.tenant_id, hotspot_trial.msisdn", "msisdn"),
            ],
        )
    })?;
    Ok(())
}

/// The live hotspot customers of `tenant` whose mobile is `msisdn` (E.164), by id.
pub async fn accounts_on<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    msisdn: &str,
) -> StoreResult<Vec<crate::customer::Customer>> {
    use crate::entity::customer::{Column, Entity};
    Ok(Entity::find()
        .filter(Column::TenantId.eq(tenant.0))
        .filter(Column::Mobile.eq(msisdn))
        .filter(Column::ConnectionType.eq(domain::package::ConnectionType::Hotspot.as_str()))
        .filter(Column::ArchivedAt.is_null())
        .order_by_asc(Column::Id)
        .all(conn)
        .await?)
}

/// The name of another active tenant with a live customer on `msisdn` (the platform's
/// registry of mobiles: the phone is told only the network's name).
pub async fn network_of<C: ConnectionTrait>(
    conn: &C,
    msisdn: &str,
    except: TenantId,
) -> StoreResult<Option<String>> {
    use crate::entity::customer::{Column, Entity};
    let Some(customer) = Entity::find()
        .filter(Column::Mobile.eq(msisdn))
        .filter(Column::TenantId.ne(except.0))
        .filter(Column::ArchivedAt.is_null())
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(crate::tenant::find_any(conn, TenantId(customer.tenant_id))
        .await?
        .filter(|t| t.archived_at.is_none())
        .map(|t| t.name))
}
