//! Typed helpers for the menus lastmile drives: list menus ([`Menu`]: print with query and
//! proplist, add, set, remove, by `.id` or by key) and single-item menus ([`Singleton`]:
//! get and set), each tied to a record type that reads its rows.
//!
//! The constants below name every menu lastmile uses, with the property that identifies an
//! item (`name`, or `comment` where RouterOS has no unique name, which is where lastmile puts
//! its `lastmile:` markers). Writes take [`Props`], in RouterOS's own property names.

mod records;

use std::marker::PhantomData;

pub use records::{
    HotspotActive, Identity, IpPool, PppActive, PppProfile, PppSecret, Record, Resource, User,
};

use crate::client::Client;
use crate::client::ReplyStream;
use crate::error::Error;
use crate::query::Query;
use crate::sentence::{Command, ItemId, Row};

/// Property values for `add` and `set`, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Props {
    pairs: Vec<(String, Vec<u8>)>,
}

impl Props {
    /// No property.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a property (builder form).
    pub fn with(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.pairs.push((name.to_owned(), value.as_ref().to_vec()));
        self
    }

    /// Adds a property.
    pub fn push(&mut self, name: &str, value: impl AsRef<[u8]>) {
        self.pairs.push((name.to_owned(), value.as_ref().to_vec()));
    }

    /// The properties in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    fn apply(&self, mut command: Command) -> Command {
        for (name, value) in &self.pairs {
            command = command.attr(name, value);
        }
        command
    }
}

/// A menu of items with `.id`s, read as records of type `R`.
#[derive(Debug)]
pub struct Menu<R> {
    path: &'static str,
    key: &'static str,
    record: PhantomData<fn() -> R>,
}

impl<R> Clone for Menu<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for Menu<R> {}

impl<R: Record> Menu<R> {
    /// A menu at `path` whose items are found by `key`.
    pub const fn new(path: &'static str, key: &'static str) -> Self {
        Self {
            path,
            key,
            record: PhantomData,
        }
    }

    /// The menu path, such as `/ppp/secret`.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The property [`Menu::find`] looks items up by.
    pub fn key(&self) -> &'static str {
        self.key
    }

    fn command(&self, verb: &str) -> Command {
        Command::new(&format!("{}/{verb}", self.path))
    }

    /// Prints the items matching `query` as records (proplist from the record type).
    pub async fn print(&self, client: &Client, query: &Query) -> Result<Vec<R>, Error> {
        let command = self.command("print").proplist(R::PROPLIST).query(query);
        let path = self.path;
        let (records, _) = client
            .run_map(&command, client.command_timeout(), |row| {
                R::from_row(path, &row)
            })
            .await?;
        Ok(records)
    }

    /// Prints the items matching `query` as raw rows, limited to `proplist` (all if empty).
    pub async fn print_rows(
        &self,
        client: &Client,
        query: &Query,
        proplist: &[&str],
    ) -> Result<Vec<Row>, Error> {
        let command = self.command("print").proplist(proplist).query(query);
        Ok(client.run(&command).await?.rows)
    }

    /// The first item whose key equals `value`.
    pub async fn find(&self, client: &Client, value: &str) -> Result<Option<R>, Error> {
        let query = Query::new().eq(self.key, value);
        Ok(self.print(client, &query).await?.into_iter().next())
    }

    /// The ids of every item whose key equals `value`.
    pub async fn find_ids(&self, client: &Client, value: &str) -> Result<Vec<ItemId>, Error> {
        let query = Query::new().eq(self.key, value);
        let rows = self.print_rows(client, &query, &[".id"]).await?;
        Ok(rows.iter().filter_map(Row::id).collect())
    }

    /// Adds an item and returns its id.
    pub async fn add(&self, client: &Client, props: &Props) -> Result<ItemId, Error> {
        let response = client.run(&props.apply(self.command("add"))).await?;
        let ret = response.ret_text().unwrap_or_default();
        ItemId::parse(&ret).ok_or(Error::MissingProperty {
            menu: self.path,
            property: "ret",
        })
    }

    /// Sets properties of one item.
    pub async fn set(&self, client: &Client, id: &ItemId, props: &Props) -> Result<(), Error> {
        client
            .run(&props.apply(self.command("set").id(id)))
            .await
            .map(drop)
    }

    /// Removes one item.
    pub async fn remove(&self, client: &Client, id: &ItemId) -> Result<(), Error> {
        client.run(&self.command("remove").id(id)).await.map(drop)
    }

    /// Sets properties of the item whose key equals `value` and returns its id.
    pub async fn set_by_key(
        &self,
        client: &Client,
        value: &str,
        props: &Props,
    ) -> Result<ItemId, Error> {
        let id = self
            .find_ids(client, value)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::NotFound {
                menu: self.path,
                key: self.key,
                value: value.to_owned(),
            })?;
        self.set(client, &id, props).await?;
        Ok(id)
    }

    /// Removes every item whose key equals `value`; returns how many there were.
    pub async fn remove_by_key(&self, client: &Client, value: &str) -> Result<usize, Error> {
        let ids = self.find_ids(client, value).await?;
        if !ids.is_empty() {
            let list: Vec<&str> = ids.iter().map(ItemId::as_str).collect();
            client
                .run(&self.command("remove").attr(".id", list.join(",")))
                .await?;
        }
        Ok(ids.len())
    }

    /// Streams changes to the menu (`listen`): changed items, and `.dead=yes` for removed ones.
    pub async fn listen(&self, client: &Client) -> Result<ReplyStream, Error> {
        client.stream(&self.command("listen")).await
    }
}

