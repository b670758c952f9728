//! `lastmile radius freeradius-config`: a FreeRADIUS 3.2 configuration directory pointed at
//! lastmile's database. It starts from the installed configuration (nothing of FreeRADIUS is
//! kept in lastmile), copies it, writes lastmile's `mods-available/sql` and links it, and
//! patches the copied files as `freeradius_edit` says. Called by the command line and by the
//! FreeRADIUS interop tests, so the tests run exactly what operators run.

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt, lchown, symlink};
use std::path::{Path, PathBuf};

use super::dburl::{self, Target};
use super::freeradius_edit::{self as edit, Login};

/// Where Debian and Ubuntu install FreeRADIUS 3.x's configuration.
pub const DEFAULT_FROM: &str = "/etc/freeradius/3.0";

/// The role the generated script creates when no `--db-user` is given.
pub const DEFAULT_ROLE: &str = "lastmile_freeradius";

/// How long FreeRADIUS keeps a router it looked up in `nas` before looking it up again, in
/// seconds: a re-keyed or removed router takes effect within this.
pub const DEFAULT_CLIENT_LIFETIME: u32 = 10;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The installed FreeRADIUS configuration to start from.
    pub from: PathBuf,
    /// The directory to write (absent or empty).
    pub out: PathBuf,
    /// lastmile's database URL.
    pub database_url: String,
    /// The PostgreSQL role FreeRADIUS logs in as, instead of the URL's login.
    pub db_login: Option<Login>,
    /// Seconds FreeRADIUS keeps a router before looking it up in `nas` again.
    pub client_lifetime: u32,
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The directory, absolute.
    pub out: PathBuf,
    /// The files lastmile wrote or changed, relative to `out`.
    pub written: Vec<PathBuf>,
    /// Files of the source that could not be read (permission), relative.
    pub skipped: Vec<PathBuf>,
    /// The owner and group given to the copy (when run as root), else `None`.
    pub owner: Option<(u32, u32)>,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The installed configuration is missing.
    #[error(
        "no FreeRADIUS configuration at {0} (no radiusd.conf): install FreeRADIUS 3.2 \
         (Debian: apt-get install freeradius freeradius-postgresql) or pass --from DIR"
    )]
    NoSource(PathBuf),
    /// The output would mix with existing files.
    #[error("{0} exists and is not empty: choose a new directory or empty it")]
    OutNotEmpty(PathBuf),
    /// The database URL cannot serve FreeRADIUS.
    #[error("the database URL: {0}")]
    Url(String),
    /// A file of the installed configuration is not as expected.
    #[error("{path}: {message}; is this FreeRADIUS 3.2?")]
    Unexpected {
        /// The file.
        path: PathBuf,
        /// What is missing.
        message: &'static str,
    },
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> GenerateError + '_ {
    move |source| GenerateError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Generates the configuration directory (see the module documentation).
pub fn generate(options: &Options) -> Result<Generated, GenerateError> {
    let target = dburl::parse(&options.database_url).map_err(GenerateError::Url)?;
    let from = &options.from;
    if !from.join("radiusd.conf").is_file() {
        return Err(GenerateError::NoSource(from.clone()));
    }
    let out = std::path::absolute(&options.out).map_err(io_error(&options.out))?;
    if out.exists() {
        let mut entries = std::fs::read_dir(&out).map_err(io_error(&out))?;
        if entries.next().is_some() {
            return Err(GenerateError::OutNotEmpty(out));
        }
    }
    std::fs::create_dir_all(&out).map_err(io_error(&out))?;
    let mut generated = Generated {
        out: out.clone(),
        written: Vec::new(),
        skipped: Vec::new(),
        owner: None,
    };
    copy_tree(from, &out, Path::new(""), &mut generated.skipped)?;

    let login = match (&target, &options.db_login) {
        (_, Some(login)) => login.clone(),
        (Target::Postgres { user, password, .. }, None) => Login {
            user: user.clone(),
            password: password.clone(),
        },
        (Target::Sqlite { .. }, None) => Login {
            user: String::new(),
            password: String::new(),
        },
    };
    let mut files = Files {
        out: &out,
        written: &mut generated.written,
    };
    files.edit("radiusd.conf", |t| edit::set_raddbdir(t, &out))?;
    files.write(
        "mods-available/sql",
        &edit::sql_module(&target, &login),
        0o640,
    )?;
    let link = out.join("mods-enabled/sql");
    let _ = std::fs::remove_file(&link);
    symlink("../mods-available/sql", &link).map_err(io_error(&link))?;
    files.note("mods-enabled/sql");
    // Routers are looked up in `nas` when they first send, and again after their lifetime:
    // a router added, re-keyed or removed in lastmile takes effect without a restart.
    files.write(
        "clients.conf",
        &edit::clients_conf(options.client_lifetime),
        0o640,
    )?;
    files.write(
        "sites-available/lastmile-clients",
        edit::CLIENTS_SITE,
        0o640,
    )?;
    let site = out.join("sites-enabled/lastmile-clients");
    let _ = std::fs::remove_file(&site);
    symlink("../sites-available/lastmile-clients", &site).map_err(io_error(&site))?;
    files.note("sites-enabled/lastmile-clients");
    for site in ["sites-available/default", "sites-enabled/default"] {
        let path = out.join(site);
        let is_file = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file());
        if is_file {
            files.edit(site, edit::enable_session_sql)?;
        }
    }
    files.edit_if_present("mods-config/sql/main/sqlite/queries.conf", |t| {
        edit::fix_sqlite_simul_verify(t).and_then(|t| edit::postauth_without_password(&t, "''"))
    })?;
    files.edit_if_present("mods-config/sql/main/postgresql/queries.conf", |t| {
        edit::postauth_without_password(t, "NULL")
    })?;
    let dialect_queries = format!("mods-config/sql/main/{}/queries.conf", target.dialect());
    if !out.join(&dialect_queries).is_file() {
        return Err(GenerateError::Unexpected {
            path: from.join(&dialect_queries),
            message: "missing",
        });
    }
    let counters = out.join("mods-config/sql/counter/sqlite");
    if let Ok(entries) = std::fs::read_dir(&counters) {
        let mut names: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
        names.sort();
        for name in names {
            let relative = Path::new("mods-config/sql/counter/sqlite").join(name);
            files.edit(&relative.to_string_lossy(), |t| {
                Ok(edit::fix_sqlite_counter(t))
            })?;
        }
    }
    let role_login = options.db_login.clone().unwrap_or_else(|| Login {
        user: DEFAULT_ROLE.to_owned(),
        password: store::crypto::random_text(
            domain::network::router::SECRET_CHARS,
            domain::network::router::SECRET_LEN,
        ),
    });
    if let Target::Postgres { database, .. } = &target {
        files.write(
            "lastmile-freeradius-role.sql",
            &edit::role_sql(&role_login, database),
            0o600,
        )?;
    }
    files.write(
        "README",
        &edit::readme(&target, from, &out, options.db_login.as_ref()),
        0o644,
    )?;
    generated.owner = give_to_source_owner(from, &out)?;
    Ok(generated)
}

