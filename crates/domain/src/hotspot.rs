//! The captive portal's rules (hotspot-design §1.5, §2.4), pure: what the router's login
//! page posts, read into typed values (the CHAP challenge from RouterOS's octal escapes, a
//! login address that must be the router's own, never a host an attacker names); the
//! hand-off address, whose CHAP response is computed here so that the phone never holds the
//! account's secret; which account a proved mobile signs in as ([`decide`], replacing the
//! reference's two-by-two matrix that crashed on a shared device or mobile); what a device
//! is called; and the pages lastmile puts on the router, which only carry the router's
//! variables to the portal.

use std::net::Ipv4Addr;

use md5::{Digest as _, Md5};

use crate::customer::CustomerState;
use crate::field::FieldError;
use crate::network::MacAddr;

/// The longest CHAP challenge read (RouterOS sends 16 bytes).
pub const MAX_CHALLENGE: usize = 64;

/// The longest login address or first address kept.
pub const MAX_URL: usize = 512;

/// A portal's key: 20 lower-case base32 characters, made by `store`.
pub const KEY_LEN: usize = 20;

/// Whether `key` has a portal key's shape (checked before any lookup).
pub fn is_key(key: &str) -> bool {
    key.len() == KEY_LEN
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

/// The router's CHAP offer: its id byte and its challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chap {
    /// The CHAP id.
    pub id: u8,
    /// The challenge.
    pub challenge: Vec<u8>,
}

impl Chap {
    /// Reads `$(chap-id)` and `$(chap-challenge)` as the login page posts them: every byte
    /// a backslash and three octal digits. Both empty: the router offers no CHAP.
    pub fn parse(id: &str, challenge: &str) -> Result<Option<Chap>, FieldError> {
        let (id, challenge) = (id.trim(), challenge.trim());
        if id.is_empty() && challenge.is_empty() {
            return Ok(None);
        }
        let bad = || FieldError::new("chap_challenge", "invalid_chap");
        let id = octal_bytes(id).ok_or_else(bad)?;
        let challenge = octal_bytes(challenge).ok_or_else(bad)?;
        match (id.as_slice(), challenge.len()) {
            ([id], 1..=MAX_CHALLENGE) => Ok(Some(Chap { id: *id, challenge })),
            _ => Err(bad()),
        }
    }

    /// The challenge as hex, as kept.
    pub fn challenge_hex(&self) -> String {
        hex(&self.challenge)
    }

    /// A kept challenge read back.
    pub fn from_kept(id: i32, challenge_hex: &str) -> Option<Chap> {
        let id = u8::try_from(id).ok()?;
        let challenge = unhex(challenge_hex)?;
        (!challenge.is_empty() && challenge.len() <= MAX_CHALLENGE)
            .then_some(Chap { id, challenge })
    }

    /// The response the router expects in the `password` field of its `/login`:
    /// `hex(MD5(id ‖ secret ‖ challenge))` (RFC 1994, as `md5.js` computes it).
    pub fn response(&self, secret: &[u8]) -> String {
        let mut md5 = Md5::new();
        md5.update([self.id]);
        md5.update(secret);
        md5.update(&self.challenge);
        hex(&md5.finalize())
    }
}

