//! The simulated router's in-memory configuration: one table per menu of
//! [`super::schema::SCHEMAS`], items with ids `*1`, `*2`… per menu, defaults like a fresh
//! RouterOS, unique keys enforced with RouterOS's trap messages, and a broadcast of every
//! change for `listen`.
//!
//! Callers hold the model's lock only for one operation or one print batch; nothing here
//! awaits.

use std::collections::HashMap;
use std::time::Instant;

use tokio::sync::broadcast;

use super::schema::{Kind, SCHEMAS, Schema};
use crate::sentence::{ItemId, Row, decode_text};

/// A `!trap` to send back: optional category and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Trap {
    pub category: Option<u32>,
    pub message: String,
}

impl Trap {
    pub fn new(category: Option<u32>, message: impl Into<String>) -> Self {
        Self {
            category,
            message: message.into(),
        }
    }

    pub fn no_such_item() -> Self {
        Self::new(Some(0), "no such item")
    }

    pub fn unknown_parameter(name: &[u8]) -> Self {
        Self::new(Some(1), format!("unknown parameter {}", decode_text(name)))
    }
}

/// One item: its number and one optional value per schema property.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub id: u64,
    pub values: Vec<Option<Vec<u8>>>,
    /// When a session item started (its `uptime` is computed from it).
    pub since: Option<Instant>,
}

/// The items of one menu.
#[derive(Debug)]
pub(crate) struct Table {
    pub schema: &'static Schema,
    pub items: Vec<Item>,
    pub next_id: u64,
    unique: HashMap<Vec<u8>, u64>,
}

/// A change to report to `listen`ers: the item's new row, or `None` when it was removed.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub table: usize,
    pub id: u64,
    pub row: Option<Row>,
}

/// Everything the router holds.
#[derive(Debug)]
pub(crate) struct Model {
    pub tables: Vec<Table>,
    started: Instant,
    changes: broadcast::Sender<Change>,
    /// Set by every write; cleared by whoever saves the state.
    pub dirty: bool,
}

