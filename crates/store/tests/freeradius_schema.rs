//! Our FreeRADIUS tables against the `schema.sql` files of the installed FreeRADIUS 3.2, per
//! backend: FreeRADIUS's file is loaded into one fresh database, our migrations run in
//! another, and the catalogues of the two are compared for the nine tables FreeRADIUS uses.
//!
//! Every FreeRADIUS column must be in ours with the same type, nullability and default (so a
//! stock FreeRADIUS can read and write our tables); our extra columns must be nullable (so
//! its INSERTs, which name only its columns, still work); and every FreeRADIUS index must be
//! covered by one of ours on the same leading columns, with the same uniqueness and partial
//! predicate (so its queries stay indexed), but for the `radacct` indexes lastmile leaves
//! out on purpose ([`LEFT_OUT`]). Index names do not matter.
//!
//! The schema files come from Debian's `freeradius` package; without it these tests fail.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on error"
)]

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait as _, DatabaseConnection, Statement};
use store::Db;
use store::crypto::Keyring;
use testkit::{Backend, TestDb};

const POSTGRES_SCHEMA: &str = "/etc/freeradius/3.0/mods-config/sql/main/postgresql/schema.sql";
const SQLITE_SCHEMA: &str = "/etc/freeradius/3.0/mods-config/sql/main/sqlite/schema.sql";

/// The tables FreeRADIUS's rlm_sql reads and writes.
const TABLES: [&str; 9] = [
    "radacct",
    "radcheck",
    "radreply",
    "radgroupcheck",
    "radgroupreply",
    "radusergroup",
    "radpostauth",
    "nas",
    "nasreload",
];

/// A column as the catalogue describes it, normalised so the two sides compare.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    /// PostgreSQL: `data_type` plus the length of character types; SQLite: the declared
    /// type, lower-cased with its blanks removed.
    ty: String,
    not_null: bool,
    /// `None` for no default and for `DEFAULT NULL`.
    default: Option<String>,
    /// SQLite: the column's position in the primary key (0 if outside it); PostgreSQL: 0,
    /// its keys are compared as indexes.
    pk: i64,
}

/// An index as the catalogue describes it.
#[derive(Debug, Clone)]
struct Index {
    name: String,
    /// Key columns (or expressions) in order.
    columns: Vec<String>,
    unique: bool,
    primary: bool,
    /// The partial index's condition, normalised.
    predicate: Option<String>,
}

/// The nine tables' columns and indexes.
#[derive(Debug, Default, Clone)]
struct Schema {
    columns: BTreeMap<String, Vec<Column>>,
    indexes: BTreeMap<String, Vec<Index>>,
}

/// The text of an installed FreeRADIUS schema file; fails the test if it is not installed.
fn freeradius_schema(path: &str) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => panic!(
            "cannot read FreeRADIUS's schema {path} ({error}): these tests compare our tables \
             with it; install the `freeradius` package (apt-get install freeradius)"
        ),
    }
}

fn keyring() -> Keyring {
    Keyring::parse(&Keyring::generate_line("t")).unwrap()
}

/// A fresh, empty PostgreSQL database.
async fn empty_postgres() -> TestDb {
    testkit::db::fresh(Backend::Postgres, "empty", |_| async { Ok(()) }).await
}

/// FreeRADIUS's PostgreSQL schema and ours, each in a fresh database.
async fn postgres_pair() -> (Schema, Schema) {
    let text = freeradius_schema(POSTGRES_SCHEMA);
    let (theirs_db, ours_db) = (empty_postgres().await, empty_postgres().await);

    let theirs = Db::connect(&theirs_db.url, 1, keyring()).await.unwrap();
    theirs
        .conn()
        .execute_unprepared(&text)
        .await
        .expect("FreeRADIUS's PostgreSQL schema.sql loads");
    let ours = Db::connect(&ours_db.url, 1, keyring()).await.unwrap();
    ours.migrate().await.expect("our migrations run");

    let schemas = (
        postgres_schema(theirs.conn()).await,
        postgres_schema(ours.conn()).await,
    );
    theirs.close().await.unwrap();
    ours.close().await.unwrap();
    assert_all_tables(&schemas.0, POSTGRES_SCHEMA);
    schemas
}

