//! `lastmile radius verify`: compares the FreeRADIUS projection as stored (`radcheck`,
//! `radreply`) with what the domain says now for every live customer (none at all for the
//! customers of an archived tenant), finds rows that belong to no live customer (archived,
//! deleted, or written by hand), and RADIUS clients (`nas`) of no live router (an archived
//! router or tenant, or written by hand). Reports the drift and,
//! with `fix`, repairs it through the write path, audited as the system.
//!
//! Customers are read in pages by id (a page's stored rows and groups in three queries, the
//! packages, pools and policies they share once per pass) and rows in pages by row id (a
//! page's customers in one query), so memory stays bounded and the queries few whatever
//! the size of the installation; the report lists at most [`MAX_LISTED`] entries
//! of each kind and counts the rest. A drift seen is checked again before it is reported (or
//! inside the repairing transaction), so a change committed meanwhile is not taken for one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use store::entity::customer;
use store::entity::nas;
use store::entity::radius_item::{radcheck, radreply};
use store::list::EntityTrait as _;
use store::radius::Row;
use store::{AuditEntry, Author, Db, StoreResult, Write};

use domain::ids::TenantId;

/// Rows read per query.
const PAGE: u64 = 500;

/// Entries of each kind listed in a report.
pub const MAX_LISTED: usize = 1000;

/// How the audit log names the repairs.
const AUTHOR: &str = "system:radius-verify";

/// One row that differs: what the domain says and what is stored (`op value`, the password
/// hidden); `None` on a side means the row is missing there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `radcheck`, `radreply` or `radusergroup`.
    pub table: &'static str,
    /// The attribute.
    pub attribute: String,
    /// The expected operator and value.
    pub expected: Option<String>,
    /// The stored operator and value.
    pub stored: Option<String>,
}

/// A live customer whose rows differ from its projection.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerDrift {
    /// The customer.
    pub customer_id: i64,
    /// Its tenant.
    pub tenant_id: i64,
    /// Its user name.
    pub username: String,
    /// The user names its rows carry, when any differs from `username`.
    pub wrong_usernames: Vec<String>,
    /// The rows that differ.
    pub differences: Vec<Difference>,
    /// True when `fix` rewrote them.
    pub repaired: bool,
}

/// A VPN account whose rows differ from its projection.
#[derive(Debug, Clone, Serialize)]
pub struct VpnDrift {
    /// The account.
    pub vpn_account_id: i64,
    /// Its tenant.
    pub tenant_id: i64,
    /// Its user name.
    pub username: String,
    /// The rows that differ.
    pub differences: Vec<Difference>,
    /// True when `fix` rewrote them.
    pub repaired: bool,
}

/// Why a row belongs to no live customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StrayReason {
    /// Its customer is archived.
    Archived,
    /// Its customer does not exist.
    Gone,
    /// It names no customer (written outside lastmile).
    Unowned,
    /// Its customer's tenant, or its router's, is archived.
    TenantArchived,
}

/// A row of no live customer.
#[derive(Debug, Clone, Serialize)]
pub struct StrayRow {
    /// `radcheck` or `radreply`.
    pub table: &'static str,
    /// The row id.
    pub id: i32,
    /// Its user name.
    pub username: String,
    /// Its attribute.
    pub attribute: String,
    /// The customer it names.
    pub customer_id: Option<i64>,
    /// Why it is stray.
    pub reason: StrayReason,
    /// True when `fix` deleted it.
    pub repaired: bool,
}

/// A RADIUS client (`nas` row) of no live router: FreeRADIUS would still accept requests
/// from it.
#[derive(Debug, Clone, Serialize)]
pub struct StrayNas {
    /// The row id.
    pub id: i32,
    /// The client's address.
    pub nasname: String,
    /// The router it names.
    pub router_id: Option<i64>,
    /// Why it is stray.
    pub reason: StrayReason,
    /// True when `fix` deleted it.
    pub repaired: bool,
}

/// What `verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Live customers compared.
    pub customers: u64,
    /// Customers whose rows drifted.
    pub drifted: u64,
    /// Rows of no live customer.
    pub stray: u64,
    /// Customers rewritten and rows deleted by `fix`.
    pub repaired: u64,
    /// The drifted customers (at most [`MAX_LISTED`]).
    pub customer_drift: Vec<CustomerDrift>,
    /// VPN accounts compared.
    pub vpn_accounts: u64,
    /// The drifted VPN accounts (at most [`MAX_LISTED`]); counted in `drifted`.
    pub vpn_drift: Vec<VpnDrift>,
    /// The stray rows (at most [`MAX_LISTED`]).
    pub stray_rows: Vec<StrayRow>,
    /// The `nas` rows of no live router (at most [`MAX_LISTED`]); counted in `stray`.
    pub stray_nas: Vec<StrayNas>,
}

