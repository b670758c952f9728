//! The customer list as CSV: the customers the caller sees, with the list's filters, a
//! page of [`PAGE`] at a time through the list contract (keyset cursors, so a large export
//! never holds more than a page, and the caller streams the pages as they come). Columns:
//! the built-in ones, then one `field:<key>` per active custom field of the tenant (the
//! import's header form). Every cell people typed passes through
//! `domain::text::spreadsheet_safe`, so a value starting with `=`, `+`, `-` or `@` is
//! never run as a formula; a number custom field is written as the number it is.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::Ctx;
use crate::error::OpError;
use domain::access::Actor;
use domain::custom_field::{FieldKind, FieldValue};
use domain::customer::CustomerState;
use domain::text::spreadsheet_safe;
use store::custom_field::Definition;
use store::customer::{CustomerFilter, LIST};
use store::list::PageRequest;

/// Rows per page read.
pub const PAGE: u64 = 500;

/// The built-in columns, in order.
pub const COLUMNS: [&str; 17] = [
    "id",
    "name",
    "username",
    "mobile",
    "email",
    "address",
    "connection_type",
    "billing_type",
    "status",
    "state",
    "package",
    "expires_at",
    "static_ip",
    "mac",
    "simultaneous_use",
    "created_at",
    "comment",
];

/// One page of the export: its CSV text, and the cursor of the next (none at the end).
#[derive(Debug, Clone)]
pub struct ExportPage {
    /// The rows (and the header on the first page).
    pub csv: Vec<u8>,
    /// Where the next page starts.
    pub next: Option<String>,
}

/// The header row for the active fields among `defs`.
fn header(defs: &[&Definition]) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .chain(defs.iter().map(|d| format!("field:{}", d.key)))
        .collect()
}

fn time(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The page of the export after `cursor` (the first when `None`, with the header), of the
/// customers `filter` lists for `actor`; `defs` are the tenant's definitions (only active
/// ones become columns), `now` judges each customer's state.
pub async fn export_page(
    ctx: &Ctx<'_>,
    actor: &Actor,
    filter: &CustomerFilter,
    defs: &[Definition],
    cursor: Option<&str>,
) -> Result<ExportPage, OpError> {
    let page = PageRequest::parse(&LIST, Some("id"), Some(PAGE), cursor)?;
    let found = super::list(ctx, actor, filter, &page, false).await?;
    let active: Vec<&Definition> = defs.iter().filter(|d| d.active).collect();
    let ids: Vec<i64> = found.items.iter().map(|c| c.id).collect();
    let values = crate::custom_field::values_among(ctx, &ids).await?;
    let mut package_ids: Vec<i64> = found.items.iter().map(|c| c.package_id).collect();
    package_ids.sort_unstable();
    package_ids.dedup();
    let packages: HashMap<i64, String> = store::package::names(ctx.db.conn(), &package_ids)
        .await?
        .into_iter()
        .collect();
    let mut out = csv::Writer::from_writer(Vec::new());
    let write = |out: &mut csv::Writer<Vec<u8>>, row: Vec<String>| {
        out.write_record(&row)
            .map_err(|e| OpError::Internal(e.to_string()))
    };
    if cursor.is_none() {
        write(&mut out, header(&active))?;
    }
    let safe = |text: &str| spreadsheet_safe(text);
    let empty = HashMap::new();
    for c in &found.items {
        let state = CustomerState::of(c.status.get(), c.billing_type.get(), c.expires_at, ctx.now);
        let mut row = vec![
            c.id.to_string(),
            safe(&c.name),
            safe(&c.username),
            c.mobile.clone().unwrap_or_default(),
            safe(c.email.as_deref().unwrap_or("")),
            safe(&c.address),
            c.connection_type.code().to_owned(),
            c.billing_type.code().to_owned(),
            c.status.code().to_owned(),
            state.as_str().to_owned(),
            safe(packages.get(&c.package_id).map_or("", String::as_str)),
            time(c.expires_at),
            store::customer::static_ip(c)
                .map(|ip| ip.to_string())
                .unwrap_or_default(),
            c.mac.clone().unwrap_or_default(),
            c.simultaneous_use.to_string(),
            time(Some(c.created_at)),
            safe(&c.comment),
        ];
        let held = values.get(&c.id).unwrap_or(&empty);
        for d in &active {
            let cell = match held.get(&d.id) {
                None => String::new(),
                // A number is a number to a spreadsheet, never a formula.
                Some(text) if d.kind.get() == FieldKind::Number => {
                    FieldValue::from_stored(FieldKind::Number, text)
                        .map(|v| v.stored())
                        .unwrap_or_default()
                }
                Some(text) => safe(text),
            };
            row.push(cell);
        }
        write(&mut out, row)?;
    }
    let csv = out
        .into_inner()
        .map_err(|e| OpError::Internal(e.to_string()))?;
    Ok(ExportPage {
        csv,
        next: found.next_cursor,
    })
}