/// Formats a duration as RouterOS does: `1w2d3h4m5s`, `0s`.
pub(crate) fn format_uptime(seconds: u64) -> String {
    let units = [
        ("w", 604_800),
        ("d", 86_400),
        ("h", 3_600),
        ("m", 60),
        ("s", 1),
    ];
    let mut rest = seconds;
    let mut out = String::new();
    for (unit, size) in units {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    if out.is_empty() { "0s".to_owned() } else { out }
}

fn normalize(schema: &Schema, index: usize, value: &[u8]) -> Result<Vec<u8>, Trap> {
    let prop = &schema.props[index];
    if !prop.is_bool() {
        return Ok(value.to_vec());
    }
    match value {
        b"yes" | b"true" => Ok(b"true".to_vec()),
        b"no" | b"false" => Ok(b"false".to_vec()),
        _ => Err(Trap::new(
            Some(1),
            format!("input does not match any value of {}", prop.name),
        )),
    }
}

impl Table {
    fn new(schema: &'static Schema) -> Self {
        let mut table = Self {
            schema,
            items: Vec::new(),
            next_id: 1,
            unique: HashMap::new(),
        };
        if schema.kind == Kind::Singleton {
            let values = schema
                .props
                .iter()
                .map(|p| p.default.map(|d| d.as_bytes().to_vec()))
                .collect();
            table.items.push(Item {
                id: 0,
                values,
                since: None,
            });
        }
        table
    }

    /// The position of item `id`.
    pub fn position(&self, id: u64) -> Option<usize> {
        self.items.iter().position(|item| item.id == id)
    }

    fn unique_key(&self, values: &[Option<Vec<u8>>]) -> Option<Vec<u8>> {
        if self.schema.unique.is_empty() {
            return None;
        }
        let mut key = Vec::new();
        for name in self.schema.unique {
            let index = self.schema.prop(name.as_bytes())?;
            key.extend_from_slice(values[index].as_deref()?);
            key.push(0);
        }
        Some(key)
    }

    fn duplicate(&self) -> Trap {
        if self.schema.unique == ["name"] || self.schema.unique == ["service-name"] {
            Trap::new(
                None,
                format!(
                    "failure: {} with the same name already exists",
                    self.schema.entity
                ),
            )
        } else {
            Trap::new(None, "failure: already have such entry")
        }
    }

    /// The value of a property, by name, as printed (`.id` included).
    pub fn value(&self, item: &Item, name: &[u8], now: Instant) -> Option<Vec<u8>> {
        if name == b".id" {
            return (self.schema.kind == Kind::List)
                .then(|| ItemId::from_number(item.id).as_str().as_bytes().to_vec());
        }
        let index = self.schema.prop(name)?;
        let prop = &self.schema.props[index];
        if prop.is_hidden() {
            return None;
        }
        if prop.name == "uptime"
            && let Some(since) = item.since
        {
            return Some(format_uptime(now.duration_since(since).as_secs()).into_bytes());
        }
        if self.schema.path == "/file" && prop.name == "size" {
            let contents = self
                .schema
                .prop(b"contents")
                .and_then(|i| item.values[i].as_ref());
            return Some(contents.map_or(0, Vec::len).to_string().into_bytes());
        }
        item.values[index].clone()
    }

    /// The row `print` shows for an item, limited to `proplist` when given.
    pub fn row(&self, item: &Item, proplist: Option<&[Vec<u8>]>, now: Instant) -> Row {
        let wanted = |name: &[u8]| proplist.is_none_or(|list| list.iter().any(|p| p == name));
        let mut row = Row::new();
        if self.schema.kind == Kind::List && wanted(b".id") {
            row.push(".id", ItemId::from_number(item.id).as_str());
        }
        for prop in self.schema.props {
            if wanted(prop.name.as_bytes())
                && let Some(value) = self.value(item, prop.name.as_bytes(), now)
            {
                row.push(prop.name, value);
            }
        }
        row
    }
}

impl Model {
    /// A fresh router named `identity`, with RouterOS's default items.
    pub fn new(identity: &str) -> Self {
        let (changes, _) = broadcast::channel(4096);
        let mut model = Self {
            tables: SCHEMAS.iter().map(Table::new).collect(),
            started: Instant::now(),
            changes,
            dirty: false,
        };
        model.install_defaults(identity);
        model
    }

    fn install_defaults(&mut self, identity: &str) {
        let defaults: [(&str, &[(&str, &str)]); 7] = [
            ("/ppp/profile", &[("name", "default"), ("default", "yes")]),
            (
                "/ppp/profile",
                &[
                    ("name", "default-encryption"),
                    ("use-encryption", "yes"),
                    ("default", "yes"),
                ],
            ),
            (
                "/ip/hotspot/profile",
                &[("name", "default"), ("default", "yes")],
            ),
            (
                "/ip/hotspot/user/profile",
                &[("name", "default"), ("default", "yes")],
            ),
            (
                "/interface/pppoe-server/server",
                &[
                    ("service-name", "service1"),
                    ("interface", "ether1"),
                    ("disabled", "no"),
                ],
            ),
            ("/snmp/community", &[("name", "public"), ("default", "yes")]),
            ("/system/identity", &[("name", identity)]),
        ];
        for (path, props) in defaults {
            let Some(table) = super::schema::find(path.as_bytes()) else {
                continue;
            };
            let attrs: Vec<(Vec<u8>, Vec<u8>)> = props
                .iter()
                .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect();
            let result = match SCHEMAS[table].kind {
                Kind::List => self.add(table, &attrs, false).map(drop),
                Kind::Singleton => self.set(table, 0, &attrs, false),
            };
            if let Err(trap) = result {
                tracing::error!(path, message = trap.message, "default item refused");
            }
        }
        self.dirty = false;
    }

    /// Subscribes to changes.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// When the router started (for `/system/resource` uptime).
    pub fn uptime_seconds(&self, now: Instant) -> u64 {
        now.duration_since(self.started).as_secs()
    }

    fn notify(&self, table: usize, id: u64, removed: bool) {
        if self.changes.receiver_count() == 0 {
            return;
        }
        let t = &self.tables[table];
        let row = if removed {
            None
        } else {
            t.position(id)
                .map(|at| t.row(&t.items[at], None, Instant::now()))
        };
        let _ = self.changes.send(Change { table, id, row });
    }

    /// Adds an item. `api` applies the rules an API client is held to (read-only properties).
    pub fn add(
        &mut self,
        table: usize,
        attrs: &[(Vec<u8>, Vec<u8>)],
        api: bool,
    ) -> Result<u64, Trap> {
        let t = &self.tables[table];
        let schema = t.schema;
        let mut values: Vec<Option<Vec<u8>>> = schema
            .props
            .iter()
            .map(|p| p.default.map(|d| d.as_bytes().to_vec()))
            .collect();
        let mut place_before = None;
        for (name, value) in attrs {
            if name == b"place-before" {
                place_before = Some(
                    self.resolve(table, value)?
                        .first()
                        .copied()
                        .ok_or_else(Trap::no_such_item)?,
                );
                continue;
            }
            let index = schema
                .prop(name)
                .filter(|&i| !(api && schema.props[i].is_read_only()));
            let index = index.ok_or_else(|| Trap::unknown_parameter(name))?;
            values[index] = Some(normalize(schema, index, value)?);
        }
        for required in schema.required {
            let present = schema
                .prop(required.as_bytes())
                .and_then(|i| values[i].as_ref())
                .is_some_and(|v| !v.is_empty());
            if !present {
                return Err(Trap::new(
                    Some(1),
                    format!("failure: {required} must be specified"),
                ));
            }
        }
        let t = &mut self.tables[table];
        let key = t.unique_key(&values);
        if let Some(key) = &key
            && t.unique.contains_key(key)
        {
            return Err(t.duplicate());
        }
        let id = t.next_id;
        t.next_id += 1;
        if let Some(key) = key {
            t.unique.insert(key, id);
        }
        let item = Item {
            id,
            values,
            since: None,
        };
        match place_before.and_then(|before| t.position(before)) {
            Some(at) => t.items.insert(at, item),
            None => t.items.push(item),
        }
        self.dirty = true;
        self.notify(table, id, false);
        Ok(id)
    }

    /// Sets properties of item `id` (0 for a singleton).
    pub fn set(
        &mut self,
        table: usize,
        id: u64,
        attrs: &[(Vec<u8>, Vec<u8>)],
        api: bool,
    ) -> Result<(), Trap> {
        let t = &self.tables[table];
        let schema = t.schema;
        let at = t.position(id).ok_or_else(Trap::no_such_item)?;
        let mut values = t.items[at].values.clone();
        for (name, value) in attrs {
            let index = schema
                .prop(name)
                .filter(|&i| !(api && schema.props[i].is_read_only()));
            let index = index.ok_or_else(|| Trap::unknown_parameter(name))?;
            values[index] = Some(normalize(schema, index, value)?);
        }
        let t = &mut self.tables[table];
        let old_key = t.unique_key(&t.items[at].values);
        let new_key = t.unique_key(&values);
        if new_key != old_key {
            if let Some(key) = &new_key
                && t.unique.contains_key(key)
            {
                return Err(t.duplicate());
            }
            if let Some(key) = old_key {
                t.unique.remove(&key);
            }
            if let Some(key) = new_key {
                t.unique.insert(key, id);
            }
        }
        t.items[at].values = values;
        self.dirty = true;
        self.notify(table, id, false);
        Ok(())
    }

    /// Removes item `id`. Built-in default items cannot be removed.
    pub fn remove(&mut self, table: usize, id: u64) -> Result<(), Trap> {
        let t = &mut self.tables[table];
        let at = t.position(id).ok_or_else(Trap::no_such_item)?;
        let is_default = t
            .schema
            .prop(b"default")
            .and_then(|i| t.items[at].values[i].as_deref())
            == Some(b"true");
        if is_default {
            return Err(Trap::new(
                None,
                format!("failure: default {} can not be removed", t.schema.entity),
            ));
        }
        let item = t.items.remove(at);
        if let Some(key) = t.unique_key(&item.values) {
            t.unique.remove(&key);
        }
        self.dirty = true;
        self.notify(table, id, true);
        Ok(())
    }

    /// Turns a `.id`/`numbers` argument (comma-separated `*ID`s or key values) into item ids.
    pub fn resolve(&self, table: usize, spec: &[u8]) -> Result<Vec<u64>, Trap> {
        let t = &self.tables[table];
        let key_index = t
            .schema
            .unique
            .first()
            .and_then(|k| t.schema.prop(k.as_bytes()));
        let mut ids = Vec::new();
        for part in spec.split(|&b| b == b',').filter(|p| !p.is_empty()) {
            let by_id = ItemId::parse(&decode_text(part))
                .and_then(|id| id.number())
                .filter(|&n| t.position(n).is_some());
            let by_key = || {
                let index = key_index?;
                t.items
                    .iter()
                    .find(|item| item.values[index].as_deref() == Some(part))
                    .map(|item| item.id)
            };
            ids.push(by_id.or_else(by_key).ok_or_else(Trap::no_such_item)?);
        }
        if ids.is_empty() {
            return Err(Trap::no_such_item());
        }
        Ok(ids)
    }

    /// Inserts an item the way the router itself would (sessions), bypassing API rules.
    pub fn insert_internal(
        &mut self,
        table: usize,
        attrs: &[(Vec<u8>, Vec<u8>)],
        session: bool,
    ) -> Result<u64, Trap> {
        let id = self.add(table, attrs, false)?;
        if session {
            let t = &mut self.tables[table];
            if let Some(at) = t.position(id) {
                t.items[at].since = Some(Instant::now());
            }
        }
        Ok(id)
    }

    /// Replaces a table's items (state loading); rebuilds the unique index.
    pub fn replace_items(&mut self, table: usize, items: Vec<Item>, next_id: u64) {
        let t = &mut self.tables[table];
        t.unique.clear();
        for item in &items {
            if let Some(key) = t.unique_key(&item.values) {
                t.unique.insert(key, item.id);
            }
        }
        t.next_id = next_id.max(items.iter().map(|i| i.id + 1).max().unwrap_or(1));
        t.items = items;
    }

    /// Refreshes computed values (`/system/resource` uptime) before printing.
    pub fn refresh(&mut self, table: usize, now: Instant) {
        if SCHEMAS[table].path == "/system/resource" {
            let uptime = format_uptime(self.uptime_seconds(now));
            let t = &mut self.tables[table];
            if let (Some(index), Some(item)) = (t.schema.prop(b"uptime"), t.items.first_mut()) {
                item.values[index] = Some(uptime.into_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_reads_like_routeros() {
        assert_eq!(format_uptime(0), "0s");
        assert_eq!(format_uptime(59), "59s");
        assert_eq!(format_uptime(3_600), "1h");
        assert_eq!(format_uptime(694_861), "1w1d1h1m1s");
    }

    #[test]
    fn a_fresh_router_has_the_routeros_defaults() {
        let model = Model::new("lab");
        let profiles = &model.tables[super::super::schema::find(b"/ppp/profile").unwrap()];
        let names: Vec<_> = profiles
            .items
            .iter()
            .map(|i| profiles.row(i, None, Instant::now()).text("name").unwrap())
            .collect();
        assert_eq!(names, ["default", "default-encryption"]);
    }

    #[test]
    fn a_files_size_is_the_length_of_its_contents() {
        let mut model = Model::new("lab");
        let files = super::super::schema::find(b"/file").unwrap();
        let attrs = |pairs: &[(&str, &str)]| -> Vec<(Vec<u8>, Vec<u8>)> {
            pairs
                .iter()
                .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect()
        };
        let id = model
            .add(files, &attrs(&[("name", "hotspot/login.html")]), true)
            .unwrap();
        let size = |model: &Model| {
            let t = &model.tables[files];
            t.row(&t.items[0], None, Instant::now())
                .text("size")
                .unwrap()
        };
        assert_eq!(size(&model), "0");
        model
            .set(files, id, &attrs(&[("contents", "<p>hi</p>")]), true)
            .unwrap();
        assert_eq!(size(&model), "9");
        assert!(
            model
                .add(files, &attrs(&[("name", "hotspot/login.html")]), true)
                .is_err(),
            "names are unique"
        );
    }
}
