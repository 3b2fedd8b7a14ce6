//! The SQLite file's side of backups and restores (`crate::backup`): a consistent copy of a live
//! database (`VACUUM INTO`: one read transaction, so writers go on and the copy is one moment of
//! the database), and a backup copied back into a database with SQLite's backup API, which
//! locks the destination while it writes and replaces its WAL correctly.

use std::path::Path;

use rusqlite::{Connection, MAIN_DB, OpenFlags};

use crate::storage::StorageError;

/// How much a checked backup file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileCounts {
    pub documents: u64,
    pub changes: u64,
    pub attachments: u64,
}

/// Copy the database at `db` as it is at one moment into the new file `to` (which must not
/// exist), while other connections keep reading and writing it.
pub(crate) fn copy_live(db: &Path, to: &Path) -> Result<(), StorageError> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let target = to
        .to_str()
        .ok_or_else(|| StorageError::Corrupt(format!("{} is not UTF-8", to.display())))?;
    conn.execute("VACUUM INTO ?1", [target])?;
    Ok(())
}

/// Make `file` one self-contained file (rollback journal, no WAL beside it) and check it:
/// SQLite's integrity check, and counts of what it holds.
pub(crate) fn seal(file: &Path) -> Result<FileCounts, StorageError> {
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.pragma_update(None, "journal_mode", "DELETE")?;
    counts(&conn)
}

/// Check a backup file without changing it.
pub(crate) fn check(file: &Path) -> Result<FileCounts, StorageError> {
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    counts(&conn)
}

fn counts(conn: &Connection) -> Result<FileCounts, StorageError> {
    let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if verdict != "ok" {
        return Err(StorageError::Corrupt(format!(
            "the backup fails SQLite's integrity check: {verdict}"
        )));
    }
    let count = |table: &str| -> Result<u64, StorageError> {
        let n: i64 = conn
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .map_err(|e| {
                StorageError::Corrupt(format!("not a relay database (table {table}: {e})"))
            })?;
        Ok(n as u64)
    };
    Ok(FileCounts {
        documents: count("docs")?,
        changes: count("changes")?,
        attachments: count("attachments")?,
    })
}

/// Replace the contents of the database at `db` (created if missing) with the backup `from`.
pub(crate) fn copy_back(from: &Path, db: &Path) -> Result<(), StorageError> {
    let mut conn = Connection::open(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.restore(MAIN_DB, from, None::<fn(rusqlite::backup::Progress)>)?;
    Ok(())
}