/// Bytes from a string of `\NNN` octal escapes; `None` for anything else.
pub fn octal_bytes(text: &str) -> Option<Vec<u8>> {
    let raw = text.as_bytes();
    if raw.is_empty() || !raw.len().is_multiple_of(4) || raw.len() / 4 > MAX_CHALLENGE {
        return None;
    }
    raw.chunks(4)
        .map(|chunk| match chunk {
            [b'\\', a, b, c] if [a, b, c].iter().all(|d| (b'0'..=b'7').contains(d)) => {
                u8::try_from(
                    u32::from(a - b'0') * 64 + u32::from(b - b'0') * 8 + u32::from(c - b'0'),
                )
                .ok()
            }
            _ => None,
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Where the router takes logins (`$(link-login-only)`): `http(s)://<host>[:port]/login`,
/// whose host is a private, shared (100.64/10) or loopback IPv4 address, or one of the
/// portal's host names. Anything else could send the hand-off, and the account's
/// response, to a host an attacker names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginUrl(String);

impl LoginUrl {
    /// Reads the posted login address, `hosts` being the portal's host names.
    pub fn parse(raw: &str, hosts: &[String]) -> Result<LoginUrl, FieldError> {
        let bad = || FieldError::new("login_url", "invalid_login_url");
        let raw = raw.trim();
        if raw.len() > MAX_URL {
            return Err(bad());
        }
        let rest = raw
            .strip_prefix("http://")
            .or_else(|| raw.strip_prefix("https://"))
            .ok_or_else(bad)?;
        let (authority, path) = rest.split_once('/').ok_or_else(bad)?;
        if path != "login" || authority.contains('@') {
            return Err(bad());
        }
        let host = match authority.rsplit_once(':') {
            Some((host, port)) => {
                port.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(bad)?;
                host
            }
            None => authority,
        };
        let allowed = match host.parse::<Ipv4Addr>() {
            Ok(ip) => ip.is_private() || ip.is_loopback() || is_shared(ip),
            Err(_) => hosts.iter().any(|h| h.eq_ignore_ascii_case(host)),
        };
        if allowed {
            Ok(LoginUrl(raw.to_owned()))
        } else {
            Err(FieldError::new("login_url", "foreign_login_url"))
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hand-off: a GET of the router's login with the account's user name, the
    /// password (a CHAP response, or the secret when the router offers no CHAP) and the
    /// address the phone first asked for (a 303 to here avoids the browsers' warning on a
    /// form posted from HTTPS to HTTP, hotspot-design §5.3).
    pub fn hand_off(&self, username: &str, password: &str, dst: Option<&str>) -> String {
        let mut url = format!(
            "{}?username={}&password={}",
            self.0,
            escape(username),
            escape(password)
        );
        if let Some(dst) = dst {
            url.push_str("&dst=");
            url.push_str(&escape(dst));
        }
        url
    }
}

/// 100.64.0.0/10, the carrier-grade NAT range ISPs give hotspot clients.
fn is_shared(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    a == 100 && (64..128).contains(&b)
}

/// Percent-encodes all but the unreserved characters (RFC 3986).
pub fn escape(text: &str) -> String {
    use std::fmt::Write as _;
    text.bytes().fold(String::new(), |mut out, b| {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        out
    })
}

/// The address the phone first asked for, kept when it is a plain `http(s)` address of
/// reasonable length; else dropped (it is only where the router sends the phone after
/// login, never where the portal redirects).
pub fn first_address(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let ok = (raw.starts_with("http://") || raw.starts_with("https://"))
        && raw.len() <= MAX_URL
        && !raw.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then(|| raw.to_owned())
}

/// The MAC the router said, if it is one (`---` when the router did not know).
pub fn client_mac(raw: &str) -> Option<MacAddr> {
    MacAddr::parse(raw)
}

/// What the router's last login said, as a code the portal explains.
pub fn router_error(raw: &str) -> Option<&'static str> {
    let text = raw.trim().to_ascii_lowercase();
    if text.is_empty() {
        return None;
    }
    Some(if text.contains("invalid username or password") {
        "wrong_credentials"
    } else if text.contains("radius server is not responding") {
        "radius_down"
    } else if text.contains("no more sessions") || text.contains("simultaneous") {
        "too_many_sessions"
    } else if text.contains("expired") || text.contains("exhausted") || text.contains("limit") {
        "used_up"
    } else {
        "router_error"
    })
}

/// What a device is, read from its browser's User-Agent, for the device list.
pub fn device_label(user_agent: &str) -> &'static str {
    let ua = user_agent.to_ascii_lowercase();
    if ua.contains("iphone") {
        "iPhone"
    } else if ua.contains("ipad") {
        "iPad"
    } else if ua.contains("android") {
        "Android"
    } else if ua.contains("windows") {
        "Windows"
    } else if ua.contains("mac os") || ua.contains("macintosh") {
        "Mac"
    } else if ua.contains("cros") {
        "Chromebook"
    } else if ua.contains("linux") {
        "Linux"
    } else {
        "Device"
    }
}

/// One account of the tenant on a proved mobile, as [`decide`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The customer.
    pub id: i64,
    /// What it gets now.
    pub state: CustomerState,
    /// Its volume is used up.
    pub used_up: bool,
    /// Devices bound to it.
    pub devices: usize,
    /// This phone's MAC is one of them.
    pub this_device: bool,
    /// Staff bound the account to one MAC (its RADIUS rows check it), and it is not this
    /// phone's: the router would refuse it here.
    pub bound_elsewhere: bool,
    /// Its sessions open now, on any device.
    pub sessions: usize,
    /// Sessions it may have at once (its `Simultaneous-Use`).
    pub simultaneous_use: usize,
}

/// Whether the portal offers a mobile its trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trial {
    /// The portal has no trial package.
    NotOffered,
    /// Offered, and this mobile has not had it.
    Available,
    /// This mobile had it.
    Used,
}

/// What the portal knows once a mobile is proved.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The tenant's accounts on the mobile (disabled ones left out by the caller or here).
    pub accounts: &'a [Account],
    /// The account the phone chose among several.
    pub chosen: Option<i64>,
    /// Devices an account may bind.
    pub max_devices: usize,
    /// The network of another tenant that has the mobile, when this one has none.
    pub elsewhere: Option<&'a str>,
    /// The trial.
    pub trial: Trial,
}

