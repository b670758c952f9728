//! The built-in RADIUS server's sockets (design.md §4, built-in mode), and its
//! authentication: the `radius` crate's server loop (client lookup, authenticators,
//! Message-Authenticator policy, duplicates) with [`Authorize`] as its handler, answering
//! every Access-Request from [`AaaState`] through the one decision, `domain::aaa::decide`,
//! so that it says what the FreeRADIUS projection makes FreeRADIUS say.
//!
//! An Access-Request is refused when the user name is unknown (matched exactly, as
//! FreeRADIUS matches `radcheck`), the customer belongs to another tenant than the router
//! it comes through, the credentials are wrong (PAP, CHAP, MS-CHAPv1, MS-CHAPv2), the
//! Calling-Station-Id is not a device the customer is bound to (the MAC staff bound it to,
//! or one the captive portal bound, `domain::aaa::device_allowed`), the decision refuses, or
//! the customer has as many open sessions as it may have (counted from the accounting this
//! server made durable, `sessions`). An accepted one gets the decision's reply items, the
//! time left to expiry as Session-Timeout, the interim interval the server wants
//! (Acct-Interim-Interval: a session that stops updating is closed as stale after three)
//! and what the method adds (MS-CHAP2-Success, the MPPE keys). Status-Server is answered
//! (RFC 5997).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use radius::attrs;
use radius::auth::Outcome;
use radius::code::Code;
use radius::packet::Packet;
use radius::server::{Handler, Request, Server, ServerConfig, Threaded};
use store::Db;
use store::accounting::PostAuth;
use tracing::{debug, warn};

use crate::accounting::{Account, Writer};
use crate::clock::Now;
use crate::state::{AaaState, Clients};
use domain::aaa::{Decision, Item, Subscriber, decide, device_allowed};
use domain::network::MacAddr;

/// The authentication server, bound: one socket and thread per core (`radius::server::Threaded`),
/// each answering in its loop, since an answer is a few microseconds of memory work.
pub type AuthServer = Threaded<Clients, Authorize>;

/// The accounting server, bound.
pub type AcctServer = Server<Clients, Account>;

/// Binds the accounting server to `listen`, recording through `writer`.
pub async fn bind_acct(
    listen: SocketAddr,
    state: Arc<AaaState>,
    writer: Writer,
    now: Now,
) -> std::io::Result<AcctServer> {
    let handler = Account::new(Arc::clone(&state), writer, now);
    // Records in flight wait only for their batch's commit: many at once let a batch
    // hold what a fleet of routers sends meanwhile (bounded: beyond, the loop waits).
    let config = ServerConfig {
        max_in_flight: crate::accounting::BATCH * 4,
        ..ServerConfig::default()
    };
    Server::bind(listen, Clients(state), handler, config).await
}

/// Binds the authentication server to `listen` on `threads` sockets; it logs each answer
/// through `writer` and asks the routers it accepts for an Interim-Update every `interim`
/// (none when zero). Called on the application's runtime, where the database is reached.
pub fn bind_auth(
    listen: SocketAddr,
    threads: usize,
    state: Arc<AaaState>,
    db: Db,
    writer: Writer,
    interim: std::time::Duration,
    now: Now,
) -> std::io::Result<AuthServer> {
    let handler = Authorize {
        state: Arc::clone(&state),
        db,
        runtime: tokio::runtime::Handle::current(),
        writer,
        interim_seconds: u32::try_from(interim.as_secs()).unwrap_or(u32::MAX),
        now,
    };
    let config = ServerConfig {
        inline: true,
        ..ServerConfig::default()
    };
    Threaded::bind(listen, threads, Clients(state), handler, config)
}

/// Answers Access-Requests from the state.
pub struct Authorize {
    state: Arc<AaaState>,
    db: Db,
    /// The application's runtime: the database's connections belong to its reactor, so a
    /// catch-up with the change log runs there, not on the server's own threads.
    runtime: tokio::runtime::Handle,
    writer: Writer,
    interim_seconds: u32,
    now: Now,
}

