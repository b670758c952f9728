//! `AaaState`: what the built-in RADIUS server answers from, in memory and authoritative
//! (aaa-design.md §3.2): every live customer's account by user name, every live router
//! as a client by address, and the customers' open sessions (`sessions`). A user name not here is refused; nothing is asked of the
//! database on the way to an answer.
//!
//! On PostgreSQL several nodes may share the database. Each follows the session log
//! (`aaa_session`, written by a trigger on `radacct`) to count the other nodes' sessions,
//! and is woken by `NOTIFY lastmile_aaa` when any process commits to either log.
//!
//! It is loaded once at start and then follows the AAA change log (`aaa_change`), which
//! every write that can alter a decision appends to in its own transaction: a customer's
//! change reloads that customer, a change of a tenant or its routers reloads the tenant's
//! customers and the clients. The server catches up before answering whenever this process
//! has committed such a write since it last looked (so the request after an API change is
//! answered by it); a follower task catches up as soon as this process commits one (a new
//! router must be known before its first request reaches a handler) and every
//! [`FOLLOW_EVERY`] for writes of other processes (the command line, another node).
//!
//! PostgreSQL hands out the log's positions when rows are inserted, not when they commit:
//! a position below the newest one read may still be in flight. The follower keeps the
//! positions it has not seen below the newest (the gaps) and looks for them on every
//! catch-up until they appear or [`GAP_PATIENCE`] has passed (a rolled-back write leaves a
//! gap that never fills). On SQLite writers take turns, so there are no gaps.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use radius::server::{ClientStore, NasClient};
use store::aaa::{Account, AccountReader, Change};

use crate::clock::Now;
use crate::sessions::Sessions;
use store::{Db, StoreResult};

/// How often the follower looks at the change log for other processes' writes.
pub const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// How long a gap in the change log is looked for before it is taken for a rolled-back
/// write. Longer than any write transaction (a large import included).
pub const GAP_PATIENCE: Duration = Duration::from_secs(15 * 60);

/// Gaps remembered at most (the oldest are let go first).
const MAX_GAPS: usize = 10_000;

/// Customers read per query when loading.
const LOAD_PAGE: u64 = 5_000;

/// Change log entries read per query when catching up.
const CHANGES_PAGE: u64 = 2_000;

/// The built-in server's accounts and clients (see the module documentation).
pub struct AaaState {
    /// The application's clock (an account's usage is its current period's).
    now: Now,
    accounts: RwLock<Accounts>,
    /// The VPN accounts by user name (`domain::vpn`): a second kind of account, never
    /// sharing a name with a customer.
    vpn: RwLock<HashMap<String, Arc<store::vpn::View>>>,
    sessions: Sessions,
    clients: RwLock<HashMap<IpAddr, Arc<ClientEntry>>>,
    follow: tokio::sync::Mutex<Follow>,
    /// Where it is in the session log (PostgreSQL only).
    follow_sessions: Option<tokio::sync::Mutex<Follow>>,
    /// `Db::aaa_commits` when the follower last caught up.
    seen_commits: AtomicU64,
}

impl std::fmt::Debug for AaaState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AaaState")
            .field("accounts", &self.account_count())
            .field("clients", &self.client_count())
            .field("sessions", &self.sessions.total())
            .finish_non_exhaustive()
    }
}

/// A router as the server knows it.
#[derive(Debug, Clone)]
pub struct ClientEntry {
    /// The router.
    pub router_id: i64,
    /// Its tenant.
    pub tenant_id: i64,
    /// Its secret and Message-Authenticator policy.
    pub nas: NasClient,
}

/// The accounts by user name and by customer, each account held once: the user name is
/// the account's own, not a copy per map.
#[derive(Default)]
struct Accounts {
    by_name: HashSet<ByName>,
    by_id: HashMap<i64, Arc<Account>>,
}

/// An account filed under its user name (found by a `&str`).
struct ByName(Arc<Account>);

impl Borrow<str> for ByName {
    fn borrow(&self) -> &str {
        &self.0.username
    }
}

impl Hash for ByName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `str` hashes, so that a `&str` finds it.
        self.0.username.as_str().hash(state);
    }
}

impl PartialEq for ByName {
    fn eq(&self, other: &ByName) -> bool {
        self.0.username == other.0.username
    }
}

impl Eq for ByName {}

impl Accounts {
    fn get(&self, customer: i64) -> Option<&Arc<Account>> {
        self.by_id.get(&customer)
    }

    fn named(&self, username: &str) -> Option<&Arc<Account>> {
        self.by_name.get(username).map(|a| &a.0)
    }

