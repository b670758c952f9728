//! The hotspot's AAA, as RouterOS does it (design §1.6): the Access-Request a login sends
//! (PAP or CHAP from the [`Credential`], the hotspot's attribute set), the session an
//! Access-Accept opens (a row in the router's `/ip/hotspot/active`, a mac-cookie, an
//! Accounting Start), its Interim-Updates with growing counters, and its Stop: logout,
//! reconnect, Session-Timeout, volume used up, or its row removed through the API.
//!
//! The servlet calls [`log_in`] and [`log_out`]; [`watch`] runs for the hotspot's life.
//! Each session's accounting records go out in order from one task ([`deliver`]).

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use radius::{Code, Packet, attrs};
use tokio::sync::mpsc;

use super::host::{Credential, LoginBy, MacAddr, MacCookie, Session, State};
use super::pages::SessionView;
use super::{Inner, SeenRequest};
use crate::acct;
use crate::wire::{add_usage, parse_rate};

/// How often sessions are looked at (updates due, timeouts, rows removed through the API).
const TICK: Duration = Duration::from_millis(500);

/// Rounds of the client's retransmissions an accounting record gets before it is dropped.
const ACCT_ROUNDS: u32 = 3;

/// Accounting records a session may have waiting (Interim-Updates beyond are dropped while
/// the server does not answer).
const ACCT_BACKLOG: usize = 32;

/// Service-Type Login-User.
const LOGIN_USER: u32 = 1;

/// Acct-Authentic RADIUS.
const AUTHENTIC_RADIUS: u32 = 1;

/// The interface the hotspot runs on (NAS-Port-Id).
const PORT_ID: &str = "bridge-hotspot";

/// The rate a session's traffic is drawn from when the reply sets none (`1M/4M`).
const DEFAULT_RATE: (u64, u64) = (1_000_000 / 8, 4_000_000 / 8);

/// How busy a session's line is, percent of its rate.
pub(crate) const BUSY_PERCENT: u64 = 10;

/// The errors a login page shows (`$(error)`), RouterOS's words.
pub(crate) const INVALID: &str = "invalid username or password";
pub(crate) const NOT_RESPONDING: &str = "RADIUS server is not responding";
const BUSY: &str = "already authorizing, retry later";
const NO_ADDRESS: &str = "no more sessions are allowed";

/// How a login ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Logged in (or was already).
    Accepted,
    /// Not logged in; the error for the login page.
    Refused(String),
}

/// Logs `mac` in as `user` with `credential`. It runs in its own task, so a browser that
/// leaves mid-login cannot leave the host stuck "authorizing".
pub(crate) async fn log_in(
    inner: &Arc<Inner>,
    mac: MacAddr,
    user: String,
    credential: Credential,
    login_by: LoginBy,
) -> Outcome {
    let attempt = attempt(Arc::clone(inner), mac, user, credential, login_by);
    match tokio::spawn(attempt).await {
        Ok(outcome) => outcome,
        Err(error) => {
            tracing::warn!(%error, "a hotspot login failed");
            Outcome::Refused(NOT_RESPONDING.to_owned())
        }
    }
}

