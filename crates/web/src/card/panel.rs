//! The panel's Cards pages (`/panel/cards`): recharge cards and access vouchers as those
//! who run a tenant's stock see them, and as a card holder (a card distributor, or a
//! reseller holding cards) sees its own. `GET /panel/cards` is one or the other, by what
//! `domain::access::card_reach` gives the user.
//!
//! - The stock ([`stock`], `CardReach::Stock`): the tenant's batches with their counts by
//!   state, and a form that makes one; a batch that does not keep its PINs shows them on
//!   the answer to that form, the only time they are ever seen. A batch's page lists its
//!   cards (never their PINs), links the printable sheet when the batch keeps its PINs,
//!   and moves its cards (all of them, or the serials typed): hand out, take back, mark
//!   sold, suspend, resume, void.
//! - A holder's own ([`held`], `CardReach::Held`): its stock by package and state, its
//!   cards, and a sale: an e-PIN (the PIN shown, to hand to the customer) or an e-top-up
//!   for a customer found by mobile; an operator also hands its cards to its
//!   sub-operators and distributors and takes them back.
//!
//! Every rule is `ops::card`'s (who may, which cards move, the audit); this module reads
//! the forms, picks the tenant (a platform user names it, `?tenant_id=`, or gets its first
//! one), and shows the answers. The API is `card::api` and `card::distributor`; the sheet
//! is `card::print`.

mod held;
mod stock;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use crate::i18n::Tr;
use crate::page::form::FormData;
use crate::page::input;
use crate::page::lookup::{self, Choice, SELECT_LIMIT};
use crate::page::session::PanelUser;
use crate::page::ui;
use crate::state::AppState;
use domain::access::{Actor, CardReach, Role, card_reach, holds_cards};
use domain::card::{Kind, State as CardState};
use domain::field::{FieldError, FieldErrors};
use domain::ids::TenantId;
use ops::OpError;
use store::list::PageRequest;
use store::user::User;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/cards", get(page))
        .route("/panel/cards/batches", post(stock::create))
        .route("/panel/cards/batches/{id}", get(stock::batch))
        .route("/panel/cards/batches/{id}/move", post(stock::move_batch))
        .route("/panel/cards/move", post(held::move_own))
        .route("/panel/cards/reveal", post(held::reveal))
        .route("/panel/cards/sales", post(held::sell))
}

/// The query of the Cards page and a batch's page.
#[derive(Debug, Default, Deserialize)]
struct CardsQuery {
    /// The tenant a platform user looks at.
    #[serde(alias = "tenant")]
    tenant_id: Option<String>,
    /// A holder's list: only cards in this state.
    state: Option<String>,
    /// The list's page.
    cursor: Option<String>,
    /// The cursors of the pages before it (`ui::Pager::keyset`).
    trail: Option<String>,
    /// How many cards the last move moved.
    moved: Option<String>,
}

impl CardsQuery {
    /// The tenant named, if any.
    fn tenant(&self) -> Option<i64> {
        input::id(self.tenant_id.as_deref())
    }

    /// A holder's state filter, if one was chosen; a state that is none is refused.
    fn state(&self) -> Result<Option<CardState>, OpError> {
        match self
            .state
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(None),
            Some(text) => CardState::parse(text)
                .map(Some)
                .ok_or_else(|| OpError::field("state", "invalid")),
        }
    }
}

/// `GET /panel/cards`: the stock for those who run it, a holder's own cards for a holder.
async fn page(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
    Query(query): Query<CardsQuery>,
) -> Response {
    match card_reach(&user.actor) {
        Some(CardReach::Stock { .. }) => stock::page(&state, &user, &headers, &query).await,
        Some(CardReach::Held { .. }) => held::page(&state, &user, &headers, &query).await,
        None => ui::op_error(&user, &headers, &OpError::Forbidden),
    }
}

/// The answer to a page that could not be built: a list address that does not read (a
/// cursor or filter made by hand) is a bad list; anything else is the error's page.
fn not_shown(user: &PanelUser, headers: &HeaderMap, error: &OpError) -> Response {
    match error {
        OpError::Invalid(_) => {
            ui::error_page(user, headers, StatusCode::BAD_REQUEST, "error.bad_list")
        }
        error => ui::op_error(user, headers, error),
    }
}

/// A page of `spec`'s list of `limit` rows from `cursor`.
fn list_page<E: store::list::EntityTrait>(
    spec: &store::list::ListSpec<E>,
    limit: u64,
    cursor: Option<&str>,
) -> Result<PageRequest, OpError> {
    PageRequest::parse(spec, None, Some(limit), cursor.filter(|c| !c.is_empty()))
        .map_err(OpError::Invalid)
}

/// The tenant a page is about: the one named, else the user's own, else (a platform user)
/// the first it may pick; `None` when there is none.
fn chosen(actor: &Actor, named: Option<i64>, tenants: &[Choice]) -> Option<i64> {
    named
        .or(actor.tenant_id.map(|t| t.0))
        .or_else(|| tenants.first().and_then(|(id, _)| id.parse().ok()))
}

/// A state's name, translated (a state unknown here as stored).
fn state_name(t: Tr, code: &str) -> String {
    match CardState::parse(code) {
        Some(s) => t.t(&format!("cards.state_{}", s.as_str())).to_owned(),
        None => code.to_owned(),
    }
}

/// A kind's name, translated.
fn kind_name(t: Tr, kind: Kind) -> &'static str {
    t.t(&format!("cards.kind_{}", kind.as_str()))
}

