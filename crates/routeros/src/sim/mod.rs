//! A simulated MikroTik router that speaks the RouterOS API over TCP and TLS, for tests, the
//! demo, and ISPs who want to rehearse a change before touching a real router.
//!
//! [`SimRouter::start`] binds the listeners and serves every connection in its own task;
//! the handle lets a test create sessions, read or seed the configuration, and inject
//! faults. The pieces: `config` (what to run), `schema` (menus and defaults), `model` (the
//! in-memory configuration), `query` (`print` queries), `dispatch` (commands and
//! permissions), `session` (one connection: login, tags, streams, cancel, faults, limits),
//! `tls` and `state` (JSON persistence).

mod config;
mod dispatch;
mod model;
mod query;
mod schema;
mod session;
mod state;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

use crate::client::Fingerprint;
use crate::sentence::{ItemId, Row};
pub use config::{Faults, SimConfig, SimError, SimLimits, SimLogin, SimUser};
pub use dispatch::Group;
use model::Model;

/// State shared by every connection.
#[derive(Debug)]
pub(crate) struct Router {
    model: Mutex<Model>,
    faults: Mutex<Faults>,
    /// Commands received after login, on every connection.
    commands: std::sync::atomic::AtomicU64,
    login: SimLogin,
    empty_replies: bool,
    limits: SimLimits,
}

