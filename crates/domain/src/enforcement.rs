//! The enforcement ladder: how a change reaches a live session (aaa-design.md §6). A
//! session to end is asked to end by RADIUS first (a Disconnect-Request to the router), and
//! only believed gone when the router's accounting says so (a Stop) or the router's own
//! list no longer holds it; failing that, the session is removed through the router's API.
//! This module decides, from what each rung answered, what comes next; `netops` sends.

/// A rung of the ladder, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rung {
    /// Disconnect-Request (RFC 5176) with User-Name, Acct-Session-Id, Framed-IP-Address
    /// and NAS-IP-Address.
    Disconnect,
    /// The router's API: the session removed from `/ppp/active` (or the hotspot's list).
    RouterApi,
}

impl Rung {
    /// Every rung.
    pub const ALL: [Rung; 2] = [Rung::Disconnect, Rung::RouterApi];

    /// The code stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
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
    /// The session is gone: a Stop arrived, the router no longer lists it, or the router
    /// said it has no such session.
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

/// What the router answered a Disconnect-Request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectReply {
    /// Disconnect-ACK.
    Ack,
    /// Disconnect-NAK with its first Error-Cause, if any.
    Nak(Option<u32>),
    /// No valid answer after the retransmissions.
    Timeout,
}

/// What to do after a rung.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
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
pub fn after_disconnect(reply: DisconnectReply) -> Next {
    match reply {
        DisconnectReply::Ack => Next::Verify,
        DisconnectReply::Nak(Some(SESSION_NOT_FOUND)) => Next::Gone,
        DisconnectReply::Nak(Some(RESOURCES_UNAVAILABLE)) => Next::Later,
        DisconnectReply::Nak(_) | DisconnectReply::Timeout => Next::Escalate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ack_is_verified_and_a_refusal_escalates_unless_the_session_is_gone() {
        let cases = [
            (DisconnectReply::Ack, Next::Verify),
            (DisconnectReply::Nak(Some(503)), Next::Gone),
            (DisconnectReply::Nak(Some(506)), Next::Later),
            (DisconnectReply::Nak(Some(401)), Next::Escalate),
            (DisconnectReply::Nak(Some(402)), Next::Escalate),
            (DisconnectReply::Nak(Some(404)), Next::Escalate),
            (DisconnectReply::Nak(Some(407)), Next::Escalate),
            (DisconnectReply::Nak(None), Next::Escalate),
            (DisconnectReply::Timeout, Next::Escalate),
        ];
        for (reply, next) in cases {
            assert_eq!(after_disconnect(reply), next, "{reply:?}");
        }
    }

    #[test]
    fn codes_go_out_and_come_back() {
        for rung in Rung::ALL {
            assert_eq!(Rung::parse(rung.as_str()), Some(rung));
        }
        for status in EnforcementStatus::ALL {
            assert_eq!(EnforcementStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(Rung::parse("coa"), None);
    }
}
