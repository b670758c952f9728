//! Saving and loading the simulated router's configuration as JSON, so a rehearsal survives a
//! restart. Sessions (`/ppp/active`, `/ip/hotspot/active`) and `/system/resource` are runtime
//! state and are not saved. Values that are not UTF-8 are stored as byte arrays so they
//! round-trip exactly.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SimError;
use super::model::{Item, Model};
use super::schema::SCHEMAS;

const SKIPPED: [&str; 3] = ["/ppp/active", "/ip/hotspot/active", "/system/resource"];

#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    menus: BTreeMap<String, StoredTable>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredTable {
    next_id: u64,
    items: Vec<StoredItem>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredItem {
    id: u64,
    props: BTreeMap<String, StoredValue>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum StoredValue {
    Text(String),
    Bytes { bytes: Vec<u8> },
}

impl StoredValue {
    fn new(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::Text(text.to_owned()),
            Err(_) => Self::Bytes {
                bytes: bytes.to_vec(),
            },
        }
    }

    fn into_bytes(self) -> Vec<u8> {
        match self {
            Self::Text(text) => text.into_bytes(),
            Self::Bytes { bytes } => bytes,
        }
    }
}

/// Serialises the model.
pub(crate) fn to_json(model: &Model) -> Result<String, SimError> {
    let mut menus = BTreeMap::new();
    for table in &model.tables {
        if SKIPPED.contains(&table.schema.path) {
            continue;
        }
        let items = table
            .items
            .iter()
            .map(|item| StoredItem {
                id: item.id,
                props: table
                    .schema
                    .props
                    .iter()
                    .zip(&item.values)
                    .filter_map(|(prop, value)| {
                        Some((prop.name.to_owned(), StoredValue::new(value.as_deref()?)))
                    })
                    .collect(),
            })
            .collect();
        menus.insert(
            table.schema.path.to_owned(),
            StoredTable {
                next_id: table.next_id,
                items,
            },
        );
    }
    serde_json::to_string_pretty(&StateFile { version: 1, menus })
        .map_err(|e| SimError::State(e.to_string()))
}

/// Writes the model to `path` atomically (temporary file, then rename).
pub(crate) fn save(json: &str, path: &Path) -> Result<(), SimError> {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, json)
        .map_err(|e| SimError::State(format!("{}: {e}", temporary.display())))?;
    std::fs::rename(&temporary, path)
        .map_err(|e| SimError::State(format!("{}: {e}", path.display())))
}

/// Loads `path` into the model, replacing the menus it holds. Unknown menus and properties
/// are ignored (with a warning) so a file from a newer simulator still loads.
pub(crate) fn load(model: &mut Model, path: &Path) -> Result<(), SimError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SimError::State(format!("{}: {e}", path.display())))?;
    let file: StateFile = serde_json::from_str(&text)
        .map_err(|e| SimError::State(format!("{}: {e}", path.display())))?;
    for (path, stored) in file.menus {
        let Some(table) = SCHEMAS.iter().position(|s| s.path == path) else {
            tracing::warn!(path, "state file holds an unknown menu; ignored");
            continue;
        };
        let schema = &SCHEMAS[table];
        let items = stored
            .items
            .into_iter()
            .map(|stored| {
                let mut values = vec![None; schema.props.len()];
                for (name, value) in stored.props {
                    match schema.prop(name.as_bytes()) {
                        Some(index) => values[index] = Some(value.into_bytes()),
                        None => tracing::warn!(
                            path,
                            name,
                            "state file holds an unknown property; ignored"
                        ),
                    }
                }
                Item {
                    id: stored.id,
                    values,
                    since: None,
                }
            })
            .collect();
        model.replace_items(table, items, stored.next_id);
    }
    Ok(())
}
