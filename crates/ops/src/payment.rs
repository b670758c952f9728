//! Cash payments of invoices (billing-design.md §1.6 "Postpaid monthly invoice"), a
//! postpaid customer's, or the first bill of a prepaid one's import (`crate::first_bill`):
//! the collector takes the money (a reseller from its balance, owing it upward; staff in
//! cash), the customer's debt falls, and the paid share of each invoice leaves `Billed` for
//! the chain's margins and the owner's revenue; all in one transaction with the invoices'
//! paid amounts, the receipt and the payment row. A customer that non-payment suspended is
//! resumed once nothing it owes is past the grace. Who may recharge a customer may take its
//! payments.

use sha2::{Digest as _, Sha256};

use crate::Ctx;
use crate::error::OpError;
use domain::access::{self, customer_scope};
use domain::billing::Collector;
use domain::customer::{BillingType, CustomerChanges, CustomerStatus};
use domain::field::{FieldError, FieldErrors};
use domain::ids::TenantId;
use domain::ledger::{Account, Journal, JournalKind, Leg};
use store::invoice::Invoice;
use store::ledger::{PostMeta, Posted};
use store::{AuditEntry, Author};

/// The largest payment taken at once, in minor units.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// A cash payment.
#[derive(Debug, Clone)]
pub struct CashPayment {
    /// The customer who pays.
    pub customer_id: i64,
    /// How much, in minor units.
    pub amount: i64,
    /// The invoice it pays (`None`: its open invoices, oldest due first).
    pub invoice_id: Option<i64>,
}

/// What a payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentOutcome {
    /// The payment.
    pub payment_id: i64,
    /// Its journal.
    pub journal_id: i64,
    /// Its receipt.
    pub receipt_id: Option<i64>,
    /// How much.
    pub amount: i64,
    /// In what.
    pub currency: String,
    /// What it paid of each invoice.
    pub applied: Vec<(i64, i64)>,
    /// True when it resumed the customer.
    pub resumed: bool,
    /// True when the same request had been made: nothing was written now.
    pub replayed: bool,
}

/// Takes a cash payment (see the module documentation). `key` (the client's idempotency
/// key) makes a retry answer with what the first did.
pub async fn take_cash(
    ctx: &Ctx<'_>,
    actor: &access::Actor,
    author: Author,
    input: &CashPayment,
    key: Option<&str>,
) -> Result<PaymentOutcome, OpError> {
    if !(1..=MAX_AMOUNT).contains(&input.amount) {
        return Err(OpError::Invalid(FieldErrors::one(
            FieldError::new("amount", "out_of_range")
                .with("min", 1)
                .with("max", MAX_AMOUNT),
        )));
    }
    let customer = crate::customer::get(ctx, actor, input.customer_id).await?;
    let owner = store::customer::owner(&customer);
    let collector = access::recharge_customers_of(actor, owner)?;
    let conn = ctx.db.conn();
    let tenant = store::tenant::find(
        conn,
        &access::tenant_scope(actor),
        TenantId(customer.tenant_id),
    )
    .await?
    .ok_or(OpError::NotFound)?;
    let mut open = store::invoice::open_of(conn, customer.id).await?;
    // A prepaid customer pays its recharges; it owes an invoice only for the first bill
    // of an import.
    if customer.billing_type.get() != BillingType::Postpaid && open.is_empty() {
        return Err(OpError::field("customer_id", "not_postpaid"));
    }
    if let Some(wanted) = input.invoice_id {
        open.retain(|i| i.id == wanted);
        if open.is_empty() {
            return Err(OpError::field("invoice_id", "not_open"));
        }
    }
    let due: i64 = open.iter().map(store::invoice::due).sum();
    if input.amount > due {
        return Err(OpError::Invalid(FieldErrors::one(
            FieldError::new("amount", "exceeds_due").with("due", due),
        )));
    }
    let journal_key = format!(
        "payment:{}:{}",
        actor.user_id,
        key.map_or_else(
            || store::crypto::random_text(b"0123456789abcdefghijklmnopqrstuvwxyz", 24),
            str::to_owned
        )
    );
    let request_hash = hex::encode(Sha256::digest(format!(
        "payment|{}|{}|{:?}|{collector:?}",
        customer.id, input.amount, input.invoice_id
    )));
    let mut w = ctx.db.write(author, ctx.now).await?;
    let taken = Taking {
        tenant: &tenant,
        customer: &customer,
        collector,
        collector_user: Some(actor.user_id.0),
        amount: input.amount,
        open: &open,
        journal_key,
        request_hash,
        online: None,
        scope: customer_scope(actor),
    };
    match apply(ctx, &mut w, &taken).await? {
        Applied::Replay(journal_id) => {
            w.rollback().await?;
            replayed(ctx, journal_id, &tenant.currency).await
        }
        Applied::New(outcome) => {
            w.commit().await?;
            Ok(outcome)
        }
    }
}

