//! Backups: the file `lastmile backup` writes and `lastmile restore` reads back, and the
//! scheduled copies ([`Schedule`], `[backup]`). One gzip-compressed tar archive holding, in
//! this order:
//!
//! - `manifest.json` ([`Manifest`]): the format, lastmile's version, when it was taken, the
//!   engine, and each other entry's size and SHA-256;
//! - `secret.key`: the keyring that seals the database's secrets (the configured one, or
//!   the data directory's file); without it a copy of the database cannot open a sealed
//!   value, so the two travel together, and the archive is as secret as the keyring (it is
//!   written readable by its owner only);
//! - on SQLite, `lastmile.db`: a consistent copy taken while writers carry on (`VACUUM
//!   INTO` reads one snapshot): every write acknowledged before the backup started is in
//!   it. A PostgreSQL database is copied with `pg_dump`; its archive holds the keyring
//!   and the manifest, and the command says how.
//!
//! A restore goes only into an empty place: no database file where the configuration
//! puts it, and no other keyring. The archive's entries are checked against the manifest
//! as they are read (unknown entries, sizes and digests refused), the copy is moved in
//! whole, then opened: SQLite's integrity check, the migrations of this version, and the
//! ledger's and the RADIUS rows' own checks, whose report the restore gives back.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::config::Config;
use store::crypto::Keyring;

/// The archive format this version writes and reads.
pub const FORMAT: u32 = 1;

/// The database entry's name.
const DATABASE: &str = "lastmile.db";
/// The keyring entry's name.
const KEYRING: &str = "secret.key";
/// The manifest entry's name.
const MANIFEST: &str = "manifest.json";
/// The largest keyring or manifest read back.
const SMALL_MAX: u64 = 1 << 20;

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: u32,
    /// The lastmile that took it.
    pub version: String,
    /// When.
    pub taken_at: DateTime<Utc>,
    /// `sqlite` or `postgres`.
    pub engine: String,
    /// The database copy (SQLite only).
    pub database: Option<Entry>,
    /// The keyring.
    pub keyring: Entry,
}

/// One file of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// Why a backup or a restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// A file could not be read or written.
    #[error("{0}")]
    Files(String),
    /// The database refused.
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
    /// Not an archive of this format, or one that does not match its manifest.
    #[error("not a lastmile backup this version reads: {0}")]
    Invalid(String),
    /// The place to restore into is not empty, or the engine is not the archive's.
    #[error("{0}")]
    Refused(String),
}

fn files(what: &str, path: &Path, error: &io::Error) -> BackupError {
    BackupError::Files(format!("cannot {what} {}: {error}", path.display()))
}

/// A backup written.
#[derive(Debug)]
pub struct Taken {
    /// Its manifest.
    pub manifest: Manifest,
    /// The archive's size.
    pub bytes: u64,
    /// How long it took.
    pub took: Duration,
}

/// The keyring text of `config`: the configured keys, else the data directory's file.
pub fn keyring_text(config: &Config) -> Result<String, BackupError> {
    if !config.security.secret_keys.trim().is_empty() {
        return Ok(config.security.secret_keys.clone());
    }
    let path = config.data_dir.join(KEYRING);
    std::fs::read_to_string(&path).map_err(|e| files("read", &path, &e))
}

/// The SQLite file `config` uses, or `None` on PostgreSQL.
pub fn sqlite_path(config: &Config) -> Option<PathBuf> {
    match aaa::dburl::parse(&config.database_url()) {
        Ok(aaa::dburl::Target::Sqlite { file }) => Some(file),
        _ => None,
    }
}

/// A file created for writing, readable by its owner only.
fn private_file(path: &Path) -> Result<File, BackupError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| files("create", path, &e))
}

