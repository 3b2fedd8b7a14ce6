//! SLA targets by customer tier and their evaluation from device-time progress events.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::order::Tier;
use crate::progress::{ProgressEvent, ProgressKind};
use crate::{HOUR, MINUTE, Millis};

/// Deadlines for one order, fixed at creation from the tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct SlaTargets {
    pub respond_by_ms: Millis,
    pub arrive_by_ms: Millis,
    pub complete_by_ms: Millis,
}

/// Durations from creation per tier. [`SlaPolicy::PUBLISHED`] (also the `Default`) is the
/// published standard: orders are created with it and every device evaluates badges with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaPolicy {
    /// (respond, arrive, complete) durations for standard, gold and platinum customers.
    pub standard: [Millis; 3],
    pub gold: [Millis; 3],
    pub platinum: [Millis; 3],
    /// A pending target is "at risk" once less than this fraction (in percent) of its duration is left.
    pub at_risk_percent: i64,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        SlaPolicy::PUBLISHED
    }
}

impl SlaPolicy {
    /// The published standard.
    pub const PUBLISHED: SlaPolicy = SlaPolicy {
        standard: [2 * HOUR, 24 * HOUR, 48 * HOUR],
        gold: [HOUR, 8 * HOUR, 24 * HOUR],
        platinum: [30 * MINUTE, 4 * HOUR, 12 * HOUR],
        at_risk_percent: 25,
    };

    pub fn targets(&self, tier: Tier, created_at: Millis) -> SlaTargets {
        let [r, a, c] = match tier {
            Tier::Standard => self.standard,
            Tier::Gold => self.gold,
            Tier::Platinum => self.platinum,
        };
        SlaTargets {
            respond_by_ms: created_at + r,
            arrive_by_ms: created_at + a,
            complete_by_ms: created_at + c,
        }
    }
}

/// The state of one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TargetState {
    /// Reached in time.
    Met { at_ms: Millis },
    /// Reached, but after the deadline.
    Late { at_ms: Millis, late_by_ms: Millis },
    /// Not reached yet, enough time left.
    Pending { remaining_ms: Millis },
    /// Not reached yet, little time left.
    AtRisk { remaining_ms: Millis },
    /// Not reached and the deadline has passed.
    Breached { overdue_ms: Millis },
}

/// The badge the Today screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaBadge {
    Met,
    OnTrack,
    AtRisk,
    Breached,
}

impl TargetState {
    pub fn badge(self) -> SlaBadge {
        match self {
            TargetState::Met { .. } => SlaBadge::Met,
            TargetState::Pending { .. } => SlaBadge::OnTrack,
            TargetState::AtRisk { .. } => SlaBadge::AtRisk,
            TargetState::Late { .. } | TargetState::Breached { .. } => SlaBadge::Breached,
        }
    }
}

/// All three targets evaluated at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaReport {
    pub respond: TargetState,
    pub arrive: TargetState,
    pub complete: TargetState,
    /// The worst of the three.
    pub badge: SlaBadge,
}

fn evaluate_one(
    created_at: Millis,
    deadline: Millis,
    reached: Option<Millis>,
    now: Millis,
    at_risk_percent: i64,
) -> TargetState {
    match reached {
        Some(at) if at <= deadline => TargetState::Met { at_ms: at },
        Some(at) => TargetState::Late {
            at_ms: at,
            late_by_ms: at - deadline,
        },
        None if now > deadline => TargetState::Breached {
            overdue_ms: now - deadline,
        },
        None => {
            let remaining = deadline - now;
            let total = (deadline - created_at).max(1);
            if remaining * 100 < total * at_risk_percent {
                TargetState::AtRisk {
                    remaining_ms: remaining,
                }
            } else {
                TargetState::Pending {
                    remaining_ms: remaining,
                }
            }
        }
    }
}

