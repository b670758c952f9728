//! [`Stored`]: the column type of a closed set kept as its text code (a status, a billing or
//! connection type, a package level), so that a row arrives typed and nothing above the
//! store parses the text again.
//!
//! Any [`Code`] can be a column: the SeaORM and sea-query impls are written here by hand
//! once, generically (a derive would need one newtype per set, and the orphan rule keeps
//! the impls off the domain enums themselves). A row holding a code its set does not have
//! fails to decode with an error naming the set, the code and the column; it is never read
//! as some default.

use std::fmt;
use std::ops::Deref;

use domain::code::Code;
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, StringLen, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value};

/// A column holding a closed set's code, read and written as the typed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stored<T>(pub T);

impl<T: Code> Stored<T> {
    /// The value.
    pub fn get(self) -> T {
        self.0
    }

    /// The value's code, as stored and sent.
    pub fn code(self) -> &'static str {
        self.0.code()
    }
}

impl<T> Deref for Stored<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Code> From<T> for Stored<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

/// Compares with a value of the set, so `row.status == CustomerStatus::Active` reads as it
/// means.
impl<T: Code> PartialEq<T> for Stored<T> {
    fn eq(&self, other: &T) -> bool {
        self.0 == *other
    }
}

/// Prints the code (what templates and messages show).
impl<T: Code> fmt::Display for Stored<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.code())
    }
}

/// Serialises as the code (audit snapshots, JSON).
impl<T: Code> serde::Serialize for Stored<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.code())
    }
}

impl<T: Code> From<Stored<T>> for Value {
    fn from(stored: Stored<T>) -> Self {
        Value::String(Some(stored.0.code().to_owned()))
    }
}

impl<T: Code> TryGetable for Stored<T> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let text = String::try_get_by(res, index)?;
        T::from_code(&text).map(Self).ok_or_else(|| {
            TryGetError::DbErr(DbErr::Type(format!(
                "unknown {} {text:?} in column {index:?}",
                T::SET
            )))
        })
    }
}

impl<T: Code> ValueType for Stored<T> {
    fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
        let text = <String as ValueType>::try_from(value)?;
        T::from_code(&text).map(Self).ok_or(ValueTypeErr)
    }

    fn type_name() -> String {
        format!("Stored<{}>", T::SET)
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::String(StringLen::None)
    }
}

impl<T: Code> Nullable for Stored<T> {
    fn null() -> Value {
        Value::String(None)
    }
}

impl<T: Code> sea_orm::IntoActiveValue<Stored<T>> for Stored<T> {
    fn into_active_value(self) -> sea_orm::ActiveValue<Stored<T>> {
        sea_orm::ActiveValue::Set(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::customer::CustomerStatus;

    #[test]
    fn a_stored_code_goes_out_and_comes_back_as_its_value() {
        let value = Value::from(Stored(CustomerStatus::Suspended));
        assert_eq!(value, Value::String(Some("suspended".to_owned())));
        assert_eq!(
            <Stored<CustomerStatus> as ValueType>::try_from(value).ok(),
            Some(Stored(CustomerStatus::Suspended))
        );
        assert!(
            <Stored<CustomerStatus> as ValueType>::try_from(Value::from("gone".to_owned()))
                .is_err()
        );
        assert_eq!(Stored(CustomerStatus::Active).to_string(), "active");
        assert_eq!(
            serde_json::to_value(Stored(CustomerStatus::Disabled)).ok(),
            Some(serde_json::json!("disabled"))
        );
    }
}
