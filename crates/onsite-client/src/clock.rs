//! The relay's time on this device. Devices' clocks are hours off often enough (set by hand, a
//! flat battery, a wrong zone) that SLA figures computed from device timestamps would be
//! fiction. Every answer of the relay carries its clock in the HTTP `Date` header; the client
//! keeps how far the relay's clock is ahead of the device's ([`ClockOffset`]) in the store, so a
//! device that restarts offline still knows it, and the app stamps what happens with device time
//! plus that offset ([`RelayClock`]). Offsets within [`DEADBAND_MS`] count as none: `Date` has one-second
//! resolution, and a device time that wobbled with every sync would help nobody.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::{ClientError, SharedStore, lock};

const OFFSET_KEY: &str = "client.clock_offset_ms";
/// Offsets (and changes of the offset) smaller than this are ignored.
pub const DEADBAND_MS: i64 = 2_000;

/// This device's clock (Unix milliseconds).
pub type DeviceClock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The device's clock and how many milliseconds the relay's is ahead of it: shared between the
/// sync task, which learns the offset, and the app, which stamps with [`RelayClock::now`].
#[derive(Clone)]
pub struct RelayClock {
    device: DeviceClock,
    offset: Arc<AtomicI64>,
}

impl std::fmt::Debug for RelayClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RelayClock {{ offset_ms: {} }}", self.offset_ms())
    }
}

impl Default for RelayClock {
    /// The system clock, no offset yet.
    fn default() -> Self {
        RelayClock::new(Arc::new(crate::now_ms))
    }
}

impl RelayClock {
    /// `device`'s time, no offset yet.
    pub fn new(device: DeviceClock) -> RelayClock {
        RelayClock {
            device,
            offset: Arc::default(),
        }
    }

    /// With the offset kept in `store` (0 before the first answer of a relay).
    pub fn loaded(self, store: &SharedStore) -> RelayClock {
        self.reload(store);
        self
    }

    /// The relay's time as this device reckons it.
    pub fn now(&self) -> i64 {
        self.device_now() + self.offset_ms()
    }

    pub fn device_now(&self) -> i64 {
        (self.device)()
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset.load(Ordering::Relaxed)
    }

    /// Take the offset the store now keeps (after a sync or a sign-in stored a new one).
    pub fn reload(&self, store: &SharedStore) {
        self.offset
            .store(stored(store).unwrap_or(0), Ordering::Relaxed);
    }
}

fn stored(store: &SharedStore) -> Result<i64, ClientError> {
    Ok(lock(store)
        .kv_get(OFFSET_KEY)?
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map(i64::from_be_bytes)
        .unwrap_or(0))
}

/// Keep `observed` as the device's offset when it moved by more than [`DEADBAND_MS`] (a small
/// one is kept as 0).
pub(crate) fn record(store: &SharedStore, observed: Option<i64>) -> Result<(), ClientError> {
    let Some(observed) = observed else {
        return Ok(());
    };
    let observed = if observed.abs() < DEADBAND_MS {
        0
    } else {
        observed
    };
    if (observed - stored(store)?).abs() >= DEADBAND_MS {
        lock(store).kv_set(OFFSET_KEY, &observed.to_be_bytes())?;
    }
    Ok(())
}

/// The offset one answer shows: its `Date` (whole seconds, so half a second is added, the
/// expected truncation) minus the device's time halfway through the exchange.
pub(crate) fn offset_of(date: Option<&str>, sent_ms: i64, received_ms: i64) -> Option<i64> {
    let relay = chrono::DateTime::parse_from_rfc2822(date?)
        .ok()?
        .timestamp_millis()
        + 500;
    Some(relay - (sent_ms + (received_ms - sent_ms) / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_dated_three_hours_ahead_gives_three_hours() {
        let sent = chrono::DateTime::parse_from_rfc2822("Thu, 03 Dec 2026 13:00:00 GMT")
            .expect("date")
            .timestamp_millis();
        let got = offset_of(Some("Thu, 03 Dec 2026 16:00:00 GMT"), sent, sent + 200);
        assert_eq!(
            got,
            Some(3 * 3_600_000 + 500 - 100),
            "relay time (+ half its second) minus the exchange's midpoint"
        );
        assert_eq!(offset_of(None, 0, 0), None, "no Date header, no offset");
        assert_eq!(
            offset_of(Some("yesterday"), 0, 0),
            None,
            "an unreadable date is ignored"
        );
    }
}
