//! Bulk import of customers from CSV, the path ISPs take when they migrate: every row is
//! read and validated first (references resolved, user names and mobiles checked against
//! the file and the database), row errors are reported by line, and the valid rows are
//! created in batches of [`BATCH`], each batch one transaction with its FreeRADIUS rows.
//!
//! Columns (a header row names them, in any order and case): `name`, `connection_type`,
//! `package` (an id, or the name of a package the owner may use) are required; `username`
//! too except for hotspot customers; optional are `password`, `mobile`, `email`, `address`,
//! `billing_type`, `status`, `expires_at` (RFC 3339, `YYYY-MM-DD HH:MM` in the tenant's zone,
//! or `YYYY-MM-DD` for the end of that day), `static_ip` with `ip_pool`, `ip_pool`, `mac`,
//! `zone`, `router` (by name), `owner` (an operator's or sub-operator's e-mail),
//! `simultaneous_use` and `comment`. A tenant's custom fields are columns named
//! `field:<key>` (the prefix keeps them apart from every built-in column, present and
//! future), each cell read as the field's type reads text (`domain::custom_field`); a
//! required field must be filled on every row, and a column naming no active field of the
//! tenant is refused on every row (`unknown_field`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::Ctx;
use crate::error::OpError;
use domain::access::{
    self, Actor, Owner, Role, customer_owner_scope, network_scope, package_scope, tenant_scope,
};
use domain::customer::{BillingType, read_connection};
use domain::customer::{CustomerInput, NewCustomer, Terms};
use domain::field::{FieldError, FieldErrors};
use domain::ids::{TenantId, UserId};
use domain::package::{ConnectionType, PackageLevel};
use store::list::PageRequest;
use store::tenant::Tenant;
use store::{Author, Db};

/// Rows per transaction.
pub const BATCH: usize = 1000;
/// The most rows one import takes.
pub const MAX_ROWS: usize = 200_000;
/// The largest CSV accepted.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The tenant (platform roles); others import into their own.
    pub tenant_id: Option<i64>,
    /// Only validate: report the errors, create nothing.
    pub dry_run: bool,
    /// Create nothing if any row is invalid.
    pub all_or_nothing: bool,
    /// Bill the time given with each customer created (`crate::first_bill`).
    pub first_bill: bool,
}

