//! Traffic for the graphs: the roll-up of what `radacct`'s triggers append to
//! `traffic_delta` into the rings of `traffic_point` (migration `000043`), and the reads of
//! a ring for a graph.
//!
//! [`roll_up`] takes a batch of deltas oldest first and, in one transaction, deletes them
//! and adds each, spread over the buckets its seconds cover (`domain::traffic::spread`),
//! to its customer's rings, to its router's (the router whose NAS address the session
//! names, in the customer's tenant) and to its tenant's. The batch is summed by bucket
//! first, so a tenant's bucket is written once a batch however many sessions fed it. Taking
//! and deleting are one statement (`DELETE … RETURNING`; on PostgreSQL the rows another
//! node is rolling up are skipped), and the whole is one transaction: a delta is added once,
//! or not at all.
//!
//! A bucket lands in its ring's slot: when the slot holds the same bucket the bytes add,
//! when it holds an older one (a ring ago) the new bucket replaces it, and a bucket older
//! than the slot's (a delta that waited longer than the ring) is dropped.

use std::collections::{BTreeSet, HashMap};

use domain::traffic::{Bytes, RINGS, Ring, spread};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, TransactionTrait, Value};

use crate::db::Db;
use crate::error::StoreResult;

/// Whose traffic a ring holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    /// A customer's sessions.
    Customer(i64),
    /// A router's sessions, of customers.
    Router(i64),
    /// A tenant's sessions, of customers.
    Tenant(i64),
}

impl Owner {
    fn key(self) -> (i16, i64) {
        match self {
            Owner::Customer(id) => (1, id),
            Owner::Router(id) => (2, id),
            Owner::Tenant(id) => (3, id),
        }
    }
}

/// What one [`roll_up`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RollUp {
    /// Deltas taken.
    pub deltas: usize,
    /// Buckets written.
    pub buckets: usize,
}

/// One delta as the trigger appended it.
struct Delta {
    customer_id: i64,
    tenant_id: Option<i64>,
    nas_ip: String,
    since: i64,
    until: i64,
    input: i64,
    output: i64,
}

/// A slot to write: `(owner, step, slot)` and the bucket `(start, bytes)` it gets.
type SlotRow = ((Owner, i64, i64), (i64, Bytes));

/// Rolls up at most `limit` deltas, oldest first, in one transaction.
pub async fn roll_up(db: &Db, limit: usize) -> StoreResult<RollUp> {
    let _turn = db.write_turn().await?;
    let backend = db.conn().get_database_backend();
    let tx = db
        .conn()
        .begin_with_options(sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    let deltas = take(&tx, backend, limit).await?;
    if deltas.is_empty() {
        tx.commit().await?;
        return Ok(RollUp::default());
    }
    let routers = routers_of(&tx, backend, &deltas).await?;
    let mut sums: HashMap<(Owner, Ring, i64), Bytes> = HashMap::new();
    for delta in &deltas {
        let mut owners = vec![Owner::Customer(delta.customer_id)];
        if let Some(tenant) = delta.tenant_id {
            owners.push(Owner::Tenant(tenant));
            let router = routers
                .get(delta.nas_ip.as_str())
                .and_then(|of| of.iter().find(|(t, _)| *t == tenant));
            if let Some((_, router)) = router {
                owners.push(Owner::Router(*router));
            }
        }
        for ring in RINGS {
            for (bucket, bytes) in spread(ring, delta.since, delta.until, delta.input, delta.output)
            {
                for owner in &owners {
                    let sum = sums.entry((*owner, ring, bucket)).or_default();
                    sum.input = sum.input.saturating_add(bytes.input);
                    sum.output = sum.output.saturating_add(bytes.output);
                }
            }
        }
    }
    // A statement may not touch a row twice: of two buckets of one slot (a ring apart),
    // the newer is kept.
    let mut rows: HashMap<(Owner, i64, i64), (i64, Bytes)> = HashMap::with_capacity(sums.len());
    for ((owner, ring, bucket), bytes) in sums {
        let slot = rows
            .entry((owner, ring.step, ring.slot(bucket)))
            .or_insert((bucket, bytes));
        if bucket > slot.0 {
            *slot = (bucket, bytes);
        }
    }
    let mut rows: Vec<SlotRow> = rows.into_iter().collect();
    // In key order: neighbours in the index are written together.
    rows.sort_unstable_by_key(|((owner, step, slot), _)| (owner.key(), *step, *slot));
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        tx.execute_raw(add(backend, chunk)).await?;
    }
    tx.commit().await?;
    Ok(RollUp {
        deltas: deltas.len(),
        buckets: rows.len(),
    })
}

/// Buckets in one statement at most (7 values each: well under SQLite's 32 766).
const ROWS_PER_STATEMENT: usize = 1_000;