/// Writes and edits files under `out`, remembering which.
struct Files<'a> {
    out: &'a Path,
    written: &'a mut Vec<PathBuf>,
}

impl Files<'_> {
    fn write(&mut self, relative: &str, text: &str, mode: u32) -> Result<(), GenerateError> {
        let path = self.out.join(relative);
        // A fresh file: the copied one may be a link or have another mode.
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, text).map_err(io_error(&path))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .map_err(io_error(&path))?;
        self.note(relative);
        Ok(())
    }

    fn edit(
        &mut self,
        relative: &str,
        change: impl FnOnce(&str) -> Result<String, &'static str>,
    ) -> Result<(), GenerateError> {
        let path = self.out.join(relative);
        let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        let changed = change(&text).map_err(|message| GenerateError::Unexpected {
            path: path.clone(),
            message,
        })?;
        if changed != text {
            std::fs::write(&path, changed).map_err(io_error(&path))?;
            self.note(relative);
        }
        Ok(())
    }

    fn edit_if_present(
        &mut self,
        relative: &str,
        change: impl FnOnce(&str) -> Result<String, &'static str>,
    ) -> Result<(), GenerateError> {
        if self.out.join(relative).is_file() {
            self.edit(relative, change)
        } else {
            Ok(())
        }
    }

    fn note(&mut self, relative: &str) {
        let relative = PathBuf::from(relative);
        if !self.written.contains(&relative) {
            self.written.push(relative);
        }
    }
}

/// Copies `from/relative` into `to/relative`: directories, files with their modes, links as
/// links. Files the caller may not read are left out and listed.
fn copy_tree(
    from: &Path,
    to: &Path,
    relative: &Path,
    skipped: &mut Vec<PathBuf>,
) -> Result<(), GenerateError> {
    let dir = from.join(relative);
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map_err(io_error(&dir))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = relative.join(entry.file_name());
        let source = from.join(&name);
        let target = to.join(&name);
        let meta = std::fs::symlink_metadata(&source).map_err(io_error(&source))?;
        if meta.file_type().is_symlink() {
            let points_to = std::fs::read_link(&source).map_err(io_error(&source))?;
            symlink(&points_to, &target).map_err(io_error(&target))?;
        } else if meta.is_dir() {
            std::fs::create_dir(&target).map_err(io_error(&target))?;
            std::fs::set_permissions(&target, meta.permissions()).map_err(io_error(&target))?;
            copy_tree(from, to, &name, skipped)?;
        } else if meta.is_file() {
            match std::fs::copy(&source, &target) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                    let _ = std::fs::remove_file(&target);
                    skipped.push(name);
                }
                Err(e) => return Err(io_error(&source)(e)),
            }
        }
    }
    Ok(())
}

/// Run as root, the copy is given to the owner of the source (FreeRADIUS's user: `freerad`
/// on Debian), which FreeRADIUS reads it as after dropping privileges. Run as another user,
/// the files stay that user's.
fn give_to_source_owner(from: &Path, out: &Path) -> Result<Option<(u32, u32)>, GenerateError> {
    let mine = std::fs::metadata(out).map_err(io_error(out))?;
    if mine.uid() != 0 {
        return Ok(None);
    }
    let source = std::fs::metadata(from).map_err(io_error(from))?;
    let owner = (source.uid(), source.gid());
    if owner == (0, 0) {
        return Ok(None);
    }
    chown_tree(out, owner)?;
    Ok(Some(owner))
}

fn chown_tree(path: &Path, (uid, gid): (u32, u32)) -> Result<(), GenerateError> {
    lchown(path, Some(uid), Some(gid)).map_err(io_error(path))?;
    let meta = std::fs::symlink_metadata(path).map_err(io_error(path))?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io_error(path))?.flatten() {
            chown_tree(&entry.path(), (uid, gid))?;
        }
    }
    Ok(())
}
