//! The online payment card's form (`POST /panel/customers/{id}/online`): starts a payment of
//! what the customer owes (or one validity of its package) through one of the tenant's
//! merchant accounts, and comes back to the page with the provider's checkout to open or
//! send to the customer. Settling waits for the provider (`ops::gateway`).

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use crate::billing::online::{StartError, start};
use crate::page::fallback::PageId;
use crate::page::form::PanelForm;
use crate::page::input;
use crate::page::ui;
use crate::state::AppState;
use ops::gateway::IntentInput;

/// `POST /panel/customers/{id}/online`.
pub(super) async fn pay_online(
    State(state): State<AppState>,
    PageId(id): PageId,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let Some(account) = input::id(form.opt("gateway_account_id")) else {
        return ui::redirect_with(&format!("/panel/customers/{id}"), "flash.online_failed");
    };
    let input = IntentInput {
        customer_id: id,
        gateway_account_id: account,
    };
    let author = user.author.clone();
    match start(&state, &user.actor, author, input, &headers).await {
        Ok(intent) => {
            Redirect::to(&format!("/panel/customers/{id}?checkout={}", intent.id)).into_response()
        }
        Err(StartError::Gateway | StartError::Op(ops::OpError::Invalid(_))) => {
            ui::redirect_with(&format!("/panel/customers/{id}"), "flash.online_failed")
        }
        Err(StartError::Op(error)) => ui::op_error(&user, &headers, &error),
    }
}
