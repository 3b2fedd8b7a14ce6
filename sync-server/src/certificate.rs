//! Technician certificates the customer can check (一证件): the signed public URL
//! `/verify/cert/<certificate-no>/<signature>` the certificate QR encodes, the lookup behind its
//! page, and withdrawing a certificate.
//!
//! The signature is HMAC-SHA256 over the certificate number with the relay's own key (32 random
//! bytes made at first start and kept in the relay database, table `relay_keys`), truncated to
//! 16 bytes, base64url. Only the relay can make a link that opens a page, so a fake technician
//! cannot print a working QR code for a made-up certificate. What the page shows is read from the
//! stored `profile:` documents, so a withdrawal synced by a dispatcher shows at once.

use automerge::AutoCommit;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use onsite_domain::reference::TechnicianProfile;
use onsite_domain::{DocId, Millis, doc};
use onsite_sync::access::Principal;
use onsite_sync::device::{self, PeerState};
use onsite_sync::relay::{Caller, HandleError, Limits};
use onsite_wire::Role;
use rand::RngCore;
use sha2::Sha256;

use crate::storage::{DEFAULT_CENTRE, RelayStorage, StorageError};

/// Name of the signing key in `relay_keys`.
pub const KEY_NAME: &str = "certificate-url";
/// Bytes of the HMAC kept in the URL (128 bits).
const SIGNATURE_BYTES: usize = 16;

/// A certificate operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(
        "no profile for technician '{0}' on this relay; a dispatcher or admin creates it first"
    )]
    NoProfile(String),
    #[error("the stored profile of '{0}' cannot be read: {1}")]
    Damaged(String, String),
    #[error("the relay refused the change: {0}")]
    Refused(String),
}

/// The relay's signing key, made (and stored for good) on first use.
pub fn signing_key(storage: &dyn RelayStorage, now_ms: i64) -> Result<Vec<u8>, StorageError> {
    let mut fresh = [0u8; 32];
    rand::rng().fill_bytes(&mut fresh);
    storage.relay_key(KEY_NAME, &fresh, now_ms)
}

fn mac(key: &[u8], certificate_no: &str) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    m.update(b"onsite-certificate:");
    m.update(certificate_no.as_bytes());
    m
}

/// The URL-safe signature of a certificate number.
pub fn signature(key: &[u8], certificate_no: &str) -> String {
    let tag = mac(key, certificate_no).finalize().into_bytes();
    URL_SAFE_NO_PAD.encode(&tag[..SIGNATURE_BYTES])
}

/// Whether `signature` is this relay's signature of `certificate_no` (constant-time compare).
pub fn signature_ok(key: &[u8], certificate_no: &str, signature: &str) -> bool {
    match URL_SAFE_NO_PAD.decode(signature) {
        Ok(tag) if tag.len() == SIGNATURE_BYTES => {
            mac(key, certificate_no).verify_truncated_left(&tag).is_ok()
        }
        _ => false,
    }
}

/// `/verify/cert/<certificate-no>/<signature>`, the number percent-encoded as one path segment.
pub fn path(key: &[u8], certificate_no: &str) -> String {
    let mut seg = String::new();
    for b in certificate_no.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            seg.push(b as char);
        } else {
            seg.push_str(&format!("%{b:02X}"));
        }
    }
    format!("/verify/cert/{seg}/{}", signature(key, certificate_no))
}

/// The stored profile of `technician_id`.
pub fn profile(
    storage: &dyn RelayStorage,
    technician_id: &str,
) -> Result<Option<TechnicianProfile>, CertError> {
    let Some(bytes) = storage.doc(&DocId::Profile(technician_id.to_owned()))? else {
        return Ok(None);
    };
    let damaged =
        |e: onsite_domain::DomainError| CertError::Damaged(technician_id.to_owned(), e.to_string());
    let d = doc::load(&bytes).map_err(damaged)?;
    Ok(Some(doc::read(&d).map_err(damaged)?))
}

/// The stored profile holding certificate `certificate_no` (unreadable profiles are skipped).
pub fn by_certificate(
    storage: &dyn RelayStorage,
    certificate_no: &str,
) -> Result<Option<TechnicianProfile>, StorageError> {
    Ok(storage
        .profiles()?
        .iter()
        .filter_map(|d| doc::load(&d.bytes).ok())
        .filter_map(|d| doc::read::<TechnicianProfile>(&d).ok())
        .find(|p| !p.certificate_id.is_empty() && p.certificate_id == certificate_no))
}

