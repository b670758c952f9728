//! The ledger's persistence (billing-design.md §1.2, §1.3): accounts made on first use,
//! journals posted in the caller's write transaction, statements, and the invariants
//! `lastmile ledger verify` checks.
//!
//! Posting a journal, in one transaction with the business change it pays for:
//! 1. the journal row is inserted under its idempotency key (`ON CONFLICT DO NOTHING`); a
//!    key already posted with the same request hash answers with that journal (a replay),
//!    with another hash it is refused;
//! 2. each account's net move is applied by one `UPDATE … SET debits = debits + d` that
//!    returns the new balance, and the hold of the account covering a reseller's credit
//!    (`debits_pending`) follows what that reseller owes below zero;
//! 3. every account the journal lowered (or made hold more) is read back, under its row
//!    lock: one that now spends below its floor refuses the whole change (the caller rolls
//!    back, nothing is written). Two concurrent sales cannot both pass a balance only one
//!    can afford: on PostgreSQL the second `UPDATE` waits for the first's row lock and then
//!    builds on the committed row (READ COMMITTED), on SQLite the write lock is taken at
//!    `BEGIN IMMEDIATE`. Checking after all the moves, not in each `UPDATE`, lets a journal
//!    that lowers one account and frees a hold on it (an operator settling its
//!    sub-operator's debt) pass on its net effect;
//! 4. the entries are inserted, each with its account's balance and version after it.
//!
//! Accounts are updated in one global order, the parties' accounts (resellers, customers,
//! cash) first, then the tenant-wide ones (revenue, adjustments, VAT), each group by id: no
//! two postings wait on each other in a circle, and the tenant-wide rows every sale
//! touches are held only for the end of the transaction. When a journal moves an account
//! another covers, the parties' rows and the covering ones are locked first, in id order
//! (PostgreSQL's `SELECT … FOR UPDATE`), since the hold is written after the move.
//!
//! One module past the usual length: posting, statements and `verify` share the account and
//! entry rows they read and write, and `verify` states the invariants of exactly these
//! writes; `post_many` (the billing runs' set-based posting) must keep the same running
//! balances as `post`, and is read beside it.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{ExprTrait as _, OnConflict};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, Statement, Value,
};

use crate::db::statement;
use crate::entity::{ledger_account, ledger_entry, ledger_journal};
use crate::error::{StoreError, StoreResult};
use crate::list::{self, ListSpec, Page, PageRequest, SortColumn, SortKind};
use crate::write::Write;
use domain::ids::TenantId;
use domain::ledger::{Account, AccountKind, Journal, Side};

/// A stored account.
pub type LedgerAccount = ledger_account::Model;
/// A stored journal.
pub type LedgerJournal = ledger_journal::Model;
/// A stored leg.
pub type LedgerEntry = ledger_entry::Model;

/// The floor a new account of `kind` starts with: resellers are prepaid until the owner
/// grants them credit; nothing else is gated.
fn default_floor(kind: AccountKind) -> Option<i64> {
    match kind {
        AccountKind::Reseller => Some(0),
        _ => None,
    }
}

/// True for the accounts every sale of a tenant touches (updated last).
fn tenant_wide(kind: &str) -> bool {
    AccountKind::parse(kind).is_some_and(|k| {
        matches!(
            k,
            AccountKind::Revenue
                | AccountKind::Adjustments
                | AccountKind::VatPayable
                | AccountKind::Billed
                | AccountKind::Opening
        )
    })
}

/// The id of `account` in the book of `tenant` in `currency`, made on first use.
pub async fn ensure<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    currency: &str,
    account: Account,
    now: DateTime<Utc>,
) -> StoreResult<LedgerAccount> {
    let key = account.key();
    if let Some(found) = find(conn, tenant, currency, account).await? {
        return Ok(found);
    }
    let row = ledger_account::ActiveModel {
        id: NotSet,
        tenant_id: Set(tenant.0),
        currency: Set(currency.to_owned()),
        key: Set(key),
        kind: Set(account.kind().as_str().to_owned()),
        party_id: Set(account.party()),
        normal: Set(account.normal().sign() as i16),
        floor_amount: Set(default_floor(account.kind())),
        debits_posted: Set(0),
        credits_posted: Set(0),
        version: Set(0),
        created_at: Set(now),
        cover_account_id: Set(None),
        debits_pending: Set(0),
        floor_set_at: Set(None),
    };
    let insert = ledger_account::Entity::insert(row).on_conflict(
        OnConflict::columns([
            ledger_account::Column::TenantId,
            ledger_account::Column::Currency,
            ledger_account::Column::Key,
        ])
        .do_nothing()
        .to_owned(),
    );
    match insert.exec(conn).await {
        Ok(_) | Err(DbErr::RecordNotInserted) => {}
        Err(error) => return Err(error.into()),
    }
    find(conn, tenant, currency, account)
        .await?
        .ok_or(StoreError::NotFound)
}

