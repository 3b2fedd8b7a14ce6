//! Which storage backend a relay test runs on, so one behaviour suite covers SQLite and
//! PostgreSQL without copying a test.
//!
//! A test asks [`database`] for its relay's `database` setting (and opens storage with
//! [`open`]); that is a SQLite file in the test's directory, unless the test runs inside
//! [`on_postgres`] — then a fresh PostgreSQL database of its own, created on the cluster
//! `ONSITE_TEST_POSTGRES` names, so tests run in parallel. [`crate::on_postgres!`] adds a
//! PostgreSQL twin of each listed `#[tokio::test]`. Without `ONSITE_TEST_POSTGRES` a PostgreSQL
//! twin fails, saying how to start the cluster: it never passes without running.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use onsite_relay::RelayStorage;
use onsite_relay::storage::StorageError;
use rand::RngCore;

/// The environment variable with the test cluster's URL (`scripts/pg.sh` exports it).
pub const CLUSTER_VAR: &str = "ONSITE_TEST_POSTGRES";

/// A relay storage backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

thread_local! {
    static CURRENT: Cell<Backend> = const { Cell::new(Backend::Sqlite) };
}

/// The backend of the test running on this thread.
pub fn current() -> Backend {
    CURRENT.with(Cell::get)
}

/// Run `test` (a `#[tokio::test]` function: its runtime runs the body on this thread) with its
/// relay databases on PostgreSQL.
pub fn on_postgres(test: fn()) {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(Backend::Sqlite));
        }
    }
    cluster_url();
    CURRENT.with(|c| c.set(Backend::Postgres));
    let _reset = Reset;
    test();
}

/// The cluster's URL; panics with how to start one when it is not set.
pub fn cluster_url() -> String {
    std::env::var(CLUSTER_VAR).unwrap_or_else(|_| {
        panic!(
            "{CLUSTER_VAR} is not set, so the relay's PostgreSQL tests cannot run. Start a \
             throw-away cluster first: `source scripts/pg.sh && onsite_pg_start` (then \
             `onsite_pg_stop`), or run `bash scripts/pg.sh run cargo test …`; scripts/test.sh \
             does it for you"
        )
    })
}

/// The relay's `database` setting for a test whose files live in `dir`: `dir/relay.sqlite3`, or
/// on PostgreSQL a database created for `dir` on first use (the same one every later call).
pub fn database(dir: &Path) -> PathBuf {
    match current() {
        Backend::Sqlite => dir.join("relay.sqlite3"),
        Backend::Postgres => postgres(dir),
    }
}

/// The `database` setting of `dir`'s own PostgreSQL database, whatever the current backend (for
/// tests that only make sense on PostgreSQL, e.g. several relay instances on one database).
pub fn postgres(dir: &Path) -> PathBuf {
    PathBuf::from(postgres_database(dir))
}

/// Open the relay storage [`database`] names for `dir`.
pub fn open(dir: &Path) -> Arc<dyn RelayStorage> {
    let db = database(dir);
    let opened: Result<_, StorageError> = onsite_relay::storage::open(&db);
    opened.unwrap_or_else(|e| panic!("open the relay database {}: {e}", db.display()))
}

/// Run `sql` (portable between SQLite and PostgreSQL) on `dir`'s relay database directly, as
/// damage or a legacy row would get there, and return the first column of its first row as a
/// number (0 when it returns none): a test's look behind the storage.
pub fn sql(dir: &Path, sql: &str) -> i64 {
    match current() {
        Backend::Sqlite => {
            let conn = rusqlite::Connection::open(dir.join("relay.sqlite3"))
                .expect("open the relay's SQLite file");
            let mut st = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
            let mut rows = st.query([]).unwrap_or_else(|e| panic!("{sql}: {e}"));
            let first = rows.next().unwrap_or_else(|e| panic!("{sql}: {e}"));
            first.map_or(0, |r| r.get(0).unwrap_or(0))
        }
        Backend::Postgres => {
            let (url, sql) = (postgres_database(dir), sql.to_owned());
            std::thread::spawn(move || {
                let mut client = postgres::Client::connect(&url, postgres::NoTls)
                    .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
                let rows = client
                    .query(sql.as_str(), &[])
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.first().map_or(0, |r| r.try_get(0).unwrap_or(0))
            })
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
        }
    }
}

/// The URL of `dir`'s PostgreSQL database, created (kept in `dir/postgres-url`) on first use.
fn postgres_database(dir: &Path) -> String {
    let kept = dir.join("postgres-url");
    if let Ok(url) = std::fs::read_to_string(&kept) {
        return url;
    }
    let cluster = cluster_url();
    let mut b = [0u8; 8];
    rand::rng().fill_bytes(&mut b);
    let name = format!("onsite_test_{}", hex::encode(b));
    create_database(&cluster, &name);
    let url = with_database(&cluster, &name);
    std::fs::write(&kept, &url).expect("keep the test database's URL");
    url
}

/// `CREATE DATABASE name` on the cluster (on a thread of its own: the driver blocks, which a
/// test's async runtime does not allow).
fn create_database(cluster: &str, name: &str) {
    let (cluster, sql) = (cluster.to_owned(), format!("CREATE DATABASE {name}"));
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&cluster, postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to the test cluster {cluster}: {e}"));
        client
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    })
    .join()
    .unwrap_or_else(|p| std::panic::resume_unwind(p));
}

/// `cluster` (`postgres://user@host:port/db?options`) with its database replaced by `name`.
pub fn with_database(cluster: &str, name: &str) -> String {
    let (base, query) = cluster.split_once('?').unwrap_or((cluster, ""));
    let (scheme, rest) = base.split_once("://").expect("a postgres:// URL");
    let authority = rest.split('/').next().unwrap_or(rest);
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{scheme}://{authority}/{name}{query}")
}

/// Add a PostgreSQL twin of each listed `#[tokio::test]` function of this file, in a module
/// `on_postgres`: the same test, its relay databases on PostgreSQL ([`on_postgres`]).
#[macro_export]
macro_rules! on_postgres {
    ($($test:ident),+ $(,)?) => {
        mod on_postgres {
            $(
                #[test]
                fn $test() {
                    $crate::backend::on_postgres(super::$test);
                }
            )+
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_database_replaces_the_clusters_database_and_keeps_options() {
        assert_eq!(
            with_database("postgres://onsite@127.0.0.1:5433/postgres", "t1"),
            "postgres://onsite@127.0.0.1:5433/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/postgres?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h", "t3"), "postgresql://h/t3");
    }
}
