//! The dispatcher's board for one day: the order pool (unassigned, not cancelled), one lane per
//! technician with their orders scheduled that day (cancelled orders are left off the board;
//! the conflict review lists a cancelled order that was completed all the same), SLA state per order and the at-risk and
//! breached counts; which orders newly became at risk or breached between two evaluations (the
//! in-app alert, computed from device time, offline too); and the assignment picker (every
//! technician, with why they cannot be chosen). Everything comes out in a fixed order: the UI
//! never sorts.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::Millis;
use crate::order::{DispatchStatus, Order, Window};
use crate::reference::{CertificateState, NotQualified, TechnicianProfile};
use crate::sla::{self, SlaBadge, SlaPolicy, SlaReport, TargetState};
use crate::status::{self, EffectiveStatus};
use crate::visit::Visit;

/// The day the board shows: `[start_ms, end_ms)` in device-local time, as Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub start_ms: Millis,
    pub end_ms: Millis,
}

impl Day {
    /// Whether `w` overlaps the day.
    pub fn overlaps(&self, w: &Window) -> bool {
        w.start_ms < self.end_ms && w.end_ms > self.start_ms
    }
}

/// One order on the board.
#[derive(Debug, Clone, PartialEq)]
pub struct BoardOrder<'a> {
    pub order: &'a Order,
    /// From [`status::derive`] over the order and its visits.
    pub status: EffectiveStatus,
    /// SLA evaluated at the board's `now` from every visit's progress events.
    pub sla: SlaReport,
    /// The deadline of the first target not reached yet (respond, then arrive, then complete);
    /// `None` once all three are reached. The lane marks it.
    pub next_deadline_ms: Option<Millis>,
}

impl BoardOrder<'_> {
    /// Still to be done: neither completed nor cancelled. Only these count as at risk or breached.
    pub fn is_open(&self) -> bool {
        !matches!(
            self.status,
            EffectiveStatus::Completed | EffectiveStatus::Cancelled
        )
    }

    /// The badge that counts for the board: the SLA badge of an open order, `None` otherwise.
    pub fn alert_badge(&self) -> Option<SlaBadge> {
        self.is_open().then_some(self.sla.badge)
    }
}

/// One technician's lane.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane<'a> {
    pub technician: &'a TechnicianProfile,
    pub certificate: CertificateState,
    /// Their orders whose schedule window overlaps the day, by window start then order number.
    pub blocks: Vec<BoardOrder<'a>>,
    /// Where each block is drawn: `tracks.of[i]` is the row of `blocks[i]` ([`tracks`]).
    pub tracks: Tracks,
    /// Their open orders without a schedule, most urgent first (as the pool).
    pub unscheduled: Vec<BoardOrder<'a>>,
}

/// How a lane's blocks are stacked so that overlapping windows never draw on top of each other.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracks {
    /// The track (row, from 0) of each window, in the order the windows were given.
    pub of: Vec<u32>,
    /// How many tracks the lane needs: the most windows that overlap at one instant (0 when
    /// there is none).
    pub count: u32,
}

/// Whether two windows share some instant; touching windows (one ends as the other starts) do
/// not.
pub fn windows_overlap(a: &Window, b: &Window) -> bool {
    a.start_ms < b.end_ms && b.start_ms < a.end_ms
}

/// Stack `windows` on tracks: each goes on the lowest track whose windows so far all ended by its
/// start, taken in order of start (then as given). Windows that overlap get different tracks, and
/// no more tracks are used than the most windows overlapping at one instant.
pub fn tracks(windows: &[Window]) -> Tracks {
    let mut order: Vec<usize> = (0..windows.len()).collect();
    order.sort_by_key(|&i| (windows[i].start_ms, i));
    let mut of = vec![0u32; windows.len()];
    // When each track is free again.
    let mut free_at: Vec<Millis> = Vec::new();
    for i in order {
        let w = windows[i];
        let track = match free_at.iter().position(|&end| end <= w.start_ms) {
            Some(t) => t,
            None => {
                free_at.push(w.start_ms);
                free_at.len() - 1
            }
        };
        // A window that ends before it starts still takes its start instant.
        free_at[track] = w.end_ms.max(w.start_ms);
        of[i] = track as u32;
    }
    Tracks {
        of,
        count: free_at.len() as u32,
    }
}