/// One invalid field of one row.
#[derive(Debug, Clone, Serialize)]
pub struct RowError {
    /// The line in the file (the header is line 1).
    pub line: usize,
    /// The column.
    pub field: String,
    /// A stable snake_case reason.
    pub code: String,
    /// The reason's parameters (bounds, lengths), for its message.
    pub params: Vec<(&'static str, String)>,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: usize,
    /// Customers created.
    pub created: usize,
    /// Rows refused, with their errors.
    pub errors: Vec<RowError>,
    /// True when nothing was meant to be created.
    pub dry_run: bool,
    /// The first bills issued with the customers.
    pub billed: crate::first_bill::Billed,
}

/// One row to import: its line (or place) and its fields by column name (lower case).
pub type Fields = (usize, HashMap<String, String>);

/// Imports customers from CSV bytes as `actor`; refused rows are reported, valid rows are
/// created (unless `dry_run`, or `all_or_nothing` and a row is refused). `progress` hears how
/// far it got after the rows are read and after each batch.
pub async fn import(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    csv: &[u8],
    options: &ImportOptions,
    progress: &mut impl Progress,
) -> Result<ImportReport, OpError> {
    let (records, errors, total) = records(csv)?;
    import_fields(
        ctx, actor, author, records, errors, total, options, progress,
    )
    .await
}

/// Imports rows already split into fields (the CSV's columns, by the same names), as
/// [`import`] does; `errors` are refusals found before (reported with the rest) and `total`
/// counts every row read.
#[expect(
    clippy::too_many_arguments,
    reason = "the rows, what was refused of them and how many were read come from the reader"
)]
pub async fn import_fields(
    ctx: &Ctx<'_>,
    actor: &Actor,
    author: Author,
    records: Vec<Fields>,
    mut errors: Vec<RowError>,
    total: usize,
    options: &ImportOptions,
    progress: &mut impl Progress,
) -> Result<ImportReport, OpError> {
    let (db, now) = (ctx.db, ctx.now);
    let tenant_id = options
        .tenant_id
        .map(TenantId)
        .or(actor.tenant_id)
        .ok_or_else(|| OpError::field("tenant_id", "required"))?;
    let tenant = store::tenant::find(db.conn(), &tenant_scope(actor), tenant_id)
        .await?
        .ok_or_else(|| OpError::field("tenant_id", "not_found"))?;
    let refs = References::load(db, actor, &tenant).await?;
    let zone = super::zone(&tenant);
    let defs = crate::custom_field::of_tenant(ctx, tenant_id).await?;
    let mut rows = Vec::with_capacity(records.len());
    for (line, record) in records {
        let fields: HashMap<&str, &str> = record
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let values = custom_values(&defs, &fields);
        match (row(&fields, &tenant, actor, &refs, now, zone), values) {
            (Ok(new), Ok(values)) => rows.push((line, (new, values))),
            (Ok(_), Err(e)) => errors.extend(field_errors(line, e)),
            (Err(mut e), values) => {
                if let Err(more) = values {
                    e.extend(more);
                }
                errors.extend(field_errors(line, e));
            }
        }
    }
    let mut report = ImportReport {
        rows: total,
        created: 0,
        errors: Vec::new(),
        dry_run: options.dry_run,
        billed: crate::first_bill::Billed::default(),
    };

    // User names and mobiles: unique in the file and not taken in the database.
    let keys: Vec<String> = rows.iter().map(|(_, (r, _))| r.username.key()).collect();
    let taken = store::customer::taken_names(db.conn(), &keys, now, db.name_rest()).await?;
    let mobiles = refs.existing_mobiles(db, &rows).await?;
    let mut seen_names = HashSet::new();
    let mut seen_mobiles = HashSet::new();
    let mut valid = Vec::with_capacity(rows.len());
    for (line, (row, values)) in rows {
        let key = row.username.key();
        if taken.contains(&key) || !seen_names.insert(key) {
            errors.push(row_error(line, "username", "taken", &[]));
            continue;
        }
        if let Some(m) = &row.mobile
            && (mobiles.contains(m.as_str()) || !seen_mobiles.insert(m.as_str().to_owned()))
        {
            errors.push(row_error(line, "mobile", "taken", &[]));
            continue;
        }
        valid.push((row, values));
    }
    errors.sort_by_key(|e| e.line);
    report.errors = errors;
    progress.report(report.errors.len(), total).await;
    if options.dry_run || (options.all_or_nothing && !report.errors.is_empty()) {
        return Ok(report);
    }
    for batch in valid.chunks(BATCH) {
        let mut w = db.write(author.clone(), now).await?;
        let mut values: HashMap<String, Vec<domain::custom_field::ValueChange>> = batch
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(r, v)| (r.username.key(), v.clone()))
            .collect();
        let (bulk, single): (Vec<NewCustomer>, Vec<NewCustomer>) = batch
            .iter()
            .map(|(r, _)| r.clone())
            .partition(|r| r.static_ip.is_none());
        let mut created = store::customer::create_many(&mut w, tenant_id, &bulk).await?;
        for row in &single {
            created.push(store::customer::create(&mut w, row).await?);
        }
        // Each customer's values, found by its user name (unique on the installation).
        let held: Vec<(i64, Vec<domain::custom_field::ValueChange>)> = created
            .iter()
            .filter_map(|c| values.remove(&c.username_key).map(|v| (c.id, v)))
            .collect();
        store::custom_field::create_values_many(&mut w, tenant_id, &defs, &held).await?;
        if options.first_bill {
            let billed = crate::first_bill::issue(ctx, &mut w, &tenant, &created).await?;
            report.billed.customers += billed.customers;
            report.billed.amount += billed.amount;
        }
        w.commit().await?;
        report.created += created.len();
        progress
            .report(report.errors.len() + report.created, total)
            .await;
    }
    Ok(report)
}

/// Who hears how far an import got: rows done (created or refused) of all rows.
pub trait Progress: Send {
    /// `done` rows of `total` are dealt with.
    fn report(&mut self, done: usize, total: usize) -> impl Future<Output = ()> + Send;
}

/// No one listens.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    async fn report(&mut self, _done: usize, _total: usize) {}
}

