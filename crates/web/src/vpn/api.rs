//! `/api/v1/vpn-servers` and `/api/v1/vpn-accounts` (`ops::vpn`): a tenant's VPN router and
//! the accounts that reach customers' and resellers' routers through it, each with a Winbox
//! port forwarded on the VPN router. Every change queues the VPN router's synchronisation
//! (`vpn.sync`), whose job the answer names. Lists are unpaged: a server forwards at most
//! 10 000 ports.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::ApiCaller;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::JsonBody;
use crate::http::list::ListResponse;
use crate::http::path::Id;
use crate::http::query::Query;
use crate::i18n::Lang;
use crate::job::api::{JobOut, accepted};
use crate::state::AppState;
use domain::ids::TenantId;
use domain::vpn::ServerInput;
use ops::vpn::{AccountInput, Setup};
use store::vpn::{Account, Server};

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_servers, create_server))
        .routes(routes!(get_server))
        .routes(routes!(sync_server))
        .routes(routes!(list_accounts, create_account))
        .routes(routes!(get_account, delete_account))
        .routes(routes!(account_setup))
        .routes(routes!(disable_account))
        .routes(routes!(enable_account))
}

/// A VPN server: the tenant's VPN router and what it hands out.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerOut {
    id: i64,
    tenant_id: TenantId,
    /// The VPN router.
    router_id: i64,
    /// `l2tp_ipsec`, `sstp` or `pptp`.
    protocol: String,
    /// Where remote routers dial it.
    public_host: String,
    /// The pool tunnel addresses come from.
    pool_id: i64,
    /// The VPN router's end of every tunnel.
    local_address: String,
    /// The public ports forwarded, first and last.
    port_first: i32,
    port_last: i32,
    /// Each tunnel's speed, kbit/s.
    rate_kbps: i32,
}

impl ServerOut {
    fn from_model(s: &Server) -> Self {
        Self {
            id: s.id,
            tenant_id: TenantId(s.tenant_id),
            router_id: s.router_id,
            protocol: s.protocol.clone(),
            public_host: s.public_host.clone(),
            pool_id: s.pool_id,
            local_address: s.local_address.clone(),
            port_first: s.port_first,
            port_last: s.port_last,
            rate_kbps: s.rate_kbps,
        }
    }
}

/// A VPN account (its password is given by `GET /vpn-accounts/{id}/setup`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOut {
    id: i64,
    tenant_id: TenantId,
    server_id: i64,
    /// The RADIUS user name (`lmvpn-…`).
    username: String,
    /// The tunnel address.
    address: String,
    /// The public port forwarded to the remote router's Winbox.
    port: i32,
    /// The customer whose router it reaches.
    customer_id: Option<i64>,
    /// The staff user whose router it reaches.
    user_id: Option<i64>,
    label: String,
    disabled: bool,
}

impl AccountOut {
    fn from_model(a: &Account) -> Self {
        Self {
            id: a.id,
            tenant_id: TenantId(a.tenant_id),
            server_id: a.server_id,
            username: a.username.clone(),
            address: a.address.clone(),
            port: a.port,
            customer_id: a.customer_id,
            user_id: a.user_id,
            label: a.label.clone(),
            disabled: a.disabled,
        }
    }
}

/// What the remote router must be told.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupOut {
    account_id: i64,
    /// `l2tp_ipsec`, `sstp` or `pptp`.
    protocol: String,
    username: String,
    password: String,
    /// Where the tunnel is dialled.
    server: String,
    /// The IPsec pre-shared key (L2TP only).
    ipsec_secret: Option<String>,
    /// The commands for the remote router's terminal.
    script: String,
    /// Where Winbox reaches the remote router (`host:port`).
    winbox: String,
}

impl From<Setup> for SetupOut {
    fn from(s: Setup) -> Self {
        Self {
            account_id: s.account_id,
            protocol: s.protocol.as_str().to_owned(),
            username: s.username,
            password: s.password,
            server: s.server,
            ipsec_secret: s.ipsec_secret,
            script: s.script,
            winbox: s.winbox,
        }
    }
}

