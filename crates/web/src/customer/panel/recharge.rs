//! The recharge card's form (`POST /panel/customers/{id}/recharge`): read, then priced (the
//! customer's page again with the quote) or, confirmed with the key the page drew, paid
//! (back to the page saying until when the service now runs, with the receipt's link). A
//! refusal comes back on the page beside the card. It stands above the page (which shows
//! the card and the quote) and the card's parts (`money`).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use super::money::currency_of;
use super::page::{quoted, refused};
use crate::ledger::panel::{key_of, short_of_funds};
use crate::page::fallback::PageId;
use crate::page::form::{FormData, PanelForm};
use crate::page::input;
use crate::page::session::PanelUser;
use crate::page::ui;
use crate::state::AppState;
use domain::field::FieldErrors;
use ops::OpError;
use ops::billing::RechargeInput;

/// What the recharge form asks for, or why it cannot be read.
fn read(form: &FormData) -> Result<RechargeInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let days = errors.take(input::number("days", form.text("days")));
    let hours = errors.take(input::number("hours", form.text("hours")));
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(RechargeInput {
        package_id: input::id(form.opt("recharge_package")),
        days: days.flatten(),
        hours: hours.flatten(),
    })
}

/// `errors` beside the recharge card's fields: its package select is `recharge_package`
/// (the page's other package select is the change-package form's), and what concerns the
/// customer as a whole shows at the card's head.
fn on_card(errors: FieldErrors) -> FieldErrors {
    FieldErrors(
        errors
            .0
            .into_iter()
            .map(|mut e| {
                match e.field.as_str() {
                    "package_id" => e.field = "recharge_package".to_owned(),
                    "days" | "hours" => {}
                    _ => e.field = "recharge".to_owned(),
                }
                e
            })
            .collect(),
    )
}

/// `POST /panel/customers/{id}/recharge`: a preview (the page again with the quote) or,
/// with `step=confirm`, the recharge (back to the page saying until when it now runs).
pub(super) async fn recharge(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let input = match read(&form) {
        Ok(input) => input,
        Err(errors) => return refused(&state, &user, &headers, id, &form, &errors).await,
    };
    let ctx = state.ctx();
    // Anything but the quote's confirmation prices only: nothing is paid unseen.
    if form.get("step") != Some("confirm") {
        return match ops::billing::preview(&ctx, &user.actor, id, &input).await {
            Ok(outcome) => quoted(&state, &user, &headers, id, &form, &outcome).await,
            Err(error) => refusal(&state, &user, &headers, id, &form, error).await,
        };
    }
    let author = user.author.clone();
    let key = key_of(&form);
    match ops::billing::recharge(&ctx, &user.actor, author, id, &input, key).await {
        Ok(done) => {
            state.jobs_wake.notify_one();
            // The flash cookie carries only fixed messages; this one names the new expiry,
            // which the page reads from the customer as it now is, and links the receipt.
            let receipt = done
                .receipt_id
                .map(|r| format!("&receipt={r}"))
                .unwrap_or_default();
            Redirect::to(&format!("/panel/customers/{id}?recharged=1{receipt}")).into_response()
        }
        Err(error) => refusal(&state, &user, &headers, id, &form, error).await,
    }
}

/// The answer to a refused recharge: the page with the reason beside the card, back to
/// the page as it is now when it moved on (or the key already paid for another request),
/// or the error page.
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
        OpError::Invalid(errors) => errors,
        OpError::InsufficientBalance { available } => {
            match currency_of(state, &user.actor, id).await {
                Ok((digits, currency)) => short_of_funds("recharge", available, digits, &currency),
                Err(error) => return ui::op_error(user, headers, &error),
            }
        }
        other => return ui::op_error(user, headers, &other),
    };
    refused(state, user, headers, id, form, &on_card(errors)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::field::FieldError;

    #[test]
    fn refusals_land_beside_the_recharge_card_not_the_change_package_form() {
        let errors = FieldErrors(vec![
            FieldError::new("package_id", "not_usable"),
            FieldError::new("days", "out_of_range"),
            FieldError::new("customer", "customer_disabled"),
        ]);
        let fields: Vec<String> = on_card(errors).0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["recharge_package", "days", "recharge"]);
    }

    #[test]
    fn days_and_hours_left_empty_ask_for_one_whole_validity() {
        let form = FormData(vec![
            ("recharge_package".to_owned(), "7".to_owned()),
            ("days".to_owned(), " ".to_owned()),
            ("hours".to_owned(), String::new()),
        ]);
        let input = read(&form).unwrap();
        assert_eq!(
            (input.package_id, input.days, input.hours),
            (Some(7), None, None)
        );
        let bad = FormData(vec![("days".to_owned(), "two".to_owned())]);
        assert_eq!(read(&bad).unwrap_err().0[0].code, "invalid_number");
    }
}
