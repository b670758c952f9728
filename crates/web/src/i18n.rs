//! Translation catalogs. Every string the panel shows, and every API error message, is a key
//! looked up here; English and Bangla ship in `locales/`. Messages may hold `{name}`
//! placeholders filled from parameters. A missing key shows as the key itself (and a test
//! checks that every key used exists in every language).

use std::collections::HashMap;
use std::sync::OnceLock;

/// A language lastmile speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Bangla.
    Bn,
}

impl Lang {
    /// Every language, in the order the panel offers them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Bn];

    /// The BCP 47 code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Bn => "bn",
        }
    }

    /// The language's name in itself.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Bn => "বাংলা",
        }
    }

    /// Parses a code (`bn`, `bn-BD`, `en-US`).
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|lang| lang.code() == primary)
    }

    /// The first supported language of an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        header
            .split(',')
            .find_map(|part| Lang::parse(part.split(';').next().unwrap_or("")))
    }
}

const EN: &str = include_str!("../locales/en.toml");
const BN: &str = include_str!("../locales/bn.toml");

type Catalog = HashMap<String, String>;

fn catalogs() -> &'static [(Lang, Catalog); 2] {
    static CATALOGS: OnceLock<[(Lang, Catalog); 2]> = OnceLock::new();
    CATALOGS.get_or_init(|| [(Lang::En, parse(EN)), (Lang::Bn, parse(BN))])
}

/// Flattens a TOML catalog into `section.key` entries. A malformed catalog is a build
/// mistake caught by the catalog tests; at run time it yields an empty catalog.
fn parse(text: &str) -> Catalog {
    let mut out = HashMap::new();
    if let Ok(table) = text.parse::<toml::Table>() {
        flatten("", &toml::Value::Table(table), &mut out);
    }
    out
}

fn flatten(prefix: &str, value: &toml::Value, out: &mut Catalog) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, value, out);
            }
        }
        toml::Value::String(text) => {
            out.insert(prefix.to_owned(), text.clone());
        }
        _ => {}
    }
}

/// Shown for a key no catalog has (the catalog tests keep this from happening).
const MISSING: &str = "[missing translation]";

/// The message for `key` in `lang`, falling back to English.
pub fn text(lang: Lang, key: &str) -> &'static str {
    let [(_, en), (_, bn)] = catalogs();
    let catalog = if lang == Lang::Bn { bn } else { en };
    match catalog.get(key).or_else(|| en.get(key)) {
        Some(text) => text.as_str(),
        None => {
            tracing::warn!(key, "missing translation");
            MISSING
        }
    }
}

/// The message for `key` with its `{name}` placeholders filled.
pub fn format(lang: Lang, key: &str, params: &[(&str, String)]) -> String {
    let mut message = text(lang, key).to_owned();
    for (name, value) in params {
        message = message.replace(&format!("{{{name}}}"), value);
    }
    message
}

/// Every key of a language's catalog (for the catalog tests).
pub fn keys(lang: Lang) -> Vec<&'static str> {
    let [(_, en), (_, bn)] = catalogs();
    let catalog = if lang == Lang::Bn { bn } else { en };
    let mut keys: Vec<_> = catalog.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

/// A translator bound to one language, handed to templates as `t`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tr {
    /// The language.
    pub lang: Lang,
}

