//! Decoding any byte string returns a packet or a typed error, never a panic; verification
//! and dictionary formatting of whatever decodes never panic; and a decoded packet that can
//! be encoded again decodes to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use radius::sign::{verify_reply, verify_request};
use radius::{Code, Dictionary, Packet};

fuzz_target!(|data: &[u8]| {
    let _ = verify_request(data, b"testing123", true);
    let request = Packet::new(Code::AccessRequest, data.get(1).copied().unwrap_or(0));
    let _ = verify_reply(data, &request, &[0; 16], b"testing123", false);
    if let Ok(packet) = Packet::decode(data) {
        let dict = Dictionary::builtin();
        for attribute in &packet.attributes {
            let _ = dict.format(attribute);
        }
        let _ = radius::auth::check_password(&packet, b"testing123", "secret1");
        if let Ok(bytes) = packet.encode() {
            assert_eq!(Packet::decode(&bytes).as_ref(), Ok(&packet));
        }
    }
});