/// Why an account cannot sign in now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// Its paid time is over.
    Expired,
    /// Suspended.
    Suspended,
    /// Its volume is used up.
    UsedUp,
}

impl Blocked {
    /// Its code.
    pub fn as_str(self) -> &'static str {
        match self {
            Blocked::Expired => "expired",
            Blocked::Suspended => "suspended",
            Blocked::UsedUp => "used_up",
        }
    }
}

/// What the portal does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Sign in as `account`, binding this device first when `bind`.
    SignIn {
        /// The account.
        account: i64,
        /// This device is new to it.
        bind: bool,
    },
    /// The account has all the devices it may have: one must go first.
    DeviceLimit {
        /// The account.
        account: i64,
    },
    /// The mobile has several accounts: the phone picks one.
    Choose(Vec<i64>),
    /// The account has all the sessions it may have open, on other devices: the router
    /// would refuse this one until one ends (the phone may end them).
    InUse {
        /// The account.
        account: i64,
    },
    /// Staff bound the account to another device's MAC: only that device signs in.
    BoundElsewhere {
        /// The account.
        account: i64,
    },
    /// The account cannot sign in now: why, and the way to pay.
    Recharge {
        /// The account.
        account: i64,
        /// Why.
        why: Blocked,
    },
    /// The mobile belongs to another network on the platform (only its name is told).
    OtherNetwork(String),
    /// No account anywhere: make one, on the trial when it is offered and unused.
    SignUp {
        /// The trial applies.
        trial: bool,
    },
}

/// Which account a proved mobile signs in as, and how (hotspot-design §2.4).
pub fn decide(facts: &Facts<'_>) -> Next {
    let live: Vec<&Account> = facts
        .accounts
        .iter()
        .filter(|a| a.state != CustomerState::Disabled)
        .collect();
    let account = match (live.as_slice(), facts.chosen) {
        ([], _) => {
            return match facts.elsewhere {
                Some(network) => Next::OtherNetwork(network.to_owned()),
                None => Next::SignUp {
                    trial: facts.trial == Trial::Available,
                },
            };
        }
        ([one], _) => *one,
        (many, Some(chosen)) => match many.iter().find(|a| a.id == chosen) {
            Some(account) => *account,
            None => return Next::Choose(many.iter().map(|a| a.id).collect()),
        },
        (many, None) => return Next::Choose(many.iter().map(|a| a.id).collect()),
    };
    let why = match account.state {
        CustomerState::Expired => Some(Blocked::Expired),
        CustomerState::Suspended => Some(Blocked::Suspended),
        _ if account.used_up => Some(Blocked::UsedUp),
        _ => None,
    };
    if let Some(why) = why {
        return Next::Recharge {
            account: account.id,
            why,
        };
    }
    if account.bound_elsewhere {
        return Next::BoundElsewhere {
            account: account.id,
        };
    }
    let bind = !account.this_device;
    if bind && account.devices >= facts.max_devices.max(1) {
        Next::DeviceLimit {
            account: account.id,
        }
    } else if account.sessions >= account.simultaneous_use.max(1) {
        // The router asks RADIUS, which counts the open sessions: a hand-off now would be
        // refused there, so the phone hears why here.
        Next::InUse {
            account: account.id,
        }
    } else {
        Next::SignIn {
            account: account.id,
            bind,
        }
    }
}

