//! What the NAS puts on the wire for a subscriber (port type, MAC) and how it reads a
//! `Mikrotik-Rate-Limit`.

use radius::gigawords::split;
use radius::{Packet, attrs};

use crate::{Subscriber, acct};

/// The NAS-Port-Type of a subscriber's requests.
pub(crate) fn port_type(subscriber: &Subscriber) -> u32 {
    if subscriber.hotspot {
        acct::WIRELESS
    } else {
        acct::ETHERNET
    }
}

/// The subscriber's MAC: its own, or one made from its position.
pub(crate) fn mac_of(subscriber: &Subscriber, index: usize) -> String {
    subscriber.mac.clone().unwrap_or_else(|| {
        let b = (index as u32).to_be_bytes();
        format!("02:5A:{:02X}:{:02X}:{:02X}:{:02X}", b[0], b[1], b[2], b[3])
    })
}

/// Adds what an Interim-Update or a Stop reports of a session's use: its time, and the octets
/// from the subscriber (input) and to it (output), each with its gigawords (always sent, 0
/// below 4 GiB, as RouterOS does).
pub(crate) fn add_usage(request: &mut Packet, seconds: u64, input: u64, output: u64) {
    request.add(
        attrs::ACCT_SESSION_TIME,
        &u32::try_from(seconds).unwrap_or(u32::MAX),
    );
    let (low, high) = split(input);
    request.add(attrs::ACCT_INPUT_OCTETS, &low);
    request.add(attrs::ACCT_INPUT_GIGAWORDS, &high);
    let (low, high) = split(output);
    request.add(attrs::ACCT_OUTPUT_OCTETS, &low);
    request.add(attrs::ACCT_OUTPUT_GIGAWORDS, &high);
}

/// Bytes per second up and down from a `Mikrotik-Rate-Limit` (`rx/tx` in the router's view:
/// upload first; `512k/2M`, with optional burst fields after a space).
pub fn parse_rate(rate: &str) -> Option<(u64, u64)> {
    let first = rate.split_whitespace().next()?;
    let (up, down) = first.split_once('/')?;
    let bits = |text: &str| -> Option<u64> {
        let text = text.trim();
        let (number, scale) = match text.char_indices().last()? {
            (i, 'k' | 'K') => (&text[..i], 1_000),
            (i, 'M') => (&text[..i], 1_000_000),
            (i, 'G') => (&text[..i], 1_000_000_000),
            _ => (text, 1),
        };
        number.parse::<u64>().ok().map(|n| n * scale)
    };
    Some((bits(up)? / 8, bits(down)? / 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_the_router_reads_them() {
        assert_eq!(parse_rate("512k/2M"), Some((64_000, 250_000)));
        assert_eq!(
            parse_rate("10M/20M 20M/40M 8M/16M 10/10"),
            Some((1_250_000, 2_500_000))
        );
        assert_eq!(parse_rate("1G/1G"), Some((125_000_000, 125_000_000)));
        assert_eq!(parse_rate("fast"), None);
        assert_eq!(parse_rate("x/2M"), None);
    }

    #[test]
    fn made_up_macs_differ_and_own_ones_are_kept() {
        let mut s = Subscriber {
            username: "a".into(),
            password: "p".into(),
            mac: None,
            hotspot: false,
        };
        assert_ne!(mac_of(&s, 1), mac_of(&s, 2));
        s.mac = Some("AA:BB:CC:00:11:22".into());
        assert_eq!(mac_of(&s, 1), "AA:BB:CC:00:11:22");
    }
}
