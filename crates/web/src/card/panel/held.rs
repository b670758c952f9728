//! A card holder's side of the Cards page (a card distributor above all, or a reseller
//! holding cards): its stock by package and state (`ops::card::distributor::me`), the
//! cards it reaches (`ops::card::cards`: its own, and an operator's handed down), and its
//! sales: an e-PIN (`reveal`: the PIN shown to hand to the customer, the card sold,
//! audited) and an e-top-up (`sell`: the card redeemed for a customer of the reseller it
//! sells for, found by mobile or id). Any holder marks cards sold; an operator also hands
//! its cards to its sub-operators and distributors and takes them back (`move_cards`).
//!
//! A sale runs once per form shown. The form carries a key drawn for it, kept with the
//! sale's answer (`store::idempotency`, as the API keeps an `Idempotency-Key`'s answer,
//! sealed by the keyring): a double click, or a reload of the answer, shows the same
//! sale again rather than selling another card or saying that this one is sold.

use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    CardsQuery, action_of, card_errors_beside, holder_choices, holders, list_page, moved_note,
    not_shown, on_form, serials, state_choices, state_name,
};
use crate::i18n::Tr;
use crate::ledger::panel::{BalanceShown, digits_of, key_of, money_text, new_key};
use crate::page::form::{Filled, FormData, PanelForm, ShowsForm, show_again};
use crate::page::input;
use crate::page::lookup::Tenants;
use crate::page::session::PanelUser;
use crate::page::ui::{self, Pager, Section, Ui, render};
use crate::state::AppState;
use domain::access::{CardReach, card_reach};
use domain::card::State as CardState;
use domain::field::{FieldError, FieldErrors};
use ops::OpError;
use ops::card::distributor::SaleInput;
use ops::card::{CardQuery, Selection};
use store::idempotency::Claim;
use store::user::User;

/// Cards a page lists.
const CARD_PAGE: u64 = 100;
/// How long a repeat waits between looks at the first request's answer.
const WAIT: Duration = Duration::from_millis(200);
/// How many looks before the repeat is told to try again.
const LOOKS: u32 = 25;

/// Cards of one package in one state.
#[derive(Debug)]
struct StockRow {
    package_id: i64,
    package: String,
    state_code: String,
    state: String,
    cards: i64,
}

/// A card the holder reaches, as a row (never its PIN).
#[derive(Debug)]
struct HeldRow {
    serial: String,
    state_code: String,
    state: String,
    holder: String,
    valid_until: String,
    sold_at: String,
    redeemed_at: String,
    /// The key of its e-PIN button, when it may be sold so (assigned to the holder, its
    /// PIN kept).
    epin_key: Option<String>,
}

/// A holder's Cards page.
#[derive(Template)]
#[template(path = "cards_held.html")]
pub(super) struct HeldPage {
    ui: Ui,
    name: String,
    role: &'static str,
    /// Its balance, what it may spend, and its terms.
    account: String,
    stock: Vec<StockRow>,
    rows: Vec<HeldRow>,
    total: String,
    pager: Pager,
    /// The state the list is narrowed to (empty: all).
    state: String,
    states: Vec<(String, String)>,
    /// An operator's sub-operators and distributors, to hand cards to.
    children: Vec<(String, String)>,
    /// May hand cards down and take them back (an operator).
    hands_down: bool,
    /// The keys of the e-PIN and e-top-up forms.
    reveal_key: String,
    sale_key: String,
    /// What the last move did.
    moved: Option<String>,
    f: Filled,
}

impl ShowsForm for HeldPage {
    fn filled(&mut self) -> &mut Filled {
        &mut self.f
    }

    fn tr(&self) -> Tr {
        self.ui.t
    }
}

/// The name of holder `id` as a holder's list shows it: "you", a child's name, a number.
fn holder_name(t: Tr, me: i64, children: &[User], id: Option<i64>) -> String {
    match id {
        Some(id) if id == me => t.t("cards.you").to_owned(),
        id => crate::page::lookup::user_name(children, id),
    }
}