/// `account` in the book of `tenant` in `currency`, if it was ever used.
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    currency: &str,
    account: Account,
) -> StoreResult<Option<LedgerAccount>> {
    Ok(ledger_account::Entity::find()
        .filter(ledger_account::Column::TenantId.eq(tenant.0))
        .filter(ledger_account::Column::Currency.eq(currency))
        .filter(ledger_account::Column::Key.eq(account.key()))
        .one(conn)
        .await?)
}

/// An account's balance on its normal side.
pub fn balance(a: &LedgerAccount) -> i64 {
    if a.normal > 0 {
        a.credits_posted - a.debits_posted
    } else {
        a.debits_posted - a.credits_posted
    }
}

/// What an account may still spend: its balance less what it holds for the accounts it
/// covers, above its floor (`None`: no floor).
pub fn available(a: &LedgerAccount) -> Option<i64> {
    domain::ledger::available(balance(a) - a.debits_pending, a.floor_amount)
}

/// What an account owes below zero: what its covering account holds for it.
fn overdraft(balance: i64) -> i64 {
    Ord::max(-balance, 0)
}

/// Locks `ids` in ascending order for the rest of the transaction (PostgreSQL; SQLite's
/// write lock is already held).
async fn lock(w: &Write, ids: &mut [i64]) -> StoreResult<()> {
    let backend = w.tx().get_database_backend();
    if backend != DatabaseBackend::Postgres || ids.is_empty() {
        return Ok(());
    }
    ids.sort_unstable();
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    w.tx()
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT id FROM ledger_account WHERE id IN ({list}) ORDER BY id FOR UPDATE"),
        ))
        .await?;
    Ok(())
}

/// Moves `amount` of hold onto (positive) or off (negative) covering account `id`; the
/// caller checks the floors after ([`gate`]).
async fn hold(w: &Write, id: i64, amount: i64) -> StoreResult<()> {
    if amount == 0 {
        return Ok(());
    }
    ledger_account::Entity::update_many()
        .col_expr(
            ledger_account::Column::DebitsPending,
            sea_orm::sea_query::Expr::col(ledger_account::Column::DebitsPending).add(amount),
        )
        .col_expr(
            ledger_account::Column::Version,
            sea_orm::sea_query::Expr::col(ledger_account::Column::Version).add(1),
        )
        .filter(ledger_account::Column::Id.eq(id))
        .exec(w.tx())
        .await?;
    Ok(())
}

/// Refuses the change when one of `lowered` (accounts it lowered, or made hold more, with
/// by how much) now spends below its floor; the error says what it could spend before.
/// Read under the rows' locks, in the same transaction, so what it sees is what commits.
async fn gate(w: &Write, lowered: &[(i64, i64)]) -> StoreResult<()> {
    if lowered.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = lowered.iter().map(|(id, _)| *id).collect();
    let rows = ledger_account::Entity::find()
        .filter(ledger_account::Column::Id.is_in(ids))
        .filter(ledger_account::Column::FloorAmount.is_not_null())
        .all(w.tx())
        .await?;
    for (id, by) in lowered {
        let Some(left) = rows.iter().find(|a| a.id == *id).and_then(available) else {
            continue;
        };
        if left < 0 {
            return Err(StoreError::InsufficientBalance {
                available: Ord::max(left + by, 0),
            });
        }
    }
    Ok(())
}

/// Sets the terms of `account` (a reseller's): its floor, and the account that covers its
/// overdraft (`None`: the tenant). What it owes below zero moves from the old covering
/// account's hold to the new one's, which must afford it. Audited by the caller.
pub async fn set_terms(
    w: &mut Write,
    tenant: TenantId,
    currency: &str,
    account: Account,
    floor: Option<i64>,
    cover: Option<Account>,
) -> StoreResult<LedgerAccount> {
    let row = ensure(w.tx(), tenant, currency, account, w.now()).await?;
    let cover = match cover {
        Some(c) => Some(ensure(w.tx(), tenant, currency, c, w.now()).await?.id),
        None => None,
    };
    let mut ids: Vec<i64> = [Some(row.id), row.cover_account_id, cover]
        .into_iter()
        .flatten()
        .collect();
    lock(w, &mut ids).await?;
    let row = ledger_account::Entity::find_by_id(row.id)
        .one(w.tx())
        .await?
        .ok_or(StoreError::NotFound)?;
    if row.cover_account_id != cover {
        let owed = overdraft(balance(&row));
        if let Some(old) = row.cover_account_id {
            hold(w, old, -owed).await?;
        }
        if let Some(new) = cover {
            hold(w, new, owed).await?;
            gate(w, &[(new, owed)]).await?;
        }
    }
    ledger_account::Entity::update_many()
        .col_expr(
            ledger_account::Column::FloorAmount,
            sea_orm::sea_query::Expr::value(floor),
        )
        .col_expr(
            ledger_account::Column::CoverAccountId,
            sea_orm::sea_query::Expr::value(cover),
        )
        .col_expr(
            ledger_account::Column::FloorSetAt,
            sea_orm::sea_query::Expr::value(w.now()),
        )
        .col_expr(
            ledger_account::Column::Version,
            sea_orm::sea_query::Expr::col(ledger_account::Column::Version).add(1),
        )
        .filter(ledger_account::Column::Id.eq(row.id))
        .exec(w.tx())
        .await?;
    Ok(LedgerAccount {
        floor_amount: floor,
        cover_account_id: cover,
        floor_set_at: Some(w.now()),
        version: row.version + 1,
        ..row
    })
}

