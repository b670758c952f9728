//! lastmile's database URL as FreeRADIUS's `rlm_sql` needs it: a SQLite file (absolute, since
//! FreeRADIUS runs from another directory) or a PostgreSQL server, port, login and database.

use std::path::PathBuf;

use percent_encoding::percent_decode_str;

/// Where lastmile's database is, for FreeRADIUS.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// A SQLite file.
    Sqlite {
        /// Its absolute path.
        file: PathBuf,
    },
    /// A PostgreSQL database.
    Postgres {
        /// Host name, address or socket directory.
        host: String,
        /// TCP port.
        port: u16,
        /// The login of the URL.
        user: String,
        /// Its password (may be empty).
        password: String,
        /// The database name.
        database: String,
    },
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Sqlite { file } => f.debug_struct("Sqlite").field("file", file).finish(),
            Target::Postgres {
                host,
                port,
                user,
                database,
                ..
            } => f
                .debug_struct("Postgres")
                .field("host", host)
                .field("port", port)
                .field("user", user)
                .field("database", database)
                .finish_non_exhaustive(),
        }
    }
}

impl Target {
    /// The `rlm_sql` dialect.
    pub fn dialect(&self) -> &'static str {
        match self {
            Target::Sqlite { .. } => "sqlite",
            Target::Postgres { .. } => "postgresql",
        }
    }
}

fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// Parses `sqlite://PATH`, `sqlite:PATH`, `postgres://USER:PASSWORD@HOST:PORT/DB` (or
/// `postgresql://`). A relative SQLite path is made absolute against the current directory.
pub fn parse(url: &str) -> Result<Target, String> {
    let url = url.trim();
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() || path.starts_with(":memory:") {
            return Err("an in-memory SQLite database cannot be shared with FreeRADIUS".into());
        }
        let file = std::path::absolute(decode(path))
            .map_err(|e| format!("cannot resolve the SQLite path {path}: {e}"))?;
        return Ok(Target::Sqlite { file });
    }
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .ok_or_else(|| "expected a sqlite:// or postgres:// URL".to_owned())?;
    let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, database) = main.split_once('/').unwrap_or((main, ""));
    let (credentials, hostport) = match authority.rsplit_once('@') {
        Some((credentials, hostport)) => (credentials, hostport),
        None => ("", authority),
    };
    let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
    let mut host = String::new();
    let mut port = None;
    if let Some(inner) = hostport.strip_prefix('[') {
        // [IPv6]:port
        let (address, after) = inner
            .split_once(']')
            .ok_or_else(|| format!("bad host in {hostport}"))?;
        host = address.to_owned();
        port = after.strip_prefix(':').map(str::to_owned);
    } else if !hostport.is_empty() {
        let (h, p) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.to_owned())),
            None => (hostport, None),
        };
        host = decode(h);
        port = p;
    }
    let mut user = decode(user);
    let mut password = decode(password);
    let mut database = decode(database);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = decode(value);
        match key {
            "host" if host.is_empty() => host = value,
            "port" if port.is_none() => port = Some(value),
            "user" if user.is_empty() => user = value,
            "password" if password.is_empty() => password = value,
            "dbname" if database.is_empty() => database = value,
            _ => {}
        }
    }
    let port = match port.filter(|p| !p.is_empty()) {
        None => 5432,
        Some(p) => p.parse().map_err(|_| format!("bad port {p}"))?,
    };
    if host.is_empty() {
        host = "localhost".to_owned();
    }
    if user.is_empty() {
        return Err("the PostgreSQL URL names no user".into());
    }
    if database.is_empty() {
        database = user.clone();
    }
    Ok(Target::Postgres {
        host,
        port,
        user,
        password,
        database,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_give_their_parts_decoded() {
        let t = parse("postgres://lm:p%40ss%3Aw@db.example:6543/lastmile?sslmode=disable").unwrap();
        assert_eq!(
            t,
            Target::Postgres {
                host: "db.example".into(),
                port: 6543,
                user: "lm".into(),
                password: "p@ss:w".into(),
                database: "lastmile".into(),
            }
        );
        let t = parse("postgresql://postgres@127.0.0.1/x").unwrap();
        assert!(
            matches!(t, Target::Postgres { port: 5432, ref password, .. } if password.is_empty())
        );
        let t = parse("postgres://u@/db?host=/run/postgresql").unwrap();
        assert!(matches!(t, Target::Postgres { ref host, .. } if host == "/run/postgresql"));
        assert!(
            format!("{:?}", parse("postgres://u:secret@h/d").unwrap())
                .find("secret")
                .is_none()
        );
    }

    #[test]
    fn sqlite_urls_give_an_absolute_file() {
        let t = parse("sqlite:///var/lib/lastmile/lastmile.db?mode=rwc").unwrap();
        assert_eq!(
            t,
            Target::Sqlite {
                file: "/var/lib/lastmile/lastmile.db".into()
            }
        );
        let Target::Sqlite { file } = parse("sqlite://data/lastmile.db").unwrap() else {
            panic!("sqlite")
        };
        assert!(file.is_absolute() && file.ends_with("data/lastmile.db"));
        assert!(parse("sqlite::memory:").is_err());
        assert!(parse("mysql://x@y/z").is_err());
    }
}
