//! Backups and restores of the relay's database (`onsite-relay backup|restore`,
//! `docs/deploy.md`), and the database's epoch that tells devices a restore happened.
//!
//! A backup is one consistent moment of the whole database — documents, the numbered change log,
//! accounts, tokens, the outbox and the attachments (photos and signature images are rows of the
//! database, so they are in the same copy). SQLite: `VACUUM INTO` from the live file; PostgreSQL:
//! `pg_dump --format=custom` (one snapshot: the feed's locked head row makes it gap-free).
//!
//! The hazard of every restore: devices that synced after the backup hold a feed cursor the
//! restored relay has not reached (or will reach with other changes under the same numbers), and
//! what they uploaded since is missing. So the database carries an epoch (relay key
//! [`EPOCH_KEY`], 16 random bytes), returned in every `SyncResponse`: every restore gives the
//! database a fresh one (and a SQLite backup copy already has its own), and a device that meets an epoch other than the one
//! it stored re-reads its feed from the start and sends everything it wrote again
//! (`onsite_client`). Restoring the same backup twice gives two epochs, so even a device that
//! synced with the first restore resumes against the second.

use std::path::{Path, PathBuf};
use std::process::Command;

use rand::RngCore;

use crate::RelayStorage;
use crate::sqlite::backup as file;
use crate::storage::{Database, StorageError};

/// Name of the database epoch in `relay_keys`.
pub const EPOCH_KEY: &str = "database_epoch";

/// A backup or restore failed; the database it read from is unchanged.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0} already exists; a backup never overwrites a file — choose a new name")]
    Exists(PathBuf),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cannot run {program} ({source}); install PostgreSQL's client programs of the server's major version (Debian: postgresql-client)"
    )]
    Program {
        program: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{program} failed ({status}): {stderr}")]
    Failed {
        program: &'static str,
        status: std::process::ExitStatus,
        stderr: String,
    },
}

/// What a backup or restore holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The newest change's number in the copy, and how many changes it holds (not known of a
    /// PostgreSQL dump until it is restored).
    pub head: Option<u64>,
    pub changes: Option<u64>,
    /// The epoch devices will see from a relay on the copy (a fresh one); a PostgreSQL dump gets
    /// its own when it is restored.
    pub epoch: Option<String>,
    /// SQLite only: documents and attachments counted in the checked file.
    pub documents: Option<u64>,
    pub attachments: Option<u64>,
}

fn fresh_epoch() -> [u8; 16] {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b
}

/// The database's epoch (made on first use), as devices see it.
pub fn epoch(storage: &dyn RelayStorage, now_ms: i64) -> Result<String, StorageError> {
    Ok(hex::encode(storage.relay_key(
        EPOCH_KEY,
        &fresh_epoch(),
        now_ms,
    )?))
}

/// Give the database a new epoch: every device resumes as after a restore at its next sync.
pub fn renew_epoch(storage: &dyn RelayStorage, now_ms: i64) -> Result<String, StorageError> {
    let e = fresh_epoch();
    storage.replace_relay_key(EPOCH_KEY, &e, now_ms)?;
    Ok(hex::encode(e))
}

/// Back up the database `setting` names into the new file `to`, while relays keep serving it.
pub fn backup(setting: &Path, to: &Path, now_ms: i64) -> Result<Summary, BackupError> {
    if to.exists() {
        return Err(BackupError::Exists(to.to_owned()));
    }
    let part = with_suffix(to, ".part");
    let _ = std::fs::remove_file(&part);
    let summary = match Database::of(setting) {
        Database::Sqlite(db) => sqlite_backup(db, &part, now_ms),
        Database::Postgres(url) => pg_dump(url, &part).map(|()| Summary {
            head: None,
            changes: None,
            epoch: None,
            documents: None,
            attachments: None,
        }),
    };
    let summary = summary.inspect_err(|_| {
        let _ = std::fs::remove_file(&part);
    })?;
    durable_rename(&part, to)?;
    Ok(summary)
}

fn sqlite_backup(db: &Path, part: &Path, now_ms: i64) -> Result<Summary, BackupError> {
    file::copy_live(db, part)?;
    let summary = stamped(part, now_ms)?;
    let counts = file::seal(part)?;
    Ok(Summary {
        documents: Some(counts.documents),
        attachments: Some(counts.attachments),
        ..summary
    })
}

/// Open the relay database at `db` (migrating it if it is older), give it a fresh epoch and say
/// what it holds.
fn stamped(db: &Path, now_ms: i64) -> Result<Summary, BackupError> {
    let storage = crate::sqlite::SqliteStorage::open(db)?;
    Ok(Summary {
        head: Some(storage.head_seq()?),
        changes: Some(storage.change_count()?),
        epoch: Some(renew_epoch(&storage, now_ms)?),
        documents: None,
        attachments: None,
    })
}

fn pg_dump(url: &str, part: &Path) -> Result<(), BackupError> {
    let mut cmd = Command::new("pg_dump");
    cmd.args(["--format=custom", "--no-owner", "--no-privileges"])
        .arg(format!("--file={}", part.display()))
        .arg(format!("--dbname={url}"));
    run("pg_dump", cmd)
}

fn pg_restore(from: &Path, url: &str) -> Result<(), BackupError> {
    let mut cmd = Command::new("pg_restore");
    cmd.args([
        "--exit-on-error",
        "--single-transaction",
        "--no-owner",
        "--no-privileges",
    ])
    .arg(format!("--dbname={url}"))
    .arg(from);
    run("pg_restore", cmd)
}

fn run(program: &'static str, mut cmd: Command) -> Result<(), BackupError> {
    let out = cmd
        .output()
        .map_err(|source| BackupError::Program { program, source })?;
    if out.status.success() {
        return Ok(());
    }
    Err(BackupError::Failed {
        program,
        status: out.status,
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    })
}

/// Restore the backup `from` into the database `setting` names (no relay may be serving it),
/// then give it a fresh epoch. `from: None` only renews the epoch: for a database restored by
/// other means (a volume snapshot, `pg_restore` run by hand, PITR).
pub fn restore(setting: &Path, from: Option<&Path>, now_ms: i64) -> Result<Summary, BackupError> {
    match (Database::of(setting), from) {
        (Database::Sqlite(db), Some(from)) => {
            file::check(from)?;
            file::copy_back(from, db)?;
        }
        (Database::Postgres(url), Some(from)) => pg_restore(from, url)?,
        (_, None) => {}
    }
    let storage = crate::storage::open(setting)?;
    Ok(Summary {
        head: Some(storage.head_seq()?),
        changes: Some(storage.change_count()?),
        epoch: Some(renew_epoch(storage.as_ref(), now_ms)?),
        documents: None,
        attachments: None,
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// `part` → `to`, flushed to disk first so a crash never leaves a half-written backup by the
/// final name.
fn durable_rename(part: &Path, to: &Path) -> Result<(), BackupError> {
    let io = |source| BackupError::Io {
        path: to.to_owned(),
        source,
    };
    std::fs::File::open(part)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    std::fs::rename(part, to).map_err(io)?;
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
    }
    Ok(())
}