/// What a journal is posted for, beside its legs.
#[derive(Debug, Clone)]
pub struct PostMeta<'a> {
    /// The tenant whose book it goes to.
    pub tenant: TenantId,
    /// The book's currency.
    pub currency: &'a str,
    /// A digest of the request that made it: the same key with another digest is refused.
    pub request_hash: &'a str,
    /// The customer it concerns, if any.
    pub customer_id: Option<i64>,
    /// The journal it reverses, if it is a reversal.
    pub reverses: Option<i64>,
}

/// How a posting ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// Posted now, as journal `id`.
    New(i64),
    /// Posted earlier under the same key and request: journal `id`, nothing written now.
    Replay(i64),
}

impl Posted {
    /// The journal's id.
    pub fn id(self) -> i64 {
        match self {
            Posted::New(id) | Posted::Replay(id) => id,
        }
    }
}

/// Posts `journal` in `w`'s transaction (see the module documentation).
pub async fn post(w: &mut Write, meta: &PostMeta<'_>, journal: &Journal) -> StoreResult<Posted> {
    let now = w.now();
    let row = ledger_journal::ActiveModel {
        id: NotSet,
        tenant_id: Set(meta.tenant.0),
        currency: Set(meta.currency.to_owned()),
        idempotency_key: Set(journal.key().to_owned()),
        request_hash: Set(meta.request_hash.to_owned()),
        kind: Set(journal.kind().as_str().to_owned()),
        reverses_journal_id: Set(meta.reverses),
        customer_id: Set(meta.customer_id),
        actor_id: Set(w.author().user_id.map(|u| u.0)),
        memo: Set(journal.memo().to_owned()),
        created_at: Set(now),
    };
    let insert = ledger_journal::Entity::insert(row).on_conflict(
        OnConflict::columns([
            ledger_journal::Column::TenantId,
            ledger_journal::Column::IdempotencyKey,
        ])
        .do_nothing()
        .to_owned(),
    );
    let journal_id = match insert.exec(w.tx()).await {
        Ok(done) => done.last_insert_id,
        Err(DbErr::RecordNotInserted) => {
            let earlier = ledger_journal::Entity::find()
                .filter(ledger_journal::Column::TenantId.eq(meta.tenant.0))
                .filter(ledger_journal::Column::IdempotencyKey.eq(journal.key()))
                .one(w.tx())
                .await?
                .ok_or(StoreError::NotFound)?;
            return if earlier.request_hash == meta.request_hash {
                Ok(Posted::Replay(earlier.id))
            } else {
                Err(StoreError::KeyReused)
            };
        }
        Err(error) => return Err(error.into()),
    };
    crate::tenant::lock_currency(w, meta.tenant).await?;

    // Each account's row, then the global update order. An account that covers another's
    // overdraft is locked with it (ascending ids) before either changes, since the hold
    // follows the covered balance.
    let mut moves = Vec::new();
    for (account, net) in journal.net() {
        let row = ensure(w.tx(), meta.tenant, meta.currency, account, now).await?;
        moves.push((account, net, row));
    }
    let covers: Vec<i64> = moves
        .iter()
        .filter_map(|(_, _, row)| row.cover_account_id)
        .collect();
    if !covers.is_empty() {
        let mut ids: Vec<i64> = moves
            .iter()
            .filter(|(_, _, row)| !tenant_wide(&row.kind))
            .map(|(_, _, row)| row.id)
            .chain(covers.iter().copied())
            .collect();
        ids.dedup();
        lock(w, &mut ids).await?;
    }
    moves.sort_by_key(|(_, _, row)| (tenant_wide(&row.kind), row.id));
    let backend = w.tx().get_database_backend();
    let mut after = Vec::with_capacity(moves.len());
    let mut gated = Vec::new();
    let mut holds: Vec<(i64, i64)> = Vec::new();
    for (account, net, row) in &moves {
        let effect = net.effect(account.normal());
        let applied = w
            .tx()
            .query_one_raw(statement(
                backend,
                "UPDATE ledger_account
                    SET debits_posted = debits_posted + $1,
                        credits_posted = credits_posted + $2,
                        version = version + 1
                  WHERE id = $3
                  RETURNING version, normal * (credits_posted - debits_posted) AS balance,
                            cover_account_id",
                vec![net.debits.into(), net.credits.into(), row.id.into()],
            ))
            .await?
            .ok_or(StoreError::NotFound)?;
        let version: i64 = applied.try_get("", "version")?;
        let balance: i64 = applied.try_get("", "balance")?;
        let cover: Option<i64> = applied.try_get("", "cover_account_id")?;
        if effect < 0 {
            gated.push((row.id, -effect));
        }
        if let Some(cover) = cover {
            let more = overdraft(balance) - overdraft(balance - effect);
            match holds.iter_mut().find(|(id, _)| *id == cover) {
                Some((_, sum)) => *sum += more,
                None => holds.push((cover, more)),
            }
        }
        after.push((*account, row.id, version, balance - effect));
    }
    for (cover, more) in holds {
        hold(w, cover, more).await?;
        if more > 0 {
            match gated.iter_mut().find(|(id, _)| *id == cover) {
                Some((_, by)) => *by += more,
                None => gated.push((cover, more)),
            }
        }
    }
    // Only what lowered a balance (or raised a hold) can refuse: an account already below a
    // raised floor still takes credits.
    gate(w, &gated).await?;

    // The legs, each with the running balance of its account.
    let entries: Vec<ledger_entry::ActiveModel> = journal
        .legs()
        .iter()
        .map(|leg| {
            let slot = after
                .iter_mut()
                .find(|(account, ..)| *account == leg.account)
                .ok_or(StoreError::NotFound)?;
            slot.3 += leg.effect();
            Ok(ledger_entry::ActiveModel {
                id: NotSet,
                journal_id: Set(journal_id),
                tenant_id: Set(meta.tenant.0),
                account_id: Set(slot.1),
                side: Set(leg.side.sign() as i16),
                amount: Set(leg.amount),
                balance_after: Set(slot.3),
                account_version: Set(slot.2),
                at: Set(now),
            })
        })
        .collect::<StoreResult<_>>()?;
    ledger_entry::Entity::insert_many(entries)
        .exec_without_returning(w.tx())
        .await?;
    Ok(Posted::New(journal_id))
}

