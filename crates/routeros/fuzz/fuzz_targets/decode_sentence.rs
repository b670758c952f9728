//! Fuzzes the sentence decoder: any bytes, split at a fuzzer-chosen point, must decode the
//! same as in one piece, never panic, and every decoded sentence must survive an
//! encode/decode round trip and parse as a reply or be refused as one.

#![no_main]

use libfuzzer_sys::fuzz_target;
use routeros::codec::{Decoder, Limits, Sentence, encode_sentence};
use routeros::sentence::Reply;

const LIMITS: Limits = Limits { max_word_len: 4096, max_words: 64, max_sentence_len: 16384 };

fn decode(pieces: &[&[u8]]) -> (Vec<Sentence>, bool) {
    let mut decoder = Decoder::new(LIMITS);
    let mut buffer = Vec::new();
    let mut sentences = Vec::new();
    for piece in pieces {
        buffer.extend_from_slice(piece);
        match decoder.decode_all(&buffer, &mut sentences) {
            Ok(used) => {
                buffer.drain(..used);
            }
            Err(_) => return (sentences, true),
        }
    }
    (sentences, false)
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else { return };
    let at = usize::from(split).min(data.len());
    let (whole, whole_failed) = decode(&[data]);
    let (split_up, split_failed) = decode(&[&data[..at], &data[at..]]);
    assert_eq!(whole_failed, split_failed);
    if !whole_failed {
        assert_eq!(whole, split_up);
    }
    for sentence in whole {
        let mut bytes = Vec::new();
        encode_sentence(&sentence.words, &mut bytes).expect("decoded words are encodable");
        let (again, failed) = decode(&[&bytes]);
        assert!(!failed);
        assert_eq!(again, vec![sentence.clone()]);
        let _ = Reply::parse(sentence);
    }
});
