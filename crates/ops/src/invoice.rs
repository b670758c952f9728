//! Documents of money (receipts, postpaid invoices, credit notes): who reads the tenant's
//! books reads them all; a reseller reads those it took the money for and those of
//! customers it sees; staff who see a customer read its documents. And credit notes
//! (billing-design.md §3.3): part of an open invoice's amount due taken off, with its VAT,
//! in one transaction with its journal, its own numbered document and the invoice's
//! credited amount; a customer that non-payment suspended is resumed once nothing it owes
//! is past the grace.

use sha2::{Digest as _, Sha256};

use crate::Ctx;
use crate::error::OpError;
use domain::access::{self, Actor};
use domain::ids::TenantId;
use domain::invoice::{CreditRequest, Series};
use domain::ledger::{Journal, JournalKind};
use store::invoice::{Invoice, InvoiceFilter};
use store::ledger::{PostMeta, Posted};
use store::list::{Page, PageRequest};
use store::{AuditEntry, Author};

/// Documents the caller may read, narrowed by `filter` (its `tenants` and `collector_id`
/// are set here from the caller).
pub async fn list(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &InvoiceFilter,
    page: &PageRequest,
) -> Result<Page<Invoice>, OpError> {
    let mut filter = filter.clone();
    filter.tenants = crate::ledger::book_tenants(actor)?;
    if let Some(customer) = filter.customer_id {
        // Seeing the customer is reading its documents.
        crate::customer::get(ctx, actor, customer).await?;
    } else if !crate::ledger::reads_books(actor) {
        filter.collector_id = Some(actor.user_id.0);
    }
    Ok(store::invoice::list(ctx.db.conn(), &filter, page).await?)
}

