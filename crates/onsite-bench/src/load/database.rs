//! A fresh relay database for one load run: a SQLite file in a temporary directory, or a new
//! database on a PostgreSQL cluster (created for the run, dropped after it), so every size starts
//! empty whatever the backend. The relay's own `database` setting decides the backend
//! (`onsite_relay::storage::Database::of`: a `postgres://` URL, else a SQLite path).

use std::path::{Path, PathBuf};

use onsite_relay::storage::Database;
use rand::RngCore;

use super::LoadError;

/// The database of one run; a PostgreSQL database is dropped with it.
pub struct RunDatabase {
    /// The relay's `database` setting for this run (a path or a `postgres://` URL).
    pub setting: PathBuf,
    /// The SQLite file's directory (removed on drop).
    _dir: Option<tempfile::TempDir>,
    /// `(cluster URL, database name)` of a database created for the run.
    created: Option<(String, String)>,
}

impl RunDatabase {
    /// A fresh database for a run of `devices` devices: without `base` a new SQLite file in a
    /// temporary directory; with a `postgres://` URL a new database `onsite_load_<devices>_<hex>`
    /// on that cluster (the URL's own database only serves to issue `CREATE DATABASE`).
    pub fn fresh(base: Option<&Path>, devices: u32) -> Result<RunDatabase, LoadError> {
        let Some(base) = base else {
            return sqlite_file();
        };
        let Database::Postgres(cluster) = Database::of(base) else {
            return Err(LoadError::Setup(format!(
                "--database takes a postgres:// URL (a SQLite file is made fresh for each run): {}",
                base.display()
            )));
        };
        let mut b = [0u8; 4];
        rand::rng().fill_bytes(&mut b);
        let name = format!(
            "onsite_load_{devices}_{:02x}{:02x}{:02x}{:02x}",
            b[0], b[1], b[2], b[3]
        );
        execute(cluster, &format!("CREATE DATABASE {name}"))?;
        Ok(RunDatabase {
            setting: PathBuf::from(onsite_testkit::backend::with_database(cluster, &name)),
            _dir: None,
            created: Some((cluster.to_owned(), name)),
        })
    }

    /// `sqlite` or `postgres`, for reports and file names.
    pub fn backend(&self) -> &'static str {
        match Database::of(&self.setting) {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }
}

impl Drop for RunDatabase {
    fn drop(&mut self) {
        if let Some((cluster, name)) = self.created.take()
            && let Err(e) = execute(&cluster, &format!("DROP DATABASE {name} WITH (FORCE)"))
        {
            eprintln!("could not drop the load run's database {name}: {e}");
        }
    }
}

fn sqlite_file() -> Result<RunDatabase, LoadError> {
    let dir = tempfile::tempdir().map_err(|e| LoadError::Setup(format!("temp dir: {e}")))?;
    Ok(RunDatabase {
        setting: dir.path().join("relay.sqlite3"),
        _dir: Some(dir),
        created: None,
    })
}

/// Run one statement on `url`, on a thread of its own: the driver blocks on a runtime of its
/// own, which a tokio worker thread does not allow.
fn execute(url: &str, sql: &str) -> Result<(), LoadError> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls)
            .map_err(|e| LoadError::Setup(format!("connect to {url}: {e}")))?;
        client
            .batch_execute(&sql)
            .map_err(|e| LoadError::Setup(format!("{sql}: {e}")))
    })
    .join()
    .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_path_is_refused_as_a_base() {
        let Err(e) = RunDatabase::fresh(Some(Path::new("/tmp/x.sqlite3")), 5) else {
            panic!("a SQLite path must be refused: each run makes its own file")
        };
        assert!(e.to_string().contains("postgres://"), "{e}");
    }
}
