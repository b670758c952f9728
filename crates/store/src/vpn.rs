//! VPN servers and accounts (`domain::vpn`): their rows, the accounts' sealed passwords
//! and the servers' sealed IPsec keys, and each account's FreeRADIUS rows, written in the
//! transaction of the change that caused them (marked by `vpn_account_id`), with an entry
//! in the AAA change log (`vpn.*`) so that the built-in server follows.

use std::net::Ipv4Addr;

use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

use crate::entity::radius_item::{radcheck, radreply};
use crate::entity::{router, tenant, vpn_account, vpn_server};
use crate::error::{StoreError, StoreResult, on_unique};
use crate::write::{AuditEntry, Write};
use domain::aaa::Projection;
use domain::ids::TenantId;

/// A stored VPN server.
pub type Server = vpn_server::Model;
/// A stored VPN account.
pub type Account = vpn_account::Model;

/// Where an account's sealed password belongs.
pub const PASSWORD_CONTEXT: &str = "vpn_account.password";
/// Where a server's sealed IPsec key belongs.
pub const IPSEC_CONTEXT: &str = "vpn_server.ipsec_secret";

const SERVER_KEYS: &[(&str, &str)] = &[
    ("vpn_server_router_key", "router_id"),
    ("vpn_server.router_id", "router_id"),
];
const ACCOUNT_KEYS: &[(&str, &str)] = &[
    ("vpn_account_username_key", "username"),
    ("vpn_account.username", "username"),
    ("vpn_account_address_key", "address"),
    ("vpn_account.server_id, vpn_account.address", "address"),
    ("vpn_account_port_key", "port"),
    ("vpn_account.server_id, vpn_account.port", "port"),
];

/// Creates a server on a router of `tenant` (one live server per router), its IPsec key
/// sealed; audited.
pub async fn create_server(
    w: &mut Write,
    tenant: TenantId,
    new: &domain::vpn::NewServer,
    ipsec_secret: Option<&str>,
) -> StoreResult<Server> {
    let sealed = ipsec_secret
        .map(|s| w.keyring().seal(IPSEC_CONTEXT, s.as_bytes()))
        .transpose()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let row = vpn_server::ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant.0),
        router_id: Set(new.router_id),
        protocol: Set(new.protocol.as_str().to_owned()),
        public_host: Set(new.public_host.as_str().to_owned()),
        pool_id: Set(new.pool_id),
        local_address: Set(new.local_address.to_string()),
        ipsec_secret: Set(sealed),
        port_first: Set(i32::from(new.ports.first)),
        port_last: Set(i32::from(new.ports.last)),
        rate_kbps: Set(i32::try_from(new.rate_kbps).unwrap_or(i32::MAX)),
        created_at: Set(w.now()),
        archived_at: Set(None),
    }
    .insert(w.tx())
    .await
    .map_err(|e| on_unique(e, SERVER_KEYS))?;
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "vpn_server.create",
        entity: "vpn_server",
        entity_id: Some(row.id),
        before: None,
        after: Some(server_json(&row)),
    })
    .await?;
    Ok(row)
}

/// What the audit log and the API show of a server (never its key).
pub fn server_json(s: &Server) -> Value {
    json!({
        "id": s.id,
        "tenant_id": s.tenant_id,
        "router_id": s.router_id,
        "protocol": s.protocol,
        "public_host": s.public_host,
        "pool_id": s.pool_id,
        "local_address": s.local_address,
        "port_first": s.port_first,
        "port_last": s.port_last,
        "rate_kbps": s.rate_kbps,
        "created_at": s.created_at,
    })
}

/// What the audit log and the API show of an account (never its password).
pub fn account_json(a: &Account) -> Value {
    json!({
        "id": a.id,
        "tenant_id": a.tenant_id,
        "server_id": a.server_id,
        "username": a.username,
        "address": a.address,
        "port": a.port,
        "customer_id": a.customer_id,
        "user_id": a.user_id,
        "label": a.label,
        "disabled": a.disabled,
        "created_at": a.created_at,
    })
}