/// A payment to write: who pays what to whom, and the invoices it may pay.
pub(crate) struct Taking<'a> {
    pub(crate) tenant: &'a store::tenant::Tenant,
    pub(crate) customer: &'a store::customer::Customer,
    pub(crate) collector: Collector,
    /// The staff user or reseller who took it (none online).
    pub(crate) collector_user: Option<i64>,
    pub(crate) amount: i64,
    /// The customer's open invoices it pays, oldest due first; what is left over stays on
    /// the customer's account.
    pub(crate) open: &'a [Invoice],
    pub(crate) journal_key: String,
    pub(crate) request_hash: String,
    /// An online payment's merchant account, provider transaction and intent.
    pub(crate) online: Option<(i64, &'a str, i64)>,
    /// Whom the customer's resumption is written as seen by.
    pub(crate) scope: domain::access::CustomerScope,
}

/// How [`apply`] ended.
pub(crate) enum Applied {
    /// Written now (not committed).
    New(PaymentOutcome),
    /// Its journal was posted before under the same key: nothing written now.
    Replay(i64),
}

/// Writes payment `t` in `w`: the journal (the collector debited, the customer credited,
/// the paid share of each invoice split along the chain), the invoices' paid amounts, the
/// customer resumed when non-payment suspended it and nothing it still owes is past the
/// grace, the receipt, the payment row and the audit entry. The caller commits.
pub(crate) async fn apply(
    ctx: &Ctx<'_>,
    w: &mut store::Write,
    t: &Taking<'_>,
) -> Result<Applied, OpError> {
    let (tenant, customer) = (t.tenant, t.customer);
    // Oldest due first: what it pays of each.
    let mut left = t.amount;
    let mut applied: Vec<(&Invoice, i64)> = Vec::new();
    for invoice in t.open {
        if left == 0 {
            break;
        }
        let pays = left.min(store::invoice::due(invoice));
        if pays > 0 {
            applied.push((invoice, pays));
            left -= pays;
        }
    }
    let mut legs = vec![
        Leg::debit(t.collector.account(), t.amount),
        Leg::credit(Account::Customer(customer.id), t.amount),
    ];
    for (invoice, pays) in &applied {
        let split = store::invoice::split(invoice)?;
        legs.extend(domain::postpaid::settle_legs(
            &split,
            invoice.amount_paid,
            invoice.amount_paid + pays,
        ));
        legs.extend(domain::postpaid::close_legs(
            &split,
            invoice.amount_paid + pays,
            invoice.credited,
        ));
    }
    let method = match t.collector {
        Collector::Gateway(_) => "online",
        Collector::Reseller(_) | Collector::Cash(_) => "cash",
    };
    let journal = Journal::new(
        JournalKind::Payment,
        t.journal_key.clone(),
        legs,
        format!("{method} payment of customer {}", customer.username),
    )
    .map_err(|e| OpError::Internal(e.to_string()))?;
    let meta = PostMeta {
        tenant: TenantId(tenant.id),
        currency: &tenant.currency,
        request_hash: &t.request_hash,
        customer_id: Some(customer.id),
        reverses: None,
    };
    let journal_id = match store::ledger::post(w, &meta, &journal).await? {
        Posted::New(id) => id,
        Posted::Replay(id) => return Ok(Applied::Replay(id)),
    };
    for (invoice, pays) in &applied {
        store::invoice::record_paid(w, invoice, invoice.amount_paid + pays).await?;
    }
    let resumed = resume_if_clear(ctx, w, tenant, customer, &t.scope).await?;
    let mut lines: Vec<store::invoice::Line> = applied
        .iter()
        .map(|(invoice, pays)| store::invoice::Line {
            kind: "payment".to_owned(),
            description: invoice.number_text.clone(),
            amount: *pays,
        })
        .collect();
    if left > 0 {
        lines.push(store::invoice::Line {
            kind: "on_account".to_owned(),
            description: String::new(),
            amount: left,
        });
    }
    let zone = crate::customer::zone(tenant);
    let local = ctx.now.with_timezone(&zone).date_naive();
    let receipt = store::invoice::issue(
        w,
        &store::invoice::NewDocument {
            tenant: TenantId(tenant.id),
            country: &tenant.country,
            series: domain::invoice::Series::Receipt,
            customer_id: customer.id,
            journal_id: Some(journal_id),
            collector_id: t.collector_user,
            currency: &tenant.currency,
            subtotal: t.amount,
            vat: 0,
            total: t.amount,
            fiscal_year: domain::invoice::fiscal_year(local, &tenant.country),
            buyer: serde_json::json!({
                "name": customer.name,
                "username": customer.username,
                "mobile": customer.mobile,
                "address": customer.address,
            }),
            lines: &lines,
        },
    )
    .await?;
    let payment = store::payment::insert(
        w,
        &store::payment::NewPayment {
            tenant: TenantId(tenant.id),
            customer_id: customer.id,
            method,
            amount: t.amount,
            currency: &tenant.currency,
            collector_id: t.collector_user,
            journal_id,
            receipt_id: Some(receipt.id),
            online: t.online,
        },
    )
    .await?;
    let applied: Vec<(i64, i64)> = applied.iter().map(|(i, p)| (i.id, *p)).collect();
    // The customer hears of it by SMS, from the notice, after commit.
    store::billing::notify_many(
        w,
        TenantId(tenant.id),
        &[store::billing::NewNotification {
            customer_id: Some(customer.id),
            kind: "payment",
            dedupe_key: format!("payment:{journal_id}"),
            params: serde_json::json!({ "amount": t.amount }),
        }],
    )
    .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(tenant.id)),
        action: "customer.payment",
        entity: "customer",
        entity_id: Some(customer.id),
        before: None,
        after: Some(serde_json::json!({
            "payment_id": payment.id,
            "method": method,
            "amount": t.amount,
            "currency": tenant.currency,
            "journal_id": journal_id,
            "receipt_id": receipt.id,
            "invoices": applied,
            "on_account": left,
            "resumed": resumed,
        })),
    })
    .await?;
    Ok(Applied::New(PaymentOutcome {
        payment_id: payment.id,
        journal_id,
        receipt_id: Some(receipt.id),
        amount: t.amount,
        currency: tenant.currency.clone(),
        applied,
        resumed,
        replayed: false,
    }))
}

