//! A simulated NAS: the AAA side of a MikroTik access router (PPPoE and hotspot), around the
//! `routeros` crate's simulated router, driven by a [`Scenario`]. The demo starts one so a
//! newcomer sees customers come online, usage grow and a disconnect work; `lastmile
//! sim-router --radius` runs one against any RADIUS server; tests and load runs drive it.
//! It speaks RADIUS and RouterOS and knows nothing of lastmile.
//!
//! What it does, as a router does:
//!
//! - at boot, an Accounting-On (the server closes what it held open for this NAS);
//! - accounting it cannot deliver is sent again, a few rounds of retransmissions, before
//!   it is counted as lost;
//! - its subscribers dial in over the scenario's login window, most of them early (a boot
//!   curve), each with its method (PAP, CHAP and MS-CHAPv2 in turn; the MS-CHAP2-Success
//!   is checked), retransmitting as the `radius` client does; a refused or unanswered one
//!   dials again later;
//! - an accepted one gets a session: an entry in `/ppp/active` (or `/ip/hotspot/active`)
//!   with the Framed-IP-Address given (else one of 100.64.0.0/10), an Accounting Start,
//!   then an Interim-Update every interval (the reply's Acct-Interim-Interval when it has
//!   one) with counters grown by its traffic (a share of its Mikrotik-Rate-Limit, 64-bit
//!   with gigawords); the session ends at its Session-Timeout or when its
//!   Mikrotik-Total-Limit is used, with a Stop, and the subscriber dials again;
//! - a Disconnect-Request ends the session (Stop, Admin-Reset) and is ACKed; a CoA-Request
//!   with Mikrotik-Rate-Limit changes its rate and is ACKed; either for a session it does not
//!   have is NAKed with Error-Cause 503 (as RouterOS answers);
//! - a session removed from the active list through the API ends with a Stop;
//! - a PPP subscriber whose name the router holds as an enabled `/ppp/secret` logs in on
//!   that secret alone (its password checked), with no RADIUS and no accounting, as
//!   RouterOS looks at its local secrets before RADIUS: disabling the secret sends its next
//!   login to RADIUS (the router-to-RADIUS migration);
//! - with `reboot_every`, it reboots: every session dropped without a Stop, an
//!   Accounting-On, everyone dials again.
//!
//! [`hotspot`] is the router's captive-portal side: a [`SimHotspot`] serves the hotspot's
//! pages to a browser and logs its clients in over RADIUS, as RouterOS's servlet does.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use radius::auth::{self, Method};
use radius::client::{Client, ClientConfig};
use radius::server::{NasClient, Server, ServerConfig};
use radius::{Code, Packet, attrs};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use routeros::ItemId;
use routeros::sim::SimRouter;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

mod coa;
pub mod hotspot;
mod scenario;
mod wire;

pub use hotspot::{ActiveHost, HotspotConfig, SeenRequest, SimHotspot};
pub use scenario::{Scenario, Snapshot, Subscriber};

use coa::CoaHandler;
pub use wire::parse_rate;
use wire::{add_usage, mac_of, port_type};

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicU64,
    local: AtomicU64,
    rejected: AtomicU64,
    unanswered: AtomicU64,
    acct_acked: AtomicU64,
    starts_acked: AtomicU64,
    acct_lost: AtomicU64,
    coa: AtomicU64,
    coa_lost: AtomicU64,
    disconnects: AtomicU64,
    removed: AtomicU64,
    reboots: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Accounting status types and termination causes (RFC 2866).
mod acct {
    pub const START: u32 = 1;
    pub const STOP: u32 = 2;
    pub const INTERIM: u32 = 3;
    pub const ON: u32 = 7;
    pub const USER_REQUEST: u32 = 1;
    pub const LOST_CARRIER: u32 = 2;
    pub const SESSION_TIMEOUT: u32 = 5;
    pub const ADMIN_RESET: u32 = 6;
    pub const NAS_REQUEST: u32 = 10;
    pub const ETHERNET: u32 = 15;
    pub const WIRELESS: u32 = 19;
}

