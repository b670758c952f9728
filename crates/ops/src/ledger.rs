//! Resellers' money and the books (billing-design.md §1): a reseller's balance and what it
//! may still spend, top-ups down the tree, the owner's account terms (prepaid or credit),
//! statements with running balances, one journal, a top-up's reversal, and the invariants
//! check.

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use crate::Ctx;
use crate::error::OpError;
use domain::access::{self, Actor, Role, TopupSource, tenant_scope, user_scope};
use domain::ids::{TenantId, UserId};
use domain::ledger::{Account, AccountTerms, Journal, JournalKind, Leg};
use domain::money::Money;
use store::ledger::{
    Breach, EntryFilter, LedgerAccount, LedgerEntry, LedgerJournal, PostMeta, Posted,
};
use store::list::{Page, PageRequest};
use store::user::User;
use store::{AuditEntry, Author};

/// A reseller's balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// The reseller.
    pub user_id: UserId,
    /// Its balance: positive is funds held, negative debt.
    pub balance: i64,
    /// What it may still spend (`None`: no limit).
    pub available: Option<i64>,
    /// What it holds for the credit its sub-operators use.
    pub held: i64,
    /// Its terms.
    pub terms: AccountTerms,
    /// The tenant's currency.
    pub currency: String,
}

/// The reseller `id` as the caller sees it, and its tenant's currency.
async fn reseller(ctx: &Ctx<'_>, actor: &Actor, id: UserId) -> Result<(User, String), OpError> {
    let user = store::user::find(ctx.db.conn(), &user_scope(actor), id)
        .await?
        .ok_or(OpError::NotFound)?;
    let tenant = user.tenant_id.map(TenantId).ok_or(OpError::NotFound)?;
    let tenant = store::tenant::find(ctx.db.conn(), &tenant_scope(actor), tenant)
        .await?
        .ok_or(OpError::NotFound)?;
    Ok((user, tenant.currency))
}

fn balance_of(user: UserId, currency: String, account: Option<&LedgerAccount>) -> Balance {
    // A reseller that never moved money is prepaid with nothing.
    Balance {
        user_id: user,
        balance: account.map_or(0, store::ledger::balance),
        available: account.map_or(Some(0), store::ledger::available),
        held: account.map_or(0, |a| a.debits_pending),
        terms: AccountTerms::of_floor(account.map_or(Some(0), |a| a.floor_amount)),
        currency,
    }
}

/// The balance of reseller `id`.
pub async fn balance(ctx: &Ctx<'_>, actor: &Actor, id: UserId) -> Result<Balance, OpError> {
    let (user, currency) = reseller(ctx, actor, id).await?;
    access::view_balance_of(actor, &store::user::facts(&user)?)?;
    let account = store::ledger::find(
        ctx.db.conn(),
        TenantId(user.tenant_id.unwrap_or_default()),
        &currency,
        Account::Reseller(id),
    )
    .await?;
    Ok(balance_of(id, currency, account.as_ref()))
}

/// What a top-up did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topup {
    /// The journal that records it.
    pub journal_id: i64,
    /// The reseller's balance after it.
    pub balance: Balance,
}

