//! The VPN page (`/panel/vpn`): the VPN servers and accounts the user manages, a form for
//! each, and per account its set-up (the credentials and the commands for the remote
//! router), switching it off or on, and deleting it; per server its synchronisation (plan or
//! apply), whose job page shows the steps. Every change queues that synchronisation
//! (`ops::vpn`).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};

use crate::i18n::Tr;
use crate::page::fallback::PageId;
use crate::page::form::{Filled, FormData, PanelForm, ShowsForm, show_again};
use crate::page::input;
use crate::page::lookup::{self, Choice};
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, render};
use crate::state::AppState;
use domain::vpn::{Protocol, ServerInput};
use ops::OpError;
use ops::vpn::{AccountInput, Setup};
use store::list::PageRequest;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/vpn", get(page))
        .route("/panel/vpn/servers", post(create_server))
        .route("/panel/vpn/servers/{id}/sync", post(sync))
        .route("/panel/vpn/accounts", post(create_account))
        .route("/panel/vpn/accounts/{id}", get(setup))
        .route("/panel/vpn/accounts/{id}/disable", post(disable))
        .route("/panel/vpn/accounts/{id}/enable", post(enable))
        .route("/panel/vpn/accounts/{id}/delete", post(delete))
}

/// A server as a row.
#[derive(Debug)]
struct ServerRow {
    id: i64,
    router: String,
    protocol: &'static str,
    public_host: String,
    pool: String,
    ports: String,
}

/// An account as a row.
#[derive(Debug)]
struct AccountRow {
    id: i64,
    label: String,
    username: String,
    address: String,
    winbox: String,
    owner: String,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "vpn.html")]
struct VpnPage {
    ui: Ui,
    servers: Vec<ServerRow>,
    accounts: Vec<AccountRow>,
    /// Servers, as choices for a new account.
    server_choices: Vec<Choice>,
    routers: Vec<Choice>,
    pools: Vec<Choice>,
    protocols: Vec<Choice>,
    f: Filled,
}

impl ShowsForm for VpnPage {
    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

#[derive(Template)]
#[template(path = "vpn_setup.html")]
struct SetupPage {
    ui: Ui,
    setup: Setup,
    protocol: &'static str,
    /// Shown right after the account was made.
    created: bool,
}

fn protocol_key(code: &str) -> &'static str {
    match Protocol::parse(code) {
        Some(Protocol::Sstp) => "vpn.protocol_sstp",
        Some(Protocol::Pptp) => "vpn.protocol_pptp",
        _ => "vpn.protocol_l2tp_ipsec",
    }
}

async fn build(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
) -> Result<VpnPage, OpError> {
    let ctx = state.ctx();
    let t = Ui::new(user, Section::Vpn, headers, "/panel/vpn").t;
    let servers = ops::vpn::list_servers(&ctx, &user.actor).await?;
    let accounts = ops::vpn::list_accounts(&ctx, &user.actor, None).await?;
    let routers = lookup::router_choices(state, &user.actor).await?;
    let page = PageRequest::first(&store::network::POOLS, 500).map_err(OpError::Invalid)?;
    let pools: Vec<Choice> =
        ops::network::list_pools(&ctx, &user.actor, &Default::default(), &page)
            .await?
            .0
            .items
            .into_iter()
            .map(|p| (p.id.to_string(), p.name))
            .collect();
    let name_of = |choices: &[Choice], id: i64| {
        choices
            .iter()
            .find(|(v, _)| *v == id.to_string())
            .map_or_else(|| format!("#{id}"), |(_, l)| l.clone())
    };
    let server_rows: Vec<ServerRow> = servers
        .iter()
        .map(|s| ServerRow {
            id: s.id,
            router: name_of(&routers, s.router_id),
            protocol: protocol_key(&s.protocol),
            public_host: s.public_host.clone(),
            pool: name_of(&pools, s.pool_id),
            ports: format!("{}–{}", s.port_first, s.port_last),
        })
        .collect();
    let account_rows = accounts
        .iter()
        .map(|a| {
            let host = servers
                .iter()
                .find(|s| s.id == a.server_id)
                .map_or("", |s| s.public_host.as_str());
            AccountRow {
                id: a.id,
                label: a.label.clone(),
                username: a.username.clone(),
                address: a.address.clone(),
                winbox: format!("{host}:{}", a.port),
                owner: match (a.customer_id, a.user_id) {
                    (Some(c), _) => format!("{} #{c}", t.t("vpn.customer")),
                    (None, Some(u)) => format!("{} #{u}", t.t("vpn.user")),
                    (None, None) => "—".to_owned(),
                },
                disabled: a.disabled,
            }
        })
        .collect();
    Ok(VpnPage {
        ui: Ui::new(user, Section::Vpn, headers, "/panel/vpn"),
        server_choices: server_rows
            .iter()
            .map(|s| {
                (
                    s.id.to_string(),
                    format!("{} ({})", s.router, s.public_host),
                )
            })
            .collect(),
        servers: server_rows,
        accounts: account_rows,
        routers,
        pools,
        protocols: Protocol::ALL
            .iter()
            .map(|p| {
                (
                    p.as_str().to_owned(),
                    t.t(protocol_key(p.as_str())).to_owned(),
                )
            })
            .collect(),
        f: Filled::new(),
    })
}

