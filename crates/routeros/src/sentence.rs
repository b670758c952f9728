//! Commands we send and replies we receive: [`Command`] (a command word plus attribute,
//! API attribute and query words), [`Reply`] (`!re`, `!done`, `!trap`, `!fatal`, `!empty`),
//! the property rows they carry ([`Row`]) and item ids ([`ItemId`]).
//!
//! Values stay bytes end to end; [`decode_text`] is the one place bytes become text, for
//! callers that want strings. The simulated router uses the same types to build its replies.

use std::borrow::Cow;
use std::fmt;

use crate::codec::{CodecError, Sentence, encode_sentence};
use crate::query::Query;
use crate::word::{self, Word};

/// Decodes a property value as text: UTF-8 when it is valid UTF-8, otherwise Latin-1 (RouterOS
/// declares no charset and historically writes Latin-1/cp1252), so no byte is ever lost to a
/// replacement character.
pub fn decode_text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// An item id as RouterOS prints it, such as `*1A`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(String);

impl ItemId {
    /// Parses `*` followed by hexadecimal digits.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.strip_prefix('*')?;
        let valid = !digits.is_empty() && digits.len() <= 16;
        (valid && digits.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Self(text.to_owned()))
    }

    /// The id for internal number `n` (`*1`, `*A`, …).
    pub fn from_number(n: u64) -> Self {
        Self(format!("*{n:X}"))
    }

    /// The internal number behind the id.
    pub fn number(&self) -> Option<u64> {
        u64::from_str_radix(self.0.get(1..)?, 16).ok()
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The properties of one reply sentence, in wire order, as raw bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Row {
    /// An empty row.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a property.
    pub fn push(&mut self, name: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.pairs.push((name.into(), value.into()));
    }

    /// Builder form of [`Row::push`].
    pub fn with(mut self, name: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Self {
        self.push(name, value);
        self
    }

    /// The raw value of a property.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    /// The value of a property as text (see [`decode_text`]).
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(|v| decode_text(v).into_owned())
    }

    /// The value of a boolean property (`true`/`yes` or `false`/`no`).
    pub fn flag(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            b"true" | b"yes" => Some(true),
            b"false" | b"no" => Some(false),
            _ => None,
        }
    }

    /// The item's `.id`.
    pub fn id(&self) -> Option<ItemId> {
        ItemId::parse(&decode_text(self.get(".id")?))
    }

    /// The properties in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.pairs.iter().map(|(n, v)| (n.as_slice(), v.as_slice()))
    }

    /// Number of properties.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the row has no property.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// A command sentence under construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    words: Vec<Vec<u8>>,
}

impl Command {
    /// A command with this command word, such as `/ppp/secret/print`.
    pub fn new(path: &str) -> Self {
        Self {
            words: vec![path.as_bytes().to_vec()],
        }
    }

    /// The command word.
    pub fn path(&self) -> Cow<'_, str> {
        decode_text(self.words.first().map_or(&[][..], Vec::as_slice))
    }

    /// Adds `=name=value`. `name` must not contain `=`; `value` may be anything.
    pub fn attr(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.words
            .push(word::attribute(name.as_bytes(), value.as_ref()));
        self
    }

    /// Adds `=.id=ID`.
    pub fn id(self, id: &ItemId) -> Self {
        self.attr(".id", id.as_str())
    }

    /// Adds `=.proplist=a,b,c` (nothing when `props` is empty: all properties).
    pub fn proplist(self, props: &[&str]) -> Self {
        if props.is_empty() {
            self
        } else {
            self.attr(".proplist", props.join(","))
        }
    }

    /// Appends the query's words.
    pub fn query(mut self, query: &Query) -> Self {
        self.words.extend(query.words().iter().cloned());
        self
    }

    /// Appends a raw word, for anything the builders do not cover.
    pub fn word(mut self, word: impl Into<Vec<u8>>) -> Self {
        self.words.push(word.into());
        self
    }

    /// The words, command word first, without any tag.
    pub fn words(&self) -> &[Vec<u8>] {
        &self.words
    }

    /// Encodes the sentence with an optional `.tag`.
    pub fn encode(&self, tag: Option<&[u8]>, out: &mut Vec<u8>) -> Result<(), CodecError> {
        match tag {
            None => encode_sentence(&self.words, out),
            Some(tag) => {
                let mut words: Vec<&[u8]> = self.words.iter().map(Vec::as_slice).collect();
                let tag_word = word::api_attribute(b"tag", tag);
                words.push(&tag_word);
                encode_sentence(&words, out)
            }
        }
    }
}

/// The kind of a reply sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// `!re`: one data row.
    Re,
    /// `!done`: the last reply to a command, possibly with `=ret=`.
    Done,
    /// `!trap`: an error, followed by `!done`.
    Trap,
    /// `!fatal`: the router is closing the connection.
    Fatal,
    /// `!empty`: an empty result (RouterOS 7.18 and later), followed by `!done`.
    Empty,
}

impl ReplyKind {
    /// The reply word.
    pub fn word(self) -> &'static str {
        match self {
            Self::Re => "!re",
            Self::Done => "!done",
            Self::Trap => "!trap",
            Self::Fatal => "!fatal",
            Self::Empty => "!empty",
        }
    }

    fn parse(word: &[u8]) -> Option<Self> {
        Some(match word {
            b"!re" => Self::Re,
            b"!done" => Self::Done,
            b"!trap" => Self::Trap,
            b"!fatal" => Self::Fatal,
            b"!empty" => Self::Empty,
            _ => return None,
        })
    }
}