async fn attempt(
    inner: Arc<Inner>,
    mac: MacAddr,
    user: String,
    credential: Credential,
    login_by: LoginBy,
) -> Outcome {
    let (ip, session_id) = {
        let mut state = inner.state();
        let Ok(host) = state.host(mac, Instant::now(), &inner.home()) else {
            return Outcome::Refused(NO_ADDRESS.to_owned());
        };
        if host.session.is_some() {
            return Outcome::Accepted;
        }
        if host.logging_in {
            return Outcome::Refused(BUSY.to_owned());
        }
        host.logging_in = true;
        let ip = host.ip;
        (ip, state.next_session_id())
    };
    let request = access_request(&inner, mac, ip, &user, &credential, &session_id);
    // No answer (or a password too long to hide) is `None`.
    let answer = match request {
        Ok(request) => inner.auth.send(&request).await.ok().map(|r| r.packet),
        Err(error) => {
            tracing::warn!(%error, "cannot hide the password");
            None
        }
    };
    let accepted = matches!(&answer, Some(reply) if reply.code == Code::AccessAccept);
    let mut state = inner.state();
    state.saw(SeenRequest {
        user: user.clone(),
        method: credential.method(),
        login_by: login_by.as_str().to_owned(),
        mac: mac.to_string(),
        accepted,
    });
    if let Some(host) = state.hosts.get_mut(&mac) {
        host.logging_in = false;
    }
    if inner.stopped() {
        return Outcome::Refused(NOT_RESPONDING.to_owned());
    }
    match answer {
        Some(reply) if accepted => {
            let login = Login {
                mac,
                ip,
                user,
                credential,
                login_by,
                session_id,
            };
            open(&inner, &mut state, login, &reply);
            Outcome::Accepted
        }
        Some(reply) => {
            // A mac-cookie the server refuses is no use any more.
            if login_by == LoginBy::MacCookie {
                state.cookies.remove(&mac);
            }
            Outcome::Refused(refusal_message(&reply))
        }
        None => Outcome::Refused(NOT_RESPONDING.to_owned()),
    }
}

/// What a login page says of an Access-Reject: its Reply-Message, else RouterOS's words.
fn refusal_message(reply: &Packet) -> String {
    let messages: Vec<String> = reply
        .get_all(attrs::REPLY_MESSAGE.id())
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .collect();
    let message = messages.join(" ");
    if message.trim().is_empty() {
        INVALID.to_owned()
    } else {
        message
    }
}

/// The Access-Request of a login, with the hotspot's attributes (design §1.6).
fn access_request(
    inner: &Inner,
    mac: MacAddr,
    ip: Ipv4Addr,
    user: &str,
    credential: &Credential,
    session_id: &str,
) -> Result<Packet, radius::crypto::HideError> {
    let config = &inner.config;
    let mut request = Packet::new(Code::AccessRequest, rand::random());
    request.add(attrs::USER_NAME, &user.to_owned());
    match credential {
        Credential::Pap(password) => {
            radius::auth::pap::add_user_password(
                &mut request,
                password.as_bytes(),
                config.secret.as_bytes(),
            )?;
        }
        Credential::Chap {
            id,
            response,
            challenge,
        } => {
            let mut value = vec![*id];
            value.extend_from_slice(response);
            request.add(attrs::CHAP_PASSWORD, &value);
            request.add(attrs::CHAP_CHALLENGE, &challenge.to_vec());
        }
    }
    request.add(attrs::SERVICE_TYPE, &LOGIN_USER);
    request.add(attrs::FRAMED_IP_ADDRESS, &ip);
    add_host_attributes(inner, &mut request, mac, session_id);
    request.add(attrs::WISPR_LOGOFF_URL, &format!("{}/logout", inner.url));
    Ok(request)
}

/// The attributes every request of a host carries.
fn add_host_attributes(inner: &Inner, request: &mut Packet, mac: MacAddr, session_id: &str) {
    let config = &inner.config;
    request.add(attrs::CALLING_STATION_ID, &mac.to_string());
    request.add(attrs::CALLED_STATION_ID, &config.server_name);
    request.add(attrs::NAS_PORT_TYPE, &acct::WIRELESS);
    request.add(attrs::NAS_PORT_ID, &PORT_ID.to_owned());
    request.add(attrs::NAS_IDENTIFIER, &config.identity);
    request.add(attrs::NAS_IP_ADDRESS, &config.nas_ip);
    request.add(attrs::ACCT_SESSION_ID, &session_id.to_owned());
}

/// An accepted login, about to become a session.
struct Login {
    mac: MacAddr,
    ip: Ipv4Addr,
    user: String,
    credential: Credential,
    login_by: LoginBy,
    session_id: String,
}

