//! HTML form bodies: read as name/value pairs (a name may repeat, as checkboxes do), with
//! the CSRF token checked before anything else.

use axum::extract::{Form, FromRequest, Request};

use super::session::PanelUser;
use super::ui;
use crate::auth::token;

/// A submitted form.
#[derive(Debug, Default, Clone)]
pub struct FormData(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = axum::response::Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let lang = ui::language_of(request.headers());
        match Form::<Vec<(String, String)>>::from_request(request, state).await {
            Ok(Form(pairs)) => Ok(FormData(pairs)),
            Err(rejection) => Err(ui::plain_error(lang, rejection.status(), "error.bad_form")),
        }
    }
}

impl FormData {
    /// The first value of `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, or the empty string.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// The value of `name` when it is not blank.
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// True if the form's CSRF token is the session's.
    pub fn csrf_ok(&self, user: &PanelUser) -> bool {
        token::same(self.text("_csrf"), &user.csrf)
    }
}