/// Moves `amount` to reseller `id`: from the caller's balance when it is the reseller's
/// operator, else as funds the tenant received (cash taken by the caller). `key` makes a
/// retry post once.
pub async fn topup(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: UserId,
    amount: i64,
    key: Option<&str>,
) -> Result<Topup, OpError> {
    let amount = Money::from_minor("amount", amount)?;
    if amount == Money::ZERO {
        return Err(OpError::field("amount", "zero"));
    }
    let (user, currency) = reseller(ctx, actor, id).await?;
    let source = access::topup(actor, &store::user::facts(&user)?)?;
    let tenant = TenantId(user.tenant_id.unwrap_or_default());
    let from = match source {
        TopupSource::Cash(u) => Account::Cash(u),
        TopupSource::Reseller(u) => Account::Reseller(u),
    };
    let journal = Journal::new(
        JournalKind::Topup,
        format!(
            "topup:{}:{}",
            actor.user_id,
            key.map_or_else(
                || store::crypto::random_text(b"0123456789abcdefghijklmnopqrstuvwxyz", 24),
                str::to_owned
            )
        ),
        vec![
            Leg::debit(from, amount.minor()),
            Leg::credit(Account::Reseller(id), amount.minor()),
        ],
        format!("top-up of {}", user.email),
    )
    .map_err(|e| OpError::Internal(e.to_string()))?;
    let hash = hex::encode(Sha256::digest(format!(
        "topup|{id}|{}|{}",
        amount.minor(),
        from.key()
    )));
    let mut w = ctx.db.write(author, ctx.now).await?;
    let meta = PostMeta {
        tenant,
        currency: &currency,
        request_hash: &hash,
        customer_id: None,
        reverses: None,
    };
    let posted = store::ledger::post(&mut w, &meta, &journal).await?;
    if matches!(posted, store::ledger::Posted::Replay(_)) {
        w.rollback().await?;
    } else {
        w.audit(AuditEntry {
            tenant_id: Some(tenant),
            action: "user.topup",
            entity: "user",
            entity_id: Some(id.0),
            before: None,
            after: Some(serde_json::json!({
                "amount": amount.minor(),
                "currency": currency,
                "from": from.key(),
                "journal_id": posted.id(),
            })),
        })
        .await?;
        w.commit().await?;
    }
    let account =
        store::ledger::find(ctx.db.conn(), tenant, &currency, Account::Reseller(id)).await?;
    Ok(Topup {
        journal_id: posted.id(),
        balance: balance_of(id, currency, account.as_ref()),
    })
}

/// Sets reseller `id`'s account terms: by the tenant's Admin (the tenant covers its credit)
/// or by its operator (which covers it: what the sub-operator owes below zero is held from
/// the operator's own spending).
pub async fn set_terms(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: UserId,
    terms: AccountTerms,
) -> Result<Balance, OpError> {
    let (user, currency) = reseller(ctx, actor, id).await?;
    let cover = access::set_account_terms(actor, &store::user::facts(&user)?)?;
    let tenant = TenantId(user.tenant_id.unwrap_or_default());
    let mut w = ctx.db.write(author, ctx.now).await?;
    let before = store::ledger::find(w.tx(), tenant, &currency, Account::Reseller(id)).await?;
    let after = store::ledger::set_terms(
        &mut w,
        tenant,
        &currency,
        Account::Reseller(id),
        terms.floor(),
        cover.map(Account::Reseller),
    )
    .await?;
    let describe = |a: Option<&LedgerAccount>| {
        let terms = AccountTerms::of_floor(a.map_or(Some(0), |a| a.floor_amount));
        serde_json::json!({
            "account_type": terms.type_name(),
            "credit_limit": match terms { AccountTerms::Credit(limit) => limit, AccountTerms::Prepaid => Some(0) },
            "covered_by_account": a.and_then(|a| a.cover_account_id),
        })
    };
    w.audit(AuditEntry {
        tenant_id: Some(tenant),
        action: "user.set_account_terms",
        entity: "user",
        entity_id: Some(id.0),
        before: Some(describe(before.as_ref())),
        after: Some(describe(Some(&after))),
    })
    .await?;
    w.commit().await?;
    Ok(balance_of(id, currency, Some(&after)))
}

/// Which entries a caller asks for.
#[derive(Debug, Clone, Default)]
pub struct StatementFilter {
    /// One account kind (`reseller`, `customer`, `revenue`, ...).
    pub account: Option<domain::ledger::AccountKind>,
    /// A reseller's (or staff user's cash) entries.
    pub user_id: Option<UserId>,
    /// A customer's entries.
    pub customer_id: Option<i64>,
    /// From this instant.
    pub from: Option<DateTime<Utc>>,
    /// Before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// A page of a statement, each entry with its account.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The entries.
    pub page: Page<LedgerEntry>,
    /// Their accounts.
    pub accounts: Vec<LedgerAccount>,
}