/// Opens the session an Access-Accept gives: its row in `/ip/hotspot/active`, its
/// mac-cookie, its accounting (the Start first).
fn open(inner: &Inner, state: &mut State, login: Login, reply: &Packet) {
    let now = Instant::now();
    let Some(host) = state.hosts.get_mut(&login.mac) else {
        return;
    };
    let number = |attr| reply.value(attr).and_then(Result::ok);
    let interim = number(attrs::ACCT_INTERIM_INTERVAL)
        .filter(|s| *s > 0)
        .map_or(inner.config.interim, |s| Duration::from_secs(u64::from(s)))
        .max(Duration::from_secs(1));
    let total_limit = match (
        number(attrs::MIKROTIK_TOTAL_LIMIT),
        number(attrs::MIKROTIK_TOTAL_LIMIT_GIGAWORDS),
    ) {
        (None, None) => None,
        (low, high) => Some(radius::gigawords::fold(low.unwrap_or(0), high.unwrap_or(0))),
    };
    let rate: Option<String> = reply.value(attrs::MIKROTIK_RATE_LIMIT).and_then(Result::ok);
    let (up, down) = rate.as_deref().and_then(parse_rate).unwrap_or(DEFAULT_RATE);
    let item = inner
        .router
        .add_hotspot_session(&login.user, &login.ip.to_string(), &login.mac.to_string())
        .inspect_err(|error| tracing::warn!(%error, "cannot list the hotspot session"))
        .ok();
    let (records, queue) = mpsc::channel(ACCT_BACKLOG);
    tokio::spawn(deliver(inner.acct.clone(), queue));
    let session = Session {
        user: login.user.clone(),
        mac: login.mac,
        ip: login.ip,
        id: login.session_id,
        login_by: login.login_by,
        item,
        started: now,
        class: reply
            .get_all(attrs::CLASS.id())
            .map(<[u8]>::to_vec)
            .collect(),
        interim,
        next_interim: now + interim,
        ends_at: number(attrs::SESSION_TIMEOUT).map(|s| now + Duration::from_secs(u64::from(s))),
        total_limit,
        up_bps: up * BUSY_PERCENT / 100,
        down_bps: down * BUSY_PERCENT / 100,
        input: 0,
        output: 0,
        last_grow: now,
        records,
    };
    queue_record(&session, record(inner, &session, Record::Start, now));
    host.session = Some(session);
    // The user profile's add-mac-cookie (on by default): the MAC logs in again with what it
    // sent, from this login on.
    state.remember_cookie(
        login.mac,
        MacCookie {
            user: login.user,
            credential: login.credential,
            since: now,
        },
    );
}

/// Ends `mac`'s session, if it has one, with a Stop for `cause`; what it was, for the
/// logout page.
pub(crate) fn log_out(inner: &Inner, mac: MacAddr, cause: u32) -> Option<SessionView> {
    let now = Instant::now();
    let mut session = {
        let mut state = inner.state();
        state.hosts.get_mut(&mac)?.session.take()?
    };
    session.grow(now);
    let view = SessionView::of(&session, now);
    finish(inner, session, cause, true, now);
    Some(view)
}

/// Sends a session's Stop, after removing its row from `/ip/hotspot/active` when `unlist`.
fn finish(inner: &Inner, session: Session, cause: u32, unlist: bool, now: Instant) {
    if unlist
        && let Some(item) = &session.item
        && let Err(error) = inner.router.remove("/ip/hotspot/active", item)
    {
        tracing::warn!(%error, "cannot unlist the hotspot session");
    }
    let stop = record(inner, &session, Record::Stop(cause), now);
    // The Stop is the session's last record: waiting for room in its queue keeps it after
    // the others.
    let records = session.records;
    tokio::spawn(async move {
        let _ = records.send(stop).await;
    });
}

/// Looks at the sessions every tick, for the hotspot's life.
pub(crate) async fn watch(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        check_sessions(&inner, Instant::now());
    }
}