/// A menu holding exactly one item without an id, such as `/system/identity`.
#[derive(Debug)]
pub struct Singleton<R> {
    path: &'static str,
    record: PhantomData<fn() -> R>,
}

impl<R> Clone for Singleton<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for Singleton<R> {}

impl<R: Record> Singleton<R> {
    /// The single-item menu at `path`.
    pub const fn new(path: &'static str) -> Self {
        Self {
            path,
            record: PhantomData,
        }
    }

    /// The menu path.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// Reads the item as a record.
    pub async fn get(&self, client: &Client) -> Result<R, Error> {
        R::from_row(self.path, &self.get_row(client, R::PROPLIST).await?)
    }

    /// Reads the item as a raw row, limited to `proplist` (all if empty).
    pub async fn get_row(&self, client: &Client, proplist: &[&str]) -> Result<Row, Error> {
        let command = Command::new(&format!("{}/print", self.path)).proplist(proplist);
        let response = client.run(&command).await?;
        Ok(response.rows.into_iter().next().unwrap_or_default())
    }

    /// Sets properties of the item.
    pub async fn set(&self, client: &Client, props: &Props) -> Result<(), Error> {
        let command = props.apply(Command::new(&format!("{}/set", self.path)));
        client.run(&command).await.map(drop)
    }
}

/// `/system/identity`: the router's name.
pub const IDENTITY: Singleton<Identity> = Singleton::new("/system/identity");
/// `/system/resource`: version, board, uptime, memory and CPU.
pub const RESOURCE: Singleton<Resource> = Singleton::new("/system/resource");
/// `/user`: router users and their groups.
pub const USERS: Menu<User> = Menu::new("/user", "name");
/// `/ppp/secret`: local PPP accounts.
pub const PPP_SECRETS: Menu<PppSecret> = Menu::new("/ppp/secret", "name");
/// `/ppp/profile`: PPP profiles.
pub const PPP_PROFILES: Menu<PppProfile> = Menu::new("/ppp/profile", "name");
/// `/ppp/active`: PPP sessions (removing one disconnects it).
pub const PPP_ACTIVE: Menu<PppActive> = Menu::new("/ppp/active", "name");
/// `/ppp/aaa`: PPP RADIUS use and accounting.
pub const PPP_AAA: Singleton<Row> = Singleton::new("/ppp/aaa");
/// `/ip/pool`: address pools.
pub const IP_POOLS: Menu<IpPool> = Menu::new("/ip/pool", "name");
/// `/radius`: RADIUS servers the router uses (no unique name: found by comment).
pub const RADIUS: Menu<Row> = Menu::new("/radius", "comment");
/// `/radius/incoming`: CoA and Disconnect-Request reception.
pub const RADIUS_INCOMING: Singleton<Row> = Singleton::new("/radius/incoming");
/// `/ip/hotspot`: hotspot servers.
pub const HOTSPOTS: Menu<Row> = Menu::new("/ip/hotspot", "name");
/// `/ip/hotspot/profile`: hotspot server profiles.
pub const HOTSPOT_PROFILES: Menu<Row> = Menu::new("/ip/hotspot/profile", "name");
/// `/ip/hotspot/user/profile`: hotspot user profiles.
pub const HOTSPOT_USER_PROFILES: Menu<Row> = Menu::new("/ip/hotspot/user/profile", "name");
/// `/ip/hotspot/active`: hotspot sessions (removing one logs it out).
pub const HOTSPOT_ACTIVE: Menu<HotspotActive> = Menu::new("/ip/hotspot/active", "user");
/// `/ip/hotspot/walled-garden/ip`: walled-garden IP rules (found by comment).
pub const WALLED_GARDEN_IP: Menu<Row> = Menu::new("/ip/hotspot/walled-garden/ip", "comment");
/// `/interface/pppoe-server/server`: PPPoE servers.
pub const PPPOE_SERVERS: Menu<Row> = Menu::new("/interface/pppoe-server/server", "service-name");
/// `/ip/firewall/nat`: NAT rules (found by comment).
pub const FIREWALL_NAT: Menu<Row> = Menu::new("/ip/firewall/nat", "comment");
/// `/ip/firewall/filter`: filter rules (found by comment).
pub const FIREWALL_FILTER: Menu<Row> = Menu::new("/ip/firewall/filter", "comment");
/// `/ip/firewall/address-list`: address-list entries (found by list name).
pub const ADDRESS_LIST: Menu<Row> = Menu::new("/ip/firewall/address-list", "list");
/// `/snmp`: the SNMP agent.
pub const SNMP: Singleton<Row> = Singleton::new("/snmp");
/// `/snmp/community`: SNMP communities.
pub const SNMP_COMMUNITIES: Menu<Row> = Menu::new("/snmp/community", "name");

/// The group of the user this client logged in as (`full`, `write`, `read`, or a custom one).
pub async fn api_user_group(client: &Client) -> Result<String, Error> {
    let user = USERS
        .find(client, client.username())
        .await?
        .ok_or_else(|| Error::NotFound {
            menu: "/user",
            key: "name",
            value: client.username().to_owned(),
        })?;
    Ok(user.group)
}