/// Takes (deletes and returns) at most `limit` deltas, oldest first.
async fn take<C: ConnectionTrait>(
    conn: &C,
    backend: DatabaseBackend,
    limit: usize,
) -> StoreResult<Vec<Delta>> {
    let lock = match backend {
        DatabaseBackend::Postgres => " FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let sql = format!(
        "DELETE FROM traffic_delta WHERE id IN \
           (SELECT id FROM traffic_delta ORDER BY id LIMIT {}{lock}) \
         RETURNING customer_id, tenant_id, nas_ip, since, until, input, output",
        limit.max(1)
    );
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(Delta {
            customer_id: row.try_get_by_index(0)?,
            tenant_id: row.try_get_by_index(1)?,
            nas_ip: row.try_get_by_index(2)?,
            since: row.try_get_by_index(3)?,
            until: row.try_get_by_index(4)?,
            input: row.try_get_by_index(5)?,
            output: row.try_get_by_index(6)?,
        });
    }
    Ok(out)
}

/// The routers the deltas' sessions came through: by NAS address, each tenant's
/// `(tenant, router)`.
async fn routers_of<C: ConnectionTrait>(
    conn: &C,
    backend: DatabaseBackend,
    deltas: &[Delta],
) -> StoreResult<HashMap<String, Vec<(i64, i64)>>> {
    let addresses: BTreeSet<&str> = deltas
        .iter()
        .filter(|d| d.tenant_id.is_some() && !d.nas_ip.is_empty())
        .map(|d| d.nas_ip.as_str())
        .collect();
    let mut out: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
    if addresses.is_empty() {
        return Ok(out);
    }
    let marks: Vec<String> = (1..=addresses.len())
        .map(|n| placeholder(backend, n))
        .collect();
    let values: Vec<Value> = addresses.iter().map(|a| Value::from(*a)).collect();
    let sql = format!(
        "SELECT id, tenant_id, nas_address FROM router \
         WHERE archived_at IS NULL AND nas_address IN ({})",
        marks.join(", ")
    );
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    for row in rows {
        let id: i64 = row.try_get_by_index(0)?;
        let tenant: i64 = row.try_get_by_index(1)?;
        let address: String = row.try_get_by_index(2)?;
        out.entry(address).or_default().push((tenant, id));
    }
    Ok(out)
}

/// Adds `rows` to their slots (see the module's header).
fn add(backend: DatabaseBackend, rows: &[SlotRow]) -> Statement {
    let mut values: Vec<Value> = Vec::with_capacity(rows.len() * 7);
    let mut tuples = Vec::with_capacity(rows.len());
    for ((owner, step, slot), (bucket, bytes)) in rows {
        let (kind, id) = owner.key();
        let n = values.len();
        let marks: Vec<String> = (n + 1..=n + 7).map(|i| placeholder(backend, i)).collect();
        tuples.push(format!("({})", marks.join(", ")));
        values.extend([
            Value::from(kind),
            Value::from(id),
            Value::from(i32::try_from(*step).unwrap_or(i32::MAX)),
            Value::from(i32::try_from(*slot).unwrap_or(i32::MAX)),
            Value::from(*bucket),
            Value::from(bytes.input),
            Value::from(bytes.output),
        ]);
    }
    let newest = match backend {
        DatabaseBackend::Sqlite => "MAX",
        _ => "GREATEST",
    };
    let sql = format!(
        "INSERT INTO traffic_point (owner_kind, owner_id, step, slot, at, input, output) \
         VALUES {} \
         ON CONFLICT (owner_kind, owner_id, step, slot) DO UPDATE SET \
           input = CASE WHEN excluded.at = traffic_point.at \
                          THEN traffic_point.input + excluded.input \
                        WHEN excluded.at > traffic_point.at THEN excluded.input \
                        ELSE traffic_point.input END, \
           output = CASE WHEN excluded.at = traffic_point.at \
                           THEN traffic_point.output + excluded.output \
                         WHEN excluded.at > traffic_point.at THEN excluded.output \
                         ELSE traffic_point.output END, \
           at = {newest}(traffic_point.at, excluded.at)",
        tuples.join(", ")
    );
    Statement::from_sql_and_values(backend, sql, values)
}

/// The buckets of `owner`'s `ring` from `from` (included) to `to` (excluded), in no order.
pub async fn points<C: ConnectionTrait>(
    conn: &C,
    owner: Owner,
    ring: Ring,
    from: i64,
    to: i64,
) -> StoreResult<Vec<(i64, Bytes)>> {
    let backend = conn.get_database_backend();
    let (kind, id) = owner.key();
    let sql = format!(
        "SELECT at, input, output FROM traffic_point \
         WHERE owner_kind = {} AND owner_id = {} AND step = {} AND at >= {} AND at < {}",
        placeholder(backend, 1),
        placeholder(backend, 2),
        placeholder(backend, 3),
        placeholder(backend, 4),
        placeholder(backend, 5)
    );
    let values: Vec<Value> = vec![
        kind.into(),
        id.into(),
        i32::try_from(ring.step).unwrap_or(i32::MAX).into(),
        from.into(),
        to.into(),
    ];
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push((
            row.try_get_by_index(0)?,
            Bytes {
                input: row.try_get_by_index(1)?,
                output: row.try_get_by_index(2)?,
            },
        ));
    }
    Ok(out)
}

/// Deltas waiting for the roll-up.
pub async fn backlog<C: ConnectionTrait>(conn: &C) -> StoreResult<i64> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) FROM traffic_delta",
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    })
}

/// `$n` on PostgreSQL, `?` on SQLite.
fn placeholder(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Sqlite => "?".to_owned(),
        _ => format!("${n}"),
    }
}