async fn build(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    query: &CardsQuery,
) -> Result<HeldPage, OpError> {
    let ctx = state.ctx();
    let actor = &user.actor;
    let only = query.state()?;
    let link = match only {
        Some(s) => format!("/panel/cards?state={}", s.as_str()),
        None => "/panel/cards".to_owned(),
    };
    let ui = Ui::new(user, Section::Cards, headers, &link);
    let t = ui.t;
    let me = ops::card::distributor::me(&ctx, actor).await?;
    let tenant = actor.tenant_id.map(|id| id.0);
    let zone = Tenants::load(state, actor, tenant)
        .await?
        .zone(tenant.unwrap_or_default());
    let time = |at: Option<DateTime<Utc>>| input::local_time_text(at, zone);
    let list = list_page(&store::card::CARDS, CARD_PAGE, query.cursor.as_deref())?;
    let mine = CardQuery {
        state: only,
        ..CardQuery::default()
    };
    let found = ops::card::cards(&ctx, actor, &mine, &list).await?;
    let hands_down = matches!(
        card_reach(actor),
        Some(CardReach::Held { children: true, .. })
    );
    let children: Vec<User> = match tenant {
        Some(id) if hands_down => holders(state, actor, id)
            .await?
            .into_iter()
            .filter(|u| u.parent_id == Some(me.user_id))
            .collect(),
        _ => Vec::new(),
    };
    let rows = found
        .items
        .iter()
        .map(|c| HeldRow {
            serial: c.serial.clone(),
            state_code: c.state.code().to_owned(),
            state: state_name(t, c.state.code()),
            holder: holder_name(t, me.user_id, &children, c.holder_id),
            valid_until: time(c.valid_until),
            sold_at: time(c.sold_at),
            redeemed_at: time(c.redeemed_at),
            epin_key: (c.state.get() == CardState::Assigned
                && c.holder_id == Some(me.user_id)
                && c.sealed.is_some())
            .then(new_key),
        })
        .collect();
    let shown = BalanceShown::of(t, &me.account);
    let account = format!("{} · {}", shown.yours(t), shown.terms);
    Ok(HeldPage {
        account,
        name: me.name,
        role: t.t(&format!("role.{}", me.role)),
        stock: me
            .stock
            .into_iter()
            .map(|s| StockRow {
                package_id: s.package_id,
                package: s.package,
                state: state_name(t, &s.state),
                state_code: s.state,
                cards: s.cards,
            })
            .collect(),
        rows,
        total: ui::total(found.total, found.total_capped),
        pager: Pager::of_page(
            t,
            link,
            query.trail.as_deref(),
            query.cursor.as_deref(),
            &found,
            list.limit(),
        ),
        state: only.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        states: state_choices(t),
        children: holder_choices(t, &children),
        hands_down,
        reveal_key: new_key(),
        sale_key: new_key(),
        moved: moved_note(t, query.moved.as_deref()),
        f: Filled::new(),
        ui,
    })
}

/// A holder's page (`GET /panel/cards` for a card holder).
pub(super) async fn page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    query: &CardsQuery,
) -> Response {
    match build(state, user, headers, query).await {
        Ok(page) => render(&page),
        Err(error) => not_shown(user, headers, &error),
    }
}

/// A sale's answer as kept with its form's key: what its page shows again on a repeat.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "sold", rename_all = "snake_case")]
enum Kept {
    /// An e-PIN: the card and its PIN (the kept answer is sealed by the store).
    Pin {
        /// The card.
        serial: String,
        /// Its PIN as printed.
        pin: String,
    },
    /// An e-top-up.
    Sale {
        /// The card.
        serial: String,
        /// The customer's name, masked.
        customer: String,
        /// What the customer was charged, minor units of `currency`.
        amount: i64,
        currency: String,
        /// The customer's new expiry.
        expires_at: DateTime<Utc>,
        /// The receipt of the money taken.
        receipt_id: Option<i64>,
    },
}

/// Runs `sale` once for the key of `form`: a repeat with the same key and the same `what`
/// gets the first answer (waiting for it while the first still runs); the same key with
/// another `what` is refused. A refused sale keeps nothing, so the form may be sent again.
/// A form without a key (made by hand) just runs.
async fn once(
    state: &AppState,
    user: &PanelUser,
    form: &FormData,
    what: &str,
    sale: impl AsyncFnOnce() -> Result<Kept, OpError>,
) -> Result<Kept, OpError> {
    let Some(key) = key_of(form) else {
        return sale().await;
    };
    // The panel's keys apart from the API's, in the user's one table of keys.
    let key = format!("panel:{key}");
    let hash = hex::encode(Sha256::digest(what.as_bytes()));
    for _ in 0..LOOKS {
        let now = state.clock.now();
        match store::idempotency::claim(&state.db, user.actor.user_id, &key, &hash, now).await? {
            Claim::Reserved(id) => {
                let done = sale().await;
                let kept = match done.as_ref().map(serde_json::to_string) {
                    Ok(Ok(body)) => store::idempotency::finish(&state.db, id, 200, &body).await,
                    _ => store::idempotency::release(&state.db, id).await,
                };
                if let Err(error) = kept {
                    // The sale stands; only a repeat of its form would not find it.
                    tracing::error!(%error, "cannot keep a card sale's answer");
                }
                return done;
            }
            Claim::Replay { body, .. } => {
                return serde_json::from_str(&body).map_err(|e| OpError::Internal(e.to_string()));
            }
            Claim::Mismatch => return Err(OpError::KeyReused),
            Claim::InFlight => tokio::time::sleep(WAIT).await,
        }
    }
    Err(OpError::Busy)
}