fn row_error(
    line: usize,
    field: &str,
    code: &'static str,
    params: &[(&'static str, String)],
) -> RowError {
    RowError {
        line,
        field: field.to_owned(),
        code: code.to_owned(),
        params: params.to_vec(),
    }
}

fn field_errors(line: usize, errors: FieldErrors) -> impl Iterator<Item = RowError> {
    errors
        .0
        .into_iter()
        .map(move |e| row_error(line, &e.field, e.code, &e.params))
}

/// Every row of a list, read a page of 500 at a time (an ISP may have thousands of pools):
/// `every!(SPEC, |page| LIST_CALL)`, where the call reads the page `page` names.
macro_rules! every {
    ($spec:expr, |$page:ident| $list:expr) => {{
        let mut $page = PageRequest::first($spec, 500).map_err(OpError::Invalid)?;
        let mut all = Vec::new();
        loop {
            let found = $list.await?;
            all.extend(found.items);
            match found.next_cursor {
                Some(cursor) => {
                    $page = PageRequest::parse($spec, None, Some(500), Some(&cursor))
                        .map_err(OpError::Invalid)?;
                }
                None => break all,
            }
        }
    }};
}

/// Everything a row may name, loaded once: packages, zones, routers, pools and owners.
struct References {
    packages: Vec<store::package::Package>,
    zones: HashMap<String, i64>,
    routers: HashMap<String, i64>,
    pools: HashMap<String, i64>,
    owners: HashMap<String, Owner>,
    tenant: TenantId,
    realm: String,
    default_billing: BillingType,
}

impl References {
    async fn load(db: &Db, actor: &Actor, tenant: &Tenant) -> Result<Self, OpError> {
        let tenant_id = TenantId(tenant.id);
        let conn = db.conn();
        let filter = store::package::PackageFilter {
            tenant_id: Some(tenant_id),
            ..Default::default()
        };
        let packages = every!(&store::package::LIST, |page| store::package::list(
            conn,
            &package_scope(actor),
            &filter,
            &page
        ));
        let net = store::network::NetworkFilter {
            tenant_id: Some(tenant_id),
            name_prefix: None,
        };
        let scope = network_scope(actor);
        let zones = every!(&store::network::ZONES, |page| store::network::list_zones(
            conn, &scope, &net, &page
        ));
        let routers = every!(&store::network::ROUTERS, |page| {
            store::network::list_routers(conn, &scope, &net, &page)
        });
        let pools = every!(&store::network::POOLS, |page| store::network::list_pools(
            conn, &scope, &net, &page
        ));
        let mut owners = HashMap::new();
        for role in [Role::Operator, Role::SubOperator] {
            let filter = store::user::UserFilter {
                role: Some(role),
                tenant_id: Some(tenant_id),
                ..Default::default()
            };
            let users = every!(&store::user::LIST, |page| store::user::list(
                conn,
                &customer_owner_scope(actor),
                &filter,
                &page
            ));
            for u in users
                .iter()
                .filter(|u| u.status == domain::user::UserStatus::Active)
            {
                let owner = match role {
                    Role::Operator => Owner::Operator {
                        tenant: tenant_id,
                        operator: UserId(u.id),
                    },
                    _ => Owner::SubOperator {
                        tenant: tenant_id,
                        operator: u.parent_id.map(UserId),
                        sub_operator: UserId(u.id),
                    },
                };
                owners.insert(u.email.clone(), owner);
            }
        }
        let names = |items: Vec<(String, i64)>| {
            items
                .into_iter()
                .map(|(n, id)| (n.to_lowercase(), id))
                .collect::<HashMap<_, _>>()
        };
        Ok(Self {
            packages,
            zones: names(zones.into_iter().map(|z| (z.name, z.id)).collect()),
            routers: names(routers.into_iter().map(|r| (r.name, r.id)).collect()),
            pools: names(pools.into_iter().map(|p| (p.name, p.id)).collect()),
            owners,
            tenant: tenant_id,
            realm: store::tenant::realm(tenant),
            default_billing: tenant.default_billing_type.get(),
        })
    }

    /// The package a row names, if its owner may use it with the row's connection type.
    fn package(
        &self,
        text: &str,
        owner: Owner,
        connection: ConnectionType,
    ) -> Result<&store::package::Package, FieldError> {
        let text = text.trim();
        let owned = |p: &&store::package::Package| match owner.user() {
            Some(user) => p.owner_id == Some(user.0),
            None => p.level == PackageLevel::Master,
        };
        let by_id = text.parse::<i64>().ok();
        let found = self
            .packages
            .iter()
            .filter(owned)
            .find(|p| Some(p.id) == by_id || p.name.eq_ignore_ascii_case(text))
            .ok_or_else(|| FieldError::new("package", "not_usable"))?;
        if found.connection_type != connection {
            return Err(FieldError::new("package", "wrong_connection_type"));
        }
        Ok(found)
    }

    fn named(
        map: &HashMap<String, i64>,
        field: &str,
        text: Option<&str>,
    ) -> Result<Option<i64>, FieldError> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(name) => map
                .get(&name.to_lowercase())
                .copied()
                .map(Some)
                .ok_or_else(|| FieldError::new(field, "not_found")),
        }
    }

    async fn existing_mobiles(
        &self,
        db: &Db,
        rows: &[(usize, (NewCustomer, Vec<domain::custom_field::ValueChange>))],
    ) -> Result<HashSet<String>, OpError> {
        let mobiles: Vec<String> = rows
            .iter()
            .filter_map(|(_, (r, _))| r.mobile.as_ref().map(|m| m.as_str().to_owned()))
            .collect();
        Ok(store::customer::taken_mobiles(db.conn(), self.tenant, &mobiles).await?)
    }
}

