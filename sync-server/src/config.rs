//! Relay settings, layered: built-in defaults → TOML file → environment → command-line flags
//! ([`Config::layered`]). The binary's argument parser reads the environment and the flags into
//! one [`Overrides`] (a flag wins over its variable); the layering itself happens here.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Every relay setting. Zero-config: the defaults serve on localhost with one SQLite file in the
/// working directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// The SQLite database file (created if missing), or a `postgres://…` URL: several relay
    /// instances share one PostgreSQL database ([`crate::storage::Database::of`]).
    pub database: PathBuf,
    /// How long a sign-in token stays valid, hours (7 days by default). A device that syncs
    /// exchanges its token for a fresh one when less than half of that is left
    /// (`/api/v1/session/refresh`), so only a device that stays away — a lost phone — loses it.
    pub token_ttl_hours: u64,
    /// Largest accepted request body after decompression, bytes.
    pub max_body_bytes: u64,
    /// Largest stored document, bytes.
    pub max_doc_bytes: u64,
    /// Most feed documents per sync response before `more` is set.
    pub max_docs_per_response: u32,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// Password checks (Argon2id, ≈ 19 MiB and ≈ 50 ms each) running at once; further sign-ins
    /// wait up to `sign_in_wait_secs` for a turn, then get `relay.busy`.
    pub max_concurrent_password_checks: u32,
    /// How long a sign-in waits for a password-check turn, seconds.
    pub sign_in_wait_secs: u64,
    /// Requests handled at once (push streams excepted); further ones wait for a turn.
    pub max_concurrent_requests: u32,
    /// A request (push streams excepted) that takes longer is answered `relay.timeout`, seconds.
    pub request_timeout_secs: u64,
    /// The relay's TLS certificate chain, a PEM file (with `tls_key`; neither: plain HTTP).
    /// Reloaded when it changes (`docs/deploy.md`).
    pub tls_cert: Option<PathBuf>,
    /// The private key of `tls_cert`, a PEM file.
    pub tls_key: Option<PathBuf>,
    /// Addresses of reverse proxies whose `X-Forwarded-For` names the client (sign-in
    /// throttling); from any other peer the header is ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// The outbox: webhook retries and the customer-message sender (TOML table `[outbox]`).
    pub outbox: OutboxSettings,
}

/// How the outbox delivers (`[outbox]` in the TOML file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxSettings {
    /// Wait before the first retry, milliseconds; doubled per failure, with jitter.
    pub retry_base_ms: u64,
    /// Longest wait between retries, milliseconds.
    pub retry_max_ms: u64,
    /// An event not delivered after this many hours is given up.
    pub give_up_after_hours: u64,
    /// Time limit of one delivery request, seconds.
    pub timeout_secs: u64,
    /// Customer messages (maintenance reminders): `log` (written to the relay's log, the demo)
    /// or `webhook` (POSTed, signed, to `messages_url`, e.g. an SMS/WeChat gateway).
    pub messages: MessageSender,
    /// The gateway's URL when `messages = "webhook"`.
    pub messages_url: Option<String>,
    /// A file whose first line is the gateway's signing secret (never the secret itself here).
    pub messages_secret_file: Option<PathBuf>,
    /// How often the due maintenance reminders are computed and enqueued, seconds (first at
    /// start). 0 turns this relay's reminders task off: with several instances on one
    /// PostgreSQL database, one of them is enough (each pass is safe beside another, but
    /// repeats its reads).
    pub reminders_every_secs: u64,
}

/// Which sender customer messages go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageSender {
    Log,
    Webhook,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            retry_base_ms: 10_000,
            retry_max_ms: 3_600_000,
            give_up_after_hours: 24,
            timeout_secs: 10,
            messages: MessageSender::Log,
            messages_url: None,
            messages_secret_file: None,
            reminders_every_secs: 3_600,
        }
    }
}

impl OutboxSettings {
    /// The retry policy these settings give.
    pub fn policy(&self) -> crate::outbox::Policy {
        crate::outbox::Policy {
            base_ms: self.retry_base_ms.max(1),
            max_ms: self.retry_max_ms.max(self.retry_base_ms.max(1)),
            give_up_after_ms: self.give_up_after_hours.saturating_mul(3_600_000),
            timeout: std::time::Duration::from_secs(self.timeout_secs.max(1)),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: onsite_wire::DEFAULT_RELAY_LISTEN.into(),
            database: PathBuf::from("onsite-relay.sqlite3"),
            token_ttl_hours: 24 * 7,
            max_body_bytes: 16 * 1024 * 1024,
            max_doc_bytes: 8 * 1024 * 1024,
            max_docs_per_response: 200,
            log_format: "text".into(),
            max_concurrent_password_checks: 2,
            sign_in_wait_secs: 10,
            max_concurrent_requests: 256,
            request_timeout_secs: 60,
            tls_cert: None,
            tls_key: None,
            trusted_proxies: Vec::new(),
            outbox: OutboxSettings::default(),
        }
    }
}