    fn put(&mut self, account: Account) {
        self.remove(account.customer_id);
        let account = Arc::new(account);
        self.by_id.insert(account.customer_id, Arc::clone(&account));
        // A name another customer held until this change (read in another order) is this
        // customer's now: the other one is dropped from both maps.
        if let Some(ByName(other)) = self.by_name.replace(ByName(account))
            && let Some(held) = self.by_id.get(&other.customer_id)
            && Arc::ptr_eq(held, &other)
        {
            self.by_id.remove(&other.customer_id);
        }
    }

    fn remove(&mut self, customer: i64) {
        if let Some(account) = self.by_id.remove(&customer)
            && self
                .by_name
                .get(account.username.as_str())
                .is_some_and(|held| Arc::ptr_eq(&held.0, &account))
        {
            self.by_name.remove(account.username.as_str());
        }
    }

    fn len(&self) -> usize {
        self.by_name.len()
    }
}

/// Where the follower is in the change log.
#[derive(Debug, Default)]
struct Follow {
    /// The newest position read.
    high: i64,
    /// Positions below `high` not seen yet, with when they were first missed.
    gaps: BTreeMap<i64, Instant>,
}

impl Follow {
    /// Where a follower starts when the log's newest position is `high` and `recent` are
    /// the positions among the last thousand that exist: the missing ones may belong to
    /// writes in flight.
    fn from(high: i64, recent: impl IntoIterator<Item = i64>) -> Follow {
        let mut follow = Follow {
            high: (high - 1_000).max(0),
            gaps: BTreeMap::new(),
        };
        follow.saw(recent, Instant::now());
        follow
    }

    /// Notes the entries read (in order, all after `high` or among the gaps).
    fn saw(&mut self, seqs: impl IntoIterator<Item = i64>, now: Instant) {
        for seq in seqs {
            if seq > self.high {
                for missing in self.high + 1..seq {
                    self.gaps.insert(missing, now);
                }
                self.high = seq;
            } else {
                self.gaps.remove(&seq);
            }
        }
        self.gaps
            .retain(|_, since| now.duration_since(*since) < GAP_PATIENCE);
        while self.gaps.len() > MAX_GAPS {
            self.gaps.pop_first();
        }
    }
}

