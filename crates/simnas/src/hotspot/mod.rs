//! A simulated MikroTik hotspot servlet: the captive portal a headless browser logs in
//! through, fully offline (design §1 and §4.4 item 3). [`SimHotspot::start`] serves HTTP on
//! its own port next to a [`SimRouter`], and logs its clients in over RADIUS as RouterOS
//! does.
//!
//! What it does, as a RouterOS hotspot does:
//!
//! - pages (`login.html`, `alogin.html`, `status.html`, `logout.html`, `flogout.html`, and any
//!   other file) come from the router's `/file` menu under the `html-directory` of the
//!   hotspot profile `default`, read per request, else from built-in pages; `$(…)` variables
//!   and `$(if)` blocks are substituted server-side, with no HTML escaping;
//! - each login page gives the client a fresh CHAP id and challenge (`$(chap-id)`,
//!   `$(chap-challenge)` as octal escapes); `/login` sends CHAP when the password is the
//!   32-hex-digit response to it, else PAP, with the hotspot's attributes (§1.6);
//! - an Access-Accept opens a session: a row in `/ip/hotspot/active`, an Accounting Start,
//!   Interim-Updates, a Stop at Session-Timeout, at logout, on reconnect, or when the API
//!   removes the row; and a mac-cookie that replays the exact credential sent;
//! - an Access-Reject or no answer shows the login page again with `$(error)`;
//! - a Disconnect-Request from the RADIUS server ends a session, a CoA-Request changes its
//!   rate (`coa`, RouterOS's `/radius incoming`).
//!
//! Every browser client comes from 127.0.0.1, so a client is the MAC in its `sim-mac`
//! cookie, set by `GET /_sim/join?mac=…`; `GET /_sim/reconnect` drops and re-joins it (the
//! mac-cookie logs it in again); `GET /_sim/state` shows hosts, sessions and cookies. The
//! pieces: `host` (what it remembers), `template` (the page language), `pages` (files and
//! variables), `aaa` (RADIUS and sessions), `coa` (the server's requests), `servlet` (the
//! HTTP routes).

mod aaa;
mod coa;
mod host;
mod pages;
mod servlet;
mod template;

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use radius::auth::Method;
use radius::client::{Client, ClientConfig};
use radius::server::{NasClient, Server, ServerConfig};
use routeros::sim::SimRouter;
use serde::Serialize;
use tokio::task::JoinHandle;

use host::{Challenge, MacAddr, MacCookie, PoolFull, State};
use pages::{HostView, Servlet, SessionView};

/// What a hotspot is and whom it talks to.
#[derive(Clone)]
pub struct HotspotConfig {
    /// Where the servlet listens (`127.0.0.1:0` in tests).
    pub listen: SocketAddr,
    /// Where Access-Requests go.
    pub auth_server: SocketAddr,
    /// Where Accounting-Requests go.
    pub acct_server: SocketAddr,
    /// The router's RADIUS secret.
    pub secret: String,
    /// The NAS-IP-Address it sends.
    pub nas_ip: Ipv4Addr,
    /// The address its RADIUS requests leave from; the system's choice when `None`.
    pub source: Option<IpAddr>,
    /// The hotspot server's name (`hotspot1`): Called-Station-Id, `$(server-name)`.
    pub server_name: String,
    /// The router's identity: NAS-Identifier, `$(identity)`.
    pub identity: String,
    /// The Interim-Update interval when the Access-Accept names none.
    pub interim: Duration,
    /// Where it takes CoA and Disconnect requests (RouterOS: UDP 3799).
    pub coa_listen: SocketAddr,
}

impl HotspotConfig {
    /// A hotspot on a free port of 127.0.0.1 for the RADIUS server at `server` (ports 1812
    /// and 1813) with `secret`: server `hotspot1` of router `MikroTik`, updates every minute.
    pub fn new(server: IpAddr, secret: &str) -> HotspotConfig {
        HotspotConfig {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            auth_server: SocketAddr::new(server, 1812),
            acct_server: SocketAddr::new(server, 1813),
            secret: secret.to_owned(),
            nas_ip: Ipv4Addr::LOCALHOST,
            source: None,
            server_name: "hotspot1".to_owned(),
            identity: "MikroTik".to_owned(),
            interim: Duration::from_secs(60),
            coa_listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        }
    }
}

impl fmt::Debug for HotspotConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HotspotConfig")
            .field("listen", &self.listen)
            .field("auth_server", &self.auth_server)
            .field("acct_server", &self.acct_server)
            .field("secret", &"<redacted>")
            .field("nas_ip", &self.nas_ip)
            .field("source", &self.source)
            .field("server_name", &self.server_name)
            .field("identity", &self.identity)
            .field("interim", &self.interim)
            .field("coa_listen", &self.coa_listen)
            .finish()
    }
}