/// Error-Cause 503: Session Context Not Found.
pub(crate) const SESSION_NOT_FOUND: u32 = 503;

/// Requests in flight at most (logins and accounting together).
const IN_FLIGHT: usize = 64;

/// Rounds of retransmissions an accounting record gets before it counts as lost.
const ACCT_ROUNDS: u32 = 4;

/// How often the NAS looks at its sessions.
const TICK: Duration = Duration::from_millis(250);

/// How often it compares its sessions with the router's active lists.
const LIST_CHECK: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
struct Session {
    subscriber: usize,
    id: String,
    ip: Ipv4Addr,
    started: Instant,
    /// The boot it belongs to: a reboot forgets the records it had not delivered.
    boot: u64,
    /// The rate the router applies (`Mikrotik-Rate-Limit`, as given).
    rate: String,
    /// Its Start was acknowledged.
    start_acked: bool,
    /// Its Start was given up (no answer in every round).
    start_lost: bool,
    /// Bytes per second, down (to the subscriber) and up.
    down_bps: u64,
    up_bps: u64,
    /// Bytes so far: from the subscriber (input) and to it (output).
    input: u64,
    output: u64,
    last_grow: Instant,
    interim: Duration,
    next_interim: Instant,
    ends_at: Option<Instant>,
    total_limit: Option<u64>,
    item: Option<ItemId>,
    /// Authenticated by the router's own secret: nothing of it goes to RADIUS.
    local: bool,
}

#[derive(Debug)]
struct State {
    sessions: HashMap<String, Session>,
    /// Subscriber → its session's id.
    by_subscriber: HashMap<usize, String>,
    /// When each waiting subscriber dials next.
    dials: BTreeSet<(Instant, usize)>,
    /// Subscribers dialling now.
    dialling: HashSet<usize>,
    next_session: u64,
    next_address: u32,
    rng: StdRng,
}

struct Inner {
    /// A reboot asked for ([`SimNas::reboot_now`]).
    reboot_asked: std::sync::atomic::AtomicBool,
    /// How many times it has rebooted: each boot's records die with it.
    boots: watch::Sender<u64>,
    scenario: Scenario,
    router: Arc<SimRouter>,
    auth: Client,
    acct: Client,
    state: Mutex<State>,
    counters: Counters,
    permits: Arc<Semaphore>,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running simulated NAS. Dropping it stops it.
pub struct SimNas {
    inner: Arc<Inner>,
    coa_address: SocketAddr,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for SimNas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimNas")
            .field("coa_address", &self.coa_address)
            .field("snapshot", &self.snapshot())
            .finish_non_exhaustive()
    }
}

impl Drop for SimNas {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl SimNas {
    /// Binds the CoA listener and boots: the Accounting-On, then the logins.
    pub async fn start(scenario: Scenario, router: Arc<SimRouter>) -> std::io::Result<SimNas> {
        let socket = tokio::net::UdpSocket::bind(scenario.coa_listen).await?;
        SimNas::start_on(scenario, router, socket).await
    }

