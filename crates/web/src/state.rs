//! The state every HTTP handler shares ([`AppState`]): the database, the clock, the hasher,
//! the sign-in throttle, the metrics, the one-time setup link, and the few settings the
//! edges read. The binary builds it at start-up from its configuration; handlers turn it
//! into an operation's narrow [`ops::Ctx`] with [`AppState::ctx`].
//!
//! This is the ground floor of the crate: it names no handler and no route, so every area
//! can take it without an import circle; the routes are assembled on top (`crate::router`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::http::metrics::Metrics;
use ops::Ctx;
use ops::auth::password::Hasher;
use ops::auth::throttle::Throttle;
use ops::clock::Clock;
use store::Db;

/// What the HTTP edges read of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How users reach lastmile (`https://isp.example`), without a trailing slash; empty
    /// when not configured (links then use the listen address).
    pub public_url: String,
    /// A panel session ends after this many minutes without a request.
    pub session_idle_minutes: u32,
    /// A panel session ends this many hours after sign-in.
    pub session_max_hours: u32,
    /// API tokens live this many days.
    pub token_days: u32,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Settings {
    /// True when users reach lastmile over HTTPS (cookies are then `Secure`).
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The host routers send RADIUS to, as far as lastmile knows it: the host of the public
    /// address, else a placeholder for the operator to fill in.
    pub fn radius_server(&self) -> String {
        let rest = self
            .public_url
            .split_once("://")
            .map_or(self.public_url.as_str(), |(_, rest)| rest);
        let authority = rest.split('/').next().unwrap_or("");
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => authority.split(':').next().unwrap_or(""),
        };
        if host.is_empty() {
            "RADIUS-SERVER".to_owned()
        } else {
            host.to_owned()
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_url: String::new(),
            session_idle_minutes: 30,
            session_max_hours: 12,
            token_days: 30,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

/// How long a user's dashboard is shown before it is computed again.
pub const DASHBOARD_FRESH: Duration = Duration::from_secs(30);

/// The shared state behind [`AppState`].
#[derive(Debug)]
pub struct Inner {
    /// The edges' settings.
    pub settings: Settings,
    /// The database.
    pub db: Db,
    /// The clock.
    pub clock: Clock,
    /// The password hasher.
    pub hasher: Hasher,
    /// The sign-in throttle.
    pub throttle: Throttle,
    /// Refused payment hooks and return pages per client address (`billing::online`).
    pub hook_throttle: Throttle,
    /// Captive portal visits opened per minute per portal (`hotspot::portal`, at most
    /// `ops::hotspot::visit::VISITS_PER_MINUTE`).
    pub portal_throttle: Throttle,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The one-time setup link, while no account exists.
    pub setup: Mutex<Option<SetupLink>>,
    /// Wakes the job workers when a job is queued.
    pub jobs_wake: Arc<Notify>,
    /// When each session or token was last marked as used (to write that at most once a
    /// minute).
    touched: Mutex<HashMap<String, Instant>>,
    /// Each user's dashboard, kept briefly (`dashboard`).
    dashboards: Mutex<HashMap<i64, (Instant, ops::dashboard::Dashboard)>>,
    /// The payment providers' client (`None` when TLS could not be set up: online payments
    /// then answer 502).
    pub payments: Option<gateways::Client>,
}

impl axum::extract::FromRef<AppState> for Metrics {
    fn from_ref(state: &AppState) -> Metrics {
        state.metrics.clone()
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The one-time link that creates the first account.
#[derive(Debug, Clone)]
pub struct SetupLink {
    /// SHA-256 of the token in the link.
    pub token_hash: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// The parts [`AppState`] is built from.
#[derive(Debug)]
pub struct Parts {
    /// The edges' settings.
    pub settings: Settings,
    /// The database.
    pub db: Db,
    /// The clock.
    pub clock: Clock,
    /// The password hasher.
    pub hasher: Hasher,
    /// Wrong sign-ins per minute per account and per address (0: no throttle).
    pub sign_in_failures_per_minute: u32,
    /// Refused payment hooks per minute per address (0: no throttle).
    pub hook_refusals_per_minute: u32,
    /// The one-time setup link, when no account exists yet.
    pub setup: Option<SetupLink>,
    /// Wakes the job workers.
    pub jobs_wake: Arc<Notify>,
}

impl AppState {
    /// The state made of `parts`.
    pub fn new(parts: Parts) -> Self {
        Self(Arc::new(Inner {
            throttle: Throttle::new(parts.sign_in_failures_per_minute),
            hook_throttle: Throttle::new(parts.hook_refusals_per_minute),
            portal_throttle: Throttle::new(ops::hotspot::visit::VISITS_PER_MINUTE),
            metrics: Metrics::new(),
            setup: Mutex::new(parts.setup),
            jobs_wake: parts.jobs_wake,
            touched: Mutex::new(HashMap::new()),
            dashboards: Mutex::new(HashMap::new()),
            payments: gateways::Client::new()
                .map_err(|error| tracing::error!(%error, "no payment provider client"))
                .ok(),
            settings: parts.settings,
            db: parts.db,
            clock: parts.clock,
            hasher: parts.hasher,
        }))
    }

    /// An operation's context, at the time of asking.
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx::new(&self.db, &self.hasher, self.clock.now())
    }

    /// The dashboard of `actor`: computed at most every [`DASHBOARD_FRESH`] per user, or
    /// now when `refresh`.
    pub async fn dashboard(
        &self,
        actor: &domain::access::Actor,
        refresh: bool,
    ) -> Result<ops::dashboard::Dashboard, ops::OpError> {
        let key = actor.user_id.0;
        if !refresh {
            let kept = self.dashboards.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, dashboard)) = kept.get(&key)
                && at.elapsed() < DASHBOARD_FRESH
            {
                return Ok(dashboard.clone());
            }
        }
        let dashboard = ops::dashboard::figures(&self.ctx(), actor).await?;
        let mut kept = self.dashboards.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() > 10_000 {
            kept.clear();
        }
        kept.insert(key, (Instant::now(), dashboard.clone()));
        Ok(dashboard)
    }

    /// True at most once a minute per credential: when its "last used" time should be
    /// written.
    pub fn due_for_touch(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut touched = self.touched.lock().unwrap_or_else(|p| p.into_inner());
        if touched.len() > 100_000 {
            touched.clear();
        }
        match touched.get(key) {
            Some(at) if now.duration_since(*at) < Duration::from_secs(60) => false,
            _ => {
                touched.insert(key.to_owned(), now);
                true
            }
        }
    }
}
