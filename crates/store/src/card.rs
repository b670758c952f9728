//! Recharge cards (`domain::card`): each tenant's card key and the keyed hash a PIN is found
//! by, batches and their cards (written in chunks, a PIN sealed only when its batch keeps
//! them), the set-based moves of a card's life (assign, sell, suspend, resume, void), the
//! claim a redemption makes in its transaction, and the attempts the guessing limits count.
//!
//! A PIN itself is never stored: `lookup` is HMAC-SHA256 under the tenant's card key, a
//! random key kept sealed, so a copy of the database alone finds no card, and changing
//! the keyring (which reseals the key) changes no lookup.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::crypto::Keyring;
use crate::entity::code::Stored;
use crate::entity::{card, card_attempt, card_batch, card_key};
use crate::error::{StoreError, StoreResult, on_unique};
use crate::list::{self, ListSpec, Page, PageRequest, SortColumn, SortKind};
use crate::write::Write;
use domain::card::{Kind, State};
use domain::ids::TenantId;

/// A stored batch.
pub type Batch = card_batch::Model;
/// A stored card.
pub type Card = card::Model;

/// Where a tenant's sealed card key belongs.
pub const KEY_CONTEXT: &str = "card_key";
/// Where a card's sealed PIN belongs.
pub const PIN_CONTEXT: &str = "card.pin";

/// Cards inserted per statement.
const CHUNK: usize = 500;

const CARD_KEYS: &[(&str, &str)] = &[
    ("card_lookup_key", "pin"),
    ("card.tenant_id, card.lookup", "pin"),
    ("card_serial_key", "serial"),
    ("card.tenant_id, card.serial", "serial"),
];

/// The keyed hash of `normalized` (a PIN as `domain::card` reads it) under `key`, in hex.
pub fn lookup(key: &[u8], normalized: &str) -> String {
    // HMAC takes a key of any length; the error case cannot happen.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(normalized.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn open_key(keyring: &Keyring, row: &card_key::Model) -> StoreResult<Zeroizing<Vec<u8>>> {
    keyring
        .open(KEY_CONTEXT, &row.sealed)
        .map_err(|e| StoreError::Corrupt(format!("card key of tenant {}: {e}", row.tenant_id)))
}

/// The card key of `tenant`, if it has made a batch.
pub async fn key_of<C: ConnectionTrait>(
    conn: &C,
    keyring: &Keyring,
    tenant: TenantId,
) -> StoreResult<Option<Zeroizing<Vec<u8>>>> {
    match card_key::Entity::find_by_id(tenant.0).one(conn).await? {
        Some(row) => open_key(keyring, &row).map(Some),
        None => Ok(None),
    }
}

/// The card key of `tenant`, made in `w` on its first use (two first uses at once keep one).
pub async fn key(w: &Write, tenant: TenantId) -> StoreResult<Zeroizing<Vec<u8>>> {
    if let Some(key) = key_of(w.tx(), w.keyring(), tenant).await? {
        return Ok(key);
    }
    let fresh: Zeroizing<[u8; 32]> = Zeroizing::new(rand::random());
    let sealed = w
        .keyring()
        .seal(KEY_CONTEXT, fresh.as_slice())
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    card_key::Entity::insert(card_key::ActiveModel {
        tenant_id: Set(tenant.0),
        sealed: Set(sealed),
        created_at: Set(w.now()),
    })
    .on_conflict(
        OnConflict::column(card_key::Column::TenantId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(w.tx())
    .await?;
    key_of(w.tx(), w.keyring(), tenant)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("card key of tenant {} vanished", tenant.0)))
}