impl Report {
    /// True when the stored rows are exactly the projection.
    pub fn clean(&self) -> bool {
        self.drifted == 0 && self.stray == 0
    }
}

/// Compares every live customer's rows with its projection and looks for stray rows; with
/// `fix`, repairs what it finds (see the module documentation).
pub async fn verify(db: &Db, fix: bool, now: DateTime<Utc>) -> StoreResult<Report> {
    let mut report = Report::default();
    // Packages, pools and policies read once for the pass; a drift it sees is checked
    // again on fresh reads before it counts.
    let mut projector = store::customer::Projector::default();
    let mut last = 0i64;
    loop {
        let page = customer::Entity::find()
            .cursor_by(customer::Column::Id)
            .after(last)
            .first(PAGE)
            .all(db.conn())
            .await?;
        let Some(end) = page.last() else { break };
        last = end.id;
        let live: Vec<&customer::Model> = page.iter().filter(|c| c.archived_at.is_none()).collect();
        report.customers += live.len() as u64;
        for id in drifted(db, &mut projector, &live).await? {
            let drift = if fix {
                repair_customer(db, id, now).await?
            } else {
                recheck(db, id).await?
            };
            if let Some(drift) = drift {
                report.drifted += 1;
                report.repaired += u64::from(drift.repaired);
                if report.customer_drift.len() < MAX_LISTED {
                    report.customer_drift.push(drift);
                }
            }
        }
    }
    vpn_accounts(db, fix, now, &mut report).await?;
    for table in [Table::Check, Table::Reply] {
        stray_rows(db, table, fix, now, &mut report).await?;
    }
    stray_clients(db, fix, now, &mut report).await?;
    Ok(report)
}

/// The customers of `page` whose rows seem to drift: their rows read in three queries.
async fn drifted(
    db: &Db,
    projector: &mut store::customer::Projector,
    page: &[&customer::Model],
) -> StoreResult<Vec<i64>> {
    let ids: Vec<i64> = page.iter().map(|c| c.id).collect();
    let names: Vec<(i64, &str)> = page.iter().map(|c| (c.id, c.username.as_str())).collect();
    let mut stored = store::radius::read_many(db.conn(), &ids).await?;
    let mut groups = store::radius::groups_many(db.conn(), &names).await?;
    let mut out = Vec::new();
    for c in page {
        let projection = projector.project(db.conn(), db.keyring(), c).await?;
        let rows = stored.remove(&c.id).unwrap_or_default();
        let in_groups = groups.remove(&c.id).unwrap_or_default();
        if drift(c, &projection, rows, in_groups).is_some() {
            out.push(c.id);
        }
    }
    Ok(out)
}

/// The drift of `c` on the pool's connections, if any.
async fn compare(db: &Db, c: &customer::Model) -> StoreResult<Option<CustomerDrift>> {
    let projection = store::customer::project(db.conn(), db.keyring(), c).await?;
    let stored = store::radius::read(db.conn(), c.id).await?;
    let groups = store::radius::groups(db.conn(), c.id, &c.username).await?;
    Ok(drift(c, &projection, stored, groups))
}

/// The drift between `c`'s projection and its stored rows, if any.
fn drift(
    c: &customer::Model,
    projection: &domain::aaa::Projection,
    stored: store::radius::Stored,
    groups: Vec<String>,
) -> Option<CustomerDrift> {
    let (check, reply) = store::radius::expected(projection);
    let mut differences = diff("radcheck", &check, &stored.check);
    differences.extend(diff("radreply", &reply, &stored.reply));
    // A group would add its items to the customer's: the projection has none.
    differences.extend(groups.into_iter().map(|group| Difference {
        table: "radusergroup",
        attribute: "groupname".to_owned(),
        expected: None,
        stored: Some(group),
    }));
    let wrong_usernames: Vec<String> = stored
        .usernames
        .into_iter()
        .filter(|u| *u != c.username)
        .collect();
    if differences.is_empty() && wrong_usernames.is_empty() {
        return None;
    }
    Some(CustomerDrift {
        customer_id: c.id,
        tenant_id: c.tenant_id,
        username: c.username.clone(),
        wrong_usernames,
        differences,
        repaired: false,
    })
}

