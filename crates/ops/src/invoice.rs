//! Reading documents of money taken (receipts): who reads the tenant's books reads them
//! all; a reseller reads those it took the money for and those of customers it sees;
//! staff who see a customer read its documents.

use crate::Ctx;
use crate::error::OpError;
use domain::access::Actor;
use store::invoice::{Invoice, InvoiceFilter};
use store::list::{Page, PageRequest};

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