/// The host names a phone must reach, before it is online, to pay through a merchant
/// account of `provider` whose API is at `base_url`: the API's own host, and the hosts of
/// the provider's checkout pages (Stripe's, bKash's and SSLCommerz's; a generic aggregator
/// names only its base). RouterOS walled-garden patterns (`*.sslcommerz.com`). A card
/// issuer's 3-D Secure page is the issuing bank's and cannot be listed ahead.
pub fn payment_hosts(provider: &str, base_url: &str) -> Vec<String> {
    let authority = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    // The host, without the port.
    let own = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
    .to_ascii_lowercase();
    let known: &[&str] = match provider {
        "stripe" => &["*.stripe.com", "*.stripe.network"],
        "bkash" => &["*.bka.sh", "*.bkash.com"],
        "sslcommerz" => &["*.sslcommerz.com"],
        _ => &[],
    };
    std::iter::once(own)
        .filter(|h| {
            (1..=253).contains(&h.len())
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        })
        .chain(known.iter().map(|h| (*h).to_owned()))
        .collect()
}

/// The pages lastmile puts on the router (`html-directory`), each under 2 KB. `login.html`
/// posts the router's variables to the portal at once, as hidden fields only (RouterOS does
/// not escape them for HTML, so none reaches markup or script); the others send the phone
/// to the portal's pages with a full navigation, which iOS's captive sheet needs to see
/// that it is online.
pub fn router_pages(portal: &str, key: &str) -> Vec<(&'static str, String)> {
    let base = format!("{}/hs/{key}", portal.trim_end_matches('/'));
    let head = "<!doctype html><meta charset=\"utf-8\">\
                <meta name=\"viewport\" content=\"width=device-width\">";
    let login = format!(
        "{head}<title>Wi-Fi</title>\
<form name=\"f\" method=\"post\" action=\"{base}/start\">\
<input type=\"hidden\" name=\"mac\" value=\"$(mac)\">\
<input type=\"hidden\" name=\"ip\" value=\"$(ip)\">\
<input type=\"hidden\" name=\"login_url\" value=\"$(link-login-only)\">\
<input type=\"hidden\" name=\"dst\" value=\"$(link-orig)\">\
<input type=\"hidden\" name=\"chap_id\" value=\"$(chap-id)\">\
<input type=\"hidden\" name=\"chap_challenge\" value=\"$(chap-challenge)\">\
<input type=\"hidden\" name=\"err\" value=\"$(error-orig)\">\
<noscript><button>Continue / চালিয়ে যান</button></noscript></form>\
<script>document.f.submit()</script>"
    );
    let go = |to: &str| {
        format!(
            "{head}<title>Wi-Fi</title><meta http-equiv=\"refresh\" content=\"0; url={base}/{to}\">\
<a href=\"{base}/{to}\">Continue / চালিয়ে যান</a>"
        )
    };
    vec![
        ("login.html", login),
        ("alogin.html", go("welcome")),
        ("status.html", go("status")),
        ("logout.html", go("bye")),
    ]
}

#[cfg(test)]
#[path = "hotspot_tests.rs"]
mod tests;