/// A batch to make.
#[derive(Debug, Clone)]
pub struct NewBatch<'a> {
    /// What its cards do.
    pub kind: Kind,
    /// The package they apply.
    pub package_id: i64,
    /// How many.
    pub quantity: u32,
    /// The face price.
    pub price: i64,
    /// What a distributor keeps of it.
    pub commission: i64,
    /// Unused after this, they expire.
    pub valid_until: Option<DateTime<Utc>>,
    /// Keep the PINs sealed for reprint and export.
    pub keeps_pins: bool,
    /// What staff call it.
    pub note: &'a str,
}

/// Creates the batch row (its cards come with [`insert_cards`]).
pub async fn create_batch(w: &Write, tenant: TenantId, new: &NewBatch<'_>) -> StoreResult<Batch> {
    let row = card_batch::ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant.0),
        kind: Set(Stored(new.kind)),
        package_id: Set(new.package_id),
        quantity: Set(i32::try_from(new.quantity).unwrap_or(i32::MAX)),
        price: Set(new.price),
        commission: Set(new.commission),
        valid_until: Set(new.valid_until),
        keeps_pins: Set(new.keeps_pins),
        exported: Set(0),
        note: Set(new.note.to_owned()),
        created_by: Set(w.author().user_id.map(|u| u.0)),
        created_at: Set(w.now()),
    };
    Ok(card_batch::Entity::insert(row)
        .exec_with_returning(w.tx())
        .await?)
}

/// One card to insert.
#[derive(Debug, Clone)]
pub struct NewCard {
    /// Its serial.
    pub serial: String,
    /// The keyed hash of its PIN.
    pub lookup: String,
    /// Its PIN, sealed, when the batch keeps them.
    pub sealed: Option<String>,
    /// The PIN's last two digits.
    pub tail: String,
}

/// Which of `lookups` the tenant's cards already have.
pub async fn taken_lookups(
    w: &Write,
    tenant: TenantId,
    lookups: &[String],
) -> StoreResult<HashSet<String>> {
    let mut taken = HashSet::new();
    for chunk in lookups.chunks(CHUNK) {
        let found: Vec<String> = card::Entity::find()
            .select_only()
            .column(card::Column::Lookup)
            .filter(card::Column::TenantId.eq(tenant.0))
            .filter(card::Column::Lookup.is_in(chunk.to_vec()))
            .into_tuple()
            .all(w.tx())
            .await?;
        taken.extend(found);
    }
    Ok(taken)
}

/// Inserts `rows` as cards of `batch`, in stock (held by `holder` and assigned when given).
/// A PIN or serial another card of the tenant has is refused (`Taken`): the caller drew
/// them against [`taken_lookups`], so only a batch made at the same moment can clash.
pub async fn insert_cards(
    w: &Write,
    batch: &Batch,
    holder: Option<i64>,
    rows: &[NewCard],
) -> StoreResult<()> {
    let now = w.now();
    let state = if holder.is_some() {
        State::Assigned
    } else {
        State::InStock
    };
    for chunk in rows.chunks(CHUNK) {
        let models = chunk.iter().map(|c| card::ActiveModel {
            id: NotSet,
            tenant_id: Set(batch.tenant_id),
            batch_id: Set(batch.id),
            serial: Set(c.serial.clone()),
            lookup: Set(c.lookup.clone()),
            sealed: Set(c.sealed.clone()),
            tail: Set(c.tail.clone()),
            state: Set(Stored(state)),
            resume_to: Set(None),
            holder_id: Set(holder),
            valid_until: Set(batch.valid_until),
            assigned_at: Set(holder.map(|_| now)),
            sold_at: Set(None),
            redeemed_at: Set(None),
            redeemed_by: Set(None),
            journal_id: Set(None),
            paid: Set(None),
            paid_by: Set(None),
            version: Set(1),
        });
        card::Entity::insert_many(models)
            .exec_without_returning(w.tx())
            .await
            .map_err(|e| on_unique(e, CARD_KEYS))?;
    }
    Ok(())
}