/// A batch as its serials begin: `B0007`.
fn batch_label(id: i64) -> String {
    let first = domain::card::serial(id, 1);
    first
        .split_once('-')
        .map_or_else(|| first.clone(), |(label, _)| label.to_owned())
}

/// The states a holder's list may be narrowed to, as choices.
fn state_choices(t: Tr) -> Vec<Choice> {
    CardState::ALL
        .iter()
        .filter(|s| **s != CardState::Draft)
        .map(|s| (s.as_str().to_owned(), state_name(t, s.as_str())))
        .collect()
}

/// The serials typed into `field`, one a line (spaces and commas separate them too).
fn serials(form: &FormData, field: &str) -> Vec<String> {
    form.text(field)
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The move a form's `action` button names (`holder_id` for a hand-out).
fn action_of(form: &FormData) -> Result<ops::card::CardAction, OpError> {
    use ops::card::CardAction;
    Ok(match form.text("action") {
        "assign" => match input::id(form.get("holder_id")) {
            Some(holder) => CardAction::Assign(holder),
            None => return Err(OpError::field("holder_id", "required")),
        },
        "unassign" => CardAction::Unassign,
        "sell" => CardAction::Sell,
        "suspend" => CardAction::Suspend,
        "resume" => CardAction::Resume,
        "void" => CardAction::Void,
        _ => return Err(OpError::field("action", "invalid")),
    })
}

/// A refusal a form shows beside its `field`: a move or a sale the user may not make, a
/// balance that cannot pay; other errors stay what they are.
fn on_form(error: OpError, field: &str) -> OpError {
    match error {
        OpError::Forbidden => OpError::field(field, "forbidden"),
        OpError::InsufficientBalance { .. } => OpError::field(field, "insufficient_balance"),
        error => error,
    }
}

/// `errors` with those of the card (`pin`, `batch`, `serial`) put beside `field`.
fn card_errors_beside(errors: FieldErrors, field: &str) -> FieldErrors {
    FieldErrors(
        errors
            .0
            .into_iter()
            .map(|e| match e.field.as_str() {
                "pin" | "batch" | "serial" => FieldError {
                    field: field.to_owned(),
                    ..e
                },
                _ => e,
            })
            .collect(),
    )
}

/// What the page says after a move: how many cards moved (a count that is none, from an
/// address made by hand, says nothing).
fn moved_note(t: Tr, moved: Option<&str>) -> Option<String> {
    let n: u64 = moved?.trim().parse().ok()?;
    Some(t.t1("cards.moved", "n", &n.to_string()))
}

/// The active users of `tenant` who may hold cards (operators, sub-operators, card
/// distributors) that `actor` sees; for a hand-out's select and a list's holder names.
async fn holders(state: &AppState, actor: &Actor, tenant: i64) -> Result<Vec<User>, OpError> {
    let mut found = Vec::new();
    for role in [Role::Operator, Role::SubOperator, Role::CardDistributor] {
        let page =
            PageRequest::first(&store::user::LIST, SELECT_LIMIT).map_err(OpError::Invalid)?;
        found.extend(
            ops::card::holders_to_name(&state.ctx(), actor, TenantId(tenant), role, &page)
                .await?
                .items,
        );
    }
    Ok(found)
}

/// Holders as select choices: `Name · Role`.
fn holder_choices(t: Tr, users: &[User]) -> Vec<Choice> {
    users
        .iter()
        .filter(|u| Role::from_level(u.role).is_some_and(holds_cards))
        .map(|u| (u.id.to_string(), lookup::reseller_label(t, u)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> FormData {
        FormData(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_batch_is_named_as_its_serials_begin() {
        assert_eq!(batch_label(7), "B0007");
        assert_eq!(batch_label(12345), "B12345");
    }

    #[test]
    fn serials_are_read_one_a_line_whatever_separates_them() {
        let form = posted(&[("serials", " B0001-000001\r\nB0001-000002, B0001-000003\n\n")]);
        assert_eq!(
            serials(&form, "serials"),
            ["B0001-000001", "B0001-000002", "B0001-000003"]
        );
        assert!(serials(&form, "other").is_empty());
    }

    #[test]
    fn a_hand_out_needs_a_holder_and_an_unknown_action_is_refused() {
        use ops::card::CardAction;
        let assign = posted(&[("action", "assign"), ("holder_id", "7")]);
        assert_eq!(action_of(&assign).ok(), Some(CardAction::Assign(7)));
        let Err(OpError::Invalid(errors)) = action_of(&posted(&[("action", "assign")])) else {
            panic!("a hand-out without a holder is a form mistake");
        };
        assert_eq!(errors.0[0].field, "holder_id");
        assert!(action_of(&posted(&[("action", "burn")])).is_err());
        assert_eq!(
            action_of(&posted(&[("action", "void")])).ok(),
            Some(CardAction::Void)
        );
    }

    #[test]
    fn a_refused_sale_is_said_beside_the_serial_it_was_about() {
        let refused = FieldErrors(vec![
            FieldError::new("pin", "invalid_card"),
            FieldError::new("mobile", "invalid_mobile"),
        ]);
        let moved = card_errors_beside(refused, "sale_serial");
        assert_eq!(moved.0[0].field, "sale_serial");
        assert_eq!(moved.0[1].field, "mobile");
        let OpError::Invalid(errors) = on_form(OpError::Forbidden, "action") else {
            panic!("a forbidden move is shown on its form");
        };
        assert_eq!(
            (errors.0[0].field.as_str(), errors.0[0].code),
            ("action", "forbidden")
        );
        assert!(matches!(
            on_form(OpError::NotFound, "action"),
            OpError::NotFound
        ));
    }
}
