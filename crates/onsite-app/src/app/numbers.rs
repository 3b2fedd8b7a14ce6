//! The order numbers this device gives out: [`onsite_domain::numbering`] with the prefix the
//! relay allocated to this device at sign-in and the device's own sequence, so dispatchers who
//! create or import orders offline at the same time never share a number.

use onsite_domain::Millis;
use onsite_domain::numbering;
use onsite_store::Store;

use super::App;
use crate::error::AppError;

/// The last number this device gave out. Kept whether or not its order was written: a gap in
/// the sequence is harmless, a repeated number is not.
const LAST_KEY: &str = "app.last_order_no";

/// Numbers for one command (one order, or an import's orders), taken under the store's lock.
pub(super) struct Numbers {
    prefix: String,
    utc_offset_minutes: i32,
}

impl Numbers {
    /// The next `count` numbers at `now`, remembered as given out.
    pub(super) fn take(
        &self,
        store: &mut Store,
        now: Millis,
        count: usize,
    ) -> Result<Vec<String>, AppError> {
        let mut last = store
            .kv_get(LAST_KEY)?
            .and_then(|b| String::from_utf8(b).ok());
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let next = numbering::next_order_no(
                last.as_deref(),
                &self.prefix,
                now,
                self.utc_offset_minutes,
            )?
            .format();
            last = Some(next.clone());
            out.push(next);
        }
        if let Some(l) = &last {
            store.kv_set(LAST_KEY, l.as_bytes())?;
        }
        Ok(out)
    }

    /// The next number at `now`, remembered as given out.
    pub(super) fn next(&self, store: &mut Store, now: Millis) -> Result<String, AppError> {
        Ok(self.take(store, now, 1)?.remove(0))
    }
}

impl App {
    /// This device's numbering: the prefix from the session (`order_no.bad_prefix` when the relay
    /// gave none, e.g. an older relay: sign in again).
    pub(super) fn order_numbers(&self) -> Result<Numbers, AppError> {
        let prefix = onsite_client::Session::load(&self.store)?
            .and_then(|s| s.order_prefix)
            .unwrap_or_default();
        numbering::check_prefix(&prefix)?;
        Ok(Numbers {
            prefix,
            utc_offset_minutes: (self.utc_offset_ms / 60_000) as i32,
        })
    }
}