    /// Boots with the CoA listener on `socket`, bound already (so the server can be told its
    /// port before the NAS starts).
    pub async fn start_on(
        scenario: Scenario,
        router: Arc<SimRouter>,
        socket: tokio::net::UdpSocket,
    ) -> std::io::Result<SimNas> {
        let clients = HashMap::from([(
            scenario.auth_server.ip(),
            NasClient::new(scenario.secret.as_bytes()).require_message_authenticator(false),
        )]);
        let config = ClientConfig {
            timeout: Duration::from_secs(2),
            retries: 2,
            source: scenario.source,
            ..ClientConfig::default()
        };
        let secret = scenario.secret.as_bytes().to_vec();
        let inner = Arc::new(Inner {
            reboot_asked: std::sync::atomic::AtomicBool::new(false),
            boots: watch::Sender::new(0),
            auth: Client::with_config(scenario.auth_server, secret.clone(), config.clone()),
            acct: Client::with_config(scenario.acct_server, secret, config),
            state: Mutex::new(State {
                sessions: HashMap::new(),
                by_subscriber: HashMap::new(),
                dials: BTreeSet::new(),
                dialling: HashSet::new(),
                next_session: 1,
                next_address: 1,
                rng: StdRng::seed_from_u64(scenario.seed),
            }),
            counters: Counters::default(),
            permits: Arc::new(Semaphore::new(IN_FLIGHT)),
            router,
            scenario,
        });
        let server = Server::from_socket(
            socket,
            clients,
            CoaHandler(Arc::clone(&inner)),
            ServerConfig::default(),
        );
        let coa_address = server.local_addr()?;
        let tasks = vec![
            tokio::spawn(async move {
                if let Err(error) = server.run(std::future::pending()).await {
                    tracing::warn!(%error, "the simulated NAS's CoA listener stopped");
                }
            }),
            tokio::spawn(drive(Arc::clone(&inner))),
        ];
        Ok(SimNas {
            inner,
            coa_address,
            tasks,
        })
    }

    /// Where it takes CoA and Disconnect requests.
    pub fn coa_address(&self) -> SocketAddr {
        self.coa_address
    }

    /// What it has done so far.
    pub fn snapshot(&self) -> Snapshot {
        let c = &self.inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Snapshot {
            accepted: get(&c.accepted),
            local: get(&c.local),
            rejected: get(&c.rejected),
            unanswered: get(&c.unanswered),
            online: self.inner.state().sessions.len() as u64,
            acct_acked: get(&c.acct_acked),
            starts_acked: get(&c.starts_acked),
            acct_lost: get(&c.acct_lost),
            coa: get(&c.coa),
            coa_lost: get(&c.coa_lost),
            disconnects: get(&c.disconnects),
            removed: get(&c.removed),
            reboots: get(&c.reboots),
        }
    }

    /// The sessions it holds: user name, Acct-Session-Id, and whether the server has
    /// acknowledged its Start.
    pub fn sessions(&self) -> Vec<(String, String, bool)> {
        let inner = &self.inner;
        inner
            .state()
            .sessions
            .values()
            .map(|s| {
                (
                    inner.scenario.subscribers[s.subscriber].username.clone(),
                    s.id.clone(),
                    s.start_acked,
                )
            })
            .collect()
    }

    /// How many of its sessions still send their Start (neither acknowledged nor given up).
    pub fn starts_in_flight(&self) -> usize {
        self.inner
            .state()
            .sessions
            .values()
            .filter(|s| !s.start_acked && !s.start_lost)
            .count()
    }

    /// How many of its sessions run at `rate` (`Mikrotik-Rate-Limit` notation).
    pub fn sessions_at_rate(&self, rate: &str) -> usize {
        self.inner
            .state()
            .sessions
            .values()
            .filter(|s| s.rate == rate)
            .count()
    }

    /// Reboots at the next tick, as `reboot_every` would.
    pub fn reboot_now(&self) {
        self.inner.reboot_asked.store(true, Ordering::Relaxed);
    }

