//! The text lastmile writes into a FreeRADIUS configuration: its own `mods-available/sql`,
//! the role script and the README, and the edits of the installed package's files (the
//! `session { sql }` line, the SQLite dialect fixes, no password in `radpostauth`). Pure
//! functions over strings; `freeradius` does the files.

use std::path::Path;

use super::dburl::Target;

/// Milliseconds FreeRADIUS's SQLite driver waits for a lock: lastmile's writers wait up to
/// 10 s for one another, so FreeRADIUS waits three times that before giving up.
pub const SQLITE_BUSY_TIMEOUT_MS: u32 = 30_000;
const _: () = assert!(SQLITE_BUSY_TIMEOUT_MS > 10_000);

/// The FreeRADIUS tables lastmile keeps, by the `rlm_sql` setting naming each.
pub const TABLES: &[(&str, &str)] = &[
    ("acct_table1", "radacct"),
    ("acct_table2", "radacct"),
    ("postauth_table", "radpostauth"),
    ("authcheck_table", "radcheck"),
    ("groupcheck_table", "radgroupcheck"),
    ("authreply_table", "radreply"),
    ("groupreply_table", "radgroupreply"),
    ("usergroup_table", "radusergroup"),
    ("client_table", "nas"),
];

/// A login FreeRADIUS uses instead of the database URL's.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    /// The role.
    pub user: String,
    /// Its password.
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A FreeRADIUS configuration string: single quotes take no `${...}` expansion.
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// lastmile's `mods-available/sql` for `target`, logging in as `login` on PostgreSQL.
pub fn sql_module(target: &Target, login: &Login) -> String {
    let mut text = String::from(
        "# rlm_sql pointed at lastmile's database. Written by `lastmile radius freeradius-config`;\n\
         # regenerate it rather than editing it.\n\
         sql {\n",
    );
    text.push_str(&format!(
        "\tdialect = \"{}\"\n\tdriver = \"rlm_sql_${{dialect}}\"\n\n",
        target.dialect()
    ));
    match target {
        Target::Sqlite { file } => {
            text.push_str(&format!(
                "\tsqlite {{\n\t\t# lastmile's own database file (no bootstrap: lastmile creates the schema).\n\
                 \t\tfilename = {}\n\t\t# Above lastmile's 10 s write-lock wait, in milliseconds.\n\
                 \t\tbusy_timeout = {SQLITE_BUSY_TIMEOUT_MS}\n\t}}\n\n",
                quote(&file.display().to_string())
            ));
        }
        Target::Postgres {
            host,
            port,
            database,
            ..
        } => {
            text.push_str(&format!(
                "\tserver = {}\n\tport = {port}\n\tlogin = {}\n\tpassword = {}\n\tradius_db = {}\n\n\
                 \tpostgresql {{\n\t\tsend_application_name = yes\n\t}}\n\n",
                quote(host),
                quote(&login.user),
                quote(&login.password),
                quote(database),
            ));
        }
    }
    for (setting, table) in TABLES {
        text.push_str(&format!("\t{setting} = \"{table}\"\n"));
    }
    text.push_str(
        "\n\tdelete_stale_sessions = yes\n\
         \t# Routers are rows of `nas`, looked up when they send (clients.conf and the\n\
         \t# lastmile_clients server), never read once at start-up.\n\
         \tread_clients = no\n\
         \tgroup_attribute = \"SQL-Group\"\n\n\
         \tpool {\n\
         \t\tstart = ${thread[pool].start_servers}\n\
         \t\tmin = ${thread[pool].min_spare_servers}\n\
         \t\tmax = ${thread[pool].max_servers}\n\
         \t\tspare = ${thread[pool].max_spare_servers}\n\
         \t\tuses = 0\n\
         \t\tretry_delay = 30\n\
         \t\tlifetime = 0\n\
         \t\tidle_timeout = 60\n\
         \t}\n\n\
         \t$INCLUDE ${modconfdir}/${.:name}/main/${dialect}/queries.conf\n\
         }\n",
    );
    text
}