/// A new VPN server.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateServerBody {
    /// The VPN router (provisioned: it must send PPP logins to lastmile).
    router_id: i64,
    /// `l2tp_ipsec` (the default), `sstp` or `pptp`.
    protocol: Option<String>,
    /// Where remote routers dial it: an address or a DNS name.
    public_host: String,
    /// The pool tunnel addresses come from (of the router's tenant).
    pool_id: i64,
    /// The VPN router's end of every tunnel (in the pool or not: no account is given it).
    local_address: String,
    /// The first public port forwarded (1024 to 65535; 5001).
    port_first: Option<i64>,
    /// The last (5499); at most 10 000 ports.
    port_last: Option<i64>,
    /// Each tunnel's speed, kbit/s (64 to 10 000 000; 5120).
    rate_kbps: Option<i64>,
}

/// A server created, and the job that sets its router up.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerCreated {
    server: ServerOut,
    job: JobOut,
}

/// A new VPN account: its credentials, address and port are chosen by lastmile.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountBody {
    server_id: i64,
    /// The customer whose router it reaches (of the server's tenant).
    customer_id: Option<i64>,
    /// Or the staff user (a reseller) whose router it reaches.
    user_id: Option<i64>,
    /// What the staff call it (up to 100 characters).
    label: Option<String>,
}

/// An account created: what its router must be told, and the job that forwards its port.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountCreated {
    account: AccountOut,
    setup: SetupOut,
    job: JobOut,
}

/// An account switched off or on, and the job that follows on the VPN router.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountChanged {
    account: AccountOut,
    job: JobOut,
}

/// Which accounts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountQuery {
    /// Only this server's.
    server_id: Option<i64>,
}

/// A synchronisation's options.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncBody {
    /// Only plan: the job's result lists the steps, nothing changes.
    #[serde(default)]
    dry_run: bool,
}

fn list<T: ToSchema>(items: Vec<T>) -> ListResponse<T> {
    let total = items.len() as u64;
    ListResponse {
        items,
        next_cursor: None,
        total,
        total_capped: false,
    }
}

/// The VPN servers the caller manages.
#[utoipa::path(get, path = "/vpn-servers", tag = "vpn", security(("bearer" = [])),
    responses((status = 200, body = ListResponse<ServerOut>)))]
