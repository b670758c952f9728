//! Router-to-RADIUS migration against a router: checking that it is ready ([`preflight`]:
//! lastmile's RADIUS entry for PPP and PPP through RADIUS, as provisioning sets them),
//! reading its local secrets and sessions ([`read`]), and migrating the batches
//! `domain::network::migration` makes ([`migrate`]): each batch's secrets disabled, its
//! customers' sessions dropped so that their PPPoE clients dial again, now through RADIUS,
//! and their return verified; the first batch, the canary, is the test login. A batch that
//! does not come back, or a router that fails, enables again every secret disabled so far
//! (on a new connection when the old one is gone). [`enable`] rolls a finished migration
//! back on request.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::Duration;

use domain::network::migration::{Candidate, LocalSecret, Pace, enough};
use domain::network::provision::MARK;
use routeros::menu::{self, PppActive, PppSecret};
use routeros::{Client, Command, ItemId, Query};
use serde::Serialize;
use tokio::time::Instant;

use crate::import::{ReadError, print};

/// Secrets read from one router at most.
pub const MAX_SECRETS: usize = domain::network::import::MAX_SECRETS;

/// Ids set or removed in one command at most (`.id=*1,*2,…`).
const IDS_PER_COMMAND: usize = 100;

/// How often a batch's return is looked for.
const POLL: Duration = Duration::from_secs(1);

/// Once a batch has come back enough, how much longer its stragglers are waited for.
const STRAGGLERS: Duration = Duration::from_secs(5);