/// Grows every session's counters; sends the Interim-Updates due; ends the sessions whose
/// time or volume is used up, and those whose row the API removed.
fn check_sessions(inner: &Inner, now: Instant) {
    let mut ended = Vec::new();
    {
        // The rows are read under the state's lock (the order `open` takes them in), so a
        // session opened meanwhile is not taken for one the API removed.
        let mut state = inner.state();
        let listed: Option<HashSet<String>> =
            inner.router.rows("/ip/hotspot/active").ok().map(|rows| {
                rows.iter()
                    .filter_map(|row| row.id().map(|id| id.as_str().to_owned()))
                    .collect()
            });
        for host in state.hosts.values_mut() {
            let Some(session) = host.session.as_mut() else {
                continue;
            };
            session.grow(now);
            let removed = match (&listed, &session.item) {
                (Some(listed), Some(item)) => !listed.contains(item.as_str()),
                _ => false,
            };
            let used = session.input.saturating_add(session.output);
            let cause = if removed {
                Some(acct::ADMIN_RESET)
            } else if session.ends_at.is_some_and(|at| now >= at) {
                Some(acct::SESSION_TIMEOUT)
            } else if session.total_limit.is_some_and(|limit| used >= limit) {
                Some(acct::NAS_REQUEST)
            } else {
                None
            };
            if let Some(cause) = cause {
                if let Some(session) = host.session.take() {
                    ended.push((session, cause, !removed));
                }
            } else if now >= session.next_interim {
                session.next_interim = now + session.interim;
                queue_record(session, record(inner, session, Record::Interim, now));
            }
        }
    }
    for (session, cause, unlist) in ended {
        finish(inner, session, cause, unlist, now);
    }
}

/// What one Accounting-Request reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Record {
    Start,
    Interim,
    Stop(u32),
}

/// The Accounting-Request of a session's record.
fn record(inner: &Inner, session: &Session, record: Record, now: Instant) -> Packet {
    let mut request = Packet::new(Code::AccountingRequest, rand::random());
    let status = match record {
        Record::Start => acct::START,
        Record::Interim => acct::INTERIM,
        Record::Stop(_) => acct::STOP,
    };
    request.add(attrs::ACCT_STATUS_TYPE, &status);
    request.add(attrs::USER_NAME, &session.user);
    add_host_attributes(inner, &mut request, session.mac, &session.id);
    request.add(attrs::FRAMED_IP_ADDRESS, &session.ip);
    request.add(attrs::ACCT_AUTHENTIC, &AUTHENTIC_RADIUS);
    request.add(attrs::ACCT_DELAY_TIME, &0);
    for class in &session.class {
        request.add(attrs::CLASS, class);
    }
    if record != Record::Start {
        add_usage(
            &mut request,
            session.seconds(now),
            session.input,
            session.output,
        );
        // About one packet per kilobyte.
        let packets = |octets: u64| u32::try_from(octets / 1_000).unwrap_or(u32::MAX);
        request.add(attrs::ACCT_INPUT_PACKETS, &packets(session.input));
        request.add(attrs::ACCT_OUTPUT_PACKETS, &packets(session.output));
    }
    if let Record::Stop(cause) = record {
        request.add(attrs::ACCT_TERMINATE_CAUSE, &cause);
    }
    request
}

/// Queues a Start or an Interim-Update; an update that finds the queue full (the server has
/// not answered for a while) is dropped.
fn queue_record(session: &Session, record: Packet) {
    if session.records.try_send(record).is_err() {
        tracing::debug!(session = %session.id, "accounting backlog full; an update is dropped");
    }
}

/// Sends a session's accounting records in order, each a few rounds of retransmissions
/// before it is given up; ends after the session's Stop.
async fn deliver(acct: radius::client::Client, mut records: mpsc::Receiver<Packet>) {
    while let Some(record) = records.recv().await {
        let mut delivered = false;
        for _ in 0..ACCT_ROUNDS {
            if acct.send(&record).await.is_ok() {
                delivered = true;
                break;
            }
        }
        if !delivered {
            tracing::debug!("a hotspot accounting record was lost");
        }
    }
}
