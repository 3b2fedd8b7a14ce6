//! Signing in and the session kept on the device. After one successful sign-in the app works
//! offline; the session is only needed to sync.

use onsite_wire::{Code, Role, SignInRequest};
use serde::{Deserialize, Serialize};

use crate::{ClientError, Relay, SharedStore, Transport, lock};

const SESSION_KEY: &str = "client.session";

/// Who is signed in on this device, and where they sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub relay_url: String,
    pub user_id: String,
    pub display_name: String,
    pub role: Role,
    /// `None` once the relay refused it: the user must sign in again to sync.
    pub token: Option<String>,
    pub expires_at_ms: i64,
    /// This device's order-number prefix from the relay (`None` before a sign-in with a relay
    /// that allocates them): a dispatcher's device numbers orders offline with it.
    #[serde(default)]
    pub order_prefix: Option<String>,
    /// The relay path of the technician's signed certificate page
    /// (`/verify/cert/<certificate-no>/<signature>`), if the relay gave one.
    #[serde(default)]
    pub certificate_path: Option<String>,
}

impl Session {
    /// The session stored on this device, if any.
    pub fn load(store: &SharedStore) -> Result<Option<Session>, ClientError> {
        let bytes = lock(store).kv_get(SESSION_KEY)?;
        Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
    }

    /// The public URL the certificate QR encodes: the relay's URL plus the signed path, when the
    /// relay gave one and it names `certificate_no` (a certificate renumbered since the sign-in
    /// has no link until the next one).
    pub fn certificate_url(&self, certificate_no: &str) -> Option<String> {
        let path = self.certificate_path.as_deref()?;
        let rest = path.strip_prefix("/verify/cert/")?;
        let (number, _signature) = rest.split_once('/')?;
        (number == percent_encode(certificate_no))
            .then(|| format!("{}{path}", self.relay_url.trim_end_matches('/')))
    }

    pub(crate) fn save(&self, store: &SharedStore) -> Result<(), ClientError> {
        let bytes = serde_json::to_vec(self).expect("session serialises");
        lock(store).kv_set(SESSION_KEY, &bytes)?;
        Ok(())
    }
}

/// Sign in at `relay_url` with the transport settings stored on this device and keep the session
/// (and the relay's clock offset as measured against `clock`). Signing in as another user than
/// the one whose work is on the device is allowed only when nothing is waiting to sync.
pub async fn sign_in(
    store: &SharedStore,
    relay_url: &str,
    user_id: &str,
    password: &str,
    clock: &crate::RelayClock,
) -> Result<Session, ClientError> {
    let transport = Transport::load(store)?;
    sign_in_with(store, &transport, relay_url, user_id, password, clock).await
}

/// [`sign_in`] with `transport` (e.g. the sign-in form's choice about plain HTTP), kept on the
/// device with the session once the sign-in succeeded. Refused before anything is sent when
/// `transport` does not allow `relay_url`.
pub async fn sign_in_with(
    store: &SharedStore,
    transport: &Transport,
    relay_url: &str,
    user_id: &str,
    password: &str,
    clock: &crate::RelayClock,
) -> Result<Session, ClientError> {
    let relay = Relay::with_transport(relay_url, transport)?.with_clock(clock.clone());
    relay.capabilities().await?;
    let device_id = lock(store).device_id().to_owned();
    let resp = relay
        .sign_in(&SignInRequest {
            user_id: user_id.trim().to_owned(),
            password: password.to_owned(),
            device_id,
        })
        .await?;
    if let Some(previous) = Session::load(store)?
        && previous.user_id != resp.user_id
    {
        let pending = lock(store).pending_count()?;
        if pending > 0 {
            return Err(ClientError::Auth {
                code: Code::AuthOtherUserHasUnsyncedWork,
                message: format!(
                    "{} has {pending} change(s) on this device not yet synced; sign in as {} and sync first",
                    previous.display_name, previous.user_id
                ),
            });
        }
    }
    let session = Session {
        relay_url: relay.base_url().to_owned(),
        user_id: resp.user_id,
        display_name: resp.display_name,
        role: resp.role,
        token: Some(resp.token),
        expires_at_ms: resp.expires_at_ms,
        order_prefix: Some(resp.order_prefix).filter(|p| !p.is_empty()),
        certificate_path: resp.certificate_path,
    };
    transport.save(store)?;
    session.save(store)?;
    crate::clock::record(store, relay.observed_offset())?;
    Ok(session)
}