    /// The rate (`Mikrotik-Rate-Limit` notation, up/down) of `username`'s session, if it
    /// has one.
    pub fn rate_of(&self, username: &str) -> Option<String> {
        let inner = &self.inner;
        let index = inner
            .scenario
            .subscribers
            .iter()
            .position(|s| s.username == username)?;
        let state = inner.state();
        let session = state.by_subscriber.get(&index)?;
        state.sessions.get(session).map(|s| s.rate.clone())
    }
}

/// The NAS's life: boot, then every tick the dials due, the sessions' updates and ends, the
/// active lists, and the reboots.
async fn drive(inner: Arc<Inner>) {
    let mut booted = Instant::now();
    boot(&inner, booted).await;
    let mut last_list_check = Instant::now();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = Instant::now();
        let due = inner
            .scenario
            .reboot_every
            .is_some_and(|every| now.duration_since(booted) >= every);
        if due || inner.reboot_asked.swap(false, Ordering::Relaxed) {
            booted = now;
            reboot(&inner, now).await;
            continue;
        }
        for subscriber in due_dials(&inner, now) {
            let inner = Arc::clone(&inner);
            tokio::spawn(async move { dial(&inner, subscriber).await });
        }
        for (record, session) in sessions_due(&inner, now) {
            let inner = Arc::clone(&inner);
            tokio::spawn(async move { account(&inner, record, &session).await });
        }
        if now.duration_since(last_list_check) >= LIST_CHECK {
            last_list_check = now;
            for session in removed_through_api(&inner) {
                bump(&inner.counters.removed);
                let inner = Arc::clone(&inner);
                tokio::spawn(async move {
                    account(&inner, Record::Stop(acct::ADMIN_RESET), &session).await;
                });
            }
        }
    }
}

/// Accounting-On, then every subscriber's dial on the boot curve.
async fn boot(inner: &Arc<Inner>, now: Instant) {
    let mut on = Packet::new(Code::AccountingRequest, 0);
    on.add(attrs::ACCT_STATUS_TYPE, &acct::ON);
    on.add(attrs::ACCT_SESSION_ID, &"0".to_owned());
    on.add(attrs::NAS_IP_ADDRESS, &inner.scenario.nas_ip);
    on.add(attrs::NAS_IDENTIFIER, &"sim-nas".to_owned());
    match inner.acct.send(&on).await {
        Ok(_) => bump(&inner.counters.acct_acked),
        Err(_) => bump(&inner.counters.acct_lost),
    }
    let over = inner.scenario.login_over.as_secs_f64();
    let mut state = inner.state();
    for subscriber in 0..inner.scenario.subscribers.len() {
        // The square of a uniform draw: most subscribers early, a tail late.
        let u: f64 = state.rng.random();
        let at = now + Duration::from_secs_f64(over * u * u);
        state.dials.insert((at, subscriber));
    }
}

/// A reboot: every session dropped without a Stop, then a fresh boot.
async fn reboot(inner: &Arc<Inner>, now: Instant) {
    bump(&inner.counters.reboots);
    inner.boots.send_modify(|boot| *boot += 1);
    let dropped: Vec<Session> = {
        let mut state = inner.state();
        state.by_subscriber.clear();
        state.dials.clear();
        state.sessions.drain().map(|(_, s)| s).collect()
    };
    for session in &dropped {
        remove_from_router(inner, session);
    }
    boot(inner, now).await;
}

fn due_dials(inner: &Inner, now: Instant) -> Vec<usize> {
    let mut state = inner.state();
    let mut due = Vec::new();
    while let Some(&(at, subscriber)) = state.dials.first()
        && at <= now
        && due.len() < 1_000
    {
        state.dials.pop_first();
        if !state.by_subscriber.contains_key(&subscriber) && state.dialling.insert(subscriber) {
            due.push(subscriber);
        }
    }
    due
}