impl Router {
    pub(crate) fn model(&self) -> MutexGuard<'_, Model> {
        // A poisoned lock means a panic mid-operation; every operation validates before it
        // mutates, so the model is still consistent.
        self.model
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn count_command(&self) {
        self.commands
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn faults(&self) -> Faults {
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// A running simulated router. Dropping it stops it (without saving; see
/// [`SimRouter::shutdown`]).
#[derive(Debug)]
pub struct SimRouter {
    router: Arc<Router>,
    address: SocketAddr,
    tls_address: Option<SocketAddr>,
    fingerprint: Option<Fingerprint>,
    state_file: Option<PathBuf>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for SimRouter {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn attrs(props: &[(&str, &str)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    props
        .iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

impl SimRouter {
    /// Builds the model (from the state file when it exists), binds the listeners and starts
    /// serving.
    pub async fn start(config: SimConfig) -> Result<Self, SimError> {
        let mut model = Model::new(&config.identity);
        if let Some(path) = config.state_file.as_deref().filter(|p| p.exists()) {
            state::load(&mut model, path)?;
        }
        let users = schema::find(b"/user").ok_or_else(|| SimError::UnknownMenu("/user".into()))?;
        for user in &config.users {
            let props = attrs(&[
                ("name", &user.name),
                ("password", &user.password),
                ("group", user.group.name()),
            ]);
            let existing = model
                .resolve(users, user.name.as_bytes())
                .ok()
                .and_then(|ids| ids.first().copied());
            let result = match existing {
                Some(id) => model.set(users, id, &props, false),
                None => model.add(users, &props, false).map(drop),
            };
            result.map_err(|trap| SimError::Refused(trap.message))?;
        }
        let router = Arc::new(Router {
            model: Mutex::new(model),
            faults: Mutex::new(config.faults.clone()),
            commands: std::sync::atomic::AtomicU64::new(0),
            login: config.login,
            empty_replies: config.empty_replies,
            limits: config.limits,
        });
        let connections = Arc::new(Semaphore::new(config.limits.max_connections));
        let plain = bind(config.listen).await?;
        let address = plain.local_addr().map_err(|source| SimError::Bind {
            address: config.listen,
            source,
        })?;
        let mut tasks = vec![tokio::spawn(accept_loop(
            plain,
            Arc::clone(&router),
            None,
            Arc::clone(&connections),
        ))];
        let (mut tls_address, mut fingerprint) = (None, None);
        if let Some(listen) = config.tls_listen {
            let listener = bind(listen).await?;
            tls_address = Some(listener.local_addr().map_err(|source| SimError::Bind {
                address: listen,
                source,
            })?);
            let tls = if config.tls_certificate {
                let names = vec![
                    "localhost".to_owned(),
                    listen.ip().to_string(),
                    "127.0.0.1".to_owned(),
                ];
                let tls = tls::self_signed(names)?;
                fingerprint = Some(tls.fingerprint);
                Some(tls)
            } else {
                None
            };
            tasks.push(tokio::spawn(accept_loop(
                listener,
                Arc::clone(&router),
                Some(tls),
                connections,
            )));
        }
        if let Some(path) = config.state_file.clone() {
            tasks.push(tokio::spawn(autosave(Arc::clone(&router), path)));
        }
        Ok(Self {
            router,
            address,
            tls_address,
            fingerprint,
            state_file: config.state_file,
            tasks,
        })
    }

    /// The plain API address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The API-SSL address, when configured.
    pub fn tls_address(&self) -> Option<SocketAddr> {
        self.tls_address
    }

    /// The SHA-256 fingerprint of the API-SSL certificate, when there is one.
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        self.fingerprint
    }

    /// Commands received after login so far, on every connection (what a client's round
    /// trips cost).
    pub fn commands(&self) -> u64 {
        self.router
            .commands
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Faults) {
        *self
            .router
            .faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = faults;
    }

    /// Adds an item as the router itself would (no API rules), such as seeding 100 000
    /// secrets or a hotspot server.
    pub fn insert(&self, path: &str, props: &[(&str, &str)]) -> Result<ItemId, SimError> {
        let table =
            schema::find(path.as_bytes()).ok_or_else(|| SimError::UnknownMenu(path.to_owned()))?;
        let id = self
            .router
            .model()
            .insert_internal(table, &attrs(props), false);
        id.map(ItemId::from_number)
            .map_err(|trap| SimError::Refused(trap.message))
    }

    /// Starts a PPP session, as a subscriber dialling in would.
    pub fn add_ppp_session(
        &self,
        name: &str,
        address: &str,
        caller_id: &str,
    ) -> Result<ItemId, SimError> {
        self.add_session(
            "/ppp/active",
            &[
                ("name", name),
                ("address", address),
                ("caller-id", caller_id),
            ],
        )
    }

    /// Starts a hotspot session, as a user logging in would.
    pub fn add_hotspot_session(
        &self,
        user: &str,
        address: &str,
        mac: &str,
    ) -> Result<ItemId, SimError> {
        self.add_session(
            "/ip/hotspot/active",
            &[("user", user), ("address", address), ("mac-address", mac)],
        )
    }

    fn add_session(&self, path: &str, props: &[(&str, &str)]) -> Result<ItemId, SimError> {
        let table =
            schema::find(path.as_bytes()).ok_or_else(|| SimError::UnknownMenu(path.to_owned()))?;
        let id = self
            .router
            .model()
            .insert_internal(table, &attrs(props), true);
        id.map(ItemId::from_number)
            .map_err(|trap| SimError::Refused(trap.message))
    }

    /// Removes an item as the router itself would (a session that ended); false when it is
    /// not there (removed already, through the API or otherwise).
    pub fn remove(&self, path: &str, id: &ItemId) -> Result<bool, SimError> {
        let table =
            schema::find(path.as_bytes()).ok_or_else(|| SimError::UnknownMenu(path.to_owned()))?;
        let Some(number) = id.number() else {
            return Ok(false);
        };
        Ok(self.router.model().remove(table, number).is_ok())
    }

    /// Every item of a menu, as `print` would show it (hidden values such as user passwords
    /// excluded).
    pub fn rows(&self, path: &str) -> Result<Vec<Row>, SimError> {
        let table =
            schema::find(path.as_bytes()).ok_or_else(|| SimError::UnknownMenu(path.to_owned()))?;
        let now = Instant::now();
        let mut model = self.router.model();
        model.refresh(table, now);
        let t = &model.tables[table];
        Ok(t.items.iter().map(|item| t.row(item, None, now)).collect())
    }

    /// Serves one API connection over any byte stream (an in-memory duplex, a Unix socket…)
    /// until it ends, exactly as a TCP connection would be served.
    pub async fn serve<S>(&self, stream: S)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        session::serve(stream, Arc::clone(&self.router)).await;
    }

    /// Saves the configuration to the state file now (no-op without one).
    pub fn save(&self) -> Result<(), SimError> {
        match &self.state_file {
            Some(path) => save_now(&self.router, path),
            None => Ok(()),
        }
    }

    /// Stops serving and saves the configuration.
    pub async fn shutdown(self) -> Result<(), SimError> {
        for task in &self.tasks {
            task.abort();
        }
        self.save()
    }
}

async fn bind(address: SocketAddr) -> Result<TcpListener, SimError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| SimError::Bind { address, source })
}

fn save_now(router: &Router, path: &std::path::Path) -> Result<(), SimError> {
    let json = {
        let mut model = router.model();
        model.dirty = false;
        state::to_json(&model)?
    };
    state::save(&json, path)
}

async fn autosave(router: Arc<Router>, path: PathBuf) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let dirty = router.model().dirty;
        if dirty && let Err(error) = save_now(&router, &path) {
            tracing::warn!(%error, "saving the simulated router's state failed");
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    router: Arc<Router>,
    tls: Option<Option<tls::SimTls>>,
    connections: Arc<Semaphore>,
) {
    // Sessions live in the set, so stopping this loop stops them too.
    let mut sessions = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            Some(_) = sessions.join_next(), if !sessions.is_empty() => continue,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tracing::warn!(%peer, "too many connections; closing");
            continue;
        };
        let router = Arc::clone(&router);
        let tls = tls.clone();
        sessions.spawn(async move {
            serve_one(stream, router, tls).await;
            drop(permit);
        });
    }
}

async fn serve_one(stream: TcpStream, router: Arc<Router>, tls: Option<Option<tls::SimTls>>) {
    let _ = stream.set_nodelay(true);
    match tls {
        None => session::serve(stream, router).await,
        Some(None) => tls::refuse_without_certificate(stream).await,
        Some(Some(tls)) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
            let handshake =
                tokio::time::timeout(router.limits.login_timeout, acceptor.accept(stream)).await;
            match handshake {
                Ok(Ok(stream)) => session::serve(stream, router).await,
                Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
        }
    }
}
