//! What the built-in RADIUS server keeps in memory, read from the database: each live
//! customer's account as the AAA decision needs it (its password opened, its package's
//! service and its tenant's policy resolved), the live routers as RADIUS clients (their
//! secrets opened), the customers' open sessions in `radacct`, and the two logs it follows:
//! the AAA change log and, on PostgreSQL, the session log (other nodes' sessions opening
//! and closing). The server's state itself is the `aaa` crate's.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::customer::{Customer, Projector, Terms, password, static_ip};
use crate::entity::{aaa_change, customer, router, tenant};
use crate::error::StoreResult;
use crate::network::SECRET_CONTEXT;
use domain::customer::{BillingType, CustomerStatus};
use domain::network::MacAddr;
use domain::tenant::TenantStatus;

/// A live customer as the built-in server decides for it.
#[derive(Debug, Clone)]
pub struct Account {
    /// The customer.
    pub customer_id: i64,
    /// Its tenant.
    pub tenant_id: i64,
    /// The RADIUS user name, as stored (matched exactly, as FreeRADIUS matches it).
    pub username: String,
    /// The password in clear (CHAP and MS-CHAP need it).
    pub password: zeroize::Zeroizing<String>,
    /// How it pays.
    pub billing: BillingType,
    /// Its stored status.
    pub status: CustomerStatus,
    /// When its service ends.
    pub expires_at: Option<DateTime<Utc>>,
    /// The MAC it is bound to.
    pub mac: Option<MacAddr>,
    /// The devices bound to it at the captive portal (`customer::radius_devices`).
    pub devices: Vec<MacAddr>,
    /// Its static address.
    pub static_ip: Option<Ipv4Addr>,
    /// Sessions allowed at once.
    pub simultaneous_use: u32,
    /// Its package's service and its tenant's policy, shared by the accounts that have the
    /// same ones.
    pub terms: Arc<Terms>,
    /// Its current period's first and last days when read (none on an uncapped package).
    pub period: Option<(NaiveDate, NaiveDate)>,
    /// The bytes it used in that period when read (0 on an uncapped package).
    pub used_bytes: i64,
}

/// A router as a RADIUS client.
#[derive(Debug, Clone)]
pub struct Client {
    /// The router.
    pub router_id: i64,
    /// Its tenant.
    pub tenant_id: i64,
    /// The address its requests come from.
    pub address: IpAddr,
    /// The shared secret, in clear.
    pub secret: zeroize::Zeroizing<String>,
    /// Refuse its Access-Requests without a Message-Authenticator.
    pub require_message_authenticator: bool,
}

/// One entry of the AAA change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its position in the log.
    pub seq: i64,
    /// The tenant it concerns.
    pub tenant_id: Option<i64>,
    /// The customer it concerns; `None` for a change of the tenant or its routers.
    pub customer_id: Option<i64>,
    /// What changed (`customer.update`, `router.create`, `tenant.archive`).
    pub kind: String,
}

/// Reads accounts, resolving each package, pool and tenant once and sharing the terms of
/// accounts that have the same (one reader per load or per batch of changes: it keeps what
/// it read).
#[derive(Debug)]
pub struct AccountReader {
    projector: Projector,
    shared: HashMap<Terms, Arc<Terms>>,
    now: DateTime<Utc>,
}

