//! What the hotspot remembers of its clients, as RouterOS keeps `/ip hotspot host`,
//! `/ip hotspot active` and `/ip hotspot cookie`: one [`Host`] per MAC (its address from
//! 10.5.50.0/24, the URL it first asked for, the CHAP challenge its login page was given,
//! its session), and the mac-cookies (MAC → user and the exact credential sent).
//!
//! Everything is bounded: the hosts by the address pool (253; the idle host seen longest ago
//! gives its address up to a newcomer), the cookies and the log of Access-Requests by a
//! count. Nothing here does I/O; `aaa` and `servlet` hold the lock for one operation each.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use radius::Packet;
use routeros::ItemId;
use tokio::sync::mpsc;

use super::SeenRequest;

/// The hotspot's own address; clients get the others of its /24.
pub(crate) const HOTSPOT_ADDRESS: Ipv4Addr = Ipv4Addr::new(10, 5, 50, 1);

/// Client addresses: 10.5.50.2 to 10.5.50.254.
const POOL_SIZE: u32 = 253;

/// Mac-cookies kept at most (the oldest goes first).
const MAX_COOKIES: usize = 1_000;

/// Access-Requests remembered for [`super::SimHotspot::access_requests`].
const MAX_SEEN: usize = 1_000;

/// A client's MAC address, parsed once at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct MacAddr([u8; 6]);

impl MacAddr {
    /// `AA:BB:CC:DD:EE:01`, `aa-bb-cc-dd-ee-01` or `aabbccddee01`; `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<MacAddr> {
        let digits: String = match text.len() {
            12 => text.to_owned(),
            17 => {
                let separator = text.as_bytes().get(2).copied()?;
                if separator != b':' && separator != b'-' {
                    return None;
                }
                let groups: Vec<&str> = text.split(char::from(separator)).collect();
                if groups.len() != 6 || groups.iter().any(|g| g.len() != 2) {
                    return None;
                }
                groups.concat()
            }
            _ => return None,
        };
        let bytes = hex::decode(digits).ok()?;
        <[u8; 6]>::try_from(bytes).ok().map(MacAddr)
    }
}

/// Upper-case with colons, as RouterOS sends it (`radius-mac-format=XX:XX:XX:XX:XX:XX`).
impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02X}:{b:02X}:{c:02X}:{d:02X}:{e:02X}:{g:02X}")
    }
}

/// The CHAP identifier and challenge a login page handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub(crate) id: u8,
    pub(crate) bytes: [u8; 16],
}

impl Challenge {
    pub(crate) fn random() -> Challenge {
        Challenge {
            id: rand::random(),
            bytes: rand::random(),
        }
    }
}

/// What a login sent: kept with the mac-cookie, which sends exactly this again.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Credential {
    /// A plaintext password (User-Password).
    Pap(String),
    /// The browser's CHAP response to the router's challenge (CHAP-Password and
    /// CHAP-Challenge).
    Chap {
        id: u8,
        response: [u8; 16],
        challenge: [u8; 16],
    },
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Pap(_) => f.write_str("Pap(<redacted>)"),
            Credential::Chap { id, .. } => write!(f, "Chap {{ id: {id}, .. }}"),
        }
    }
}

impl Credential {
    /// The credential a login form's password stands for: a CHAP response when the client
    /// was given a challenge and the password is 32 hex digits (what the stock page's
    /// `hexMD5` makes), else a plaintext password.
    pub(crate) fn from_form(password: &str, challenge: Option<Challenge>) -> Credential {
        let response = (password.len() == 32)
            .then(|| hex::decode(password).ok())
            .flatten()
            .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok());
        match (challenge, response) {
            (Some(challenge), Some(response)) => Credential::Chap {
                id: challenge.id,
                response,
                challenge: challenge.bytes,
            },
            _ => Credential::Pap(password.to_owned()),
        }
    }

    /// The method an Access-Request with it uses.
    pub(crate) fn method(&self) -> radius::auth::Method {
        match self {
            Credential::Pap(_) => radius::auth::Method::Pap,
            Credential::Chap { .. } => radius::auth::Method::Chap,
        }
    }
}

/// How a session was logged in (`login-by` of `/ip hotspot active`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginBy {
    HttpChap,
    HttpPap,
    MacCookie,
}