/// A logged-in host (a row of `/ip hotspot active`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActiveHost {
    /// The user it logged in as.
    pub user: String,
    /// Its MAC, `AA:BB:CC:DD:EE:01`.
    pub mac: String,
    /// Its address.
    pub ip: Ipv4Addr,
    /// `http-chap`, `http-pap` or `mac-cookie`.
    pub login_by: String,
    /// Its Acct-Session-Id.
    pub session_id: String,
}

/// An Access-Request the hotspot sent, and whether it was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// User-Name.
    pub user: String,
    /// PAP or CHAP.
    pub method: Method,
    /// `http-chap`, `http-pap` or `mac-cookie`.
    pub login_by: String,
    /// Calling-Station-Id.
    pub mac: String,
    /// An Access-Accept came (false: a reject, or no answer).
    pub accepted: bool,
}

/// How long the hotspot waits for a RADIUS answer to a first try; it tries once more,
/// waiting twice as long.
const RADIUS_TIMEOUT: Duration = Duration::from_secs(1);

/// State shared by the servlet's requests and the session watcher.
pub(crate) struct Inner {
    config: HotspotConfig,
    /// `http://HOST:PORT`.
    url: String,
    router: Arc<SimRouter>,
    auth: Client,
    acct: Client,
    state: Mutex<State>,
    /// The hotspot was dropped: a login still waiting for RADIUS opens no session.
    stopped: AtomicBool,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// The URL a client that asked for nothing in particular is sent to.
    fn home(&self) -> String {
        format!("{}/", self.url)
    }

    fn servlet(&self) -> Servlet<'_> {
        Servlet {
            url: &self.url,
            identity: &self.config.identity,
            server_name: &self.config.server_name,
        }
    }

    /// `mac` joins (or joins again), having asked for `link_orig`.
    fn join(&self, mac: MacAddr, link_orig: String) -> Result<(), PoolFull> {
        let mut state = self.state();
        let host = state.host(mac, Instant::now(), &link_orig)?;
        host.link_orig = link_orig;
        Ok(())
    }

    /// How `mac` looks to its pages now; with `fresh_challenge` (a login page), it is given a
    /// new CHAP id and challenge first.
    fn view(&self, mac: MacAddr, fresh_challenge: bool) -> Result<HostView, PoolFull> {
        let now = Instant::now();
        let mut state = self.state();
        let host = state.host(mac, now, &self.home())?;
        if fresh_challenge {
            host.challenge = Some(Challenge::random());
        }
        let session = host.session.as_mut().map(|session| {
            session.grow(now);
            SessionView::of(session, now)
        });
        Ok(HostView {
            mac: host.mac.to_string(),
            ip: host.ip,
            link_orig: host.link_orig.clone(),
            challenge: host.challenge,
            logged_in: session.is_some(),
            session,
        })
    }

    /// The credential a login form's password stands for, using up the challenge `mac` was
    /// given (a CHAP response answers one login page only).
    fn credential(&self, mac: MacAddr, password: &str) -> host::Credential {
        let challenge = self
            .state()
            .hosts
            .get_mut(&mac)
            .and_then(|host| host.challenge.take());
        host::Credential::from_form(password, challenge)
    }

    /// Where the client is sent after logging in (`$(link-redirect)`).
    fn set_link_orig(&self, mac: MacAddr, dst: String) {
        if let Some(host) = self.state().hosts.get_mut(&mac) {
            host.link_orig = dst;
        }
    }

    fn cookie(&self, mac: MacAddr) -> Option<MacCookie> {
        self.state().cookies.get(&mac).cloned()
    }

    fn forget_cookie(&self, mac: MacAddr) {
        self.state().cookies.remove(&mac);
    }

    fn active(&self) -> Vec<ActiveHost> {
        let state = self.state();
        let mut active: Vec<ActiveHost> = state
            .hosts
            .values()
            .filter_map(|host| host.session.as_ref())
            .map(|s| ActiveHost {
                user: s.user.clone(),
                mac: s.mac.to_string(),
                ip: s.ip,
                login_by: s.login_by.as_str().to_owned(),
                session_id: s.id.clone(),
            })
            .collect();
        active.sort_by(|a, b| a.mac.cmp(&b.mac));
        active
    }

    /// Hosts, sessions and cookies, for `GET /_sim/state`.
    fn sim_state(&self) -> SimState {
        let active = self.active();
        let state = self.state();
        let mut hosts: Vec<HostState> = state
            .hosts
            .values()
            .map(|h| HostState {
                mac: h.mac.to_string(),
                ip: h.ip,
                link_orig: h.link_orig.clone(),
                logged_in: h.session.is_some(),
            })
            .collect();
        hosts.sort_by(|a, b| a.mac.cmp(&b.mac));
        let mut cookies: Vec<CookieState> = state
            .cookies
            .iter()
            .map(|(mac, c)| CookieState {
                mac: mac.to_string(),
                user: c.user.clone(),
                method: match c.credential.method() {
                    Method::Chap => "chap",
                    _ => "pap",
                },
            })
            .collect();
        cookies.sort_by(|a, b| a.mac.cmp(&b.mac));
        SimState {
            hosts,
            active,
            cookies,
        }
    }
}

