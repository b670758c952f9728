//! Zero-touch provisioning against a router: reading what it holds in the menus lastmile
//! provisions ([`read`]), the plan from `domain::network::provision` ([`plan`]), and applying
//! it step by step ([`apply`]): when a step fails (a trap, a timeout, the connection lost),
//! every step applied before it, and the failed one in case the router did it anyway, is
//! undone in reverse order, on a new connection when the old one is gone; and rolling a
//! completed one back on request ([`revert`]).
//!
//! A menu the router does not have (no hotspot package, a RouterOS 7 device-mode that hides
//! it) is found while reading, before anything changes; a plan that needs it is refused.

use std::collections::BTreeMap;
use std::future::Future;

use domain::network::provision::{Change, Item, MENUS, Step, Want, proplist};
use routeros::{Client, Command, ItemId, Query, TrapCategory};
use serde::Serialize;

/// What a router holds in the menus lastmile provisions, and the menus it lacks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Current {
    /// Menu → its items, as printed.
    pub menus: BTreeMap<String, Vec<Item>>,
    /// Menus the router refused to print (`no such command`): a package it lacks, or a
    /// device-mode that forbids them.
    pub missing: Vec<String>,
}

/// Why a plan could not be made or applied.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The plan needs menus the router lacks; nothing was changed.
    #[error(
        "the router lacks {0:?} (a package not installed, or a RouterOS device-mode that \
         forbids it); nothing was changed"
    )]
    Missing(Vec<String>),
    /// The router refused, broke off or sent something unreadable.
    #[error("{0}")]
    Router(#[from] routeros::Error),
}

/// Reads the menus `wants` name, with the properties they set.
pub async fn read(client: &Client, wants: &[Want]) -> Result<Current, routeros::Error> {
    read_with(client, wants, &[]).await
}

/// [`read`], and also the menus `also` names with the properties it names (a menu where
/// lastmile removes what it no longer wants: its items are read whole enough to be put
/// back).
pub async fn read_with(
    client: &Client,
    wants: &[Want],
    also: &[(&str, &[&str])],
) -> Result<Current, routeros::Error> {
    let mut current = Current::default();
    for menu in MENUS {
        let extra = also.iter().find(|(m, _)| m == menu).map(|(_, p)| *p);
        if extra.is_none() && !wants.iter().any(|w| w.menu == *menu) {
            continue;
        }
        let mut props = proplist(wants, menu);
        props.extend(extra.unwrap_or_default().iter().map(|p| (*p).to_owned()));
        props.sort();
        props.dedup();
        let props: Vec<&str> = props.iter().map(String::as_str).collect();
        let command = Command::new(&format!("{menu}/print"))
            .proplist(&props)
            .query(&Query::new());
        match client.run(&command).await {
            Ok(response) => {
                let items = response
                    .rows
                    .iter()
                    .map(|row| Item {
                        id: row.id().map(|id| id.as_str().to_owned()),
                        props: row
                            .iter()
                            .filter(|(k, _)| *k != b".id")
                            .map(|(k, v)| {
                                (
                                    String::from_utf8_lossy(k).into_owned(),
                                    String::from_utf8_lossy(v).into_owned(),
                                )
                            })
                            .collect(),
                    })
                    .collect();
                current.menus.insert((*menu).to_owned(), items);
            }
            Err(e) if is_missing(&e) => current.missing.push((*menu).to_owned()),
            Err(e) => return Err(e),
        }
    }
    Ok(current)
}

/// True when a trap says the menu does not exist on this router.
fn is_missing(error: &routeros::Error) -> bool {
    match error {
        routeros::Error::Trap {
            category, message, ..
        } => {
            *category == Some(TrapCategory::MissingItemOrCommand)
                || message.contains("no such command")
        }
        _ => false,
    }
}

/// The steps that take the router `current` describes to `wants`; refused when a step needs
/// a menu the router lacks.
pub fn plan(wants: &[Want], current: &Current) -> Result<Vec<Step>, ProvisionError> {
    let missing: Vec<String> = current
        .missing
        .iter()
        .filter(|m| wants.iter().any(|w| w.menu == **m && must_exist(w)))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(ProvisionError::Missing(missing));
    }
    Ok(domain::network::provision::diff(wants, &current.menus))
}

/// A want on every item of a menu is met by a router without that menu (no hotspot: no
/// hotspot profile to set); any other needs the menu.
fn must_exist(want: &Want) -> bool {
    !matches!(want.find, domain::network::provision::Find::Every)
}

/// What applying a plan did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// Steps applied, in order.
    pub applied: usize,
    /// The step that failed (its index) and why, if one did.
    pub failed: Option<(usize, String)>,
    /// When a step failed: each undo, in the order done, and whether it worked.
    pub undone: Vec<(usize, Result<(), String>)>,
}

impl Applied {
    /// True when every step was applied.
    pub fn complete(&self) -> bool {
        self.failed.is_none()
    }

