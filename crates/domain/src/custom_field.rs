//! Custom fields on customers: a tenant's own questions about its subscribers (a text, a
//! number, a date, a choice among options, a yes-or-no), each defined once per tenant
//! ([`NewDefinition`], [`DefinitionChanges`]) and answered per customer ([`FieldValue`]).
//!
//! Every value is parsed here, once, into its typed form, whichever edge it came from (a
//! JSON body, a panel form, a CSV cell): text is bounded and free of control characters
//! (markup is kept as typed: it is text, and every page and export escapes it); a number
//! is read strictly (digits, one optional sign and point, at most [`NUMBER_DIGITS_MAX`]
//! significant digits, no exponent); a date is `YYYY-MM-DD`; a choice must be one of the
//! field's options; a checkbox is true or false. [`parse_values`] reports every refused
//! field (`custom_fields.<key>`) in one answer, and holds the required fields.
//!
//! Each value also has an index key ([`FieldValue::key`]): what the customer list's filter
//! compares (text lower-cased and cut to [`KEY_CHARS`] for a prefix match, the canonical
//! number, the ISO date, the option lower-cased, `true`). The store keeps it beside the
//! value. A checkbox is stored only when ticked: unticked is no value.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::field::{FieldError, FieldErrors};
use crate::text::bounded;

/// The most field definitions a tenant may have (active or not).
pub const FIELDS_MAX: usize = 50;
/// The longest key.
pub const KEY_MAX: usize = 40;
/// The longest label, in characters.
pub const LABEL_MAX: usize = 80;
/// The most options of a select field.
pub const OPTIONS_MAX: usize = 50;
/// The longest option, in characters.
pub const OPTION_MAX: usize = 80;
/// The longest text value, in characters.
pub const TEXT_MAX: usize = 500;
/// The most significant digits of a number value.
pub const NUMBER_DIGITS_MAX: usize = 15;
/// The highest position in the order fields are shown in.
pub const POSITION_MAX: i32 = 9999;
/// The characters of a text value its index key keeps (and so the longest prefix a list
/// filter matches).
pub const KEY_CHARS: usize = 100;

/// What kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Free text, one line.
    Text,
    /// A decimal number.
    Number,
    /// A calendar day.
    Date,
    /// One of the field's options.
    Select,
    /// Yes or no.
    Checkbox,
}

impl FieldKind {
    /// Every kind.
    pub const ALL: [FieldKind; 5] = [
        FieldKind::Text,
        FieldKind::Number,
        FieldKind::Date,
        FieldKind::Select,
        FieldKind::Checkbox,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Select => "select",
            FieldKind::Checkbox => "checkbox",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text.trim())
    }
}

impl Code for FieldKind {
    const SET: &'static str = "custom field kind";

    fn code(self) -> &'static str {
        self.as_str()
    }

    fn from_code(text: &str) -> Option<Self> {
        Self::parse(text)
    }
}

/// A field as the value rules need it: from a stored definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    /// The definition's id.
    pub id: i64,
    /// Its key (`a-z 0-9 _`, leading letter).
    pub key: String,
    /// Its label.
    pub label: String,
    /// Its kind.
    pub kind: FieldKind,
    /// The options of a select field.
    pub options: Vec<String>,
    /// Every customer must have a value.
    pub required: bool,
    /// Shown, asked and read; an inactive field keeps its values out of sight.
    pub active: bool,
}

/// A definition as asked for (API body, panel form): `None` leaves a field (or takes its
/// default for a new definition).
#[derive(Debug, Clone, Default)]
pub struct DefinitionInput {
    /// The key.
    pub key: Option<String>,
    /// The label.
    pub label: Option<String>,
    /// The kind's name.
    pub kind: Option<String>,
    /// The options of a select field.
    pub options: Option<Vec<String>>,
    /// Required or not.
    pub required: Option<bool>,
    /// Shown as a column of the customer list.
    pub in_list: Option<bool>,
    /// Its place in the order fields are shown in.
    pub position: Option<i32>,
    /// Active or not.
    pub active: Option<bool>,
}

