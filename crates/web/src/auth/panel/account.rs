//! The signed-in user's account page: its password and TOTP enrolment.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::page::form::PanelForm;
use crate::page::session::PanelUser;
use crate::page::ui::{self, Section, Ui, field_messages, render};
use crate::state::AppState;
use ops::OpError;
use ops::auth as signin;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    ui: Ui,
    email: String,
    totp_enabled: bool,
    enrolment: Option<signin::Enrolment>,
    errors: Vec<(String, String)>,
}

impl AccountPage {
    fn error(&self, field: &str) -> String {
        ui::message_for(&self.errors, field)
    }
}

async fn account_page(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    errors: Vec<(String, String)>,
) -> Response {
    let fresh = store::user::find_self(state.db.conn(), user.actor.user_id)
        .await
        .ok()
        .flatten();
    let Some(fresh) = fresh else {
        return ui::error_page(user, headers, StatusCode::NOT_FOUND, "error.not_found");
    };
    // A pending enrolment (secret stored, not yet confirmed) is shown again until confirmed.
    let enrolment = match (&fresh.totp_secret, fresh.totp_enabled) {
        (Some(sealed), false) => state
            .db
            .keyring()
            .open("staff_user.totp_secret", sealed)
            .ok()
            .map(|secret| {
                let uri = signin::totp::uri(&secret, &fresh.email);
                signin::Enrolment {
                    secret: signin::totp::base32(&secret),
                    qr_svg: signin::totp::qr_svg(&uri).unwrap_or_default(),
                    uri,
                }
            }),
        _ => None,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = AccountPage {
        ui: Ui::new(user, Section::Account, headers, "/panel/account"),
        email: fresh.email.clone(),
        totp_enabled: fresh.totp_enabled,
        enrolment,
        errors,
    };
    (status, render(&page)).into_response()
}

pub(super) async fn account(
    State(state): State<AppState>,
    user: PanelUser,
    headers: HeaderMap,
) -> Response {
    account_page(&state, &user, &headers, Vec::new()).await
}

/// Runs an account change and answers with a redirect or the page with its errors.
async fn account_result(
    state: &AppState,
    user: &PanelUser,
    headers: &HeaderMap,
    result: Result<(), OpError>,
    done: &'static str,
) -> Response {
    match result {
        Ok(()) => ui::redirect_with("/panel/account", done),
        Err(OpError::Invalid(errors)) => {
            let messages = field_messages(crate::i18n::Tr { lang: user.lang }, &errors);
            account_page(state, user, headers, messages).await
        }
        Err(error) => ui::op_error(user, headers, &error),
    }
}

pub(super) async fn change_password(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let result = signin::change_password(
        &state.ctx(),
        &user.actor,
        user.author.clone(),
        form.text("current_password"),
        form.text("new_password"),
        &store::user::Keep {
            session: Some(user.session_id.clone()),
            token: None,
        },
    )
    .await;
    account_result(&state, &user, &headers, result, "flash.password_changed").await
}

pub(super) async fn start_totp(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form: _,
    }: PanelForm,
) -> Response {
    match signin::start_totp(&state.ctx(), &user.actor, user.author.clone()).await {
        Ok(_) => Redirect::to("/panel/account").into_response(),
        Err(error) => account_result(&state, &user, &headers, Err(error), "flash.saved").await,
    }
}

pub(super) async fn confirm_totp(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let result = signin::confirm_totp(
        &state.ctx(),
        &user.actor,
        user.author.clone(),
        form.text("code"),
    )
    .await;
    account_result(&state, &user, &headers, result, "flash.totp_enabled").await
}

pub(super) async fn disable_totp(
    State(state): State<AppState>,
    PanelForm {
        user,
        headers,
        form,
    }: PanelForm,
) -> Response {
    let result = signin::disable_totp(
        &state.ctx(),
        &user.actor,
        user.author.clone(),
        form.text("password"),
    )
    .await;
    account_result(&state, &user, &headers, result, "flash.totp_disabled").await
}