/// The board for one day.
#[derive(Debug, Clone, PartialEq)]
pub struct Board<'a> {
    pub day: Day,
    pub now_ms: Millis,
    /// Unassigned orders that are not cancelled (of any day), most urgent first: breached, at
    /// risk, on track; then by next deadline, then order number.
    pub pool: Vec<BoardOrder<'a>>,
    /// One lane per technician, by technician id.
    pub lanes: Vec<Lane<'a>>,
    /// Open orders on the board (pool and lanes) at risk, and breached.
    pub at_risk: u32,
    pub breached: u32,
}

impl<'a> Board<'a> {
    /// Every order on the board: the pool, then each lane's blocks and unscheduled orders.
    pub fn orders(&self) -> impl Iterator<Item = &BoardOrder<'a>> {
        self.pool.iter().chain(
            self.lanes
                .iter()
                .flat_map(|l| l.blocks.iter().chain(l.unscheduled.iter())),
        )
    }
}

fn next_deadline(order: &Order, sla: &SlaReport) -> Option<Millis> {
    let pending = |s: TargetState| {
        matches!(
            s,
            TargetState::Pending { .. } | TargetState::AtRisk { .. } | TargetState::Breached { .. }
        )
    };
    [
        (sla.respond, order.sla.respond_by_ms),
        (sla.arrive, order.sla.arrive_by_ms),
        (sla.complete, order.sla.complete_by_ms),
    ]
    .into_iter()
    .find(|(s, _)| pending(*s))
    .map(|(_, at)| at)
}

/// Evaluate one order against its visits at `now`.
pub fn board_order<'a>(
    order: &'a Order,
    visits: &[&Visit],
    policy: &SlaPolicy,
    now: Millis,
) -> BoardOrder<'a> {
    let derived = status::derive(order, visits.iter().copied());
    let events = visits
        .iter()
        .filter(|v| v.order_id == order.order_id)
        .flat_map(|v| v.events.iter());
    let sla = sla::evaluate(order.created_at_ms, &order.sla, events, policy, now);
    BoardOrder {
        order,
        status: derived.status,
        next_deadline_ms: next_deadline(order, &sla),
        sla,
    }
}

/// Most urgent first: worst badge, then earliest next deadline (none last), then order number.
fn by_urgency(a: &BoardOrder<'_>, b: &BoardOrder<'_>) -> std::cmp::Ordering {
    let key = |o: &BoardOrder<'_>| {
        (
            Reverse(o.sla.badge),
            o.next_deadline_ms.is_none(),
            o.next_deadline_ms,
        )
    };
    key(a)
        .cmp(&key(b))
        .then_with(|| a.order.order_no.cmp(&b.order.order_no))
        .then_with(|| a.order.order_id.cmp(&b.order.order_id))
}

fn by_window(a: &BoardOrder<'_>, b: &BoardOrder<'_>) -> std::cmp::Ordering {
    let start = |o: &BoardOrder<'_>| o.order.schedule.map(|w| w.start_ms);
    start(a)
        .cmp(&start(b))
        .then_with(|| a.order.order_no.cmp(&b.order.order_no))
        .then_with(|| a.order.order_id.cmp(&b.order.order_id))
}

/// Group visits by their order id.
fn visits_by_order(visits: &[Visit]) -> BTreeMap<&str, Vec<&Visit>> {
    let mut map: BTreeMap<&str, Vec<&Visit>> = BTreeMap::new();
    for v in visits {
        map.entry(v.order_id.as_str()).or_default().push(v);
    }
    map
}

/// The board of `day` at `now` from every order, visit and technician profile on the device.
pub fn board<'a>(
    day: Day,
    orders: &'a [Order],
    visits: &[Visit],
    technicians: &'a [TechnicianProfile],
    policy: &SlaPolicy,
    now: Millis,
) -> Board<'a> {
    let by_order = visits_by_order(visits);
    let mut pool = Vec::new();
    let mut lanes: BTreeMap<&str, Lane<'a>> = technicians
        .iter()
        .map(|t| {
            let lane = Lane {
                technician: t,
                certificate: t.certificate_state(now),
                blocks: Vec::new(),
                tracks: Tracks::default(),
                unscheduled: Vec::new(),
            };
            (t.technician_id.as_str(), lane)
        })
        .collect();
    for order in orders {
        if order.status == DispatchStatus::Cancelled {
            continue;
        }
        let vs = by_order
            .get(order.order_id.as_str())
            .cloned()
            .unwrap_or_default();
        let item = board_order(order, &vs, policy, now);
        match order.assignee.as_deref().and_then(|a| lanes.get_mut(a)) {
            None if order.assignee.is_none() => pool.push(item),
            None => {} // assigned to someone with no profile on this device
            Some(lane) => match order.schedule {
                Some(w) if day.overlaps(&w) => lane.blocks.push(item),
                None if item.is_open() => lane.unscheduled.push(item),
                _ => {}
            },
        }
    }
    pool.sort_by(by_urgency);
    let mut lanes: Vec<Lane<'a>> = lanes.into_values().collect();
    for lane in &mut lanes {
        lane.blocks.sort_by(by_window);
        let windows: Vec<Window> = lane
            .blocks
            .iter()
            .filter_map(|b| b.order.schedule)
            .collect();
        lane.tracks = tracks(&windows);
        lane.unscheduled.sort_by(by_urgency);
    }
    let mut board = Board {
        day,
        now_ms: now,
        pool,
        lanes,
        at_risk: 0,
        breached: 0,
    };
    let count = |b: SlaBadge| {
        board
            .orders()
            .filter(|o| o.alert_badge() == Some(b))
            .count() as u32
    };
    (board.at_risk, board.breached) = (count(SlaBadge::AtRisk), count(SlaBadge::Breached));
    board
}