/// The live server `id`.
pub async fn find_server<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Option<Server>> {
    Ok(vpn_server::Entity::find_by_id(id)
        .filter(vpn_server::Column::ArchivedAt.is_null())
        .one(conn)
        .await?)
}

/// The live server on router `router`, if it is one.
pub async fn server_of_router<C: ConnectionTrait>(
    conn: &C,
    router: i64,
) -> StoreResult<Option<Server>> {
    Ok(vpn_server::Entity::find()
        .filter(vpn_server::Column::RouterId.eq(router))
        .filter(vpn_server::Column::ArchivedAt.is_null())
        .one(conn)
        .await?)
}

/// The live servers of `tenants` (every tenant's when `None`), by id.
pub async fn servers<C: ConnectionTrait>(
    conn: &C,
    tenants: Option<&[i64]>,
) -> StoreResult<Vec<Server>> {
    let mut q = vpn_server::Entity::find().filter(vpn_server::Column::ArchivedAt.is_null());
    if let Some(t) = tenants {
        q = q.filter(vpn_server::Column::TenantId.is_in(t.iter().copied()));
    }
    Ok(q.order_by_asc(vpn_server::Column::Id).all(conn).await?)
}

/// The accounts of `tenants` (every tenant's when `None`), of server `server` when given,
/// by id.
pub async fn accounts<C: ConnectionTrait>(
    conn: &C,
    tenants: Option<&[i64]>,
    server: Option<i64>,
) -> StoreResult<Vec<Account>> {
    let mut q = vpn_account::Entity::find();
    if let Some(t) = tenants {
        q = q.filter(vpn_account::Column::TenantId.is_in(t.iter().copied()));
    }
    if let Some(s) = server {
        q = q.filter(vpn_account::Column::ServerId.eq(s));
    }
    Ok(q.order_by_asc(vpn_account::Column::Id).all(conn).await?)
}

/// Account `id`.
pub async fn find_account<C: ConnectionTrait>(conn: &C, id: i64) -> StoreResult<Option<Account>> {
    Ok(vpn_account::Entity::find_by_id(id).one(conn).await?)
}

/// The tunnel addresses (as numbers, ascending) and public ports (ascending) the accounts
/// of `server` hold.
pub async fn taken<C: ConnectionTrait>(conn: &C, server: i64) -> StoreResult<(Vec<u32>, Vec<u16>)> {
    let rows = accounts(conn, None, Some(server)).await?;
    let mut addresses: Vec<u32> = rows
        .iter()
        .filter_map(|a| a.address.parse::<Ipv4Addr>().ok())
        .map(u32::from)
        .collect();
    let mut ports: Vec<u16> = rows
        .iter()
        .filter_map(|a| u16::try_from(a.port).ok())
        .collect();
    addresses.sort_unstable();
    ports.sort_unstable();
    Ok((addresses, ports))
}

/// A new account, its address and port chosen and its credentials generated.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Its credentials.
    pub credentials: domain::vpn::Credentials,
    /// Its tunnel address.
    pub address: Ipv4Addr,
    /// Its public port.
    pub port: u16,
    /// The customer it serves, if a customer's.
    pub customer_id: Option<i64>,
    /// The staff user it serves, if a staff user's.
    pub user_id: Option<i64>,
    /// What the staff call it.
    pub label: String,
}

/// Creates an account on `server` with its RADIUS rows; audited.
pub async fn create_account(
    w: &mut Write,
    server: &Server,
    new: &NewAccount,
) -> StoreResult<Account> {
    let sealed = w
        .keyring()
        .seal(PASSWORD_CONTEXT, new.credentials.password.as_bytes())
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let row = vpn_account::ActiveModel {
        id: NotSet,
        tenant_id: Set(server.tenant_id),
        server_id: Set(server.id),
        username: Set(new.credentials.username.clone()),
        password: Set(sealed),
        address: Set(new.address.to_string()),
        port: Set(i32::from(new.port)),
        customer_id: Set(new.customer_id),
        user_id: Set(new.user_id),
        label: Set(new.label.clone()),
        disabled: Set(false),
        created_at: Set(w.now()),
    }
    .insert(w.tx())
    .await
    .map_err(|e| on_unique(e, ACCOUNT_KEYS))?;
    reproject(w, &row).await?;
    w.aaa_changed(Some(TenantId(row.tenant_id)), None, "vpn.create")
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(row.tenant_id)),
        action: "vpn_account.create",
        entity: "vpn_account",
        entity_id: Some(row.id),
        before: None,
        after: Some(account_json(&row)),
    })
    .await?;
    Ok(row)
}