/// A holder's refusal put beside `field` of its form: a card not its own is not found
/// there; the card's own errors (`pin`, `batch`) are the serial's.
fn beside(error: OpError, field: &str) -> OpError {
    match on_form(error, field) {
        OpError::NotFound => OpError::field(field, "not_found"),
        OpError::Invalid(errors) => OpError::Invalid(card_errors_beside(errors, field)),
        error => error,
    }
}

/// A sale made (or made before, with this form's key).
#[derive(Template)]
#[template(path = "card_sold.html")]
struct SoldPage {
    ui: Ui,
    serial: String,
    /// An e-PIN's PIN, to hand to the customer.
    pin: Option<String>,
    /// An e-top-up: the customer (masked), what it paid, its new expiry, the receipt.
    customer: String,
    amount: String,
    expires: String,
    receipt: Option<i64>,
}

/// The answer to a sale's form: the sale, or the page again with why it was refused.
async fn answer(state: &AppState, form: PanelForm, result: Result<Kept, OpError>) -> Response {
    let PanelForm {
        user,
        headers,
        form,
    } = form;
    let ui = Ui::new(&user, Section::Cards, &headers, "/panel/cards");
    let page = match result {
        Ok(Kept::Pin { serial, pin }) => SoldPage {
            ui,
            serial,
            pin: Some(pin),
            customer: String::new(),
            amount: String::new(),
            expires: String::new(),
            receipt: None,
        },
        Ok(Kept::Sale {
            serial,
            customer,
            amount,
            currency,
            expires_at,
            receipt_id,
        }) => {
            let tenant = user.actor.tenant_id.map(|id| id.0);
            let zone = match Tenants::load(state, &user.actor, tenant).await {
                Ok(tenants) => tenants.zone(tenant.unwrap_or_default()),
                Err(_) => chrono_tz::UTC,
            };
            SoldPage {
                ui,
                serial,
                pin: None,
                customer,
                amount: money_text(amount, digits_of(&currency), &currency),
                expires: input::local_time_text(Some(expires_at), zone),
                receipt: receipt_id,
            }
        }
        Err(OpError::Invalid(errors)) => {
            let page = build(state, &user, &headers, &CardsQuery::default()).await;
            return show_again(page, &user, &headers, &form, &errors);
        }
        Err(error) => return ui::op_error(&user, &headers, &error),
    };
    render(&page)
}

/// `POST /panel/cards/reveal`: an e-PIN sale of card `serial` of the holder's stock; the
/// answer shows its PIN, to hand to the customer.
pub(super) async fn reveal(State(state): State<AppState>, form: PanelForm) -> Response {
    let serial = form.form.text("serial").trim().to_owned();
    let what = format!("reveal\0{serial}");
    let (actor, author) = (&form.user.actor, form.user.author.clone());
    let result = once(&state, &form.user, &form.form, &what, async || {
        if serial.is_empty() {
            return Err(OpError::field("serial", "required"));
        }
        let (card, pin) = ops::card::distributor::reveal(&state.ctx(), actor, author, &serial)
            .await
            .map_err(|e| beside(e, "serial"))?;
        Ok(Kept::Pin {
            serial: card.serial,
            pin,
        })
    })
    .await;
    answer(&state, form, result).await
}

