//! How this device may reach its relay: HTTPS, or plain `http://` only to this machine
//! (127.0.0.0/8, `::1`, `localhost`) unless the user explicitly allowed it; and which extra root
//! certificates (a centre's own CA, PEM) it trusts besides the built-in ones. Kept in the store's
//! kv next to the session, so the sign-in and every later request read the same choice.

use serde::{Deserialize, Serialize};

use crate::{ClientError, SharedStore, lock};

const TRANSPORT_KEY: &str = "client.transport";

/// The device's transport settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transport {
    /// Plain `http://` to a relay on another machine is allowed: passwords and data cross the
    /// network unencrypted. Off unless the user turned it on (the app shows it while on).
    #[serde(default)]
    pub allow_plain_http: bool,
    /// Root certificates trusted besides the built-in ones, PEM (one or more certificates).
    #[serde(default)]
    pub extra_roots_pem: Option<String>,
}

impl Transport {
    /// The settings stored on this device (the defaults when none are).
    pub fn load(store: &SharedStore) -> Result<Transport, ClientError> {
        let bytes = lock(store).kv_get(TRANSPORT_KEY)?;
        Ok(bytes
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default())
    }

    /// Keep these settings on the device; extra roots that are not PEM certificates are refused
    /// and nothing is stored.
    pub fn save(&self, store: &SharedStore) -> Result<(), ClientError> {
        // The roots must make a client (a PEM block can hold a certificate that does not parse).
        crate::Relay::with_transport("https://localhost", self)?;
        let bytes = serde_json::to_vec(self).expect("transport settings serialise");
        lock(store).kv_set(TRANSPORT_KEY, &bytes)?;
        Ok(())
    }

    /// The extra roots as certificates, or why they cannot be.
    pub(crate) fn roots(&self) -> Result<Vec<reqwest::Certificate>, ClientError> {
        let Some(pem) = self
            .extra_roots_pem
            .as_deref()
            .filter(|p| !p.trim().is_empty())
        else {
            return Ok(Vec::new());
        };
        let bad = |detail: String| ClientError::BadTrustedRoot(detail);
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(bad("no -----BEGIN CERTIFICATE----- block".into()));
        }
        let roots = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| bad(e.to_string()))?;
        if roots.is_empty() {
            return Err(bad("no certificate in the PEM text".into()));
        }
        Ok(roots)
    }

    /// Whether a request to `url` may go out: HTTPS always, plain HTTP only to this machine or
    /// when the user allowed it.
    pub(crate) fn check(&self, url: &reqwest::Url) -> Result<(), ClientError> {
        if url.scheme() == "http" && !self.allow_plain_http && !is_loopback(url) {
            return Err(ClientError::PlainHttp(
                url.as_str().trim_end_matches('/').into(),
            ));
        }
        Ok(())
    }
}

/// Whether `url` names this machine: `localhost`, an address in 127.0.0.0/8 or `::1`.
pub fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether the relay at `url` is reached without encryption over a network: plain `http://` to
/// another machine (what the signed-in screen warns about).
pub fn unencrypted(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| u.scheme() == "http" && !is_loopback(&u))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> reqwest::Url {
        reqwest::Url::parse(s).expect("a URL")
    }

    #[test]
    fn plain_http_is_only_for_this_machine_unless_allowed() {
        let strict = Transport::default();
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.3.4.5",
            "http://[::1]:8080",
            "http://localhost:8080",
            "http://LOCALHOST",
            "https://relay.example",
            "https://192.0.2.7",
        ] {
            assert!(strict.check(&url(ok)).is_ok(), "{ok} needs no permission");
        }
        for refused in [
            "http://relay.example:8080",
            "http://192.0.2.7",
            "http://[2001:db8::1]",
            "http://localhost.example.com",
            "http://128.0.0.1",
        ] {
            let e = strict.check(&url(refused)).unwrap_err();
            assert_eq!(
                e.code(),
                onsite_domain::Code::SyncPlainHttp,
                "{refused} crosses a network unencrypted"
            );
        }
        let allowed = Transport {
            allow_plain_http: true,
            ..Transport::default()
        };
        assert!(
            allowed.check(&url("http://relay.example:8080")).is_ok(),
            "the user's explicit choice allows it"
        );
    }

    #[test]
    fn unencrypted_means_plain_http_to_another_machine() {
        assert!(unencrypted("http://relay.example:8080"));
        assert!(
            !unencrypted("http://127.0.0.1:8080"),
            "loopback stays local"
        );
        assert!(!unencrypted("https://relay.example"));
    }

    #[test]
    fn extra_roots_must_be_pem_certificates() {
        let t = Transport {
            extra_roots_pem: Some("not a certificate".into()),
            ..Transport::default()
        };
        assert_eq!(
            t.roots().unwrap_err().code(),
            onsite_domain::Code::SyncBadTrustedRoot,
            "garbage is refused with its code"
        );
        assert!(
            Transport::default().roots().unwrap().is_empty(),
            "no extra roots by default"
        );
    }
}
