//! What the panel answers for a URL it has no page for: its own error page (in the visitor's
//! language, with the navigation when signed in), never raw text or JSON; and for a GET of
//! a URL that only takes a form's POST (an action like `/panel/customers/7/suspend`, reached
//! by a reload, a bookmark or a restored tab), the page the action belongs to.
//! Also the panel's `{id}` path extractor, which answers a malformed id with the same
//! not-found page.

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::session::PanelUser;
use super::ui;
use crate::state::AppState;

/// A URL the panel has no page for.
pub async fn not_found(State(state): State<AppState>, request: Request) -> Response {
    refuse(&state, request, StatusCode::NOT_FOUND, "error.not_found").await
}

/// A URL the panel has, but not for this method: a GET goes to the page the action belongs
/// to; anything else is refused on the panel's error page.
pub async fn wrong_method(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if matches!(*request.method(), Method::GET | Method::HEAD) && path.starts_with("/panel/") {
        let parent = path.rsplit_once('/').map_or("/panel", |(parent, _)| parent);
        let parent = if parent.is_empty() { "/panel" } else { parent };
        return Redirect::to(parent).into_response();
    }
    refuse(
        &state,
        request,
        StatusCode::METHOD_NOT_ALLOWED,
        "error.method",
    )
    .await
}

async fn refuse(
    state: &AppState,
    request: Request,
    status: StatusCode,
    key: &'static str,
) -> Response {
    let lang = ui::language_of(request.headers());
    let (mut parts, _) = request.into_parts();
    // A signed-in visitor keeps the navigation; anyone else gets the bare page (the
    // session extractor's redirect to the sign-in page is not wanted here).
    if ui::cookie(&parts, super::session::COOKIE).is_some()
        && let Ok(user) = PanelUser::from_request_parts(&mut parts, state).await
    {
        return ui::error_page(&user, &parts.headers, status, key);
    }
    ui::plain_error(lang, status, key)
}

/// A record id from a panel path: a positive integer, or the panel's not-found page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for PageId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<i64>::from_request_parts(parts, state).await {
            Ok(Path(id)) if id > 0 => Ok(PageId(id)),
            _ => Err(ui::plain_error(
                ui::language_of(&parts.headers),
                StatusCode::NOT_FOUND,
                "error.not_found",
            )),
        }
    }
}