/// Why a router cannot be migrated, or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// The router does not send PPP logins to lastmile yet; nothing was changed.
    #[error("{0}; provision the router first (nothing was changed)")]
    NotReady(&'static str),
    /// Reading the secrets failed.
    #[error("{0}")]
    Read(#[from] ReadError),
    /// The router refused, broke off or sent something unreadable.
    #[error("{0}")]
    Router(#[from] routeros::Error),
}

/// Checks that the router sends PPP logins to lastmile: its `/radius` entry (the one with
/// lastmile's comment) serves `ppp` and is enabled, and `/ppp aaa` uses RADIUS.
pub async fn preflight(client: &Client) -> Result<(), MigrateError> {
    let comment = format!("{MARK}radius");
    let rows = menu::RADIUS
        .print_rows(
            client,
            &Query::new().eq("comment", &comment),
            &["service", "disabled"],
        )
        .await?;
    let Some(entry) = rows.first() else {
        return Err(MigrateError::NotReady(
            "the router has no RADIUS entry of lastmile's",
        ));
    };
    let serves_ppp = entry
        .text("service")
        .is_some_and(|s| s.split(',').any(|s| s.trim() == "ppp"));
    if !serves_ppp || entry.flag("disabled").unwrap_or(false) {
        return Err(MigrateError::NotReady(
            "lastmile's RADIUS entry on the router is disabled or does not serve PPP",
        ));
    }
    let aaa = menu::PPP_AAA.get_row(client, &["use-radius"]).await?;
    if !aaa.flag("use-radius").unwrap_or(false) {
        return Err(MigrateError::NotReady(
            "the router's PPP does not use RADIUS",
        ));
    }
    Ok(())
}

/// A router's local secrets and who is online on it.
#[derive(Debug, Clone, Default)]
pub struct RouterState {
    /// Each secret with its id.
    pub secrets: Vec<(ItemId, LocalSecret)>,
    /// User name → the ids of its sessions in `/ppp/active`.
    pub sessions: HashMap<String, Vec<ItemId>>,
}

/// Reads the local secrets (their passwords: the API user must be in group `full`) and the
/// PPP sessions.
pub async fn read(client: &Client) -> Result<RouterState, MigrateError> {
    let group = menu::api_user_group(client).await?;
    if group != "full" {
        return Err(ReadError::Group {
            user: client.username().to_owned(),
            group,
        }
        .into());
    }
    let secrets = print(client, menu::PPP_SECRETS, MAX_SECRETS, |s: PppSecret| {
        Some((
            s.id,
            LocalSecret {
                name: s.name,
                password: s.password,
                disabled: s.disabled,
            },
        ))
    })
    .await?;
    let active = print(client, menu::PPP_ACTIVE, MAX_SECRETS * 2, Some).await?;
    let mut sessions: HashMap<String, Vec<ItemId>> = HashMap::new();
    for PppActive { id, name, .. } in active {
        sessions.entry(name).or_default().push(id);
    }
    Ok(RouterState { secrets, sessions })
}

/// Sets `disabled` on the secrets `ids`, a list of ids per command.
pub async fn set_disabled(
    client: &Client,
    ids: &[ItemId],
    disabled: bool,
) -> Result<(), routeros::Error> {
    let value = if disabled { "yes" } else { "no" };
    for chunk in ids.chunks(IDS_PER_COMMAND) {
        let list: Vec<&str> = chunk.iter().map(ItemId::as_str).collect();
        let command = Command::new(&format!("{}/set", menu::PPP_SECRETS.path()))
            .attr(".id", list.join(","))
            .attr("disabled", value);
        client.run(&command).await?;
    }
    Ok(())
}

/// Drops the sessions `ids`; one that ended meanwhile is no error. How many were dropped.
pub async fn drop_sessions(client: &Client, ids: &[ItemId]) -> Result<usize, routeros::Error> {
    let mut dropped = 0;
    for chunk in ids.chunks(IDS_PER_COMMAND) {
        let list: Vec<&str> = chunk.iter().map(ItemId::as_str).collect();
        let command = Command::new(&format!("{}/remove", menu::PPP_ACTIVE.path()))
            .attr(".id", list.join(","));
        match client.run(&command).await {
            Ok(_) => dropped += chunk.len(),
            // One of the list is gone: the rest one by one.
            Err(routeros::Error::Trap { .. }) => {
                for id in chunk {
                    match menu::PPP_ACTIVE.remove(client, id).await {
                        Ok(()) => dropped += 1,
                        Err(routeros::Error::Trap { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(dropped)
}

/// Enables again the secrets named `names` (found by name now: ids may have changed since);
/// a name the router no longer has is skipped. How many were enabled.
pub async fn enable(client: &Client, names: &[String]) -> Result<usize, MigrateError> {
    let wanted: HashSet<&str> = names.iter().map(String::as_str).collect();
    let secrets = print(client, menu::PPP_SECRETS, MAX_SECRETS, |s: PppSecret| {
        (s.disabled && wanted.contains(s.name.as_str())).then_some(s.id)
    })
    .await?;
    set_disabled(client, &secrets, false).await?;
    Ok(secrets.len())
}

/// How a migration went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Batches planned, the canary first.
    pub batches: usize,
    /// Batches that passed.
    pub passed: usize,
    /// Secrets disabled (and kept disabled unless rolled back).
    pub disabled: usize,
    /// Sessions dropped.
    pub dropped: usize,
    /// Customers dropped who came back through RADIUS.
    pub reconnected: usize,
    /// Customers dropped who did not come back in time (the first 100).
    pub not_reconnected: Vec<String>,
    /// Why it stopped, if it did not finish.
    pub failed: Option<String>,
    /// When it stopped: whether every secret it disabled was enabled again.
    pub rolled_back: Option<Result<(), String>>,
}

/// Progress after each step, for the job's page.
#[derive(Debug, Clone, Serialize)]
pub struct Progress<'a> {
    /// What it is doing.
    pub phase: &'static str,
    /// The batch (1 is the canary).
    pub batch: usize,
    /// Of how many.
    pub batches: usize,
    /// The names disabled so far, in order.
    #[serde(skip)]
    pub disabled: &'a [String],
}

/// What a migration reads and tells while it runs: `reconnected` says which of some
/// customers have a session through RADIUS on this router that started at or after a time;
/// `observe` hears the progress (its error stops the migration: the names it is given must
/// be kept); `reconnect` makes a new connection when the first is gone.
pub trait Watch {
    /// Which of `customers` came back through RADIUS since `since`.
    fn reconnected(
        &mut self,
        customers: &[i64],
        since: chrono::DateTime<chrono::Utc>,
    ) -> impl Future<Output = Result<HashSet<i64>, String>> + Send;
    /// Hears progress; an error stops the migration.
    fn observe(
        &mut self,
        progress: Progress<'_>,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// A new connection to the router.
    fn reconnect(&mut self) -> impl Future<Output = Result<Client, String>> + Send;
    /// The time now, as lastmile's clock reads it (sessions are compared with it).
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
}

/// Migrates `batches` (the canary first) of the router `client` is logged in to, whose
/// secrets' ids and sessions `state` holds, at `pace`.
pub async fn migrate(
    client: Client,
    state: &RouterState,
    batches: &[Vec<Candidate>],
    pace: &Pace,
    watch: &mut impl Watch,
) -> Outcome {
    let ids: HashMap<&str, &ItemId> = state
        .secrets
        .iter()
        .map(|(id, s)| (s.name.as_str(), id))
        .collect();
    let mut outcome = Outcome {
        batches: batches.len(),
        ..Outcome::default()
    };
    let mut disabled_names: Vec<String> = Vec::new();
    let mut disabled_ids: Vec<ItemId> = Vec::new();
    let mut client = Some(client);
    for (n, batch) in batches.iter().enumerate() {
        let Some(live) = client.as_ref() else { break };
        let step = run_batch(
            live,
            state,
            &ids,
            batch,
            (n, batches.len()),
            pace,
            watch,
            &mut disabled_names,
            &mut disabled_ids,
            &mut outcome,
        )
        .await;
        if let Err(why) = step {
            outcome.failed = Some(if n == 0 {
                format!("the test login through the router failed: {why}")
            } else {
                format!("batch {} of {}: {why}", n + 1, batches.len())
            });
            break;
        }
        outcome.passed += 1;
    }
    outcome.disabled = disabled_ids.len();
    if outcome.failed.is_some() && !disabled_ids.is_empty() {
        // On the connection in hand while it lives; on a new one when it is gone or the
        // first try fails (a reply lost leaves a connection that looks alive).
        let mut enabled = Err("no connection".to_owned());
        if let Some(c) = client.take().filter(Client::is_alive) {
            enabled = set_disabled(&c, &disabled_ids, false)
                .await
                .map_err(|e| e.to_string());
            client = Some(c);
        }
        if enabled.is_err() {
            enabled = match watch.reconnect().await {
                Ok(c) => {
                    let done = set_disabled(&c, &disabled_ids, false)
                        .await
                        .map_err(|e| e.to_string());
                    if let Some(old) = client.replace(c) {
                        old.close().await;
                    }
                    done
                }
                Err(e) => Err(format!("cannot reconnect: {e}")),
            };
        }
        outcome.rolled_back = Some(enabled);
    }
    if let Some(c) = client {
        c.close().await;
    }
    outcome
}

/// One batch: its secrets disabled (and noted), its sessions dropped, its return awaited.
#[allow(clippy::too_many_arguments)] // one batch's share of the migration's state
async fn run_batch(
    client: &Client,
    state: &RouterState,
    ids: &HashMap<&str, &ItemId>,
    batch: &[Candidate],
    (n, of): (usize, usize),
    pace: &Pace,
    watch: &mut impl Watch,
    disabled_names: &mut Vec<String>,
    disabled_ids: &mut Vec<ItemId>,
    outcome: &mut Outcome,
) -> Result<(), String> {
    fn progress<'a>(
        phase: &'static str,
        (n, of): (usize, usize),
        disabled: &'a [String],
    ) -> Progress<'a> {
        Progress {
            phase,
            batch: n + 1,
            batches: of,
            disabled,
        }
    }
    let secrets: Vec<ItemId> = batch
        .iter()
        .filter_map(|c| ids.get(c.name.as_str()).map(|id| (*id).clone()))
        .collect();
    // Noted before the router is told: a migration cut short between the two enables a
    // name that was never disabled, which does no harm; the other way round would leave
    // a secret disabled that nothing knows of.
    let mut noted = disabled_names.clone();
    noted.extend(batch.iter().map(|c| c.name.clone()));
    watch
        .observe(progress("disabling", (n, of), &noted))
        .await?;
    *disabled_names = noted;
    // Counted before the router is told too: a command that fails halfway may have
    // disabled some of them, and the rollback must enable those.
    disabled_ids.extend(secrets.iter().cloned());
    set_disabled(client, &secrets, true)
        .await
        .map_err(|e| e.to_string())?;
    let online: Vec<&Candidate> = batch.iter().filter(|c| c.online).collect();
    let sessions: Vec<ItemId> = online
        .iter()
        .filter_map(|c| state.sessions.get(&c.name))
        .flatten()
        .cloned()
        .collect();
    // A second's grace: the database keeps session starts to the second.
    let since = watch.now() - chrono::TimeDelta::seconds(1);
    let dropped = drop_sessions(client, &sessions)
        .await
        .map_err(|e| e.to_string())?;
    outcome.dropped += dropped;
    watch
        .observe(progress("verifying", (n, of), disabled_names))
        .await?;
    let customers: Vec<i64> = online.iter().map(|c| c.customer_id).collect();
    let began = Instant::now();
    let deadline = began + Duration::from_secs(u64::from(pace.verify_seconds));
    let mut enough_at: Option<Instant> = None;
    let back = loop {
        let back = watch.reconnected(&customers, since).await?;
        let now = Instant::now();
        if enough(back.len(), customers.len(), pace.min_reconnected_percent) {
            let at = *enough_at.get_or_insert(now);
            if back.len() == customers.len() || now >= at + STRAGGLERS || now >= deadline {
                break back;
            }
        }
        if now >= deadline {
            break back;
        }
        tokio::time::sleep(POLL).await;
    };
    outcome.reconnected += back.len();
    for c in &online {
        if !back.contains(&c.customer_id) && outcome.not_reconnected.len() < 100 {
            outcome.not_reconnected.push(c.name.clone());
        }
    }
    if enough(back.len(), customers.len(), pace.min_reconnected_percent) {
        Ok(())
    } else {
        Err(format!(
            "{} of {} customers dropped came back through RADIUS within {} s (at least {} % \
             needed)",
            back.len(),
            customers.len(),
            pace.verify_seconds,
            pace.min_reconnected_percent
        ))
    }
}
