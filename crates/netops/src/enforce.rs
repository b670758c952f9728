//! The enforcement ladder (aaa-design.md §6): gives a live session a new rate or ends it,
//! and records every rung.
//!
//! 0. For a new rate (an enforcement with `rate_limit`): a CoA-Request with the session's
//!    identity and Mikrotik-Rate-Limit. An ACK is the change applied (done); "no such
//!    session" closes the row; "resources unavailable" retries later; any other refusal and
//!    silence go on to the disconnect, after which the subscriber logs in under the new
//!    terms (`domain::enforcement::after_coa`).
//! 1. Disconnect-Request to the router's address on the CoA port, with User-Name,
//!    Acct-Session-Id, Framed-IP-Address and NAS-IP-Address, signed with the router's
//!    secret; the same packet retransmitted on silence. What follows is
//!    `domain::enforcement::after_disconnect`: "no such session" ends it (the row is
//!    closed), "resources unavailable" retries the job later, an ACK is verified, never
//!    trusted: the session is done when its Stop arrives within [`Settings::verify`].
//! 2. Otherwise (an ACK without a Stop, a refusal, silence) the router's API: the session
//!    removed from `/ppp/active` (a hotspot customer's from `/ip/hotspot/active`) by user
//!    name, and done once the router no longer lists it (the row is closed; the router's
//!    own Stop, when it comes, adds its counters).
//!
//! A router lastmile cannot reach by its API after a failed first rung leaves the
//! enforcement failed, with the reason shown on the customer's page.
//!
//! Every request to a router (a CoA, a Disconnect-Request, an API removal) passes its
//! router's gate first ([`crate::gates`]): a bounded number in flight, evenly spaced.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use domain::enforcement::{
    EnforcementStatus, Next, RouterReply, Rung, after_coa, after_disconnect,
};
use radius::client::{Client, ClientConfig, ClientError};
use radius::{Code, Packet, attrs};
use routeros::menu;
use store::Db;
use store::enforcement::{Conclusion, Enforcement, NewAttempt};
use store::entity::router::Model as Router;

use crate::gates::{Gates, Limits};
use crate::recorder::Recorder;
use crate::router::{ApiError, connect};

/// How the ladder climbs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The port routers take CoA and Disconnect requests on (RouterOS `/radius incoming`:
    /// 3799).
    pub coa_port: u16,
    /// Wait for an answer to the first transmission.
    pub timeout: Duration,
    /// Retransmissions of the same packet after the first.
    pub retries: u32,
    /// How long a Stop may take to follow a Disconnect-ACK before the API is asked.
    pub verify: Duration,
    /// Bound on each step of the API rung.
    pub api_timeout: Duration,
    /// Each router's gate: requests in flight and started per second to it, at most.
    pub gates: std::sync::Arc<Gates>,
    /// Enforcements one job climbs at once (each still through its router's gate).
    pub job_concurrency: usize,
    /// The writer of their ends in batches; without it each end is its own transaction.
    pub recorder: Option<Recorder>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            coa_port: 3799,
            timeout: Duration::from_secs(2),
            retries: 2,
            verify: Duration::from_secs(10),
            api_timeout: Duration::from_secs(10),
            gates: std::sync::Arc::new(Gates::new(Limits::default())),
            job_concurrency: 32,
            recorder: None,
        }
    }
}

/// How one enforcement ended this time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done or failed for good.
    Finished(EnforcementStatus),
    /// The router asked for time: run again later.
    Later,
}

/// Why the ladder could not be climbed (the job is retried).
#[derive(Debug, thiserror::Error)]
pub enum EnforceError {
    /// The database refused.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The batch holding the enforcement's end could not be written.
    #[error("{0}")]
    Recorder(String),
}

/// Climbs the ladder for enforcement `id`, reading the time from `now`. An enforcement no
/// longer pending is left as it is.
pub async fn run(
    db: &Db,
    settings: &Settings,
    now: &(dyn Fn() -> DateTime<Utc> + Send + Sync),
    id: i64,
) -> Result<Outcome, EnforceError> {
    let Some((e, router)) = store::enforcement::target(db, id).await? else {
        return Ok(Outcome::Finished(EnforcementStatus::Failed));
    };
    if e.status.get() != EnforcementStatus::Pending {
        return Ok(Outcome::Finished(e.status.get()));
    }
    let ladder = Ladder {
        db,
        settings,
        now,
        e: &e,
        unrecorded: std::sync::Mutex::new(None),
    };
    if ladder.stopped().await? {
        return ladder.done("the session had ended").await;
    }
    let Some(router) = router else {
        return ladder
            .failed("the session's router is not one lastmile knows")
            .await;
    };
    if let Some(rate) = &e.rate_limit {
        match ladder.ask(&router, Rung::Coa).await? {
            Next::Applied => {
                return ladder
                    .done(&format!("the router took the rate {rate}"))
                    .await;
            }
            Next::Gone => {
                ladder.close("Admin-Reset").await?;
                return ladder.done("the router has no such session").await;
            }
            Next::Later => return ladder.later().await,
            Next::Verify | Next::Escalate => {}
        }
    }
    match ladder.ask(&router, Rung::Disconnect).await? {
        Next::Gone => {
            ladder.close("Admin-Reset").await?;
            return ladder.done("the router has no such session").await;
        }
        Next::Later => return ladder.later().await,
        Next::Verify => {
            if ladder.wait_for_stop().await? {
                return ladder
                    .done("the router acknowledged and sent the Stop")
                    .await;
            }
        }
        Next::Applied | Next::Escalate => {}
    }
    ladder.remove(&router).await
}

