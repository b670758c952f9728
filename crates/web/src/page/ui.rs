//! What every panel page shares: the page chrome handed to templates ([`Ui`]), rendering,
//! the language switch and error pages. Cookies and redirects are `cookie`'s; they are
//! named here too, so a page needs one import.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::cookie::flash;
pub use super::cookie::{
    FLASH_COOKIE, FLASH_KEYS, LANG_COOKIE, cookie, encode, language, language_of, local_path,
    redirect_with, set_cookie,
};
use super::session::PanelUser;
use crate::i18n::{Lang, Tr};
use domain::access::{Capabilities, capabilities};

/// The panel's sections, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The dashboard.
    Dashboard,
    /// Tenants.
    Tenants,
    /// Staff users.
    Users,
    /// The audit log.
    Audit,
    /// The signed-in user's account.
    Account,
    /// Customers.
    Customers,
    /// Packages.
    Packages,
    /// Routers.
    Routers,
    /// Zones.
    Zones,
    /// IP pools.
    Pools,
    /// Background jobs.
    Jobs,
    /// Subscribers' sessions.
    Sessions,
    /// VPN servers and accounts.
    Vpn,
    /// A tenant's SMS: what messages say, which are sent, the outbox.
    Sms,
    /// Recharge cards and access vouchers: a tenant's stock, or a holder's own.
    Cards,
}

/// The chrome of a page: translator, signed-in user, navigation, CSRF token, flash.
#[derive(Debug, Clone)]
pub struct Ui {
    /// The translator.
    pub t: Tr,
    /// The signed-in user's name (empty on public pages).
    pub user_name: String,
    /// Its role's name.
    pub role_name: &'static str,
    /// The CSRF token for forms.
    pub csrf: String,
    /// The section shown.
    pub section: Section,
    /// The areas the navigation offers (`domain::access::capabilities`).
    pub caps: Capabilities,
    /// A message from the previous action.
    pub flash: Option<&'static str>,
    /// This page's path, for the language switch to return to.
    pub here: String,
}

impl Ui {
    /// The chrome for a signed-in user's page.
    pub fn new(user: &PanelUser, section: Section, headers: &HeaderMap, here: &str) -> Self {
        let t = Tr { lang: user.lang };
        let actor = &user.actor;
        Self {
            t,
            user_name: user.holder.user.name.clone(),
            role_name: t.role(actor.role),
            csrf: user.csrf.clone(),
            section,
            caps: capabilities(actor),
            flash: flash(headers),
            here: here.to_owned(),
        }
    }

    /// The chrome of a public page (sign-in, setup).
    pub fn public(lang: Lang, headers: &HeaderMap, here: &str) -> Self {
        Self {
            t: Tr { lang },
            user_name: String::new(),
            role_name: "",
            csrf: String::new(),
            section: Section::Dashboard,
            caps: Capabilities::default(),
            flash: flash(headers),
            here: here.to_owned(),
        }
    }

    /// The languages the switch offers: code, name, link, and whether it is the current one.
    pub fn languages(&self) -> Vec<(&'static str, &'static str, String, bool)> {
        Lang::ALL
            .iter()
            .map(|lang| {
                (
                    lang.code(),
                    lang.native_name(),
                    format!("/lang/{}?next={}", lang.code(), encode(&self.here)),
                    *lang == self.t.lang,
                )
            })
            .collect()
    }

    /// The `lang` attribute of the page.
    pub fn lang_code(&self) -> &'static str {
        self.t.lang.code()
    }

    /// True when `section` is the one shown.
    pub fn is(&self, section: Section) -> bool {
        self.section == section
    }
}

/// Renders a template into a response (a 500 page if rendering fails).
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = Html(html).into_response();
            // The flash was shown; clear it.
            response.headers_mut().append(
                header::SET_COOKIE,
                HeaderValue::from_static(
                    "lastmile_flash=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
                ),
            );
            response
        }
        Err(error) => {
            tracing::error!(%error, "template rendering failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                crate::i18n::text(Lang::En, "error.internal"),
            )
                .into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

/// `GET /lang/{code}`: remembers the language and goes back.
pub(crate) async fn switch_language(
    Path(code): Path<String>,
    Query(query): Query<NextQuery>,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let mut response = Redirect::to(&local_path(query.next.as_deref())).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LANG_COOKIE, lang.code(), Some(365 * 24 * 3600), false),
    );
    response
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ui: Ui,
    status: u16,
    message: &'static str,
}

/// A minimal error page in `lang` (used where no user is known).
pub fn plain_error(lang: Lang, status: StatusCode, key: &'static str) -> Response {
    let page = ErrorPage {
        ui: Ui::public(lang, &HeaderMap::new(), "/panel"),
        status: status.as_u16(),
        message: crate::i18n::text(lang, key),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "template rendering failed");
            (status, crate::i18n::text(lang, key)).into_response()
        }
    }
}

/// An error page for a signed-in user, in its language.
pub fn error_page(
    user: &PanelUser,
    headers: &HeaderMap,
    status: StatusCode,
    key: &str,
) -> Response {
    let ui = Ui::new(user, Section::Dashboard, headers, "/panel");
    let message = ui.t.t(key);
    (
        status,
        render(&ErrorPage {
            ui,
            status: status.as_u16(),
            message,
        }),
    )
        .into_response()
}

