//! The RouterOS API word and sentence codec: the five length encodings, word and sentence
//! encoding, and an incremental, bounded sentence decoder.
//!
//! This module owns bytes only. It does not interpret words (see [`crate::word`]) nor replies
//! (see [`crate::sentence`]). Both the client and the simulated router read through
//! [`Decoder`], so the limits in [`Limits`] protect both sides from hostile peers.

use thiserror::Error;

/// The largest word the 5-byte length form can carry.
pub const MAX_WORD_LEN: usize = u32::MAX as usize;

/// What can go wrong while encoding or decoding words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    /// A length prefix began with a reserved control byte (0xF8 and above).
    #[error("reserved control byte 0x{0:02X} where a word length was expected")]
    ReservedControlByte(u8),
    /// A length prefix began with a byte no length form uses (0xF1 to 0xF7).
    #[error("invalid word length prefix 0x{0:02X}")]
    InvalidLengthPrefix(u8),
    /// A word announced a length above the configured maximum.
    #[error("word of {len} bytes exceeds the limit of {max}")]
    WordTooLong {
        /// Announced length.
        len: usize,
        /// Configured maximum.
        max: usize,
    },
    /// A sentence had more words than the configured maximum.
    #[error("sentence exceeds the limit of {max} words")]
    TooManyWords {
        /// Configured maximum.
        max: usize,
    },
    /// A sentence's words add up to more bytes than the configured maximum.
    #[error("sentence exceeds the limit of {max} bytes")]
    SentenceTooLong {
        /// Configured maximum.
        max: usize,
    },
    /// A word is too long for any length form (4 GiB and above).
    #[error("word of {0} bytes cannot be encoded")]
    Unencodable(usize),
}

/// Bounds the decoder enforces, so a peer cannot make us hold unbounded memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted word, in bytes.
    pub max_word_len: usize,
    /// Most words accepted in one sentence.
    pub max_words: usize,
    /// Most bytes (all words of one sentence added up) accepted in one sentence.
    pub max_sentence_len: usize,
}

impl Default for Limits {
    /// Generous limits for a client talking to a router: 1 MiB words (scripts), 4096 words and
    /// 16 MiB per sentence.
    fn default() -> Self {
        Self {
            max_word_len: 1 << 20,
            max_words: 4096,
            max_sentence_len: 16 << 20,
        }
    }
}

/// One decoded sentence: its words, in order, as raw bytes (never assumed UTF-8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sentence {
    /// The words, without their length prefixes and without the terminating empty word.
    pub words: Vec<Vec<u8>>,
}

impl Sentence {
    /// A sentence made of these words.
    pub fn new<W: Into<Vec<u8>>>(words: impl IntoIterator<Item = W>) -> Self {
        Self {
            words: words.into_iter().map(Into::into).collect(),
        }
    }

    /// Encodes the sentence, terminator included, onto `out`.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        encode_sentence(&self.words, out)
    }
}

/// Number of bytes the length prefix of a `len`-byte word takes.
pub fn length_prefix_size(len: usize) -> Result<usize, CodecError> {
    Ok(match len {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        0x4000..=0x1F_FFFF => 3,
        0x20_0000..=0xFFF_FFFF => 4,
        _ if len <= MAX_WORD_LEN => 5,
        _ => return Err(CodecError::Unencodable(len)),
    })
}

