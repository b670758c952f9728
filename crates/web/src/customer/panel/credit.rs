//! The owner's forms on a monthly customer's page: a credit note on one of its open
//! invoices (`POST /panel/customers/{id}/credit`: the invoice, the amount, the reason; taken
//! with the key the page drew so that a double submit issues it once) and its own price
//! (`POST /panel/customers/{id}/custom-price`: an amount, or empty for its package's). Back
//! to the page saying what was done, or with the refusal beside the card.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use super::money::currency_of;
use super::page::refused;
use crate::ledger::panel::key_of;
use crate::page::fallback::PageId;
use crate::page::form::PanelForm;
use crate::page::input;
use crate::page::ui;
use crate::state::AppState;
use domain::field::{FieldError, FieldErrors};
use ops::OpError;

/// `POST /panel/customers/{id}/credit`.
pub(super) async fn credit_note(
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
    let mut errors = FieldErrors::new();
    let invoice = form.text("credit_invoice").trim().parse::<i64>().ok();
    if invoice.is_none() {
        errors.push(FieldError::new("credit_invoice", "required"));
    }
    let amount = errors.take(
        input::amount("credit_amount", form.text("credit_amount"), digits).map(|m| m.minor()),
    );
    let (Some(invoice), Some(amount)) = (invoice, amount) else {
        return refused(&state, &user, &headers, id, &form, &errors).await;
    };
    let author = user.author.clone();
    let done = ops::invoice::credit(
        &state.ctx(),
        &user.actor,
        author,
        invoice,
        amount,
        form.text("credit_reason"),
        key_of(&form),
    )
    .await;
    match done {
        Ok(done) => {
            state.jobs_wake.notify_one();
            let note = done.note.id;
            Redirect::to(&format!("/panel/customers/{id}?credited=1&note={note}")).into_response()
        }
        Err(OpError::VersionMismatch | OpError::KeyReused) => {
            ui::redirect_with(&format!("/panel/customers/{id}"), "flash.stale")
        }
        Err(OpError::Invalid(found)) => {
            let errors = FieldErrors(
                found
                    .0
                    .into_iter()
                    .map(|mut e| {
                        e.field = match e.field.as_str() {
                            "amount" => "credit_amount",
                            "reason" => "credit_reason",
                            _ => "credit",
                        }
                        .to_owned();
                        e.params.retain(|(name, _)| *name != "max");
                        e
                    })
                    .collect(),
            );
            refused(&state, &user, &headers, id, &form, &errors).await
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}

/// `POST /panel/customers/{id}/custom-price`.
pub(super) async fn custom_price(
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
    let text = form.text("custom_price").trim();
    let price = if text.is_empty() {
        None
    } else {
        match input::amount("custom_price", text, digits) {
            Ok(money) => Some(money.minor()),
            Err(error) => {
                let errors = FieldErrors::one(error);
                return refused(&state, &user, &headers, id, &form, &errors).await;
            }
        }
    };
    let Ok(version) = form.text("version").trim().parse::<i32>() else {
        return ui::redirect_with(&format!("/panel/customers/{id}"), "flash.stale");
    };
    let author = user.author.clone();
    match ops::billing::set_custom_price(&state.ctx(), &user.actor, author, id, version, price)
        .await
    {
        Ok(_) => Redirect::to(&format!("/panel/customers/{id}?priced=1")).into_response(),
        Err(OpError::VersionMismatch) => {
            ui::redirect_with(&format!("/panel/customers/{id}"), "flash.stale")
        }
        Err(OpError::Invalid(mut errors)) => {
            for e in &mut errors.0 {
                e.params.retain(|(name, _)| *name == "min");
                if e.code == "below_cost" {
                    e.params.clear();
                }
            }
            refused(&state, &user, &headers, id, &form, &errors).await
        }
        Err(error) => ui::op_error(&user, &headers, &error),
    }
}
