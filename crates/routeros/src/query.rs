//! Building `print` queries: the `?` words and the `?#` stack operations.
//!
//! RouterOS evaluates query words on a boolean stack that starts as infinitely many `true`s;
//! an item is returned when every value left on the stack is true. This module only writes
//! queries; the simulated router evaluates them (`sim::query`).

use crate::word::QueryWord;

/// A `print` query: a list of query words, evaluated in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    words: Vec<Vec<u8>>,
}

impl Query {
    /// The empty query: every item matches.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pushes `name == value`.
    pub fn eq(self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.push(QueryWord::Eq(name.as_bytes(), value.as_ref()))
    }

    /// Pushes "has property `name`".
    pub fn has(self, name: &str) -> Self {
        self.push(QueryWord::Has(name.as_bytes()))
    }

    /// Pushes "lacks property `name`".
    pub fn lacks(self, name: &str) -> Self {
        self.push(QueryWord::Lacks(name.as_bytes()))
    }

    /// Pushes `name < value`.
    pub fn lt(self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.push(QueryWord::Lt(name.as_bytes(), value.as_ref()))
    }

    /// Pushes `name > value`.
    pub fn gt(self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.push(QueryWord::Gt(name.as_bytes(), value.as_ref()))
    }

    /// Pops two values and pushes their OR (`?#|`).
    pub fn or(self) -> Self {
        self.ops("|")
    }

    /// Pops two values and pushes their AND (`?#&`).
    pub fn and(self) -> Self {
        self.ops("&")
    }

    /// Negates the top value (`?#!`).
    pub fn negate(self) -> Self {
        self.ops("!")
    }

    /// Raw stack operations, such as `"|!"` or `"0."`.
    pub fn ops(self, ops: &str) -> Self {
        self.push(QueryWord::Ops(ops.as_bytes()))
    }

    /// Appends any query word.
    pub fn push(mut self, word: QueryWord<'_>) -> Self {
        self.words.push(word.to_bytes());
        self
    }

    /// The query words, `?` included.
    pub fn words(&self) -> &[Vec<u8>] {
        &self.words
    }

    /// Whether the query has no word.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_writes_the_words_routeros_documents() {
        let query = Query::new()
            .eq("type", "ether")
            .eq("type", "vlan")
            .or()
            .negate()
            .has("comment");
        let words: Vec<String> = query
            .words()
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        assert_eq!(
            words,
            ["?=type=ether", "?=type=vlan", "?#|", "?#!", "?comment"]
        );
    }
}
