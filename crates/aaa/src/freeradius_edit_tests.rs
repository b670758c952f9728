use std::path::PathBuf;

use super::*;

const SESSION: &str = "authorize {\n\t-sql\n}\nsession {\n#\tradutmp\n\n\t#\n\t#  See \"Simultaneous Use Checking Queries\" in mods-available/sql\n#\tsql\n}\npost-auth {\n#\tsql\n}\n";

#[test]
fn only_the_session_section_gets_sql() {
    let out = enable_session_sql(SESSION).unwrap();
    assert!(out.contains("session {\n#\tradutmp\n"));
    assert!(out.contains("\tsql\n}\npost-auth {\n#\tsql\n}"), "{out}");
    // Running it again changes nothing.
    assert_eq!(enable_session_sql(&out).unwrap(), out);
    assert!(enable_session_sql("authorize {\n}\n").is_err());
}

#[test]
fn raddbdir_points_at_the_copy() {
    let text = "prefix = /usr\nraddbdir = /etc/freeradius/3.0\nconfdir = ${raddbdir}\n";
    let out = set_raddbdir(text, &PathBuf::from("/srv/raddb")).unwrap();
    assert_eq!(
        out,
        "prefix = /usr\nraddbdir = /srv/raddb\nconfdir = ${raddbdir}\n"
    );
    assert!(set_raddbdir("prefix = /usr\n", &PathBuf::from("/x")).is_err());
}

#[test]
fn post_auth_stores_no_password() {
    let query = "VALUES ( '%{SQL-User-Name}', '%{%{User-Password}:-%{Chap-Password}}', '%{reply:Packet-Type}')";
    let out = postauth_without_password(query, "''").unwrap();
    assert_eq!(
        out,
        "VALUES ( '%{SQL-User-Name}', '', '%{reply:Packet-Type}')"
    );
    assert!(postauth_without_password(&out, "''").is_err());
}

#[test]
fn sqlite_simul_verify_uses_the_user_name() {
    let query = "simul_verify_query = \"SELECT 1 FROM radacct a WHERE username = '%{${group_attribute}}' \"";
    let out = fix_sqlite_simul_verify(query).unwrap();
    assert!(out.contains("WHERE username = '%{SQL-User-Name}'"));
    assert!(!out.contains("group_attribute"));
    assert_eq!(fix_sqlite_simul_verify(&out).unwrap(), out);
}

#[test]
fn sqlite_counters_read_integer_epochs() {
    let query = "SELECT SUM(acctsessiontime - GREATEST((%%b - strftime('%%s', acctstarttime)), 0)) \
                 WHERE (strftime('%%s', acctstarttime) + acctsessiontime) > %%b \
                 SELECT GREATEST(strftime('%%s', NOW()) - strftime('%%s', acctstarttime), 0)";
    let out = fix_sqlite_counter(query);
    assert_eq!(
        out,
        "SELECT SUM(acctsessiontime - MAX((%%b - acctstarttime), 0)) \
                 WHERE (acctstarttime + acctsessiontime) > %%b \
                 SELECT MAX(strftime('%%s', 'now') - acctstarttime, 0)"
    );
}

#[test]
fn values_are_quoted_without_expansion() {
    assert_eq!(quote("a'b\\c${x}"), "'a\\'b\\\\c${x}'");
}

#[test]
fn the_sql_module_names_every_table_and_reads_clients() {
    let sqlite = sql_module(
        &Target::Sqlite {
            file: "/var/lib/lastmile/lastmile.db".into(),
        },
        &Login {
            user: String::new(),
            password: String::new(),
        },
    );
    assert!(sqlite.contains("dialect = \"sqlite\""));
    assert!(sqlite.contains("filename = '/var/lib/lastmile/lastmile.db'"));
    assert!(sqlite.contains(&format!("busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")));
    assert!(sqlite.contains("read_clients = no"));
    for (setting, table) in TABLES {
        assert!(
            sqlite.contains(&format!("{setting} = \"{table}\"")),
            "{setting}"
        );
    }
    assert!(!sqlite.contains("bootstrap ="));
    let pg = sql_module(
        &Target::Postgres {
            host: "127.0.0.1".into(),
            port: 5433,
            user: "owner".into(),
            password: "ignored".into(),
            database: "lastmile".into(),
        },
        &Login {
            user: "radius_ro".into(),
            password: "s'cret".into(),
        },
    );
    assert!(pg.contains("driver = \"rlm_sql_${dialect}\""));
    assert!(pg.contains("port = 5433"));
    assert!(pg.contains("login = 'radius_ro'"));
    assert!(pg.contains("password = 's\\'cret'"));
    assert!(pg.contains("radius_db = 'lastmile'"));
}

#[test]
fn the_role_reads_the_authorization_tables_and_writes_only_accounting() {
    let sql = role_sql(
        &Login {
            user: "fr\"x".into(),
            password: "p'w".into(),
        },
        "lastmile",
    );
    assert!(sql.contains("CREATE ROLE \"fr\"\"x\" LOGIN"));
    assert!(sql.contains("PASSWORD 'p''w'"));
    assert!(sql.contains(
        "GRANT SELECT ON radcheck, radreply, radgroupcheck, radgroupreply, radusergroup, nas"
    ));
    assert!(sql.contains("GRANT SELECT, INSERT, UPDATE ON radacct, nasreload"));
    assert!(sql.contains("GRANT INSERT ON radpostauth"));
    assert!(!sql.contains("DELETE"));
}