/// One journal of a batch posted by [`post_many`].
#[derive(Debug, Clone)]
pub struct BatchJournal {
    /// The journal.
    pub journal: Journal,
    /// The customer it concerns.
    pub customer_id: Option<i64>,
    /// A digest of what made it.
    pub request_hash: String,
}

/// Posts `journals` (all of `tenant`, in `currency`) in `w`'s transaction with a few
/// statements per hundreds of journals, for a billing run's batch; returns their ids in
/// order. The entries carry the same running balances and versions as [`post`] would give
/// them one by one. No journal of a batch may lower an account with a floor or a cover (an
/// invoice lowers only its customer's, which has neither): that needs [`post`]'s gate, and
/// is refused. Keys must be new: a key posted before fails the batch, as the run's own
/// selection leaves out what it already did.
pub async fn post_many(
    w: &mut Write,
    tenant: TenantId,
    currency: &str,
    journals: &[BatchJournal],
) -> StoreResult<Vec<i64>> {
    if journals.is_empty() {
        return Ok(Vec::new());
    }
    let now = w.now();
    let actor = w.author().user_id.map(|u| u.0);
    let mut ids = Vec::with_capacity(journals.len());
    for chunk in journals.chunks(500) {
        let rows = chunk.iter().map(|b| ledger_journal::ActiveModel {
            id: NotSet,
            tenant_id: Set(tenant.0),
            currency: Set(currency.to_owned()),
            idempotency_key: Set(b.journal.key().to_owned()),
            request_hash: Set(b.request_hash.clone()),
            kind: Set(b.journal.kind().as_str().to_owned()),
            reverses_journal_id: Set(None),
            customer_id: Set(b.customer_id),
            actor_id: Set(actor),
            memo: Set(b.journal.memo().to_owned()),
            created_at: Set(now),
        });
        let made = ledger_journal::Entity::insert_many(rows)
            .exec_with_returning(w.tx())
            .await?;
        ids.extend(made.into_iter().map(|j| j.id));
    }
    if ids.len() != journals.len() {
        return Err(StoreError::Corrupt(
            "journals of a batch went missing".into(),
        ));
    }
    crate::tenant::lock_currency(w, tenant).await?;

    // Every account the batch moves, made on first use, then locked in the global order
    // (the parties', then the tenant-wide ones, each by id) and read under the locks.
    let mut accounts: Vec<Account> = journals
        .iter()
        .flat_map(|b| b.journal.legs().iter().map(|l| l.account))
        .collect();
    accounts.sort();
    accounts.dedup();
    let rows = ensure_many(w.tx(), tenant, currency, &accounts, now).await?;
    let (mut parties, mut wide): (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
    for row in rows.values() {
        if tenant_wide(&row.kind) {
            wide.push(row.id);
        } else {
            parties.push(row.id);
        }
    }
    lock(w, &mut parties).await?;
    lock(w, &mut wide).await?;
    let ids_of: Vec<i64> = rows.values().map(|r| r.id).collect();
    let mut fresh = std::collections::HashMap::new();
    for chunk in ids_of.chunks(500) {
        for row in ledger_account::Entity::find()
            .filter(ledger_account::Column::Id.is_in(chunk.to_vec()))
            .all(w.tx())
            .await?
        {
            fresh.insert(row.id, row);
        }
    }
    // Per account: (id, version, balance, Σ debits, Σ credits).
    let mut state: std::collections::BTreeMap<Account, (i64, i64, i64, i64, i64)> =
        std::collections::BTreeMap::new();
    for (account, row) in &rows {
        let row = fresh.get(&row.id).ok_or(StoreError::NotFound)?;
        state.insert(*account, (row.id, row.version, balance(row), 0, 0));
    }
    let mut entries = Vec::new();
    for (b, journal_id) in journals.iter().zip(&ids) {
        let mut before = Vec::new();
        for (account, net) in b.journal.net() {
            let row = &rows[&account];
            let effect = net.effect(account.normal());
            if effect < 0 && (row.floor_amount.is_some() || row.cover_account_id.is_some()) {
                return Err(StoreError::Corrupt(format!(
                    "a batch may not lower the gated account {}",
                    row.key
                )));
            }
            let slot = state.get_mut(&account).ok_or(StoreError::NotFound)?;
            slot.1 += 1;
            slot.3 += net.debits;
            slot.4 += net.credits;
            before.push((account, slot.2));
            slot.2 += effect;
        }
        for leg in b.journal.legs() {
            let (id, version, ..) = state[&leg.account];
            let running = before
                .iter_mut()
                .find(|(a, _)| *a == leg.account)
                .ok_or(StoreError::NotFound)?;
            running.1 += leg.effect();
            entries.push(ledger_entry::ActiveModel {
                id: NotSet,
                journal_id: Set(*journal_id),
                tenant_id: Set(tenant.0),
                account_id: Set(id),
                side: Set(leg.side.sign() as i16),
                amount: Set(leg.amount),
                balance_after: Set(running.1),
                account_version: Set(version),
                at: Set(now),
            });
        }
    }
    for chunk in entries.chunks(1000) {
        ledger_entry::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(w.tx())
            .await?;
    }
    let backend = w.tx().get_database_backend();
    for (id, version, _, debits, credits) in state.values() {
        w.tx()
            .execute_raw(statement(
                backend,
                "UPDATE ledger_account
                    SET debits_posted = debits_posted + $1,
                        credits_posted = credits_posted + $2,
                        version = $3
                  WHERE id = $4",
                vec![
                    (*debits).into(),
                    (*credits).into(),
                    (*version).into(),
                    (*id).into(),
                ],
            ))
            .await?;
    }
    Ok(ids)
}

/// The rows of `accounts` in the book of `tenant` in `currency`, made on first use.
async fn ensure_many<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    currency: &str,
    accounts: &[Account],
    now: DateTime<Utc>,
) -> StoreResult<std::collections::BTreeMap<Account, LedgerAccount>> {
    for chunk in accounts.chunks(500) {
        let rows = chunk.iter().map(|account| ledger_account::ActiveModel {
            id: NotSet,
            tenant_id: Set(tenant.0),
            currency: Set(currency.to_owned()),
            key: Set(account.key()),
            kind: Set(account.kind().as_str().to_owned()),
            party_id: Set(account.party()),
            normal: Set(account.normal().sign() as i16),
            floor_amount: Set(default_floor(account.kind())),
            debits_posted: Set(0),
            credits_posted: Set(0),
            version: Set(0),
            created_at: Set(now),
            cover_account_id: Set(None),
            debits_pending: Set(0),
            floor_set_at: Set(None),
        });
        let insert = ledger_account::Entity::insert_many(rows).on_conflict(
            OnConflict::columns([
                ledger_account::Column::TenantId,
                ledger_account::Column::Currency,
                ledger_account::Column::Key,
            ])
            .do_nothing()
            .to_owned(),
        );
        match insert.exec_without_returning(conn).await {
            Ok(_) | Err(DbErr::RecordNotInserted) => {}
            Err(error) => return Err(error.into()),
        }
    }
    let mut found = std::collections::BTreeMap::new();
    for chunk in accounts.chunks(500) {
        let keys: std::collections::HashMap<String, Account> =
            chunk.iter().map(|a| (a.key(), *a)).collect();
        let rows = ledger_account::Entity::find()
            .filter(ledger_account::Column::TenantId.eq(tenant.0))
            .filter(ledger_account::Column::Currency.eq(currency))
            .filter(ledger_account::Column::Key.is_in(keys.keys().cloned()))
            .all(conn)
            .await?;
        for row in rows {
            if let Some(account) = keys.get(&row.key) {
                found.insert(*account, row);
            }
        }
    }
    if found.len() != accounts.len() {
        return Err(StoreError::NotFound);
    }
    Ok(found)
}