type Read = (Vec<Fields>, Vec<RowError>, usize);

/// A reader positioned after the header row, and the header's column names (lower case);
/// refused when the header is unreadable, names a column lastmile does not know, or lacks a
/// required one.
fn columns(csv_bytes: &[u8]) -> Result<(csv::Reader<&[u8]>, Vec<String>), OpError> {
    let bytes = csv_bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(csv_bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers: Vec<String> = match reader.byte_headers() {
        Ok(h) => h
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_lowercase())
            .collect(),
        Err(_) => return Err(OpError::field("csv", "unreadable_csv")),
    };
    let known = [
        "name",
        "connection_type",
        "package",
        "username",
        "password",
        "mobile",
        "email",
        "address",
        "billing_type",
        "status",
        "expires_at",
        "static_ip",
        "ip_pool",
        "mac",
        "zone",
        "router",
        "owner",
        "simultaneous_use",
        "comment",
    ];
    let mut header_errors = FieldErrors::new();
    for h in &headers {
        let custom = h
            .strip_prefix(FIELD_PREFIX)
            .is_some_and(|key| domain::custom_field::parse_key(key).is_ok());
        if !known.contains(&h.as_str()) && !custom {
            header_errors.push(FieldError::new("csv", "unknown_column").with("name", h));
        }
    }
    for required in ["name", "connection_type", "package"] {
        if !headers.iter().any(|h| h == required) {
            header_errors.push(FieldError::new("csv", "missing_column").with("name", required));
        }
    }
    if !header_errors.is_empty() {
        return Err(OpError::Invalid(header_errors));
    }
    Ok((reader, headers))
}

/// Checks what can be checked of a file before it is imported: its size and its columns.
pub fn check_file(csv_bytes: &[u8]) -> Result<(), OpError> {
    if csv_bytes.len() > MAX_BYTES {
        return Err(OpError::from(
            FieldError::new("csv", "too_large").with("max", MAX_BYTES),
        ));
    }
    columns(csv_bytes).map(|_| ())
}

/// Reads every row into its fields; rows that cannot be read are refused here.
fn records(csv_bytes: &[u8]) -> Result<Read, OpError> {
    let (mut reader, headers) = columns(csv_bytes)?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut total = 0;
    for (index, record) in reader.byte_records().enumerate() {
        let line = index + 2;
        total += 1;
        if total > MAX_ROWS {
            return Err(OpError::field("csv", "too_many_rows"));
        }
        let record = match record {
            Ok(r) => r,
            Err(_) => {
                errors.push(row_error(line, "csv", "unreadable_row", &[]));
                continue;
            }
        };
        if record.len() != headers.len() {
            errors.push(row_error(
                line,
                "csv",
                "wrong_column_count",
                &[("expected", headers.len().to_string())],
            ));
            continue;
        }
        let mut fields = HashMap::new();
        let mut bad_encoding = None;
        for (name, value) in headers.iter().zip(record.iter()) {
            match std::str::from_utf8(value) {
                Ok(text) => {
                    fields.insert(name.clone(), text.to_owned());
                }
                Err(_) => bad_encoding = Some(name.clone()),
            }
        }
        if let Some(field) = bad_encoding {
            errors.push(row_error(line, &field, "not_utf8", &[]));
            continue;
        }
        rows.push((line, fields));
    }
    Ok((rows, errors, total))
}

/// The prefix of a custom field's column: `field:<key>`.
pub const FIELD_PREFIX: &str = "field:";