/// The card of `tenant` whose PIN hashes to `lookup`.
pub async fn by_lookup<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    lookup: &str,
) -> StoreResult<Option<Card>> {
    Ok(card::Entity::find()
        .filter(card::Column::TenantId.eq(tenant.0))
        .filter(card::Column::Lookup.eq(lookup))
        .one(conn)
        .await?)
}

/// The card `serial` of `tenant`.
pub async fn by_serial<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    serial: &str,
) -> StoreResult<Option<Card>> {
    Ok(card::Entity::find()
        .filter(card::Column::TenantId.eq(tenant.0))
        .filter(card::Column::Serial.eq(serial))
        .one(conn)
        .await?)
}

/// Marks `card` redeemed for `customer` in `w`, if it is still as it was read and in a
/// redeemable state: true when this transaction took it. Of two redemptions of one card,
/// the second finds it taken (PostgreSQL makes it wait for the first's commit, SQLite has
/// one writer at a time) and gets false.
pub async fn claim(w: &Write, card: &Card, customer: i64) -> StoreResult<bool> {
    let redeemable: Vec<&str> = [State::InStock, State::Assigned, State::Sold]
        .iter()
        .map(|s| s.as_str())
        .collect();
    let done = card::Entity::update_many()
        .col_expr(card::Column::State, Expr::value(State::Redeemed.as_str()))
        .col_expr(card::Column::RedeemedAt, Expr::value(w.now()))
        .col_expr(card::Column::RedeemedBy, Expr::value(customer))
        .col_expr(card::Column::Version, Expr::value(card.version + 1))
        .filter(card::Column::Id.eq(card.id))
        .filter(card::Column::Version.eq(card.version))
        .filter(card::Column::State.is_in(redeemable))
        .exec(w.tx())
        .await?;
    Ok(done.rows_affected == 1)
}