/// Tenant `tenant`'s journal posted under idempotency key `key`, if any.
pub async fn journal_by_key<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    key: &str,
) -> StoreResult<Option<LedgerJournal>> {
    Ok(ledger_journal::Entity::find()
        .filter(ledger_journal::Column::TenantId.eq(tenant.0))
        .filter(ledger_journal::Column::IdempotencyKey.eq(key))
        .one(conn)
        .await?)
}

/// A journal by id, in a tenant the caller sees.
pub async fn journal<C: ConnectionTrait>(
    conn: &C,
    tenants: Option<&[i64]>,
    id: i64,
) -> StoreResult<Option<(LedgerJournal, Vec<(LedgerEntry, LedgerAccount)>)>> {
    let mut find = ledger_journal::Entity::find_by_id(id);
    if let Some(tenants) = tenants {
        find = find.filter(ledger_journal::Column::TenantId.is_in(tenants.to_vec()));
    }
    let Some(journal) = find.one(conn).await? else {
        return Ok(None);
    };
    let entries = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::JournalId.eq(id))
        .order_by_asc(ledger_entry::Column::Id)
        .all(conn)
        .await?;
    let ids: Vec<i64> = entries.iter().map(|e| e.account_id).collect();
    let accounts = ledger_account::Entity::find()
        .filter(ledger_account::Column::Id.is_in(ids))
        .all(conn)
        .await?;
    let legs = entries
        .into_iter()
        .filter_map(|e| {
            let account = accounts.iter().find(|a| a.id == e.account_id)?.clone();
            Some((e, account))
        })
        .collect();
    Ok(Some((journal, legs)))
}