impl LoginBy {
    /// The form login a credential is.
    pub(crate) fn of(credential: &Credential) -> LoginBy {
        match credential {
            Credential::Pap(_) => LoginBy::HttpPap,
            Credential::Chap { .. } => LoginBy::HttpChap,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LoginBy::HttpChap => "http-chap",
            LoginBy::HttpPap => "http-pap",
            LoginBy::MacCookie => "mac-cookie",
        }
    }
}

/// A mac-cookie: the MAC logs in again as `user` with `credential`.
#[derive(Debug, Clone)]
pub(crate) struct MacCookie {
    pub(crate) user: String,
    pub(crate) credential: Credential,
    pub(crate) since: Instant,
}

/// A logged-in host's session.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) user: String,
    pub(crate) mac: MacAddr,
    pub(crate) ip: Ipv4Addr,
    /// Acct-Session-Id.
    pub(crate) id: String,
    pub(crate) login_by: LoginBy,
    /// Its row in the router's `/ip/hotspot/active`.
    pub(crate) item: Option<ItemId>,
    pub(crate) started: Instant,
    /// The Access-Accept's Class attributes, echoed in accounting.
    pub(crate) class: Vec<Vec<u8>>,
    pub(crate) interim: Duration,
    pub(crate) next_interim: Instant,
    pub(crate) ends_at: Option<Instant>,
    pub(crate) total_limit: Option<u64>,
    /// Bytes per second from the client (input) and to it (output).
    pub(crate) up_bps: u64,
    pub(crate) down_bps: u64,
    pub(crate) input: u64,
    pub(crate) output: u64,
    pub(crate) last_grow: Instant,
    /// Where its accounting records go, in order (see `aaa::deliver`).
    pub(crate) records: mpsc::Sender<Packet>,
}

impl Session {
    /// Grows its counters to `now`.
    pub(crate) fn grow(&mut self, now: Instant) {
        let seconds = now.duration_since(self.last_grow).as_secs_f64();
        self.last_grow = now;
        self.input = self
            .input
            .saturating_add((self.up_bps as f64 * seconds) as u64);
        self.output = self
            .output
            .saturating_add((self.down_bps as f64 * seconds) as u64);
    }

    /// Seconds since it started.
    pub(crate) fn seconds(&self, now: Instant) -> u64 {
        now.duration_since(self.started).as_secs()
    }
}

/// One client of the hotspot (`/ip hotspot host`).
#[derive(Debug)]
pub(crate) struct Host {
    pub(crate) mac: MacAddr,
    pub(crate) ip: Ipv4Addr,
    /// The URL it first asked for (`$(link-orig)`).
    pub(crate) link_orig: String,
    /// The challenge of the last login page it was given, until a login uses it.
    pub(crate) challenge: Option<Challenge>,
    pub(crate) session: Option<Session>,
    /// A login of it waits for RADIUS.
    pub(crate) logging_in: bool,
    pub(crate) last_seen: Instant,
}

/// No address is free: every host of the pool is logged in or logging in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolFull;

/// Everything the hotspot remembers.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) hosts: HashMap<MacAddr, Host>,
    pub(crate) cookies: HashMap<MacAddr, MacCookie>,
    pub(crate) seen: VecDeque<SeenRequest>,
    next_session: u32,
}

impl State {
    /// The host of `mac`, which arrives now if it is new (taking the address of the idle host
    /// seen longest ago when the pool is full).
    pub(crate) fn host(
        &mut self,
        mac: MacAddr,
        now: Instant,
        link_orig: &str,
    ) -> Result<&mut Host, PoolFull> {
        if !self.hosts.contains_key(&mac) {
            if self.hosts.len() >= POOL_SIZE as usize {
                let idle = self
                    .hosts
                    .values()
                    .filter(|h| h.session.is_none() && !h.logging_in)
                    .min_by_key(|h| h.last_seen)
                    .map(|h| h.mac)
                    .ok_or(PoolFull)?;
                self.hosts.remove(&idle);
            }
            let ip = self.free_address(mac).ok_or(PoolFull)?;
            self.hosts.insert(
                mac,
                Host {
                    mac,
                    ip,
                    link_orig: link_orig.to_owned(),
                    challenge: None,
                    session: None,
                    logging_in: false,
                    last_seen: now,
                },
            );
        }
        let host = self.hosts.get_mut(&mac).ok_or(PoolFull)?;
        host.last_seen = now;
        Ok(host)
    }