impl Tr {
    /// The message for `key`.
    pub fn t(&self, key: &str) -> &'static str {
        text(self.lang, key)
    }

    /// The message for `key` with one placeholder filled.
    pub fn t1(&self, key: &str, name: &str, value: &str) -> String {
        format(self.lang, key, &[(name, value.to_owned())])
    }

    /// The name of a role.
    pub fn role(&self, role: domain::access::Role) -> &'static str {
        text(self.lang, &format!("role.{}", role.as_str()))
    }

    /// The name of a permission.
    pub fn permission(&self, permission: domain::access::Permission) -> &'static str {
        text(self.lang, &format!("permission.{}", permission.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogs_parse_and_hold_the_same_keys() {
        assert!(!keys(Lang::En).is_empty(), "the English catalog must parse");
        assert_eq!(keys(Lang::En), keys(Lang::Bn));
    }

    #[test]
    fn every_key_used_by_a_template_or_the_code_exists() {
        let known: std::collections::HashSet<_> = keys(Lang::En).into_iter().collect();
        let mut missing = Vec::new();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in ["templates", "src"] {
            for path in walk(&root.join(dir)) {
                let text = std::fs::read_to_string(&path).unwrap();
                for key in used_keys(&text) {
                    if !known.contains(key.as_str()) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from the catalogs:\n{}",
            missing.join("\n")
        );
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    /// Literal keys passed to the translation calls `t`, `t1` and `tkey!` (the methods
    /// called as such: `.t(` and `.t1(`, not any function whose name ends in `t`).
    fn used_keys(text: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for marker in [".t(\"", ".t1(\"", "tkey!(\""] {
            let mut rest = text;
            while let Some(start) = rest.find(marker) {
                let after = &rest[start + marker.len()..];
                if let Some(end) = after.find('"') {
                    let key = &after[..end];
                    if key.contains('.') && !key.contains(['{', ' ']) {
                        keys.push(key.to_owned());
                    }
                }
                rest = &rest[start + marker.len()..];
            }
        }
        keys
    }

    #[test]
    fn every_field_error_code_the_code_can_produce_has_a_message_in_every_language() {
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut codes = std::collections::BTreeSet::new();
        for dir in [
            "domain/src",
            "store/src",
            "ops/src",
            "aaa/src",
            "web/src",
            "server/src",
        ] {
            for path in walk(&crates.join(dir)) {
                if path.extension().is_some_and(|e| e == "rs") {
                    codes.extend(field_error_codes(&std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        // Codes a rule takes from a table rather than writing them in one of the calls the
        // scan reads (`domain::package::RateLimit::parse`).
        codes.extend(["burst_not_above_rate", "threshold_above_rate"].map(str::to_owned));
        assert!(codes.len() > 60, "the scan finds the codes: {codes:?}");
        let mut missing = Vec::new();
        for lang in Lang::ALL {
            let known: std::collections::HashSet<_> = keys(lang).into_iter().collect();
            for code in &codes {
                if !known.contains(format!("error.{code}").as_str()) {
                    missing.push(format!("{}: error.{code}", lang.code()));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "field error codes without a message:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn the_code_scan_reads_every_way_a_field_error_is_written() {
        let source = r#"
            FieldError::new("name", "too_long").with("max", 5);
            FieldError::new(field, "invalid_ip");
            OpError::field(
                "owner_id",
                "not_a_reseller",
            );
            row_error(line, &field, "not_utf8", &[]);
            row_error(line, "csv", format!("{x}"), &[]);
            StoreError::Refused { field: "id", code: "in_use" };
            FieldError::new("x", code);
        "#;
        assert_eq!(
            field_error_codes(source),
            [
                "too_long",
                "invalid_ip",
                "not_a_reseller",
                "not_utf8",
                "in_use"
            ]
        );
    }

    /// The codes written as literals in `source`: the second argument of
    /// `FieldError::new` and `OpError::field`, the third of `row_error`, and the `code` of a
    /// `Refused { .. }` store error.
    fn field_error_codes(source: &str) -> Vec<String> {
        let mut found = Vec::new();
        for (call, index) in [
            ("FieldError::new(", 1),
            ("OpError::field(", 1),
            ("row_error(", 2),
        ] {
            let mut rest = source;
            while let Some(at) = rest.find(call) {
                rest = &rest[at + call.len()..];
                let args = arguments(rest);
                if let Some(code) = args.get(index).and_then(|a| literal(a)) {
                    found.push((source.len() - rest.len(), code));
                }
            }
        }
        let mut rest = source;
        while let Some(at) = rest.find("Refused {") {
            rest = &rest[at + "Refused {".len()..];
            let body = &rest[..rest.find('}').unwrap_or(rest.len())];
            if let Some(code) = body
                .split(',')
                .filter_map(|part| part.trim().strip_prefix("code:"))
                .find_map(literal)
            {
                found.push((source.len() - rest.len(), code));
            }
        }
        found.sort();
        found.into_iter().map(|(_, code)| code).collect()
    }

    /// The top-level arguments of a call whose `(` was just read, as source text.
    fn arguments(text: &str) -> Vec<&str> {
        let mut args = Vec::new();
        let (mut depth, mut start, mut quoted, mut escaped) = (0usize, 0, false, false);
        for (i, c) in text.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                _ if quoted => {}
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth == 0 => {
                    args.push(&text[start..i]);
                    return args;
                }
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    args.push(&text[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        args
    }

    /// A snake_case string literal's content.
    fn literal(text: &str) -> Option<String> {
        let inner = text.trim().strip_prefix('"')?.strip_suffix('"')?;
        let snake = !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        snake.then(|| inner.to_owned())
    }

    #[test]
    fn placeholders_are_filled_and_languages_parse() {
        assert_eq!(
            format(Lang::En, "error.too_long", &[("max", "5".into())]),
            "At most 5 characters."
        );
        assert_eq!(
            Lang::from_accept_language("bn-BD,bn;q=0.9,en;q=0.8"),
            Some(Lang::Bn)
        );
        assert_eq!(Lang::from_accept_language("fr-FR"), None);
        assert_eq!(text(Lang::Bn, "no.such.key"), MISSING);
    }
}