impl AaaState {
    /// Loads every live customer and router; `now` reads the application's clock.
    pub async fn load(db: &Db, now: Now) -> StoreResult<AaaState> {
        let commits = db.aaa_commits();
        let high = store::aaa::last_change(db.conn()).await?;
        // Positions near the newest that are missing may belong to writes in flight.
        let recent = store::aaa::changes_after(db.conn(), (high - 1_000).max(0), 1_000)
            .await?
            .into_iter()
            .map(|c| c.seq);
        let follow = Follow::from(high, recent);
        // Read before the open sessions: what the log adds after is applied on top.
        let follow_sessions = if store::aaa::has_session_log(db.conn()) {
            let high = store::aaa::last_session_event(db.conn()).await?;
            let recent = store::aaa::session_events_after(db.conn(), (high - 1_000).max(0), 1_000)
                .await?
                .into_iter()
                .map(|e| e.seq);
            Some(tokio::sync::Mutex::new(Follow::from(high, recent)))
        } else {
            None
        };

        let mut accounts = Accounts::default();
        let mut reader = AccountReader::at(now());
        let mut after = 0;
        loop {
            let page = reader
                .page(db.conn(), db.keyring(), after, LOAD_PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.customer_id;
            for account in page {
                accounts.put(account);
            }
        }
        let vpn = store::aaa::vpn_accounts(db.conn(), db.keyring(), None)
            .await?
            .into_iter()
            .map(|v| (v.username.clone(), Arc::new(v)))
            .collect();
        let sessions = Sessions::load(db).await?;
        let state = AaaState {
            now,
            accounts: RwLock::new(accounts),
            vpn: RwLock::new(vpn),
            sessions,
            clients: RwLock::new(HashMap::new()),
            follow: tokio::sync::Mutex::new(follow),
            follow_sessions,
            seen_commits: AtomicU64::new(commits),
        };
        state.reload_clients(db).await?;
        Ok(state)
    }

    /// The account with exactly this user name.
    pub fn account(&self, username: &str) -> Option<Arc<Account>> {
        read(&self.accounts).named(username).cloned()
    }

    /// The VPN account with exactly this user name.
    pub fn vpn_account(&self, username: &str) -> Option<Arc<store::vpn::View>> {
        read(&self.vpn).get(username).cloned()
    }

    /// The customers' open sessions.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The router whose requests come from `address`.
    pub fn client(&self, address: IpAddr) -> Option<Arc<ClientEntry>> {
        read(&self.clients).get(&address).cloned()
    }

    /// The tenant of the router a request checked by the server loop came from, if that
    /// router is still known with the secret the request was checked with: a change caught
    /// up with since (the router removed, re-keyed, its tenant archived) holds for the
    /// request too.
    pub fn router_tenant(&self, request: &radius::server::Request) -> Option<i64> {
        self.client(request.source.ip())
            .filter(|c| c.nas.secret == request.client.secret)
            .map(|c| c.tenant_id)
    }

    /// How many accounts are loaded.
    pub fn account_count(&self) -> usize {
        read(&self.accounts).len()
    }

    /// How many clients are known.
    pub fn client_count(&self) -> usize {
        read(&self.clients).len()
    }

    /// True when this process has committed a change the state has not caught up with.
    pub fn behind(&self, db: &Db) -> bool {
        db.aaa_commits() != self.seen_commits.load(Ordering::Acquire)
    }

    /// Catches up if this process has committed a change the state has not seen; one
    /// catch-up serves every request that waited for it.
    pub async fn catch_up_if_behind(&self, db: &Db) -> StoreResult<()> {
        if !self.behind(db) {
            return Ok(());
        }
        let mut follow = self.follow.lock().await;
        if !self.behind(db) {
            return Ok(());
        }
        self.catch_up_locked(db, &mut follow).await
    }

    /// Applies the change log's new entries (and any that filled a gap), and the session
    /// log's.
    pub async fn catch_up(&self, db: &Db) -> StoreResult<()> {
        {
            let mut follow = self.follow.lock().await;
            self.catch_up_locked(db, &mut follow).await?;
        }
        self.catch_up_sessions(db).await
    }

    /// Applies the session log's new entries (and any that filled a gap): the sessions
    /// other nodes recorded.
    async fn catch_up_sessions(&self, db: &Db) -> StoreResult<()> {
        let Some(follow) = &self.follow_sessions else {
            return Ok(());
        };
        let mut follow = follow.lock().await;
        let gaps: Vec<i64> = follow.gaps.keys().copied().collect();
        let mut events = Vec::new();
        for chunk in gaps.chunks(500) {
            events.extend(store::aaa::session_events_among(db.conn(), chunk).await?);
        }
        let now = Instant::now();
        for event in &events {
            self.sessions.apply_logged(event, now);
        }
        follow.saw(events.iter().map(|e| e.seq), now);
        loop {
            let page =
                store::aaa::session_events_after(db.conn(), follow.high, CHANGES_PAGE).await?;
            let now = Instant::now();
            for event in &page {
                self.sessions.apply_logged(event, now);
            }
            follow.saw(page.iter().map(|e| e.seq), now);
            if (page.len() as u64) < CHANGES_PAGE {
                return Ok(());
            }
        }
    }

    async fn catch_up_locked(&self, db: &Db, follow: &mut Follow) -> StoreResult<()> {
        // Read before the log: a commit counted after this is caught up next time.
        let commits = db.aaa_commits();
        let mut filled = Vec::new();
        let gaps: Vec<i64> = follow.gaps.keys().copied().collect();
        for chunk in gaps.chunks(500) {
            filled.extend(store::aaa::changes_among(db.conn(), chunk).await?);
        }
        self.apply(db, &filled).await?;
        follow.saw(filled.iter().map(|c| c.seq), Instant::now());
        loop {
            let page = store::aaa::changes_after(db.conn(), follow.high, CHANGES_PAGE).await?;
            self.apply(db, &page).await?;
            follow.saw(page.iter().map(|c| c.seq), Instant::now());
            if (page.len() as u64) < CHANGES_PAGE {
                break;
            }
        }
        self.seen_commits.store(commits, Ordering::Release);
        Ok(())
    }

    /// Reloads what `changes` name.
    async fn apply(&self, db: &Db, changes: &[Change]) -> StoreResult<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut customers: Vec<i64> = Vec::new();
        let mut clients = false;
        // Tenants whose VPN accounts are read again: theirs changed, or their routers, or
        // the tenant itself (they are few).
        let mut vpn_tenants: Vec<i64> = Vec::new();
        for change in changes {
            match (change.customer_id, change.tenant_id) {
                (Some(customer), _) => customers.push(customer),
                (None, Some(tenant)) => {
                    clients = true;
                    vpn_tenants.push(tenant);
                    if change.kind.starts_with("tenant.") {
                        customers.extend(store::aaa::tenant_customers(db.conn(), tenant).await?);
                    }
                }
                (None, None) => clients = true,
            }
        }
        vpn_tenants.sort_unstable();
        vpn_tenants.dedup();
        for tenant in vpn_tenants {
            let fresh = store::aaa::vpn_accounts(db.conn(), db.keyring(), Some(tenant)).await?;
            let mut vpn = write(&self.vpn);
            vpn.retain(|_, v| v.tenant_id != tenant);
            vpn.extend(fresh.into_iter().map(|v| (v.username.clone(), Arc::new(v))));
        }
        customers.sort_unstable();
        customers.dedup();
        let fresh = AccountReader::at((self.now)())
            .by_ids(db.conn(), db.keyring(), &customers)
            .await?;
        // The period's usage, as two counts that each fall short of it and never exceed it:
        // the database's sum just read holds every node's records, but perhaps not the
        // latest this node acknowledged from its journal; this node's count (the usage read
        // before and its sessions' growth since) holds those, but not the other nodes'
        // records. The larger is kept and the growth counts on from zero, so usage through
        // another node reaches this one's answers at each read of the account and no byte
        // counts twice. A new period (or a new account) starts from the database's sum.
        let grown = self.sessions.take_growth(&customers);
        {
            let mut accounts = write(&self.accounts);
            let fresh_ids: std::collections::HashSet<i64> =
                fresh.iter().map(|a| a.customer_id).collect();
            for gone in customers.iter().filter(|c| !fresh_ids.contains(c)) {
                accounts.remove(*gone);
            }
            for mut account in fresh {
                if let Some(old) = accounts.get(account.customer_id)
                    && old.period == account.period
                {
                    let counted = old
                        .used_bytes
                        .saturating_add(grown.get(&account.customer_id).copied().unwrap_or(0));
                    account.used_bytes = account.used_bytes.max(counted);
                }
                accounts.put(account);
            }
        }
        if clients {
            self.reload_clients(db).await?;
        }
        Ok(())
    }