/// lastmile's `clients.conf`: no client of its own. Every address may be a router; one not
/// known yet is looked up in `nas` by the `lastmile_clients` server and kept `lifetime`
/// seconds, then looked up again, so routers added, re-keyed or removed in lastmile take
/// effect within `lifetime` without a restart. An address not in `nas` gets no answer.
pub fn clients_conf(lifetime: u32) -> String {
    let lifetime = lifetime.max(1);
    format!(
        "# RADIUS clients of lastmile. Written by `lastmile radius freeradius-config`;\n\
         # regenerate it rather than editing it. Routers are rows of lastmile's `nas` table:\n\
         # an address sending for the first time is looked up there (sites-enabled/lastmile-clients)\n\
         # and kept {lifetime} s, then looked up again. An address not in `nas` is ignored.\n\
         # A static client defined here would shadow its router's row: define none.\n\
         client lastmile_ipv4 {{\n\
         \tipaddr = 0.0.0.0/0\n\
         \tdynamic_clients = lastmile_clients\n\
         \tlifetime = {lifetime}\n\
         }}\n\
         client lastmile_ipv6 {{\n\
         \tipv6addr = ::/0\n\
         \tdynamic_clients = lastmile_clients\n\
         \tlifetime = {lifetime}\n\
         }}\n"
    )
}

/// The server that defines a router from its `nas` row (the secret, the short name and the
/// type), for the address it sends from; nothing for an address not there.
pub const CLIENTS_SITE: &str = "# Routers as RADIUS clients, from lastmile's `nas` table. Written by\n\
# `lastmile radius freeradius-config`; regenerate it rather than editing it.\n\
server lastmile_clients {\n\
\tauthorize {\n\
\t\tif (&Packet-Src-IP-Address) {\n\
\t\t\tif (\"%{sql:SELECT COUNT(*) FROM nas WHERE nasname = '%{Packet-Src-IP-Address}'}\" == 1) {\n\
\t\t\t\tupdate control {\n\
\t\t\t\t\t&FreeRADIUS-Client-IP-Address = \"%{Packet-Src-IP-Address}\"\n\
\t\t\t\t\t&FreeRADIUS-Client-Secret = \"%{sql:SELECT secret FROM nas WHERE nasname = '%{Packet-Src-IP-Address}'}\"\n\
\t\t\t\t\t&FreeRADIUS-Client-Shortname = \"%{sql:SELECT shortname FROM nas WHERE nasname = '%{Packet-Src-IP-Address}'}\"\n\
\t\t\t\t\t&FreeRADIUS-Client-NAS-Type = \"other\"\n\
\t\t\t\t}\n\
\t\t\t\tok\n\
\t\t\t}\n\
\t\t}\n\
\t\telsif (&Packet-Src-IPv6-Address) {\n\
\t\t\tif (\"%{sql:SELECT COUNT(*) FROM nas WHERE nasname = '%{Packet-Src-IPv6-Address}'}\" == 1) {\n\
\t\t\t\tupdate control {\n\
\t\t\t\t\t&FreeRADIUS-Client-IPv6-Address = \"%{Packet-Src-IPv6-Address}\"\n\
\t\t\t\t\t&FreeRADIUS-Client-Secret = \"%{sql:SELECT secret FROM nas WHERE nasname = '%{Packet-Src-IPv6-Address}'}\"\n\
\t\t\t\t\t&FreeRADIUS-Client-Shortname = \"%{sql:SELECT shortname FROM nas WHERE nasname = '%{Packet-Src-IPv6-Address}'}\"\n\
\t\t\t\t\t&FreeRADIUS-Client-NAS-Type = \"other\"\n\
\t\t\t\t}\n\
\t\t\t\tok\n\
\t\t\t}\n\
\t\t}\n\
\t}\n\
}\n";

