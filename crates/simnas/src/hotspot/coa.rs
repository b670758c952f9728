//! The hotspot's CoA side, as RouterOS's `/radius incoming` answers it: a Disconnect-Request
//! for one of its sessions ends it (the row leaves `/ip/hotspot/active`, a Stop with
//! Admin-Reset) and is ACKed; a CoA-Request for one takes its new rate and is ACKed; either
//! for a session it does not have is NAKed with Error-Cause 503. A session is named by its
//! Acct-Session-Id, else by User-Name (with Calling-Station-Id when given). The mac-cookie
//! stays, as on the router: the host logs in again with it on its next page.

use std::sync::Arc;

use radius::server::{Handler, Request};
use radius::{Code, Packet, attrs};

use super::Inner;
use super::aaa::{BUSY_PERCENT, log_out};
use super::host::MacAddr;
use crate::wire::parse_rate;
use crate::{SESSION_NOT_FOUND, acct};

/// Answers the server's CoA and Disconnect requests for the hotspot's sessions.
pub(crate) struct HotspotCoa(pub(crate) Arc<Inner>);

impl Handler for HotspotCoa {
    async fn handle(&self, request: Request) -> Option<Packet> {
        let p = &request.packet;
        let (ack, nak) = match p.code {
            Code::CoaRequest => (Code::CoaAck, Code::CoaNak),
            Code::DisconnectRequest => (Code::DisconnectAck, Code::DisconnectNak),
            _ => return None,
        };
        let text = |attr| -> Option<String> { p.value(attr).and_then(Result::ok) };
        let session_id = text(attrs::ACCT_SESSION_ID);
        let user = text(attrs::USER_NAME);
        let calling = text(attrs::CALLING_STATION_ID).and_then(|m| MacAddr::parse(&m));
        let found = {
            let mut state = self.0.state();
            let host = state.hosts.values_mut().find(|host| {
                host.session.as_ref().is_some_and(|s| match &session_id {
                    Some(id) => &s.id == id,
                    None => {
                        user.as_ref().is_some_and(|u| &s.user == u)
                            && calling.is_none_or(|mac| s.mac == mac)
                    }
                })
            });
            match host {
                Some(host) if p.code == Code::CoaRequest => {
                    let rate: Option<String> =
                        p.value(attrs::MIKROTIK_RATE_LIMIT).and_then(Result::ok);
                    if let (Some(session), Some((up, down))) =
                        (host.session.as_mut(), rate.as_deref().and_then(parse_rate))
                    {
                        session.up_bps = up * BUSY_PERCENT / 100;
                        session.down_bps = down * BUSY_PERCENT / 100;
                    }
                    Some(host.mac)
                }
                Some(host) => Some(host.mac),
                None => None,
            }
        };
        let Some(mac) = found else {
            let mut reply = request.reply(nak);
            reply.add(attrs::ERROR_CAUSE, &SESSION_NOT_FOUND);
            return Some(reply);
        };
        if p.code == Code::DisconnectRequest {
            log_out(&self.0, mac, acct::ADMIN_RESET);
        }
        Some(request.reply(ack))
    }
}