/// A row's custom fields, checked as a new customer's; errors name the column.
fn custom_values(
    defs: &[store::custom_field::Definition],
    fields: &HashMap<&str, &str>,
) -> Result<Vec<domain::custom_field::ValueChange>, FieldErrors> {
    let given: Vec<(String, domain::custom_field::FieldInput)> = fields
        .iter()
        .filter_map(|(column, value)| {
            column.strip_prefix(FIELD_PREFIX).map(|key| {
                (
                    key.to_owned(),
                    domain::custom_field::FieldInput::Text((*value).to_owned()),
                )
            })
        })
        .collect();
    crate::custom_field::check(defs, &given, None).map_err(|errors| {
        FieldErrors(
            errors
                .0
                .into_iter()
                .map(|mut e| {
                    if let Some(key) = e.field.strip_prefix("custom_fields.") {
                        e.field = format!("{FIELD_PREFIX}{key}");
                    }
                    e
                })
                .collect(),
        )
    })
}

fn opt<'a>(fields: &HashMap<&str, &'a str>, name: &str) -> Option<&'a str> {
    fields.get(name).copied().filter(|v| !v.is_empty())
}

/// One row into a new customer.
fn row(
    fields: &HashMap<&str, &str>,
    tenant: &Tenant,
    actor: &Actor,
    refs: &References,
    now: DateTime<Utc>,
    zone: chrono_tz::Tz,
) -> Result<NewCustomer, FieldErrors> {
    let mut errors = FieldErrors::new();
    let connection = errors.take(read_connection(
        opt(fields, "connection_type").unwrap_or(""),
    ));
    let owner = match opt(fields, "owner") {
        None => match actor.role {
            Role::Operator => Some(Owner::Operator {
                tenant: refs.tenant,
                operator: actor.user_id,
            }),
            Role::SubOperator => refs
                .owners
                .values()
                .copied()
                .find(|o| o.user() == Some(actor.user_id)),
            _ => Some(Owner::Tenant(refs.tenant)),
        },
        Some(email) => errors.take(
            refs.owners
                .get(&email.to_lowercase())
                .copied()
                .ok_or_else(|| FieldError::new("owner", "not_found")),
        ),
    };
    if let Some(owner) = owner
        && access::manage_customers_of(actor, owner).is_err()
    {
        errors.push(FieldError::new("owner", "forbidden"));
    }
    let package = match (owner, connection) {
        (Some(owner), Some(connection)) => {
            errors.take(refs.package(opt(fields, "package").unwrap_or(""), owner, connection))
        }
        _ => None,
    };
    let zone_id = errors.take(References::named(&refs.zones, "zone", opt(fields, "zone")));
    let router_id = errors.take(References::named(
        &refs.routers,
        "router",
        opt(fields, "router"),
    ));
    let ip_pool_id = errors.take(References::named(
        &refs.pools,
        "ip_pool",
        opt(fields, "ip_pool"),
    ));
    let (Some(owner), Some(package), Some(zone_id), Some(router_id), Some(ip_pool_id)) =
        (owner, package, zone_id, router_id, ip_pool_id)
    else {
        return Err(errors);
    };
    let text = |name: &str| opt(fields, name).map(str::to_owned);
    let input = CustomerInput {
        tenant_id: Some(refs.tenant),
        owner_id: owner.user(),
        package_id: Some(package.id),
        connection_type: text("connection_type"),
        billing_type: text("billing_type"),
        name: opt(fields, "name").unwrap_or("").to_owned(),
        mobile: text("mobile"),
        email: text("email"),
        address: opt(fields, "address").unwrap_or("").to_owned(),
        zone_id,
        router_id,
        username: text("username"),
        password: text("password"),
        status: text("status"),
        expires_at: text("expires_at"),
        static_ip: text("static_ip"),
        ip_pool_id,
        allocate_static: false,
        mac: text("mac"),
        simultaneous_use: text("simultaneous_use"),
        comment: opt(fields, "comment").unwrap_or("").to_owned(),
        // Checked apart (`custom_values`), with the column names in the errors.
        custom_fields: Vec::new(),
    };
    let country = super::mobile_country(tenant);
    // A row without a password gets a made-up one, readable later on the customer's page.
    let made_up = super::random_password();
    let terms = Terms {
        owner,
        package: Some(super::package_terms(package)),
        mobile_country: country.as_ref(),
        realm: &refs.realm,
        default_billing: refs.default_billing,
        zone,
        made_up_password: &made_up,
    };
    match NewCustomer::parse(&input, &terms, now) {
        Ok((mut new, _)) if errors.is_empty() => {
            super::sold_only(actor, &input, &mut new, now)?;
            Ok(new)
        }
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            Err(errors)
        }
    }
}
