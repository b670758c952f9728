//! The printable receipt (`GET /invoices/{id}/print`): one A4 page in the reader's language
//! with the tenant, the number, when and by whom the money was taken, the customer as it
//! was called then, the lines and the totals. Who may read it is `ops::invoice`'s.

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
}

/// What a postpaid invoice prints beside a receipt's fields.
struct InvoiceFacts {
    period: String,
    due: String,
    paid: String,
    owed: String,
}

async fn print(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    PageId(id): PageId,
) -> Response {
    let ctx = state.ctx();
    let result = async {
        let invoice = ops::invoice::get(&ctx, &user.actor, id).await?;
        let tenant = store::tenant::find(
            ctx.db.conn(),
            &tenant_scope(&user.actor),
            TenantId(invoice.tenant_id),
        )
        .await?
        .ok_or(OpError::NotFound)?;
        let collector = match invoice.collector_id {
            Some(id) => store::user::find_self(ctx.db.conn(), UserId(id))
                .await?
                .map(|u| u.name)
                .unwrap_or_default(),
            None => String::new(),
        };
        Ok::<_, OpError>((invoice, tenant, collector))
    };
    let (invoice, tenant, collector) = match result.await {
        Ok(found) => found,
        Err(error) => return ui::op_error(&user, &headers, &error),
    };
    let t = Tr { lang: user.lang };
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
    render(&ReceiptPage {
        t,
        tenant: tenant.name,
        number: invoice.number_text,
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
                owed: money((invoice.total - invoice.amount_paid).max(0)),
            }
        }),
    })
}