/// Records the journal of card `id`'s redemption.
pub async fn set_journal(w: &Write, id: i64, journal: Option<i64>) -> StoreResult<()> {
    card::Entity::update_many()
        .col_expr(card::Column::JournalId, Expr::value(journal))
        .filter(card::Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    Ok(())
}

/// Batch `id`, in `tenants` (`None`: any).
pub async fn batch<C: ConnectionTrait>(
    conn: &C,
    tenants: Option<&[i64]>,
    id: i64,
) -> StoreResult<Option<Batch>> {
    let mut select = card_batch::Entity::find_by_id(id);
    if let Some(tenants) = tenants {
        select = select.filter(card_batch::Column::TenantId.is_in(tenants.to_vec()));
    }
    Ok(select.one(conn).await?)
}

/// The batch list: newest first by default.
pub static BATCHES: ListSpec<card_batch::Entity> = ListSpec {
    sorts: &[SortColumn {
        name: "id",
        column: card_batch::Column::Id,
        kind: SortKind::Int,
    }],
    id: card_batch::Column::Id,
    default_sort: "-id",
};

/// A page of the batches of `tenants` (`None`: any), of `package` when given.
pub async fn batches<C: ConnectionTrait>(
    conn: &C,
    tenants: Option<&[i64]>,
    package: Option<i64>,
    page: &PageRequest,
) -> StoreResult<Page<Batch>> {
    let mut cond = Condition::all();
    if let Some(tenants) = tenants {
        cond = cond.add(card_batch::Column::TenantId.is_in(tenants.to_vec()));
    }
    if let Some(package) = package {
        cond = cond.add(card_batch::Column::PackageId.eq(package));
    }
    list::fetch(
        conn,
        &BATCHES,
        card_batch::Entity::find().filter(cond),
        page,
    )
    .await
}

/// The card list: by id by default.
pub static CARDS: ListSpec<card::Entity> = ListSpec {
    sorts: &[SortColumn {
        name: "id",
        column: card::Column::Id,
        kind: SortKind::Int,
    }],
    id: card::Column::Id,
    default_sort: "id",
};

/// Which cards a list or a move takes.
#[derive(Debug, Clone, Default)]
pub struct CardFilter {
    /// Of these tenants (`None`: any).
    pub tenants: Option<Vec<i64>>,
    /// Held by one of these (`None`: whoever holds them, the tenant's stock included).
    pub holders: Option<Vec<i64>>,
    /// Of this batch.
    pub batch_id: Option<i64>,
    /// With these serials.
    pub serials: Option<Vec<String>>,
    /// In one of these states.
    pub states: Option<Vec<State>>,
}

impl CardFilter {
    fn condition(&self) -> Condition {
        let mut cond = Condition::all();
        if let Some(tenants) = &self.tenants {
            cond = cond.add(card::Column::TenantId.is_in(tenants.clone()));
        }
        if let Some(holders) = &self.holders {
            cond = cond.add(card::Column::HolderId.is_in(holders.clone()));
        }
        if let Some(batch) = self.batch_id {
            cond = cond.add(card::Column::BatchId.eq(batch));
        }
        if let Some(serials) = &self.serials {
            cond = cond.add(card::Column::Serial.is_in(serials.clone()));
        }
        if let Some(states) = &self.states {
            cond = cond.add(card::Column::State.is_in(states.iter().map(|s| s.as_str())));
        }
        cond
    }
}

/// A page of the cards `filter` takes.
pub async fn cards<C: ConnectionTrait>(
    conn: &C,
    filter: &CardFilter,
    page: &PageRequest,
) -> StoreResult<Page<Card>> {
    list::fetch(
        conn,
        &CARDS,
        card::Entity::find().filter(filter.condition()),
        page,
    )
    .await
}

/// How many cards of batch `id` are in each state.
pub async fn batch_counts<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> StoreResult<Vec<(String, i64)>> {
    Ok(card::Entity::find()
        .select_only()
        .column(card::Column::State)
        .column_as(card::Column::Id.count(), "n")
        .filter(card::Column::BatchId.eq(id))
        .group_by(card::Column::State)
        .into_tuple()
        .all(conn)
        .await?)
}

/// How many cards of each of batches `ids` are in each state: (batch, state, cards), in one
/// query.
pub async fn counts_of_batches<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> StoreResult<Vec<(i64, String, i64)>> {
    Ok(card::Entity::find()
        .select_only()
        .column(card::Column::BatchId)
        .column(card::Column::State)
        .column_as(card::Column::Id.count(), "n")
        .filter(card::Column::BatchId.is_in(ids.iter().copied()))
        .group_by(card::Column::BatchId)
        .group_by(card::Column::State)
        .into_tuple()
        .all(conn)
        .await?)
}

/// What a move does to the cards it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Handed to a holder (`None`: back to the tenant's stock).
    Hold(Option<i64>, State),
    /// Marked sold.
    Sell,
    /// Held back, remembering where each was.
    Suspend,
    /// Let go again, each to where it was.
    Resume,
    /// Cancelled.
    Void,
    /// Past its date.
    Expire,
}

/// Moves the cards `filter` takes (its states are where the move may start) in `w`;
/// returns them as the move left them.
pub async fn move_cards(w: &Write, filter: &CardFilter, to: Move) -> StoreResult<Vec<Card>> {
    let now = w.now();
    let state = |s: State| Expr::value(s.as_str());
    let mut update = card::Entity::update_many().col_expr(
        card::Column::Version,
        Expr::col(card::Column::Version).add(1),
    );
    update = match to {
        Move::Hold(holder, into) => update
            .col_expr(card::Column::HolderId, Expr::value(holder))
            .col_expr(card::Column::State, state(into))
            .col_expr(card::Column::AssignedAt, Expr::value(holder.map(|_| now))),
        Move::Sell => update
            .col_expr(card::Column::State, state(State::Sold))
            .col_expr(card::Column::SoldAt, Expr::value(now)),
        Move::Suspend => update
            .col_expr(card::Column::ResumeTo, Expr::col(card::Column::State))
            .col_expr(card::Column::State, state(State::Suspended)),
        Move::Resume => update
            .col_expr(card::Column::State, Expr::col(card::Column::ResumeTo))
            .col_expr(card::Column::ResumeTo, Expr::value(Option::<String>::None)),
        Move::Void => update.col_expr(card::Column::State, state(State::Void)),
        Move::Expire => update.col_expr(card::Column::State, state(State::Expired)),
    };
    Ok(update
        .filter(filter.condition())
        .exec_with_returning(w.tx())
        .await?)
}