/// FreeRADIUS's SQLite schema and ours, each in a fresh database file.
async fn sqlite_pair() -> (Schema, Schema) {
    let text = freeradius_schema(SQLITE_SCHEMA);
    let dir = tempfile::tempdir().unwrap();
    let url = |name: &str| format!("sqlite://{}", dir.path().join(name).display());

    let theirs = Db::connect(&url("freeradius.db"), 1, keyring())
        .await
        .unwrap();
    theirs
        .conn()
        .execute_unprepared(&text)
        .await
        .expect("FreeRADIUS's SQLite schema.sql loads");
    let ours = Db::connect(&url("lastmile.db"), 1, keyring())
        .await
        .unwrap();
    ours.migrate().await.expect("our migrations run");

    let schemas = (
        sqlite_schema(theirs.conn()).await,
        sqlite_schema(ours.conn()).await,
    );
    theirs.close().await.unwrap();
    ours.close().await.unwrap();
    assert_all_tables(&schemas.0, SQLITE_SCHEMA);
    schemas
}

/// Guards against a vacuous comparison: FreeRADIUS's file created all nine tables.
fn assert_all_tables(theirs: &Schema, path: &str) {
    for table in TABLES {
        assert!(
            theirs.columns.get(table).is_some_and(|c| !c.is_empty()),
            "{path} did not create the table {table}"
        );
    }
}