/// True for those who read a tenant's whole books.
pub(crate) fn reads_books(actor: &Actor) -> bool {
    match actor.role {
        Role::Developer | Role::SuperAdmin | Role::Admin | Role::Accountant => true,
        Role::Manager | Role::Staff => actor.can(domain::access::Permission::ViewReports),
        _ => false,
    }
}

/// The tenants whose books the caller reads (`None`: all). A Super Admin reads books inside
/// a tenant only, and names none here.
pub(crate) fn book_tenants(actor: &Actor) -> Result<Option<Vec<i64>>, OpError> {
    match actor.role {
        Role::Developer => Ok(None),
        Role::SuperAdmin => Err(OpError::Forbidden),
        _ => Ok(Some(actor.tenant_id.map(|t| t.0).into_iter().collect())),
    }
}

/// Ledger entries the caller may read: the whole books for those who read reports, a
/// reseller's own account (and its sub-operators') for a reseller, a customer's account
/// for who sees the customer.
pub async fn entries(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &StatementFilter,
    page: &PageRequest,
) -> Result<Statement, OpError> {
    let tenants = book_tenants(actor)?;
    let conn = ctx.db.conn();
    let mut allowed: Option<Vec<i64>> = None;
    if let Some(user) = filter.user_id {
        balance(ctx, actor, user).await?;
        let accounts =
            store::ledger::accounts(conn, tenants.as_deref(), None, Some(user.0)).await?;
        let ids = accounts
            .iter()
            .filter(|a| a.kind == "reseller" || a.kind == "cash")
            .map(|a| a.id)
            .collect();
        allowed = Some(ids);
    } else if let Some(customer) = filter.customer_id {
        crate::customer::get(ctx, actor, customer).await?;
        let accounts = store::ledger::accounts(
            conn,
            tenants.as_deref(),
            Some(domain::ledger::AccountKind::Customer),
            Some(customer),
        )
        .await?;
        allowed = Some(accounts.iter().map(|a| a.id).collect());
    } else if !reads_books(actor) {
        // A reseller without a filter reads its own account.
        let accounts =
            store::ledger::accounts(conn, tenants.as_deref(), None, Some(actor.user_id.0)).await?;
        allowed = Some(
            accounts
                .iter()
                .filter(|a| a.kind == "reseller")
                .map(|a| a.id)
                .collect(),
        );
    }
    if let Some(kind) = filter.account {
        let of_kind: Vec<i64> = store::ledger::accounts(conn, tenants.as_deref(), Some(kind), None)
            .await?
            .iter()
            .map(|a| a.id)
            .collect();
        allowed = Some(match allowed {
            Some(ids) => ids.into_iter().filter(|id| of_kind.contains(id)).collect(),
            None => of_kind,
        });
    }
    let page = store::ledger::entries(
        conn,
        &EntryFilter {
            accounts: allowed,
            tenants,
            from: filter.from,
            to: filter.to,
        },
        page,
    )
    .await?;
    let mut ids: Vec<i64> = page.items.iter().map(|e| e.account_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let accounts = store::ledger::accounts_by_id(conn, ids).await?;
    Ok(Statement { page, accounts })
}

/// The most entries one CSV export holds; narrow the dates for more.
pub const CSV_MAX_ROWS: usize = 100_000;

/// The entries `filter` finds, oldest first, as CSV (`at,journal_id,account,side,amount,
/// balance_after,currency`), at most [`CSV_MAX_ROWS`]; the same entries
/// [`entries`] pages through, for the same callers.
pub async fn entries_csv(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &StatementFilter,
) -> Result<String, OpError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "at",
        "journal_id",
        "account",
        "side",
        "amount",
        "balance_after",
        "currency",
    ];
    out.write_record(header)
        .map_err(|e| OpError::Internal(e.to_string()))?;
    let mut cursor: Option<String> = None;
    let mut written = 0;
    loop {
        let page = PageRequest::parse(
            &store::ledger::ENTRIES,
            Some("id"),
            Some(store::list::MAX_LIMIT),
            cursor.as_deref(),
        )?;
        let statement = entries(ctx, actor, filter, &page).await?;
        for e in &statement.page.items {
            let account = statement.accounts.iter().find(|a| a.id == e.account_id);
            let side = if e.side < 0 { "debit" } else { "credit" };
            out.write_record([
                e.at.to_rfc3339(),
                e.journal_id.to_string(),
                account.map(|a| a.key.clone()).unwrap_or_default(),
                side.to_owned(),
                e.amount.to_string(),
                e.balance_after.to_string(),
                account.map(|a| a.currency.clone()).unwrap_or_default(),
            ])
            .map_err(|e| OpError::Internal(e.to_string()))?;
            written += 1;
        }
        cursor = statement.page.next_cursor;
        if cursor.is_none() || written >= CSV_MAX_ROWS {
            break;
        }
    }
    let bytes = out
        .into_inner()
        .map_err(|e| OpError::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| OpError::Internal(e.to_string()))
}