/// A new definition, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDefinition {
    /// The key.
    pub key: String,
    /// The label.
    pub label: String,
    /// The kind.
    pub kind: FieldKind,
    /// The options (select only).
    pub options: Vec<String>,
    /// Required or not.
    pub required: bool,
    /// Shown as a list column.
    pub in_list: bool,
    /// Its place (the caller fills in the end of the list when none was asked).
    pub position: Option<i32>,
}

impl NewDefinition {
    /// Parses a new definition; every refused field is reported.
    pub fn parse(input: &DefinitionInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let key = errors.take(parse_key(input.key.as_deref().unwrap_or("")));
        let label = errors.take(parse_label(input.label.as_deref().unwrap_or("")));
        let kind = match input.kind.as_deref() {
            None => errors.take(Err(FieldError::new("kind", "required"))),
            Some(k) => errors.take(
                FieldKind::parse(k).ok_or_else(|| FieldError::new("kind", "unknown_field_kind")),
            ),
        };
        let required = input.required.unwrap_or(false);
        let options = kind.and_then(|kind| {
            errors.take(parse_options(kind, input.options.as_deref().unwrap_or(&[])))
        });
        if let Some(kind) = kind {
            check_required(kind, required, &mut errors);
        }
        let position = input.position.and_then(|p| errors.take(parse_position(p)));
        if input.active == Some(false) {
            errors.push(FieldError::new("active", "invalid"));
        }
        errors.finish(|| {
            Some(NewDefinition {
                key: key?,
                label: label?,
                kind: kind?,
                options: options?,
                required,
                in_list: input.in_list.unwrap_or(false),
                position,
            })
        })
    }
}

/// Changes to a definition, parsed: the key and kind are fixed once values may exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefinitionChanges {
    /// New label.
    pub label: Option<String>,
    /// New options (select only).
    pub options: Option<Vec<String>>,
    /// Required or not.
    pub required: Option<bool>,
    /// Shown as a list column.
    pub in_list: Option<bool>,
    /// New place.
    pub position: Option<i32>,
    /// Active or not.
    pub active: Option<bool>,
}

impl DefinitionChanges {
    /// Parses changes to a definition of `kind` whose key is `key`. The key and the kind
    /// may be sent unchanged (a form sends them back) but not changed: values were read by
    /// them.
    pub fn parse(input: &DefinitionInput, key: &str, kind: FieldKind) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        if input.key.as_deref().is_some_and(|k| k.trim() != key) {
            errors.push(FieldError::new("key", "fixed"));
        }
        if input
            .kind
            .as_deref()
            .is_some_and(|k| FieldKind::parse(k) != Some(kind))
        {
            errors.push(FieldError::new("kind", "fixed"));
        }
        let label = input
            .label
            .as_deref()
            .and_then(|l| errors.take(parse_label(l)));
        let options = input
            .options
            .as_deref()
            .and_then(|o| errors.take(parse_options(kind, o)));
        if let Some(required) = input.required {
            check_required(kind, required, &mut errors);
        }
        let position = input.position.and_then(|p| errors.take(parse_position(p)));
        let changes = DefinitionChanges {
            label,
            options,
            required: input.required,
            in_list: input.in_list,
            position,
            active: input.active,
        };
        errors.finish(|| Some(changes))
    }
}

/// A key: 1 to [`KEY_MAX`] of `a-z 0-9 _`, starting with a letter. It names the field in
/// the API, the CSV columns (`field:<key>`) and the list filter.
pub fn parse_key(raw: &str) -> Result<String, FieldError> {
    let key = raw.trim();
    if key.is_empty() {
        return Err(FieldError::new("key", "required"));
    }
    if key.chars().count() > KEY_MAX {
        return Err(FieldError::new("key", "too_long").with("max", KEY_MAX));
    }
    let mut chars = key.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !first_ok || !rest_ok {
        return Err(FieldError::new("key", "invalid_field_key"));
    }
    Ok(key.to_owned())
}

/// A label: 1 to [`LABEL_MAX`] characters.
pub fn parse_label(raw: &str) -> Result<String, FieldError> {
    bounded("label", raw, 1, LABEL_MAX)
}

fn parse_position(position: i32) -> Result<i32, FieldError> {
    if (0..=POSITION_MAX).contains(&position) {
        Ok(position)
    } else {
        Err(FieldError::new("position", "out_of_range")
            .with("min", 0)
            .with("max", POSITION_MAX))
    }
}

