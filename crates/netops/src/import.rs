//! Reading what an import takes from a router (`domain::network::import::Snapshot`):
//! `/ip pool`, the PPP profiles that are not built in, and `/ppp secret`, after checking
//! that the API user may read the secrets' passwords (group `full`, whose `sensitive`
//! policy shows them; any other group reads them empty). Each menu is one print with only
//! the properties used, bounded in rows; nothing is written to the router.

use domain::network::import::{
    MAX_POOLS, MAX_PROFILES, MAX_SECRETS, RouterPool, RouterProfile, RouterSecret, Snapshot,
};
use routeros::menu::{self, Record};
use routeros::{Client, Query, Row};

/// Why a router could not be read for an import.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The API user's group cannot read passwords.
    #[error(
        "the router's API user {user} is in group {group}; an import reads the PPP secrets' \
         passwords, which only group full shows (policy sensitive): put the user in group \
         full, or use another user, and retry"
    )]
    Group {
        /// The API user.
        user: String,
        /// Its group.
        group: String,
    },
    /// A menu holds more items than an import takes.
    #[error("the router has more than {max} items in {menu}; an import takes at most {max}")]
    TooMany {
        /// The menu.
        menu: &'static str,
        /// The limit.
        max: usize,
    },
    /// The router refused, broke off or sent something unreadable.
    #[error("{0}")]
    Router(#[from] routeros::Error),
}

/// Reads the pools, profiles and secrets of the router `client` is logged in to.
pub async fn read(client: &Client) -> Result<Snapshot, ReadError> {
    let group = menu::api_user_group(client).await?;
    if group != "full" {
        return Err(ReadError::Group {
            user: client.username().to_owned(),
            group,
        });
    }
    let pools = print(client, menu::IP_POOLS, MAX_POOLS, |p: menu::IpPool| {
        Some(RouterPool {
            name: p.name,
            ranges: p.ranges,
        })
    })
    .await?;
    let profiles = print(
        client,
        menu::PPP_PROFILES,
        MAX_PROFILES,
        |p: menu::PppProfile| {
            (!p.is_default).then_some(RouterProfile {
                name: p.name,
                local_address: p.local_address,
                remote_address: p.remote_address,
                rate_limit: p.rate_limit,
            })
        },
    )
    .await?;
    let secrets = print(
        client,
        menu::PPP_SECRETS,
        MAX_SECRETS,
        |s: menu::PppSecret| {
            Some(RouterSecret {
                name: s.name,
                password: s.password,
                service: s.service,
                profile: s.profile,
                remote_address: s.remote_address,
                comment: s.comment,
                disabled: s.disabled,
            })
        },
    )
    .await?;
    Ok(Snapshot {
        pools,
        profiles,
        secrets,
    })
}

/// Prints every item of `menu` as `R`, kept through `keep`, failing past `max` items.
pub(crate) async fn print<R: Record, T>(
    client: &Client,
    menu: menu::Menu<R>,
    max: usize,
    mut keep: impl FnMut(R) -> Option<T>,
) -> Result<Vec<T>, ReadError> {
    let command = routeros::Command::new(&format!("{}/print", menu.path()))
        .proplist(R::PROPLIST)
        .query(&Query::new());
    let path = menu.path();
    let mut count = 0usize;
    let result = client
        .run_map(&command, client.command_timeout(), |row: Row| {
            count += 1;
            if count > max {
                return Err(routeros::Error::TooManyRows {
                    command: format!("{path}/print"),
                    max,
                });
            }
            R::from_row(path, &row)
        })
        .await;
    match result {
        Ok((records, _)) => Ok(records.into_iter().filter_map(&mut keep).collect()),
        Err(routeros::Error::TooManyRows { .. }) if count > max => {
            Err(ReadError::TooMany { menu: path, max })
        }
        Err(e) => Err(e.into()),
    }
}