async fn rows(conn: &DatabaseConnection, sql: String) -> Vec<sea_orm::QueryResult> {
    let backend = conn.get_database_backend();
    conn.query_all_raw(Statement::from_string(backend, sql.clone()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn text(row: &sea_orm::QueryResult, column: &str) -> String {
    row.try_get::<String>("", column)
        .unwrap_or_else(|e| panic!("{column}: {e}"))
}

fn optional_text(row: &sea_orm::QueryResult, column: &str) -> Option<String> {
    row.try_get::<Option<String>>("", column)
        .unwrap_or_else(|e| panic!("{column}: {e}"))
}

fn table_list() -> String {
    TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The nine tables as `information_schema` and `pg_index` describe them.
async fn postgres_schema(conn: &DatabaseConnection) -> Schema {
    let mut schema = Schema::default();
    let columns = format!(
        "SELECT table_name::text AS table_name, column_name::text AS column_name,
                data_type::text AS data_type,
                character_maximum_length::text AS length,
                is_nullable::text AS is_nullable, column_default::text AS column_default
           FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name IN ({})
          ORDER BY table_name, ordinal_position",
        table_list()
    );
    for row in rows(conn, columns).await {
        let ty = match optional_text(&row, "length") {
            Some(length) => format!("{}({length})", text(&row, "data_type")),
            None => text(&row, "data_type"),
        };
        schema
            .columns
            .entry(text(&row, "table_name"))
            .or_default()
            .push(Column {
                name: text(&row, "column_name"),
                ty,
                not_null: text(&row, "is_nullable") == "NO",
                default: optional_text(&row, "column_default"),
                pk: 0,
            });
    }
    // Key columns through pg_get_indexdef, so expression keys show as their expression.
    let indexes = format!(
        "SELECT t.relname::text AS table_name, i.relname::text AS index_name,
                ix.indisunique AS is_unique, ix.indisprimary AS is_primary,
                pg_get_expr(ix.indpred, ix.indrelid) AS predicate,
                (SELECT string_agg(pg_get_indexdef(ix.indexrelid, k, true), ',' ORDER BY k)
                   FROM generate_series(1, ix.indnkeyatts::int) AS k) AS key_columns
           FROM pg_index ix
           JOIN pg_class i ON i.oid = ix.indexrelid
           JOIN pg_class t ON t.oid = ix.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE n.nspname = 'public' AND t.relname IN ({})
          ORDER BY 1, 2",
        table_list()
    );
    for row in rows(conn, indexes).await {
        schema
            .indexes
            .entry(text(&row, "table_name"))
            .or_default()
            .push(Index {
                name: text(&row, "index_name"),
                columns: text(&row, "key_columns")
                    .split(',')
                    .map(str::to_owned)
                    .collect(),
                unique: row.try_get::<bool>("", "is_unique").unwrap(),
                primary: row.try_get::<bool>("", "is_primary").unwrap(),
                predicate: optional_text(&row, "predicate"),
            });
    }
    schema
}

/// The nine tables as SQLite's `table_info`, `index_list` and `index_info` describe them.
async fn sqlite_schema(conn: &DatabaseConnection) -> Schema {
    let mut schema = Schema::default();
    for table in TABLES {
        let columns = format!(
            "SELECT name, type, \"notnull\" AS not_null, dflt_value, pk
               FROM pragma_table_info('{table}') ORDER BY cid"
        );
        let columns = rows(conn, columns)
            .await
            .iter()
            .map(|row| Column {
                name: text(row, "name"),
                ty: squeeze(&text(row, "type")),
                not_null: row.try_get::<i64>("", "not_null").unwrap() != 0,
                default: optional_text(row, "dflt_value")
                    .filter(|d| !d.eq_ignore_ascii_case("null")),
                pk: row.try_get::<i64>("", "pk").unwrap(),
            })
            .collect::<Vec<_>>();
        if columns.is_empty() {
            continue;
        }
        schema.columns.insert(table.to_owned(), columns);

        let list = format!(
            "SELECT l.name, l.\"unique\" AS is_unique, l.origin, l.partial, m.sql
               FROM pragma_index_list('{table}') AS l
               LEFT JOIN sqlite_master AS m ON m.type = 'index' AND m.name = l.name
              ORDER BY l.name"
        );
        let mut indexes = Vec::new();
        for row in rows(conn, list).await {
            let name = text(&row, "name");
            let info = format!(
                "SELECT name FROM pragma_index_info('{}') ORDER BY seqno",
                name.replace('\'', "''")
            );
            // An expression key has no name; keep its place so the column list stays honest.
            let columns = rows(conn, info)
                .await
                .iter()
                .map(|r| optional_text(r, "name").unwrap_or_else(|| "<expression>".to_owned()))
                .collect();
            let partial = row.try_get::<i64>("", "partial").unwrap() != 0;
            let predicate = partial.then(|| {
                let sql = squeeze(&optional_text(&row, "sql").unwrap_or_default());
                sql.split_once("where")
                    .map_or(sql.clone(), |(_, condition)| condition.to_owned())
            });
            indexes.push(Index {
                name,
                columns,
                unique: row.try_get::<i64>("", "is_unique").unwrap() != 0,
                primary: text(&row, "origin") == "pk",
                predicate,
            });
        }
        schema.indexes.insert(table.to_owned(), indexes);
    }
    schema
}

/// Lower case without blanks: `VARCHAR (64)` and `varchar(64)` are the same declared type.
fn squeeze(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// What differs between FreeRADIUS's columns and ours: one line per missing or different
/// column.
fn column_differences(theirs: &Schema, ours: &Schema) -> Vec<String> {
    let mut differences = Vec::new();
    for (table, their_columns) in &theirs.columns {
        let our_columns = ours.columns.get(table).map_or(&[][..], Vec::as_slice);
        for theirs in their_columns {
            match our_columns.iter().find(|c| c.name == theirs.name) {
                None => differences.push(format!("{table}.{} is missing", theirs.name)),
                Some(ours) if ours != theirs => {
                    differences.push(format!(
                        "{table}.{}: FreeRADIUS {theirs:?}, ours {ours:?}",
                        theirs.name
                    ));
                }
                Some(_) => {}
            }
        }
    }
    differences
}

/// Our columns that FreeRADIUS does not have and that refuse NULL.
fn extra_columns_refusing_null(theirs: &Schema, ours: &Schema) -> Vec<String> {
    let mut refusing = Vec::new();
    for table in TABLES {
        let their_columns = theirs.columns.get(table).map_or(&[][..], Vec::as_slice);
        for column in ours.columns.get(table).map_or(&[][..], Vec::as_slice) {
            let extra = !their_columns.iter().any(|c| c.name == column.name);
            if extra && column.not_null {
                refusing.push(format!("{table}.{} is NOT NULL", column.name));
            }
        }
    }
    refusing
}

/// True if `ours` serves every lookup `theirs` serves and enforces what it enforces.
fn covers(ours: &Index, theirs: &Index) -> bool {
    let leading = ours.columns.starts_with(&theirs.columns);
    // An index without a condition serves every condition; a partial one only its own.
    let predicate = ours.predicate.is_none() || ours.predicate == theirs.predicate;
    // Uniqueness over more columns, or over part of the rows, is weaker: it must be exact.
    let unique = !theirs.unique
        || (ours.unique && ours.columns == theirs.columns && ours.predicate == theirs.predicate);
    let primary = !theirs.primary || ours.primary;
    leading && predicate && unique && primary
}

/// FreeRADIUS's `radacct` indexes (by columns) that lastmile leaves out on purpose
/// (`m20261212_000020_radacct_indexes`): every accounting record wrote each of them, and no
/// query of FreeRADIUS's or lastmile's reads them, or a narrower index of ours serves the
/// one that would.
const LEFT_OUT: [(&[&str], &str); 12] = [
    (&["class"], "no query reads Class"),
    (
        &["acctstarttime", "username"],
        "reports by start time: no query here",
    ),
    (&["acctinterval"], "no query reads it"),
    (&["acctsessionid"], "sessions are found by acctuniqueid"),
    (&["acctsessiontime"], "no query reads it"),
    (&["acctstarttime"], "no query reads it alone"),
    (
        &["acctstoptime"],
        "open sessions are read by user, router or last update (partial indexes)",
    ),
    (&["delegatedipv6prefix"], "no query reads it"),
    (&["framedinterfaceid"], "no query reads it"),
    (&["framedipv6address"], "no query reads it"),
    (&["framedipv6prefix"], "no query reads it"),
    (
        &["nasipaddress"],
        "Accounting-On/Off reads a router's open sessions: radacct_open_nas_idx (partial)",
    ),
];

fn left_out(table: &str, index: &Index) -> bool {
    table == "radacct"
        && LEFT_OUT
            .iter()
            .any(|(columns, _)| index.columns == *columns)
}

/// FreeRADIUS's indexes that none of ours covers, but those left out on purpose.
fn uncovered_needed_indexes(theirs: &Schema, ours: &Schema) -> Vec<String> {
    let mut needed = theirs.clone();
    for (table, indexes) in &mut needed.indexes {
        indexes.retain(|index| !left_out(table, index));
    }
    uncovered_indexes(&needed, ours)
}

/// FreeRADIUS's indexes that none of ours covers.
fn uncovered_indexes(theirs: &Schema, ours: &Schema) -> Vec<String> {
    let mut uncovered = Vec::new();
    for (table, their_indexes) in &theirs.indexes {
        let our_indexes = ours.indexes.get(table).map_or(&[][..], Vec::as_slice);
        for theirs in their_indexes {
            if !our_indexes.iter().any(|ours| covers(ours, theirs)) {
                uncovered.push(format!(
                    "{table}: FreeRADIUS's {} {:?}{}{} is not covered; ours: {:?}",
                    theirs.name,
                    theirs.columns,
                    if theirs.unique { " unique" } else { "" },
                    theirs
                        .predicate
                        .as_ref()
                        .map_or(String::new(), |p| format!(" where {p}")),
                    our_indexes
                        .iter()
                        .map(|i| (&i.name, &i.columns, i.unique, &i.predicate))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    uncovered
}

fn assert_none(problems: Vec<String>, what: &str) {
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

#[tokio::test]
async fn every_freeradius_column_is_in_our_postgres_tables_with_its_type_nullability_and_default() {
    let (theirs, ours) = postgres_pair().await;
    assert_none(
        column_differences(&theirs, &ours),
        "our PostgreSQL FreeRADIUS tables differ from FreeRADIUS's",
    );
}

#[tokio::test]
async fn our_extra_postgres_columns_accept_null_so_freeradius_inserts_work() {
    let (theirs, ours) = postgres_pair().await;
    assert_none(
        extra_columns_refusing_null(&theirs, &ours),
        "extra columns FreeRADIUS's INSERTs would fail on",
    );
}

#[tokio::test]
async fn every_freeradius_postgres_index_is_covered_by_one_of_ours() {
    let (theirs, ours) = postgres_pair().await;
    assert_none(
        uncovered_needed_indexes(&theirs, &ours),
        "FreeRADIUS's PostgreSQL indexes without a counterpart",
    );
}

#[tokio::test]
async fn radacct_acctuniqueid_has_a_unique_constraint_on_postgres() {
    let db = empty_postgres().await;
    let ours = Db::connect(&db.url, 1, keyring()).await.unwrap();
    ours.migrate().await.unwrap();
    // `INSERT ... ON CONFLICT (AcctUniqueId)` in FreeRADIUS's queries needs exactly this.
    let constraints = rows(
        ours.conn(),
        "SELECT tc.constraint_name::text AS name
           FROM information_schema.table_constraints tc
           JOIN information_schema.key_column_usage k
             ON k.constraint_schema = tc.constraint_schema
            AND k.constraint_name = tc.constraint_name
          WHERE tc.table_schema = 'public' AND tc.table_name = 'radacct'
            AND tc.constraint_type = 'UNIQUE'
          GROUP BY tc.constraint_name
         HAVING array_agg(k.column_name::text) = ARRAY['acctuniqueid']"
            .to_owned(),
    )
    .await;
    ours.close().await.unwrap();
    assert_eq!(
        constraints.len(),
        1,
        "radacct needs one UNIQUE constraint on acctuniqueid alone"
    );
}

#[tokio::test]
async fn every_freeradius_column_is_in_our_sqlite_tables_with_its_type_nullability_default_and_key()
{
    let (theirs, ours) = sqlite_pair().await;
    assert_none(
        column_differences(&theirs, &ours),
        "our SQLite FreeRADIUS tables differ from FreeRADIUS's",
    );
}

#[tokio::test]
async fn our_extra_sqlite_columns_accept_null_so_freeradius_inserts_work() {
    let (theirs, ours) = sqlite_pair().await;
    assert_none(
        extra_columns_refusing_null(&theirs, &ours),
        "extra columns FreeRADIUS's INSERTs would fail on",
    );
}

#[tokio::test]
async fn every_freeradius_sqlite_index_is_covered_by_one_of_ours_with_its_uniqueness() {
    let (theirs, ours) = sqlite_pair().await;
    assert_none(
        uncovered_needed_indexes(&theirs, &ours),
        "FreeRADIUS's SQLite indexes without a counterpart",
    );
    // The unique index FreeRADIUS's accounting relies on is among them.
    let radacct = &ours.indexes["radacct"];
    assert!(
        radacct
            .iter()
            .any(|i| i.unique && i.columns == ["acctuniqueid"] && i.predicate.is_none()),
        "radacct needs a unique index on acctuniqueid: {radacct:?}"
    );
}

#[tokio::test]
async fn the_comparison_catches_a_changed_column_a_strict_extra_column_and_a_lost_index() {
    let (theirs, ours) = sqlite_pair().await;
    let mut changed = ours.clone();
    let radcheck = changed.columns.get_mut("radcheck").unwrap();
    radcheck
        .iter_mut()
        .find(|c| c.name == "op")
        .unwrap()
        .default = Some("'='".to_owned());
    radcheck.push(Column {
        name: "tenant_code".to_owned(),
        ty: "text".to_owned(),
        not_null: true,
        default: None,
        pk: 0,
    });
    let radacct = changed.indexes.get_mut("radacct").unwrap();
    radacct.retain(|i| i.columns != ["username"] || i.predicate.is_some());
    for index in radacct.iter_mut().filter(|i| i.columns == ["acctuniqueid"]) {
        index.unique = false;
    }

    let differences = column_differences(&theirs, &changed);
    assert!(
        differences.len() == 1 && differences[0].starts_with("radcheck.op:"),
        "{differences:?}"
    );
    assert_eq!(
        extra_columns_refusing_null(&theirs, &changed),
        ["radcheck.tenant_code is NOT NULL"]
    );
    let uncovered = uncovered_needed_indexes(&theirs, &changed);
    assert_eq!(uncovered.len(), 2, "{uncovered:?}");
    assert!(
        uncovered
            .iter()
            .any(|u| u.contains("[\"username\"] is not")),
        "{uncovered:?}"
    );
    assert!(
        uncovered
            .iter()
            .any(|u| u.contains("[\"acctuniqueid\"] unique")),
        "{uncovered:?}"
    );
}

/// The list of indexes left out names only indexes a FreeRADIUS schema has: it cannot
/// hide one that is not there, or keep one FreeRADIUS dropped.
#[tokio::test]
async fn every_index_left_out_is_one_of_freeradius_s() {
    let (sqlite, _) = sqlite_pair().await;
    let (postgres, _) = postgres_pair().await;
    for (columns, why) in LEFT_OUT {
        let found = [&sqlite, &postgres].iter().any(|schema| {
            schema.indexes["radacct"]
                .iter()
                .any(|index| index.columns == columns)
        });
        assert!(found, "{columns:?} ({why}) is in neither FreeRADIUS schema");
    }
}

#[test]
#[should_panic(expected = "install the `freeradius` package")]
fn a_missing_freeradius_schema_file_fails_with_a_hint_to_install_freeradius() {
    freeradius_schema("/nonexistent/freeradius/schema.sql");
}