    async fn reload_clients(&self, db: &Db) -> StoreResult<()> {
        let clients = store::aaa::clients(db.conn(), db.keyring()).await?;
        let map = clients
            .into_iter()
            .map(|c| {
                let entry = ClientEntry {
                    router_id: c.router_id,
                    tenant_id: c.tenant_id,
                    nas: NasClient::new(c.secret.as_bytes())
                        .require_message_authenticator(c.require_message_authenticator),
                };
                (c.address, Arc::new(entry))
            })
            .collect();
        *write(&self.clients) = map;
        Ok(())
    }

    /// Catches up after each write of this process that appended to the change log, on
    /// PostgreSQL as soon as any process commits to either log (`NOTIFY lastmile_aaa`), and
    /// every [`FOLLOW_EVERY`] (writes of other processes when the notification is lost),
    /// until `shutdown` completes; a failed catch-up is logged and tried again. (A new
    /// router is known to the server loop from here: its requests are checked before any
    /// handler could catch up.)
    pub async fn follow(self: Arc<Self>, db: Db, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut tick = tokio::time::interval(FOLLOW_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut listener = store::aaa::Notifications::listen(&db).await;
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                () = db.aaa_committed() => {}
                () = notified(&mut listener) => {}
                _ = tick.tick() => {}
            }
            if let Err(err) = self.catch_up(&db).await {
                tracing::warn!(error = %err, "the RADIUS server could not follow the AAA change log");
            }
        }
    }
}

/// Completes at the next notification (a lost connection reconnects at the next call;
/// notifications meanwhile are lost, and the poll catches up). Never, without a listener.
async fn notified(listener: &mut Option<store::aaa::Notifications>) {
    let Some(listener) = listener else {
        return std::future::pending().await;
    };
    if let Err(error) = listener.recv().await {
        tracing::warn!(%error, "the AAA notification listener lost its connection");
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

/// The clients, as the server loop looks them up.
#[derive(Debug, Clone)]
pub struct Clients(pub Arc<AaaState>);

impl ClientStore for Clients {
    fn lookup(&self, source: IpAddr) -> Option<NasClient> {
        self.0.client(source).map(|c| c.nas.clone())
    }
}

/// A lock is poisoned only by a panic while it was held, and no code here panics while
/// holding one; the data is whole either way.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_follower_remembers_the_positions_it_skipped_until_they_appear() {
        let now = Instant::now();
        let mut follow = Follow::default();
        follow.saw([1, 2, 5], now);
        assert_eq!(follow.high, 5);
        assert_eq!(follow.gaps.keys().copied().collect::<Vec<_>>(), vec![3, 4]);
        follow.saw([4, 6], now);
        assert_eq!(follow.high, 6);
        assert_eq!(follow.gaps.keys().copied().collect::<Vec<_>>(), vec![3]);
        follow.saw([], now + GAP_PATIENCE);
        assert!(follow.gaps.is_empty(), "a gap is let go after its patience");
    }
}