impl std::fmt::Debug for Authorize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorize")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Handler for Authorize {
    async fn handle(&self, request: Request) -> Option<Packet> {
        match request.packet.code {
            Code::AccessRequest => self.authorize(&request).await,
            Code::StatusServer => Some(request.reply(Code::AccessAccept)),
            _ => None,
        }
    }
}

impl Authorize {
    /// The answer to an Access-Request; `None` to drop it.
    async fn authorize(&self, request: &Request) -> Option<Packet> {
        if self.state.behind(&self.db) {
            let (state, db) = (Arc::clone(&self.state), self.db.clone());
            let caught_up = self
                .runtime
                .spawn(async move { state.catch_up_if_behind(&db).await })
                .await;
            // Answered from what is known: the follower will try again.
            match caught_up {
                Ok(Ok(())) => {}
                Ok(Err(err)) => {
                    warn!(error = %err, "the RADIUS server could not catch up with a change");
                }
                Err(err) => warn!(error = %err, "the catch-up with a change did not finish"),
            }
        }
        let Some(router_tenant) = self.state.router_tenant(request) else {
            debug!(source = %request.source, "the router changed since the request was checked");
            return None;
        };
        let Some(Ok(username)) = request.packet.value(attrs::USER_NAME) else {
            return Some(request.reply(Code::AccessReject));
        };
        let now = (self.now)();
        let reply = self.decide(request, &username, router_tenant, now);
        self.writer.post_auth(PostAuth {
            at: now,
            username,
            reply: if reply.code == Code::AccessAccept {
                "Access-Accept"
            } else {
                "Access-Reject"
            },
        });
        Some(reply)
    }

    fn decide(
        &self,
        request: &Request,
        username: &str,
        router_tenant: i64,
        now: DateTime<Utc>,
    ) -> Packet {
        let reject = |attributes: Vec<radius::attr::Attribute>| {
            let mut reply = request.reply(Code::AccessReject);
            for attribute in attributes {
                reply.push(attribute.id, attribute.value);
            }
            reply
        };
        let Some(account) = self.state.account(username) else {
            if let Some(vpn) = self.state.vpn_account(username) {
                return self.decide_vpn(request, &vpn, router_tenant);
            }
            debug!(source = %request.source, "Access-Request for an unknown user");
            return reject(Vec::new());
        };
        // A router serves its own tenant's customers only.
        if router_tenant != account.tenant_id {
            debug!(source = %request.source, customer = account.customer_id, "another tenant's customer");
            return reject(Vec::new());
        }
        let method_reply = match request.check_password(&account.password) {
            Outcome::Accept { reply, .. } => reply,
            Outcome::Reject { reply, .. } => return reject(reply),
        };
        let subscriber = Subscriber {
            username: &account.username,
            password: &account.password,
            billing: account.billing,
            status: account.status,
            expires_at: account.expires_at,
            mac: account.mac,
            devices: &account.devices,
            static_ip: account.static_ip,
            simultaneous_use: account.simultaneous_use,
            tenant_archived: account.terms.tenant_archived,
        };
        let calling = request
            .packet
            .value(attrs::CALLING_STATION_ID)
            .and_then(Result::ok)
            .and_then(|text| MacAddr::parse(&text));
        if !device_allowed(&subscriber, calling) {
            debug!(source = %request.source, customer = account.customer_id, "a device not bound to the account");
            return reject(Vec::new());
        }
        let service = account.terms.service();
        let used = account
            .used_bytes
            .saturating_add(self.state.sessions().grown(account.customer_id));
        match decide(&subscriber, &service, &account.terms.policy, used, now) {
            Decision::Reject(reason) => {
                debug!(customer = account.customer_id, ?reason, "Access-Reject");
                reject(Vec::new())
            }
            Decision::Accept { .. }
                if self.state.sessions().open_count(account.customer_id)
                    >= account.simultaneous_use.max(1) as usize =>
            {
                debug!(
                    customer = account.customer_id,
                    "Access-Reject: sessions in use"
                );
                reject(Vec::new())
            }
            Decision::Accept {
                reply: items,
                session_timeout,
            } => {
                let mut reply = request.reply(Code::AccessAccept);
                for item in &items {
                    if !push_item(&mut reply, item) {
                        warn!(
                            attribute = item.attribute,
                            "a reply item the built-in server cannot encode was left out"
                        );
                    }
                }
                if self.interim_seconds > 0 {
                    reply.add(attrs::ACCT_INTERIM_INTERVAL, &self.interim_seconds);
                }
                if let Some(seconds) = session_timeout {
                    let seconds = u32::try_from(seconds).unwrap_or(u32::MAX);
                    reply.add(attrs::SESSION_TIMEOUT, &seconds);
                }
                for attribute in method_reply {
                    reply.push(attribute.id, attribute.value);
                }
                reply
            }
        }
    }
}