    /// True when a step failed and every undo worked: the router is as it was.
    pub fn rolled_back(&self) -> bool {
        self.failed.is_some() && self.undone.iter().all(|(_, r)| r.is_ok())
    }
}

/// Applies `steps` through `client`; on a failed step, undoes what was done through a
/// client from `reconnect` when the first one is lost.
pub async fn apply<F, Fut>(client: Client, steps: &[Step], reconnect: F) -> Applied
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Client, String>>,
{
    let mut done = Applied::default();
    // What each applied step added (its id), for the undo.
    let mut added: Vec<Option<ItemId>> = Vec::with_capacity(steps.len());
    // Whether the failed step may have been done: a trap says it was refused, but a reply
    // lost (a timeout, the connection gone) says nothing.
    let mut maybe_done = false;
    for (i, step) in steps.iter().enumerate() {
        match run(&client, step).await {
            Ok(id) => {
                added.push(id);
                done.applied += 1;
            }
            Err(e) => {
                maybe_done = !matches!(e, routeros::Error::Trap { .. });
                done.failed = Some((i, e.to_string()));
                break;
            }
        }
    }
    let Some((failed, _)) = done.failed else {
        client.close().await;
        return done;
    };
    // Undo the failed step too when the router may have done it, then the applied ones,
    // newest first.
    let last = if maybe_done { failed + 1 } else { failed };
    let mut client = Some(client);
    for i in (0..last).rev() {
        let live = match client.take().filter(Client::is_alive) {
            Some(c) => c,
            None => match reconnect().await {
                Ok(c) => c,
                Err(e) => {
                    done.undone.push((i, Err(format!("cannot reconnect: {e}"))));
                    continue;
                }
            },
        };
        let id = added.get(i).cloned().flatten();
        let result = undo(&live, &steps[i], id).await.map_err(|e| e.to_string());
        done.undone.push((i, result));
        client = Some(live);
    }
    if let Some(c) = client {
        c.close().await;
    }
    done
}

/// Does one step; an add answers the new item's id.
async fn run(client: &Client, step: &Step) -> Result<Option<ItemId>, routeros::Error> {
    match &step.change {
        Change::Add { props } => {
            let mut command = Command::new(&format!("{}/add", step.menu));
            for (k, v) in props {
                command = command.attr(k, v);
            }
            let response = client.run(&command).await?;
            Ok(response.ret_text().and_then(|id| ItemId::parse(&id)))
        }
        Change::Set { id, props, .. } => {
            set(client, &step.menu, id.as_deref(), props).await?;
            Ok(None)
        }
        Change::Remove { id, .. } => {
            let word = format!("{}/remove", step.menu);
            let Some(id) = ItemId::parse(id) else {
                return Err(routeros::Error::Trap {
                    command: word,
                    category: None,
                    message: format!("{id:?} is not an item id"),
                });
            };
            let command = Command::new(&word).id(&id);
            client.run(&command).await?;
            Ok(None)
        }
    }
}

async fn set(
    client: &Client,
    menu: &str,
    id: Option<&str>,
    props: &BTreeMap<String, String>,
) -> Result<(), routeros::Error> {
    let mut command = Command::new(&format!("{menu}/set"));
    if let Some(id) = id {
        command = command.attr(".id", id);
    }
    for (k, v) in props {
        command = command.attr(k, v);
    }
    client.run(&command).await.map(|_| ())
}

/// Undoes one step: an added item is removed (found by the key it was added with when its
/// id is not known), a set is set back.
async fn undo(client: &Client, step: &Step, id: Option<ItemId>) -> Result<(), routeros::Error> {
    match &step.change {
        Change::Add { props } => {
            let ids = match id {
                Some(id) => vec![id],
                None => {
                    let key = ["comment", "name"]
                        .into_iter()
                        .find_map(|k| props.get(k).map(|v| (k, v)));
                    let Some((k, v)) = key else { return Ok(()) };
                    let command = Command::new(&format!("{}/print", step.menu))
                        .proplist(&[".id"])
                        .query(&Query::new().eq(k, v));
                    let rows = client.run(&command).await?.rows;
                    rows.iter().filter_map(routeros::Row::id).collect()
                }
            };
            for id in ids {
                let command = Command::new(&format!("{}/remove", step.menu)).id(&id);
                client.run(&command).await?;
            }
            Ok(())
        }
        Change::Set { id, before, .. } => set(client, &step.menu, id.as_deref(), before).await,
        Change::Remove { props, .. } => {
            let mut command = Command::new(&format!("{}/add", step.menu));
            for (k, v) in props {
                command = command.attr(k, v);
            }
            client.run(&command).await.map(|_| ())
        }
    }
}

/// Rolls back `steps`, applied at some earlier time, newest first: an added item is found by
/// its key and removed, a set is set back to what it replaced. Each undo's result, in the
/// order done.
pub async fn revert(client: &Client, steps: &[Step]) -> Vec<(usize, Result<(), String>)> {
    let mut undone = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate().rev() {
        let result = undo(client, step, None).await.map_err(|e| e.to_string());
        undone.push((i, result));
    }
    undone
}