/// `POST /panel/cards/sales`: an e-top-up, card `sale_serial` of the holder's stock sold
/// to the customer found by `mobile` (or `customer_id`) among those of the reseller it
/// sells for; the answer says what the customer paid and its new expiry.
pub(super) async fn sell(State(state): State<AppState>, form: PanelForm) -> Response {
    let typed = &form.form;
    let serial = typed.text("sale_serial").trim().to_owned();
    let mobile = typed.opt("mobile").map(str::to_owned);
    let customer = typed.opt("customer_id").map(str::to_owned);
    let what = format!(
        "sale\0{serial}\0{}\0{}",
        mobile.as_deref().unwrap_or_default(),
        customer.as_deref().unwrap_or_default()
    );
    let (actor, author) = (&form.user.actor, form.user.author.clone());
    let result = once(&state, &form.user, typed, &what, async || {
        let mut errors = FieldErrors::new();
        if serial.is_empty() {
            errors.push(FieldError::new("sale_serial", "required"));
        }
        let customer_id = match input::number("customer_id", customer.as_deref().unwrap_or("")) {
            Ok(id) => id,
            Err(error) => {
                errors.push(error);
                None
            }
        };
        if mobile.is_none() && customer.is_none() {
            errors.push(FieldError::new("mobile", "required"));
        }
        if !errors.is_empty() {
            return Err(OpError::Invalid(errors));
        }
        let by_mobile = customer_id.is_none();
        let input = SaleInput {
            customer_id,
            mobile,
            serial,
        };
        let sale = ops::card::distributor::sell(&state.ctx(), actor, author, &input)
            .await
            .map_err(|e| beside(e, "sale_serial"))
            .map_err(|e| customer_beside_mobile(e, by_mobile))?;
        state.jobs_wake.notify_one();
        let r = sale.redeemed.recharge;
        Ok(Kept::Sale {
            serial: sale.redeemed.serial,
            customer: sale.customer,
            amount: r.amount,
            currency: r.currency,
            expires_at: r.expires_at,
            receipt_id: r.receipt_id,
        })
    })
    .await;
    answer(&state, form, result).await
}

/// A customer not found by the mobile typed is said beside the mobile.
fn customer_beside_mobile(error: OpError, by_mobile: bool) -> OpError {
    match error {
        OpError::Invalid(errors) if by_mobile => OpError::Invalid(FieldErrors(
            errors
                .0
                .into_iter()
                .map(|e| match e.field.as_str() {
                    "customer_id" => FieldError {
                        field: "mobile".to_owned(),
                        ..e
                    },
                    _ => e,
                })
                .collect(),
        )),
        error => error,
    }
}

/// `POST /panel/cards/move`: the serials typed (of the holder's reach) handed to one of an
/// operator's sub-operators or distributors, taken back, or marked sold; back to the page
/// saying how many moved. A move the holder may not make shows beside the form.
pub(super) async fn move_own(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let result = async {
        let action = action_of(&form)?;
        let typed = serials(&form, "serials");
        if typed.is_empty() {
            return Err(OpError::field("serials", "required"));
        }
        let selection = Selection {
            serials: typed,
            ..Selection::default()
        };
        let author = user.author.clone();
        ops::card::move_cards(&state.ctx(), &user.actor, author, &selection, action)
            .await
            .map_err(|e| on_form(e, "action"))
    };
    match result.await {
        Ok(moved) => Redirect::to(&format!("/panel/cards?moved={moved}")).into_response(),
        Err(OpError::Invalid(errors)) => {
            let page = build(&state, &user, &headers, &CardsQuery::default()).await;
            show_again(page, &user, &headers, &form, &errors)
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_sale_reads_back_as_it_was_kept() {
        let kept = Kept::Sale {
            serial: "B0001-000001".to_owned(),
            customer: "Ra*** Ud***".to_owned(),
            amount: 55_000,
            currency: "BDT".to_owned(),
            expires_at: DateTime::UNIX_EPOCH,
            receipt_id: Some(3),
        };
        let body = serde_json::to_string(&kept).unwrap_or_default();
        assert!(body.contains("\"sold\":\"sale\""), "{body}");
        let Ok(Kept::Sale { amount, .. }) = serde_json::from_str::<Kept>(&body) else {
            panic!("reads back: {body}");
        };
        assert_eq!(amount, 55_000);
    }

    #[test]
    fn a_card_not_its_own_is_not_found_beside_the_serial() {
        let OpError::Invalid(errors) = beside(OpError::NotFound, "serial") else {
            panic!("shown on the form");
        };
        assert_eq!(
            (errors.0[0].field.as_str(), errors.0[0].code),
            ("serial", "not_found")
        );
        let OpError::Invalid(errors) =
            customer_beside_mobile(OpError::field("customer_id", "not_found"), true)
        else {
            panic!("still a form mistake");
        };
        assert_eq!(errors.0[0].field, "mobile");
    }
}