/// The options of a field of `kind`: 1 to [`OPTIONS_MAX`] distinct (ignoring case) texts of
/// 1 to [`OPTION_MAX`] characters for a select field, none for the others.
fn parse_options(kind: FieldKind, raw: &[String]) -> Result<Vec<String>, FieldError> {
    if kind != FieldKind::Select {
        return if raw.iter().all(|o| o.trim().is_empty()) {
            Ok(Vec::new())
        } else {
            Err(FieldError::new("options", "options_not_allowed"))
        };
    }
    let given: Vec<&String> = raw.iter().filter(|o| !o.trim().is_empty()).collect();
    if given.is_empty() {
        return Err(FieldError::new("options", "required"));
    }
    if given.len() > OPTIONS_MAX {
        return Err(FieldError::new("options", "too_many").with("max", OPTIONS_MAX));
    }
    let mut seen = HashSet::new();
    let mut options = Vec::with_capacity(given.len());
    for option in given {
        let option = bounded("options", option, 1, OPTION_MAX)?;
        if !seen.insert(option.to_lowercase()) {
            return Err(FieldError::new("options", "duplicate_option").with("option", option));
        }
        options.push(option);
    }
    Ok(options)
}

/// A checkbox always has an answer (unticked is "no"), so it cannot be required.
fn check_required(kind: FieldKind, required: bool, errors: &mut FieldErrors) {
    if required && kind == FieldKind::Checkbox {
        errors.push(FieldError::new("required", "not_for_checkbox"));
    }
}

/// A value as it comes in: text from a form or a CSV cell, or a JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldInput {
    /// Nothing: clears the value (JSON `null`).
    Clear,
    /// Text as typed (empty clears the value).
    Text(String),
    /// A JSON number, as written.
    Number(String),
    /// A JSON boolean.
    Bool(bool),
    /// A JSON array or object: never a value.
    Other,
}

impl FieldInput {
    /// The input of a JSON value.
    pub fn from_json(value: &serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => FieldInput::Clear,
            serde_json::Value::String(s) => FieldInput::Text(s.clone()),
            serde_json::Value::Number(n) => FieldInput::Number(n.to_string()),
            serde_json::Value::Bool(b) => FieldInput::Bool(*b),
            _ => FieldInput::Other,
        }
    }
}

/// A custom field's value, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// Text, trimmed, without control characters.
    Text(String),
    /// A decimal number in canonical form (`-12.5`, `3`).
    Number(String),
    /// A day.
    Date(NaiveDate),
    /// One of the options, as the definition spells it.
    Select(String),
    /// Yes (only ticked boxes are stored).
    Checkbox(bool),
}

impl FieldValue {
    /// The stored (and shown) text.
    pub fn stored(&self) -> String {
        match self {
            FieldValue::Text(t) | FieldValue::Number(t) | FieldValue::Select(t) => t.clone(),
            FieldValue::Date(d) => d.format("%Y-%m-%d").to_string(),
            FieldValue::Checkbox(b) => b.to_string(),
        }
    }

    /// The index key the list's filter compares (see the module header).
    pub fn key(&self) -> String {
        match self {
            FieldValue::Text(t) => text_key(t),
            FieldValue::Select(t) => t.to_lowercase(),
            other => other.stored(),
        }
    }

    /// The value of a field of `kind` as stored; `None` for text the kind cannot hold.
    pub fn from_stored(kind: FieldKind, text: &str) -> Option<Self> {
        Some(match kind {
            FieldKind::Text => FieldValue::Text(text.to_owned()),
            FieldKind::Number => FieldValue::Number(parse_number(text).ok()?),
            FieldKind::Date => FieldValue::Date(parse_date(text).ok()?),
            FieldKind::Select => FieldValue::Select(text.to_owned()),
            FieldKind::Checkbox => FieldValue::Checkbox(text == "true"),
        })
    }

    /// The JSON form: text, date and option as strings, a number as a number, a checkbox as
    /// a boolean.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            FieldValue::Number(n) => match n.parse::<i64>() {
                Ok(i) => serde_json::Value::from(i),
                // At most 15 significant digits: the nearest double prints back the same.
                Err(_) => n.parse::<f64>().map_or_else(
                    |_| serde_json::Value::from(n.clone()),
                    serde_json::Value::from,
                ),
            },
            FieldValue::Checkbox(b) => serde_json::Value::Bool(*b),
            other => serde_json::Value::String(other.stored()),
        }
    }
}

