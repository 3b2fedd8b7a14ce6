//! The dispatch board: pool, lanes, SLA counts, newly alerting orders and the assignment picker.
//! Expectations are worked out by hand from the published SLA policy (gold respond 1 h, platinum
//! respond 30 min, standard respond 2 h / arrive 24 h; at risk in the last 25 %).

use std::collections::BTreeMap;

use onsite_domain::board::{self, Day};
use onsite_domain::order::{DispatchStatus, Order, Window};
use onsite_domain::progress::{ProgressEvent, ProgressKind};
use onsite_domain::reference::{CertificateState, NotQualified, ServiceType, TechnicianProfile};
use onsite_domain::sla::{SlaBadge, SlaPolicy};
use onsite_domain::templates;
use onsite_domain::visit::Visit;
use onsite_domain::{HOUR, MINUTE, Millis, seed};
use onsite_testkit::DAY;

/// When every order was created.
const T0: Millis = DAY + 8 * HOUR;

fn tech(id: &str) -> TechnicianProfile {
    seed::technician(
        id,
        &format!("name of {id}"),
        "13900000000",
        "HC-1",
        DAY - HOUR,
    )
}

/// tech.a and tech.e do everything; tech.b only installations; tech.c's certificate expired;
/// tech.d's was withdrawn. Given out of order: the board and picker sort by id.
fn technicians() -> Vec<TechnicianProfile> {
    let a = tech("tech.a");
    let mut b = tech("tech.b");
    b.qualifications = vec![ServiceType::Installation];
    let mut c = tech("tech.c");
    c.certificate_expiry_ms = DAY;
    let mut d = tech("tech.d");
    d.certificate_withdrawn_at_ms = Some(DAY);
    let e = tech("tech.e");
    vec![d, b, e, a, c]
}

fn order(n: u32) -> Order {
    Order::create(seed::order(n, DAY), &SlaPolicy::PUBLISHED, T0).expect("create")
}

fn assign(o: &mut Order, to: &TechnicianProfile) {
    o.assign(&format!("t-{}", o.order_id), to, "", "disp", T0)
        .expect("assign");
}

/// Orders (seed `order(n)`: n=0 gold repair 9–11, 1 standard installation 11–13, 2 platinum
/// maintenance 13–15, 3 standard repair 15–17, 4 gold installation, 5 standard maintenance,
/// 6 platinum repair):
/// o-00000, o-00001 unassigned; o-00002, o-00003 tech.a today; o-00004 cancelled;
/// o-00005 tech.a tomorrow; o-00006 tech.a without a schedule.
fn world() -> (Vec<Order>, Vec<Visit>, Vec<TechnicianProfile>) {
    let techs = technicians();
    let a = techs.iter().find(|t| t.technician_id == "tech.a").unwrap();
    let mut orders: Vec<Order> = (0..7).map(order).collect();
    for i in [2, 3, 5, 6] {
        assign(&mut orders[i], a);
    }
    orders[4]
        .set_status(DispatchStatus::Cancelled, "customer cancelled", T0)
        .unwrap();
    orders[5].schedule = Some(Window {
        start_ms: DAY + 33 * HOUR,
        end_ms: DAY + 35 * HOUR,
    });
    orders[6].schedule = None;
    // tech.a accepted o-00003 ten minutes after creation: its response is met.
    let library = templates::builtin_library();
    let mut visit = Visit::start(&orders[3], "tech.a", &library).expect("start");
    visit.events.push(ProgressEvent {
        id: "e1".into(),
        kind: ProgressKind::Accepted,
        at_ms: T0 + 10 * MINUTE,
        device_id: "dev".into(),
    });
    (orders, vec![visit], techs)
}

fn today() -> Day {
    Day {
        start_ms: DAY,
        end_ms: DAY + 24 * HOUR,
    }
}

fn ids<'a>(orders: impl IntoIterator<Item = &'a board::BoardOrder<'a>>) -> Vec<&'a str> {
    orders
        .into_iter()
        .map(|o| o.order.order_id.as_str())
        .collect()
}