    /// A free address for `mac`: the same one every time while it is free (the pool is
    /// probed from a place the MAC picks).
    fn free_address(&self, mac: MacAddr) -> Option<Ipv4Addr> {
        let start = mac
            .0
            .iter()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(*b)))
            % POOL_SIZE;
        let [a, b, c, _] = HOTSPOT_ADDRESS.octets();
        (0..POOL_SIZE)
            .filter_map(|i| u8::try_from(2 + (start + i) % POOL_SIZE).ok())
            .map(|last| Ipv4Addr::new(a, b, c, last))
            .find(|ip| !self.hosts.values().any(|h| h.ip == *ip))
    }

    /// A new Acct-Session-Id (`80f00001`, as RouterOS numbers them).
    pub(crate) fn next_session_id(&mut self) -> String {
        self.next_session = self.next_session.wrapping_add(1);
        format!("{:08x}", 0x80f0_0000_u32.wrapping_add(self.next_session))
    }

    /// Remembers a mac-cookie (forgetting the oldest when there are too many).
    pub(crate) fn remember_cookie(&mut self, mac: MacAddr, cookie: MacCookie) {
        if !self.cookies.contains_key(&mac)
            && self.cookies.len() >= MAX_COOKIES
            && let Some(oldest) = self
                .cookies
                .iter()
                .min_by_key(|(_, c)| c.since)
                .map(|(m, _)| *m)
        {
            self.cookies.remove(&oldest);
        }
        self.cookies.insert(mac, cookie);
    }

    /// Logs an Access-Request sent.
    pub(crate) fn saw(&mut self, request: SeenRequest) {
        if self.seen.len() >= MAX_SEEN {
            self.seen.pop_front();
        }
        self.seen.push_back(request);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_read_in_the_usual_forms_and_printed_as_routeros_sends_them() {
        for text in ["aa:bb:cc:dd:ee:01", "AA-BB-CC-DD-EE-01", "aabbccddee01"] {
            let mac = MacAddr::parse(text).unwrap();
            assert_eq!(mac.to_string(), "AA:BB:CC:DD:EE:01");
        }
        for bad in [
            "",
            "---",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:0g",
            "aa:bb-cc:dd:ee:01",
            "aab:bcc:dde:e01:::",
            "ÿÿÿÿÿÿ",
        ] {
            assert_eq!(MacAddr::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_hex_password_after_a_challenge_is_a_chap_response_and_anything_else_pap() {
        let challenge = Challenge {
            id: 7,
            bytes: [1; 16],
        };
        let hex = "00112233445566778899aabbccddeeff";
        assert!(matches!(
            Credential::from_form(hex, Some(challenge)),
            Credential::Chap { id: 7, .. }
        ));
        assert_eq!(
            Credential::from_form(hex, None),
            Credential::Pap(hex.into())
        );
        assert_eq!(
            Credential::from_form("s3cret", Some(challenge)),
            Credential::Pap("s3cret".into())
        );
    }

    #[test]
    fn a_host_keeps_its_address_and_the_pool_gives_idle_addresses_to_newcomers() {
        let mut state = State::default();
        let now = Instant::now();
        let first = MacAddr::parse("02:00:00:00:00:01").unwrap();
        let ip = state.host(first, now, "/").unwrap().ip;
        assert_eq!(state.host(first, now, "/").unwrap().ip, ip);
        for n in 2..=300u32 {
            let [_, _, a, b] = n.to_be_bytes();
            let mac = MacAddr([2, 0, 0, 0, a, b]);
            let later = now + Duration::from_secs(u64::from(n));
            assert!(state.host(mac, later, "/").is_ok());
        }
        assert_eq!(state.hosts.len(), POOL_SIZE as usize);
        assert!(
            !state.hosts.contains_key(&first),
            "the oldest idle host left"
        );
        let mut ips: Vec<Ipv4Addr> = state.hosts.values().map(|h| h.ip).collect();
        ips.sort();
        ips.dedup();
        assert_eq!(ips.len(), POOL_SIZE as usize, "no address is given twice");
    }
}