/// The index key of a text: lower-cased, its first [`KEY_CHARS`] characters.
fn text_key(text: &str) -> String {
    text.to_lowercase().chars().take(KEY_CHARS).collect()
}

/// The error field naming custom field `key` (a key too long to be one is cut).
pub fn error_field(key: &str) -> String {
    let key: String = key.chars().take(KEY_MAX + 1).collect();
    format!("custom_fields.{key}")
}

/// Parses `input` for field `def`; `Ok(None)` clears the value (nothing given, an empty
/// text, an unticked box).
pub fn parse_value(def: &FieldDef, input: &FieldInput) -> Result<Option<FieldValue>, FieldError> {
    let field = error_field(&def.key);
    let wrong_type =
        || FieldError::new(field.clone(), "wrong_type").with("kind", def.kind.as_str());
    let text = match input {
        FieldInput::Clear => return Ok(None),
        FieldInput::Other => return Err(wrong_type()),
        FieldInput::Text(t) => t.as_str(),
        FieldInput::Number(n) => match def.kind {
            FieldKind::Number => n.as_str(),
            _ => return Err(wrong_type()),
        },
        FieldInput::Bool(b) => match def.kind {
            FieldKind::Checkbox => return Ok(b.then_some(FieldValue::Checkbox(true))),
            _ => return Err(wrong_type()),
        },
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    let named = |e: FieldError| FieldError {
        field: field.clone(),
        ..e
    };
    match def.kind {
        FieldKind::Text => bounded(&field, text, 1, TEXT_MAX).map(|t| Some(FieldValue::Text(t))),
        FieldKind::Number => parse_number(text)
            .map(|n| Some(FieldValue::Number(n)))
            .map_err(named),
        FieldKind::Date => parse_date(text)
            .map(|d| Some(FieldValue::Date(d)))
            .map_err(named),
        FieldKind::Select => {
            let wanted = text.trim().to_lowercase();
            def.options
                .iter()
                .find(|o| o.to_lowercase() == wanted)
                .map(|o| Some(FieldValue::Select(o.clone())))
                .ok_or_else(|| FieldError::new(field.clone(), "unknown_option"))
        }
        FieldKind::Checkbox => parse_checkbox(text)
            .map(|b| b.then_some(FieldValue::Checkbox(true)))
            .map_err(named),
    }
}

/// A number, strictly: an optional `-`, digits, optionally a point and more digits; at most
/// [`NUMBER_DIGITS_MAX`] significant digits. Returned in canonical form (no leading zeros,
/// no trailing zeros after the point, no `-0`).
pub fn parse_number(raw: &str) -> Result<String, FieldError> {
    let invalid = || FieldError::new("number", "invalid_decimal");
    let text = raw.trim();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return Err(invalid());
    }
    let int = int.trim_start_matches('0');
    let frac = frac.unwrap_or("").trim_end_matches('0');
    let significant = if int.is_empty() {
        frac.trim_start_matches('0').len()
    } else {
        int.len() + frac.len()
    };
    if significant > NUMBER_DIGITS_MAX || int.len() + frac.len() > NUMBER_DIGITS_MAX * 2 {
        return Err(FieldError::new("number", "too_many_digits").with("max", NUMBER_DIGITS_MAX));
    }
    let int = if int.is_empty() { "0" } else { int };
    let mut canonical = String::with_capacity(int.len() + frac.len() + 2);
    if negative && (int != "0" || !frac.is_empty()) {
        canonical.push('-');
    }
    canonical.push_str(int);
    if !frac.is_empty() {
        canonical.push('.');
        canonical.push_str(frac);
    }
    Ok(canonical)
}

/// A day as `YYYY-MM-DD`.
pub fn parse_date(raw: &str) -> Result<NaiveDate, FieldError> {
    let text = raw.trim();
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return Err(FieldError::new("date", "invalid_date"));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| FieldError::new("date", "invalid_date"))
}

