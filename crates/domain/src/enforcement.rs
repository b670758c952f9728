//! The enforcement ladder: how a change reaches a live session (aaa-design.md §6). A
//! session whose rate must change is sent a CoA-Request with the new rate; a session to end,
//! or one whose router refused the CoA, is asked to end by RADIUS (a Disconnect-Request to
//! the router: it logs in again under the new terms), and only believed gone when the
//! router's accounting says so (a Stop) or the router's own list no longer holds it; failing
//! that, the session is removed through the router's API. This module decides, from what
//! each rung answered, what comes next; `netops` sends.

/// A rung of the ladder, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rung {
    /// CoA-Request (RFC 5176) with the session's identity and the new rate: no drop.
    Coa,
    /// Disconnect-Request (RFC 5176) with User-Name, Acct-Session-Id, Framed-IP-Address
    /// and NAS-IP-Address.
    Disconnect,
    /// The router's API: the session removed from `/ppp/active` (or the hotspot's list).
    RouterApi,
}

impl Rung {
    /// Every rung.
    pub const ALL: [Rung; 3] = [Rung::Coa, Rung::Disconnect, Rung::RouterApi];

    /// The code stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Rung::Coa => "coa",
            Rung::Disconnect => "disconnect",
            Rung::RouterApi => "router_api",
        }
    }

    /// The rung whose code is `text`.
    pub fn parse(text: &str) -> Option<Self> {
        Rung::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// Where an enforcement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnforcementStatus {
    /// Queued or on its way up the ladder.
    Pending,
    /// The change reached the session (the router took the new rate), or the session is
    /// gone: a Stop arrived, the router no longer lists it, or the router said it has no
    /// such session.
    Done,
    /// Every rung was tried and the session may still be up.
    Failed,
}

impl EnforcementStatus {
    /// Every status.
    pub const ALL: [EnforcementStatus; 3] = [
        EnforcementStatus::Pending,
        EnforcementStatus::Done,
        EnforcementStatus::Failed,
    ];

    /// The code stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            EnforcementStatus::Pending => "pending",
            EnforcementStatus::Done => "done",
            EnforcementStatus::Failed => "failed",
        }
    }

    /// The status whose code is `text`.
    pub fn parse(text: &str) -> Option<Self> {
        EnforcementStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// What the router answered a CoA-Request or a Disconnect-Request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouterReply {
    /// CoA-ACK or Disconnect-ACK.
    Ack,
    /// CoA-NAK or Disconnect-NAK with its first Error-Cause, if any.
    Nak(Option<u32>),
    /// No valid answer after the retransmissions.
    Timeout,
}

/// What to do after a rung.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The router took the change and the session goes on.
    Applied,
    /// The session is gone (and is closed if still open).
    Gone,
    /// Believe nothing yet: wait for the Stop, then look at the router's list.
    Verify,
    /// Try the next rung now.
    Escalate,
    /// The router is busy: try the same rung again later.
    Later,
}

/// Error-Cause 503: Session Context Not Found.
pub const SESSION_NOT_FOUND: u32 = 503;
/// Error-Cause 506: Resources Unavailable.
pub const RESOURCES_UNAVAILABLE: u32 = 506;

/// What follows a Disconnect-Request's answer (aaa-design.md §6): an ACK is verified, never
/// trusted (routers have ACKed and kept the session); "no such session" means it is gone;
/// "resources unavailable" is retried later; any other refusal (a request wrong for this
/// router: unsupported or missing attribute, invalid request or value) and silence go to
/// the router's API.
pub fn after_disconnect(reply: RouterReply) -> Next {
    match reply {
        RouterReply::Ack => Next::Verify,
        RouterReply::Nak(Some(SESSION_NOT_FOUND)) => Next::Gone,
        RouterReply::Nak(Some(RESOURCES_UNAVAILABLE)) => Next::Later,
        RouterReply::Nak(_) | RouterReply::Timeout => Next::Escalate,
    }
}

/// What follows a CoA-Request's answer: an ACK means the router applied the new rate to
/// the session (RouterOS changes the queue in place; nothing later would show otherwise);
/// "no such session" means it is gone (its next login gets the new terms); "resources
/// unavailable" is retried later; any other refusal and silence escalate to a disconnect, so
/// the subscriber logs in again under the new terms.
pub fn after_coa(reply: RouterReply) -> Next {
    match reply {
        RouterReply::Ack => Next::Applied,
        other => after_disconnect(other),
    }
}

/// What of a customer decides whether a change must reach its live sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionFacts<'a> {
    /// Its status.
    pub status: crate::customer::CustomerStatus,
    /// How it pays.
    pub billing: crate::customer::BillingType,
    /// When its service ends.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Its package.
    pub package_id: i64,
    /// The MAC it is bound to.
    pub mac: Option<&'a str>,
}

