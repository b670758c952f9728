//! Properties of the codec: decoding what was encoded gives it back for any valid attribute
//! list, decoding any byte string returns a value or a typed error (never a panic), signing
//! and verifying agree, and typed values survive text and wire round trips. Snapshot tests pin
//! the exact bytes of signed packets.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use radius::sign::{verify_reply, verify_request};
use radius::{AttrId, Attribute, Code, DataType, Dictionary, Packet, Value, attrs};

fn standard_attribute() -> impl Strategy<Value = Attribute> {
    // Type 26 is carried as vendor attributes, and 80 must hold exactly 16 octets.
    let code = (1u8..=255).prop_filter("not VSA or MA", |c| *c != 26 && *c != 80);
    (code, proptest::collection::vec(any::<u8>(), 0..=253))
        .prop_map(|(code, value)| Attribute::new(AttrId::Standard(code), value))
}

fn vendor_attribute() -> impl Strategy<Value = Attribute> {
    (
        any::<u32>(),
        0u32..=255,
        proptest::collection::vec(any::<u8>(), 0..=247),
    )
        .prop_map(|(vendor, vendor_type, value)| {
            Attribute::new(AttrId::vendor(vendor, vendor_type), value)
        })
}

fn attribute_list() -> impl Strategy<Value = Vec<Attribute>> {
    proptest::collection::vec(prop_oneof![standard_attribute(), vendor_attribute()], 0..24)
        .prop_filter("fits in 4096 octets", |attributes| {
            20 + attributes.iter().map(Attribute::wire_len).sum::<usize>() <= 4096
        })
}

fn any_code() -> impl Strategy<Value = Code> {
    proptest::sample::select(Code::ALL.to_vec())
}

proptest! {
    #[test]
    fn decoding_an_encoded_packet_gives_it_back(
        code in any_code(),
        identifier in any::<u8>(),
        authenticator in any::<[u8; 16]>(),
        attributes in attribute_list(),
    ) {
        let packet = Packet { code, identifier, authenticator, attributes };
        let bytes = packet.encode().unwrap();
        prop_assert_eq!(Packet::decode(&bytes).unwrap(), packet);
    }

    #[test]
    fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Packet::decode(&bytes);
        let _ = verify_request(&bytes, b"secret", true);
        let request = Packet::new(Code::AccessRequest, 1);
        let _ = verify_reply(&bytes, &request, &[0; 16], b"secret", true);
    }

    #[test]
    fn decoding_a_valid_header_with_any_attribute_bytes_never_panics(
        body in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        let mut bytes = vec![1, 0, 0, 0];
        bytes.extend_from_slice(&[0; 16]);
        bytes.extend_from_slice(&body);
        let len = u16::try_from(bytes.len()).unwrap();
        bytes[2..4].copy_from_slice(&len.to_be_bytes());
        if let Ok(packet) = Packet::decode(&bytes) {
            for attribute in &packet.attributes {
                let _ = Dictionary::builtin().format(attribute);
            }
        }
    }

    #[test]
    fn a_signed_request_verifies_with_its_secret_only(
        code in proptest::sample::select(vec![
            Code::AccessRequest, Code::AccountingRequest, Code::CoaRequest, Code::DisconnectRequest,
        ]),
        attributes in proptest::collection::vec(standard_attribute(), 0..8),
        secret in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let mut request = Packet::new(code, 7);
        request.attributes = attributes;
        request.add_message_authenticator();
        let bytes = match request.encode_request(&secret) {
            Ok(bytes) => bytes,
            Err(_) => return Ok(()),
        };
        prop_assert!(verify_request(&bytes, &secret, true).is_ok());
        let mut other = secret.clone();
        other[0] ^= 1;
        prop_assert!(verify_request(&bytes, &other, true).is_err());
    }

    #[test]
    fn integers_addresses_and_prefixes_survive_text_and_wire(
        n in any::<u32>(),
        big in any::<u64>(),
        v4 in any::<[u8; 4]>(),
        v6 in any::<[u8; 16]>(),
        len in 0u8..=128,
    ) {
        let mut prefix = v6;
        // Bits past the prefix length are not carried.
        for (i, byte) in prefix.iter_mut().enumerate() {
            let keep = (usize::from(len)).saturating_sub(i * 8).min(8);
            *byte &= if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
        }
        for value in [
            Value::Integer(n),
            Value::Integer64(big),
            Value::Date(n),
            Value::IpAddr(Ipv4Addr::from(v4)),
            Value::Ipv6Addr(Ipv6Addr::from(v6)),
            Value::Ipv6Prefix(Ipv6Addr::from(prefix), len),
        ] {
            let data_type = match value {
                Value::Integer(_) => DataType::Integer,
                Value::Integer64(_) => DataType::Integer64,
                Value::Date(_) => DataType::Date,
                Value::IpAddr(_) => DataType::IpAddr,
                Value::Ipv6Addr(_) => DataType::Ipv6Addr,
                _ => DataType::Ipv6Prefix,
            };
            prop_assert_eq!(Value::decode(data_type, &value.to_bytes()).unwrap(), value.clone());
            prop_assert_eq!(Value::parse(data_type, &value.to_string()).unwrap(), value);
        }
    }
}