/// A checkbox as typed: `true`/`false`, `yes`/`no`, `1`/`0`, `on` (a ticked box).
fn parse_checkbox(raw: &str) -> Result<bool, FieldError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        _ => Err(FieldError::new("checkbox", "invalid_boolean")),
    }
}

/// One field's new value for a customer (`None`: none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueChange {
    /// The definition.
    pub field_id: i64,
    /// The value, or none.
    pub value: Option<FieldValue>,
}

/// Parses the custom fields given for a customer against the tenant's definitions `defs`.
/// `held` is `None` for a new customer, else the fields the customer has a value for now.
/// Every active required field must have a value afterwards: always for a new customer,
/// and for a change whenever it gives any custom field (a change of other properties does
/// not make a customer created before a field was required fill it in). Unknown or
/// inactive keys, more keys than [`FIELDS_MAX`], and every value's own error are reported
/// together.
pub fn parse_values(
    defs: &[FieldDef],
    given: &[(String, FieldInput)],
    held: Option<&HashSet<i64>>,
) -> Result<Vec<ValueChange>, FieldErrors> {
    let mut errors = FieldErrors::new();
    if given.len() > FIELDS_MAX {
        errors.push(FieldError::new("custom_fields", "too_many").with("max", FIELDS_MAX));
        return Err(errors);
    }
    let mut changes: Vec<ValueChange> = Vec::with_capacity(given.len());
    for (key, input) in given {
        let Some(def) = defs.iter().find(|d| d.active && d.key == key.trim()) else {
            errors.push(FieldError::new(error_field(key), "unknown_field"));
            continue;
        };
        if changes.iter().any(|c| c.field_id == def.id) {
            errors.push(FieldError::new(error_field(key), "duplicate"));
            continue;
        }
        if let Some(value) = errors.take(parse_value(def, input)) {
            changes.push(ValueChange {
                field_id: def.id,
                value,
            });
        }
    }
    let check_required = held.is_none() || !given.is_empty();
    if check_required {
        for def in defs.iter().filter(|d| d.active && d.required) {
            let filled = match changes.iter().find(|c| c.field_id == def.id) {
                Some(change) => change.value.is_some(),
                None => held.is_some_and(|h| h.contains(&def.id)),
            };
            let refused = errors.0.iter().any(|e| e.field == error_field(&def.key));
            if !filled && !refused {
                errors.push(FieldError::new(error_field(&def.key), "required"));
            }
        }
    }
    errors.finish(|| Some(changes))
}

/// How the customer list matches a field: the index key equal to a value, or starting
/// with one (text), or a checkbox not ticked (no stored value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldMatch {
    /// The key is this.
    Exact(String),
    /// The key starts with this (text fields).
    Prefix(String),
    /// No value is stored (an unticked checkbox).
    Unticked,
}

/// The list filter on field `def` for the text typed (`field_value`): a prefix of a text
/// (case-insensitive, at most [`KEY_CHARS`] characters), a number or date read as a value
/// is, one of a select's options, `true` or `false` for a checkbox.
pub fn parse_filter(def: &FieldDef, raw: &str) -> Result<FieldMatch, FieldError> {
    let field = "field_value";
    let text = raw.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    let named = |e: FieldError| FieldError {
        field: field.to_owned(),
        ..e
    };
    match def.kind {
        FieldKind::Text => {
            if text.chars().count() > KEY_CHARS {
                return Err(FieldError::new(field, "too_long").with("max", KEY_CHARS));
            }
            if text.chars().any(char::is_control) {
                return Err(FieldError::new(field, "control_characters"));
            }
            Ok(FieldMatch::Prefix(text_key(text)))
        }
        FieldKind::Checkbox => match parse_checkbox(text).map_err(named)? {
            true => Ok(FieldMatch::Exact("true".to_owned())),
            false => Ok(FieldMatch::Unticked),
        },
        _ => {
            let input = FieldInput::Text(text.to_owned());
            match parse_value(def, &input) {
                Ok(Some(value)) => Ok(FieldMatch::Exact(value.key())),
                Ok(None) => Err(FieldError::new(field, "required")),
                Err(e) => Err(named(e)),
            }
        }
    }
}

#[cfg(test)]
#[path = "custom_field_tests.rs"]
mod tests;