/// Records on cards `ids` what their distributor paid for each ahead (`Some((by,
/// amount))`), or that nothing is paid for them (`None`).
pub async fn set_paid(w: &Write, ids: &[i64], paid: Option<(i64, i64)>) -> StoreResult<()> {
    for chunk in ids.chunks(CHUNK) {
        card::Entity::update_many()
            .col_expr(card::Column::PaidBy, Expr::value(paid.map(|p| p.0)))
            .col_expr(card::Column::Paid, Expr::value(paid.map(|p| p.1)))
            .filter(card::Column::Id.is_in(chunk.iter().copied()))
            .exec(w.tx())
            .await?;
    }
    Ok(())
}

/// Records on every card of batch `id` what distributor `by` paid for each ahead.
pub async fn set_paid_of_batch(w: &Write, id: i64, (by, amount): (i64, i64)) -> StoreResult<()> {
    card::Entity::update_many()
        .col_expr(card::Column::PaidBy, Expr::value(by))
        .col_expr(card::Column::Paid, Expr::value(amount))
        .filter(card::Column::BatchId.eq(id))
        .exec(w.tx())
        .await?;
    Ok(())
}

/// The face price and commission of each of batches `ids`.
pub async fn prices<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, (i64, i64)>> {
    let rows: Vec<(i64, i64, i64)> = card_batch::Entity::find()
        .select_only()
        .column(card_batch::Column::Id)
        .column(card_batch::Column::Price)
        .column(card_batch::Column::Commission)
        .filter(card_batch::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|(id, p, c)| (id, (p, c))).collect())
}

/// The serials and sealed PINs of batch `id`, in serial order.
pub async fn sealed_pins<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> StoreResult<Vec<(String, Option<String>, String)>> {
    Ok(card::Entity::find()
        .select_only()
        .column(card::Column::Serial)
        .column(card::Column::Sealed)
        .column(card::Column::State)
        .filter(card::Column::BatchId.eq(id))
        .order_by_asc(card::Column::Id)
        .into_tuple()
        .all(conn)
        .await?)
}

/// Counts one more export of batch `id`'s PINs.
pub async fn count_export(w: &Write, id: i64) -> StoreResult<()> {
    card_batch::Entity::update_many()
        .col_expr(
            card_batch::Column::Exported,
            Expr::col(card_batch::Column::Exported).add(1),
        )
        .filter(card_batch::Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    Ok(())
}

/// A redemption tried.
#[derive(Debug, Clone)]
pub struct NewAttempt<'a> {
    /// The tenant it was tried in.
    pub tenant: TenantId,
    /// Who tried.
    pub subject: &'a str,
    /// How it ended.
    pub outcome: &'a str,
    /// The keyed hash of what was typed (or of its normal form).
    pub input_hash: &'a str,
    /// The card it found.
    pub card_id: Option<i64>,
    /// The customer it was for.
    pub customer_id: Option<i64>,
}

