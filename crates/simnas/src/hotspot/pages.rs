//! The servlet's pages and files: which file a page is (`login.html`…), where the router keeps
//! it (the `/file` menu, under the `html-directory` of the hotspot profile `default`, read on
//! every request so a page pushed through the API shows at once), the built-in page served
//! when the router has none, and the variables ([`Vars`]) a page is rendered with.

use std::net::Ipv4Addr;
use std::time::Instant;

use axum::http::HeaderMap;
use routeros::sim::SimRouter;

use super::host::{Challenge, Session};
use super::template::{Vars, octal, uptime, url_escape};

/// A page of the servlet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Page {
    /// The login form (also after a failed login, with `$(error)`).
    Login,
    /// Just logged in, or already.
    Alogin,
    /// A logged-in host's status.
    Status,
    /// Just logged out.
    Logout,
    /// Logout asked by a host that was not logged in.
    Flogout,
}

impl Page {
    /// Its file in the html directory.
    pub(crate) fn file_name(self) -> &'static str {
        match self {
            Page::Login => "login.html",
            Page::Alogin => "alogin.html",
            Page::Status => "status.html",
            Page::Logout => "logout.html",
            Page::Flogout => "flogout.html",
        }
    }

    /// What is served when the router has no such file.
    fn builtin(self) -> &'static str {
        match self {
            Page::Login => LOGIN,
            Page::Alogin => ALOGIN,
            Page::Status => STATUS,
            Page::Logout => LOGOUT,
            Page::Flogout => FLOGOUT,
        }
    }
}

const LOGIN: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>$(identity) hotspot &gt; login</title></head>
<body>
<h1>$(identity)</h1>
<p>Please log on to use the $(server-name) hotspot service.</p>
$(if error)<p class="error">$(error)</p>$(endif)
<form name="login" action="$(link-login-only)" method="post">
<input type="hidden" name="dst" value="$(link-orig)">
<input type="hidden" name="popup" value="true">
<label>login <input name="username" type="text" value="$(username)"></label>
<label>password <input name="password" type="password"></label>
<button type="submit">OK</button>
</form>
</body></html>
"#;

const ALOGIN: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>$(identity) hotspot &gt; redirect</title></head>
<body>
<h1>You are logged in</h1>
<p>Logged in as $(username).</p>
<p><a href="$(link-redirect)">Continue</a> <a href="$(link-status)">Status</a></p>
</body></html>
"#;

const STATUS: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>$(identity) hotspot &gt; status</title></head>
<body>
<h1>Welcome $(username)!</h1>
<table>
<tr><td>IP address:</td><td>$(ip)</td></tr>
<tr><td>MAC address:</td><td>$(mac)</td></tr>
<tr><td>connected:</td><td>$(uptime)</td></tr>
<tr><td>bytes up/down:</td><td>$(bytes-in) / $(bytes-out)</td></tr>
$(if session-time-left)<tr><td>time left:</td><td>$(session-time-left)</td></tr>$(endif)
$(if remain-bytes-total)<tr><td>bytes left:</td><td>$(remain-bytes-total)</td></tr>$(endif)
</table>
<form action="$(link-logout)" method="post" name="logout">
<label><input type="checkbox" name="erase-cookie" value="on"> forget this device</label>
<button type="submit">log off</button>
</form>
</body></html>
"#;

const LOGOUT: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>$(identity) hotspot &gt; logout</title></head>
<body>
<h1>You have just logged off</h1>
<p>user $(username), IP address $(ip), MAC address $(mac), connected $(uptime),
bytes up/down $(bytes-in) / $(bytes-out)</p>
<p><a href="$(link-login)">log on</a></p>
</body></html>
"#;

const FLOGOUT: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>$(identity) hotspot &gt; logout</title></head>
<body>
<h1>You were not logged in</h1>
<p><a href="$(link-login)">log on</a></p>
</body></html>
"#;

/// The router's html directory: that of the hotspot profile `default`, without a trailing
/// slash (`hotspot` on a fresh router).
fn html_directory(router: &SimRouter) -> String {
    let profiles = router.rows("/ip/hotspot/profile").unwrap_or_default();
    profiles
        .iter()
        .find(|row| row.text("name").as_deref() == Some("default"))
        .and_then(|row| row.text("html-directory"))
        .map(|dir| dir.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| "hotspot".to_owned())
}

/// The contents of file `name` of the html directory, if the router has it.
pub(crate) fn file(router: &SimRouter, name: &str) -> Option<Vec<u8>> {
    let path = format!("{}/{name}", html_directory(router));
    let files = router.rows("/file").ok()?;
    files
        .iter()
        .find(|row| row.text("name").as_deref() == Some(path.as_str()))
        .map(|row| row.get("contents").unwrap_or_default().to_vec())
}

/// The source of a page: the router's file, else the built-in page.
pub(crate) fn source(router: &SimRouter, page: Page) -> String {
    match file(router, page.file_name()) {
        Some(contents) => String::from_utf8_lossy(&contents).into_owned(),
        None => page.builtin().to_owned(),
    }
}

