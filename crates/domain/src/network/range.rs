//! IPv4 pools. A pool is written as ranges (`10.0.0.1-10.0.0.254`), CIDR blocks
//! (`10.0.1.0/24`) or comma lists of either, and is stored exactly: every range becomes the
//! smallest exact set of CIDR blocks covering it, never one lossy prefix (the reference
//! system turns `10.0.0.1-10.0.0.254` into a /25 and loses half the range).

use std::fmt;
use std::net::Ipv4Addr;

/// One CIDR block: `network/prefix`, with the network aligned to the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Block {
    network: u32,
    prefix: u8,
}

impl Block {
    /// The block `network/prefix`, if the network is aligned to the prefix.
    pub fn new(network: Ipv4Addr, prefix: u8) -> Option<Self> {
        let network = u32::from(network);
        (prefix <= 32 && network & !mask(prefix) == 0).then_some(Self { network, prefix })
    }

    /// The first address.
    pub fn first(self) -> u32 {
        self.network
    }

    /// The last address.
    pub fn last(self) -> u32 {
        self.network | !mask(self.prefix)
    }

    /// The prefix length.
    pub fn prefix(self) -> u8 {
        self.prefix
    }

    /// How many addresses the block holds.
    pub fn size(self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.network), self.prefix)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

/// Why a pool's text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// Nothing given.
    #[error("no range given")]
    Empty,
    /// A part is not an address, a range or a CIDR block.
    #[error("`{0}` is not an address, a range (a-b) or a CIDR block (a/n)")]
    Syntax(String),
    /// A range's end is before its start.
    #[error("`{0}` ends before it starts")]
    Backwards(String),
    /// A CIDR block's address has host bits set.
    #[error("`{0}` has host bits set; the network is {1}")]
    Misaligned(String, String),
    /// Two parts of the pool overlap.
    #[error("`{0}` overlaps `{1}`")]
    Overlap(String, String),
    /// The pool is larger than lastmile allows (a /8).
    #[error("the pool is larger than a /8")]
    TooLarge,
}

/// A pool: its ranges as given (normalised) and the exact CIDR blocks they cover, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    ranges: Vec<(u32, u32)>,
    blocks: Vec<Block>,
}

/// The largest pool: a /8.
const MAX_ADDRESSES: u64 = 1 << 24;