async fn page(State(state): State<AppState>, user: PanelUser, headers: HeaderMap) -> Response {
    match build(&state, &user, &headers).await {
        Ok(page) => render(&page),
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// The page again with why a form was refused, or the error.
async fn refused_or(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    form: &FormData,
    error: OpError,
) -> Response {
    match error {
        OpError::Invalid(errors) => {
            let page = build(state, user, headers).await;
            show_again(page, user, headers, form, &errors)
        }
        error => ui::op_error(user, headers, &error),
    }
}

fn number(form: &FormData, field: &str) -> Result<Option<i64>, OpError> {
    input::number(field, form.text(field)).map_err(OpError::from)
}

async fn create_server(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let result = async {
        let input = ServerInput {
            router_id: number(&form, "router_id")?.unwrap_or(0),
            protocol: Some(form.text("protocol").to_owned()),
            public_host: form.text("public_host").to_owned(),
            pool_id: number(&form, "pool_id")?.unwrap_or(0),
            local_address: form.text("local_address").to_owned(),
            port_first: number(&form, "port_first")?,
            port_last: number(&form, "port_last")?,
            rate_kbps: number(&form, "rate_kbps")?,
        };
        ops::vpn::create_server(&state.ctx(), &user.actor, user.author.clone(), &input).await
    };
    match result.await {
        Ok(_) => {
            state.jobs_wake.notify_one();
            ui::redirect_with("/panel/vpn", "flash.created")
        }
        Err(error) => refused_or(&state, &user, &headers, &form, error).await,
    }
}

async fn create_account(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let result = async {
        let input = AccountInput {
            server_id: number(&form, "server_id")?.unwrap_or(0),
            customer_id: number(&form, "customer_id")?,
            user_id: number(&form, "user_id")?,
            label: Some(form.text("label").to_owned()),
        };
        ops::vpn::create_account(&state.ctx(), &user.actor, user.author.clone(), &input).await
    };
    match result.await {
        Ok((_, setup, _)) => {
            state.jobs_wake.notify_one();
            let protocol = protocol_key(setup.protocol.as_str());
            render(&SetupPage {
                ui: Ui::new(&user, Section::Vpn, &headers, "/panel/vpn"),
                setup,
                protocol,
                created: true,
            })
        }
        Err(error) => refused_or(&state, &user, &headers, &form, error).await,
    }
}

async fn setup(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    PageId(id): PageId,
) -> Response {
    match ops::vpn::setup(&state.ctx(), &user.actor, id).await {
        Ok(setup) => {
            let protocol = protocol_key(setup.protocol.as_str());
            render(&SetupPage {
                ui: Ui::new(
                    &user,
                    Section::Vpn,
                    &headers,
                    &format!("/panel/vpn/accounts/{id}"),
                ),
                setup,
                protocol,
                created: false,
            })
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

async fn sync(State(state): State<AppState>, PageId(id): PageId, form: PanelForm) -> Response {
    let dry_run = form.form.text("dry_run") != "no";
    let job = ops::vpn::submit_sync(
        &state.ctx(),
        &form.user.actor,
        form.user.author.clone(),
        id,
        dry_run,
    )
    .await;
    match job {
        Ok(job) => {
            state.jobs_wake.notify_one();
            ui::redirect_with(&format!("/panel/jobs/{}", job.id), "flash.job_queued")
        }
        Err(error) => refused_or(&state, &form.user, &form.headers, &form.form, error).await,
    }
}

async fn switch(state: &AppState, id: i64, form: PanelForm, disabled: bool) -> Response {
    let result = ops::vpn::set_disabled(
        &state.ctx(),
        &form.user.actor,
        form.user.author.clone(),
        id,
        disabled,
    )
    .await;
    match result {
        Ok(_) => {
            state.jobs_wake.notify_one();
            ui::redirect_with("/panel/vpn", "flash.saved")
        }
        Err(error) => refused_or(state, &form.user, &form.headers, &form.form, error).await,
    }
}

async fn disable(State(state): State<AppState>, PageId(id): PageId, form: PanelForm) -> Response {
    switch(&state, id, form, true).await
}

async fn enable(State(state): State<AppState>, PageId(id): PageId, form: PanelForm) -> Response {
    switch(&state, id, form, false).await
}

async fn delete(State(state): State<AppState>, PageId(id): PageId, form: PanelForm) -> Response {
    let result =
        ops::vpn::delete_account(&state.ctx(), &form.user.actor, form.user.author.clone(), id)
            .await;
    match result {
        Ok(_) => {
            state.jobs_wake.notify_one();
            ui::redirect_with("/panel/vpn", "flash.deleted")
        }
        Err(error) => refused_or(&state, &form.user, &form.headers, &form.form, error).await,
    }
}
