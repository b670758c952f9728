//! The panel's cookies and where requests go next: the session and language cookies, the
//! one-shot flash message a redirect leaves for the next page, percent-encoding and the
//! local-path check that keeps `next=` from leaving the site. Below `ui` and `session`,
//! which both use it.

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use crate::i18n::Lang;

/// The language cookie.
pub const LANG_COOKIE: &str = "lastmile_lang";
/// The one-shot message cookie.
pub const FLASH_COOKIE: &str = "lastmile_flash";

/// A redirect that shows `message` (a catalog key) on the next page.
pub fn redirect_with(to: &str, message: &'static str) -> Response {
    let mut response = Redirect::to(to).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{FLASH_COOKIE}={message}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax"
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The flash message key, if one was set and is a known message.
pub fn flash(headers: &HeaderMap) -> Option<&'static str> {
    let key = cookie_in(headers, FLASH_COOKIE)?;
    FLASH_KEYS.iter().copied().find(|k| *k == key)
}

/// The messages a redirect may flash.
pub const FLASH_KEYS: &[&str] = &[
    "flash.saved",
    "flash.created",
    "flash.deleted",
    "flash.signed_out",
    "flash.session_expired",
    "flash.totp_enabled",
    "flash.totp_disabled",
    "flash.password_changed",
    "flash.stale",
    "flash.welcome",
    "flash.suspended",
    "flash.resumed",
    "flash.disabled",
    "flash.renamed",
    "flash.probe_queued",
    "flash.package_changed",
    "flash.disconnecting",
];

/// A cookie of the request.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    cookie_in(&parts.headers, name)
}

/// A cookie of the request's headers.
pub fn cookie_in(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value for an `HttpOnly`, `SameSite=Lax` cookie (`Secure` behind HTTPS).
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(seconds) = max_age {
        text.push_str(&format!("; Max-Age={seconds}"));
    }
    if secure {
        text.push_str("; Secure");
    }
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// The panel's language: the cookie, else the browser's preference, else English.
pub fn language(parts: &Parts) -> Lang {
    language_of(&parts.headers)
}

/// The language of a request's headers.
pub fn language_of(headers: &HeaderMap) -> Lang {
    cookie_in(headers, LANG_COOKIE)
        .and_then(|c| Lang::parse(&c))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

/// Percent-encodes a query value.
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, NON_ALPHANUMERIC).to_string()
}

/// A local path to return to, or `/panel` for anything else (no open redirects).
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/panel".to_owned(),
    }
}
