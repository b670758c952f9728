//! The hotspot's page language, as RouterOS applies it server-side to every page it serves:
//! `$(name)` variables (no HTML escaping; unknown ones become empty), and
//! `$(if name)…$(elif name)…$(else)…$(endif)`, where a bare name is true when its value is not
//! empty and `name == 'text'` / `name != 'text'` compare. Also the encodings the variables
//! use: octal escapes (`$(chap-id)`, `$(chap-challenge)`), URL escapes (`-esc`), uptimes.
//!
//! It knows nothing of hosts or sessions: the servlet fills a [`Vars`] and calls [`render`].
//! Rendering never fails: text that is not a directive (`$(` without `)`, `$('#id')`) is
//! copied as it is, stray `$(else)`/`$(endif)` are dropped, an unclosed `$(if)` runs to the
//! end of the page.

use std::collections::HashMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The longest variable name a directive may use.
const MAX_NAME: usize = 128;

/// What `-esc` leaves as it is (as `encodeURIComponent` does, less `!*'()`).
const URL_ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The values a page is rendered with.
#[derive(Debug, Default)]
pub(crate) struct Vars {
    values: HashMap<&'static str, String>,
    /// Request headers, names lower-cased, for `$(http-header-<Name>)`.
    headers: Vec<(String, String)>,
}

impl Vars {
    /// Sets variable `name`.
    pub(crate) fn set(&mut self, name: &'static str, value: impl Into<String>) {
        self.values.insert(name, value.into());
    }

    /// Adds a request header.
    pub(crate) fn header(&mut self, name: &str, value: &str) {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
    }

    /// The value of `name`: set, a request header, or the URL-escaped value of `<base>-esc`;
    /// empty when unknown.
    pub(crate) fn get(&self, name: &str) -> String {
        if let Some(value) = self.plain(name) {
            return value;
        }
        match name.strip_suffix("-esc").and_then(|base| self.plain(base)) {
            Some(value) => url_escape(&value),
            None => String::new(),
        }
    }

    fn plain(&self, name: &str) -> Option<String> {
        if let Some(value) = self.values.get(name) {
            return Some(value.clone());
        }
        let header = name.strip_prefix("http-header-")?.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == header)
            .map(|(_, v)| v.clone())
    }
}

