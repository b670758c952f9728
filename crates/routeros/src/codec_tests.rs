//! Codec tests: every length form at its boundaries, decoding across arbitrary splits,
//! limits, reserved bytes, property-based round trips and snapshots of whole sentences.

use proptest::prelude::*;

use super::*;

fn encoded_length(len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    encode_length(len, &mut out).unwrap();
    out
}

#[test]
fn every_length_form_is_used_exactly_up_to_its_boundary() {
    let cases: [(usize, &[u8]); 10] = [
        (0x00, &[0x00]),
        (0x7F, &[0x7F]),
        (0x80, &[0x80, 0x80]),
        (0x3FFF, &[0xBF, 0xFF]),
        (0x4000, &[0xC0, 0x40, 0x00]),
        (0x1F_FFFF, &[0xDF, 0xFF, 0xFF]),
        (0x20_0000, &[0xE0, 0x20, 0x00, 0x00]),
        (0xFFF_FFFF, &[0xEF, 0xFF, 0xFF, 0xFF]),
        (0x1000_0000, &[0xF0, 0x10, 0x00, 0x00, 0x00]),
        (0xFFFF_FFFF, &[0xF0, 0xFF, 0xFF, 0xFF, 0xFF]),
    ];
    for (len, bytes) in cases {
        assert_eq!(encoded_length(len), bytes, "encoding {len:#X}");
        assert_eq!(
            length_prefix_size(len).unwrap(),
            bytes.len(),
            "size of {len:#X}"
        );
        assert_eq!(
            decode_length(bytes).unwrap(),
            Some((len, bytes.len())),
            "decoding {len:#X}"
        );
    }
}

#[test]
fn a_length_prefix_cut_short_asks_for_more_bytes() {
    for len in [0x80, 0x4000, 0x20_0000, 0x1000_0000] {
        let bytes = encoded_length(len);
        for cut in 0..bytes.len() {
            assert_eq!(
                decode_length(&bytes[..cut]).unwrap(),
                None,
                "{len:#X} cut at {cut}"
            );
        }
    }
}

#[test]
fn reserved_control_bytes_and_unused_prefixes_are_errors() {
    for byte in 0xF8..=0xFF {
        assert_eq!(
            decode_length(&[byte]),
            Err(CodecError::ReservedControlByte(byte))
        );
    }
    for byte in 0xF1..=0xF7 {
        assert_eq!(
            decode_length(&[byte]),
            Err(CodecError::InvalidLengthPrefix(byte))
        );
    }
}

#[test]
fn a_word_beyond_four_gigabytes_cannot_be_encoded() {
    if usize::BITS > 32 {
        let len = 1usize << 32;
        assert_eq!(length_prefix_size(len), Err(CodecError::Unencodable(len)));
    }
}

#[test]
fn words_at_each_boundary_round_trip_through_the_decoder() {
    let limits = Limits {
        max_word_len: 0x20_0001,
        max_words: 8,
        max_sentence_len: 0x40_0000,
    };
    for len in [1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1F_FFFF, 0x20_0000] {
        let word: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut bytes = Vec::new();
        encode_sentence(&[b"/x".as_slice(), &word], &mut bytes).unwrap();
        let (used, sentence) = Decoder::new(limits).decode(&bytes).unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(
            sentence.unwrap().words,
            vec![b"/x".to_vec(), word],
            "word of {len:#X} bytes"
        );
    }
}

#[test]
fn empty_sentences_are_skipped() {
    let mut decoder = Decoder::new(Limits::default());
    let (used, sentence) = decoder.decode(&[0, 0, 3, b'!', b'r', b'e', 0]).unwrap();
    assert_eq!(used, 7);
    assert_eq!(sentence.unwrap().words, vec![b"!re".to_vec()]);
}

#[test]
fn a_word_longer_than_the_limit_is_refused_before_its_bytes_arrive() {
    let mut decoder = Decoder::new(Limits {
        max_word_len: 100,
        ..Limits::default()
    });
    assert_eq!(
        decoder.decode(&[0x80, 0x65]),
        Err(CodecError::WordTooLong { len: 101, max: 100 })
    );
}

#[test]
fn a_sentence_that_never_ends_hits_the_word_limit() {
    let mut decoder = Decoder::new(Limits {
        max_words: 3,
        ..Limits::default()
    });
    let bytes = [1, b'a', 1, b'b', 1, b'c', 1, b'd'];
    assert_eq!(
        decoder.decode(&bytes),
        Err(CodecError::TooManyWords { max: 3 })
    );
}

