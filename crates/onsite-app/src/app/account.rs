//! The session as the technician sees it: what the sign-in screen proposes, and signing out.

use super::{App, lock};
use crate::error::AppError;
use crate::view::{SignInForm, SignOutView};

/// Key of the last relay URL someone signed in at on this device (kept after sign-out).
const LAST_RELAY_KEY: &str = "app.last_relay_url";

impl App {
    /// What the sign-in screen proposes: the relay last signed in at on this device, or the
    /// default relay ([`onsite_wire::DEFAULT_RELAY_URL`]) on a fresh device, and whether plain
    /// HTTP to another machine is allowed here.
    pub fn sign_in_form(&self) -> Result<SignInForm, AppError> {
        let last = lock(&self.store)
            .kv_get(LAST_RELAY_KEY)?
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|u| !u.is_empty());
        Ok(SignInForm {
            relay_url: last.unwrap_or_else(|| onsite_wire::DEFAULT_RELAY_URL.to_owned()),
            default_relay_url: onsite_wire::DEFAULT_RELAY_URL.to_owned(),
            allow_plain_http: onsite_client::Transport::load(&self.store)?.allow_plain_http,
        })
    }

    /// Keep `url` as the relay the next sign-in screen proposes.
    pub(super) fn remember_relay(&self, url: &str) -> Result<(), AppError> {
        lock(&self.store).kv_set(LAST_RELAY_KEY, url.as_bytes())?;
        Ok(())
    }

    /// Sign out: refused while anything on the device is not synced yet (it would be stranded
    /// until the same technician signs in again). Otherwise the relay is asked to revoke the
    /// token and the session is forgotten on this device; the documents stay. When the relay
    /// cannot be reached the sign-out still happens locally (`relay_notified: false`): the token
    /// is gone from the device and expires on the relay by itself.
    pub async fn sign_out(&self) -> Result<SignOutView, AppError> {
        let unsynced = {
            let store = lock(&self.store);
            store.pending_count()?.max(0) as u64 + store.pending_attachments()?.len() as u64
        };
        if unsynced > 0 {
            return Err(AppError::UnsyncedWork(unsynced));
        }
        self.stop_sync();
        let outcome = onsite_client::sign_out(&self.store).await?;
        Ok(SignOutView {
            relay_notified: outcome != onsite_client::SignedOut::RelayNotTold,
        })
    }
}
