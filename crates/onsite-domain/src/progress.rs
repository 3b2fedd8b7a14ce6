//! The visit's progress timeline: append-only events with device time, and which step may follow
//! which.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::{DomainError, Millis};

/// One step of the visit.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Reconcile,
    Hydrate,
    Serialize,
    Deserialize,
)]
pub enum ProgressKind {
    /// The technician accepted the job / contacted the customer (the SLA "respond" target).
    Accepted,
    EnRoute,
    Arrived,
    WorkStarted,
    WorkDone,
    /// The customer signed the service record.
    Signed,
    /// A signed record was deliberately reopened for correction; the old signature is kept.
    Reopened,
}

impl ProgressKind {
    /// Position in the normal flow; `Reopened` puts the visit back to "work done".
    fn rank(self) -> u8 {
        match self {
            ProgressKind::Accepted => 0,
            ProgressKind::EnRoute => 1,
            ProgressKind::Arrived => 2,
            ProgressKind::WorkStarted => 3,
            ProgressKind::WorkDone | ProgressKind::Reopened => 4,
            ProgressKind::Signed => 5,
        }
    }
}

/// One recorded step. Events are only ever appended.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ProgressEvent {
    #[key]
    pub id: String,
    pub kind: ProgressKind,
    /// Device time when the step happened.
    pub at_ms: Millis,
    pub device_id: String,
}

/// Events in the order they happened (device time, then flow rank, then id, so every replica
/// sees the same order whatever order the merge produced).
pub fn ordered(events: &[ProgressEvent]) -> Vec<&ProgressEvent> {
    ordered_refs(events.iter().collect())
}

/// [`ordered`] for events already borrowed.
pub fn ordered_refs(mut v: Vec<&ProgressEvent>) -> Vec<&ProgressEvent> {
    v.sort_by(|a, b| (a.at_ms, a.kind.rank(), &a.id).cmp(&(b.at_ms, b.kind.rank(), &b.id)));
    v
}

/// Where the visit is now: the kind of the latest event, `None` before the first.
pub fn current(events: &[ProgressEvent]) -> Option<ProgressKind> {
    ordered(events).last().map(|e| e.kind)
}

/// The time a new step is recorded at: the device's `now`, but never before the timeline's
/// latest step. A device clock set back — by hand, or corrected to the relay's time
/// (`onsite_client::ClockOffset`) — must neither reorder a visit nor refuse its next step; the
/// relay still refuses a timeline that goes backwards ([`check`]), which only a forged one does.
pub fn stamp(events: &[ProgressEvent], now: Millis) -> Millis {
    ordered(events)
        .last()
        .map_or(now, |last| now.max(last.at_ms))
}

/// Whether `next` may follow the current state. Every refusal is typed and says what to do.
pub fn check(events: &[ProgressEvent], next: ProgressKind, at: Millis) -> Result<(), DomainError> {
    use ProgressKind::*;
    let cur = current(events);
    if let Some(last) = ordered(events).last()
        && at < last.at_ms
    {
        return Err(DomainError::TimeWentBackwards {
            at_ms: at,
            previous_ms: last.at_ms,
        });
    }
    let allowed = match next {
        Accepted => cur.is_none(),
        EnRoute => matches!(cur, None | Some(Accepted)),
        Arrived => matches!(cur, None | Some(Accepted) | Some(EnRoute)),
        WorkStarted => cur == Some(Arrived),
        WorkDone => cur == Some(WorkStarted),
        Signed => matches!(cur, Some(WorkDone) | Some(Reopened)),
        Reopened => cur == Some(Signed),
    };
    if allowed {
        return Ok(());
    }
    let cur_rank = cur.map(ProgressKind::rank);
    if next != Reopened && next != Signed && cur_rank.is_some_and(|r| r >= next.rank()) {
        return Err(DomainError::AlreadyRecorded { kind: next });
    }
    let hint = match next {
        Accepted => "a job is accepted before anything else",
        EnRoute | Arrived => "this step is already behind the visit",
        WorkStarted => "record 'arrived' first",
        WorkDone => "record 'work started' first",
        Signed => "record 'work done' first",
        Reopened => "only a signed record can be reopened",
    };
    Err(DomainError::InvalidTransition {
        current: cur,
        attempted: next,
        hint,
    })
}

