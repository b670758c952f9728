//! 64-bit octet counters from 32-bit attribute pairs: Acct-Input-Octets + Acct-Input-Gigawords
//! (RFC 2869 §5.1-5.2) and the MikroTik `*-Limit` + `*-Limit-Gigawords` pairs.

use crate::attrs::{self, Attr};
use crate::packet::Packet;

/// Folds a low 32-bit counter and its gigawords (count of 2^32 wraps) into 64 bits.
pub fn fold(low: u32, gigawords: u32) -> u64 {
    (u64::from(gigawords) << 32) | u64::from(low)
}

/// Splits a 64-bit counter into (low 32 bits, gigawords).
pub fn split(total: u64) -> (u32, u32) {
    ((total & 0xffff_ffff) as u32, (total >> 32) as u32)
}

/// Reads a counter pair from a packet: `None` when the low attribute is absent; an absent or
/// malformed gigawords attribute counts as 0.
pub fn read(packet: &Packet, low: Attr<u32>, gigawords: Attr<u32>) -> Option<u64> {
    let low = packet.value(low)?.ok()?;
    let high = packet.value(gigawords).and_then(Result::ok).unwrap_or(0);
    Some(fold(low, high))
}

/// Writes a counter pair: the low attribute always, the gigawords attribute when non-zero.
pub fn write(packet: &mut Packet, low: Attr<u32>, gigawords: Attr<u32>, total: u64) {
    let (lo, hi) = split(total);
    packet.set(low, &lo);
    packet.remove(gigawords.id());
    if hi != 0 {
        packet.add(gigawords, &hi);
    }
}

/// Octets the NAS received from the subscriber (Acct-Input-Octets/-Gigawords).
pub fn acct_input_octets(packet: &Packet) -> Option<u64> {
    read(
        packet,
        attrs::ACCT_INPUT_OCTETS,
        attrs::ACCT_INPUT_GIGAWORDS,
    )
}

/// Octets the NAS sent to the subscriber (Acct-Output-Octets/-Gigawords).
pub fn acct_output_octets(packet: &Packet) -> Option<u64> {
    read(
        packet,
        attrs::ACCT_OUTPUT_OCTETS,
        attrs::ACCT_OUTPUT_GIGAWORDS,
    )
}

/// Sets Mikrotik-Total-Limit and -Gigawords to a 64-bit volume.
pub fn set_mikrotik_total_limit(packet: &mut Packet, bytes: u64) {
    write(
        packet,
        attrs::MIKROTIK_TOTAL_LIMIT,
        attrs::MIKROTIK_TOTAL_LIMIT_GIGAWORDS,
        bytes,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::Code;

    #[test]
    fn gigawords_are_folded_into_the_high_half() {
        assert_eq!(fold(9_000_000, 1), 4_303_967_296);
        assert_eq!(split(4_303_967_296), (9_000_000, 1));
    }

    #[test]
    fn a_packet_counter_pair_reads_back_as_64_bits() {
        let mut packet = Packet::new(Code::AccountingRequest, 1);
        write(
            &mut packet,
            attrs::ACCT_OUTPUT_OCTETS,
            attrs::ACCT_OUTPUT_GIGAWORDS,
            4_303_967_296,
        );
        assert_eq!(acct_output_octets(&packet), Some(4_303_967_296));
        assert_eq!(acct_input_octets(&packet), None);
    }
}
