//! Attachments (photos, signature images): content-addressed by the SHA-256 of their bytes, in
//! their own table. Documents refer to them by that hex digest; the hash is checked on every read.

use onsite_domain::MAX_ATTACHMENT_BYTES;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::{Store, StoreError};

/// An attachment read back from the store; its bytes have been checked against `sha256`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub sha256: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// Lowercase hex SHA-256 of `bytes`: the id an attachment is stored and referenced under.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn check_ref(sha256: &str) -> Result<(), StoreError> {
    let ok = sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadAttachmentRef(
            sha256.chars().take(80).collect(),
        ))
    }
}

impl Store {
    /// Store `bytes` and return their SHA-256 hex digest. Idempotent: storing the same bytes again
    /// returns the same digest and writes nothing (a damaged stored copy is replaced).
    pub fn put_attachment(&mut self, bytes: &[u8], mime: &str) -> Result<String, StoreError> {
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(StoreError::AttachmentTooLarge {
                size: bytes.len(),
                limit: MAX_ATTACHMENT_BYTES,
            });
        }
        if mime.trim().is_empty() {
            return Err(StoreError::MimeMissing);
        }
        let sha = sha256_hex(bytes);
        let existing: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT bytes FROM attachments WHERE sha256 = ?1")?
            .query_row(params![sha], |r| r.get(0))
            .optional()?;
        match existing {
            Some(stored) if stored == bytes => {}
            Some(_) => {
                self.conn
                    .prepare_cached(
                        "UPDATE attachments SET bytes = ?2, size = ?3, mime = ?4 WHERE sha256 = ?1",
                    )?
                    .execute(params![sha, bytes, bytes.len() as i64, mime])?;
            }
            None => {
                self.conn
                    .prepare_cached(
                        "INSERT INTO attachments (sha256, mime, size, bytes) VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![sha, mime, bytes.len() as i64, bytes])?;
            }
        }
        Ok(sha)
    }

    /// The attachment stored under `sha256`, checked against its hash.
    pub fn attachment(&self, sha256: &str) -> Result<Attachment, StoreError> {
        check_ref(sha256)?;
        let row: Option<(String, Vec<u8>)> = self
            .conn
            .prepare_cached("SELECT mime, bytes FROM attachments WHERE sha256 = ?1")?
            .query_row(params![sha256], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (mime, bytes) = row.ok_or_else(|| StoreError::AttachmentNotFound(sha256.to_owned()))?;
        if sha256_hex(&bytes) != sha256 {
            return Err(StoreError::AttachmentCorrupt(sha256.to_owned()));
        }
        Ok(Attachment {
            sha256: sha256.to_owned(),
            mime,
            bytes,
        })
    }

    /// Whether an attachment with this digest is on this device.
    pub fn has_attachment(&self, sha256: &str) -> Result<bool, StoreError> {
        check_ref(sha256)?;
        Ok(self
            .conn
            .prepare_cached("SELECT 1 FROM attachments WHERE sha256 = ?1")?
            .exists(params![sha256])?)
    }

    /// Digests of attachments not yet marked uploaded, in digest order.
    pub fn pending_attachments(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT sha256 FROM attachments WHERE synced = 0 ORDER BY sha256")?;
        let rows = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Mark an attachment as held by the relay (uploaded, or downloaded from it).
    pub fn mark_attachment_synced(&mut self, sha256: &str) -> Result<(), StoreError> {
        check_ref(sha256)?;
        let n = self
            .conn
            .prepare_cached("UPDATE attachments SET synced = 1 WHERE sha256 = ?1")?
            .execute(params![sha256])?;
        if n == 0 {
            return Err(StoreError::AttachmentNotFound(sha256.to_owned()));
        }
        Ok(())
    }
}
