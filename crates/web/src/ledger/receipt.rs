//! The printable document (`GET /invoices/{id}/print`): a receipt, a postpaid invoice or a
//! credit note on one A4 page in the reader's language, with the tenant, the number, when
//! and by whom, the customer as it was called then, the lines and the totals. Invoices and
//! credit notes of a VAT-registered tenant (its BIN set) print as tax documents: the
//! seller's BIN and address, the time of issue, the value without and with VAT, the VAT
//! rate (in force when the invoice was issued; a credit note's invoice's) and the total in
//! words; in Bangladesh headed as Mushak-6.3 (tax invoice) or Mushak-6.7 (credit note). Who
//! may read it is `ops::invoice`'s.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use crate::i18n::Tr;
use crate::ledger::panel::{digits_of, money_text};
use crate::page::fallback::PageId;
use crate::page::session::PanelUser;
use crate::page::ui::{self, render};
use crate::state::AppState;
use domain::access::tenant_scope;
use domain::ids::{TenantId, UserId};
use ops::OpError;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new().route("/invoices/{id}/print", get(print))
}

/// One line as printed.
struct LineRow {
    label: String,
    description: String,
    amount: String,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    t: Tr,
    /// What the document is called: receipt, invoice or credit note.
    kind_title: String,
    tenant: String,
    number: String,
    issued: String,
    collector: String,
    buyer_name: String,
    buyer_username: String,
    buyer_mobile: String,
    buyer_address: String,
    lines: Vec<LineRow>,
    subtotal: String,
    vat: String,
    total: String,
    /// A postpaid invoice: its period, due date and what is still owed (`None` for a
    /// receipt).
    invoice: Option<InvoiceFacts>,
    /// A credit note: the invoice it reduces and why.
    credit: Option<CreditFacts>,
    /// A tax document's facts (`None`: a plain receipt).
    tax: Option<TaxFacts>,
}

/// What a credit note prints beside a receipt's fields.
struct CreditFacts {
    invoice_number: String,
    reason: String,
}

/// What a tax document prints.
struct TaxFacts {
    /// The form it is in Bangladesh (empty elsewhere).
    form: String,
    bin: String,
    address: String,
    /// The VAT rate in force when it was issued: `5%`.
    rate: String,
    /// The total in words.
    words: String,
}

/// What a postpaid invoice prints beside a receipt's fields.
struct InvoiceFacts {
    period: String,
    due: String,
    paid: String,
    /// What credit notes took off (empty: none).
    credited: String,
    owed: String,
}

async fn print(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    PageId(id): PageId,
) -> Response {
    let ctx = state.ctx();
    let shown = async {
        let invoice = ops::invoice::get(&ctx, &user.actor, id).await?;
        // Whoever reads a document sees its tenant.
        store::tenant::find(
            ctx.db.conn(),
            &tenant_scope(&user.actor),
            TenantId(invoice.tenant_id),
        )
        .await?
        .ok_or(OpError::NotFound)?;
        document(&ctx, invoice, Tr { lang: user.lang }).await
    };
    match shown.await {
        Ok(response) => response,
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// The printable page of `invoice`, found by its reader (staff in its scope, or the
/// customer's own site), in `t`'s language.
pub(crate) async fn document(
    ctx: &ops::Ctx<'_>,
    invoice: store::invoice::Invoice,
    t: Tr,
) -> Result<Response, OpError> {
    let tenant = store::tenant::find_any(ctx.db.conn(), TenantId(invoice.tenant_id))
        .await?
        .ok_or(OpError::NotFound)?;
    let collector = match invoice.collector_id {
        Some(id) => store::user::find_self(ctx.db.conn(), UserId(id))
            .await?
            .map(|u| u.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let credited = match invoice.credits_invoice_id {
        Some(id) => store::invoice::find(ctx.db.conn(), None, id).await?,
        None => None,
    };
    // A credit note reverses its invoice's VAT, at the rate that invoice charged.
    let taxed_at = credited.as_ref().map_or(invoice.issued_at, |i| i.issued_at);
    let vat = store::tax::vat_at(ctx.db.conn(), TenantId(tenant.id), taxed_at).await?;
    let credits = credited.map(|i| i.number_text).unwrap_or_default();
    let digits = digits_of(&invoice.currency);
    let money = |minor: i64| money_text(minor, digits, &invoice.currency);
    let zone = domain::locale::zone_of(&tenant.time_zone);
    let buyer: serde_json::Value = serde_json::from_str(&invoice.buyer).unwrap_or_default();
    let field = |name: &str| buyer[name].as_str().unwrap_or_default().to_owned();
    let lines = store::invoice::lines(&invoice)
        .unwrap_or_default()
        .into_iter()
        .map(|l| LineRow {
            label: t.t(&format!("receipt.line_{}", l.kind)).to_owned(),
            description: l.description,
            amount: money(l.amount),
        })
        .collect();
    let series = domain::invoice::Series::parse(&invoice.series);
    let kind_title = t
        .t(match series {
            Some(domain::invoice::Series::Invoice) => "receipt.invoice_title",
            Some(domain::invoice::Series::CreditNote) => "receipt.credit_note_title",
            _ => "receipt.title",
        })
        .to_owned();
    let form = series.and_then(|s| domain::invoice::tax_form(s, &tenant.country, &tenant.bin));
    let tax = form.map(|form| TaxFacts {
        form: match form {
            domain::invoice::TaxForm::Plain => String::new(),
            domain::invoice::TaxForm::Mushak63 => t.t("receipt.mushak_invoice").to_owned(),
            domain::invoice::TaxForm::Mushak67 => t.t("receipt.mushak_credit").to_owned(),
        },
        bin: tenant.bin.clone(),
        address: tenant.address.clone(),
        rate: percent(vat.rate_bp),
        words: format!(
            "{} {}",
            invoice.currency,
            domain::invoice::amount_in_words(invoice.total)
        ),
    });
    let credit = (series == Some(domain::invoice::Series::CreditNote)).then(|| CreditFacts {
        invoice_number: credits,
        reason: invoice.reason.clone().unwrap_or_default(),
    });
    Ok(render(&ReceiptPage {
        t,
        kind_title,
        tenant: tenant.name,
        number: invoice.number_text.clone(),
        issued: invoice
            .issued_at
            .with_timezone(&zone)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        collector,
        buyer_name: field("name"),
        buyer_username: field("username"),
        buyer_mobile: field("mobile"),
        buyer_address: field("address"),
        lines,
        subtotal: money(invoice.subtotal),
        vat: money(invoice.vat),
        total: money(invoice.total),
        invoice: (invoice.series == domain::invoice::Series::Invoice.as_str()).then(|| {
            let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
            InvoiceFacts {
                period: format!(
                    "{} – {}",
                    day(invoice.period_start),
                    day(invoice.period_end.and_then(|d| d.pred_opt()))
                ),
                due: invoice
                    .due_at
                    .map(|d| d.with_timezone(&zone).format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                paid: money(invoice.amount_paid),
                credited: if invoice.credited > 0 {
                    money(invoice.credited)
                } else {
                    String::new()
                },
                owed: money(store::invoice::due(&invoice)),
            }
        }),
        credit,
        tax,
    }))
}

/// `rate_bp` basis points as a percentage: `5%`, `7.5%`, `0%`.
fn percent(rate_bp: i64) -> String {
    let (whole, part) = (rate_bp / 100, rate_bp % 100);
    if part == 0 {
        format!("{whole}%")
    } else {
        let part = format!("{part:02}");
        format!("{whole}.{}%", part.trim_end_matches('0'))
    }
}