impl Pool {
    /// Parses `10.0.0.1-10.0.0.254, 10.0.1.0/24, 10.0.2.7`. Parts must not overlap.
    pub fn parse(text: &str) -> Result<Self, RangeError> {
        let mut ranges = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            ranges.push((part.to_owned(), parse_part(part)?));
        }
        if ranges.is_empty() {
            return Err(RangeError::Empty);
        }
        ranges.sort_by_key(|(_, (first, _))| *first);
        for pair in ranges.windows(2) {
            if pair[1].1.0 <= pair[0].1.1 {
                return Err(RangeError::Overlap(pair[0].0.clone(), pair[1].0.clone()));
            }
        }
        let ranges: Vec<(u32, u32)> = ranges.into_iter().map(|(_, r)| r).collect();
        let total: u64 = ranges.iter().map(|(a, b)| u64::from(b - a) + 1).sum();
        if total > MAX_ADDRESSES {
            return Err(RangeError::TooLarge);
        }
        let blocks = ranges.iter().flat_map(|(a, b)| cover(*a, *b)).collect();
        Ok(Self { ranges, blocks })
    }

    /// The exact CIDR blocks of the pool, in address order.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The ranges, in address order, as inclusive `(first, last)`.
    pub fn ranges(&self) -> &[(u32, u32)] {
        &self.ranges
    }

    /// How many addresses the pool holds.
    pub fn capacity(&self) -> u64 {
        self.ranges.iter().map(|(a, b)| u64::from(b - a) + 1).sum()
    }

    /// True if `address` is in the pool.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        let a = u32::from(address);
        self.ranges
            .iter()
            .any(|(first, last)| (*first..=*last).contains(&a))
    }

    /// True if the two pools share an address.
    pub fn overlaps(&self, other: &Pool) -> bool {
        self.ranges
            .iter()
            .any(|(a1, b1)| other.ranges.iter().any(|(a2, b2)| a1 <= b2 && a2 <= b1))
    }

    /// The pool written back in canonical form: ranges as `a-b`, single addresses as `a`.
    pub fn canonical(&self) -> String {
        self.ranges
            .iter()
            .map(|(a, b)| {
                if a == b {
                    Ipv4Addr::from(*a).to_string()
                } else {
                    format!("{}-{}", Ipv4Addr::from(*a), Ipv4Addr::from(*b))
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The pool as RouterOS writes `/ip pool ranges` (the same form).
    pub fn routeros_ranges(&self) -> String {
        self.canonical()
    }
}

fn parse_addr(text: &str, part: &str) -> Result<u32, RangeError> {
    text.trim()
        .parse::<Ipv4Addr>()
        .map(u32::from)
        .map_err(|_| RangeError::Syntax(part.to_owned()))
}

fn parse_part(part: &str) -> Result<(u32, u32), RangeError> {
    if let Some((address, prefix)) = part.split_once('/') {
        let address = parse_addr(address, part)?;
        let prefix: u8 = prefix
            .trim()
            .parse()
            .map_err(|_| RangeError::Syntax(part.to_owned()))?;
        if prefix > 32 {
            return Err(RangeError::Syntax(part.to_owned()));
        }
        let network = address & mask(prefix);
        if network != address {
            return Err(RangeError::Misaligned(
                part.to_owned(),
                format!("{}/{prefix}", Ipv4Addr::from(network)),
            ));
        }
        let block = Block { network, prefix };
        return Ok((block.first(), block.last()));
    }
    if let Some((start, end)) = part.split_once('-') {
        let start = parse_addr(start, part)?;
        let end = parse_addr(end, part)?;
        if end < start {
            return Err(RangeError::Backwards(part.to_owned()));
        }
        return Ok((start, end));
    }
    let address = parse_addr(part, part)?;
    Ok((address, address))
}

/// The smallest set of CIDR blocks covering exactly `first..=last`.
fn cover(first: u32, last: u32) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut start = u64::from(first);
    let end = u64::from(last);
    while start <= end {
        // The largest aligned block starting at `start` that does not pass `end`.
        let mut size_bits = if start == 0 {
            32
        } else {
            start.trailing_zeros().min(32)
        };
        while size_bits > 0 && start + (1u64 << size_bits) - 1 > end {
            size_bits -= 1;
        }
        let prefix = (32 - size_bits) as u8;
        blocks.push(Block {
            network: start as u32,
            prefix,
        });
        start += 1u64 << size_bits;
    }
    blocks
}

/// The first address of `pool` not in `used` (sorted ascending), skipping each block's
/// network and broadcast address when the block is a /30 or larger.
pub fn first_free(pool: &Pool, used: &[u32]) -> Option<Ipv4Addr> {
    for block in pool.blocks() {
        let (mut a, mut b) = (block.first(), block.last());
        if block.prefix() <= 30 {
            a += 1;
            b -= 1;
        }
        let mut candidate = a;
        // `used` is sorted: walk it alongside the block.
        let start = used.partition_point(|u| *u < a);
        for u in &used[start..] {
            if *u > b || *u > candidate {
                break;
            }
            if *u == candidate {
                candidate = match candidate.checked_add(1) {
                    Some(c) => c,
                    None => break,
                };
            }
        }
        if candidate <= b {
            return Some(Ipv4Addr::from(candidate));
        }
    }
    None
}

/// The first `n` addresses of `pool` not in `used` (sorted ascending), in order, skipping
/// each block's network and broadcast address as [`first_free`] does; fewer when the pool
/// has fewer free. One walk for all of them: a pool's migration takes thousands at once.
pub fn free_addresses(pool: &Pool, used: &[u32], n: usize) -> Vec<Ipv4Addr> {
    let mut out = Vec::with_capacity(n.min(1 << 16));
    for block in pool.blocks() {
        let (mut a, mut b) = (block.first(), block.last());
        if block.prefix() <= 30 {
            a += 1;
            b -= 1;
        }
        let mut taken = used[used.partition_point(|u| *u < a)..].iter().peekable();
        let mut candidate = u64::from(a);
        while out.len() < n && candidate <= u64::from(b) {
            let c = u32::try_from(candidate).unwrap_or(u32::MAX);
            while taken.next_if(|u| **u < c).is_some() {}
            if taken.next_if(|u| **u == c).is_none() {
                out.push(Ipv4Addr::from(c));
            }
            candidate += 1;
        }
        if out.len() == n {
            break;
        }
    }
    out
}

/// How many addresses of `pool` can be given out: each block's network and broadcast
/// address left aside as [`first_free`] does.
pub fn usable(pool: &Pool) -> u64 {
    pool.blocks()
        .iter()
        .map(|b| {
            if b.prefix() <= 30 {
                b.size() - 2
            } else {
                b.size()
            }
        })
        .sum()
}

/// The addresses a search box's text stands for, as an inclusive range: a whole address
/// (`10.0.3.7`) itself, a partial one (`10.0.3`, `10.0.3.`, `10.0`) every address that
/// starts with those octets. `None` unless the text is one to four decimal octets.
pub fn ipv4_prefix(text: &str) -> Option<(u32, u32)> {
    let text = text.trim().trim_end_matches('.');
    let octets: Vec<&str> = text.split('.').collect();
    if text.is_empty() || octets.len() > 4 {
        return None;
    }
    let mut value: u32 = 0;
    for octet in &octets {
        if octet.is_empty() || octet.len() > 3 || !octet.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u8 = octet.parse().ok()?;
        value = (value << 8) | u32::from(n);
    }
    // A single number is not an address: it is a user name or a mobile.
    if octets.len() < 2 {
        return None;
    }
    let free = 8 * (4 - octets.len() as u32);
    let low = value.checked_shl(free).unwrap_or(0);
    let high = low
        | (if free == 32 {
            u32::MAX
        } else {
            (1u32 << free) - 1
        });
    Some((low, high))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn blocks(text: &str) -> Vec<String> {
        Pool::parse(text)
            .unwrap()
            .blocks()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn ranges_become_their_exact_cidr_blocks() {
        // The reference's heuristic made a /25 of this; it is 7 blocks covering all 254.
        assert_eq!(
            blocks("10.0.0.1-10.0.0.254"),
            [
                "10.0.0.1/32",
                "10.0.0.2/31",
                "10.0.0.4/30",
                "10.0.0.8/29",
                "10.0.0.16/28",
                "10.0.0.32/27",
                "10.0.0.64/26",
                "10.0.0.128/26",
                "10.0.0.192/27",
                "10.0.0.224/28",
                "10.0.0.240/29",
                "10.0.0.248/30",
                "10.0.0.252/31",
                "10.0.0.254/32"
            ]
        );
        assert_eq!(Pool::parse("10.0.0.1-10.0.0.254").unwrap().capacity(), 254);
        assert_eq!(blocks("10.0.0.0/24"), ["10.0.0.0/24"]);
        assert_eq!(blocks("192.168.1.10-192.168.1.200").len(), 8);
        assert_eq!(
            Pool::parse("192.168.1.10-192.168.1.200")
                .unwrap()
                .capacity(),
            191
        );
        assert_eq!(
            Pool::parse("10.10.0.1-10.10.3.254").unwrap().capacity(),
            1022
        );
    }

    #[test]
    fn comma_lists_keep_their_gaps() {
        let pool = Pool::parse("10.0.0.0/30, 10.0.0.8-10.0.0.9,10.0.1.5").unwrap();
        assert_eq!(pool.capacity(), 7);
        assert!(!pool.contains("10.0.0.5".parse().unwrap()));
        assert!(pool.contains("10.0.1.5".parse().unwrap()));
        assert_eq!(
            pool.canonical(),
            "10.0.0.0-10.0.0.3,10.0.0.8-10.0.0.9,10.0.1.5"
        );
    }

    #[test]
    fn malformed_and_overlapping_pools_are_refused() {
        assert_eq!(Pool::parse(""), Err(RangeError::Empty));
        assert!(matches!(
            Pool::parse("10.0.0.300"),
            Err(RangeError::Syntax(_))
        ));
        assert!(matches!(
            Pool::parse("10.0.0.5-10.0.0.1"),
            Err(RangeError::Backwards(_))
        ));
        assert!(
            matches!(Pool::parse("10.0.0.1/24"), Err(RangeError::Misaligned(_, n)) if n == "10.0.0.0/24")
        );
        assert!(matches!(
            Pool::parse("10.0.0.0/24,10.0.0.7"),
            Err(RangeError::Overlap(_, _))
        ));
        assert!(matches!(
            Pool::parse("10.0.0.0/33"),
            Err(RangeError::Syntax(_))
        ));
        assert_eq!(Pool::parse("10.0.0.0/7"), Err(RangeError::TooLarge));
        assert!(Pool::parse("10.0.0.0/8").is_ok());
    }

    #[test]
    fn free_addresses_skip_network_broadcast_and_used_ones() {
        let pool = Pool::parse("10.0.0.0/30").unwrap();
        assert_eq!(first_free(&pool, &[]), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(
            first_free(&pool, &[u32::from(Ipv4Addr::new(10, 0, 0, 1))]),
            Some("10.0.0.2".parse().unwrap())
        );
        let full = [
            u32::from(Ipv4Addr::new(10, 0, 0, 1)),
            u32::from(Ipv4Addr::new(10, 0, 0, 2)),
        ];
        assert_eq!(first_free(&pool, &full), None);
        let list = Pool::parse("10.0.0.5,10.0.0.9").unwrap();
        assert_eq!(
            first_free(&list, &[u32::from(Ipv4Addr::new(10, 0, 0, 5))]),
            Some("10.0.0.9".parse().unwrap())
        );
    }

    proptest! {
        #[test]
        fn any_range_is_covered_exactly_by_disjoint_aligned_blocks(a in any::<u32>(), len in 0u32..100_000) {
            let b = a.saturating_add(len);
            let blocks = cover(a, b);
            let mut next = u64::from(a);
            for block in &blocks {
                prop_assert_eq!(u64::from(block.first()), next);
                prop_assert_eq!(block.first() & !mask(block.prefix()), 0);
                next = u64::from(block.last()) + 1;
            }
            prop_assert_eq!(next, u64::from(b) + 1);
            prop_assert!(blocks.len() <= 62);
        }
    }

    #[test]
    fn a_partial_address_stands_for_every_address_it_starts() {
        let ip = |t: &str| u32::from(t.parse::<std::net::Ipv4Addr>().unwrap());
        assert_eq!(
            ipv4_prefix("10.0.3.7"),
            Some((ip("10.0.3.7"), ip("10.0.3.7")))
        );
        assert_eq!(
            ipv4_prefix("10.0.3"),
            Some((ip("10.0.3.0"), ip("10.0.3.255")))
        );
        assert_eq!(
            ipv4_prefix("10.0."),
            Some((ip("10.0.0.0"), ip("10.0.255.255")))
        );
        for bad in ["10", "10.256", "a.b", "1.2.3.4.5", "", "01712"] {
            assert_eq!(ipv4_prefix(bad), None, "{bad}");
        }
    }

    #[test]
    fn free_addresses_skip_the_used_and_each_blocks_ends() {
        let pool = Pool::parse("10.0.0.0/30,10.0.1.5-10.0.1.6").unwrap();
        assert_eq!(usable(&pool), 4);
        let at = |t: &str| u32::from(t.parse::<Ipv4Addr>().unwrap());
        let used = [at("10.0.0.1"), at("10.0.1.6")];
        let free: Vec<String> = free_addresses(&pool, &used, 10)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(free, ["10.0.0.2", "10.0.1.5"]);
        assert_eq!(free_addresses(&pool, &used, 1).len(), 1);
    }

    proptest! {
        #[test]
        fn free_addresses_agree_with_first_free(
            base in 0u32..1000,
            prefix in 22u8..=30,
            taken in proptest::collection::btree_set(0u32..1100, 0..200),
            n in 1usize..50,
        ) {
            let network = (0x0a00_0000 + (base << 10)) & !((1u32 << (32 - prefix)) - 1);
            let pool = Pool::parse(&format!("{}/{prefix}", Ipv4Addr::from(network))).unwrap();
            let mut used: Vec<u32> = taken.iter().map(|t| network + t).collect();
            let free = free_addresses(&pool, &used, n);
            // Taking them one at a time with first_free gives the same addresses.
            for address in &free {
                prop_assert_eq!(first_free(&pool, &used), Some(*address));
                let at = used.partition_point(|u| *u < u32::from(*address));
                used.insert(at, u32::from(*address));
            }
            if free.len() < n {
                prop_assert_eq!(first_free(&pool, &used), None);
            }
        }
    }
}