/// The signed path of `technician_id`'s certificate page; `None` without a profile.
pub fn path_of(
    storage: &dyn RelayStorage,
    technician_id: &str,
    now_ms: i64,
) -> Result<Option<String>, CertError> {
    let Some(p) = profile(storage, technician_id)? else {
        return Ok(None);
    };
    Ok(Some(path(
        &signing_key(storage, now_ms)?,
        &p.certificate_id,
    )))
}

/// What [`withdraw`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdrawal {
    /// Withdrawn now.
    Withdrawn { at_ms: Millis },
    /// It already was, since `at_ms`; nothing changed.
    AlreadyWithdrawn { at_ms: Millis },
}

/// Withdraw `technician_id`'s certificate at `now_ms`: the same edit of the `profile:` document
/// a dispatcher's device makes (`certificate_withdrawn_at_ms`), stored through the relay's sync
/// handling as the admin, so every device receives it and the public page shows it at once.
pub fn withdraw(
    storage: &dyn RelayStorage,
    limits: &Limits,
    technician_id: &str,
    now_ms: i64,
) -> Result<Withdrawal, CertError> {
    let id = DocId::Profile(technician_id.to_owned());
    let Some(bytes) = storage.doc(&id)? else {
        return Err(CertError::NoProfile(technician_id.to_owned()));
    };
    let damaged = |e: String| CertError::Damaged(technician_id.to_owned(), e);
    let mut d = AutoCommit::load(&bytes).map_err(|e| damaged(e.to_string()))?;
    let mut p: TechnicianProfile = doc::read(&d).map_err(|e| damaged(e.to_string()))?;
    if let Some(at_ms) = p.certificate_withdrawn_at_ms {
        return Ok(Withdrawal::AlreadyWithdrawn { at_ms });
    }
    p.certificate_withdrawn_at_ms = Some(now_ms);
    doc::write(&mut d, &p).map_err(|e| damaged(e.to_string()))?;
    d.commit();
    let message = device::outgoing(&mut d, &PeerState::new())
        .ok_or_else(|| CertError::Refused("the edit produced no change".into()))?;
    let caller = Caller {
        principal: Principal {
            user_id: "admin".to_owned(),
            role: Role::Admin,
            centre: DEFAULT_CENTRE.to_owned(),
        },
        device_id: "onsite-relay-cli".to_owned(),
    };
    let req = device::build_request(storage.head_seq()?, vec![(id, message)]);
    let handled = storage
        .sync(&caller, &req, limits, now_ms)
        .map_err(|e| match e {
            HandleError::Refused(e) => CertError::Refused(e.to_string()),
            HandleError::Storage(e) => CertError::Storage(e),
        })?;
    if let Some(r) = handled.response.rejected.first() {
        return Err(CertError::Refused(format!("{}: {}", r.code, r.message)));
    }
    Ok(Withdrawal::Withdrawn { at_ms: now_ms })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_keyed_url_safe_and_checked_whole() {
        let sig = signature(b"key-1", "CERT-HA-0001");
        assert_eq!(sig.len(), 22, "16 bytes in base64url without padding");
        assert!(
            sig.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "URL-safe: {sig}"
        );
        assert!(
            signature_ok(b"key-1", "CERT-HA-0001", &sig),
            "its own signature"
        );
        assert!(
            !signature_ok(b"key-2", "CERT-HA-0001", &sig),
            "another relay's key does not verify it"
        );
        assert!(
            !signature_ok(b"key-1", "CERT-HA-0002", &sig),
            "it signs one certificate number only"
        );
        assert!(
            !signature_ok(b"key-1", "CERT-HA-0001", &sig[..21]),
            "a shortened signature is refused"
        );
        assert!(
            !signature_ok(b"key-1", "CERT-HA-0001", "not base64!"),
            "garbage is refused"
        );
        assert_eq!(
            path(b"key-1", "C 1/2"),
            format!("/verify/cert/C%201%2F2/{}", signature(b"key-1", "C 1/2")),
            "the number is one percent-encoded path segment"
        );
    }
}