/// The entries list: by id, newest first by default.
pub static ENTRIES: ListSpec<ledger_entry::Entity> = ListSpec {
    sorts: &[SortColumn {
        name: "id",
        column: ledger_entry::Column::Id,
        kind: SortKind::Int,
    }],
    id: ledger_entry::Column::Id,
    default_sort: "-id",
};

/// Which entries a statement shows.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    /// Only these accounts (already resolved from the caller's filters and scope).
    pub accounts: Option<Vec<i64>>,
    /// Only these tenants (`None`: every tenant).
    pub tenants: Option<Vec<i64>>,
    /// From this instant on.
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// A page of entries.
pub async fn entries<C: ConnectionTrait>(
    conn: &C,
    filter: &EntryFilter,
    page: &PageRequest,
) -> StoreResult<Page<LedgerEntry>> {
    let mut cond = Condition::all();
    if let Some(accounts) = &filter.accounts {
        cond = cond.add(ledger_entry::Column::AccountId.is_in(accounts.clone()));
    }
    if let Some(tenants) = &filter.tenants {
        cond = cond.add(ledger_entry::Column::TenantId.is_in(tenants.clone()));
    }
    if let Some(from) = filter.from {
        cond = cond.add(ledger_entry::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        cond = cond.add(ledger_entry::Column::At.lt(to));
    }
    let select = ledger_entry::Entity::find().filter(cond);
    list::fetch(conn, &ENTRIES, select, page).await
}

/// Accounts by id.
pub async fn accounts_by_id<C: ConnectionTrait>(
    conn: &C,
    ids: Vec<i64>,
) -> StoreResult<Vec<LedgerAccount>> {
    Ok(ledger_account::Entity::find()
        .filter(ledger_account::Column::Id.is_in(ids))
        .all(conn)
        .await?)
}

/// The accounts of a tenant that match `kind` and `party` (either may be left open).
pub async fn accounts<C: ConnectionTrait>(
    conn: &C,
    tenants: Option<&[i64]>,
    kind: Option<AccountKind>,
    party: Option<i64>,
) -> StoreResult<Vec<LedgerAccount>> {
    let mut find = ledger_account::Entity::find();
    if let Some(tenants) = tenants {
        find = find.filter(ledger_account::Column::TenantId.is_in(tenants.to_vec()));
    }
    if let Some(kind) = kind {
        find = find.filter(ledger_account::Column::Kind.eq(kind.as_str()));
    }
    if let Some(party) = party {
        find = find.filter(ledger_account::Column::PartyId.eq(party));
    }
    Ok(find
        .order_by_asc(ledger_account::Column::Id)
        .all(conn)
        .await?)
}

/// One breach of the ledger's invariants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    /// Which invariant (billing-design.md §6: `I1` … `I4`, `I7`).
    pub invariant: &'static str,
    /// What breaks it.
    pub detail: String,
}