/// Switches an account off or on again (its rows refuse it while off); audited.
pub async fn set_disabled(
    w: &mut Write,
    account: &Account,
    disabled: bool,
) -> StoreResult<Account> {
    let mut row: vpn_account::ActiveModel = account.clone().into();
    row.disabled = Set(disabled);
    let after = row.update(w.tx()).await?;
    reproject(w, &after).await?;
    w.aaa_changed(Some(TenantId(after.tenant_id)), None, "vpn.update")
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(after.tenant_id)),
        action: if disabled {
            "vpn_account.disable"
        } else {
            "vpn_account.enable"
        },
        entity: "vpn_account",
        entity_id: Some(after.id),
        before: Some(account_json(account)),
        after: Some(account_json(&after)),
    })
    .await?;
    Ok(after)
}

/// Deletes an account and its RADIUS rows; audited (the rule on the VPN router goes with
/// the next synchronisation).
pub async fn delete_account(w: &mut Write, account: &Account) -> StoreResult<()> {
    remove_rows(w, account.id).await?;
    vpn_account::Entity::delete_by_id(account.id)
        .exec(w.tx())
        .await?;
    w.aaa_changed(Some(TenantId(account.tenant_id)), None, "vpn.delete")
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(account.tenant_id)),
        action: "vpn_account.delete",
        entity: "vpn_account",
        entity_id: Some(account.id),
        before: Some(account_json(account)),
        after: None,
    })
    .await
}

/// Rewrites the rows of every account of the server on router `router` (its address or
/// its life changed); nothing when it is no server.
pub async fn reproject_router(w: &mut Write, router: i64) -> StoreResult<()> {
    let servers = vpn_server::Entity::find()
        .filter(vpn_server::Column::RouterId.eq(router))
        .all(w.tx())
        .await?;
    for server in servers {
        for account in accounts(w.tx(), None, Some(server.id)).await? {
            reproject(w, &account).await?;
        }
    }
    Ok(())
}

/// What the AAA rules need of an account, read: its password opened, its server's router
/// and tenant resolved. `None` when its server or router is archived or gone.
pub async fn view<C: ConnectionTrait>(
    conn: &C,
    keyring: &crate::crypto::Keyring,
    account: &Account,
) -> StoreResult<Option<View>> {
    let mut views = views(conn, keyring, vec![account.clone()]).await?;
    Ok(views.pop())
}