#[test]
fn the_board_has_the_pool_one_lane_per_technician_and_the_sla_counts() {
    let (orders, visits, techs) = world();
    let now = T0 + 50 * MINUTE;
    let b = board::board(
        today(),
        &orders,
        &visits,
        &techs,
        &SlaPolicy::PUBLISHED,
        now,
    );
    // Gold o-00000: 10 of 60 min left to respond (< 25 %) → at risk; standard o-00001: 70 of 120.
    assert_eq!(
        ids(&b.pool),
        vec!["o-00000", "o-00001"],
        "the pool holds the unassigned orders, at risk before on track; the cancelled one is left off"
    );
    assert_eq!(
        b.pool[0].sla.badge,
        SlaBadge::AtRisk,
        "gold with 10 min left"
    );
    assert_eq!(
        b.pool[1].sla.badge,
        SlaBadge::OnTrack,
        "standard with 70 min left"
    );
    assert_eq!(
        b.pool[0].next_deadline_ms,
        Some(T0 + HOUR),
        "respond-by of gold"
    );
    let lane_ids: Vec<&str> = b
        .lanes
        .iter()
        .map(|l| l.technician.technician_id.as_str())
        .collect();
    assert_eq!(
        lane_ids,
        vec!["tech.a", "tech.b", "tech.c", "tech.d", "tech.e"],
        "one lane per technician by id, also for those with nothing to do"
    );
    let a = &b.lanes[0];
    assert_eq!(
        ids(&a.blocks),
        vec!["o-00002", "o-00003"],
        "today's windows by start; tomorrow's order is not on today's lane"
    );
    assert_eq!(
        ids(&a.unscheduled),
        vec!["o-00006"],
        "the unscheduled open order"
    );
    assert_eq!(
        a.blocks[1].next_deadline_ms,
        Some(T0 + 24 * HOUR),
        "responded in time, so the next deadline is standard's arrive-by"
    );
    assert_eq!(
        a.blocks[1].sla.badge,
        SlaBadge::OnTrack,
        "response met, arrival far"
    );
    assert_eq!(b.lanes[2].certificate, CertificateState::Expired, "tech.c");
    assert_eq!(
        b.lanes[3].certificate,
        CertificateState::Withdrawn,
        "tech.d"
    );
    // Platinum o-00002 and o-00006: 30 min to respond, 50 gone → breached.
    assert_eq!(
        (b.at_risk, b.breached),
        (1, 2),
        "o-00000 at risk; both platinum orders breached"
    );
}

#[test]
fn an_order_alerts_once_when_it_becomes_at_risk_and_again_when_breached() {
    let (orders, visits, techs) = world();
    let at = |now| {
        board::board(
            today(),
            &orders,
            &visits,
            &techs,
            &SlaPolicy::PUBLISHED,
            now,
        )
    };
    let start = at(T0);
    assert_eq!(
        board::newly_alerting(&BTreeMap::new(), &start),
        vec![],
        "nothing is at risk when the orders are created"
    );
    // 25 min in: platinum has 5 of 30 min left (< 25 %) → at risk; gold 35 of 60 → on track.
    let early = at(T0 + 25 * MINUTE);
    let alerts = board::newly_alerting(&board::badges(&start), &early);
    let seen: Vec<(&str, SlaBadge)> = alerts
        .iter()
        .map(|a| (a.order_id.as_str(), a.badge))
        .collect();
    assert_eq!(
        seen,
        vec![("o-00002", SlaBadge::AtRisk), ("o-00006", SlaBadge::AtRisk)],
        "both platinum orders became at risk"
    );
    let late = at(T0 + 50 * MINUTE);
    let alerts = board::newly_alerting(&board::badges(&early), &late);
    let seen: Vec<(&str, SlaBadge)> = alerts
        .iter()
        .map(|a| (a.order_id.as_str(), a.badge))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("o-00002", SlaBadge::Breached),
            ("o-00006", SlaBadge::Breached),
            ("o-00000", SlaBadge::AtRisk),
        ],
        "breached first, then the gold order that became at risk"
    );
    assert_eq!(
        board::newly_alerting(&board::badges(&late), &late),
        vec![],
        "an unchanged board raises nothing again"
    );
}

#[test]
fn the_picker_lists_every_technician_with_why_they_cannot_be_chosen() {
    let (orders, _, techs) = world();
    let now = T0;
    let row = |rows: &[board::PickerRow<'_>]| -> Vec<(String, Option<NotQualified>, bool, u32)> {
        rows.iter()
            .map(|r| {
                (
                    r.technician.technician_id.clone(),
                    r.not_qualified,
                    r.choosable(),
                    r.load,
                )
            })
            .collect()
    };
    // o-00000 is a repair: tech.b covers installations only.
    let repair = board::picker(&orders[0], &orders, &techs, today(), now);
    assert_eq!(
        row(&repair),
        vec![
            ("tech.a".into(), None, true, 2),
            ("tech.e".into(), None, true, 0),
            ("tech.b".into(), Some(NotQualified::NotCovered), false, 0),
            (
                "tech.c".into(),
                Some(NotQualified::CertificateExpired),
                false,
                0
            ),
            (
                "tech.d".into(),
                Some(NotQualified::CertificateWithdrawn),
                false,
                0
            ),
        ],
        "choosable first by id; tech.a has o-00002 and o-00003 today (tomorrow's and the \
         unscheduled one do not count)"
    );
    // o-00003 is tech.a's already: they are listed but cannot be chosen again.
    let reassign = board::picker(&orders[3], &orders, &techs, today(), now);
    let a = reassign
        .iter()
        .find(|r| r.technician.technician_id == "tech.a")
        .unwrap();
    assert!(
        a.current && !a.choosable(),
        "the assignee is marked and not choosable"
    );
    assert_eq!(
        reassign[0].technician.technician_id, "tech.e",
        "the only other qualified technician comes first"
    );
}

