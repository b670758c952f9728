//! HTML form bodies: read as name/value pairs (a name may repeat, as checkboxes do), with
//! the CSRF token checked before anything else; and forms as shown again ([`Filled`]).

use std::collections::BTreeMap;

use axum::extract::{Form, FromRequest, Request};

use super::session::PanelUser;
use super::ui;
use ops::auth::token;

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

/// A form as shown: each field's text (from the stored record, then what was typed) and the
/// messages of refused fields. Templates read it as `f.v("name")` and `f.error("name")`.
#[derive(Debug, Default, Clone)]
pub struct Filled {
    values: BTreeMap<String, String>,
    errors: Vec<(String, String)>,
}

impl Filled {
    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a field's text.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.values.insert(name.to_owned(), value.into());
    }

    /// The same form with a field's text set.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.set(name, value);
        self
    }

    /// A field's text, empty when unset.
    pub fn v(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    /// True when the field holds `value` (for selects).
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.v(name) == value
    }

    /// True when a checkbox is ticked.
    pub fn checked(&self, name: &str) -> bool {
        matches!(self.v(name), "on" | "true" | "1")
    }

    /// Takes what was typed into the submitted form, keeping the other fields; `checkboxes`
    /// are cleared when the form did not send them (an unticked box sends nothing).
    #[must_use]
    pub fn refill(mut self, form: &FormData, checkboxes: &[&str]) -> Self {
        for name in checkboxes {
            self.values.remove(*name);
        }
        for (name, value) in &form.0 {
            if name != "_csrf" && name != "version" {
                self.values.insert(name.clone(), value.clone());
            }
        }
        self
    }

    /// The same form showing `errors`.
    #[must_use]
    pub fn with_errors(mut self, errors: Vec<(String, String)>) -> Self {
        self.errors = errors;
        self
    }

    /// True when a field was refused.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The messages for `field`, joined.
    pub fn error(&self, field: &str) -> String {
        super::ui::message_for(&self.errors, field)
    }
}