impl AccountReader {
    /// A reader counting usage in the periods current at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        AccountReader {
            projector: Projector::default(),
            shared: HashMap::new(),
            now,
        }
    }

    /// Up to `limit` live customers after the id `after`, in id order.
    pub async fn page<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        keyring: &crate::crypto::Keyring,
        after: i64,
        limit: u64,
    ) -> StoreResult<Vec<Account>> {
        let rows = customer::Entity::find()
            .filter(customer::Column::Id.gt(after))
            .filter(customer::Column::ArchivedAt.is_null())
            .order_by_asc(customer::Column::Id)
            .limit(limit)
            .all(conn)
            .await?;
        self.accounts(conn, keyring, rows).await
    }

    /// The live customers among `ids` (an archived or missing one is left out).
    pub async fn by_ids<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        keyring: &crate::crypto::Keyring,
        ids: &[i64],
    ) -> StoreResult<Vec<Account>> {
        let mut accounts = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let rows = customer::Entity::find()
                .filter(customer::Column::Id.is_in(chunk.iter().copied()))
                .filter(customer::Column::ArchivedAt.is_null())
                .all(conn)
                .await?;
            accounts.extend(self.accounts(conn, keyring, rows).await?);
        }
        Ok(accounts)
    }

    async fn accounts<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        keyring: &crate::crypto::Keyring,
        rows: Vec<Customer>,
    ) -> StoreResult<Vec<Account>> {
        // The periods first, then the usage of every capped customer of the page in one
        // read.
        let mut periods = Vec::with_capacity(rows.len());
        for c in &rows {
            periods.push(self.projector.period(conn, c, self.now).await?);
        }
        let capped: Vec<i64> = rows
            .iter()
            .zip(&periods)
            .filter(|(_, p)| p.is_some())
            .map(|(c, _)| c.id)
            .collect();
        let span = (
            periods.iter().flatten().map(|p| p.first).min(),
            periods.iter().flatten().map(|p| p.last).max(),
        );
        let usage = match span {
            (Some(first), Some(last)) => {
                crate::online::usage_many(conn, &capped, first, last).await?
            }
            _ => Default::default(),
        };
        let mut devices =
            crate::customer::radius_devices(conn, &rows.iter().collect::<Vec<_>>()).await?;
        let mut accounts = Vec::with_capacity(rows.len());
        for (c, period) in rows.into_iter().zip(periods) {
            let terms = self.projector.terms(conn, &c).await?;
            let used_bytes = match (&period, usage.get(&c.id)) {
                (Some(p), Some(days)) => crate::online::bytes_within(days, p.first, p.last),
                _ => 0,
            };
            let terms = match self.shared.get(&terms) {
                Some(shared) => Arc::clone(shared),
                None => {
                    let shared = Arc::new(terms.clone());
                    self.shared.insert(terms, Arc::clone(&shared));
                    shared
                }
            };
            accounts.push(Account {
                password: password(keyring, &c)?,
                billing: c.billing_type.get(),
                status: c.status.get(),
                expires_at: c.expires_at,
                mac: c.mac.as_deref().and_then(MacAddr::parse),
                devices: devices.remove(&c.id).unwrap_or_default(),
                static_ip: static_ip(&c),
                simultaneous_use: u32::try_from(c.simultaneous_use).unwrap_or(1),
                customer_id: c.id,
                tenant_id: c.tenant_id,
                username: c.username,
                terms,
                period: period.map(|p| (p.first, p.last)),
                used_bytes,
            });
        }
        Ok(accounts)
    }
}

/// The ids of a tenant's live customers (for a change of the whole tenant).
pub async fn tenant_customers<C: ConnectionTrait>(conn: &C, tenant: i64) -> StoreResult<Vec<i64>> {
    Ok(customer::Entity::find()
        .select_only()
        .column(customer::Column::Id)
        .filter(customer::Column::TenantId.eq(tenant))
        .filter(customer::Column::ArchivedAt.is_null())
        .into_tuple::<i64>()
        .all(conn)
        .await?)
}

/// The VPN accounts of `tenant` (every tenant's when `None`) whose server and router are
/// live, as the built-in server answers for them.
pub async fn vpn_accounts<C: ConnectionTrait>(
    conn: &C,
    keyring: &crate::crypto::Keyring,
    tenant: Option<i64>,
) -> StoreResult<Vec<crate::vpn::View>> {
    let tenants = tenant.map(|t| vec![t]);
    let accounts = crate::vpn::accounts(conn, tenants.as_deref(), None).await?;
    crate::vpn::views(conn, keyring, accounts).await
}

/// The live routers of active tenants, as RADIUS clients. A router whose address does not
/// parse (none should: the address is validated on the way in) is left out.
pub async fn clients<C: ConnectionTrait>(
    conn: &C,
    keyring: &crate::crypto::Keyring,
) -> StoreResult<Vec<Client>> {
    let active: Vec<i64> = tenant::Entity::find()
        .select_only()
        .column(tenant::Column::Id)
        .filter(tenant::Column::Status.eq(TenantStatus::Active.as_str()))
        .into_tuple::<i64>()
        .all(conn)
        .await?;
    let routers = router::Entity::find()
        .filter(router::Column::ArchivedAt.is_null())
        .filter(router::Column::TenantId.is_in(active))
        .all(conn)
        .await?;
    let mut clients = Vec::with_capacity(routers.len());
    for r in routers {
        let Ok(address) = r.nas_address.parse::<IpAddr>() else {
            continue;
        };
        clients.push(Client {
            router_id: r.id,
            tenant_id: r.tenant_id,
            address,
            secret: keyring.open_string(SECRET_CONTEXT, &r.secret)?,
            require_message_authenticator: r.require_message_authenticator,
        });
    }
    Ok(clients)
}