#[test]
fn the_board_does_not_depend_on_the_order_of_its_inputs() {
    let (mut orders, visits, mut techs) = world();
    let now = T0 + 50 * MINUTE;
    let summary = |o: &[Order], t: &[TechnicianProfile]| {
        let b = board::board(today(), o, &visits, t, &SlaPolicy::PUBLISHED, now);
        let lanes: Vec<(String, Vec<String>)> = b
            .lanes
            .iter()
            .map(|l| {
                (
                    l.technician.technician_id.clone(),
                    ids(&l.blocks).iter().map(|s| s.to_string()).collect(),
                )
            })
            .collect();
        let pool: Vec<String> = ids(&b.pool).iter().map(|s| s.to_string()).collect();
        (pool, lanes, b.at_risk, b.breached)
    };
    let before = summary(&orders, &techs);
    orders.reverse();
    techs.reverse();
    assert_eq!(
        summary(&orders, &techs),
        before,
        "reversed inputs give the same board"
    );
}

fn w(start_h: i64, end_h: i64) -> Window {
    Window {
        start_ms: DAY + start_h * HOUR,
        end_ms: DAY + end_h * HOUR,
    }
}

#[test]
fn overlapping_windows_in_a_lane_go_on_separate_tracks_and_touching_ones_share() {
    // 9–11 and 9–11 (the seed's o-00001 and o-00005), 10–12 over both, 11–13 after the first.
    let t = board::tracks(&[w(9, 11), w(9, 11), w(11, 13), w(10, 12), w(13, 14)]);
    assert_eq!(
        t.of,
        vec![0, 1, 0, 2, 0],
        "the same window twice gets two tracks; 11–13 reuses the track 9–11 left; 10–12 overlaps both 9–11s; 13–14 touches 11–13 only"
    );
    assert_eq!(t.count, 3, "three windows overlap between 10 and 11");
    assert_eq!(
        board::tracks(&[]),
        board::Tracks::default(),
        "an empty lane needs no track"
    );
    let single = board::tracks(&[w(9, 10)]);
    assert_eq!(
        (single.of, single.count),
        (vec![0], 1),
        "one block, one track"
    );
}

#[test]
fn a_lane_with_two_orders_in_the_same_window_has_two_tracks() {
    let (mut orders, visits, techs) = world();
    // o-00003 moved onto o-00002's window (13–15).
    orders[3].schedule = orders[2].schedule;
    let b = board::board(today(), &orders, &visits, &techs, &SlaPolicy::PUBLISHED, T0);
    let a = &b.lanes[0];
    assert_eq!(
        ids(&a.blocks),
        vec!["o-00002", "o-00003"],
        "by start, then number"
    );
    assert_eq!(a.tracks.of, vec![0, 1], "same window: one above the other");
    assert_eq!(a.tracks.count, 2, "the lane is two tracks tall");
    assert_eq!(
        b.lanes[1].tracks.count, 0,
        "tech.b has no block, so no track"
    );
}

mod track_properties {
    use super::*;
    use proptest::prelude::*;

    fn windows() -> impl Strategy<Value = Vec<Window>> {
        // Quarter hours of one day, lengths from 15 min to 6 h (an order's window always ends
        // after it starts): many overlaps, touches and repeats.
        prop::collection::vec((0i64..96, 1i64..24), 0..24).prop_map(|v| {
            v.into_iter()
                .map(|(start, len)| Window {
                    start_ms: DAY + start * 15 * MINUTE,
                    end_ms: DAY + (start + len) * 15 * MINUTE,
                })
                .collect()
        })
    }

    /// The most windows that share one instant: checked at every start (where a maximum begins).
    fn max_overlap(ws: &[Window]) -> u32 {
        ws.iter()
            .map(|a| {
                ws.iter()
                    .filter(|b| b.start_ms <= a.start_ms && a.start_ms < b.end_ms)
                    .count() as u32
            })
            .max()
            .unwrap_or(0)
    }

    proptest! {
        #[test]
        fn no_two_overlapping_blocks_share_a_track(ws in windows()) {
            let t = board::tracks(&ws);
            prop_assert_eq!(t.of.len(), ws.len(), "one track per window");
            for i in 0..ws.len() {
                prop_assert!(t.of[i] < t.count.max(1), "track {} of window {} is within the lane's {} tracks", t.of[i], i, t.count);
                for j in i + 1..ws.len() {
                    if board::windows_overlap(&ws[i], &ws[j]) {
                        prop_assert_ne!(t.of[i], t.of[j], "windows {} and {} overlap: {:?} {:?}", i, j, ws[i], ws[j]);
                    }
                }
            }
        }

        #[test]
        fn a_lane_needs_no_more_tracks_than_windows_overlap_at_one_instant(ws in windows()) {
            let t = board::tracks(&ws);
            prop_assert_eq!(t.count, max_overlap(&ws), "as few tracks as the busiest instant needs");
        }

        #[test]
        fn the_lane_height_does_not_depend_on_the_order_of_the_blocks(ws in windows()) {
            let mut reversed = ws.clone();
            reversed.reverse();
            prop_assert_eq!(board::tracks(&reversed).count, board::tracks(&ws).count, "same windows, same height");
        }
    }
}