/// Settings given in the environment or as flags; `None` keeps the layer below.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub listen: Option<String>,
    pub database: Option<PathBuf>,
    pub token_ttl_hours: Option<u64>,
    pub max_body_bytes: Option<u64>,
    pub max_doc_bytes: Option<u64>,
    pub max_docs_per_response: Option<u32>,
    pub log_format: Option<String>,
    pub max_concurrent_password_checks: Option<u32>,
    pub sign_in_wait_secs: Option<u64>,
    pub max_concurrent_requests: Option<u32>,
    pub request_timeout_secs: Option<u64>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub trusted_proxies: Option<Vec<IpAddr>>,
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

    /// The settings in effect: defaults, overlaid with the TOML file at `file` (when given), then
    /// with every override that is set.
    pub fn layered(file: Option<&Path>, overrides: Overrides) -> Result<Config, ConfigError> {
        let mut c = match file {
            Some(p) => Config::from_file(p)?,
            None => Config::default(),
        };
        let Overrides {
            listen,
            database,
            token_ttl_hours,
            max_body_bytes,
            max_doc_bytes,
            max_docs_per_response,
            log_format,
            max_concurrent_password_checks,
            sign_in_wait_secs,
            max_concurrent_requests,
            request_timeout_secs,
            tls_cert,
            tls_key,
            trusted_proxies,
        } = overrides;
        c.listen = listen.unwrap_or(c.listen);
        c.database = database.unwrap_or(c.database);
        c.token_ttl_hours = token_ttl_hours.unwrap_or(c.token_ttl_hours);
        c.max_body_bytes = max_body_bytes.unwrap_or(c.max_body_bytes);
        c.max_doc_bytes = max_doc_bytes.unwrap_or(c.max_doc_bytes);
        c.max_docs_per_response = max_docs_per_response.unwrap_or(c.max_docs_per_response);
        c.log_format = log_format.unwrap_or(c.log_format);
        c.max_concurrent_password_checks =
            max_concurrent_password_checks.unwrap_or(c.max_concurrent_password_checks);
        c.sign_in_wait_secs = sign_in_wait_secs.unwrap_or(c.sign_in_wait_secs);
        c.max_concurrent_requests = max_concurrent_requests.unwrap_or(c.max_concurrent_requests);
        c.request_timeout_secs = request_timeout_secs.unwrap_or(c.request_timeout_secs);
        c.tls_cert = tls_cert.or(c.tls_cert);
        c.tls_key = tls_key.or(c.tls_key);
        c.trusted_proxies = trusted_proxies.unwrap_or(c.trusted_proxies);
        Ok(c)
    }

    /// Settings for a test or demo relay: the given database, otherwise defaults.
    pub fn for_database(database: impl Into<PathBuf>) -> Config {
        Config {
            database: database.into(),
            listen: "127.0.0.1:0".into(),
            ..Config::default()
        }
    }

    /// The TLS files: `None` for plain HTTP; an error when only one of the two is set.
    pub fn tls_files(&self) -> Result<Option<crate::tls::TlsFiles>, crate::tls::TlsError> {
        crate::tls::TlsFiles::from_settings(self.tls_cert.as_deref(), self.tls_key.as_deref())
    }

    pub fn limits(&self) -> onsite_sync::relay::Limits {
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
    fn a_postgres_url_in_the_file_selects_postgres() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("relay.toml");
        let url = "postgres://relay@db.internal:5432/onsite";
        std::fs::write(&p, format!("database = \"{url}\"\n")).unwrap();
        let c = Config::from_file(&p).unwrap();
        assert_eq!(
            crate::storage::Database::of(&c.database),
            crate::storage::Database::Postgres(url),
            "a postgres:// URL is not a SQLite path"
        );
    }

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
    fn layers_apply_defaults_then_file_then_overrides() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("relay.toml");
        std::fs::write(
            &p,
            "listen = \"0.0.0.0:9000\"\nmax_doc_bytes = 1000\ntoken_ttl_hours = 5\n",
        )
        .unwrap();
        let c = Config::layered(
            Some(&p),
            Overrides {
                listen: Some("127.0.0.1:9100".into()),
                database: Some("/data/flag.sqlite3".into()),
                max_docs_per_response: Some(7),
                ..Overrides::default()
            },
        )
        .unwrap();
        let d = Config::default();
        assert_eq!(c.listen, "127.0.0.1:9100", "an override beats the file");
        assert_eq!(
            c.database,
            PathBuf::from("/data/flag.sqlite3"),
            "an override beats the default"
        );
        assert_eq!(c.max_docs_per_response, 7, "an override beats the default");
        assert_eq!(c.max_doc_bytes, 1000, "the file beats the default");
        assert_eq!(c.token_ttl_hours, 5, "the file beats the default");
        assert_eq!(
            c.max_body_bytes, d.max_body_bytes,
            "unset everywhere keeps the default"
        );
        assert_eq!(
            c.log_format, d.log_format,
            "unset everywhere keeps the default"
        );
    }

    #[test]
    fn without_file_or_overrides_the_defaults_apply() {
        let c = Config::layered(None, Overrides::default()).unwrap();
        assert_eq!(c, Config::default(), "nothing set means the defaults");
    }

    #[test]
    fn every_override_reaches_its_setting() {
        let o = Overrides {
            listen: Some("127.0.0.1:1".into()),
            database: Some("x.sqlite3".into()),
            token_ttl_hours: Some(1),
            max_body_bytes: Some(2),
            max_doc_bytes: Some(3),
            max_docs_per_response: Some(4),
            log_format: Some("json".into()),
            max_concurrent_password_checks: Some(5),
            sign_in_wait_secs: Some(6),
            max_concurrent_requests: Some(7),
            request_timeout_secs: Some(8),
            tls_cert: Some("c.pem".into()),
            tls_key: Some("k.pem".into()),
            trusted_proxies: Some(vec!["10.0.0.2".parse().unwrap()]),
        };
        let c = Config::layered(None, o).unwrap();
        let want = Config {
            listen: "127.0.0.1:1".into(),
            database: "x.sqlite3".into(),
            token_ttl_hours: 1,
            max_body_bytes: 2,
            max_doc_bytes: 3,
            max_docs_per_response: 4,
            log_format: "json".into(),
            max_concurrent_password_checks: 5,
            sign_in_wait_secs: 6,
            max_concurrent_requests: 7,
            request_timeout_secs: 8,
            tls_cert: Some("c.pem".into()),
            tls_key: Some("k.pem".into()),
            trusted_proxies: vec!["10.0.0.2".parse().unwrap()],
            outbox: OutboxSettings::default(),
        };
        assert_eq!(c, want, "each override sets its own key and no other");
    }

    #[test]
    fn the_outbox_table_sets_retries_and_the_message_sender() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("relay.toml");
        std::fs::write(
            &p,
            "[outbox]\nretry_base_ms = 100\nmessages = \"webhook\"\nmessages_url = \"https://sms.example.com/send\"\n",
        )
        .unwrap();
        let c = Config::from_file(&p).unwrap();
        assert_eq!(c.outbox.retry_base_ms, 100, "the file sets the retry base");
        assert_eq!(c.outbox.messages, MessageSender::Webhook, "and the sender");
        assert_eq!(
            c.outbox.give_up_after_hours, 24,
            "unset outbox keys keep their defaults"
        );
        assert_eq!(
            c.outbox.policy().give_up_after_ms,
            24 * 3_600_000,
            "the policy gives up after a day"
        );
    }

    #[test]
    fn tls_files_and_trusted_proxies_come_from_the_file_and_go_together() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("relay.toml");
        std::fs::write(
            &p,
            "tls_cert = \"/etc/onsite/cert.pem\"\ntls_key = \"/etc/onsite/key.pem\"\ntrusted_proxies = [\"10.0.0.2\", \"::1\"]\n",
        )
        .unwrap();
        let c = Config::from_file(&p).unwrap();
        let files = c.tls_files().unwrap().expect("both files set: TLS");
        assert_eq!(files.cert, PathBuf::from("/etc/onsite/cert.pem"));
        assert_eq!(c.trusted_proxies.len(), 2, "both proxies read");
        assert!(
            Config::default().tls_files().unwrap().is_none(),
            "neither set: plain HTTP"
        );
        let half = Config { tls_key: None, ..c };
        let e = half.tls_files().unwrap_err().to_string();
        assert!(
            e.contains("tls_cert") && e.contains("tls_key"),
            "one without the other is refused and named: {e}"
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