/// The page for an operation error that is not a form mistake.
pub fn op_error(user: &PanelUser, headers: &HeaderMap, error: &ops::OpError) -> Response {
    use ops::OpError;
    match error {
        OpError::NotFound => error_page(user, headers, StatusCode::NOT_FOUND, "error.not_found"),
        OpError::Forbidden => error_page(user, headers, StatusCode::FORBIDDEN, "error.forbidden"),
        OpError::VersionMismatch => error_page(user, headers, StatusCode::CONFLICT, "flash.stale"),
        OpError::Busy | OpError::TooMany(_) => {
            error_page(user, headers, StatusCode::SERVICE_UNAVAILABLE, "error.busy")
        }
        OpError::InsufficientBalance { .. } => error_page(
            user,
            headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            "error.insufficient_balance",
        ),
        OpError::KeyReused => error_page(user, headers, StatusCode::CONFLICT, "flash.stale"),
        OpError::Invalid(_) | OpError::Unauthenticated(_) | OpError::Internal(_) => error_page(
            user,
            headers,
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
        ),
    }
}

/// Field errors translated for a form: `(field, message)`.
pub fn field_messages(t: Tr, errors: &domain::field::FieldErrors) -> Vec<(String, String)> {
    errors
        .0
        .iter()
        .map(|e| {
            (
                e.field.clone(),
                crate::i18n::format(t.lang, &format!("error.{}", e.code), &e.params),
            )
        })
        .collect()
}

/// The paging links under a list: back to its first page, on to the next.
#[derive(Debug, Default, Clone)]
pub struct Pager {
    /// The first page, with the same filters and sort.
    pub first: String,
    /// The next page, if there is one.
    pub next: Option<String>,
    /// The previous page, when the list knows it.
    pub prev: Option<String>,
    /// Which rows this page shows (`51–100 of 2300`), when the list knows it.
    pub range: Option<String>,
}

impl Pager {
    /// First and next only.
    pub fn simple(first: String, next: Option<String>) -> Self {
        Self {
            first,
            next,
            prev: None,
            range: None,
        }
    }

    /// The pager of `found`, a keyset page of the list at `first` (its filters, no cursor),
    /// asked for with `cursor` and `trail` (as the request carried them).
    pub fn of_page<T>(
        t: Tr,
        first: String,
        trail: Option<&str>,
        cursor: Option<&str>,
        found: &store::list::Page<T>,
        limit: u64,
    ) -> Self {
        Self::keyset(
            t,
            first,
            trail.unwrap_or(""),
            cursor.filter(|c| !c.is_empty()),
            found.next_cursor.as_deref(),
            found.items.len(),
            limit,
            &total(found.total, found.total_capped),
        )
    }

    /// The links and position of a keyset page of the list at `first` (its filters, no
    /// cursor). The cursors of the pages before this one travel in the links as `trail`
    /// (comma separated; the first page has none), so the list can go back a page and say
    /// which rows it shows without counting past them.
    #[allow(clippy::too_many_arguments)]
    pub fn keyset(
        t: Tr,
        first: String,
        trail: &str,
        cursor: Option<&str>,
        next_cursor: Option<&str>,
        shown: usize,
        limit: u64,
        total: &str,
    ) -> Self {
        let trail: Vec<&str> = trail.split(',').filter(|c| !c.is_empty()).collect();
        let glue = if first.contains('?') { '&' } else { '?' };
        let link = |cursor: &str, trail: &[&str]| {
            format!(
                "{first}{glue}cursor={}&trail={}",
                encode(cursor),
                encode(&trail.join(","))
            )
        };
        let mut behind = trail.clone();
        if let Some(c) = cursor {
            behind.push(c);
        }
        let next = next_cursor.map(|c| link(c, &behind));
        let prev = match (trail.split_last(), cursor) {
            (Some((last, before)), _) => Some(link(last, before)),
            (None, Some(_)) => Some(first.clone()),
            (None, None) => None,
        };
        let page = u64::try_from(behind.len()).unwrap_or(0);
        let from = page * limit + 1;
        let to = from + u64::try_from(shown).unwrap_or(0);
        let range = (shown > 0).then(|| {
            crate::i18n::format(
                t.lang,
                "list.range",
                &[
                    ("from", from.to_string()),
                    ("to", (to - 1).to_string()),
                    ("total", total.to_owned()),
                ],
            )
        });
        Self {
            first,
            next,
            prev,
            range,
        }
    }
}

/// A list's total as shown: `10000+` when the count was capped.
pub fn total(page_total: u64, capped: bool) -> String {
    if capped {
        format!("{page_total}+")
    } else {
        page_total.to_string()
    }
}

/// The messages for `field` among `errors`, joined.
pub fn message_for(errors: &[(String, String)], field: &str) -> String {
    errors
        .iter()
        .filter(|(f, _)| f == field)
        .map(|(_, m)| m.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A mobile number shown without its middle digits: `01712345678` as `017•••••678` (a
/// number under seven characters as it is).
pub fn masked(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() < 7 {
        return number.to_owned();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}{}{tail}", "•".repeat(chars.len() - 6))
}

/// `n` bytes in binary units: `0 B`, `512 B`, `1.5 KiB`, `20.0 GiB`.
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n.max(0) as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{} B", n.max(0))
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
