//! Which jobs a device holds: the open ones and those active within a window of history (issue
//! 14, partial replicas). A centre accumulates hundreds of thousands of orders a year; a
//! dispatcher's device holds the registry, every open job and the jobs touched within the last
//! [`DEFAULT_WINDOW_DAYS`] days (configurable per device), and fetches older ones from the relay
//! when asked (search, household history). The same rule decides what the relay sends a fresh device and what a
//! device may evict, so the two agree.
//!
//! A **job** is an order with its visits. It is *settled* when it is completed or cancelled
//! ([`EffectiveStatus`]); its *last activity* is the newest time written in it (created,
//! status changed, transferred, any visit step, signature, follow-up call or complaint).
//! Times are the ones the documents carry, so the relay and every device compute the same value
//! from the same documents; a device that wrote a wrong time only moves its job in or out of
//! others' windows, never past access control.

use crate::Millis;
use crate::order::Order;
use crate::status::{self, EffectiveStatus};
use crate::visit::Visit;

/// The history window a dispatcher's device holds unless configured otherwise: a year, because
/// the statistics and an appliance's service history on the device cover what it holds, and a
/// centre compares this month with the same month last year. A centre with more history than a
/// device should carry sets a shorter one (90 days holds about a quarter of this one's jobs).
pub const DEFAULT_WINDOW_DAYS: u32 = 365;

/// Longest window a device may ask for (ten years): beyond it, ask for the whole history.
pub const MAX_WINDOW_DAYS: u32 = 3_650;

const DAY_MS: Millis = 24 * 60 * 60 * 1000;

/// What the window needs to know about a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// Completed or cancelled.
    pub settled: bool,
    /// The newest time written in the order or its visits.
    pub last_activity_ms: Millis,
}

/// The job of `order` with `visits` (visits of other orders are ignored).
pub fn job<'a>(order: &Order, visits: impl IntoIterator<Item = &'a Visit> + Clone) -> Job {
    let status = status::derive(order, visits.clone()).status;
    let visit_times = visits
        .into_iter()
        .filter(|v| v.order_id == order.order_id)
        .flat_map(visit_times);
    let order_times = [order.created_at_ms, order.status_changed_at_ms]
        .into_iter()
        .chain(order.transfers.iter().map(|t| t.at_ms))
        .chain(order.follow_ups.iter().map(|f| f.at_ms))
        .chain(order.complaints.iter().flat_map(|c| {
            std::iter::once(c.received_at_ms).chain(c.resolution.iter().map(|r| r.at_ms))
        }));
    Job {
        settled: matches!(
            status,
            EffectiveStatus::Completed | EffectiveStatus::Cancelled
        ),
        last_activity_ms: order_times.chain(visit_times).max().unwrap_or(0),
    }
}

fn visit_times(v: &Visit) -> impl Iterator<Item = Millis> + '_ {
    v.events
        .iter()
        .map(|e| e.at_ms)
        .chain(v.signature.iter().map(|s| s.signed_at_ms))
        .chain(v.signature_history.iter().map(|s| s.signed_at_ms))
}

/// The oldest last activity a settled job may have and still be held, `window_days` before
/// `now_ms`.
pub fn cutoff(now_ms: Millis, window_days: u32) -> Millis {
    now_ms.saturating_sub(Millis::from(window_days.min(MAX_WINDOW_DAYS)) * DAY_MS)
}

/// Whether a device with the window ending at `cutoff_ms` holds the job: open, or active since.
pub fn held(job: Job, cutoff_ms: Millis) -> bool {
    !job.settled || job.last_activity_ms >= cutoff_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_800_000_000_000;

    #[test]
    fn open_jobs_are_held_however_old_and_settled_ones_only_inside_the_window() {
        let old = NOW - 400 * DAY_MS;
        let recent = NOW - 10 * DAY_MS;
        let c = cutoff(NOW, 90);
        assert!(
            held(
                Job {
                    settled: false,
                    last_activity_ms: old
                },
                c
            ),
            "an order on hold for a year is still open work: the dispatcher must see it"
        );
        assert!(held(
            Job {
                settled: true,
                last_activity_ms: recent
            },
            c
        ));
        assert!(
            !held(
                Job {
                    settled: true,
                    last_activity_ms: old
                },
                c
            ),
            "a job completed 400 days ago is history, fetched on demand"
        );
        assert!(
            held(
                Job {
                    settled: true,
                    last_activity_ms: c
                },
                c
            ),
            "the cutoff itself is inside"
        );
    }

    #[test]
    fn a_window_longer_than_ten_years_is_ten_years() {
        assert_eq!(cutoff(NOW, u32::MAX), cutoff(NOW, MAX_WINDOW_DAYS));
    }
}