/// [`view`] of many accounts, their servers, routers and tenants read once each; accounts
/// whose server or router is archived or gone are left out.
pub async fn views<C: ConnectionTrait>(
    conn: &C,
    keyring: &crate::crypto::Keyring,
    accounts: Vec<Account>,
) -> StoreResult<Vec<View>> {
    use std::collections::HashMap;
    let ids = |f: fn(&Account) -> i64| {
        let mut ids: Vec<i64> = accounts.iter().map(f).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let servers: HashMap<i64, Server> = vpn_server::Entity::find()
        .filter(vpn_server::Column::Id.is_in(ids(|a| a.server_id)))
        .filter(vpn_server::Column::ArchivedAt.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let routers: HashMap<i64, router::Model> = router::Entity::find()
        .filter(router::Column::Id.is_in(servers.values().map(|s| s.router_id)))
        .filter(router::Column::ArchivedAt.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let live_tenants: Vec<i64> = tenant::Entity::find()
        .filter(tenant::Column::Id.is_in(ids(|a| a.tenant_id)))
        .filter(tenant::Column::ArchivedAt.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let mut out = Vec::with_capacity(accounts.len());
    for account in accounts {
        let Some(server) = servers.get(&account.server_id) else {
            continue;
        };
        let Some(router) = routers.get(&server.router_id) else {
            continue;
        };
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("vpn account {}: {what}", account.id));
        let password = keyring
            .open_string(PASSWORD_CONTEXT, &account.password)
            .map_err(|e| corrupt(&e.to_string()))?;
        out.push(View {
            account_id: account.id,
            tenant_id: account.tenant_id,
            router_id: router.id,
            password,
            address: account.address.parse().map_err(|_| corrupt("address"))?,
            rate_kbps: u32::try_from(server.rate_kbps).unwrap_or(domain::vpn::DEFAULT_RATE_KBPS),
            router_address: router
                .nas_address
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("router {}: nas address", router.id)))?,
            disabled: account.disabled,
            tenant_archived: !live_tenants.contains(&account.tenant_id),
            username: account.username,
        });
    }
    Ok(out)
}

/// A VPN account as the AAA rules take it.
#[derive(Debug, Clone)]
pub struct View {
    /// The account.
    pub account_id: i64,
    /// Its tenant.
    pub tenant_id: i64,
    /// Its VPN router.
    pub router_id: i64,
    /// Its user name.
    pub username: String,
    /// Its password in clear.
    pub password: zeroize::Zeroizing<String>,
    /// Its tunnel address.
    pub address: Ipv4Addr,
    /// Its speed.
    pub rate_kbps: u32,
    /// Where its router's requests come from.
    pub router_address: std::net::IpAddr,
    /// Switched off.
    pub disabled: bool,
    /// Its tenant is archived.
    pub tenant_archived: bool,
}

impl View {
    /// The domain's view.
    pub fn rules(&self) -> domain::vpn::Account<'_> {
        domain::vpn::Account {
            password: &self.password,
            address: self.address,
            rate_kbps: self.rate_kbps,
            router: self.router_address,
            disabled: self.disabled,
            tenant_archived: self.tenant_archived,
        }
    }
}

/// The rows `account` must have now (none once its server, router or tenant is gone).
pub async fn projection<C: ConnectionTrait>(
    conn: &C,
    keyring: &crate::crypto::Keyring,
    account: &Account,
) -> StoreResult<Projection> {
    Ok(match view(conn, keyring, account).await? {
        Some(v) => domain::vpn::project(&v.rules()),
        None => Projection::default(),
    })
}

/// Replaces the account's rows with its projection.
pub async fn reproject(w: &Write, account: &Account) -> StoreResult<()> {
    let projection = projection(w.tx(), w.keyring(), account).await?;
    remove_rows(w, account.id).await?;
    let owner = crate::radius::Owner {
        tenant: TenantId(account.tenant_id),
        customer: None,
        vpn_account: Some(account.id),
    };
    crate::radius::insert(w, &owner, &account.username, &projection).await
}

async fn remove_rows(w: &Write, account: i64) -> StoreResult<()> {
    radcheck::Entity::delete_many()
        .filter(radcheck::Column::VpnAccountId.eq(account))
        .exec(w.tx())
        .await?;
    radreply::Entity::delete_many()
        .filter(radreply::Column::VpnAccountId.eq(account))
        .exec(w.tx())
        .await?;
    Ok(())
}

/// The rows stored for `account`: user names, check and reply items, sorted.
pub async fn stored<C: ConnectionTrait>(
    conn: &C,
    account: i64,
) -> StoreResult<crate::radius::Stored> {
    let mut out = crate::radius::Stored::default();
    for r in radcheck::Entity::find()
        .filter(radcheck::Column::VpnAccountId.eq(account))
        .all(conn)
        .await?
    {
        out.usernames.push(r.username);
        out.check.push((r.attribute, r.op, r.value));
    }
    for r in radreply::Entity::find()
        .filter(radreply::Column::VpnAccountId.eq(account))
        .all(conn)
        .await?
    {
        out.usernames.push(r.username);
        out.reply.push((r.attribute, r.op, r.value));
    }
    out.usernames.sort();
    out.usernames.dedup();
    out.check.sort();
    out.reply.sort();
    Ok(out)
}

/// Which of `ids` are accounts that exist.
pub async fn existing<C: ConnectionTrait>(conn: &C, ids: &[i64]) -> StoreResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vpn_account::Entity::find()
        .filter(vpn_account::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect())
}