/// Resumes `customer` in `w` when non-payment suspended it and nothing it still owes is past
/// the grace (read in `w`, after what was just paid or credited); true when it did.
pub(crate) async fn resume_if_clear(
    ctx: &Ctx<'_>,
    w: &mut store::Write,
    tenant: &store::tenant::Tenant,
    customer: &store::customer::Customer,
    scope: &domain::access::CustomerScope,
) -> Result<bool, OpError> {
    if customer.status.get() != CustomerStatus::Suspended
        || customer.suspended_for.as_deref() != Some(store::billing::UNPAID)
    {
        return Ok(false);
    }
    let cutoff = crate::billing_run::grace_over(tenant, ctx.now);
    let still_overdue = store::invoice::open_of(w.tx(), customer.id)
        .await?
        .iter()
        .any(|i| i.due_at.is_some_and(|d| d <= cutoff));
    if still_overdue {
        return Ok(false);
    }
    let changes = CustomerChanges {
        status: Some(CustomerStatus::Active),
        ..CustomerChanges::default()
    };
    let after = store::customer::update(w, scope, customer.id, customer.version, &changes).await?;
    crate::customer::reach_sessions(w, customer, &after, ctx.now).await?;
    Ok(true)
}

/// The answer to a payment already taken under the same key.
async fn replayed(
    ctx: &Ctx<'_>,
    journal_id: i64,
    currency: &str,
) -> Result<PaymentOutcome, OpError> {
    let payment = store::payment::by_journal(ctx.db.conn(), journal_id)
        .await?
        .ok_or(OpError::NotFound)?;
    let receipt = match payment.receipt_id {
        Some(id) => store::invoice::find(ctx.db.conn(), None, id).await?,
        None => None,
    };
    let applied = receipt
        .as_ref()
        .map(store::invoice::lines)
        .transpose()?
        .unwrap_or_default();
    let mut paid = Vec::new();
    for line in applied {
        let found =
            store::invoice::by_number_text(ctx.db.conn(), payment.tenant_id, &line.description)
                .await?;
        if let Some(invoice) = found {
            paid.push((invoice.id, line.amount));
        }
    }
    Ok(PaymentOutcome {
        payment_id: payment.id,
        journal_id,
        receipt_id: payment.receipt_id,
        amount: payment.amount,
        currency: currency.to_owned(),
        applied: paid,
        resumed: false,
        replayed: true,
    })
}

/// The latest payments (up to 100) of customer `id`, if the caller sees it.
pub async fn of_customer(
    ctx: &Ctx<'_>,
    actor: &access::Actor,
    id: i64,
) -> Result<Vec<store::payment::Payment>, OpError> {
    let customer = crate::customer::get(ctx, actor, id).await?;
    Ok(store::payment::of_customer(ctx.db.conn(), customer.id, 100).await?)
}