/// An order that became at risk or breached since the previous evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaAlert {
    pub order_id: String,
    pub order_no: String,
    /// [`SlaBadge::AtRisk`] or [`SlaBadge::Breached`].
    pub badge: SlaBadge,
}

/// The badge of every open order on the board, by order id: what the next evaluation compares
/// against.
pub fn badges(board: &Board<'_>) -> BTreeMap<String, SlaBadge> {
    board
        .orders()
        .filter_map(|o| Some((o.order.order_id.clone(), o.alert_badge()?)))
        .collect()
}

/// Open orders whose badge got worse than in `before` and is now at risk or breached (an order
/// not in `before` counts as on track before). Breached first, then by order number.
pub fn newly_alerting(before: &BTreeMap<String, SlaBadge>, board: &Board<'_>) -> Vec<SlaAlert> {
    let mut out: Vec<SlaAlert> = board
        .orders()
        .filter_map(|o| {
            let now = o.alert_badge()?;
            let was = before
                .get(&o.order.order_id)
                .copied()
                .unwrap_or(SlaBadge::OnTrack);
            (now >= SlaBadge::AtRisk && now > was).then(|| SlaAlert {
                order_id: o.order.order_id.clone(),
                order_no: o.order.order_no.clone(),
                badge: now,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        Reverse(a.badge)
            .cmp(&Reverse(b.badge))
            .then_with(|| a.order_no.cmp(&b.order_no))
            .then_with(|| a.order_id.cmp(&b.order_id))
    });
    out
}

/// One technician in the assignment picker.
#[derive(Debug, Clone, PartialEq)]
pub struct PickerRow<'a> {
    pub technician: &'a TechnicianProfile,
    /// Why they may not take the order ([`TechnicianProfile::not_qualified_for`]).
    pub not_qualified: Option<NotQualified>,
    /// They are the order's assignee already.
    pub current: bool,
    /// Their orders (not cancelled) scheduled on `day`.
    pub load: u32,
}

impl PickerRow<'_> {
    /// The dispatcher may choose them: qualified, and not the assignee already.
    pub fn choosable(&self) -> bool {
        self.not_qualified.is_none() && !self.current
    }
}

/// A technician's load on `day`: their orders (not cancelled) scheduled on it.
pub fn load_on(orders: &[Order], technician_id: &str, day: Day) -> u32 {
    orders
        .iter()
        .filter(|o| o.assignee.as_deref() == Some(technician_id))
        .filter(|o| o.status != DispatchStatus::Cancelled)
        .filter(|o| o.schedule.is_some_and(|w| day.overlaps(&w)))
        .count() as u32
}

/// Every technician for `order`: choosable first, then by technician id.
pub fn picker<'a>(
    order: &Order,
    orders: &[Order],
    technicians: &'a [TechnicianProfile],
    day: Day,
    now: Millis,
) -> Vec<PickerRow<'a>> {
    let mut rows: Vec<PickerRow<'a>> = technicians
        .iter()
        .map(|t| PickerRow {
            technician: t,
            not_qualified: t.not_qualified_for(order.service_type, now),
            current: order.assignee.as_deref() == Some(t.technician_id.as_str()),
            load: load_on(orders, &t.technician_id, day),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.choosable()
            .cmp(&a.choosable())
            .then_with(|| a.technician.technician_id.cmp(&b.technician.technician_id))
    });
    rows
}