/// Records `attempt` at `at`, on its own (a failed redemption writes nothing else).
pub async fn record_attempt<C: ConnectionTrait>(
    conn: &C,
    attempt: &NewAttempt<'_>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    card_attempt::Entity::insert(card_attempt::ActiveModel {
        id: NotSet,
        tenant_id: Set(attempt.tenant.0),
        subject: Set(attempt.subject.to_owned()),
        outcome: Set(attempt.outcome.to_owned()),
        input_hash: Set(attempt.input_hash.to_owned()),
        card_id: Set(attempt.card_id),
        customer_id: Set(attempt.customer_id),
        at: Set(at),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// How many attempts of `tenant` (by `subject` when given) ended in one of `outcomes` at or
/// after `since`, and when the oldest of them was.
pub async fn attempts_since<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    subject: Option<&str>,
    outcomes: &[&str],
    since: DateTime<Utc>,
) -> StoreResult<(u64, Option<DateTime<Utc>>)> {
    let mut select = card_attempt::Entity::find()
        .filter(card_attempt::Column::TenantId.eq(tenant.0))
        .filter(card_attempt::Column::At.gte(since))
        .filter(card_attempt::Column::Outcome.is_in(outcomes.iter().copied()));
    if let Some(subject) = subject {
        select = select.filter(card_attempt::Column::Subject.eq(subject));
    }
    let count = select.clone().count(conn).await?;
    let oldest = select
        .order_by_asc(card_attempt::Column::At)
        .one(conn)
        .await?
        .map(|a| a.at);
    Ok((count, oldest))
}

/// How many cards `holder` holds in `tenant`, by package and state: (package, state, cards).
pub async fn stock_of<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    holder: i64,
) -> StoreResult<Vec<(i64, String, i64)>> {
    let rows: Vec<(i64, String, i64)> = card::Entity::find()
        .select_only()
        .column(card::Column::BatchId)
        .column(card::Column::State)
        .column_as(card::Column::Id.count(), "n")
        .filter(card::Column::TenantId.eq(tenant.0))
        .filter(card::Column::HolderId.eq(holder))
        .group_by(card::Column::BatchId)
        .group_by(card::Column::State)
        .into_tuple()
        .all(conn)
        .await?;
    // Batches to their packages (a holder holds cards of few batches).
    let batches: Vec<i64> = rows.iter().map(|(b, ..)| *b).collect();
    let packages: std::collections::HashMap<i64, i64> = card_batch::Entity::find()
        .select_only()
        .column(card_batch::Column::Id)
        .column(card_batch::Column::PackageId)
        .filter(card_batch::Column::Id.is_in(batches))
        .into_tuple::<(i64, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let mut stock: std::collections::BTreeMap<(i64, String), i64> = Default::default();
    for (batch, state, n) in rows {
        if let Some(package) = packages.get(&batch) {
            *stock.entry((*package, state)).or_default() += n;
        }
    }
    Ok(stock
        .into_iter()
        .map(|((package, state), n)| (package, state, n))
        .collect())
}

/// Marks expired the cards whose date has passed at `now` and that were never used (in
/// stock, assigned, sold or suspended); how many, by tenant.
pub async fn expire_due(w: &Write, now: DateTime<Utc>) -> StoreResult<Vec<(i64, i64)>> {
    let open: Vec<&str> = [
        State::InStock,
        State::Assigned,
        State::Sold,
        State::Suspended,
    ]
    .iter()
    .map(|s| s.as_str())
    .collect();
    let due = || {
        Condition::all()
            .add(card::Column::ValidUntil.lte(now))
            .add(card::Column::State.is_in(open.clone()))
    };
    let counts: Vec<(i64, i64)> = card::Entity::find()
        .select_only()
        .column(card::Column::TenantId)
        .column_as(card::Column::Id.count(), "n")
        .filter(due())
        .group_by(card::Column::TenantId)
        .into_tuple()
        .all(w.tx())
        .await?;
    if !counts.is_empty() {
        card::Entity::update_many()
            .col_expr(card::Column::State, Expr::value(State::Expired.as_str()))
            .col_expr(
                card::Column::Version,
                Expr::col(card::Column::Version).add(1),
            )
            .filter(due())
            .exec(w.tx())
            .await?;
    }
    Ok(counts)
}
