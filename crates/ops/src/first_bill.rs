//! The first bill of customers brought in already served (an import from a router or from a
//! file, by the tenant's own people, who give the first period with the customer): an
//! invoice for that period, posted in the transaction that creates the customers, so a
//! customer is never created without the bill asked for nor billed twice (its journal's
//! key is `first_bill:<customer>`). The expiry is not moved: the bill is for the time the
//! customer already has, and it is owed like a postpaid invoice (due on the tenant's
//! terms, suspended past the grace, settled by a payment).
//!
//! Billed: prepaid customers that are active and hold time (an expiry after now), at their
//! package's price along their chain, pro rata to the time given. Left out: postpaid ones
//! (the invoice run bills them), free ones, disabled ones, those without time (a reseller's
//! new customer starts without: its first recharge is its bill) and a package not sold
//! through the customer's chain.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, NaiveDate, Utc};
use domain::billing::{self, Split};
use domain::customer::{BillingType, CustomerStatus};
use domain::ids::TenantId;
use domain::ledger::{Journal, JournalKind};
use serde::Serialize;
use store::billing::{NewInvoice, NewNotification};
use store::customer::Customer;
use store::ledger::BatchJournal;
use store::tenant::Tenant;

use crate::Ctx;
use crate::error::OpError;

/// What first bills were issued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Billed {
    /// Customers billed.
    pub customers: usize,
    /// What their invoices total, in minor units of the tenant's currency.
    pub amount: i64,
}

/// The journal key of customer `id`'s first bill.
pub fn journal_key(id: i64) -> String {
    format!("first_bill:{id}")
}

/// Issues, in `w`, the first bill of each of `customers` (all of `tenant`, created in `w`)
/// that has one (see the module documentation).
pub(crate) async fn issue(
    ctx: &Ctx<'_>,
    w: &mut store::Write,
    tenant: &Tenant,
    customers: &[Customer],
) -> Result<Billed, OpError> {
    let now = ctx.now;
    let id = TenantId(tenant.id);
    let zone = crate::customer::zone(tenant);
    let today = now.with_timezone(&zone).date_naive();
    let terms = crate::billing_run::terms_of(tenant);
    let due_at = crate::billing_run::local_midnight(zone, terms.due_date(today));
    let step = billing::rounding_step(&tenant.currency);
    let vat = store::tax::vat_at(ctx.db.conn(), id, now).await?;
    let mut rows: Vec<(&Customer, Split, DateTime<Utc>)> = Vec::new();
    // One price list per package and chain, as the invoice run reads them.
    let mut prices: HashMap<(i64, Option<i64>, Option<i64>), Option<billing::PriceList>> =
        HashMap::new();
    for c in customers {
        let Some(until) = c.expires_at.filter(|at| *at > now) else {
            continue;
        };
        if c.billing_type.get() != BillingType::Prepaid || c.status.get() != CustomerStatus::Active
        {
            continue;
        }
        let key = (c.package_id, c.operator_id, c.sub_operator_id);
        if let Entry::Vacant(slot) = prices.entry(key) {
            slot.insert(crate::billing_run::month_price(ctx, c, vat).await?);
        }
        let Some(list) = prices.get(&key).and_then(Option::as_ref) else {
            continue;
        };
        let minutes = (until - now).num_minutes().max(1);
        let split = crate::billing_run::time_of(list, c.custom_price, minutes, step);
        if split.price > 0 {
            rows.push((c, split, until));
        }
    }
    if rows.is_empty() {
        return Ok(Billed::default());
    }
    let journals = rows
        .iter()
        .map(|(c, split, _)| {
            Ok(BatchJournal {
                journal: Journal::new(
                    JournalKind::Invoice,
                    journal_key(c.id),
                    domain::postpaid::issue_legs(split, c.id),
                    format!("first bill of customer {}", c.username),
                )
                .map_err(|e| OpError::Internal(e.to_string()))?,
                customer_id: Some(c.id),
                request_hash: format!("first_bill|{}", c.id),
            })
        })
        .collect::<Result<Vec<_>, OpError>>()?;
    let journal_ids = store::ledger::post_many(w, id, &tenant.currency, &journals).await?;
    let local = |at: DateTime<Utc>| at.with_timezone(&zone);
    let invoices = rows
        .iter()
        .zip(journal_ids)
        .map(|((c, split, until), journal_id)| {
            let last_day: NaiveDate = local(*until).date_naive();
            let lines = vec![store::invoice::Line {
                kind: "service".to_owned(),
                description: format!(
                    "{} – {}",
                    local(now).format("%Y-%m-%d %H:%M"),
                    local(*until).format("%Y-%m-%d %H:%M")
                ),
                amount: split.price,
            }];
            Ok(NewInvoice {
                customer_id: c.id,
                journal_id,
                subtotal: split.net(),
                vat: split.vat,
                total: split.price,
                period: (today, last_day.succ_opt().unwrap_or(last_day)),
                due_at,
                split: to_json(split)?,
                buyer: serde_json::json!({
                    "name": c.name, "username": c.username, "mobile": c.mobile, "address": c.address,
                }),
                lines: to_json(&lines)?,
            })
        })
        .collect::<Result<Vec<_>, OpError>>()?;
    let fiscal_year = domain::invoice::fiscal_year(today, &tenant.country);
    store::billing::issue_invoices(
        w,
        id,
        &tenant.country,
        &tenant.currency,
        fiscal_year,
        None,
        &invoices,
    )
    .await?;
    let notices: Vec<NewNotification> = rows
        .iter()
        .map(|(c, split, _)| NewNotification {
            customer_id: Some(c.id),
            kind: "invoice_issued",
            dedupe_key: journal_key(c.id),
            params: serde_json::json!({ "amount": split.price, "due_at": due_at }),
        })
        .collect();
    store::billing::notify_many(w, id, &notices).await?;
    let billed = Billed {
        customers: rows.len(),
        amount: rows.iter().map(|(_, s, _)| s.price).sum(),
    };
    w.audit(store::AuditEntry {
        tenant_id: Some(id),
        action: "billing.first_bill",
        entity: "tenant",
        entity_id: Some(tenant.id),
        before: None,
        after: Some(serde_json::json!({
            "invoices": billed.customers,
            "amount": billed.amount,
            "customers": [rows.first().map(|(c, ..)| c.id), rows.last().map(|(c, ..)| c.id)],
        })),
    })
    .await?;
    Ok(billed)
}

fn to_json(value: &impl Serialize) -> Result<String, OpError> {
    serde_json::to_string(value).map_err(|e| OpError::Internal(e.to_string()))
}