/// One `$(…)` directive.
#[derive(Debug, PartialEq, Eq)]
enum Directive<'a> {
    Var(&'a str),
    If(Condition<'a>),
    Elif(Condition<'a>),
    Else,
    EndIf,
}

/// The test of an `$(if)` or `$(elif)`.
#[derive(Debug, PartialEq, Eq)]
enum Condition<'a> {
    /// True when the value is not empty.
    Set(&'a str),
    Equals(&'a str, &'a str),
    Differs(&'a str, &'a str),
}

impl<'a> Directive<'a> {
    /// The directive `$(text)` stands for, or `None` when it is not one (then it is text).
    fn parse(text: &'a str) -> Option<Directive<'a>> {
        let text = text.trim();
        match text {
            "else" => return Some(Directive::Else),
            "endif" => return Some(Directive::EndIf),
            _ => {}
        }
        if let Some(test) = text.strip_prefix("if ") {
            return Condition::parse(test).map(Directive::If);
        }
        if let Some(test) = text.strip_prefix("elif ") {
            return Condition::parse(test).map(Directive::Elif);
        }
        is_name(text).then_some(Directive::Var(text))
    }
}

impl<'a> Condition<'a> {
    fn parse(test: &'a str) -> Option<Condition<'a>> {
        let split = |op| {
            let (name, value) = test.split_once(op)?;
            let name = name.trim();
            is_name(name).then(|| (name, unquote(value.trim())))
        };
        if let Some((name, value)) = split("==") {
            return Some(Condition::Equals(name, value));
        }
        if let Some((name, value)) = split("!=") {
            return Some(Condition::Differs(name, value));
        }
        let name = test.trim();
        is_name(name).then_some(Condition::Set(name))
    }

    fn holds(&self, vars: &Vars) -> bool {
        match self {
            Condition::Set(name) => !vars.get(name).is_empty(),
            Condition::Equals(name, value) => vars.get(name) == *value,
            Condition::Differs(name, value) => vars.get(name) != *value,
        }
    }
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_NAME
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn unquote(value: &str) -> &str {
    for quote in ['\'', '"'] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

/// One open `$(if)`: whether the text around it is shown, whether one of its branches was
/// taken already, and whether the current branch is shown.
#[derive(Debug, Clone, Copy)]
struct Frame {
    outer_on: bool,
    taken: bool,
    on: bool,
}

/// The page with its directives applied.
pub(crate) fn render(page: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(page.len());
    let mut frames: Vec<Frame> = Vec::new();
    let mut rest = page;
    loop {
        let on = frames.last().is_none_or(|f| f.on);
        let Some(at) = rest.find("$(") else { break };
        if on {
            out.push_str(&rest[..at]);
        }
        let after = &rest[at + 2..];
        let directive = after
            .find(')')
            .and_then(|end| Directive::parse(&after[..end]).map(|d| (d, end)));
        let Some((directive, end)) = directive else {
            if on {
                out.push_str("$(");
            }
            rest = after;
            continue;
        };
        rest = &after[end + 1..];
        match directive {
            Directive::Var(name) => {
                if on {
                    out.push_str(&vars.get(name));
                }
            }
            Directive::If(test) => {
                let holds = on && test.holds(vars);
                frames.push(Frame {
                    outer_on: on,
                    taken: holds,
                    on: holds,
                });
            }
            Directive::Elif(test) => {
                if let Some(frame) = frames.last_mut() {
                    let holds = frame.outer_on && !frame.taken && test.holds(vars);
                    frame.on = holds;
                    frame.taken |= holds;
                }
            }
            Directive::Else => {
                if let Some(frame) = frames.last_mut() {
                    frame.on = frame.outer_on && !frame.taken;
                    frame.taken = true;
                }
            }
            Directive::EndIf => {
                frames.pop();
            }
        }
    }
    if frames.last().is_none_or(|f| f.on) {
        out.push_str(rest);
    }
    out
}

/// Bytes as RouterOS writes `$(chap-id)` and `$(chap-challenge)`: each a backslash and three
/// octal digits, for a JavaScript string literal.
pub(crate) fn octal(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:03o}")).collect()
}

/// A value URL-escaped, for `-esc` variables and query strings.
pub(crate) fn url_escape(value: &str) -> String {
    utf8_percent_encode(value, URL_ESCAPED).to_string()
}

/// A duration as RouterOS prints it: `1w2d3h4m5s`, `0s`.
pub(crate) fn uptime(seconds: u64) -> String {
    let units = [
        ("w", 604_800),
        ("d", 86_400),
        ("h", 3_600),
        ("m", 60),
        ("s", 1),
    ];
    let mut rest = seconds;
    let mut out = String::new();
    for (unit, size) in units {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    if out.is_empty() { "0s".to_owned() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&'static str, &str)]) -> Vars {
        let mut vars = Vars::default();
        for (name, value) in pairs {
            vars.set(name, *value);
        }
        vars
    }

    #[test]
    fn variables_are_substituted_without_html_escaping_and_unknown_ones_are_empty() {
        let v = vars(&[("username", "<b>x</b>"), ("mac", "AA:BB")]);
        assert_eq!(
            render("u=$(username) m=$(mac) n=$(nothing).", &v),
            "u=<b>x</b> m=AA:BB n=."
        );
    }

    #[test]
    fn esc_variables_are_url_escaped() {
        let v = vars(&[("link-orig", "http://a.example/x?y=1&z=2")]);
        assert_eq!(
            render("$(link-orig-esc)", &v),
            "http%3A%2F%2Fa.example%2Fx%3Fy%3D1%26z%3D2"
        );
    }

    #[test]
    fn conditions_choose_one_branch_and_nest() {
        let page = "$(if error)E:$(error)$(elif chap-id)C$(else)N$(endif)|\
                    $(if a)A$(if b)B$(else)b$(endif)$(endif)";
        assert_eq!(
            render(page, &vars(&[("error", "bad"), ("chap-id", "\\001")])),
            "E:bad|"
        );
        assert_eq!(render(page, &vars(&[("chap-id", "\\001")])), "C|");
        assert_eq!(render(page, &vars(&[("a", "1")])), "N|Ab");
        assert_eq!(render(page, &vars(&[("a", "1"), ("b", "1")])), "N|AB");
    }

    #[test]
    fn comparisons_compare_with_the_quoted_text() {
        let page = "$(if login-by == 'mac-cookie')M$(endif)$(if trial != \"no\")T$(endif)";
        assert_eq!(
            render(page, &vars(&[("login-by", "mac-cookie"), ("trial", "no")])),
            "M"
        );
        assert_eq!(render(page, &vars(&[("login-by", "http-chap")])), "T");
    }

    #[test]
    fn request_headers_are_variables_by_any_case() {
        let mut v = Vars::default();
        v.header("Accept-Language", "bn");
        assert_eq!(
            render(
                "$(http-header-Accept-Language)/$(http-header-accept-language)",
                &v
            ),
            "bn/bn"
        );
    }

    #[test]
    fn text_that_is_no_directive_is_kept_and_broken_pages_render() {
        let v = vars(&[("x", "1")]);
        assert_eq!(render("$('#id').hide(); $(x", &v), "$('#id').hide(); $(x");
        assert_eq!(render("a$(endif)b$(else)c", &v), "abc");
        assert_eq!(render("$(if x)open", &v), "open");
        assert_eq!(render("$(if nothing)hidden", &v), "");
        assert_eq!(render("$()", &v), "$()");
    }

    #[test]
    fn chap_bytes_are_octal_escapes() {
        assert_eq!(octal(&[0o371]), "\\371");
        assert_eq!(octal(&[0o357, 0o015, 0o330, 0]), "\\357\\015\\330\\000");
    }

    #[test]
    fn uptimes_read_like_routeros() {
        assert_eq!(uptime(0), "0s");
        assert_eq!(uptime(3_661), "1h1m1s");
    }
}