async fn list_servers(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<ListResponse<ServerOut>>, ApiError> {
    let servers = ops::vpn::list_servers(&state.ctx(), &caller.actor).await?;
    Ok(Json(list(
        servers.iter().map(ServerOut::from_model).collect(),
    )))
}

/// Makes a provisioned router the tenant's VPN server (one per router) and queues its
/// set-up: the tunnel server (L2TP/IPsec with a new pre-shared key unless told otherwise)
/// and its profile.
#[utoipa::path(post, path = "/vpn-servers", tag = "vpn", security(("bearer" = [])), request_body = CreateServerBody,
    responses((status = 201, body = ServerCreated), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_server(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<CreateServerBody>,
) -> Result<Response, ApiError> {
    let input = ServerInput {
        router_id: body.router_id,
        protocol: body.protocol,
        public_host: body.public_host,
        pool_id: body.pool_id,
        local_address: body.local_address,
        port_first: body.port_first,
        port_last: body.port_last,
        rate_kbps: body.rate_kbps,
    };
    let (server, job) =
        ops::vpn::create_server(&state.ctx(), &caller.actor, caller.author, &input).await?;
    state.jobs_wake.notify_one();
    let out = ServerCreated {
        server: ServerOut::from_model(&server),
        job: JobOut::from_model(&job, Lang::En),
    };
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// One VPN server.
#[utoipa::path(get, path = "/vpn-servers/{id}", tag = "vpn", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = ServerOut), (status = 404, body = ErrorBody)))]
async fn get_server(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<ServerOut>, ApiError> {
    let server = ops::vpn::get_server(&state.ctx(), &caller.actor, id).await?;
    Ok(Json(ServerOut::from_model(&server)))
}

/// Queues the VPN router's synchronisation (or only its plan, with `dry_run`): the tunnel
/// server, a rule per account, the rules of deleted accounts removed; a second run plans
/// nothing. Answers 202 with the job.
#[utoipa::path(post, path = "/vpn-servers/{id}/sync", tag = "vpn", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = SyncBody,
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn sync_server(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    JsonBody(body): JsonBody<SyncBody>,
) -> Result<Response, ApiError> {
    let job =
        ops::vpn::submit_sync(&state.ctx(), &caller.actor, caller.author, id, body.dry_run).await?;
    state.jobs_wake.notify_one();
    Ok(accepted(&job))
}

/// The VPN accounts the caller manages.
#[utoipa::path(get, path = "/vpn-accounts", tag = "vpn", security(("bearer" = [])), params(AccountQuery),
    responses((status = 200, body = ListResponse<AccountOut>), (status = 404, body = ErrorBody)))]
async fn list_accounts(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<AccountQuery>,
) -> Result<Json<ListResponse<AccountOut>>, ApiError> {
    let accounts = ops::vpn::list_accounts(&state.ctx(), &caller.actor, query.server_id).await?;
    Ok(Json(list(
        accounts.iter().map(AccountOut::from_model).collect(),
    )))
}

/// Creates a VPN account: generated credentials, the pool's first free address and the
/// first free port; queues the rule on the VPN router. Answers what the remote router must
/// be told.
#[utoipa::path(post, path = "/vpn-accounts", tag = "vpn", security(("bearer" = [])), request_body = CreateAccountBody,
    responses((status = 201, body = AccountCreated), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    JsonBody(body): JsonBody<CreateAccountBody>,
) -> Result<Response, ApiError> {
    let input = AccountInput {
        server_id: body.server_id,
        customer_id: body.customer_id,
        user_id: body.user_id,
        label: body.label,
    };
    let (account, setup, job) =
        ops::vpn::create_account(&state.ctx(), &caller.actor, caller.author, &input).await?;
    state.jobs_wake.notify_one();
    let out = AccountCreated {
        account: AccountOut::from_model(&account),
        setup: setup.into(),
        job: JobOut::from_model(&job, Lang::En),
    };
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// One VPN account.
#[utoipa::path(get, path = "/vpn-accounts/{id}", tag = "vpn", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = AccountOut), (status = 404, body = ErrorBody)))]
async fn get_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<AccountOut>, ApiError> {
    let account = ops::vpn::get_account(&state.ctx(), &caller.actor, id).await?;
    Ok(Json(AccountOut::from_model(&account)))
}

/// What the account's remote router must be told, its password included.
#[utoipa::path(get, path = "/vpn-accounts/{id}/setup", tag = "vpn", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = SetupOut), (status = 404, body = ErrorBody)))]
async fn account_setup(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<SetupOut>, ApiError> {
    let setup = ops::vpn::setup(&state.ctx(), &caller.actor, id).await?;
    Ok(Json(setup.into()))
}

/// Deletes a VPN account: its logins stop at once; the job removes its rule on the VPN
/// router, and no other. Answers 202 with the job.
#[utoipa::path(delete, path = "/vpn-accounts/{id}", tag = "vpn", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let job = ops::vpn::delete_account(&state.ctx(), &caller.actor, caller.author, id).await?;
    state.jobs_wake.notify_one();
    Ok(accepted(&job))
}

async fn switch(
    state: &AppState,
    caller: ApiCaller,
    id: i64,
    disabled: bool,
) -> Result<Json<AccountChanged>, ApiError> {
    let (account, job) =
        ops::vpn::set_disabled(&state.ctx(), &caller.actor, caller.author, id, disabled).await?;
    state.jobs_wake.notify_one();
    Ok(Json(AccountChanged {
        account: AccountOut::from_model(&account),
        job: JobOut::from_model(&job, Lang::En),
    }))
}

/// Switches a VPN account off: its logins are refused, its rule is disabled (kept).
#[utoipa::path(post, path = "/vpn-accounts/{id}/disable", tag = "vpn", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = AccountChanged), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn disable_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<AccountChanged>, ApiError> {
    switch(&state, caller, id, true).await
}

/// Switches a VPN account on again.
#[utoipa::path(post, path = "/vpn-accounts/{id}/enable", tag = "vpn", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = AccountChanged), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn enable_account(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<AccountChanged>, ApiError> {
    switch(&state, caller, id, false).await
}