/// What `GET /_sim/state` shows.
#[derive(Debug, Serialize)]
struct SimState {
    hosts: Vec<HostState>,
    active: Vec<ActiveHost>,
    cookies: Vec<CookieState>,
}

#[derive(Debug, Serialize)]
struct HostState {
    mac: String,
    ip: Ipv4Addr,
    link_orig: String,
    logged_in: bool,
}

#[derive(Debug, Serialize)]
struct CookieState {
    mac: String,
    user: String,
    method: &'static str,
}

/// A running simulated hotspot. Dropping it stops it: it stops serving, and its sessions
/// leave the router's active list without a Stop, as when the router loses power.
pub struct SimHotspot {
    inner: Arc<Inner>,
    address: SocketAddr,
    coa_address: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for SimHotspot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimHotspot")
            .field("url", &self.inner.url)
            .field("active", &self.active())
            .finish_non_exhaustive()
    }
}

impl Drop for SimHotspot {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let items: Vec<_> = {
            let mut state = self.inner.state();
            self.inner.stopped.store(true, Ordering::Relaxed);
            state
                .hosts
                .values_mut()
                .filter_map(|host| host.session.take())
                .filter_map(|session| session.item)
                .collect()
        };
        for item in items {
            let _ = self.inner.router.remove("/ip/hotspot/active", &item);
        }
    }
}

impl SimHotspot {
    /// Binds the servlet and the CoA listener and starts serving, with `router` as the
    /// router it runs on.
    pub async fn start(
        config: HotspotConfig,
        router: Arc<SimRouter>,
    ) -> std::io::Result<SimHotspot> {
        let coa = tokio::net::UdpSocket::bind(config.coa_listen).await?;
        SimHotspot::start_on(config, router, coa).await
    }

    /// Starts with the CoA listener on `coa`, bound already (so the RADIUS server can be
    /// told its port before the hotspot starts).
    pub async fn start_on(
        config: HotspotConfig,
        router: Arc<SimRouter>,
        coa: tokio::net::UdpSocket,
    ) -> std::io::Result<SimHotspot> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let address = listener.local_addr()?;
        let host = match address.ip() {
            ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            ip => ip,
        };
        let url = format!("http://{}", SocketAddr::new(host, address.port()));
        let radius = ClientConfig {
            timeout: RADIUS_TIMEOUT,
            retries: 1,
            source: config.source,
            ..ClientConfig::default()
        };
        let secret = config.secret.as_bytes().to_vec();
        let inner = Arc::new(Inner {
            auth: Client::with_config(config.auth_server, secret.clone(), radius.clone()),
            acct: Client::with_config(config.acct_server, secret, radius),
            config,
            url,
            router,
            state: Mutex::new(State::default()),
            stopped: AtomicBool::new(false),
        });
        let app = servlet::routes(Arc::clone(&inner));
        let clients = HashMap::from([(
            inner.config.auth_server.ip(),
            NasClient::new(inner.config.secret.as_bytes()).require_message_authenticator(false),
        )]);
        let server = Server::from_socket(
            coa,
            clients,
            coa::HotspotCoa(Arc::clone(&inner)),
            ServerConfig::default(),
        );
        let coa_address = server.local_addr()?;
        let tasks = vec![
            tokio::spawn(async move {
                if let Err(error) = server.run(std::future::pending()).await {
                    tracing::warn!(%error, "the simulated hotspot's CoA listener stopped");
                }
            }),
            tokio::spawn(async move {
                if let Err(error) = axum::serve(listener, app).await {
                    tracing::warn!(%error, "the simulated hotspot stopped serving");
                }
            }),
            tokio::spawn(aaa::watch(Arc::clone(&inner))),
        ];
        Ok(SimHotspot {
            inner,
            address,
            coa_address,
            tasks,
        })
    }

    /// The servlet's URL, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        self.inner.url.clone()
    }

    /// Where the servlet listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where it takes CoA and Disconnect requests.
    pub fn coa_address(&self) -> SocketAddr {
        self.coa_address
    }

    /// The logged-in hosts, by MAC.
    pub fn active(&self) -> Vec<ActiveHost> {
        self.inner.active()
    }

    /// The Access-Requests sent so far (the last thousand), oldest first.
    pub fn access_requests(&self) -> Vec<SeenRequest> {
        self.inner.state().seen.iter().cloned().collect()
    }
}