/// Checks the ledger of `tenant` (every tenant when `None`):
/// - I1: every journal balances;
/// - I2: every account's cached totals equal the sums of its entries;
/// - I3: no floored account was taken below its floor by a posting (the owner may cut a
///   credit line below what is owed), what a covering account holds is
///   what the accounts it covers owe below zero, and each entry's balance follows from the
///   entries before it;
/// - I4: debits equal credits over each book;
/// - I7: document numbers run 1..N per tenant, series and fiscal year.
pub async fn verify<C: ConnectionTrait>(
    conn: &C,
    tenant: Option<TenantId>,
) -> StoreResult<Vec<Breach>> {
    let backend = conn.get_database_backend();
    let values: Vec<Value> = tenant.map(|t| t.0.into()).into_iter().collect();
    let clause = |table: &str| match tenant {
        Some(_) => format!("{table}tenant_id = $1"),
        None => "1 = 1".to_owned(),
    };
    let (bare, a, e) = (clause(""), clause("a."), clause("e."));
    let mut breaches = Vec::new();
    // (invariant, what a row returned means, the query returning `subject` and `value`)
    let queries: [(&'static str, &'static str, String); 6] = [
        (
            "I1",
            "journal {subject} is off balance by {value}",
            format!(
                "SELECT journal_id AS subject, CAST(SUM(side * amount) AS BIGINT) AS value
                   FROM ledger_entry WHERE {bare} GROUP BY journal_id HAVING SUM(side * amount) <> 0"
            ),
        ),
        (
            "I2",
            "account {subject}'s cached totals are off by {value}",
            format!(
                "SELECT a.id AS subject, a.debits_posted - COALESCE(e.d, 0) + a.credits_posted - COALESCE(e.c, 0) AS value
                   FROM ledger_account a
                   LEFT JOIN (SELECT account_id,
                                     CAST(SUM(CASE WHEN side < 0 THEN amount ELSE 0 END) AS BIGINT) AS d,
                                     CAST(SUM(CASE WHEN side > 0 THEN amount ELSE 0 END) AS BIGINT) AS c
                                FROM ledger_entry GROUP BY account_id) e ON e.account_id = a.id
                  WHERE {a}
                    AND (a.debits_posted <> COALESCE(e.d, 0) OR a.credits_posted <> COALESCE(e.c, 0))"
            ),
        ),
        (
            "I3",
            "account {subject} is below its floor: {value} to spend",
            // Below its floor by a posting since the floor was set: a terms change that cut
            // the credit of an account owing more is the owner's decision, not a breach.
            format!(
                "SELECT a.id AS subject, a.normal * (a.credits_posted - a.debits_posted) - a.debits_pending - a.floor_amount AS value
                   FROM ledger_account a
                  WHERE {a} AND a.floor_amount IS NOT NULL
                    AND a.normal * (a.credits_posted - a.debits_posted) - a.debits_pending < a.floor_amount
                    AND (a.floor_set_at IS NULL OR EXISTS (
                          SELECT 1 FROM ledger_entry e
                           WHERE e.account_id = a.id AND e.at > a.floor_set_at
                             AND e.side * a.normal < 0))"
            ),
        ),
        (
            "I3",
            "account {subject} holds {value} more than the accounts it covers owe",
            format!(
                "SELECT a.id AS subject, CAST(a.debits_pending - COALESCE(h.held, 0) AS BIGINT) AS value
                   FROM ledger_account a
                   LEFT JOIN (SELECT cover_account_id AS id,
                                     CAST(SUM(CASE WHEN normal * (credits_posted - debits_posted) < 0
                                                   THEN -normal * (credits_posted - debits_posted)
                                                   ELSE 0 END) AS BIGINT) AS held
                                FROM ledger_account WHERE cover_account_id IS NOT NULL
                               GROUP BY cover_account_id) h ON h.id = a.id
                  WHERE {a} AND a.debits_pending <> COALESCE(h.held, 0)"
            ),
        ),
        (
            "I3",
            "entry {subject}'s balance is off by {value}",
            format!(
                "SELECT id AS subject, balance_after - COALESCE(prev, 0) - effect AS value FROM (
                   SELECT e.id, e.balance_after,
                          CAST(e.side * e.amount * a.normal AS BIGINT) AS effect,
                          LAG(e.balance_after) OVER (PARTITION BY e.account_id ORDER BY e.id) AS prev
                     FROM ledger_entry e JOIN ledger_account a ON a.id = e.account_id
                    WHERE {e}) r
                 WHERE balance_after <> COALESCE(prev, 0) + effect"
            ),
        ),
        (
            "I4",
            "tenant {subject}'s book is off balance by {value}",
            format!(
                "SELECT tenant_id AS subject, CAST(SUM(credits_posted) - SUM(debits_posted) AS BIGINT) AS value
                   FROM ledger_account WHERE {bare}
                  GROUP BY tenant_id, currency HAVING SUM(credits_posted) <> SUM(debits_posted)"
            ),
        ),
    ];
    for gap in crate::invoice::gaps(conn, tenant).await? {
        breaches.push(Breach {
            invariant: "I7",
            detail: gap,
        });
    }
    for (invariant, message, sql) in queries {
        let rows = conn
            .query_all_raw(statement(backend, &sql, values.clone()))
            .await?;
        for row in rows {
            let subject: i64 = row.try_get("", "subject")?;
            let value: i64 = row.try_get("", "value")?;
            breaches.push(Breach {
                invariant,
                detail: message
                    .replace("{subject}", &subject.to_string())
                    .replace("{value}", &value.to_string()),
            });
        }
    }
    Ok(breaches)
}