#[test]
fn a_sentence_too_large_in_total_is_refused() {
    let mut decoder = Decoder::new(Limits {
        max_word_len: 10,
        max_words: 100,
        max_sentence_len: 14,
    });
    let bytes = [5, 1, 2, 3, 4, 5, 5, 1, 2, 3, 4, 5, 5, 1, 2, 3, 4, 5];
    assert_eq!(
        decoder.decode(&bytes),
        Err(CodecError::SentenceTooLong { max: 14 })
    );
}

#[test]
fn decode_all_returns_every_complete_sentence_and_keeps_the_rest() {
    let mut bytes = Vec::new();
    encode_sentence(&["!re", "=name=a"], &mut bytes).unwrap();
    encode_sentence(&["!done"], &mut bytes).unwrap();
    bytes.extend_from_slice(&[3, b'!', b'r']);
    let mut decoder = Decoder::new(Limits::default());
    let mut sentences = Vec::new();
    let used = decoder.decode_all(&bytes, &mut sentences).unwrap();
    assert_eq!(sentences.len(), 2);
    assert_eq!(used, bytes.len() - 3);
}

fn hex_dump(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|c| {
            c.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_tagged_print_with_query_and_proplist_encodes_as_documented() {
    let command = crate::Command::new("/ppp/secret/print")
        .proplist(&["name", "profile"])
        .query(&crate::Query::new().eq("disabled", "no"));
    let mut bytes = Vec::new();
    command.encode(Some(b"7"), &mut bytes).unwrap();
    insta::assert_snapshot!(hex_dump(&bytes), @r"
    11 2f 70 70 70 2f 73 65 63 72 65 74 2f 70 72 69
    6e 74 17 3d 2e 70 72 6f 70 6c 69 73 74 3d 6e 61
    6d 65 2c 70 72 6f 66 69 6c 65 0d 3f 3d 64 69 73
    61 62 6c 65 64 3d 6e 6f 06 2e 74 61 67 3d 37 00
    ");
}

#[test]
fn a_trap_then_done_encodes_as_two_sentences() {
    let mut trap = crate::Reply::new(crate::ReplyKind::Trap);
    trap.attributes.push("category", "1");
    trap.attributes.push(
        "message",
        "failure: secret with the same name already exists",
    );
    trap.tag = Some(b"x".to_vec());
    let mut done = crate::Reply::new(crate::ReplyKind::Done);
    done.tag = Some(b"x".to_vec());
    let mut bytes = Vec::new();
    trap.encode(&mut bytes).unwrap();
    done.encode(&mut bytes).unwrap();
    let words: Vec<String> = {
        let mut decoder = Decoder::new(Limits::default());
        let mut sentences = Vec::new();
        decoder.decode_all(&bytes, &mut sentences).unwrap();
        sentences
            .iter()
            .map(|s| {
                s.words
                    .iter()
                    .map(|w| String::from_utf8_lossy(w).into_owned())
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect()
    };
    insta::assert_snapshot!(words.join("\n"), @r"
    !trap | =category=1 | =message=failure: secret with the same name already exists | .tag=x
    !done | .tag=x
    ");
}

proptest! {
    #[test]
    fn any_length_round_trips(len in 0usize..=0xFFFF_FFFF) {
        let bytes = encoded_length(len);
        prop_assert_eq!(decode_length(&bytes).unwrap(), Some((len, bytes.len())));
    }

    #[test]
    fn any_sentences_round_trip_whatever_the_read_sizes(
        sentences in prop::collection::vec(prop::collection::vec(prop::collection::vec(any::<u8>(), 1..300), 1..6), 1..5),
        chunk in 1usize..64,
    ) {
        let mut bytes = Vec::new();
        for words in &sentences {
            encode_sentence(words, &mut bytes).unwrap();
        }
        let mut decoder = Decoder::new(Limits::default());
        let mut buffer = Vec::new();
        let mut decoded = Vec::new();
        for piece in bytes.chunks(chunk) {
            buffer.extend_from_slice(piece);
            let used = decoder.decode_all(&buffer, &mut decoded).unwrap();
            buffer.drain(..used);
        }
        prop_assert!(buffer.is_empty());
        let decoded: Vec<Vec<Vec<u8>>> = decoded.into_iter().map(|s| s.words).collect();
        prop_assert_eq!(decoded, sentences);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut decoder = Decoder::new(Limits { max_word_len: 64, max_words: 8, max_sentence_len: 256 });
        let mut sentences = Vec::new();
        let _ = decoder.decode_all(&bytes, &mut sentences);
    }
}