/// The same comparison on fresh reads: a change committed since the first is not drift.
async fn recheck(db: &Db, id: i64) -> StoreResult<Option<CustomerDrift>> {
    match customer::Entity::find_by_id(id).one(db.conn()).await? {
        Some(c) if c.archived_at.is_none() => compare(db, &c).await,
        _ => Ok(None),
    }
}

/// Rewrites the customer's rows from its projection if they still drift.
async fn repair_customer(
    db: &Db,
    id: i64,
    now: DateTime<Utc>,
) -> StoreResult<Option<CustomerDrift>> {
    let mut w = db.write(Author::system(AUTHOR), now).await?;
    let found = customer::Entity::find_by_id(id).one(w.tx()).await?;
    let Some(c) = found.filter(|c| c.archived_at.is_none()) else {
        w.rollback().await?;
        return Ok(None);
    };
    // Compared inside the transaction: what it rewrites is what it saw.
    let projection = store::customer::project(w.tx(), w.keyring(), &c).await?;
    let stored = store::radius::read(w.tx(), c.id).await?;
    let groups = store::radius::groups(w.tx(), c.id, &c.username).await?;
    let Some(mut drift) = drift(&c, &projection, stored, groups) else {
        w.rollback().await?;
        return Ok(None);
    };
    store::customer::rewrite_projection(&w, &c).await?;
    w.aaa_changed(Some(TenantId(c.tenant_id)), Some(c.id), "radius.repair")
        .await?;
    w.audit(AuditEntry {
        tenant_id: Some(TenantId(c.tenant_id)),
        action: "radius.repair",
        entity: "customer",
        entity_id: Some(c.id),
        before: Some(json!({
            "wrong_usernames": drift.wrong_usernames,
            "differences": drift.differences,
        })),
        after: None,
    })
    .await?;
    w.commit().await?;
    drift.repaired = true;
    Ok(Some(drift))
}

/// Compares every VPN account's rows with its projection (they are few: one pass), and
/// with `fix` rewrites those that drift, each checked again in its repairing transaction.
async fn vpn_accounts(
    db: &Db,
    fix: bool,
    now: DateTime<Utc>,
    report: &mut Report,
) -> StoreResult<()> {
    for account in store::vpn::accounts(db.conn(), None, None).await? {
        report.vpn_accounts += 1;
        if vpn_drift(db.conn(), db.keyring(), &account)
            .await?
            .is_none()
        {
            continue;
        }
        let drift = if fix {
            let mut w = db.write(Author::system(AUTHOR), now).await?;
            let fresh = store::vpn::find_account(w.tx(), account.id).await?;
            let drift = match &fresh {
                Some(a) => vpn_drift(w.tx(), w.keyring(), a).await?,
                None => None,
            };
            match (fresh, drift) {
                (Some(a), Some(mut drift)) => {
                    store::vpn::reproject(&w, &a).await?;
                    w.aaa_changed(Some(TenantId(a.tenant_id)), None, "vpn.repair")
                        .await?;
                    w.audit(AuditEntry {
                        tenant_id: Some(TenantId(a.tenant_id)),
                        action: "radius.repair",
                        entity: "vpn_account",
                        entity_id: Some(a.id),
                        before: Some(json!({ "differences": drift.differences })),
                        after: None,
                    })
                    .await?;
                    w.commit().await?;
                    drift.repaired = true;
                    Some(drift)
                }
                _ => {
                    w.rollback().await?;
                    None
                }
            }
        } else {
            vpn_drift(db.conn(), db.keyring(), &account).await?
        };
        if let Some(drift) = drift {
            report.drifted += 1;
            report.repaired += u64::from(drift.repaired);
            if report.vpn_drift.len() < MAX_LISTED {
                report.vpn_drift.push(drift);
            }
        }
    }
    Ok(())
}

/// The drift of a VPN account's rows from its projection, if any.
async fn vpn_drift<C: store::list::ConnectionTrait>(
    conn: &C,
    keyring: &store::crypto::Keyring,
    account: &store::vpn::Account,
) -> StoreResult<Option<VpnDrift>> {
    let projection = store::vpn::projection(conn, keyring, account).await?;
    let stored = store::vpn::stored(conn, account.id).await?;
    let (check, reply) = store::radius::expected(&projection);
    let mut differences = diff("radcheck", &check, &stored.check);
    differences.extend(diff("radreply", &reply, &stored.reply));
    let renamed = stored.usernames.iter().any(|u| *u != account.username);
    if differences.is_empty() && !renamed {
        return Ok(None);
    }
    Ok(Some(VpnDrift {
        vpn_account_id: account.id,
        tenant_id: account.tenant_id,
        username: account.username.clone(),
        differences,
        repaired: false,
    }))
}