/// The category of a `!trap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapCategory {
    /// 0: missing item or command.
    MissingItemOrCommand,
    /// 1: argument value failure.
    ArgumentValue,
    /// 2: execution interrupted (what a cancelled command gets).
    Interrupted,
    /// 3: scripting failure.
    Scripting,
    /// 4: general failure.
    General,
    /// 5: API failure.
    Api,
    /// 6: TTY failure.
    Tty,
    /// 7: value returned by `:return`.
    ReturnValue,
    /// Any other number.
    Other(u32),
}

impl TrapCategory {
    /// The category for a wire number.
    pub fn from_number(n: u32) -> Self {
        match n {
            0 => Self::MissingItemOrCommand,
            1 => Self::ArgumentValue,
            2 => Self::Interrupted,
            3 => Self::Scripting,
            4 => Self::General,
            5 => Self::Api,
            6 => Self::Tty,
            7 => Self::ReturnValue,
            n => Self::Other(n),
        }
    }

    /// The wire number.
    pub fn number(self) -> u32 {
        match self {
            Self::MissingItemOrCommand => 0,
            Self::ArgumentValue => 1,
            Self::Interrupted => 2,
            Self::Scripting => 3,
            Self::General => 4,
            Self::Api => 5,
            Self::Tty => 6,
            Self::ReturnValue => 7,
            Self::Other(n) => n,
        }
    }
}

/// A reply sentence that does not start with a reply word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a reply sentence (first word {first:?})")]
pub struct NotAReply {
    /// The first word, lossily decoded, at most 64 bytes.
    pub first: String,
}

/// A parsed reply sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// What the reply is.
    pub kind: ReplyKind,
    /// The `.tag`, when the reply carries one.
    pub tag: Option<Vec<u8>>,
    /// The `=name=value` words.
    pub attributes: Row,
    /// Words that are neither attributes nor API attributes (the reason after `!fatal`).
    pub other: Vec<Vec<u8>>,
}

impl Reply {
    /// A reply of this kind with no tag and no attributes.
    pub fn new(kind: ReplyKind) -> Self {
        Self {
            kind,
            tag: None,
            attributes: Row::new(),
            other: Vec::new(),
        }
    }

    /// Parses a received sentence.
    pub fn parse(sentence: Sentence) -> Result<Self, NotAReply> {
        let mut words = sentence.words.into_iter();
        let first = words.next().unwrap_or_default();
        let Some(kind) = ReplyKind::parse(&first) else {
            let shown = first.get(..64).unwrap_or(&first);
            return Err(NotAReply {
                first: decode_text(shown).into_owned(),
            });
        };
        let mut reply = Self::new(kind);
        for word in words {
            match Word::parse(&word) {
                Word::Attribute(name, value) => reply.attributes.push(name, value),
                Word::Api(b"tag", value) => reply.tag = Some(value.to_vec()),
                Word::Api(name, value) => reply.attributes.push([&b"."[..], name].concat(), value),
                _ => reply.other.push(word),
            }
        }
        Ok(reply)
    }

    /// The `=message=` of a trap, or the reason of a fatal, as text.
    pub fn message(&self) -> String {
        match self.attributes.get("message") {
            Some(message) => decode_text(message).into_owned(),
            None => self
                .other
                .iter()
                .map(|w| decode_text(w).into_owned())
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// The `=category=` of a trap.
    pub fn category(&self) -> Option<TrapCategory> {
        let text = decode_text(self.attributes.get("category")?).into_owned();
        text.parse().ok().map(TrapCategory::from_number)
    }

    /// Encodes the reply: reply word, attributes, other words, then the tag.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let mut words: Vec<Vec<u8>> = Vec::with_capacity(self.attributes.len() + 3);
        words.push(self.kind.word().as_bytes().to_vec());
        for (name, value) in self.attributes.iter() {
            words.push(word::attribute(name, value));
        }
        words.extend(self.other.iter().cloned());
        if let Some(tag) = &self.tag {
            words.push(word::api_attribute(b"tag", tag));
        }
        encode_sentence(&words, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_utf8_values_decode_as_latin1_without_loss() {
        assert_eq!(decode_text(b"caf\xe9"), "café");
        assert_eq!(decode_text("café".as_bytes()), "café");
    }

    #[test]
    fn item_ids_are_star_and_hex() {
        assert_eq!(ItemId::from_number(26).as_str(), "*1A");
        assert_eq!(ItemId::parse("*1A").and_then(|id| id.number()), Some(26));
        assert_eq!(ItemId::parse("1A"), None);
        assert_eq!(ItemId::parse("*"), None);
        assert_eq!(ItemId::parse("*XYZ"), None);
    }

    #[test]
    fn a_trap_reply_gives_its_message_category_and_tag() {
        let sentence = Sentence::new([
            &b"!trap"[..],
            b"=category=1",
            b"=message=failure: already have such entry",
            b".tag=5",
        ]);
        let reply = Reply::parse(sentence).unwrap();
        assert_eq!(reply.kind, ReplyKind::Trap);
        assert_eq!(reply.tag.as_deref(), Some(&b"5"[..]));
        assert_eq!(reply.category(), Some(TrapCategory::ArgumentValue));
        assert_eq!(reply.message(), "failure: already have such entry");
    }

    #[test]
    fn a_fatal_reply_keeps_its_reason_word() {
        let reply = Reply::parse(Sentence::new([
            &b"!fatal"[..],
            b"session terminated on request",
        ]))
        .unwrap();
        assert_eq!(reply.kind, ReplyKind::Fatal);
        assert_eq!(reply.message(), "session terminated on request");
    }

    #[test]
    fn a_sentence_that_is_not_a_reply_is_refused() {
        assert!(Reply::parse(Sentence::new([&b"/ppp/secret/print"[..]])).is_err());
        assert!(Reply::parse(Sentence::default()).is_err());
    }
}
