//! Word classification: what kind of word a byte string is (command, attribute, API
//! attribute, query, reply) and how each kind is written.
//!
//! Words are bytes; names are compared as bytes and values are never decoded here. The
//! sentence layer ([`crate::sentence`]) builds commands and replies from these pieces.

/// A query word of a `print` command (`?...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryWord<'a> {
    /// `?name`: the item has the property.
    Has(&'a [u8]),
    /// `?-name`: the item lacks the property.
    Lacks(&'a [u8]),
    /// `?name=value` or `?=name=value`: the property equals the value.
    Eq(&'a [u8], &'a [u8]),
    /// `?<name=value`: the property is less than the value.
    Lt(&'a [u8], &'a [u8]),
    /// `?>name=value`: the property is greater than the value.
    Gt(&'a [u8], &'a [u8]),
    /// `?#ops`: stack operations (`|`, `&`, `!`, `.`, index digits).
    Ops(&'a [u8]),
}

/// One word, classified by its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Word<'a> {
    /// A command word, such as `/ppp/secret/print`.
    Command(&'a [u8]),
    /// An attribute word `=name=value` (the value may contain `=` or be empty).
    Attribute(&'a [u8], &'a [u8]),
    /// An API attribute word `.name=value`, such as `.tag=7`.
    Api(&'a [u8], &'a [u8]),
    /// A query word.
    Query(QueryWord<'a>),
    /// A reply word such as `!re` or `!done`.
    Reply(&'a [u8]),
    /// Anything else (for example the reason word after `!fatal`).
    Other(&'a [u8]),
}

/// Splits `name=value` at the first `=`; without one, the whole is the name and the value is
/// empty.
fn split_pair(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b'=') {
        Some(at) => (&bytes[..at], &bytes[at + 1..]),
        None => (bytes, &[]),
    }
}

impl<'a> Word<'a> {
    /// Classifies a word.
    pub fn parse(word: &'a [u8]) -> Self {
        match word.split_first() {
            Some((b'/', _)) => Self::Command(word),
            Some((b'=', rest)) => {
                let (name, value) = split_pair(rest);
                Self::Attribute(name, value)
            }
            Some((b'.', rest)) => {
                let (name, value) = split_pair(rest);
                Self::Api(name, value)
            }
            Some((b'?', rest)) => Self::Query(QueryWord::parse(rest)),
            Some((b'!', _)) => Self::Reply(word),
            _ => Self::Other(word),
        }
    }
}

impl<'a> QueryWord<'a> {
    /// Parses the text after the leading `?`.
    pub fn parse(rest: &'a [u8]) -> Self {
        match rest.split_first() {
            Some((b'#', ops)) => Self::Ops(ops),
            Some((b'-', name)) => Self::Lacks(name),
            Some((b'=', pair)) => {
                let (name, value) = split_pair(pair);
                Self::Eq(name, value)
            }
            Some((b'<', pair)) => {
                let (name, value) = split_pair(pair);
                Self::Lt(name, value)
            }
            Some((b'>', pair)) => {
                let (name, value) = split_pair(pair);
                Self::Gt(name, value)
            }
            _ if rest.contains(&b'=') => {
                let (name, value) = split_pair(rest);
                Self::Eq(name, value)
            }
            _ => Self::Has(rest),
        }
    }

    /// The word on the wire, leading `?` included. Equality uses the `?=name=value` form,
    /// which is unambiguous for every name.
    pub fn to_bytes(&self) -> Vec<u8> {
        let (prefix, name, value): (&[u8], &[u8], Option<&[u8]>) = match *self {
            Self::Has(name) => (b"?", name, None),
            Self::Lacks(name) => (b"?-", name, None),
            Self::Eq(name, value) => (b"?=", name, Some(value)),
            Self::Lt(name, value) => (b"?<", name, Some(value)),
            Self::Gt(name, value) => (b"?>", name, Some(value)),
            Self::Ops(ops) => (b"?#", ops, None),
        };
        let mut out =
            Vec::with_capacity(prefix.len() + name.len() + 1 + value.map_or(0, <[u8]>::len));
        out.extend_from_slice(prefix);
        out.extend_from_slice(name);
        if let Some(value) = value {
            out.push(b'=');
            out.extend_from_slice(value);
        }
        out
    }
}

/// Writes `=name=value`.
pub fn attribute(name: &[u8], value: &[u8]) -> Vec<u8> {
    pair(b'=', name, value)
}

/// Writes `.name=value`.
pub fn api_attribute(name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + value.len() + 2);
    out.push(b'.');
    out.extend_from_slice(name);
    out.push(b'=');
    out.extend_from_slice(value);
    out
}

fn pair(lead: u8, name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + value.len() + 2);
    out.push(lead);
    out.extend_from_slice(name);
    out.push(b'=');
    out.extend_from_slice(value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attribute_value_may_contain_equals_signs_and_be_empty() {
        assert_eq!(
            Word::parse(b"=comment=a=b=c"),
            Word::Attribute(b"comment", b"a=b=c")
        );
        assert_eq!(Word::parse(b"=comment="), Word::Attribute(b"comment", b""));
        assert_eq!(Word::parse(b"=verbose"), Word::Attribute(b"verbose", b""));
    }

    #[test]
    fn api_attributes_and_commands_are_told_apart() {
        assert_eq!(Word::parse(b".tag=12"), Word::Api(b"tag", b"12"));
        assert_eq!(Word::parse(b"=.id=*1A"), Word::Attribute(b".id", b"*1A"));
        assert_eq!(
            Word::parse(b"/ppp/secret/print"),
            Word::Command(b"/ppp/secret/print")
        );
        assert_eq!(Word::parse(b"!done"), Word::Reply(b"!done"));
        assert_eq!(Word::parse(b"not logged in"), Word::Other(b"not logged in"));
    }

    #[test]
    fn every_query_form_is_recognised() {
        let cases: [(&[u8], QueryWord<'_>); 8] = [
            (b"?name=x", QueryWord::Eq(b"name", b"x")),
            (b"?=name=x=y", QueryWord::Eq(b"name", b"x=y")),
            (b"?name", QueryWord::Has(b"name")),
            (b"?-name", QueryWord::Lacks(b"name")),
            (b"?<bytes=10", QueryWord::Lt(b"bytes", b"10")),
            (b"?>bytes=10", QueryWord::Gt(b"bytes", b"10")),
            (b"?#|!", QueryWord::Ops(b"|!")),
            (b"?name=", QueryWord::Eq(b"name", b"")),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                Word::parse(bytes),
                Word::Query(expected),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn query_words_written_by_us_parse_back_to_themselves() {
        for query in [
            QueryWord::Eq(b"name", b"a=b"),
            QueryWord::Has(b"comment"),
            QueryWord::Lacks(b"comment"),
            QueryWord::Lt(b"uptime", b"30"),
            QueryWord::Gt(b"uptime", b"30"),
            QueryWord::Ops(b"|&"),
        ] {
            let bytes = query.to_bytes();
            assert_eq!(Word::parse(&bytes), Word::Query(query));
        }
    }
}