#[cfg(test)]
mod tests {
    use super::ProgressKind::*;
    use super::*;

    fn timeline(kinds: &[ProgressKind]) -> Vec<ProgressEvent> {
        kinds
            .iter()
            .enumerate()
            .map(|(i, k)| ProgressEvent {
                id: format!("e{i}"),
                kind: *k,
                at_ms: 1_000 + i as i64 * 1_000,
                device_id: "dev".into(),
            })
            .collect()
    }

    const NOW: Millis = 100_000;

    #[test]
    fn the_normal_flow_is_allowed_step_by_step() {
        let flow = [
            Accepted,
            EnRoute,
            Arrived,
            WorkStarted,
            WorkDone,
            Signed,
            Reopened,
            Signed,
        ];
        for i in 0..flow.len() {
            let ev = timeline(&flow[..i]);
            assert_eq!(
                check(&ev, flow[i], NOW),
                Ok(()),
                "{:?} must follow {:?}",
                flow[i],
                &flow[..i]
            );
        }
    }

    #[test]
    fn optional_early_steps_can_be_skipped() {
        assert_eq!(
            check(&[], EnRoute, NOW),
            Ok(()),
            "en route without accepting first"
        );
        assert_eq!(
            check(&[], Arrived, NOW),
            Ok(()),
            "arriving without 'en route'"
        );
        assert_eq!(check(&timeline(&[Accepted]), Arrived, NOW), Ok(()));
    }

    #[test]
    fn work_cannot_be_done_before_arrival() {
        for before in [&[][..], &[Accepted][..], &[Accepted, EnRoute][..]] {
            for next in [WorkStarted, WorkDone, Signed] {
                let err = check(&timeline(before), next, NOW).unwrap_err();
                assert_eq!(
                    err.code(),
                    "progress.invalid_transition",
                    "{next:?} after {before:?}"
                );
            }
        }
        let err = check(&timeline(&[Arrived]), WorkDone, NOW).unwrap_err();
        assert!(matches!(
            err,
            DomainError::InvalidTransition {
                attempted: WorkDone,
                ..
            }
        ));
    }

    #[test]
    fn steps_already_behind_are_refused_as_already_recorded() {
        let ev = timeline(&[Arrived, WorkStarted]);
        for k in [Accepted, EnRoute, Arrived, WorkStarted] {
            assert_eq!(
                check(&ev, k, NOW).unwrap_err().code(),
                "progress.already_recorded",
                "{k:?}"
            );
        }
    }

    #[test]
    fn reopen_only_from_signed_and_nothing_after_signed_but_reopen() {
        assert_eq!(
            check(&timeline(&[Arrived]), Reopened, NOW)
                .unwrap_err()
                .code(),
            "progress.invalid_transition"
        );
        let signed = timeline(&[Arrived, WorkStarted, WorkDone, Signed]);
        assert_eq!(
            check(&signed, Signed, NOW).unwrap_err().code(),
            "progress.invalid_transition"
        );
        assert_eq!(
            check(&signed, WorkDone, NOW).unwrap_err().code(),
            "progress.already_recorded"
        );
    }

    #[test]
    fn device_time_must_not_go_backwards() {
        let ev = timeline(&[Arrived]);
        let err = check(&ev, WorkStarted, 500).unwrap_err();
        assert_eq!(
            err,
            DomainError::TimeWentBackwards {
                at_ms: 500,
                previous_ms: 1_000
            }
        );
    }

    #[test]
    fn a_step_is_stamped_no_earlier_than_the_latest_one() {
        let mut t = timeline(&[Accepted, EnRoute]);
        let latest = t.iter().map(|e| e.at_ms).max().expect("events");
        assert_eq!(
            stamp(&t, latest - 3_600_000),
            latest,
            "a clock set back an hour"
        );
        assert_eq!(
            stamp(&t, latest + 5),
            latest + 5,
            "a clock going forward is used"
        );
        assert_eq!(stamp(&[], 42), 42, "the first step takes the device's time");
        t.reverse();
        assert_eq!(
            stamp(&t, 0),
            latest,
            "whatever order the merge left the list in"
        );
    }

    #[test]
    fn current_is_independent_of_list_order() {
        let mut ev = timeline(&[EnRoute, Arrived, WorkStarted]);
        ev.reverse();
        assert_eq!(current(&ev), Some(WorkStarted));
    }
}
