//! The hosted checkout page a customer is redirected to: the amount and one "Pay" button
//! (`id="pay"`), whose POST completes the payment as [`super::SimGateway::pay`] does and
//! redirects (303) to the merchant's success URL, or its cancel URL when declined. For
//! bKash the click authorises the payment and the redirect is to the callback URL,
//! `?paymentID=…&status=success` (or `failure`); its "Cancel" link is the callback with
//! `status=cancel`.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse as _, Response};
use http::{HeaderValue, StatusCode, header};

use percent_encoding::utf8_percent_encode;

use super::{Payer, Shared, SimPayment, bkash};
use crate::{PaymentStatus, Provider, wire};

/// `GET /stripe/pay/{id}`.
pub(super) async fn show_stripe(state: State<Arc<Shared>>, id: Path<String>) -> Response {
    show(state, Provider::Stripe, id)
}

/// `GET /generic/pay/{id}`.
pub(super) async fn show_generic(state: State<Arc<Shared>>, id: Path<String>) -> Response {
    show(state, Provider::Generic, id)
}

/// `GET /bkash/pay/{id}`.
pub(super) async fn show_bkash(state: State<Arc<Shared>>, id: Path<String>) -> Response {
    show(state, Provider::Bkash, id)
}

/// `GET /sslcommerz/pay/{id}`.
pub(super) async fn show_sslcommerz(state: State<Arc<Shared>>, id: Path<String>) -> Response {
    show(state, Provider::Sslcommerz, id)
}

/// `POST /bkash/pay/{id}`.
pub(super) async fn pay_bkash(state: State<Arc<Shared>>, id: Path<String>) -> Response {
    pay(state, Provider::Bkash, id)
}

/// `POST /sslcommerz/pay/{id}`.
pub(super) async fn pay_sslcommerz(state: State<Arc<Shared>>, id: Path<String>) -> Response {
    pay(state, Provider::Sslcommerz, id)
}

/// `POST /stripe/pay/{id}`.
pub(super) async fn pay_stripe(state: State<Arc<Shared>>, id: Path<String>) -> Response {
    pay(state, Provider::Stripe, id)
}

/// `POST /generic/pay/{id}`.
pub(super) async fn pay_generic(state: State<Arc<Shared>>, id: Path<String>) -> Response {
    pay(state, Provider::Generic, id)
}

fn show(State(shared): State<Arc<Shared>>, provider: Provider, Path(id): Path<String>) -> Response {
    match shared.find(provider, &id) {
        Some(payment) => Html(render(&payment)).into_response(),
        None => not_found(),
    }
}

/// Pays (a second click only sees the outcome of the first) and sends the customer back.
fn pay(State(shared): State<Arc<Shared>>, provider: Provider, Path(id): Path<String>) -> Response {
    if shared.find(provider, &id).is_none() {
        return not_found();
    }
    let payment = match shared.pay(&id, Payer::Browser) {
        Ok(payment) => payment,
        Err(_) => match shared.find(provider, &id) {
            Some(payment) => payment,
            None => return not_found(),
        },
    };
    let target = match (provider, payment.status) {
        (Provider::Bkash, _) => bkash::callback_url(&payment, bkash::outcome(&payment))
            .unwrap_or_else(|| payment.success_url.clone()),
        (_, PaymentStatus::Failed) => payment.cancel_url.clone(),
        (_, PaymentStatus::Succeeded | PaymentStatus::Pending) => payment.success_url.clone(),
    };
    match HeaderValue::from_str(&target) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => Html(render(&payment)).into_response(),
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html("<!doctype html><title>Not found</title><p>No such checkout.</p>"),
    )
        .into_response()
}

fn render(payment: &SimPayment) -> String {
    let provider = payment.provider.as_str();
    let amount = format!(
        "{} {}",
        major_units(payment.amount, &payment.currency),
        escape(&payment.currency)
    );
    let mut page = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
         <title>Checkout ({provider}, simulated)</title></head>\n<body>\n<main>\n\
         <h1>Simulated {provider} checkout</h1>\n\
         <p id=\"description\">{}</p>\n\
         <p>Reference: <code id=\"merchant-ref\">{}</code></p>\n\
         <p>Amount: <strong id=\"amount\">{amount}</strong></p>\n",
        escape(&payment.description),
        escape(&payment.merchant_ref),
    );
    if payment.status == PaymentStatus::Pending && !payment.authorised {
        let cancel = match payment.provider {
            Provider::Bkash => {
                bkash::callback_url(payment, "cancel").unwrap_or_else(|| payment.cancel_url.clone())
            }
            _ => payment.cancel_url.clone(),
        };
        let _ = write!(
            page,
            "<form method=\"post\" action=\"/{provider}/pay/{}\">\
             <button id=\"pay\" type=\"submit\">Pay {amount}</button></form>\n\
             <p><a id=\"cancel\" href=\"{}\">Cancel</a></p>\n",
            escape(&utf8_percent_encode(&payment.id, wire::PATH_SEGMENT).to_string()),
            escape(&cancel),
        );
    } else if payment.authorised && payment.status == PaymentStatus::Pending {
        page.push_str(
            "<p id=\"status\">This payment is authorised; the merchant has yet to execute it.</p>\n",
        );
    } else {
        let _ = writeln!(
            page,
            "<p id=\"status\">This payment has {}.</p>",
            payment.status
        );
    }
    page.push_str("</main>\n</body>\n</html>\n");
    page
}

/// `amount` minor units in major units, as the currency writes them (display only).
fn major_units(amount: i64, currency: &str) -> String {
    let decimals = wire::minor_digits(currency);
    if decimals == 0 {
        return amount.to_string();
    }
    let scale = 10_i64.pow(decimals);
    let sign = if amount < 0 { "-" } else { "" };
    let (whole, fraction) = (
        (amount / scale).unsigned_abs(),
        (amount % scale).unsigned_abs(),
    );
    format!(
        "{sign}{whole}.{fraction:0width$}",
        width = decimals as usize
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_show_in_the_currency_units() {
        assert_eq!(major_units(12345, "USD"), "123.45");
        assert_eq!(major_units(5, "EUR"), "0.05");
        assert_eq!(major_units(500, "JPY"), "500");
        assert_eq!(major_units(1500, "KWD"), "1.500");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<b>\"x\" & 'y'</b>"),
            "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;"
        );
    }
}
