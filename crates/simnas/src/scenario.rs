//! What a simulated NAS is asked to do ([`Scenario`]: its server, its subscribers, its login
//! curve, traffic, reboots and CoA behaviour) and what it reports ([`Snapshot`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// One subscriber the NAS dials in for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    /// Its user name.
    pub username: String,
    /// Its password, in clear (the NAS hashes it as its method wants).
    pub password: String,
    /// Its MAC address (Calling-Station-Id); one is made up when `None`.
    pub mac: Option<String>,
    /// A hotspot user rather than a PPPoE one.
    pub hotspot: bool,
}

/// What the NAS does and whom it talks to.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Where Access-Requests go.
    pub auth_server: SocketAddr,
    /// Where Accounting-Requests go.
    pub acct_server: SocketAddr,
    /// The NAS's shared secret.
    pub secret: String,
    /// The NAS-IP-Address it sends (the server knows it by the source address of its
    /// packets, which is the address of the interface that reaches the server).
    pub nas_ip: Ipv4Addr,
    /// The address its requests leave from (the server knows a router by it); the
    /// system's choice when `None`.
    pub source: Option<IpAddr>,
    /// Where it takes CoA and Disconnect requests (RouterOS: UDP 3799).
    pub coa_listen: SocketAddr,
    /// Its subscribers.
    pub subscribers: Vec<Subscriber>,
    /// The logins after a boot spread over this much time, most of them early.
    pub login_over: Duration,
    /// The Interim-Update interval when the server names none.
    pub interim: Duration,
    /// How busy a subscriber's line is, on average, in percent of its rate.
    pub busy_percent: u32,
    /// A refused subscriber dials again after this.
    pub redial: Duration,
    /// Reboot this often, if at all.
    pub reboot_every: Option<Duration>,
    /// The random generator's seed (the same seed, the same traffic).
    pub seed: u64,
    /// How long the NAS takes to answer a CoA or Disconnect request.
    pub coa_delay: Duration,
    /// The share of CoA and Disconnect requests lost on the way, in percent: the NAS
    /// never sees them (the server's retransmission is another draw).
    pub coa_loss_percent: u32,
}

impl Scenario {
    /// A scenario for a server at `server` (ports 1812 and 1813) with `secret`: logins over a
    /// minute, updates every minute, lines 10% busy, no reboots.
    pub fn new(server: IpAddr, secret: &str, subscribers: Vec<Subscriber>) -> Scenario {
        Scenario {
            auth_server: SocketAddr::new(server, 1812),
            acct_server: SocketAddr::new(server, 1813),
            secret: secret.to_owned(),
            nas_ip: Ipv4Addr::LOCALHOST,
            source: None,
            coa_listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 3799),
            subscribers,
            login_over: Duration::from_secs(60),
            interim: Duration::from_secs(60),
            busy_percent: 10,
            redial: Duration::from_secs(300),
            reboot_every: None,
            seed: 1,
            coa_delay: Duration::ZERO,
            coa_loss_percent: 0,
        }
    }
}

/// What the NAS has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Logins accepted through RADIUS.
    pub accepted: u64,
    /// Logins answered by the router's own enabled secrets.
    pub local: u64,
    /// Logins refused.
    pub rejected: u64,
    /// Access-Requests no answer came for.
    pub unanswered: u64,
    /// Sessions up now.
    pub online: u64,
    /// Accounting records acknowledged.
    pub acct_acked: u64,
    /// Of them, Starts.
    pub starts_acked: u64,
    /// Accounting records never acknowledged.
    pub acct_lost: u64,
    /// CoA-Requests applied.
    pub coa: u64,
    /// CoA and Disconnect requests lost on the way (`Scenario::coa_loss_percent`).
    pub coa_lost: u64,
    /// Disconnect-Requests that ended a session.
    pub disconnects: u64,
    /// Sessions the API removed.
    pub removed: u64,
    /// Reboots.
    pub reboots: u64,
}