/// The position of the newest entry of the AAA change log (0 when it is empty).
pub async fn last_change<C: ConnectionTrait>(conn: &C) -> StoreResult<i64> {
    Ok(aaa_change::Entity::find()
        .select_only()
        .column_as(aaa_change::Column::Seq.max(), "seq")
        .into_tuple::<Option<i64>>()
        .one(conn)
        .await?
        .flatten()
        .unwrap_or(0))
}

/// Up to `limit` entries of the AAA change log after the position `after`, in order.
pub async fn changes_after<C: ConnectionTrait>(
    conn: &C,
    after: i64,
    limit: u64,
) -> StoreResult<Vec<Change>> {
    let rows = aaa_change::Entity::find()
        .filter(aaa_change::Column::Seq.gt(after))
        .order_by_asc(aaa_change::Column::Seq)
        .limit(limit)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(change).collect())
}

/// The entries of the AAA change log at the positions `seqs` that exist (a gap filled).
pub async fn changes_among<C: ConnectionTrait>(conn: &C, seqs: &[i64]) -> StoreResult<Vec<Change>> {
    let rows = aaa_change::Entity::find()
        .filter(aaa_change::Column::Seq.is_in(seqs.iter().copied()))
        .order_by_asc(aaa_change::Column::Seq)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(change).collect())
}

fn change(r: aaa_change::Model) -> Change {
    Change {
        seq: r.seq,
        tenant_id: r.tenant_id,
        customer_id: r.customer_id,
        kind: r.kind,
    }
}

/// An open session of a customer, as `radacct` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSession {
    /// The customer.
    pub customer_id: i64,
    /// The session's key.
    pub unique_id: String,
    /// The router's address as the row names it.
    pub nas_ip: String,
    /// When it started, Unix seconds.
    pub started: i64,
    /// Its bytes so far, up and down.
    pub octets: i64,
}

/// Every open session of a customer (a session row without a stop time, tied to one),
/// handed to `each` as the rows arrive: at 10^6 sessions the rows are never all held at
/// once.
pub async fn open_sessions<C>(conn: &C, mut each: impl FnMut(OpenSession)) -> StoreResult<()>
where
    C: ConnectionTrait + sea_orm::StreamTrait,
{
    use futures::StreamExt as _;
    let backend = ConnectionTrait::get_database_backend(conn);
    let sql = match backend {
        sea_orm::DatabaseBackend::Sqlite => {
            "SELECT customer_id, acctuniqueid, nasipaddress, COALESCE(acctstarttime, 0), \
               COALESCE(acctinputoctets, 0) + COALESCE(acctoutputoctets, 0) \
             FROM radacct WHERE acctstoptime IS NULL AND customer_id IS NOT NULL"
        }
        _ => {
            "SELECT customer_id, acctuniqueid, host(nasipaddress), \
               COALESCE(CAST(EXTRACT(EPOCH FROM acctstarttime) AS bigint), 0), \
               COALESCE(acctinputoctets, 0) + COALESCE(acctoutputoctets, 0) \
             FROM radacct WHERE acctstoptime IS NULL AND customer_id IS NOT NULL"
        }
    };
    let rows = conn
        .stream_raw(sea_orm::Statement::from_string(backend, sql))
        .await?;
    let mut rows = std::pin::pin!(rows);
    while let Some(row) = rows.next().await {
        let row = row?;
        each(OpenSession {
            customer_id: row.try_get_by_index(0)?,
            unique_id: row.try_get_by_index(1)?,
            nas_ip: row.try_get_by_index(2)?,
            started: row.try_get_by_index(3)?,
            octets: row.try_get_by_index(4)?,
        });
    }
    Ok(())
}