/// Exchange the session's token for a fresh one when less than this is left of it: a device that
/// syncs at least every few days never has to sign in again, while a lost device's token dies
/// with its lifetime (the relay's `token_ttl_hours`, 7 days by default).
pub const REFRESH_WHEN_LEFT_MS: i64 = 3 * 24 * 3_600_000;

/// The session with a fresh token if `session`'s runs out within [`REFRESH_WHEN_LEFT_MS`] of
/// `now_ms` (kept on the device before it is used); else `session` unchanged.
pub async fn refreshed(
    store: &SharedStore,
    relay: &Relay,
    session: Session,
    now_ms: i64,
) -> Result<Session, ClientError> {
    let Some(token) = session.token.as_deref() else {
        return Ok(session);
    };
    if session.expires_at_ms - now_ms > REFRESH_WHEN_LEFT_MS {
        return Ok(session);
    }
    let resp = relay.refresh(token).await?;
    let fresh = Session {
        token: Some(resp.token),
        expires_at_ms: resp.expires_at_ms,
        order_prefix: Some(resp.order_prefix)
            .filter(|p| !p.is_empty())
            .or(session.order_prefix),
        certificate_path: resp.certificate_path.or(session.certificate_path),
        ..session
    };
    fresh.save(store)?;
    crate::clock::record(store, relay.observed_offset())?;
    Ok(fresh)
}

/// Forget the token (after the relay refused it, or on sign-out). The user id and every document
/// stay, so the app keeps working offline and nothing unsynced is lost.
pub fn sign_out_locally(store: &SharedStore) -> Result<(), ClientError> {
    if let Some(mut s) = Session::load(store)? {
        s.token = None;
        s.save(store)?;
    }
    Ok(())
}

/// What [`sign_out`] could tell the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedOut {
    /// The relay revoked the token (or had already refused it).
    Revoked,
    /// The relay could not be reached or failed; the token was only forgotten here and stays
    /// valid on the relay until it expires.
    RelayNotTold,
    /// There was no token to revoke.
    NoToken,
}

/// Sign out for good: ask the relay to revoke the token, then forget the whole session on this
/// device (documents stay). An unreachable relay does not stop the sign-out. The caller checks
/// that nothing is waiting to sync first.
pub async fn sign_out(store: &SharedStore) -> Result<SignedOut, ClientError> {
    let Some(session) = Session::load(store)? else {
        return Ok(SignedOut::NoToken);
    };
    let outcome = match &session.token {
        None => SignedOut::NoToken,
        Some(token) => match Relay::for_device(store, &session.relay_url)?
            .sign_out(token)
            .await
        {
            Ok(()) => SignedOut::Revoked,
            // A refused token is already dead on the relay.
            Err(e) if e.needs_sign_in() => SignedOut::Revoked,
            Err(_) => SignedOut::RelayNotTold,
        },
    };
    lock(store).kv_delete(SESSION_KEY)?;
    Ok(outcome)
}

/// One URL path segment, as the relay encodes a certificate number.
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(path: Option<&str>) -> Session {
        Session {
            relay_url: "http://relay.example/".into(),
            user_id: "tech.a".into(),
            display_name: "A".into(),
            role: Role::Technician,
            token: None,
            expires_at_ms: 0,
            order_prefix: None,
            certificate_path: path.map(str::to_owned),
        }
    }

    #[test]
    fn the_certificate_url_is_used_only_for_the_certificate_it_names() {
        let s = session(Some("/verify/cert/CERT%201/abc"));
        assert_eq!(
            s.certificate_url("CERT 1").as_deref(),
            Some("http://relay.example/verify/cert/CERT%201/abc"),
            "relay URL plus the signed path"
        );
        assert_eq!(
            s.certificate_url("CERT 2"),
            None,
            "a renumbered certificate has no link until the next sign-in"
        );
        assert_eq!(
            session(None).certificate_url("CERT 1"),
            None,
            "no link from an older relay"
        );
    }

    #[test]
    fn a_session_stored_before_the_new_fields_still_loads() {
        let old = r#"{"relay_url":"http://r","user_id":"u","display_name":"U","role":"technician","token":null,"expires_at_ms":1}"#;
        let s: Session = serde_json::from_str(old).expect("an older stored session still reads");
        assert_eq!(
            (s.order_prefix, s.certificate_path),
            (None, None),
            "no prefix, no link"
        );
    }
}