/// One subscriber's login; on success its session starts.
async fn dial(inner: &Arc<Inner>, index: usize) {
    // The permit covers the login only: the Start takes one of its own (a login holding
    // one while waiting for another would starve them all).
    let Ok(permit) = inner.permits.acquire().await else {
        return;
    };
    let boot = *inner.boots.borrow();
    let subscriber = &inner.scenario.subscribers[index];
    let method = [Method::Pap, Method::Chap, Method::MsChapV2][index % 3];
    let mut request = Packet::new(Code::AccessRequest, 0);
    request.add(attrs::USER_NAME, &subscriber.username);
    request.add(attrs::NAS_IP_ADDRESS, &inner.scenario.nas_ip);
    request.add(attrs::NAS_IDENTIFIER, &"sim-nas".to_owned());
    request.add(attrs::NAS_PORT, &u32::try_from(index).unwrap_or(u32::MAX));
    request.add(attrs::NAS_PORT_TYPE, &port_type(subscriber));
    request.add(attrs::CALLING_STATION_ID, &mac_of(subscriber, index));
    // A PPP login the router finds among its own enabled secrets is answered there: no
    // RADIUS, no accounting (as RouterOS does before it asks RADIUS).
    if !subscriber.hotspot
        && let Some(password) = local_secret(&inner.router, &subscriber.username)
    {
        drop(permit);
        if password != subscriber.password {
            bump(&inner.counters.rejected);
            return finish_dial(inner, index, inner.scenario.redial);
        }
        bump(&inner.counters.local);
        open(inner, index, &Packet::new(Code::AccessAccept, 0), true);
        return;
    }
    let secret = inner.scenario.secret.as_bytes();
    let exchange = match auth::add_credentials(&mut request, method, &subscriber.password, secret) {
        Ok(exchange) => exchange,
        Err(error) => {
            tracing::warn!(%error, user = %subscriber.username, "cannot hide the password");
            return finish_dial(inner, index, inner.scenario.redial);
        }
    };
    let answer = inner.auth.send(&request).await;
    let reply = match answer {
        Ok(response) if response.packet.code == Code::AccessAccept => {
            let proven = exchange.is_none_or(|e| e.verify_success(&response.packet));
            if !proven {
                tracing::warn!(user = %subscriber.username, "MS-CHAP2-Success does not prove the password");
                bump(&inner.counters.rejected);
                return finish_dial(inner, index, inner.scenario.redial);
            }
            response.packet
        }
        Ok(_) => {
            bump(&inner.counters.rejected);
            return finish_dial(inner, index, inner.scenario.redial);
        }
        Err(_) => {
            bump(&inner.counters.unanswered);
            return finish_dial(inner, index, Duration::from_secs(10));
        }
    };
    drop(permit);
    if *inner.boots.borrow() != boot {
        // The router rebooted during the login: the dial is gone with it.
        return finish_dial(inner, index, Duration::ZERO);
    }
    bump(&inner.counters.accepted);
    let session = open(inner, index, &reply, false);
    account(inner, Record::Start, &session).await;
}

/// The password of the router's enabled local secret named `name`, if it has one.
fn local_secret(router: &SimRouter, name: &str) -> Option<String> {
    let secrets = router.rows("/ppp/secret").ok()?;
    secrets
        .iter()
        .find(|row| row.text("name").as_deref() == Some(name) && row.flag("disabled") != Some(true))
        .map(|row| row.text("password").unwrap_or_default())
}

fn finish_dial(inner: &Inner, index: usize, after: Duration) {
    let mut state = inner.state();
    state.dialling.remove(&index);
    state.dials.insert((Instant::now() + after, index));
}

