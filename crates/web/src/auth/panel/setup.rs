//! The first account, through the one-time setup link the server prints.

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::signin::start_session;
use crate::http::client::ClientIp;
use crate::page::form::FormData;
use crate::page::ui::{self, Section, Ui, field_messages, render};
use crate::state::AppState;
use ops::OpError;
use ops::auth::{self as signin, Verified, token};
use store::auth::Stage;

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    ui: Ui,
    token: String,
    email: String,
    name: String,
    errors: Vec<(String, String)>,
}

impl SetupPage {
    fn error(&self, field: &str) -> String {
        ui::message_for(&self.errors, field)
    }
}

/// True if `token` is the live setup link's.
fn setup_valid(state: &AppState, token: &str) -> bool {
    let setup = state.setup.lock().unwrap_or_else(|p| p.into_inner());
    setup.as_ref().is_some_and(|link| {
        token::same(&link.token_hash, &token::hash(token)) && link.expires_at > state.clock.now()
    })
}

pub(super) async fn setup_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = ui::language_of(&headers);
    if !setup_valid(&state, &token) {
        return ui::plain_error(lang, StatusCode::NOT_FOUND, "error.not_found");
    }
    render(&SetupPage {
        ui: Ui::public(lang, &headers, "/panel"),
        token,
        email: String::new(),
        name: String::new(),
        errors: Vec::new(),
    })
}

pub(super) async fn setup(
    State(state): State<AppState>,
    Path(setup_token): Path<String>,
    request: Request,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let form = match FormData::from_request(Request::from_parts(parts.clone(), body), &state).await
    {
        Ok(form) => form,
        Err(response) => return response,
    };
    let lang = ui::language(&parts);
    if !setup_valid(&state, &setup_token) {
        return ui::plain_error(lang, StatusCode::NOT_FOUND, "error.not_found");
    }
    let ClientIp(ip) = ClientIp::from_request_parts(&mut parts, &state)
        .await
        .unwrap_or(ClientIp([127, 0, 0, 1].into()));
    let author = store::Author::system("setup-link");
    let created = signin::create_developer(
        &state.ctx(),
        author,
        form.text("email"),
        form.text("name"),
        form.text("password"),
    )
    .await;
    match created {
        Ok(user) => {
            // The link is used up.
            *state.setup.lock().unwrap_or_else(|p| p.into_inner()) = None;
            let holder = store::auth::Holder { user, tenant: None };
            let Ok(actor) = signin::actor_of(&holder) else {
                return ui::plain_error(lang, StatusCode::INTERNAL_SERVER_ERROR, "error.internal");
            };
            let verified = Verified { holder, actor };
            start_session(&state, &parts, ip, &verified, Stage::Full, "/panel").await
        }
        Err(OpError::Invalid(errors)) => {
            let ui = Ui::public(lang, &parts.headers, "/panel");
            let errors = field_messages(ui.t, &errors);
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&SetupPage {
                    ui,
                    token: setup_token,
                    email: form.text("email").to_owned(),
                    name: form.text("name").to_owned(),
                    errors,
                }),
            )
                .into_response()
        }
        Err(OpError::Busy) => ui::plain_error(lang, StatusCode::SERVICE_UNAVAILABLE, "error.busy"),
        Err(_) => ui::plain_error(lang, StatusCode::INTERNAL_SERVER_ERROR, "error.internal"),
    }
}