/// The rows of one side that differ, paired by attribute where both sides have one.
fn diff(table: &'static str, expected: &[Row], stored: &[Row]) -> Vec<Difference> {
    let mut missing: Vec<&Row> = Vec::new();
    let mut extra: Vec<&Row> = stored.iter().collect();
    for row in expected {
        match extra.iter().position(|s| *s == row) {
            Some(at) => {
                extra.remove(at);
            }
            None => missing.push(row),
        }
    }
    let shown = |(attribute, op, value): &Row| {
        if attribute == "Cleartext-Password" {
            format!("{op} (password)")
        } else {
            format!("{op} {value}")
        }
    };
    let mut out = Vec::new();
    for row in missing {
        let paired = extra.iter().position(|s| s.0 == row.0);
        let stored = paired.map(|at| shown(extra.remove(at)));
        out.push(Difference {
            table,
            attribute: row.0.clone(),
            expected: Some(shown(row)),
            stored,
        });
    }
    out.extend(extra.into_iter().map(|row| Difference {
        table,
        attribute: row.0.clone(),
        expected: None,
        stored: Some(shown(row)),
    }));
    out
}

/// A row as the stray search reads it.
type PageRow = (i32, String, String, Option<i64>, Option<i64>);

#[derive(Debug, Clone, Copy)]
enum Table {
    Check,
    Reply,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Check => "radcheck",
            Table::Reply => "radreply",
        }
    }
}

/// A page of `(id, username, attribute, customer_id, vpn_account_id)` after row `after`.
async fn row_page(db: &Db, table: Table, after: i32) -> StoreResult<Vec<PageRow>> {
    Ok(match table {
        Table::Check => radcheck::Entity::find()
            .cursor_by(radcheck::Column::Id)
            .after(after)
            .first(PAGE)
            .all(db.conn())
            .await?
            .into_iter()
            .map(|r| {
                (
                    r.id,
                    r.username,
                    r.attribute,
                    r.customer_id,
                    r.vpn_account_id,
                )
            })
            .collect(),
        Table::Reply => radreply::Entity::find()
            .cursor_by(radreply::Column::Id)
            .after(after)
            .first(PAGE)
            .all(db.conn())
            .await?
            .into_iter()
            .map(|r| {
                (
                    r.id,
                    r.username,
                    r.attribute,
                    r.customer_id,
                    r.vpn_account_id,
                )
            })
            .collect(),
    })
}

async fn stray_rows(
    db: &Db,
    table: Table,
    fix: bool,
    now: DateTime<Utc>,
    report: &mut Report,
) -> StoreResult<()> {
    let mut last = 0i32;
    loop {
        let page = row_page(db, table, last).await?;
        let Some(end) = page.last() else { break };
        last = end.0;
        // Whether each customer named on this page is live, in one query.
        let mut named: Vec<i64> = page.iter().filter_map(|row| row.3).collect();
        named.sort_unstable();
        named.dedup();
        let archived = store::customer::archived_states(db.conn(), &named).await?;
        let vpn: Vec<i64> = page.iter().filter_map(|row| row.4).collect();
        let vpn = store::vpn::existing(db.conn(), &vpn).await?;
        for (id, username, attribute, customer_id, vpn_account) in page {
            let reason = match customer_id {
                None => match vpn_account {
                    Some(v) if vpn.contains(&v) => None,
                    Some(_) => Some(StrayReason::Gone),
                    None => Some(StrayReason::Unowned),
                },
                Some(cid) => match archived.get(&cid) {
                    None => Some(StrayReason::Gone),
                    Some(true) => Some(StrayReason::Archived),
                    Some(false) => None,
                },
            };
            let Some(reason) = reason else { continue };
            let mut row = StrayRow {
                table: table.name(),
                id,
                username,
                attribute,
                customer_id,
                reason,
                repaired: false,
            };
            if fix {
                row.repaired = delete_stray(db, table, &row, now).await?;
                report.repaired += u64::from(row.repaired);
            }
            report.stray += 1;
            if report.stray_rows.len() < MAX_LISTED {
                report.stray_rows.push(row);
            }
        }
    }
    Ok(())
}

/// Deletes a stray row; false when it had gone already.
async fn delete_stray(
    db: &Db,
    table: Table,
    row: &StrayRow,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut w = db.write(Author::system(AUTHOR), now).await?;
    let deleted = delete_row(&w, table, row.id).await?;
    if !deleted {
        w.rollback().await?;
        return Ok(false);
    }
    audit_stray(&mut w, row).await?;
    w.commit().await?;
    Ok(true)
}

