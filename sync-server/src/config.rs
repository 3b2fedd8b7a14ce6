//! Relay settings, layered: built-in defaults → TOML file → environment → command-line flags.
//! The binary applies env and flags (clap reads both); the file and defaults come from here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Every relay setting. Zero-config: the defaults serve on localhost with one SQLite file in the
/// working directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// The SQLite database file (created if missing).
    pub database: PathBuf,
    /// How long a sign-in token stays valid, hours.
    pub token_ttl_hours: u64,
    /// Largest accepted request body after decompression, bytes.
    pub max_body_bytes: u64,
    /// Largest stored document, bytes.
    pub max_doc_bytes: u64,
    /// Most feed documents per sync response before `more` is set.
    pub max_docs_per_response: u32,
    /// `text` or `json` log lines.
    pub log_format: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8750".into(),
            database: PathBuf::from("onsite-relay.sqlite3"),
            token_ttl_hours: 24 * 30,
            max_body_bytes: 16 * 1024 * 1024,
            max_doc_bytes: 8 * 1024 * 1024,
            max_docs_per_response: 200,
            log_format: "text".into(),
        }
    }
}

/// A settings file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read settings file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "settings file {path} is not valid: {message} (see `onsite-relay serve --help` for the keys)"
    )]
    Parse { path: PathBuf, message: String },
}

impl Config {
    /// Defaults overlaid with the TOML file at `path`.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// Settings for a test or demo relay: the given database, otherwise defaults.
    pub fn for_database(database: impl Into<PathBuf>) -> Config {
        Config {
            database: database.into(),
            listen: "127.0.0.1:0".into(),
            ..Config::default()
        }
    }

    pub(crate) fn limits(&self) -> onsite_sync::relay::Limits {
        onsite_sync::relay::Limits {
            max_doc_bytes: self.max_doc_bytes,
            max_docs_per_response: self.max_docs_per_response as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_overrides_only_the_keys_it_sets() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("relay.toml");
        std::fs::write(&p, "database = \"/data/r.sqlite3\"\nmax_doc_bytes = 1000\n").unwrap();
        let c = Config::from_file(&p).unwrap();
        assert_eq!(c.database, PathBuf::from("/data/r.sqlite3"));
        assert_eq!(c.max_doc_bytes, 1000);
        assert_eq!(
            c.listen,
            Config::default().listen,
            "unset keys keep defaults"
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("relay.toml");
        std::fs::write(&p, "listne = \"0.0.0.0:1\"\n").unwrap();
        let e = Config::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("relay.toml") && e.contains("listne"), "{e}");
    }
}