/// Evaluate `targets` at `now` from the progress events of every visit of the order (the earliest
/// response counts even if the order was later transferred). Responding is the first progress
/// event of any kind, arriving is `Arrived`, completing is `Signed`.
pub fn evaluate<'a>(
    created_at: Millis,
    targets: &SlaTargets,
    events: impl IntoIterator<Item = &'a ProgressEvent>,
    policy: &SlaPolicy,
    now: Millis,
) -> SlaReport {
    let mut responded: Option<Millis> = None;
    let mut arrived: Option<Millis> = None;
    let mut completed: Option<Millis> = None;
    let min = |slot: &mut Option<Millis>, at: Millis| {
        *slot = Some(slot.map_or(at, |s| s.min(at)));
    };
    for e in events {
        if e.kind != ProgressKind::Reopened {
            min(&mut responded, e.at_ms);
        }
        match e.kind {
            ProgressKind::Arrived => min(&mut arrived, e.at_ms),
            ProgressKind::Signed => min(&mut completed, e.at_ms),
            _ => {}
        }
    }
    let p = policy.at_risk_percent;
    let respond = evaluate_one(created_at, targets.respond_by_ms, responded, now, p);
    let arrive = evaluate_one(created_at, targets.arrive_by_ms, arrived, now, p);
    let complete = evaluate_one(created_at, targets.complete_by_ms, completed, now, p);
    let badge = [respond.badge(), arrive.badge(), complete.badge()]
        .into_iter()
        .max()
        .unwrap_or(SlaBadge::OnTrack);
    SlaReport {
        respond,
        arrive,
        complete,
        badge,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: ProgressKind, at: Millis) -> ProgressEvent {
        ProgressEvent {
            id: format!("{kind:?}-{at}"),
            kind,
            at_ms: at,
            device_id: "d".into(),
        }
    }

    const T0: Millis = 1_700_000_000_000;

    #[test]
    fn targets_follow_the_tier() {
        let p = SlaPolicy::default();
        let s = p.targets(Tier::Standard, T0);
        let g = p.targets(Tier::Gold, T0);
        let pl = p.targets(Tier::Platinum, T0);
        assert_eq!(s.respond_by_ms - T0, 2 * HOUR);
        assert!(
            pl.arrive_by_ms < g.arrive_by_ms && g.arrive_by_ms < s.arrive_by_ms,
            "higher tiers must get tighter arrival targets"
        );
        assert!(pl.complete_by_ms < g.complete_by_ms && g.complete_by_ms < s.complete_by_ms);
    }

    #[test]
    fn all_reached_in_time_is_met() {
        let p = SlaPolicy::default();
        let t = p.targets(Tier::Gold, T0);
        let events = [
            ev(ProgressKind::EnRoute, T0 + 30 * MINUTE),
            ev(ProgressKind::Arrived, T0 + 2 * HOUR),
            ev(ProgressKind::Signed, T0 + 4 * HOUR),
        ];
        let r = evaluate(T0, &t, &events, &p, T0 + 5 * HOUR);
        assert_eq!(r.badge, SlaBadge::Met);
        assert_eq!(
            r.arrive,
            TargetState::Met {
                at_ms: T0 + 2 * HOUR
            }
        );
    }

    #[test]
    fn reached_after_deadline_is_late_and_breached() {
        let p = SlaPolicy::default();
        let t = p.targets(Tier::Platinum, T0);
        let events = [ev(ProgressKind::Arrived, T0 + 5 * HOUR)];
        let r = evaluate(T0, &t, &events, &p, T0 + 5 * HOUR);
        assert_eq!(
            r.arrive,
            TargetState::Late {
                at_ms: T0 + 5 * HOUR,
                late_by_ms: HOUR
            }
        );
        assert_eq!(r.badge, SlaBadge::Breached);
    }

    #[test]
    fn pending_then_at_risk_then_breached_as_time_passes() {
        let p = SlaPolicy::default();
        let t = p.targets(Tier::Standard, T0);
        let none: [ProgressEvent; 0] = [];
        let early = evaluate(T0, &t, &none, &p, T0 + 10 * MINUTE);
        assert_eq!(
            early.respond,
            TargetState::Pending {
                remaining_ms: 110 * MINUTE
            }
        );
        assert_eq!(early.badge, SlaBadge::OnTrack);
        // 2 h target, 25 % → at risk in the last 30 minutes.
        let late = evaluate(T0, &t, &none, &p, T0 + 100 * MINUTE);
        assert_eq!(
            late.respond,
            TargetState::AtRisk {
                remaining_ms: 20 * MINUTE
            }
        );
        assert_eq!(late.badge, SlaBadge::AtRisk);
        let over = evaluate(T0, &t, &none, &p, T0 + 3 * HOUR);
        assert_eq!(over.respond, TargetState::Breached { overdue_ms: HOUR });
        assert_eq!(over.badge, SlaBadge::Breached);
    }

    #[test]
    fn earliest_event_across_visits_counts_for_response() {
        let p = SlaPolicy::default();
        let t = p.targets(Tier::Standard, T0);
        // Previous technician accepted in time; the new one only later.
        let events = [
            ev(ProgressKind::EnRoute, T0 + 3 * HOUR),
            ev(ProgressKind::Accepted, T0 + HOUR),
        ];
        let r = evaluate(T0, &t, &events, &p, T0 + 3 * HOUR);
        assert_eq!(r.respond, TargetState::Met { at_ms: T0 + HOUR });
    }

    #[test]
    fn reopening_does_not_count_as_a_response() {
        let p = SlaPolicy::default();
        let t = p.targets(Tier::Standard, T0);
        let events = [ev(ProgressKind::Reopened, T0 + MINUTE)];
        let r = evaluate(T0, &t, &events, &p, T0 + 2 * MINUTE);
        assert!(matches!(r.respond, TargetState::Pending { .. }));
    }
}