struct Ladder<'a> {
    db: &'a Db,
    settings: &'a Settings,
    now: &'a (dyn Fn() -> DateTime<Utc> + Send + Sync),
    e: &'a Enforcement,
    /// The latest attempt, written with the next one or with the enforcement's end (so a
    /// rung that ends it costs one commit).
    unrecorded: std::sync::Mutex<Option<NewAttempt<'static>>>,
}

impl Ladder<'_> {
    async fn stopped(&self) -> Result<bool, EnforceError> {
        Ok(match self.e.radacct_id {
            Some(row) => store::accounting::session_stopped(self.db.conn(), row).await?,
            None => false,
        })
    }

    /// Notes an attempt; the one before it is written now.
    async fn record(&self, attempt: NewAttempt<'static>) -> Result<(), EnforceError> {
        self.flush().await?;
        *self.pending() = Some(attempt);
        Ok(())
    }

    /// Writes the attempt not written yet, if any.
    async fn flush(&self) -> Result<(), EnforceError> {
        let attempt = self.pending().take();
        if let Some(attempt) = attempt {
            store::enforcement::attempt(self.db, self.e.id, (self.now)(), &attempt).await?;
        }
        Ok(())
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Option<NewAttempt<'static>>> {
        self.unrecorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The router asked for time: what was tried is written, and the job runs again.
    async fn later(&self) -> Result<Outcome, EnforceError> {
        self.flush().await?;
        Ok(Outcome::Later)
    }

    async fn done(&self, why: &str) -> Result<Outcome, EnforceError> {
        self.conclude(EnforcementStatus::Done, why).await
    }

    async fn failed(&self, why: &str) -> Result<Outcome, EnforceError> {
        self.conclude(EnforcementStatus::Failed, why).await
    }

    /// Ends the enforcement with the attempt not written yet, in one transaction (the
    /// recorder's batch, when there is one).
    async fn conclude(
        &self,
        status: EnforcementStatus,
        why: &str,
    ) -> Result<Outcome, EnforceError> {
        let end = Conclusion {
            id: self.e.id,
            at: (self.now)(),
            last: self.pending().take(),
            status,
            detail: why.to_owned(),
        };
        match &self.settings.recorder {
            Some(recorder) => recorder
                .conclude(end)
                .await
                .map_err(EnforceError::Recorder)?,
            None => store::enforcement::conclude(self.db, &[end]).await?,
        }
        Ok(Outcome::Finished(status))
    }

    async fn close(&self, cause: &str) -> Result<(), EnforceError> {
        if let Some(row) = self.e.radacct_id {
            store::accounting::close_session(self.db, row, (self.now)(), cause).await?;
        }
        Ok(())
    }

    /// A RADIUS rung (the CoA or the Disconnect-Request), recorded; what comes next.
    async fn ask(&self, router: &Router, rung: Rung) -> Result<Next, EnforceError> {
        let address: Result<IpAddr, _> = router.nas_address.parse();
        let secret = self
            .db
            .keyring()
            .open_string(store::network::SECRET_CONTEXT, &router.secret);
        let (Ok(address), Ok(secret)) = (address, secret) else {
            self.record(NewAttempt {
                rung,
                outcome: "error",
                error_cause: None,
                rtt_ms: None,
                detail: "the router's address or secret cannot be read".to_owned(),
            })
            .await?;
            return Ok(Next::Escalate);
        };
        let config = ClientConfig {
            timeout: self.settings.timeout,
            retries: self.settings.retries,
            ..ClientConfig::default()
        };
        let client = Client::with_config(
            SocketAddr::new(address, self.settings.coa_port),
            secret.as_bytes().to_vec(),
            config,
        );
        let (code, ack) = match rung {
            Rung::Coa => (Code::CoaRequest, Code::CoaAck),
            _ => (Code::DisconnectRequest, Code::DisconnectAck),
        };
        let mut request = Packet::new(code, 0);
        request.add(attrs::USER_NAME, &self.e.username);
        request.add(attrs::ACCT_SESSION_ID, &self.e.acct_session_id);
        if let Some(ip) = self.e.framed_ip.as_deref().and_then(|ip| ip.parse().ok()) {
            request.add(attrs::FRAMED_IP_ADDRESS, &ip);
        }
        if let Ok(nas) = self.e.nas_ip.parse::<Ipv4Addr>() {
            request.add(attrs::NAS_IP_ADDRESS, &nas);
        }
        if let (Rung::Coa, Some(rate)) = (rung, &self.e.rate_limit) {
            request.add(attrs::MIKROTIK_RATE_LIMIT, rate);
        }
        let pass = self.settings.gates.enter(router.id).await;
        let sent = Instant::now();
        let answer = client.send(&request).await;
        let rtt = i64::try_from(sent.elapsed().as_millis()).ok();
        drop(pass);
        let (reply, attempt) = match answer {
            Ok(response) if response.packet.code == ack => (
                RouterReply::Ack,
                NewAttempt {
                    rung,
                    outcome: "ack",
                    error_cause: None,
                    rtt_ms: rtt,
                    detail: ack.name().to_owned(),
                },
            ),
            Ok(response) => {
                let cause = response.error_causes().first().map(|c| c.as_u32());
                let named = response
                    .error_causes()
                    .first()
                    .map_or_else(|| "no Error-Cause".to_owned(), ToString::to_string);
                (
                    RouterReply::Nak(cause),
                    NewAttempt {
                        rung,
                        outcome: "nak",
                        error_cause: cause,
                        rtt_ms: rtt,
                        detail: format!("{}: {named}", response.packet.code.name()),
                    },
                )
            }
            Err(error @ ClientError::Timeout { .. }) => (
                RouterReply::Timeout,
                NewAttempt {
                    rung,
                    outcome: "timeout",
                    error_cause: None,
                    rtt_ms: None,
                    detail: error.to_string(),
                },
            ),
            Err(error) => (
                RouterReply::Timeout,
                NewAttempt {
                    rung,
                    outcome: "error",
                    error_cause: None,
                    rtt_ms: None,
                    detail: error.to_string(),
                },
            ),
        };
        self.record(attempt).await?;
        Ok(match rung {
            Rung::Coa => after_coa(reply),
            _ => after_disconnect(reply),
        })
    }

    /// After an ACK: whether the session's Stop arrives in time.
    async fn wait_for_stop(&self) -> Result<bool, EnforceError> {
        let until = Instant::now() + self.settings.verify;
        loop {
            if self.stopped().await? {
                return Ok(true);
            }
            if Instant::now() >= until {
                self.record(NewAttempt {
                    rung: Rung::Disconnect,
                    outcome: "no_stop",
                    error_cause: None,
                    rtt_ms: None,
                    detail: format!(
                        "no Stop within {} s of the ACK",
                        self.settings.verify.as_secs()
                    ),
                })
                .await?;
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Rung 2: the session removed through the router's API, and looked for again.
    async fn remove(&self, router: &Router) -> Result<Outcome, EnforceError> {
        let rung = Rung::RouterApi;
        let pass = self.settings.gates.enter(router.id).await;
        let sent = Instant::now();
        let removed = self.remove_from_api(router).await;
        let rtt = i64::try_from(sent.elapsed().as_millis()).ok();
        drop(pass);
        let (outcome, detail) = match &removed {
            Ok(0) => (
                "not_listed",
                "the router does not list the session".to_owned(),
            ),
            Ok(n) => (
                "removed",
                format!("removed {n} from /ppp/active; no longer listed"),
            ),
            Err(error) => ("error", error.to_string()),
        };
        self.record(NewAttempt {
            rung,
            outcome,
            error_cause: None,
            rtt_ms: rtt,
            detail: detail.clone(),
        })
        .await?;
        match removed {
            Ok(_) => {
                self.close("Admin-Reset").await?;
                self.done(&detail).await
            }
            Err(_) => self.failed(&detail).await,
        }
    }

    /// Removes the user's sessions from the router's active list (`/ppp/active`, or
    /// `/ip/hotspot/active` for a hotspot customer); checks that none is left. Returns how
    /// many were removed.
    async fn remove_from_api(&self, router: &Router) -> Result<usize, ApiError> {
        let hotspot = store::enforcement::is_hotspot(self.db.conn(), self.e.customer_id)
            .await
            .map_err(|e| ApiError::Stored(e.to_string()))?;
        let client = connect(self.db, router, self.settings.api_timeout).await?;
        let user = self.e.username.as_str();
        let result = async {
            let (removed, left) = if hotspot {
                let list = menu::HOTSPOT_ACTIVE;
                (
                    list.remove_by_key(&client, user).await?,
                    list.find_ids(&client, user).await?,
                )
            } else {
                let list = menu::PPP_ACTIVE;
                (
                    list.remove_by_key(&client, user).await?,
                    list.find_ids(&client, user).await?,
                )
            };
            if left.is_empty() {
                Ok(removed)
            } else {
                Err(ApiError::Stored(format!(
                    "the router still lists {} session(s) of {user}",
                    left.len(),
                )))
            }
        }
        .await;
        client.close().await;
        result
    }
}