/// A file name the servlet may serve from the html directory: relative, no `..`, no empty
/// or hidden segments, a sane length.
pub(crate) fn servable(name: &str) -> bool {
    name.len() <= 200
        && !name.is_empty()
        && name.split('/').all(|segment| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
}

/// The Content-Type of a file by its name, and whether its variables are substituted (those
/// of HTML pages are).
pub(crate) fn content_type(name: &str) -> (&'static str, bool) {
    let extension = name.rsplit_once('.').map_or("", |(_, e)| e);
    match extension {
        "html" | "htm" => ("text/html; charset=utf-8", true),
        "css" => ("text/css; charset=utf-8", false),
        "js" => ("application/javascript; charset=utf-8", false),
        "txt" => ("text/plain; charset=utf-8", false),
        "json" => ("application/json", false),
        "svg" => ("image/svg+xml", false),
        "png" => ("image/png", false),
        "jpg" | "jpeg" => ("image/jpeg", false),
        "gif" => ("image/gif", false),
        "ico" => ("image/x-icon", false),
        _ => ("application/octet-stream", false),
    }
}

/// What a host looks like to its pages.
#[derive(Debug, Clone)]
pub(crate) struct HostView {
    pub(crate) mac: String,
    pub(crate) ip: Ipv4Addr,
    pub(crate) link_orig: String,
    pub(crate) challenge: Option<Challenge>,
    /// Its session; on the logout page, the one that just ended.
    pub(crate) session: Option<SessionView>,
    pub(crate) logged_in: bool,
}

/// What a session looks like to its pages.
#[derive(Debug, Clone)]
pub(crate) struct SessionView {
    pub(crate) user: String,
    pub(crate) login_by: &'static str,
    pub(crate) seconds: u64,
    pub(crate) input: u64,
    pub(crate) output: u64,
    pub(crate) ends_at: Option<Instant>,
    pub(crate) total_limit: Option<u64>,
}

impl SessionView {
    /// What `session` looks like at `now`.
    pub(crate) fn of(session: &Session, now: Instant) -> SessionView {
        SessionView {
            user: session.user.clone(),
            login_by: session.login_by.as_str(),
            seconds: session.seconds(now),
            input: session.input,
            output: session.output,
            ends_at: session.ends_at,
            total_limit: session.total_limit,
        }
    }
}

/// The servlet's identity for its pages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Servlet<'a> {
    /// `http://HOST:PORT`, no trailing slash.
    pub(crate) url: &'a str,
    pub(crate) identity: &'a str,
    pub(crate) server_name: &'a str,
}

/// The variables of a page for `host`: `username` is the session's user, else what was
/// typed; `error` the last login's error.
pub(crate) fn variables(
    servlet: Servlet<'_>,
    host: &HostView,
    username: &str,
    error: &str,
    headers: &HeaderMap,
    now: Instant,
) -> Vars {
    let mut vars = Vars::default();
    let url = servlet.url;
    let login_only = format!("{url}/login");
    vars.set(
        "link-login",
        format!("{login_only}?dst={}", url_escape(&host.link_orig)),
    );
    vars.set("link-login-only", login_only);
    vars.set("link-logout", format!("{url}/logout"));
    vars.set("link-status", format!("{url}/status"));
    vars.set("link-orig", host.link_orig.clone());
    vars.set("link-redirect", host.link_orig.clone());
    vars.set("mac", host.mac.clone());
    vars.set("ip", host.ip.to_string());
    vars.set("host-ip", host.ip.to_string());
    vars.set("identity", servlet.identity);
    vars.set("server-name", servlet.server_name);
    vars.set(
        "server-address",
        format!("{}:80", super::host::HOTSPOT_ADDRESS),
    );
    vars.set("hostname", url.trim_start_matches("http://"));
    vars.set("error", error);
    vars.set("error-orig", error);
    vars.set("trial", "no");
    vars.set("plain-passwd", "yes");
    vars.set("ssl-login", "no");
    if let Some(challenge) = host.challenge {
        vars.set("chap-id", octal(&[challenge.id]));
        vars.set("chap-challenge", octal(&challenge.bytes));
    }
    vars.set("logged-in", if host.logged_in { "yes" } else { "no" });
    match &host.session {
        Some(session) => {
            vars.set("username", session.user.clone());
            vars.set("login-by", session.login_by);
            vars.set("uptime", uptime(session.seconds));
            vars.set("bytes-in", session.input.to_string());
            vars.set("bytes-out", session.output.to_string());
            if let Some(ends_at) = session.ends_at {
                vars.set(
                    "session-time-left",
                    uptime(ends_at.saturating_duration_since(now).as_secs()),
                );
            }
            if let Some(limit) = session.total_limit {
                let used = session.input.saturating_add(session.output);
                vars.set("remain-bytes-total", limit.saturating_sub(used).to_string());
            }
        }
        None => vars.set("username", username),
    }
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            vars.header(name.as_str(), value);
        }
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_names_are_served() {
        assert!(servable("md5.js"));
        assert!(servable("img/logo.png"));
        for bad in ["", "../x", "a/../b", ".hidden", "a//b", "a b", "a/", "x?y"] {
            assert!(!servable(bad), "{bad}");
        }
    }

    #[test]
    fn html_is_substituted_and_other_files_are_not() {
        assert_eq!(
            content_type("login.html"),
            ("text/html; charset=utf-8", true)
        );
        assert!(!content_type("md5.js").1);
        assert_eq!(content_type("blob").0, "application/octet-stream");
    }
}