/// One document the caller may read.
pub async fn get(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Invoice, OpError> {
    let tenants = crate::ledger::book_tenants(actor)?;
    let invoice = store::invoice::find(ctx.db.conn(), tenants.as_deref(), id)
        .await?
        .ok_or(OpError::NotFound)?;
    let readable = crate::ledger::reads_books(actor)
        || invoice.collector_id == Some(actor.user_id.0)
        || crate::customer::get(ctx, actor, invoice.customer_id)
            .await
            .is_ok();
    if readable {
        Ok(invoice)
    } else {
        Err(OpError::NotFound)
    }
}

/// A credit note issued (or found, for a retry).
#[derive(Debug, Clone)]
pub struct Credited {
    /// The credit note.
    pub note: Invoice,
    /// The invoice it reduces, as it stands after.
    pub invoice: Invoice,
    /// Its journal.
    pub journal_id: i64,
    /// True when it resumed the customer.
    pub resumed: bool,
    /// True when the same request had been made: nothing was written now.
    pub replayed: bool,
}

/// Issues a credit note of `amount` (VAT included) on open postpaid invoice `id`, for
/// `reason` (see the module documentation). `key` (the client's idempotency key) makes a
/// retry answer with the note the first made.
pub async fn credit(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    id: i64,
    amount: i64,
    reason: &str,
    key: Option<&str>,
) -> Result<Credited, OpError> {
    let invoice = get(ctx, actor, id).await?;
    access::credit_invoices(actor, TenantId(invoice.tenant_id))?;
    if Series::parse(&invoice.series) != Some(Series::Invoice) {
        return Err(OpError::field("invoice_id", "not_an_invoice"));
    }
    let journal_key = format!(
        "credit:{}:{}",
        actor.user_id,
        key.map_or_else(
            || store::crypto::random_text(b"0123456789abcdefghijklmnopqrstuvwxyz", 24),
            str::to_owned
        )
    );
    let request_hash = hex::encode(Sha256::digest(format!(
        "credit|{}|{amount}|{}",
        invoice.id,
        reason.trim()
    )));
    let tenant_id = TenantId(invoice.tenant_id);
    if key.is_some()
        && let Some(done) = replay(ctx, tenant_id, &journal_key, &request_hash).await?
    {
        return Ok(done);
    }
    if invoice.status != "open" {
        return Err(OpError::field("invoice_id", "not_open"));
    }
    let request = CreditRequest::parse(amount, reason, store::invoice::due(&invoice))?;
    let conn = ctx.db.conn();
    let tenant = store::tenant::find_any(conn, tenant_id)
        .await?
        .ok_or(OpError::NotFound)?;
    let customer = crate::customer::get(ctx, actor, invoice.customer_id).await?;
    let split = store::invoice::split(&invoice)?;
    let before = invoice.credited;
    let after = before + request.amount;
    let mut legs = domain::postpaid::credit_legs(&split, customer.id, before, after);
    legs.extend(domain::postpaid::close_legs(
        &split,
        invoice.amount_paid,
        after,
    ));
    let journal = Journal::new(
        JournalKind::CreditNote,
        journal_key.clone(),
        legs,
        format!("credit note on invoice {}", invoice.number_text),
    )
    .map_err(|e| OpError::Internal(e.to_string()))?;
    let meta = PostMeta {
        tenant: TenantId(tenant.id),
        currency: &tenant.currency,
        request_hash: &request_hash,
        customer_id: Some(customer.id),
        reverses: None,
    };
    let mut w = ctx.db.write(author, ctx.now).await?;
    let journal_id = match store::ledger::post(&mut w, &meta, &journal).await? {
        Posted::New(id) => id,
        Posted::Replay(_) => {
            w.rollback().await?;
            return replay(ctx, tenant_id, &journal_key, &request_hash)
                .await?
                .ok_or(OpError::KeyReused);
        }
    };
    store::invoice::record_credited(&w, &invoice, after).await?;
    // The customer first: the note's number is taken last, holding its counter briefly.
    let scope = access::customer_scope(actor);
    let resumed = crate::payment::resume_if_clear(ctx, &mut w, &tenant, &customer, &scope).await?;
    let (total, vat) = domain::postpaid::credit_share(&split, before, after);
    let zone = crate::customer::zone(&tenant);
    let local = ctx.now.with_timezone(&zone).date_naive();
    let lines = [store::invoice::Line {
        kind: "credit_note".to_owned(),
        description: invoice.number_text.clone(),
        amount: total,
    }];
    let note = store::invoice::issue_credit_note(
        &mut w,
        &store::invoice::NewDocument {
            tenant: TenantId(tenant.id),
            country: &tenant.country,
            series: Series::CreditNote,
            customer_id: customer.id,
            journal_id: Some(journal_id),
            collector_id: Some(actor.user_id.0),
            currency: &tenant.currency,
            subtotal: total - vat,
            vat,
            total,
            fiscal_year: domain::invoice::fiscal_year(local, &tenant.country),
            buyer: serde_json::from_str(&invoice.buyer).unwrap_or_default(),
            lines: &lines,
        },
        &invoice,
        &request.reason,
    )
    .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(tenant.id)),
        action: "invoice.credit_note",
        entity: "invoice",
        entity_id: Some(invoice.id),
        before: Some(serde_json::json!({"credited": before, "status": invoice.status})),
        after: Some(serde_json::json!({
            "credited": after,
            "credit_note_id": note.id,
            "number": note.number_text,
            "amount": total,
            "vat": vat,
            "reason": request.reason,
            "journal_id": journal_id,
            "resumed": resumed,
        })),
    })
    .await?;
    w.commit().await?;
    let invoice = store::invoice::find(ctx.db.conn(), None, invoice.id)
        .await?
        .ok_or(OpError::NotFound)?;
    Ok(Credited {
        note,
        invoice,
        journal_id,
        resumed,
        replayed: false,
    })
}

/// The credit note already made under `key`: the same request answers it, another is a
/// conflict; `None` when there is none.
async fn replay(
    ctx: &Ctx<'_>,
    tenant: TenantId,
    key: &str,
    request_hash: &str,
) -> Result<Option<Credited>, OpError> {
    let conn = ctx.db.conn();
    let Some(journal) = store::ledger::journal_by_key(conn, tenant, key).await? else {
        return Ok(None);
    };
    if journal.request_hash != request_hash {
        return Err(OpError::KeyReused);
    }
    let note = store::invoice::by_journal(conn, journal.id)
        .await?
        .ok_or(OpError::NotFound)?;
    let invoice = store::invoice::find(conn, None, note.credits_invoice_id.unwrap_or(0))
        .await?
        .ok_or(OpError::NotFound)?;
    Ok(Some(Credited {
        note,
        invoice,
        journal_id: journal.id,
        resumed: false,
        replayed: true,
    }))
}

/// The credit notes of invoice `id`, if the caller reads it.
pub async fn credit_notes(ctx: &Ctx<'_>, actor: &Actor, id: i64) -> Result<Vec<Invoice>, OpError> {
    let invoice = get(ctx, actor, id).await?;
    Ok(store::invoice::credit_notes_of(ctx.db.conn(), invoice.id).await?)
}