/// The session an Access-Accept opens (or, `local`, the router's own secret), entered in the
/// router's active list.
fn open(inner: &Inner, index: usize, reply: &Packet, local: bool) -> Session {
    let subscriber = &inner.scenario.subscribers[index];
    let now = Instant::now();
    let number = |attr| reply.value(attr).and_then(Result::ok);
    let rate: String = reply
        .value(attrs::MIKROTIK_RATE_LIMIT)
        .and_then(Result::ok)
        .unwrap_or_default();
    let (up_bps, down_bps) = parse_rate(&rate).unwrap_or((1_000_000 / 8, 4_000_000 / 8));
    let total_limit = match (
        number(attrs::MIKROTIK_TOTAL_LIMIT),
        number(attrs::MIKROTIK_TOTAL_LIMIT_GIGAWORDS),
    ) {
        (None, None) => None,
        (low, high) => Some(u64::from(high.unwrap_or(0)) << 32 | u64::from(low.unwrap_or(0))),
    };
    let interim = number(attrs::ACCT_INTERIM_INTERVAL)
        .filter(|s| *s > 0)
        .map_or(inner.scenario.interim, |s| {
            Duration::from_secs(u64::from(s))
        });
    let ends_at = number(attrs::SESSION_TIMEOUT).map(|s| now + Duration::from_secs(u64::from(s)));
    let mut state = inner.state();
    let busy = u64::from(inner.scenario.busy_percent.clamp(1, 100));
    // Each line busy around the scenario's share: between half and one and a half of it.
    let share = |bps: u64, rng: &mut StdRng| bps * busy * rng.random_range(50..150) / 10_000;
    let down = share(down_bps, &mut state.rng);
    let up = share(up_bps, &mut state.rng);
    let ip = reply
        .value(attrs::FRAMED_IP_ADDRESS)
        .and_then(Result::ok)
        .unwrap_or_else(|| {
            let n = state.next_address;
            state.next_address = n.wrapping_add(1);
            Ipv4Addr::from(0x6440_0000 | (n & 0x003F_FFFF))
        });
    let id = format!("{:08X}", state.next_session);
    state.next_session += 1;
    let mac = mac_of(subscriber, index);
    let (list, who) = if subscriber.hotspot {
        ("/ip/hotspot/active", "user")
    } else {
        ("/ppp/active", "name")
    };
    let added = if who == "user" {
        inner
            .router
            .add_hotspot_session(&subscriber.username, &ip.to_string(), &mac)
    } else {
        inner
            .router
            .add_ppp_session(&subscriber.username, &ip.to_string(), &mac)
    };
    let item = added
        .inspect_err(|error| tracing::warn!(%error, list, "cannot list the session"))
        .ok();
    let session = Session {
        subscriber: index,
        id: id.clone(),
        ip,
        started: now,
        boot: *inner.boots.borrow(),
        rate,
        start_acked: false,
        start_lost: false,
        down_bps: down,
        up_bps: up,
        input: 0,
        output: 0,
        last_grow: now,
        interim,
        next_interim: now + interim,
        ends_at,
        total_limit,
        item,
        local,
    };
    state.dialling.remove(&index);
    state.by_subscriber.insert(index, id.clone());
    state.sessions.insert(id, session.clone());
    session
}

/// What one Accounting-Request reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Record {
    Start,
    Interim,
    Stop(u32),
}

/// The records the sessions owe at `now`: updates due, and Stops of sessions that reached
/// their timeout or their volume (those end here, and their subscribers dial again).
fn sessions_due(inner: &Inner, now: Instant) -> Vec<(Record, Session)> {
    let mut state = inner.state();
    let mut out = Vec::new();
    let mut ended = Vec::new();
    for session in state.sessions.values_mut() {
        let seconds = now.duration_since(session.last_grow).as_secs_f64();
        session.last_grow = now;
        session.output += (session.down_bps as f64 * seconds) as u64;
        session.input += (session.up_bps as f64 * seconds) as u64;
        let used = session.input + session.output;
        let cause = match (session.ends_at, session.total_limit) {
            (Some(at), _) if now >= at => Some(acct::SESSION_TIMEOUT),
            (_, Some(limit)) if used >= limit => Some(acct::NAS_REQUEST),
            _ => None,
        };
        if let Some(cause) = cause {
            ended.push((cause, session.id.clone()));
        } else if now >= session.next_interim {
            session.next_interim = now + session.interim;
            out.push((Record::Interim, session.clone()));
        }
    }
    for (cause, id) in ended {
        if let Some(session) = end(
            &mut state,
            &id,
            inner.scenario.redial.min(Duration::from_secs(5)),
        ) {
            remove_from_router(inner, &session);
            out.push((Record::Stop(cause), session));
        }
    }
    out
}

/// Ends session `id` in the state; its subscriber dials again after `redial`.
fn end(state: &mut State, id: &str, redial: Duration) -> Option<Session> {
    let session = state.sessions.remove(id)?;
    state.by_subscriber.remove(&session.subscriber);
    state
        .dials
        .insert((Instant::now() + redial, session.subscriber));
    Some(session)
}