fn sql_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn sql_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The PostgreSQL script creating (or updating) the role FreeRADIUS logs in as: it reads the
/// tables it authorizes from and writes only accounting, post-auth and NAS reloads.
pub fn role_sql(login: &Login, database: &str) -> String {
    let role = sql_identifier(&login.user);
    format!(
        "-- The PostgreSQL role FreeRADIUS logs in as: it reads what it authorizes from and\n\
         -- writes only accounting, the post-auth log and NAS reloads. Run as the owner of\n\
         -- lastmile's tables (or a superuser); running it again resets the password and grants.\n\
         DO $$\n\
         BEGIN\n\
         \x20   IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {name}) THEN\n\
         \x20       CREATE ROLE {role} LOGIN;\n\
         \x20   END IF;\n\
         END\n\
         $$;\n\
         ALTER ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {password};\n\
         GRANT CONNECT ON DATABASE {database} TO {role};\n\
         GRANT USAGE ON SCHEMA public TO {role};\n\
         REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role};\n\
         GRANT SELECT ON radcheck, radreply, radgroupcheck, radgroupreply, radusergroup, nas TO {role};\n\
         GRANT SELECT, INSERT, UPDATE ON radacct, nasreload TO {role};\n\
         GRANT INSERT ON radpostauth TO {role};\n\
         GRANT USAGE ON SEQUENCE radacct_radacctid_seq, radpostauth_id_seq TO {role};\n",
        name = sql_literal(&login.user),
        password = sql_literal(&login.password),
        database = sql_identifier(database),
    )
}

/// Sets `raddbdir` in `radiusd.conf` to `dir`, so every `$INCLUDE` reads the copy.
pub fn set_raddbdir(text: &str, dir: &Path) -> Result<String, &'static str> {
    let mut found = false;
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let code = line.trim_start();
            if !found && code.starts_with("raddbdir") && code.contains('=') {
                found = true;
                format!("raddbdir = {}", dir.display())
            } else {
                line.to_owned()
            }
        })
        .collect();
    if found {
        Ok(lines.join("\n") + "\n")
    } else {
        Err("no `raddbdir =` line")
    }
}

/// Uncomments `sql` in the `session {}` section (Simultaneous-Use counts open sessions in
/// `radacct` only when it is there).
pub fn enable_session_sql(text: &str) -> Result<String, &'static str> {
    let mut out = Vec::new();
    let mut in_session = false;
    let mut depth = 0i32;
    let mut done = false;
    for line in text.lines() {
        let code = line.split('#').next().unwrap_or_default();
        if !in_session && !done && code.trim() == "session {" {
            in_session = true;
            depth = 0;
        }
        if in_session {
            let bare = line.trim();
            if bare == "sql" {
                done = true;
            } else if bare.trim_start_matches('#').trim() == "sql" && !done {
                out.push("\tsql".to_owned());
                done = true;
                continue;
            }
            depth += code.matches('{').count() as i32 - code.matches('}').count() as i32;
            if depth == 0 {
                in_session = false;
            }
        }
        out.push(line.to_owned());
    }
    if done {
        Ok(out.join("\n") + "\n")
    } else {
        Err("no `sql` line in the `session {}` section")
    }
}

/// The password expression of the stock post-auth query.
const POSTAUTH_PASSWORD: &str = "'%{%{User-Password}:-%{Chap-Password}}'";

/// Makes the post-auth query store `replacement` (`''` or `NULL`) instead of the password.
pub fn postauth_without_password(text: &str, replacement: &str) -> Result<String, &'static str> {
    if text.contains(POSTAUTH_PASSWORD) {
        Ok(text.replace(POSTAUTH_PASSWORD, replacement))
    } else {
        Err("the post-auth query's password expression was not found")
    }
}

/// The SQLite dialect's `simul_verify_query` compares the user name with the group
/// attribute, which is empty: Simultaneous-Use would never be verified.
pub fn fix_sqlite_simul_verify(text: &str) -> Result<String, &'static str> {
    let wrong = "WHERE username = '%{${group_attribute}}'";
    if text.contains(wrong) {
        Ok(text.replace(wrong, "WHERE username = '%{SQL-User-Name}'"))
    } else if text.contains("simul_verify_query") {
        // Already fixed upstream: leave it.
        Ok(text.to_owned())
    } else {
        Err("no simul_verify_query")
    }
}