impl Authorize {
    /// The answer for a VPN account (`domain::vpn`): its own router only, its password,
    /// its address and speed.
    fn decide_vpn(&self, request: &Request, vpn: &store::vpn::View, router_tenant: i64) -> Packet {
        let reject = |attributes: Vec<radius::attr::Attribute>| {
            let mut reply = request.reply(Code::AccessReject);
            for attribute in attributes {
                reply.push(attribute.id, attribute.value);
            }
            reply
        };
        if router_tenant != vpn.tenant_id {
            debug!(source = %request.source, vpn = vpn.account_id, "another tenant's VPN account");
            return reject(Vec::new());
        }
        let method_reply = match request.check_password(&vpn.password) {
            Outcome::Accept { reply, .. } => reply,
            Outcome::Reject { reply, .. } => return reject(reply),
        };
        match domain::vpn::decide(&vpn.rules(), request.source.ip()) {
            Decision::Reject(reason) => {
                debug!(vpn = vpn.account_id, ?reason, "Access-Reject");
                reject(Vec::new())
            }
            Decision::Accept { reply: items, .. } => {
                let mut reply = request.reply(Code::AccessAccept);
                for item in &items {
                    push_item(&mut reply, item);
                }
                if self.interim_seconds > 0 {
                    reply.add(attrs::ACCT_INTERIM_INTERVAL, &self.interim_seconds);
                }
                for attribute in method_reply {
                    reply.push(attribute.id, attribute.value);
                }
                reply
            }
        }
    }
}

/// Adds a reply item of the decision to `reply`, typed as the dictionary says; false for
/// an attribute or value it does not know how to encode.
pub fn push_item(reply: &mut Packet, item: &Item) -> bool {
    let number = || item.value.parse::<u32>().ok();
    match item.attribute {
        "Mikrotik-Rate-Limit" => reply.add(attrs::MIKROTIK_RATE_LIMIT, &item.value),
        "Mikrotik-Address-List" => reply.add(attrs::MIKROTIK_ADDRESS_LIST, &item.value),
        "Framed-Pool" => reply.add(attrs::FRAMED_POOL, &item.value),
        "Mikrotik-Total-Limit" => match number() {
            Some(n) => reply.add(attrs::MIKROTIK_TOTAL_LIMIT, &n),
            None => return false,
        },
        "Mikrotik-Total-Limit-Gigawords" => match number() {
            Some(n) => reply.add(attrs::MIKROTIK_TOTAL_LIMIT_GIGAWORDS, &n),
            None => return false,
        },
        "Framed-IP-Address" => match item.value.parse::<Ipv4Addr>() {
            Ok(ip) => reply.add(attrs::FRAMED_IP_ADDRESS, &ip),
            Err(_) => return false,
        },
        _ => return false,
    }
    true
}