fn remove_from_router(inner: &Inner, session: &Session) {
    let Some(item) = &session.item else { return };
    let list = if inner.scenario.subscribers[session.subscriber].hotspot {
        "/ip/hotspot/active"
    } else {
        "/ppp/active"
    };
    if let Err(error) = inner.router.remove(list, item) {
        tracing::warn!(%error, list, "cannot unlist the session");
    }
}

/// The sessions whose entries the router's API removed (they end here).
fn removed_through_api(inner: &Inner) -> Vec<Session> {
    let listed: HashSet<String> = ["/ppp/active", "/ip/hotspot/active"]
        .iter()
        .filter_map(|list| inner.router.rows(list).ok())
        .flatten()
        .filter_map(|row| row.id().map(|id| id.as_str().to_owned()))
        .collect();
    let mut state = inner.state();
    let gone: Vec<String> = state
        .sessions
        .values()
        .filter(|s| {
            s.item
                .as_ref()
                .is_some_and(|item| !listed.contains(item.as_str()))
        })
        .map(|s| s.id.clone())
        .collect();
    gone.iter()
        .filter_map(|id| end(&mut state, id, Duration::from_secs(5)))
        .collect()
}

/// Sends one Accounting-Request for `session` and counts its fate.
async fn account(inner: &Arc<Inner>, record: Record, session: &Session) {
    if session.local {
        return;
    }
    let Ok(_permit) = inner.permits.acquire().await else {
        return;
    };
    let subscriber = &inner.scenario.subscribers[session.subscriber];
    let mut request = Packet::new(Code::AccountingRequest, 0);
    let status = match record {
        Record::Start => acct::START,
        Record::Interim => acct::INTERIM,
        Record::Stop(_) => acct::STOP,
    };
    request.add(attrs::ACCT_STATUS_TYPE, &status);
    request.add(attrs::USER_NAME, &subscriber.username);
    request.add(attrs::ACCT_SESSION_ID, &session.id);
    request.add(attrs::NAS_IP_ADDRESS, &inner.scenario.nas_ip);
    request.add(attrs::NAS_IDENTIFIER, &"sim-nas".to_owned());
    request.add(
        attrs::NAS_PORT,
        &u32::try_from(session.subscriber).unwrap_or(u32::MAX),
    );
    request.add(attrs::NAS_PORT_TYPE, &port_type(subscriber));
    request.add(attrs::FRAMED_IP_ADDRESS, &session.ip);
    request.add(
        attrs::CALLING_STATION_ID,
        &mac_of(subscriber, session.subscriber),
    );
    if record != Record::Start {
        let seconds = session.started.elapsed().as_secs();
        add_usage(&mut request, seconds, session.input, session.output);
    }
    if let Record::Stop(cause) = record {
        request.add(attrs::ACCT_TERMINATE_CAUSE, &cause);
    }
    // A router keeps a record it could not deliver and sends it again: up to this many
    // rounds of the client's retransmissions before it counts as lost. A reboot forgets it
    // (no record of an earlier boot follows the Accounting-On).
    let mut boots = inner.boots.subscribe();
    for _ in 0..ACCT_ROUNDS {
        let sent = tokio::select! {
            sent = inner.acct.send(&request) => sent,
            _ = boots.wait_for(|boot| *boot != session.boot) => return,
        };
        if sent.is_ok() {
            bump(&inner.counters.acct_acked);
            if record == Record::Start {
                bump(&inner.counters.starts_acked);
                if let Some(open) = inner.state().sessions.get_mut(&session.id) {
                    open.start_acked = true;
                }
            }
            return;
        }
    }
    bump(&inner.counters.acct_lost);
    if record == Record::Start
        && let Some(open) = inner.state().sessions.get_mut(&session.id)
    {
        open.start_lost = true;
    }
}