/// What a change of a customer does to its live sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionChange {
    /// They end, for this reason (the subscriber logs in again under the new terms, or
    /// is refused).
    End(&'static str),
    /// They take the customer's new rate, by CoA.
    Rate(&'static str),
}

/// What a change from `before` to `after` at `now` does to the customer's live sessions,
/// if anything: suspended or disabled, they end (a suspended one comes back into what the
/// suspension policy gives it); bound to another MAC, they end (the binding is checked at
/// login); a prepaid expiry moved into the past ends them; another package gives them its
/// rate (its pool takes effect at the next login).
pub fn after_change(
    before: &SessionFacts<'_>,
    after: &SessionFacts<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<SessionChange> {
    use crate::customer::{CustomerStatus, is_expired};
    if after.status != before.status && after.status != CustomerStatus::Active {
        return Some(SessionChange::End(after.status.as_str()));
    }
    if after.mac.is_some() && !same_mac(after.mac, before.mac) {
        return Some(SessionChange::End("mac"));
    }
    if is_expired(after.billing, after.expires_at, now)
        && !is_expired(before.billing, before.expires_at, now)
    {
        return Some(SessionChange::End("expired"));
    }
    (after.package_id != before.package_id).then_some(SessionChange::Rate("package"))
}

/// The same binding: both none, or the same MAC (letters in either case).
fn same_mac(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::{BillingType, CustomerStatus};
    use chrono::{DateTime, TimeDelta};

    #[test]
    fn a_change_reaches_live_sessions_only_when_it_must() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let base = SessionFacts {
            status: CustomerStatus::Active,
            billing: BillingType::Prepaid,
            expires_at: Some(now + TimeDelta::days(3)),
            package_id: 1,
            mac: Some("AA:BB:CC:00:11:22"),
        };
        let change = |after: SessionFacts<'_>| after_change(&base, &after, now);
        assert_eq!(change(base), None, "nothing changed");
        let suspended = SessionFacts {
            status: CustomerStatus::Suspended,
            ..base
        };
        assert_eq!(change(suspended), Some(SessionChange::End("suspended")));
        let other_mac = SessionFacts {
            mac: Some("AA:BB:CC:00:11:23"),
            ..base
        };
        assert_eq!(change(other_mac), Some(SessionChange::End("mac")));
        let same_mac = SessionFacts {
            mac: Some("aa:bb:cc:00:11:22"),
            ..base
        };
        assert_eq!(change(same_mac), None, "the same MAC in other letters");
        let unbound = SessionFacts { mac: None, ..base };
        assert_eq!(change(unbound), None, "a binding lifted ends nothing");
        let expired = SessionFacts {
            expires_at: Some(now - TimeDelta::minutes(1)),
            ..base
        };
        assert_eq!(change(expired), Some(SessionChange::End("expired")));
        let extended = SessionFacts {
            expires_at: Some(now + TimeDelta::days(30)),
            ..base
        };
        assert_eq!(change(extended), None);
        let other_package = SessionFacts {
            package_id: 2,
            ..base
        };
        assert_eq!(change(other_package), Some(SessionChange::Rate("package")));
    }

    #[test]
    fn an_ack_is_verified_and_a_refusal_escalates_unless_the_session_is_gone() {
        let cases = [
            (RouterReply::Ack, Next::Verify),
            (RouterReply::Nak(Some(503)), Next::Gone),
            (RouterReply::Nak(Some(506)), Next::Later),
            (RouterReply::Nak(Some(401)), Next::Escalate),
            (RouterReply::Nak(Some(402)), Next::Escalate),
            (RouterReply::Nak(Some(404)), Next::Escalate),
            (RouterReply::Nak(Some(407)), Next::Escalate),
            (RouterReply::Nak(None), Next::Escalate),
            (RouterReply::Timeout, Next::Escalate),
        ];
        for (reply, next) in cases {
            assert_eq!(after_disconnect(reply), next, "{reply:?}");
        }
    }

    #[test]
    fn a_coa_ack_applies_and_a_refused_coa_escalates_to_a_disconnect() {
        assert_eq!(after_coa(RouterReply::Ack), Next::Applied);
        assert_eq!(after_coa(RouterReply::Nak(Some(503))), Next::Gone);
        assert_eq!(after_coa(RouterReply::Nak(Some(506))), Next::Later);
        assert_eq!(after_coa(RouterReply::Nak(Some(405))), Next::Escalate);
        assert_eq!(after_coa(RouterReply::Timeout), Next::Escalate);
    }

    #[test]
    fn codes_go_out_and_come_back() {
        for rung in Rung::ALL {
            assert_eq!(Rung::parse(rung.as_str()), Some(rung));
        }
        for status in EnforcementStatus::ALL {
            assert_eq!(EnforcementStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(Rung::parse("radius"), None);
    }
}
