//! The one page of the customer's own site (`my.html`): light, mobile-first, Bangla or
//! English, no script. A view names what it shows: `login`, `code`, `home`, `bills`,
//! `password`, `paid`; each fills its part of [`MyPage`].

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::i18n::{Lang, Tr};
use ops::OpError;

/// A row of a list: `(label, value)`.
pub type Fact = (String, String);

/// A document or payment row: `(when, what, amount, link)`.
pub type BillRow = (String, String, String, Option<String>);

#[derive(Template, Default)]
#[template(path = "my.html")]
pub struct MyPage {
    pub t: Tr,
    /// The ISP's realm: every link starts `/my/{isp}`.
    pub isp: String,
    /// The ISP's name.
    pub tenant: String,
    pub view: &'static str,
    /// The form's CSRF token (the session's, or the sign-in cookie's).
    pub csrf: String,
    /// A refusal, read out.
    pub error: String,
    /// A confirmation, read out.
    pub notice: String,
    /// Signed in: the customer's name and user name.
    pub name: String,
    pub username: String,
    /// The customer's facts: package, state, expiry, time and volume left.
    pub facts: Vec<Fact>,
    /// The live sessions: `(since, address, down, up)`.
    pub live: Vec<(String, String, String, String)>,
    /// The period's usage line.
    pub usage: String,
    /// The graph's period.
    pub period: &'static str,
    /// Whether the customer may pay online.
    pub pays_online: bool,
    /// Other accounts on the proved mobile: `(id, user name)`.
    pub accounts: Vec<(i64, String)>,
    /// Documents and payments.
    pub documents: Vec<BillRow>,
    pub payments: Vec<BillRow>,
    /// The mobile a code went to.
    pub mobile: String,
    /// The payment page looks again in a few seconds.
    pub refresh: bool,
}

impl MyPage {
    /// A page of `view` for the ISP at `isp`.
    pub fn new(lang: Lang, isp: &str, tenant: &str, view: &'static str) -> Self {
        Self {
            t: Tr { lang },
            isp: isp.to_owned(),
            tenant: tenant.to_owned(),
            view,
            period: "day",
            ..Self::default()
        }
    }

    /// The same page, saying why `error` refused.
    pub fn with_error(mut self, error: &OpError) -> Self {
        self.error = message(self.t, error);
        self
    }
}

/// `error` as a subscriber reads it.
pub fn message(t: Tr, error: &OpError) -> String {
    match error {
        OpError::Invalid(errors) => crate::page::ui::field_messages(t, errors)
            .into_iter()
            .map(|(_, message)| message)
            .collect::<Vec<_>>()
            .join(" "),
        OpError::TooMany(seconds) => t.t1("portal.wait", "n", &seconds.to_string()),
        OpError::Unauthenticated("invalid_credentials") => t.t("my.wrong_sign_in").to_owned(),
        OpError::NotFound | OpError::Forbidden => t.t("portal.not_allowed").to_owned(),
        _ => t.t("portal.try_later").to_owned(),
    }
}

/// The status a page refused with `error` answers.
pub fn status_of(error: &OpError) -> StatusCode {
    match error {
        OpError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        OpError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
        OpError::NotFound => StatusCode::NOT_FOUND,
        OpError::Forbidden => StatusCode::FORBIDDEN,
        OpError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The page, with `status`; it is never cached, never framed.
pub fn page(status: StatusCode, page: &MyPage) -> Response {
    let mut response = match page.render() {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "rendering the customer's page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                page.t.t("portal.try_later"),
            )
                .into_response()
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
             script-src 'none'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
}
