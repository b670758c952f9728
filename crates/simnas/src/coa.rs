//! The NAS's CoA side: the server's Disconnect-Requests end a session (Stop, Admin-Reset)
//! and CoA-Requests change its rate, each ACKed; either for a session the NAS does not have
//! is NAKed with Error-Cause 503, as RouterOS answers. The scenario may delay every answer
//! (`coa_delay`) and lose a share of the requests (`coa_loss_percent`).

use std::sync::Arc;
use std::time::Duration;

use radius::server::{Handler, Request};
use radius::{Code, Packet, attrs};
use rand::RngExt as _;

use crate::wire::parse_rate;
use crate::{Inner, Record, SESSION_NOT_FOUND, account, acct, bump, end, remove_from_router};

/// Answers the server's CoA and Disconnect requests.
pub(crate) struct CoaHandler(pub(crate) Arc<Inner>);

impl Handler for CoaHandler {
    async fn handle(&self, request: Request) -> Option<Packet> {
        let inner = &self.0;
        let p = &request.packet;
        let (ack, nak) = match p.code {
            Code::CoaRequest => (Code::CoaAck, Code::CoaNak),
            Code::DisconnectRequest => (Code::DisconnectAck, Code::DisconnectNak),
            _ => return None,
        };
        let loss = inner.scenario.coa_loss_percent.min(100);
        if loss > 0 && inner.state().rng.random_range(0..100) < loss {
            bump(&inner.counters.coa_lost);
            return None;
        }
        if !inner.scenario.coa_delay.is_zero() {
            tokio::time::sleep(inner.scenario.coa_delay).await;
        }
        let text = |attr| p.value(attr).and_then(Result::ok);
        let session_id: Option<String> = text(attrs::ACCT_SESSION_ID);
        let user: Option<String> = text(attrs::USER_NAME);
        let mut state = inner.state();
        let found = match &session_id {
            Some(id) => state.sessions.contains_key(id).then(|| id.clone()),
            None => user.as_ref().and_then(|name| {
                let index = inner
                    .scenario
                    .subscribers
                    .iter()
                    .position(|s| &s.username == name)?;
                state.by_subscriber.get(&index).cloned()
            }),
        };
        let Some(id) = found else {
            let mut reply = request.reply(nak);
            reply.add(attrs::ERROR_CAUSE, &SESSION_NOT_FOUND);
            return Some(reply);
        };
        if p.code == Code::CoaRequest {
            let rate: Option<String> = text(attrs::MIKROTIK_RATE_LIMIT);
            if let Some(rate) = rate
                && let Some((up, down)) = parse_rate(&rate)
                && let Some(session) = state.sessions.get_mut(&id)
            {
                let busy = u64::from(inner.scenario.busy_percent.clamp(1, 100));
                session.down_bps = down * busy / 100;
                session.up_bps = up * busy / 100;
                session.rate = rate;
            }
            bump(&inner.counters.coa);
            return Some(request.reply(ack));
        }
        let ended = end(
            &mut state,
            &id,
            inner.scenario.redial.min(Duration::from_secs(5)),
        );
        drop(state);
        if let Some(session) = ended {
            bump(&inner.counters.disconnects);
            remove_from_router(inner, &session);
            let inner = Arc::clone(inner);
            tokio::spawn(async move {
                account(&inner, Record::Stop(acct::ADMIN_RESET), &session).await;
            });
        }
        Some(request.reply(ack))
    }
}