/// A customer's session opening or closing, as the session log (`aaa_session`, PostgreSQL)
/// records it whoever wrote the row: what the other nodes' built-in servers count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEvent {
    /// The log's position.
    pub seq: i64,
    /// The session.
    pub session: OpenSession,
    /// It opened (else it closed).
    pub open: bool,
}

/// Whether this database keeps the session log (PostgreSQL: several nodes may share it).
pub fn has_session_log<C: ConnectionTrait>(conn: &C) -> bool {
    conn.get_database_backend() == sea_orm::DatabaseBackend::Postgres
}

/// The session log's newest position (0 when empty).
pub async fn last_session_event<C: ConnectionTrait>(conn: &C) -> StoreResult<i64> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT COALESCE(MAX(seq), 0) FROM aaa_session",
        ))
        .await?;
    Ok(row.map(|r| r.try_get_by_index(0)).transpose()?.unwrap_or(0))
}

/// The session log's entries after position `after`, oldest first, at most `limit`.
pub async fn session_events_after<C: ConnectionTrait>(
    conn: &C,
    after: i64,
    limit: u64,
) -> StoreResult<Vec<SessionEvent>> {
    let sql = format!(
        "{SESSION_EVENT} WHERE seq > $1 ORDER BY seq LIMIT {}",
        limit.min(i64::MAX as u64)
    );
    session_events(conn, &sql, vec![after.into()]).await
}

/// The session log's entries at the positions `seqs` (those that exist now).
pub async fn session_events_among<C: ConnectionTrait>(
    conn: &C,
    seqs: &[i64],
) -> StoreResult<Vec<SessionEvent>> {
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    // Positions come from the database as integers: listed as literals.
    let list: Vec<String> = seqs.iter().map(i64::to_string).collect();
    let sql = format!(
        "{SESSION_EVENT} WHERE seq IN ({}) ORDER BY seq",
        list.join(", ")
    );
    session_events(conn, &sql, Vec::new()).await
}

/// Drops the session log's entries older than `before`; returns how many.
pub async fn purge_session_events<C: ConnectionTrait>(
    conn: &C,
    before: DateTime<Utc>,
) -> StoreResult<u64> {
    if !has_session_log(conn) {
        return Ok(0);
    }
    let done = conn
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            conn.get_database_backend(),
            "DELETE FROM aaa_session WHERE at < $1",
            [before.into()],
        ))
        .await?;
    Ok(done.rows_affected())
}

const SESSION_EVENT: &str =
    "SELECT seq, customer_id, unique_id, nas_ip, started, open FROM aaa_session";

async fn session_events<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> StoreResult<Vec<SessionEvent>> {
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            conn.get_database_backend(),
            sql,
            values,
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(SessionEvent {
                seq: row.try_get_by_index(0)?,
                session: OpenSession {
                    customer_id: row.try_get_by_index(1)?,
                    unique_id: row.try_get_by_index(2)?,
                    nas_ip: row.try_get_by_index(3)?,
                    started: row.try_get_by_index(4)?,
                    octets: 0,
                },
                open: row.try_get_by_index(5)?,
            })
        })
        .collect()
}

/// The channel a commit to the AAA change log or the session log notifies (PostgreSQL).
pub const CHANNEL: &str = "lastmile_aaa";

/// A listener on [`CHANNEL`]: other processes' commits to the AAA logs, as they happen.
pub struct Notifications(sea_orm::sqlx::postgres::PgListener);

impl std::fmt::Debug for Notifications {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Notifications")
    }
}

impl Notifications {
    /// Listens on PostgreSQL (holding one of the pool's connections); none on SQLite, or
    /// when it cannot listen (said in the log: the follower then polls alone).
    pub async fn listen(db: &crate::Db) -> Option<Notifications> {
        if !has_session_log(db.conn()) {
            return None;
        }
        let pool = db.conn().get_postgres_connection_pool();
        let listened = async {
            let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        match listened.await {
            Ok(listener) => Some(Notifications(listener)),
            Err(error) => {
                tracing::warn!(%error, "cannot listen for other nodes' AAA changes; polling");
                None
            }
        }
    }

    /// Completes at the next notification; an error when the connection was lost (the
    /// next call reconnects; what was notified meanwhile is lost).
    pub async fn recv(&mut self) -> Result<(), sea_orm::sqlx::Error> {
        self.0.recv().await.map(|_| ())
    }
}