async fn delete_row(w: &Write, table: Table, id: i32) -> StoreResult<bool> {
    let result = match table {
        Table::Check => radcheck::Entity::delete_by_id(id).exec(w.tx()).await?,
        Table::Reply => radreply::Entity::delete_by_id(id).exec(w.tx()).await?,
    };
    Ok(result.rows_affected > 0)
}

async fn audit_stray(w: &mut Write, row: &StrayRow) -> StoreResult<()> {
    w.audit(AuditEntry {
        tenant_id: None,
        action: "radius.repair",
        entity: row.table,
        entity_id: Some(i64::from(row.id)),
        // The value may be a password: it stays out of the log.
        before: Some(json!({
            "username": row.username,
            "attribute": row.attribute,
            "customer_id": row.customer_id,
            "reason": row.reason,
        })),
        after: None,
    })
    .await
}

/// Looks for `nas` rows of no live router: written outside lastmile, of an archived
/// router, or of an archived tenant's router. With `fix`, deletes them.
async fn stray_clients(
    db: &Db,
    fix: bool,
    now: DateTime<Utc>,
    report: &mut Report,
) -> StoreResult<()> {
    let mut last = 0i32;
    loop {
        let page = nas::Entity::find()
            .cursor_by(nas::Column::Id)
            .after(last)
            .first(PAGE)
            .all(db.conn())
            .await?;
        let Some(end) = page.last() else { break };
        last = end.id;
        let mut named: Vec<i64> = page.iter().filter_map(|n| n.router_id).collect();
        named.sort_unstable();
        named.dedup();
        let states = store::network::router_states(db.conn(), &named).await?;
        for client in page {
            let reason = match client.router_id {
                None => Some(StrayReason::Unowned),
                Some(router) => match states.get(&router) {
                    None => Some(StrayReason::Gone),
                    Some((true, _)) => Some(StrayReason::Archived),
                    Some((false, true)) => Some(StrayReason::TenantArchived),
                    Some((false, false)) => None,
                },
            };
            let Some(reason) = reason else { continue };
            let mut stray = StrayNas {
                id: client.id,
                nasname: client.nasname,
                router_id: client.router_id,
                reason,
                repaired: false,
            };
            if fix {
                stray.repaired = delete_client(db, &stray, now).await?;
                report.repaired += u64::from(stray.repaired);
            }
            report.stray += 1;
            if report.stray_nas.len() < MAX_LISTED {
                report.stray_nas.push(stray);
            }
        }
    }
    Ok(())
}

/// Deletes a stray RADIUS client; false when it had gone already.
async fn delete_client(db: &Db, stray: &StrayNas, now: DateTime<Utc>) -> StoreResult<bool> {
    let mut w = db.write(Author::system(AUTHOR), now).await?;
    let deleted = nas::Entity::delete_by_id(stray.id).exec(w.tx()).await?;
    if deleted.rows_affected == 0 {
        w.rollback().await?;
        return Ok(false);
    }
    // The secret stays out of the log.
    w.audit(AuditEntry {
        tenant_id: None,
        action: "radius.repair",
        entity: "nas",
        entity_id: Some(i64::from(stray.id)),
        before: Some(json!({
            "nasname": stray.nasname,
            "router_id": stray.router_id,
            "reason": stray.reason,
        })),
        after: None,
    })
    .await?;
    w.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(a: &str, op: &str, v: &str) -> Row {
        (a.to_owned(), op.to_owned(), v.to_owned())
    }

    #[test]
    fn differences_pair_by_attribute_and_hide_passwords() {
        let expected = vec![
            row("Cleartext-Password", ":=", "right"),
            row("Simultaneous-Use", ":=", "1"),
        ];
        let stored = vec![
            row("Auth-Type", ":=", "Accept"),
            row("Cleartext-Password", ":=", "wrong"),
            row("Simultaneous-Use", ":=", "1"),
        ];
        let out = diff("radcheck", &expected, &stored);
        assert_eq!(
            out,
            vec![
                Difference {
                    table: "radcheck",
                    attribute: "Cleartext-Password".into(),
                    expected: Some(":= (password)".into()),
                    stored: Some(":= (password)".into()),
                },
                Difference {
                    table: "radcheck",
                    attribute: "Auth-Type".into(),
                    expected: None,
                    stored: Some(":= Accept".into()),
                },
            ]
        );
        assert!(diff("radreply", &expected, &expected).is_empty());
        // A duplicated row is drift too.
        let doubled = vec![expected[1].clone(), expected[1].clone()];
        assert_eq!(diff("radcheck", &expected[1..], &doubled).len(), 1);
    }
}