/// The SQLite counters read `acctstarttime`, an integer epoch in that dialect, through
/// `strftime('%s', ...)` (NULL for an integer), and call `GREATEST` and `NOW()`, which SQLite
/// does not have.
pub fn fix_sqlite_counter(text: &str) -> String {
    text.replace("strftime('%%s', acctstarttime)", "acctstarttime")
        .replace("strftime('%%s', NOW())", "strftime('%%s', 'now')")
        .replace("GREATEST(", "MAX(")
}

/// The README written beside the configuration.
pub fn readme(target: &Target, from: &Path, out: &Path, login: Option<&Login>) -> String {
    let mut text = format!(
        "FreeRADIUS configuration for lastmile\n\
         =====================================\n\n\
         Written by `lastmile radius freeradius-config` from {from} (FreeRADIUS 3.2) for lastmile's\n\
         {dialect} database. Regenerate it after upgrading FreeRADIUS or moving the database.\n\n\
         Run it:  freeradius -X -d {out}     (debug, foreground)\n\
         or point the service at it (Debian: `-d {out}` in the unit's ExecStart, or replace\n\
         /etc/freeradius/3.0 with this directory and regenerate there).\n\n\
         What differs from the installed configuration:\n\
         - mods-available/sql is lastmile's (linked from mods-enabled/sql): the {dialect} driver,\n\
         \x20 lastmile's database, every table name; read_clients = no.\n\
         - clients.conf and sites-enabled/lastmile-clients: routers are looked up in the `nas`\n\
         \x20 table when they first send and again after their lifetime, so a router added,\n\
         \x20 re-keyed or removed in lastmile takes effect without a restart.\n\
         - radiusd.conf: raddbdir is this directory.\n\
         - sites-available/default: `sql` in session {{}} (Simultaneous-Use).\n\
         - mods-config/sql/main/*/queries.conf: the post-auth log stores no password.\n\
         - mods-config/sql/main/sqlite/queries.conf: simul_verify_query uses the user name.\n\
         - mods-config/sql/counter/sqlite/*.conf: epoch times read as integers; MAX for GREATEST.\n\n\
         Routers are the `nas` rows lastmile writes. FreeRADIUS serves a new router from its\n\
         first request, and a changed secret or a removed router after the client lifetime\n\
         (--client-lifetime, in clients.conf). Clients of your own belong in `nas` too: a\n\
         client defined in clients.conf would shadow a router's row.\n",
        from = from.display(),
        out = out.display(),
        dialect = target.dialect(),
    );
    match target {
        Target::Sqlite { file } => text.push_str(&format!(
            "\nSQLite: FreeRADIUS runs as its own user (freerad on Debian) and writes accounting\n\
             into {file}: that user needs to read and write the file and its directory\n\
             (for the -wal and -shm files), e.g. a shared group with mode g+rw.\n",
            file = file.display()
        )),
        Target::Postgres { database, .. } => match login {
            Some(login) => text.push_str(&format!(
                "\nPostgreSQL: FreeRADIUS logs in as the role {user}. Create it (or reset its\n\
                 password and grants) as the owner of lastmile's tables:\n\
                 \x20 psql -d {database} -f {out}/lastmile-freeradius-role.sql\n",
                user = login.user,
                out = out.display(),
            )),
            None => text.push_str(&format!(
                "\nPostgreSQL: FreeRADIUS logs in with lastmile's own credentials. To give it\n\
                 only what it needs, run lastmile-freeradius-role.sql as the owner of lastmile's\n\
                 tables (psql -d {database} -f {out}/lastmile-freeradius-role.sql) and regenerate\n\
                 with --db-user lastmile_freeradius --db-password <the password in that file>.\n",
                out = out.display(),
            )),
        },
    }
    text
}

#[cfg(test)]
#[path = "freeradius_edit_tests.rs"]
mod tests;
