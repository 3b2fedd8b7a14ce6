//! The relay's own TLS: a certificate chain and its private key from two PEM files
//! (`tls_cert`/`tls_key`), checked at start, and watched afterwards — when either file changes,
//! the new pair is loaded and used for new connections; a pair that does not load is logged and
//! the one in use is kept. Connections already open keep the certificate they started with.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use axum_server::tls_rustls::RustlsConfig;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// How often the two files are looked at for a change.
pub const RELOAD_CHECK_EVERY: Duration = Duration::from_secs(2);

/// Why a certificate/key pair cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("tls_cert and tls_key go together: set both (TLS) or neither (plain HTTP)")]
    OnlyOne,
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate { path: PathBuf },
    #[error("{path} is not a PEM certificate chain: {message}")]
    BadCertificate { path: PathBuf, message: String },
    #[error("{path} holds no usable PEM private key (PKCS#8, PKCS#1 or SEC1): {message}")]
    BadKey { path: PathBuf, message: String },
    #[error("the key in {key} does not belong to the certificate in {cert}: {message}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        message: String,
    },
}

/// The two files the relay's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// The pair from the settings: `None` for plain HTTP, an error when only one is set.
    pub fn from_settings(
        cert: Option<&Path>,
        key: Option<&Path>,
    ) -> Result<Option<TlsFiles>, TlsError> {
        match (cert, key) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => Ok(Some(TlsFiles {
                cert: cert.to_owned(),
                key: key.to_owned(),
            })),
            _ => Err(TlsError::OnlyOne),
        }
    }

    /// Read, parse and check the pair (the key must match the first certificate).
    pub fn load(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                path: path.to_owned(),
                source,
            })
        };
        let (cert_pem, key_pem) = (read(&self.cert)?, read(&self.key)?);
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::BadCertificate {
                path: self.cert.clone(),
                message: e.to_string(),
            })?;
        if chain.is_empty() {
            return Err(TlsError::NoCertificate {
                path: self.cert.clone(),
            });
        }
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::BadKey {
            path: self.key.clone(),
            message: e.to_string(),
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| self.mismatch(e))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| self.mismatch(e))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    fn mismatch(&self, e: rustls::Error) -> TlsError {
        TlsError::Mismatch {
            cert: self.cert.clone(),
            key: self.key.clone(),
            message: e.to_string(),
        }
    }

    /// What identifies the files' current contents without reading them: modification time and
    /// length of each (`None` for a file that cannot be looked at right now).
    fn stamp(&self) -> [Option<(SystemTime, u64)>; 2] {
        let one = |p: &Path| {
            let m = std::fs::metadata(p).ok()?;
            Some((m.modified().ok()?, m.len()))
        };
        [one(&self.cert), one(&self.key)]
    }
}

/// How the watched pair has fared since the start (for logs and tests).
#[derive(Debug, Default)]
pub struct Reloads {
    applied: AtomicU64,
    refused: AtomicU64,
}

impl Reloads {
    /// Changed pairs loaded and in use for new connections.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::SeqCst)
    }

    /// Changed pairs that did not load (the previous pair stayed in use).
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::SeqCst)
    }
}

/// The relay's TLS: the pair in use and its watcher's record.
pub struct Tls {
    pub files: TlsFiles,
    pub config: RustlsConfig,
    pub reloads: Arc<Reloads>,
}

impl Tls {
    /// Load the pair (an error stops the start) for serving and watching.
    pub fn load(files: TlsFiles) -> Result<Tls, TlsError> {
        let config = RustlsConfig::from_config(files.load()?);
        Ok(Tls {
            files,
            config,
            reloads: Arc::new(Reloads::default()),
        })
    }

    /// Look at the files every `every`; when they changed, load the new pair and swap it in, or
    /// log why not and keep the one in use.
    pub fn watch(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let (files, config, reloads) = (
            self.files.clone(),
            self.config.clone(),
            self.reloads.clone(),
        );
        tokio::spawn(async move {
            let mut seen = files.stamp();
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let now = files.stamp();
                if now == seen {
                    continue;
                }
                seen = now;
                let f = files.clone();
                match tokio::task::spawn_blocking(move || f.load()).await {
                    Ok(Ok(fresh)) => {
                        config.reload_from_config(fresh);
                        reloads.applied.fetch_add(1, Ordering::SeqCst);
                        tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
                    }
                    Ok(Err(e)) => {
                        reloads.refused.fetch_add(1, Ordering::SeqCst);
                        tracing::warn!(error = %e, "changed TLS files not used; the previous certificate stays");
                    }
                    Err(e) => tracing::warn!(error = %e, "TLS reload task failed"),
                }
            }
        })
    }
}