/// Size and SHA-256 of the file at `path`.
fn digest_file(path: &Path) -> Result<Entry, BackupError> {
    let mut file = File::open(path).map_err(|e| files("read", path, &e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| files("read", path, &e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok(Entry {
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}

fn digest(bytes: &[u8]) -> Entry {
    Entry {
        bytes: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
    }
}

fn header(name: &str, bytes: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    let _ = header.set_path(name);
    header.set_size(bytes);
    header.set_mode(0o600);
    header.set_mtime(0);
    header.set_cksum();
    header
}

/// Takes a backup of `db` (opened with `config`) to `out`, which must not exist: written
/// beside it under a temporary name and moved into place whole.
pub async fn take(
    config: &Config,
    db: &store::Db,
    out: &Path,
    now: DateTime<Utc>,
) -> Result<Taken, BackupError> {
    let started = Instant::now();
    if out.exists() {
        return Err(BackupError::Refused(format!(
            "{} exists: a backup never overwrites a file",
            out.display()
        )));
    }
    let partial = PathBuf::from(format!("{}.partial", out.display()));
    let copy = PathBuf::from(format!("{}.db.partial", out.display()));
    for stale in [&partial, &copy] {
        if stale.exists() {
            std::fs::remove_file(stale).map_err(|e| files("remove", stale, &e))?;
        }
    }
    let keyring = keyring_text(config)?;
    let sqlite = db.backend() == store::Backend::Sqlite;
    if sqlite {
        db.snapshot_into(&copy).await?;
    }
    let written = (|| {
        let database = if sqlite {
            Some(digest_file(&copy)?)
        } else {
            None
        };
        let manifest = Manifest {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            taken_at: now,
            engine: if sqlite { "sqlite" } else { "postgres" }.to_owned(),
            database,
            keyring: digest(keyring.as_bytes()),
        };
        let json =
            serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Files(e.to_string()))?;
        let file = private_file(&partial)?;
        let mut archive = tar::Builder::new(GzEncoder::new(file, Compression::fast()));
        let io = |e: io::Error| files("write", &partial, &e);
        archive
            .append(&header(MANIFEST, json.len() as u64), json.as_slice())
            .map_err(io)?;
        archive
            .append(&header(KEYRING, keyring.len() as u64), keyring.as_bytes())
            .map_err(io)?;
        if let Some(entry) = &manifest.database {
            let db_file = File::open(&copy).map_err(|e| files("read", &copy, &e))?;
            archive
                .append(&header(DATABASE, entry.bytes), db_file)
                .map_err(io)?;
        }
        let file = archive.into_inner().map_err(io)?.finish().map_err(io)?;
        file.sync_all().map_err(io)?;
        let bytes = file.metadata().map_err(io)?.len();
        std::fs::rename(&partial, out).map_err(|e| files("move into place", out, &e))?;
        Ok((manifest, bytes))
    })();
    if copy.exists() {
        let _ = std::fs::remove_file(&copy);
    }
    let (manifest, bytes) = match written {
        Ok(done) => done,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    Ok(Taken {
        manifest,
        bytes,
        took: started.elapsed(),
    })
}

/// What a restore put in place.
#[derive(Debug)]
pub struct Restored {
    /// The archive's manifest.
    pub manifest: Manifest,
    /// Where the database went (SQLite).
    pub database: Option<PathBuf>,
    /// Where the keyring went (none when the configuration names the keys).
    pub keyring: Option<PathBuf>,
}

/// Reads `size` bytes of an entry into memory, checked against `entry`.
fn read_small(
    mut from: impl Read,
    name: &str,
    entry: Option<&Entry>,
) -> Result<Vec<u8>, BackupError> {
    let mut bytes = Vec::new();
    from.by_ref()
        .take(SMALL_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| BackupError::Invalid(format!("{name}: {e}")))?;
    if bytes.len() as u64 > SMALL_MAX {
        return Err(BackupError::Invalid(format!("{name} is too large")));
    }
    if let Some(entry) = entry
        && digest(&bytes) != *entry
    {
        return Err(BackupError::Invalid(format!(
            "{name} does not match the manifest"
        )));
    }
    Ok(bytes)
}

/// Restores `file` for `config` (see the module documentation); the database is not
/// opened here.
pub fn unpack(config: &Config, file: &Path) -> Result<Restored, BackupError> {
    let archive_file = File::open(file).map_err(|e| files("read", file, &e))?;
    let mut archive = tar::Archive::new(GzDecoder::new(archive_file));
    let mut entries = archive
        .entries()
        .map_err(|e| BackupError::Invalid(e.to_string()))?;
    let mut next = |want: &str| -> Result<tar::Entry<'_, GzDecoder<File>>, BackupError> {
        let entry = entries
            .next()
            .ok_or_else(|| BackupError::Invalid(format!("{want} is missing")))?
            .map_err(|e| BackupError::Invalid(e.to_string()))?;
        let name = entry
            .path()
            .map_err(|e| BackupError::Invalid(e.to_string()))?
            .to_string_lossy()
            .into_owned();
        if name != want {
            return Err(BackupError::Invalid(format!("{name} where {want} belongs")));
        }
        Ok(entry)
    };
    let manifest = read_small(next(MANIFEST)?, MANIFEST, None)?;
    let manifest: Manifest = serde_json::from_slice(&manifest)
        .map_err(|e| BackupError::Invalid(format!("{MANIFEST}: {e}")))?;
    if manifest.format != FORMAT {
        return Err(BackupError::Invalid(format!(
            "format {} (this version reads {FORMAT})",
            manifest.format
        )));
    }
    let keyring = read_small(next(KEYRING)?, KEYRING, Some(&manifest.keyring))?;
    let keyring = String::from_utf8(keyring)
        .map_err(|_| BackupError::Invalid(format!("{KEYRING} is not text")))?;
    let archived =
        Keyring::parse(&keyring).map_err(|e| BackupError::Invalid(format!("{KEYRING}: {e}")))?;

    // Where it goes: nothing there already.
    let target = sqlite_path(config);
    if manifest.database.is_some() && target.is_none() {
        return Err(BackupError::Refused(
            "this backup is of a SQLite database; the configuration names PostgreSQL".into(),
        ));
    }
    if let Some(path) = &target
        && manifest.database.is_some()
    {
        for taken in [
            path.clone(),
            PathBuf::from(format!("{}-wal", path.display())),
        ] {
            if taken.exists() {
                return Err(BackupError::Refused(format!(
                    "{} exists: a backup is restored only where there is no database",
                    taken.display()
                )));
            }
        }
    }
    let configured = !config.security.secret_keys.trim().is_empty();
    let key_path = config.data_dir.join(KEYRING);
    if configured {
        let same = Keyring::parse(&config.security.secret_keys)
            .is_ok_and(|configured| configured.same_keys(&archived));
        if !same {
            return Err(BackupError::Refused(
                "the configured keyring is not the backup's: its secrets would not open".into(),
            ));
        }
    } else if key_path.exists() {
        let present =
            std::fs::read_to_string(&key_path).map_err(|e| files("read", &key_path, &e))?;
        if !Keyring::parse(&present).is_ok_and(|present| present.same_keys(&archived)) {
            return Err(BackupError::Refused(format!(
                "{} holds another keyring: a backup is restored only into an empty data directory",
                key_path.display()
            )));
        }
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|e| files("create", &config.data_dir, &e))?;

    // The database, checked as it is written, then moved in whole.
    let database = match (&manifest.database, target) {
        (Some(expected), Some(path)) => {
            let mut entry = next(DATABASE)?;
            let partial = PathBuf::from(format!("{}.restoring", path.display()));
            if partial.exists() {
                std::fs::remove_file(&partial).map_err(|e| files("remove", &partial, &e))?;
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| files("create", parent, &e))?;
            }
            let copied = (|| {
                let mut out = private_file(&partial)?;
                let mut hasher = Sha256::new();
                let mut buffer = vec![0u8; 1 << 16];
                let mut bytes = 0u64;
                loop {
                    let n = entry
                        .read(&mut buffer)
                        .map_err(|e| BackupError::Invalid(format!("{DATABASE}: {e}")))?;
                    if n == 0 {
                        break;
                    }
                    bytes += n as u64;
                    if bytes > expected.bytes {
                        return Err(BackupError::Invalid(format!(
                            "{DATABASE} is longer than its manifest says"
                        )));
                    }
                    hasher.update(&buffer[..n]);
                    out.write_all(&buffer[..n])
                        .map_err(|e| files("write", &partial, &e))?;
                }
                let got = Entry {
                    bytes,
                    sha256: hex::encode(hasher.finalize()),
                };
                if got != *expected {
                    return Err(BackupError::Invalid(format!(
                        "{DATABASE} does not match the manifest"
                    )));
                }
                out.sync_all().map_err(|e| files("write", &partial, &e))
            })();
            if let Err(error) = copied {
                let _ = std::fs::remove_file(&partial);
                return Err(error);
            }
            std::fs::rename(&partial, &path).map_err(|e| files("move into place", &path, &e))?;
            Some(path)
        }
        _ => None,
    };
    let keyring_path = if configured || key_path.exists() {
        None
    } else {
        let mut out = private_file(&key_path)?;
        out.write_all(keyring.as_bytes())
            .and_then(|()| out.sync_all())
            .map_err(|e| files("write", &key_path, &e))?;
        Some(key_path)
    };
    Ok(Restored {
        manifest,
        database,
        keyring: keyring_path,
    })
}

/// Scheduled backups: a copy into `dir` each period of `every_seconds`, named by the
/// period's start (`lastmile-20261207T000000Z.tar.gz`), the newest `keep` kept.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The configuration (its keyring).
    pub config: Config,
    /// Where the copies go.
    pub dir: PathBuf,
    /// How many are kept.
    pub keep: usize,
    /// The period.
    pub every_seconds: i64,
}

impl Schedule {
    /// The schedule `config` asks for, if any.
    pub fn of(config: &Config) -> Option<Schedule> {
        if config.backup.dir.trim().is_empty() {
            return None;
        }
        Some(Schedule {
            config: config.clone(),
            dir: PathBuf::from(config.backup.dir.trim()),
            keep: usize::try_from(config.backup.keep.max(1)).unwrap_or(1),
            every_seconds: i64::from(config.backup.every_hours.max(1)) * 3600,
        })
    }

    /// The copy of the period holding `now`.
    pub fn file_at(&self, now: DateTime<Utc>) -> PathBuf {
        let start = now.timestamp().div_euclid(self.every_seconds) * self.every_seconds;
        let start = DateTime::from_timestamp(start, 0).unwrap_or(now);
        self.dir.join(format!(
            "lastmile-{}.tar.gz",
            start.format("%Y%m%dT%H%M%SZ")
        ))
    }

    /// Takes the current period's copy unless it exists, then removes the oldest past
    /// `keep`. Returns the copy taken, if one was.
    pub async fn run(
        &self,
        db: &store::Db,
        now: DateTime<Utc>,
    ) -> Result<Option<PathBuf>, BackupError> {
        let out = self.file_at(now);
        if out.exists() {
            return Ok(None);
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| files("create", &self.dir, &e))?;
        take(&self.config, db, &out, now).await?;
        let copies = self.kept()?;
        let extra = copies.len().saturating_sub(self.keep);
        for old in &copies[..extra] {
            std::fs::remove_file(old).map_err(|e| files("remove", old, &e))?;
        }
        Ok(Some(out))
    }

    /// The copies in `dir`, oldest first (their names carry the time, so the name order is
    /// the age order).
    pub fn kept(&self) -> Result<Vec<PathBuf>, BackupError> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map_err(|e| files("read", &self.dir, &e))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("lastmile-") && n.ends_with(".tar.gz"))
            })
            .collect();
        found.sort();
        Ok(found)
    }
}
