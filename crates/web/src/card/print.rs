//! The printable sheet of a batch's cards (`GET /card-batches/{id}/print?layout=`), for the
//! staff who run the tenant's stock: A4 pages in a grid (`a4-3x8`, the default, `a4-4x10`
//! or `a4-2x5`) with cut lines, each card with the tenant, the package, its price and
//! validity, the serial and the PIN (or a voucher's code), and how to use it in English and
//! Bangla. The browser's "Print" makes the paper or the PDF. Only cards that can still be
//! sold are printed (in stock, assigned, sold). An access voucher carries a QR code of its
//! link (`/v/<code>`, which fills the portal's voucher field); recharge cards carry none,
//! which would show the PIN outside the scratch panel. Opening the secrets is audited and
//! counted like an export.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::i18n::{Lang, Tr};
use crate::ledger::panel::{digits_of, money_text};
use crate::page::fallback::PageId;
use crate::page::session::PanelUser;
use crate::page::ui::{self, render};
use crate::state::AppState;
use domain::card::State as CardState;
use ops::card::Reveal;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new().route("/card-batches/{id}/print", get(print))
}

/// How cards are laid out on an A4 page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    columns: usize,
    rows: usize,
}

impl Layout {
    fn parse(text: Option<&str>) -> Layout {
        let (columns, rows) = match text {
            Some("a4-4x10") => (4, 10),
            Some("a4-2x5") => (2, 5),
            _ => (3, 8),
        };
        Layout { columns, rows }
    }
}

/// The query.
#[derive(Debug, Deserialize)]
struct PrintQuery {
    layout: Option<String>,
}

/// One card as printed.
struct CardCell {
    serial: String,
    pin: String,
    /// A voucher's QR code, an SVG drawn here from its link.
    qr: String,
}

#[derive(Template)]
#[template(path = "card_sheet.html")]
struct SheetPage {
    t: Tr,
    tenant: String,
    package: String,
    price: String,
    validity: String,
    valid_until: String,
    how_en: String,
    how_bn: String,
    columns: usize,
    /// The height of one card, in millimetres.
    height_mm: usize,
    pages: Vec<Vec<CardCell>>,
}

async fn print(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    PageId(id): PageId,
    Query(query): Query<PrintQuery>,
) -> Response {
    let pins = match ops::card::pins(
        &state.ctx(),
        &user.actor,
        user.author.clone(),
        id,
        Reveal::Print,
    )
    .await
    {
        Ok(pins) => pins,
        Err(error) => return ui::op_error(&user, &headers, &error),
    };
    let layout = Layout::parse(query.layout.as_deref());
    let voucher = pins.batch.kind.get() == domain::card::Kind::Access;
    let how = if voucher {
        "cards.how_to_voucher"
    } else {
        "cards.how_to"
    };
    let printable = [CardState::InStock, CardState::Assigned, CardState::Sold];
    let cells: Vec<CardCell> = pins
        .cards
        .into_iter()
        .filter(|(_, _, s)| CardState::parse(s).is_some_and(|s| printable.contains(&s)))
        .map(|(serial, pin, _)| {
            let qr = if voucher {
                let link = format!("{}/v/{}", state.settings.public_url, pin.replace('-', ""));
                ops::auth::totp::qr_svg(&link).unwrap_or_default()
            } else {
                String::new()
            };
            CardCell { serial, pin, qr }
        })
        .collect();
    let mut pages = Vec::new();
    let mut cells = cells.into_iter().peekable();
    while cells.peek().is_some() {
        pages.push(cells.by_ref().take(layout.columns * layout.rows).collect());
    }
    let t = Tr { lang: user.lang };
    let minutes = pins.validity_minutes;
    let validity = if minutes % 1440 == 0 {
        t.t1("cards.days", "n", &(minutes / 1440).to_string())
    } else {
        t.t1("cards.hours", "n", &(minutes / 60).to_string())
    };
    let page = SheetPage {
        tenant: pins.tenant,
        package: pins.package,
        price: money_text(pins.batch.price, digits_of(&pins.currency), &pins.currency),
        validity,
        valid_until: pins
            .batch
            .valid_until
            .map(|at| at.date_naive().to_string())
            .unwrap_or_default(),
        how_en: Tr { lang: Lang::En }.t(how).to_owned(),
        how_bn: Tr { lang: Lang::Bn }.t(how).to_owned(),
        columns: layout.columns,
        // A4 is 297 mm tall; the page keeps 8 mm margins.
        height_mm: (297 - 16) / layout.rows,
        pages,
        t,
    };
    let mut response = render(&page);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response.into_response()
}
