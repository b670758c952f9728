//! The payment card's form (`POST /panel/customers/{id}/payment`): a cash payment of what a
//! postpaid customer owes (all of it by default, or a part), taken with the key the page
//! drew so that a double submit takes it once; back to the page saying what it paid, with
//! the receipt's link. A refusal comes back on the page beside the card.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use super::money::currency_of;
use super::page::refused;
use crate::ledger::panel::{key_of, money_text, short_of_funds};
use crate::page::fallback::PageId;
use crate::page::form::{FormData, PanelForm};
use crate::page::input;
use crate::page::session::PanelUser;
use crate::page::ui;
use crate::state::AppState;
use domain::field::FieldErrors;
use ops::OpError;
use ops::payment::CashPayment;

/// `POST /panel/customers/{id}/payment`.
pub(super) async fn pay(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let digits = match currency_of(&state, &user.actor, id).await {
        Ok((digits, _)) => digits,
        Err(error) => return ui::op_error(&user, &headers, &error),
    };
    let amount = match input::amount("payment_amount", form.text("payment_amount"), digits) {
        Ok(amount) => amount.minor(),
        Err(error) => {
            let errors = FieldErrors::one(error);
            return refused(&state, &user, &headers, id, &form, &errors).await;
        }
    };
    let input = CashPayment {
        customer_id: id,
        amount,
        invoice_id: None,
    };
    let author = user.author.clone();
    match ops::payment::take_cash(&state.ctx(), &user.actor, author, &input, key_of(&form)).await {
        Ok(done) => {
            state.jobs_wake.notify_one();
            let receipt = done
                .receipt_id
                .map(|r| format!("&receipt={r}"))
                .unwrap_or_default();
            Redirect::to(&format!("/panel/customers/{id}?paid=1{receipt}")).into_response()
        }
        Err(error) => refusal(&state, &user, &headers, id, &form, error).await,
    }
}

/// The answer to a refused payment: the page with the reason beside the card, or back to
/// the page as it is now when it moved on.
async fn refusal(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    id: i64,
    form: &FormData,
    error: OpError,
) -> Response {
    let errors = match error {
        OpError::VersionMismatch | OpError::KeyReused => {
            return ui::redirect_with(&format!("/panel/customers/{id}"), "flash.stale");
        }
        OpError::Invalid(errors) => match currency_of(state, &user.actor, id).await {
            Ok((digits, currency)) => on_card(errors, digits, &currency),
            Err(error) => return ui::op_error(user, headers, &error),
        },
        OpError::InsufficientBalance { available } => {
            match currency_of(state, &user.actor, id).await {
                Ok((digits, currency)) => short_of_funds("payment", available, digits, &currency),
                Err(error) => return ui::op_error(user, headers, &error),
            }
        }
        other => return ui::op_error(user, headers, &other),
    };
    refused(state, user, headers, id, form, &errors).await
}

/// `errors` beside the payment card: the amount beside its field, the rest at its head;
/// an amount they name (what is due, in minor units) written in the currency.
fn on_card(errors: FieldErrors, digits: u16, currency: &str) -> FieldErrors {
    FieldErrors(
        errors
            .0
            .into_iter()
            .map(|mut e| {
                e.field = if e.field == "amount" {
                    "payment_amount".to_owned()
                } else {
                    "payment".to_owned()
                };
                for (name, value) in &mut e.params {
                    if *name == "due"
                        && let Ok(minor) = value.parse::<i64>()
                    {
                        *value = money_text(minor, digits, currency);
                    }
                }
                e
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::field::FieldError;

    #[test]
    fn refusals_land_on_the_card_with_amounts_in_the_currency() {
        let errors = FieldErrors(vec![
            FieldError::new("amount", "exceeds_due").with("due", 50_050),
            FieldError::new("customer_id", "not_postpaid"),
        ]);
        let placed = on_card(errors, 2, "BDT");
        assert_eq!(placed.0[0].field, "payment_amount");
        assert_eq!(placed.0[0].params, [("due", "500.50 BDT".to_owned())]);
        assert_eq!(placed.0[1].field, "payment");
    }
}
