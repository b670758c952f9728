//! Field errors: what validation at the edge reports. A rule names the field, a stable
//! snake_case code and its parameters; the server turns the code into a message in the
//! reader's language, so no English sentence is decided here.

use std::fmt;

use serde::Serialize;

/// One invalid field: `field` is the input's name (`email`, `rows[3].mobile`), `code` a stable
/// snake_case reason (`required`, `too_long`, `unknown_currency`), `params` fills the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The input field's name.
    pub field: String,
    /// A stable snake_case reason.
    pub code: &'static str,
    /// Named values for the message (`max` for `too_long`, ...).
    pub params: Vec<(&'static str, String)>,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.code)
    }
}

impl std::error::Error for FieldError {}

impl FieldError {
    /// A field error without parameters.
    pub fn new(field: impl Into<String>, code: &'static str) -> Self {
        Self {
            field: field.into(),
            code,
            params: Vec::new(),
        }
    }

    /// Adds a parameter for the message.
    #[must_use]
    pub fn with(mut self, name: &'static str, value: impl ToString) -> Self {
        self.params.push((name, value.to_string()));
        self
    }
}

/// All the field errors of one input, collected so that a form shows every mistake at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// One error.
    pub fn one(error: FieldError) -> Self {
        Self(vec![error])
    }

    /// Records an error.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Keeps the value of a successful parse, records the error of a failed one.
    pub fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.0.push(error);
                None
            }
        }
    }

    /// Records every error of `other` (a later check of the same input).
    pub fn extend(&mut self, other: FieldErrors) {
        self.0.extend(other.0);
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was recorded, the errors otherwise.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, FieldErrors> {
        if !self.0.is_empty() {
            return Err(self);
        }
        // Every field parsed, so every `Option` the closure unwraps is `Some`; a `None` here
        // would be a bug in the caller, reported as an error on no field rather than a panic.
        value().ok_or_else(|| FieldErrors::one(FieldError::new("", "invalid")))
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for error in &self.0 {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{}: {}", error.field, error.code)?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

impl From<FieldError> for FieldErrors {
    fn from(error: FieldError) -> Self {
        Self::one(error)
    }
}