/// One reseller's money over a period, from its ledger entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResellerLine {
    /// The reseller.
    pub user_id: i64,
    /// What it took from customers (its debits as the collector of recharges).
    pub collected: i64,
    /// The margins it earned (its credits in recharges).
    pub margins: i64,
    /// Funds it received (credits in top-ups).
    pub topped_up: i64,
    /// Funds it passed down (debits in top-ups).
    pub passed_down: i64,
}

/// Each reseller's money in `tenant`'s book over `[from, to)`, by reseller id.
pub async fn reseller_report<C: ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<ResellerLine>> {
    let backend = conn.get_database_backend();
    let sql = "SELECT a.party_id AS user_id,
                      CAST(SUM(CASE WHEN j.kind = 'recharge' AND e.side < 0 THEN e.amount ELSE 0 END) AS BIGINT) AS collected,
                      CAST(SUM(CASE WHEN j.kind = 'recharge' AND e.side > 0 THEN e.amount ELSE 0 END) AS BIGINT) AS margins,
                      CAST(SUM(CASE WHEN j.kind = 'topup' AND e.side > 0 THEN e.amount ELSE 0 END) AS BIGINT) AS topped_up,
                      CAST(SUM(CASE WHEN j.kind = 'topup' AND e.side < 0 THEN e.amount ELSE 0 END) AS BIGINT) AS passed_down
                 FROM ledger_entry e
                 JOIN ledger_account a ON a.id = e.account_id
                 JOIN ledger_journal j ON j.id = e.journal_id
                WHERE e.tenant_id = $1 AND a.kind = 'reseller' AND e.at >= $2 AND e.at < $3
                GROUP BY a.party_id
                ORDER BY a.party_id";
    let rows = conn
        .query_all_raw(statement(
            backend,
            sql,
            vec![tenant.0.into(), from.into(), to.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ResellerLine {
                user_id: r.try_get::<Option<i64>>("", "user_id")?.unwrap_or(0),
                collected: r.try_get("", "collected")?,
                margins: r.try_get("", "margins")?,
                topped_up: r.try_get("", "topped_up")?,
                passed_down: r.try_get("", "passed_down")?,
            })
        })
        .collect()
}

/// How many journals the books of `tenant` (all when `None`) hold.
pub async fn journal_count<C: ConnectionTrait>(
    conn: &C,
    tenant: Option<TenantId>,
) -> StoreResult<u64> {
    use sea_orm::PaginatorTrait as _;
    let mut find = ledger_journal::Entity::find();
    if let Some(t) = tenant {
        find = find.filter(ledger_journal::Column::TenantId.eq(t.0));
    }
    Ok(find.count(conn).await?)
}

/// The side of a stored leg.
pub fn side(entry: &LedgerEntry) -> StoreResult<Side> {
    Side::from_sign(i64::from(entry.side)).ok_or_else(|| {
        StoreError::Corrupt(format!("ledger_entry {}: side {}", entry.id, entry.side))
    })
}
