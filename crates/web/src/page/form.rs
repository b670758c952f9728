//! HTML form bodies: read as name/value pairs (a name may repeat, as checkboxes do); a
//! signed-in user's form with its CSRF token checked before the handler runs
//! ([`PanelForm`]); and forms as shown again ([`Filled`]).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::session::PanelUser;
use super::ui;
use crate::i18n::Tr;
use crate::state::AppState;
use domain::field::FieldErrors;
use ops::OpError;
use ops::auth::token;

/// A form posted by a signed-in panel user, its CSRF token checked: a handler that takes one
/// cannot forget the check. A missing or wrong token answers 403 with the panel's error page
/// before the handler runs; no session redirects to the sign-in page as [`PanelUser`] does.
#[derive(Debug)]
pub struct PanelForm {
    /// Who posted it.
    pub user: PanelUser,
    /// The request's headers (language, where the page is shown).
    pub headers: HeaderMap,
    /// What was posted.
    pub form: FormData,
}

impl FromRequest<AppState> for PanelForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let user = PanelUser::from_request_parts(&mut parts, state).await?;
        let headers = parts.headers.clone();
        let form = FormData::from_request(Request::from_parts(parts, body), state).await?;
        if !token::same(form.text("_csrf"), &user.csrf) {
            let refused = ui::error_page(&user, &headers, StatusCode::FORBIDDEN, "error.csrf");
            return Err(refused);
        }
        Ok(PanelForm {
            user,
            headers,
            form,
        })
    }
}

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
}

/// A page showing a form, which [`show_again`] can show again after a refusal.
pub trait ShowsForm: Template {
    /// Checkboxes, cleared when a submitted form does not send them.
    const CHECKBOXES: &'static [&'static str] = &[];
    /// Fields never shown again once typed (passwords).
    const SECRETS: &'static [&'static str] = &[];
    /// The form as the page shows it.
    fn filled(&mut self) -> &mut Filled;
    /// The page's language.
    fn tr(&self) -> Tr;
}

/// The page again after a refused form (422): what was typed, each refused field's message
/// beside it; or the error that kept the page from being built.
pub fn show_again<P: ShowsForm>(
    page: Result<P, OpError>,
    user: &PanelUser,
    headers: &HeaderMap,
    form: &FormData,
    errors: &FieldErrors,
) -> Response {
    let mut page = match page {
        Ok(page) => page,
        Err(error) => return ui::op_error(user, headers, &error),
    };
    let messages = ui::field_messages(page.tr(), errors);
    let filled = std::mem::take(page.filled());
    let mut filled = filled.refill(form, P::CHECKBOXES).with_errors(messages);
    for secret in P::SECRETS {
        filled.set(secret, "");
    }
    *page.filled() = filled;
    (StatusCode::UNPROCESSABLE_ENTITY, ui::render(&page)).into_response()
}

/// Answers a delete (an archive) from the panel: to the list `list` saying so; when
/// refused for reasons a page shows (a pool still in use), `refused` shows them; any other
/// error on the error page.
pub async fn archived<T>(
    result: Result<T, OpError>,
    user: &PanelUser,
    headers: &HeaderMap,
    list: &str,
    refused: impl AsyncFnOnce(FieldErrors) -> Response,
) -> Response {
    match result {
        Ok(_) => ui::redirect_with(list, "flash.deleted"),
        Err(OpError::Invalid(errors)) => refused(errors).await,
        Err(error) => ui::op_error(user, headers, &error),
    }
}

/// A form as shown: each field's text (from the stored record, then what was typed) and the
/// messages of refused fields. A field may hold several values, as a group of checkboxes
/// sharing a name does. Templates read it as `f.v("name")`, `f.is("name", value)`,
/// `f.has("name", value)`, `f.checked("name")` and `f.error("name")`.
#[derive(Debug, Default, Clone)]
pub struct Filled {
    values: BTreeMap<String, Vec<String>>,
    errors: Vec<(String, String)>,
}

impl Filled {
    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a field's text.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.values.insert(name.to_owned(), vec![value.into()]);
    }

    /// The same form with a field's text set.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.set(name, value);
        self
    }

    /// The same form with every value of a repeated field (the ticked boxes of a group).
    #[must_use]
    pub fn with_all<V: Into<String>>(
        mut self,
        name: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let values = values.into_iter().map(Into::into).collect();
        self.values.insert(name.to_owned(), values);
        self
    }

    /// A field's text (its first value), empty when unset.
    pub fn v(&self, name: &str) -> &str {
        self.values
            .get(name)
            .and_then(|values| values.first())
            .map_or("", String::as_str)
    }

    /// True when the field holds `value` (for selects).
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.v(name) == value
    }

    /// True when any value of a repeated field is `value` (for a group of checkboxes).
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.values
            .get(name)
            .is_some_and(|values| values.iter().any(|v| v == value))
    }

    /// True when a checkbox is ticked.
    pub fn checked(&self, name: &str) -> bool {
        matches!(self.v(name), "on" | "true" | "1")
    }

    /// Takes what was typed into the submitted form, keeping the other fields; a name sent
    /// several times keeps every value. `checkboxes` are cleared when the form did not send
    /// them (an unticked box sends nothing); a form that sent nothing at all (the page shown
    /// again after another of its forms was refused) clears none.
    #[must_use]
    pub fn refill(mut self, form: &FormData, checkboxes: &[&str]) -> Self {
        if !form.0.is_empty() {
            for name in checkboxes {
                self.values.remove(*name);
            }
        }
        let mut sent: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (name, value) in &form.0 {
            if name != "_csrf" && name != "version" {
                sent.entry(name).or_default().push(value.clone());
            }
        }
        for (name, values) in sent {
            self.values.insert(name.to_owned(), values);
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
    fn a_repeated_name_keeps_every_value_it_was_sent() {
        let stored = Filled::new().with_all("permissions", ["view_users", "view_audit"]);
        let form = posted(&[
            ("_csrf", "t"),
            ("permissions", "manage_users"),
            ("permissions", "view_customers"),
        ]);
        let shown = stored.refill(&form, &["permissions"]);
        assert!(shown.has("permissions", "manage_users"));
        assert!(shown.has("permissions", "view_customers"));
        assert!(!shown.has("permissions", "view_users"), "unticked since");
        assert_eq!(shown.v("permissions"), "manage_users");
        assert!(!shown.has("_csrf", "t"));
    }

    #[test]
    fn checkboxes_a_form_did_not_send_are_cleared_unless_it_sent_nothing() {
        let stored = Filled::new()
            .with("name", "Dhaka")
            .with_all("permissions", ["view_users"]);
        let unticked = stored
            .clone()
            .refill(&posted(&[("_csrf", "t")]), &["permissions"]);
        assert!(!unticked.has("permissions", "view_users"));
        assert_eq!(unticked.v("name"), "Dhaka", "a field not sent stays");
        let untouched = stored.refill(&FormData::default(), &["permissions"]);
        assert!(untouched.has("permissions", "view_users"));
    }
}