/// One journal with its legs, for who reads the tenant's books or took part in it.
pub async fn journal(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: i64,
) -> Result<(LedgerJournal, Vec<(LedgerEntry, LedgerAccount)>), OpError> {
    let tenants = book_tenants(actor)?;
    let (journal, legs) = store::ledger::journal(ctx.db.conn(), tenants.as_deref(), id)
        .await?
        .ok_or(OpError::NotFound)?;
    let party = legs
        .iter()
        .any(|(_, a)| a.party_id == Some(actor.user_id.0) && a.kind != "customer");
    if !(reads_books(actor) || party) {
        return Err(OpError::NotFound);
    }
    Ok((journal, legs))
}

/// The longest reason a reversal takes.
pub const REASON_MAX: usize = 200;

/// A reversal posted, or found posted before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reversed {
    /// The reversing journal.
    pub journal_id: i64,
    /// The journal it reverses.
    pub reverses: i64,
    /// True when it had been reversed before: nothing was written now.
    pub replayed: bool,
}

/// Reverses top-up journal `id` for `reason`: its mirror image, posted under the key
/// `reverse:{id}` with `reverses_journal_id` naming it, so a journal is reversed at most
/// once (asking again answers the first reversal). Only top-ups: what a recharge, a payment
/// or an invoice did beyond the books (time granted, invoices settled) has its own
/// correction (a package change, a credit note). A reseller that has spent the funds
/// cannot be taken below its floor: 422 `insufficient_balance`, nothing written.
pub async fn reverse(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    reason: &str,
) -> Result<Reversed, OpError> {
    // Trimmed, 1 to REASON_MAX characters, no control characters (it is printed and logged).
    let reason = domain::text::bounded("reason", reason, 1, REASON_MAX)?;
    let reason = reason.as_str();
    let tenants = book_tenants(actor)?;
    let (journal, legs) = store::ledger::journal(ctx.db.conn(), tenants.as_deref(), id)
        .await?
        .ok_or(OpError::NotFound)?;
    let tenant = TenantId(journal.tenant_id);
    access::reverse_journals(actor, tenant)?;
    if journal.kind != JournalKind::Topup.as_str() {
        return Err(OpError::field("journal", "not_reversible"));
    }
    let legs = legs
        .iter()
        .map(|(entry, account)| {
            let side = domain::ledger::Side::from_sign(i64::from(entry.side));
            let account = domain::ledger::AccountKind::parse(&account.kind)
                .and_then(|kind| Account::of(kind, account.party_id));
            match (side, account) {
                (Some(side), Some(account)) => Ok(Leg {
                    account,
                    side,
                    amount: entry.amount,
                }),
                _ => Err(OpError::Internal(format!("journal {id} has a leg unread"))),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let original = Journal::new(
        JournalKind::Topup,
        journal.idempotency_key.clone(),
        legs,
        journal.memo.clone(),
    )
    .map_err(|e| OpError::Internal(e.to_string()))?;
    let reversal = original.reversal(format!("reverse:{id}"));
    let hash = hex::encode(Sha256::digest(format!("reverse|{id}")));
    let meta = PostMeta {
        tenant,
        currency: &journal.currency,
        request_hash: &hash,
        customer_id: journal.customer_id,
        reverses: Some(id),
    };
    let mut w = ctx.db.write(author, ctx.now).await?;
    match store::ledger::post(&mut w, &meta, &reversal).await? {
        Posted::Replay(journal_id) => {
            w.rollback().await?;
            Ok(Reversed {
                journal_id,
                reverses: id,
                replayed: true,
            })
        }
        Posted::New(journal_id) => {
            w.audit(AuditEntry {
                tenant_id: Some(tenant),
                action: "ledger.reverse",
                entity: "ledger_journal",
                entity_id: Some(id),
                before: None,
                after: Some(serde_json::json!({ "reversal": journal_id, "reason": reason })),
            })
            .await?;
            w.commit().await?;
            Ok(Reversed {
                journal_id,
                reverses: id,
                replayed: false,
            })
        }
    }
}

/// Checks the books of `tenant` (all when `None`): the breaches found, none when clean.
pub async fn verify(ctx: &Ctx<'_>, tenant: Option<TenantId>) -> Result<Vec<Breach>, OpError> {
    Ok(store::ledger::verify(ctx.db.conn(), tenant).await?)
}

/// One reseller's line of the accountant's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLine {
    /// The reseller's name.
    pub name: String,
    /// Its role's code (`operator`, `sub_operator`).
    pub role: &'static str,
    /// Its money over the period.
    pub money: store::ledger::ResellerLine,
    /// Its balance now.
    pub balance: i64,
}

/// The accountant's report of the caller's tenant over `[from, to)`: per reseller, what it
/// collected, the margins it earned, what it owed upward for it (collected less margins),
/// the funds it received and passed down, and its balance now. For who reads the books.
pub async fn reseller_report(
    ctx: &Ctx<'_>,
    actor: &Actor,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(String, Vec<ReportLine>), OpError> {
    if !reads_books(actor) {
        return Err(OpError::Forbidden);
    }
    let tenant = actor
        .tenant_id
        .ok_or_else(|| OpError::field("tenant_id", "required"))?;
    if to <= from {
        return Err(OpError::field("to", "out_of_range"));
    }
    let currency = store::tenant::find(ctx.db.conn(), &tenant_scope(actor), tenant)
        .await?
        .ok_or(OpError::NotFound)?
        .currency;
    let lines = store::ledger::reseller_report(ctx.db.conn(), tenant, from, to).await?;
    let mut report = Vec::with_capacity(lines.len());
    for money in lines {
        let user = store::user::find_self(ctx.db.conn(), UserId(money.user_id)).await?;
        let account = store::ledger::find(
            ctx.db.conn(),
            tenant,
            &currency,
            Account::Reseller(UserId(money.user_id)),
        )
        .await?;
        report.push(ReportLine {
            name: user.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
            role: user
                .as_ref()
                .and_then(|u| store::user::role(u).ok())
                .map_or("", |r| r.as_str()),
            balance: account.as_ref().map_or(0, store::ledger::balance),
            money,
        });
    }
    Ok((currency, report))
}

/// [`reseller_report`] as CSV.
pub fn report_csv(currency: &str, lines: &[ReportLine]) -> Result<String, OpError> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| OpError::Internal(e.to_string());
    out.write_record([
        "user_id",
        "name",
        "role",
        "collected",
        "margins",
        "owed_upward",
        "topped_up",
        "passed_down",
        "balance",
        "currency",
    ])
    .map_err(fail)?;
    for l in lines {
        let m = &l.money;
        out.write_record([
            m.user_id.to_string(),
            domain::text::spreadsheet_safe(&l.name),
            l.role.to_owned(),
            m.collected.to_string(),
            m.margins.to_string(),
            (m.collected - m.margins).to_string(),
            m.topped_up.to_string(),
            m.passed_down.to_string(),
            l.balance.to_string(),
            currency.to_owned(),
        ])
        .map_err(fail)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| OpError::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| OpError::Internal(e.to_string()))
}
