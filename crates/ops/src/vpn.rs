//! VPN servers and accounts (`domain::vpn`), shared by the API and the panel: a tenant's VPN
//! router with its tunnel, pool and ports ([`create_server`]); an account per remote router
//! with generated credentials, the first free address and port ([`create_account`]),
//! switched off or on, deleted; what the remote router must be told ([`setup`]); and the
//! synchronisation of the VPN router (its tunnel server, a rule per account, the rules of
//! deleted accounts removed), queued as a job after every change ([`submit_sync`]). Those
//! who run the tenant's network manage them (`domain::access::manage_network`).

use std::net::Ipv4Addr;

use rand::RngExt as _;
use serde::{Deserialize, Serialize};

use crate::Ctx;
use crate::error::OpError;
use domain::access::Actor;
use domain::field::{FieldError, FieldErrors};
use domain::ids::TenantId;
use domain::network::provision::Step;
use domain::vpn::{Credentials, Forward, Host, PortRange, Protocol, ServerInput};
use store::Author;
use store::StoreError;
use store::job::Job;
use store::network::Router;
use store::vpn::{Account, Server};

/// The job kind of a synchronisation.
pub const SYNC_KIND: &str = "vpn.sync";

/// Attempts at a free address and port when another creation takes them first.
const ATTEMPTS: usize = 3;

/// What creating an account asks.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccountInput {
    /// The VPN server.
    pub server_id: i64,
    /// The customer whose router it reaches, if a customer's.
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// The staff user (a reseller) whose router it reaches, if a staff user's.
    #[serde(default)]
    pub user_id: Option<i64>,
    /// What the staff call it (up to 100 characters).
    #[serde(default)]
    pub label: Option<String>,
}

/// What the remote router must be told, and where its Winbox is reached.
#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    /// The account.
    pub account_id: i64,
    /// The tunnel.
    pub protocol: Protocol,
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
    /// Where the tunnel is dialled.
    pub server: String,
    /// The IPsec pre-shared key (L2TP only).
    pub ipsec_secret: Option<String>,
    /// The commands for the remote router's terminal.
    pub script: String,
    /// Where Winbox reaches the remote router (`host:port`).
    pub winbox: String,
}

/// What a synchronisation job does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The server.
    pub server_id: i64,
    /// Its router.
    pub router_id: i64,
    /// Only plan: change nothing.
    pub dry_run: bool,
}

/// The tenants whose VPN the actor manages: its own, or (platform roles) those of `seen`
/// it may change.
async fn managed(ctx: &Ctx<'_>, actor: &Actor, seen: &[i64]) -> Result<Vec<i64>, OpError> {
    let mut candidates: Vec<i64> = match actor.tenant_id {
        Some(own) => vec![own.0],
        None => seen.to_vec(),
    };
    candidates.sort_unstable();
    candidates.dedup();
    let mut out = Vec::with_capacity(candidates.len());
    for tenant in candidates {
        if crate::network::may_change(ctx, actor, tenant).await.is_ok() {
            out.push(tenant);
        }
    }
    Ok(out)
}

/// Creates a VPN server on a router the actor may provision, with a new IPsec key for L2TP,
/// and queues the router's synchronisation.
pub async fn create_server(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    input: &ServerInput,
) -> Result<(Server, Job), OpError> {
    let new = input.parse()?;
    let router = crate::provision::provisionable(ctx, actor, new.router_id)
        .await
        .map_err(|e| match e {
            OpError::NotFound => OpError::field("router_id", "not_found"),
            other => other,
        })?;
    let pool = match crate::network::get_pool(ctx, actor, new.pool_id).await {
        Ok((pool, _)) if pool.tenant_id == router.tenant_id => pool,
        Ok(_) | Err(OpError::NotFound) => return Err(OpError::field("pool_id", "not_found")),
        Err(e) => return Err(e),
    };
    // The router's own end may be in the pool (as the reference's gateway is): no account
    // is given it.
    store::network::pool_ranges(&pool)?;
    let secret = (new.protocol == Protocol::L2tpIpsec).then(|| {
        let mut bytes = [0u8; 32];
        rand::rng().fill(&mut bytes);
        domain::vpn::ipsec_secret(&bytes)
    });
    let mut w = ctx.db.write(author.clone(), ctx.now).await?;
    let server =
        store::vpn::create_server(&mut w, TenantId(router.tenant_id), &new, secret.as_deref())
            .await?;
    w.commit().await?;
    let job = queue_sync(ctx, author, &server, &router, false).await?;
    Ok((server, job))
}