proptest! {
    #[test]
    fn a_formatted_attribute_parses_back_to_itself(
        seconds in any::<u32>(),
        rate in "[0-9]{1,4}[kM]/[0-9]{1,4}[kM]( [0-9]{1,4}[kM]/[0-9]{1,4}[kM])?",
        status in 1u32..=3,
        v4 in any::<[u8; 4]>(),
    ) {
        let dict = Dictionary::builtin();
        let mut packet = Packet::new(Code::AccessAccept, 1);
        packet.add(attrs::SESSION_TIMEOUT, &seconds);
        packet.add(attrs::MIKROTIK_RATE_LIMIT, &rate);
        packet.add(attrs::ACCT_STATUS_TYPE, &status);
        packet.add(attrs::FRAMED_IP_ADDRESS, &Ipv4Addr::from(v4));
        for attribute in &packet.attributes {
            let text = dict.format(attribute);
            prop_assert_eq!(&dict.parse_assignment(&text).unwrap(), attribute, "{}", text);
        }
    }
}

fn hex_dump(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|row| {
            row.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn fixed_access_request() -> Packet {
    let mut request = Packet::new(Code::AccessRequest, 0x2a);
    request.authenticator = *b"0123456789abcdef";
    request.add_message_authenticator();
    request.add(attrs::USER_NAME, &"alice".to_owned());
    radius::auth::pap::add_user_password(&mut request, b"secret1", b"testing123").unwrap();
    request.add(attrs::NAS_IP_ADDRESS, &Ipv4Addr::new(127, 0, 0, 1));
    request.add(attrs::NAS_PORT_TYPE, &15);
    request
}

#[test]
fn snapshot_of_a_signed_access_request() {
    let bytes = fixed_access_request()
        .encode_request(b"testing123")
        .unwrap();
    insta::assert_snapshot!(hex_dump(&bytes));
}

#[test]
fn snapshot_of_a_signed_access_accept_with_six_attributes() {
    let request = fixed_access_request();
    let mut accept = request.reply(Code::AccessAccept);
    accept.add(attrs::SESSION_TIMEOUT, &3600);
    accept.add(attrs::IDLE_TIMEOUT, &600);
    accept.add(attrs::ACCT_INTERIM_INTERVAL, &300);
    accept.add(attrs::FRAMED_IP_ADDRESS, &Ipv4Addr::new(10, 0, 0, 7));
    accept.add(attrs::MIKROTIK_RATE_LIMIT, &"10M/50M".to_owned());
    accept.add(attrs::MIKROTIK_ADDRESS_LIST, &"active".to_owned());
    let bytes = accept
        .encode_reply(&request.authenticator, b"testing123")
        .unwrap();
    insta::assert_snapshot!(hex_dump(&bytes));
}

#[test]
fn snapshot_of_a_signed_accounting_interim_update() {
    let mut request = Packet::new(Code::AccountingRequest, 7);
    request.add(
        attrs::ACCT_STATUS_TYPE,
        &attrs::acct_status_type::INTERIM_UPDATE,
    );
    request.add(attrs::ACCT_SESSION_ID, &"81a00002".to_owned());
    request.add(attrs::USER_NAME, &"alice".to_owned());
    radius::gigawords::write(
        &mut request,
        attrs::ACCT_OUTPUT_OCTETS,
        attrs::ACCT_OUTPUT_GIGAWORDS,
        4_303_967_296,
    );
    let bytes = request.encode_request(b"testing123").unwrap();
    insta::assert_snapshot!(hex_dump(&bytes));
}

#[test]
fn snapshot_of_a_signed_coa_request() {
    let mut request = Packet::new(Code::CoaRequest, 1);
    request.add(attrs::USER_NAME, &"alice".to_owned());
    request.add(attrs::MIKROTIK_RATE_LIMIT, &"1M/2M".to_owned());
    request.add(
        attrs::EVENT_TIMESTAMP,
        &(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_459_764)),
    );
    let bytes = request.encode_request(b"testing123").unwrap();
    insta::assert_snapshot!(hex_dump(&bytes));
}

#[test]
fn every_fuzz_seed_packet_is_a_valid_packet() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/decode_packet");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let packet = Packet::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Several vendor attributes in one Vendor-Specific come back one per Vendor-Specific.
        let again = Packet::decode(&packet.encode().unwrap()).unwrap();
        assert_eq!(again, packet, "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 9);
}
