//! Router-to-RADIUS migration (fixing reference §2.18, which disables every secret and drops
//! every session at once with no check and no way back): which of a router's local PPP
//! secrets lastmile takes over ([`choose`]), in what order ([`batches`]: a canary of
//! customers online first, then batches), and when a batch counts as having come back
//! through RADIUS ([`enough`]). Pure: `netops::migrate` talks to the router and
//! `ops::router_migration` keeps the record.
//!
//! RouterOS has no command that makes the router send an Access-Request of lastmile's
//! choosing, so the real test login through the router is a customer's own: the canary's
//! secrets are disabled and their sessions dropped, and their PPPoE clients dial again, now
//! answered by lastmile. Nobody online means no test login, and the migration is refused.

use serde::{Deserialize, Serialize};

use crate::field::{FieldError, FieldErrors};

/// How a migration proceeds, as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pace {
    /// Customers online whose reconnection through RADIUS is the test login (1 to 20).
    pub canary: u32,
    /// Secrets disabled, and their sessions dropped, per batch after the canary (1 to 1 000).
    pub batch_size: u32,
    /// How long a batch's customers have to come back through RADIUS, seconds (5 to 600).
    pub verify_seconds: u32,
    /// The share of a batch's dropped customers that must come back for it to pass, percent
    /// (1 to 100).
    pub min_reconnected_percent: u32,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            canary: 3,
            batch_size: 100,
            verify_seconds: 60,
            min_reconnected_percent: 80,
        }
    }
}

impl Pace {
    /// The field errors of a pace out of bounds.
    pub fn check(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        let bounds = [
            ("canary", self.canary, 1, 20),
            ("batch_size", self.batch_size, 1, 1_000),
            ("verify_seconds", self.verify_seconds, 5, 600),
            (
                "min_reconnected_percent",
                self.min_reconnected_percent,
                1,
                100,
            ),
        ];
        for (field, value, low, high) in bounds {
            if !(low..=high).contains(&value) {
                errors.push(
                    FieldError::new(field, "out_of_range")
                        .with("min", low)
                        .with("max", high),
                );
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// A local PPP secret as the router holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSecret {
    /// Its name (the user name).
    pub name: String,
    /// Its password.
    pub password: String,
    /// Disabled already.
    pub disabled: bool,
}

/// What lastmile holds of a user name: the customer and its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The customer.
    pub customer_id: i64,
    /// Its password in lastmile.
    pub password: String,
}

/// A secret lastmile takes over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// The secret's name.
    pub name: String,
    /// The customer holding it in lastmile.
    pub customer_id: i64,
    /// Online on the router now (its session is dropped so that it dials through RADIUS).
    pub online: bool,
}

/// The secrets a migration takes over and those it leaves, each by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Choice {
    /// Enabled secrets of customers lastmile holds with the same password.
    pub take: Vec<Candidate>,
    /// Secrets disabled already: left as they are, and not enabled by a rollback.
    pub already_disabled: usize,
    /// Secrets of names no customer of the router's tenant holds: left enabled.
    pub not_ours: Vec<String>,
    /// Secrets whose password differs from lastmile's: left enabled, since their customers
    /// would be refused through RADIUS.
    pub password_differs: Vec<String>,
}

/// Chooses among `secrets` those lastmile takes over: enabled, held by a customer
/// (`held`, by user name in lower case) with the same password. `online` tells whether a
/// name has a session on the router now.
pub fn choose(
    secrets: &[LocalSecret],
    held: impl Fn(&str) -> Option<Held>,
    online: impl Fn(&str) -> bool,
) -> Choice {
    let mut choice = Choice::default();
    for secret in secrets {
        if secret.disabled {
            choice.already_disabled += 1;
            continue;
        }
        match held(&secret.name.to_lowercase()) {
            None => choice.not_ours.push(secret.name.clone()),
            Some(h) if h.password != secret.password => {
                choice.password_differs.push(secret.name.clone());
            }
            Some(h) => choice.take.push(Candidate {
                name: secret.name.clone(),
                customer_id: h.customer_id,
                online: online(&secret.name),
            }),
        }
    }
    choice
}

/// Why no migration can start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No secret to take over.
    #[error("no enabled local secret of a customer lastmile holds: nothing to migrate")]
    Nothing,
    /// Nobody online: no test login through the router can be made.
    #[error(
        "none of the customers to migrate is online, so no test login through the router can \
         be made; ask again when some are"
    )]
    NobodyOnline,
}

/// `take` in the order it is migrated: the canary first (up to `pace.canary` customers
/// online), then the rest in batches of `pace.batch_size`, online ones first.
pub fn batches(take: &[Candidate], pace: &Pace) -> Result<Vec<Vec<Candidate>>, Refusal> {
    if take.is_empty() {
        return Err(Refusal::Nothing);
    }
    let (mut online, offline): (Vec<Candidate>, Vec<Candidate>) =
        take.iter().cloned().partition(|c| c.online);
    if online.is_empty() {
        return Err(Refusal::NobodyOnline);
    }
    let canary_size = (pace.canary as usize).min(online.len());
    let rest: Vec<Candidate> = online
        .split_off(canary_size)
        .into_iter()
        .chain(offline)
        .collect();
    let mut out = vec![online];
    out.extend(
        rest.chunks(pace.batch_size.max(1) as usize)
            .map(<[Candidate]>::to_vec),
    );
    Ok(out)
}

/// True when `reconnected` of the `dropped` customers of a batch came back through RADIUS:
/// at least `percent` of them, and at least one.
pub fn enough(reconnected: usize, dropped: usize, percent: u32) -> bool {
    dropped == 0 || (reconnected >= 1 && reconnected * 100 >= dropped * percent as usize)
}

#[cfg(test)]
#[path = "migration_tests.rs"]
mod tests;