/// Appends the big-endian length prefix for a `len`-byte word.
pub fn encode_length(len: usize, out: &mut Vec<u8>) -> Result<(), CodecError> {
    let value = u32::try_from(len).map_err(|_| CodecError::Unencodable(len))?;
    match length_prefix_size(len)? {
        1 => out.push(value.to_be_bytes()[3]),
        2 => out.extend_from_slice(&(value | 0x8000).to_be_bytes()[2..]),
        3 => out.extend_from_slice(&(value | 0xC0_0000).to_be_bytes()[1..]),
        4 => out.extend_from_slice(&(value | 0xE000_0000).to_be_bytes()),
        _ => {
            out.push(0xF0);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
    Ok(())
}

/// Decodes a length prefix at the start of `input`.
///
/// Returns `Ok(None)` when more bytes are needed, or the length and the prefix size.
pub fn decode_length(input: &[u8]) -> Result<Option<(usize, usize)>, CodecError> {
    let Some(&first) = input.first() else {
        return Ok(None);
    };
    let (size, mask): (usize, u32) = match first {
        0x00..=0x7F => return Ok(Some((usize::from(first), 1))),
        0x80..=0xBF => (2, 0x3FFF),
        0xC0..=0xDF => (3, 0x1F_FFFF),
        0xE0..=0xEF => (4, 0xFFF_FFFF),
        0xF0 => (5, u32::MAX),
        0xF1..=0xF7 => return Err(CodecError::InvalidLengthPrefix(first)),
        0xF8..=0xFF => return Err(CodecError::ReservedControlByte(first)),
    };
    let Some(prefix) = input.get(..size) else {
        return Ok(None);
    };
    let value = if size == 5 {
        prefix[1..]
            .iter()
            .fold(0u32, |acc, &b| (acc << 8) | u32::from(b))
    } else {
        prefix
            .iter()
            .fold(0u32, |acc, &b| (acc << 8) | u32::from(b))
            & mask
    };
    let len = usize::try_from(value).map_err(|_| CodecError::Unencodable(usize::MAX))?;
    Ok(Some((len, size)))
}

/// Appends one word (length prefix and bytes).
pub fn encode_word(word: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
    encode_length(word.len(), out)?;
    out.extend_from_slice(word);
    Ok(())
}

/// Appends a sentence: every word, then the terminating zero-length word.
pub fn encode_sentence<W: AsRef<[u8]>>(words: &[W], out: &mut Vec<u8>) -> Result<(), CodecError> {
    for word in words {
        encode_word(word.as_ref(), out)?;
    }
    out.push(0);
    Ok(())
}

/// An incremental sentence decoder.
///
/// Feed it the bytes received so far; it returns how many it consumed and, when one is
/// complete, a sentence. Words of an unfinished sentence are kept inside the decoder, the
/// bytes of an unfinished word stay with the caller. Every limit is checked as soon as a
/// length prefix is read, before its bytes arrive. After an error the stream is unusable.
#[derive(Debug, Clone)]
pub struct Decoder {
    limits: Limits,
    words: Vec<Vec<u8>>,
    sentence_len: usize,
}

impl Decoder {
    /// A decoder enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            words: Vec::new(),
            sentence_len: 0,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Replaces the limits (e.g. loosened once a peer has logged in).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Whether a sentence is partly decoded.
    pub fn in_sentence(&self) -> bool {
        !self.words.is_empty()
    }

    /// Decodes from `input`, returning the bytes consumed and the next complete sentence, if
    /// any. Empty sentences (a lone zero byte) are skipped, as the protocol says.
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, Option<Sentence>), CodecError> {
        let mut pos = 0;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            let Some((len, prefix)) = decode_length(rest)? else {
                return Ok((pos, None));
            };
            if len == 0 {
                pos += prefix;
                if self.words.is_empty() {
                    continue;
                }
                self.sentence_len = 0;
                let words = std::mem::take(&mut self.words);
                return Ok((pos, Some(Sentence { words })));
            }
            if len > self.limits.max_word_len {
                return Err(CodecError::WordTooLong {
                    len,
                    max: self.limits.max_word_len,
                });
            }
            if self.words.len() >= self.limits.max_words {
                return Err(CodecError::TooManyWords {
                    max: self.limits.max_words,
                });
            }
            if self.sentence_len.saturating_add(len) > self.limits.max_sentence_len {
                return Err(CodecError::SentenceTooLong {
                    max: self.limits.max_sentence_len,
                });
            }
            let Some(word) = rest.get(prefix..prefix.saturating_add(len)) else {
                return Ok((pos, None));
            };
            self.words.push(word.to_vec());
            self.sentence_len += len;
            pos += prefix + len;
        }
    }

    /// Decodes every complete sentence in `input`, returning the bytes consumed.
    pub fn decode_all(
        &mut self,
        input: &[u8],
        sentences: &mut Vec<Sentence>,
    ) -> Result<usize, CodecError> {
        let mut pos = 0;
        loop {
            let rest = input.get(pos..).unwrap_or_default();
            let (used, sentence) = self.decode(rest)?;
            pos += used;
            match sentence {
                Some(sentence) => sentences.push(sentence),
                None => return Ok(pos),
            }
        }
    }
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