/// The VPN servers the actor manages.
pub async fn list_servers(ctx: &Ctx<'_>, actor: &Actor) -> Result<Vec<Server>, OpError> {
    let all =
        store::vpn::servers(ctx.db.conn(), actor.tenant_id.map(|t| vec![t.0]).as_deref()).await?;
    let tenants: Vec<i64> = all.iter().map(|s| s.tenant_id).collect();
    let managed = managed(ctx, actor, &tenants).await?;
    Ok(all
        .into_iter()
        .filter(|s| managed.contains(&s.tenant_id))
        .collect())
}

/// Server `id`, if the actor manages it.
pub async fn get_server(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Server, OpError> {
    let server = store::vpn::find_server(ctx.db.conn(), id)
        .await?
        .ok_or(OpError::NotFound)?;
    if managed(ctx, actor, &[server.tenant_id]).await?.is_empty() {
        return Err(OpError::NotFound);
    }
    Ok(server)
}

/// The accounts the actor manages, of server `server` when given.
pub async fn list_accounts(
    ctx: &Ctx<'_>,
    actor: &Actor,
    server: Option<i64>,
) -> Result<Vec<Account>, OpError> {
    let servers = list_servers(ctx, actor).await?;
    let tenants: Vec<i64> = servers.iter().map(|s| s.tenant_id).collect();
    if let Some(id) = server
        && !servers.iter().any(|s| s.id == id)
    {
        return Err(OpError::NotFound);
    }
    if tenants.is_empty() {
        return Ok(Vec::new());
    }
    Ok(store::vpn::accounts(ctx.db.conn(), Some(&tenants), server).await?)
}

/// Account `id`, if the actor manages its server.
pub async fn get_account(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Account, OpError> {
    let account = store::vpn::find_account(ctx.db.conn(), id)
        .await?
        .ok_or(OpError::NotFound)?;
    get_server(ctx, actor, account.server_id).await?;
    Ok(account)
}

/// Creates an account on a server the actor manages: credentials from the system's
/// generator, the first free address of the pool (the router's own end left aside) and the
/// first free port; its RADIUS rows in the same transaction. Queues the VPN router's
/// synchronisation, which adds its rule. Answers the account and what its router must be
/// told.
pub async fn create_account(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    input: &AccountInput,
) -> Result<(Account, Setup, Job), OpError> {
    let server = get_server(ctx, actor, input.server_id)
        .await
        .map_err(|e| match e {
            OpError::NotFound => OpError::field("server_id", "not_found"),
            other => other,
        })?;
    let label = domain::text::bounded("label", input.label.as_deref().unwrap_or(""), 0, 100)?;
    let mut errors = FieldErrors::new();
    if input.customer_id.is_some() && input.user_id.is_some() {
        errors.push(FieldError::new("user_id", "one_owner"));
    }
    if let Some(id) = input.customer_id {
        match crate::customer::get(ctx, actor, id).await {
            Ok(c) if c.tenant_id == server.tenant_id => {}
            Ok(_) | Err(OpError::NotFound) => {
                errors.push(FieldError::new("customer_id", "not_found"));
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(id) = input.user_id {
        match crate::user::get(ctx, actor, domain::ids::UserId(id)).await {
            Ok(u) if u.tenant_id == Some(server.tenant_id) => {}
            Ok(_) | Err(OpError::NotFound) => {
                errors.push(FieldError::new("user_id", "not_found"));
            }
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        return Err(OpError::Invalid(errors));
    }
    let pool = store::network::find_pool(
        ctx.db.conn(),
        &domain::access::network_scope(actor),
        server.pool_id,
    )
    .await?
    .ok_or_else(|| OpError::field("pool_id", "not_found"))?;
    let ranges = store::network::pool_ranges(&pool)?;
    let local = opened(ctx, &server)?.local;
    let ports = port_range(&server)?;
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let mut bytes = [0u8; 36];
        rand::rng().fill(&mut bytes);
        let credentials = Credentials::from_random(&bytes);
        let mut w = ctx.db.write(author.clone(), ctx.now).await?;
        let (mut used, taken_ports) = store::vpn::taken(w.tx(), server.id).await?;
        used.push(u32::from(local));
        used.sort_unstable();
        let Some(address) = domain::network::free_addresses(&ranges, &used, 1)
            .first()
            .copied()
        else {
            w.rollback().await?;
            return Err(OpError::Invalid(FieldErrors::one(
                FieldError::new("server_id", "pool_exhausted").with("pool", &pool.name),
            )));
        };
        let Some(port) = domain::vpn::free_port(ports, &taken_ports) else {
            w.rollback().await?;
            return Err(OpError::Invalid(FieldErrors::one(
                FieldError::new("server_id", "ports_exhausted")
                    .with("first", ports.first)
                    .with("last", ports.last),
            )));
        };
        let new = store::vpn::NewAccount {
            credentials: credentials.clone(),
            address,
            port,
            customer_id: input.customer_id,
            user_id: input.user_id,
            label: label.clone(),
        };
        match store::vpn::create_account(&mut w, &server, &new).await {
            Ok(account) => {
                w.commit().await?;
                let router = server_router(ctx, actor, &server).await?;
                let job = queue_sync(ctx, author, &server, &router, false).await?;
                let setup = setup_of(ctx, &server, &account, credentials)?;
                return Ok((account, setup, job));
            }
            // Another creation took the address or the port (or, once in 2^60, the name).
            Err(StoreError::Taken { field }) => {
                w.rollback().await?;
                last = Some(field);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(OpError::field(last.unwrap_or("server_id"), "taken"))
}

fn port_range(server: &Server) -> Result<PortRange, OpError> {
    PortRange::parse(i64::from(server.port_first), i64::from(server.port_last))
        .map_err(|_| OpError::Internal(format!("vpn server {}: port range", server.id)))
}

/// A stored server as the rules take it: its tunnel, host and end of the tunnels read, its
/// IPsec key opened.
struct Opened {
    protocol: Protocol,
    host: Host,
    local: Ipv4Addr,
    ipsec_secret: Option<String>,
}

fn opened(ctx: &Ctx<'_>, server: &Server) -> Result<Opened, OpError> {
    let corrupt = |what: &str| OpError::Internal(format!("vpn server {}: {what}", server.id));
    let ipsec_secret = server
        .ipsec_secret
        .as_deref()
        .map(|sealed| {
            ctx.db
                .keyring()
                .open_string(store::vpn::IPSEC_CONTEXT, sealed)
        })
        .transpose()
        .map_err(|e| OpError::Internal(e.to_string()))?
        .map(|s| s.to_string());
    Ok(Opened {
        protocol: Protocol::parse(&server.protocol).ok_or_else(|| corrupt("protocol"))?,
        host: Host::parse(&server.public_host).map_err(|_| corrupt("host"))?,
        local: server
            .local_address
            .parse()
            .map_err(|_| corrupt("local address"))?,
        ipsec_secret,
    })
}

fn setup_of(
    ctx: &Ctx<'_>,
    server: &Server,
    account: &Account,
    credentials: Credentials,
) -> Result<Setup, OpError> {
    let Opened {
        protocol,
        host,
        ipsec_secret,
        ..
    } = opened(ctx, server)?;
    let script = domain::vpn::client_script(protocol, &host, &credentials, ipsec_secret.as_deref());
    Ok(Setup {
        account_id: account.id,
        protocol,
        username: credentials.username,
        password: credentials.password,
        server: host.as_str().to_owned(),
        ipsec_secret,
        script,
        winbox: format!("{}:{}", host.as_str(), account.port),
    })
}

/// What account `id`'s remote router must be told (its password included): for those who
/// manage its server.
pub async fn setup(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Setup, OpError> {
    let account = get_account(ctx, actor, id).await?;
    let server = get_server(ctx, actor, account.server_id).await?;
    let password = ctx
        .db
        .keyring()
        .open_string(store::vpn::PASSWORD_CONTEXT, &account.password)
        .map_err(|e| OpError::Internal(e.to_string()))?;
    let credentials = Credentials {
        username: account.username.clone(),
        password: password.to_string(),
    };
    setup_of(ctx, &server, &account, credentials)
}

/// Switches account `id` off (its logins refused, its rule disabled on the next
/// synchronisation: kept, so that switching it on restores it) or on again.
pub async fn set_disabled(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    disabled: bool,
) -> Result<(Account, Job), OpError> {
    let account = get_account(ctx, actor, id).await?;
    let server = get_server(ctx, actor, account.server_id).await?;
    let mut w = ctx.db.write(author.clone(), ctx.now).await?;
    let after = store::vpn::set_disabled(&mut w, &account, disabled).await?;
    w.commit().await?;
    let router = server_router(ctx, actor, &server).await?;
    let job = queue_sync(ctx, author, &server, &router, false).await?;
    Ok((after, job))
}

/// Deletes account `id` and its RADIUS rows; the synchronisation then removes its rule, and
/// its rule only.
pub async fn delete_account(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
) -> Result<Job, OpError> {
    let account = get_account(ctx, actor, id).await?;
    let server = get_server(ctx, actor, account.server_id).await?;
    let mut w = ctx.db.write(author.clone(), ctx.now).await?;
    store::vpn::delete_account(&mut w, &account).await?;
    w.commit().await?;
    let router = server_router(ctx, actor, &server).await?;
    queue_sync(ctx, author, &server, &router, false).await
}

/// Queues the synchronisation of server `id`'s router (or only its plan).
pub async fn submit_sync(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    dry_run: bool,
) -> Result<Job, OpError> {
    let server = get_server(ctx, actor, id).await?;
    let router = crate::provision::provisionable(ctx, actor, server.router_id).await?;
    queue_sync(ctx, author, &server, &router, dry_run).await
}

async fn server_router(ctx: &Ctx<'_>, actor: &Actor, server: &Server) -> Result<Router, OpError> {
    crate::network::get_router(ctx, actor, server.router_id).await
}

async fn queue_sync(
    ctx: &Ctx<'_>,
    author: Author,
    server: &Server,
    router: &Router,
    dry_run: bool,
) -> Result<Job, OpError> {
    let request = SyncRequest {
        server_id: server.id,
        router_id: router.id,
        dry_run,
    };
    let payload = serde_json::to_value(&request).map_err(|e| OpError::Internal(e.to_string()))?;
    // One synchronisation per server at a time: one queued reads every account as it is
    // when it runs, one running reads them again after applying (a change it missed is
    // applied by its next round). Its own key, not the router's other operations': those
    // touch other menus, and a long migration must not swallow an account's rule.
    let key = format!("{SYNC_KIND}:{}", server.id);
    crate::network::queue_router_job(ctx, author, router, SYNC_KIND, key, payload).await
}

/// What the VPN router of `server` must hold: its tunnel server and a rule per account,
/// the disabled ones' rules switched off.
pub async fn wants(
    ctx: &Ctx<'_>,
    server: &Server,
) -> Result<Vec<domain::network::provision::Want>, OpError> {
    let opened = opened(ctx, server)?;
    let accounts = store::vpn::accounts(ctx.db.conn(), None, Some(server.id)).await?;
    let forwards: Vec<Forward> = accounts
        .iter()
        .filter_map(|a| {
            Some(Forward {
                account_id: a.id,
                port: u16::try_from(a.port).ok()?,
                address: a.address.parse().ok()?,
                disabled: a.disabled,
            })
        })
        .collect();
    let plan = domain::vpn::ServerPlan {
        protocol: opened.protocol,
        local_address: opened.local,
        ipsec_secret: opened.ipsec_secret.as_deref(),
        public_address: opened.host.address(),
    };
    Ok(domain::vpn::wants(&plan, &forwards))
}

/// Keeps in the audit log what a synchronisation applied (secrets hidden).
pub async fn record(
    ctx: &Ctx<'_>,
    author: Author,
    server: &Server,
    steps: &[Step],
    outcome: serde_json::Value,
) -> Result<(), OpError> {
    let mut w = ctx.db.write(author, ctx.now).await?;
    w.audit(store::AuditEntry {
        tenant_id: Some(TenantId(server.tenant_id)),
        action: "vpn_server.sync",
        entity: "vpn_server",
        entity_id: Some(server.id),
        before: None,
        after: Some(serde_json::json!({
            "steps": domain::network::provision::redacted(steps),
            "outcome": outcome,
        })),
    })
    .await?;
    w.commit().await?;
    Ok(())
}
