//! Dispatch suggestions (自动派单): for one order, the qualified technicians ranked with the reasons
//! a dispatcher reads, and the unqualified ones apart with why they cannot be chosen (ISO 9001
//! §7.5.2 b). Pure: the day's orders, the working hours, the expected duration and `now` are
//! parameters.
//!
//! Ranking, first difference wins:
//! 1. a free window of the order's duration that meets its SLA deadlines (arrive by, complete by),
//! 2. the same district as one of the technician's other orders that day ([`district_of`]),
//! 3. fewer orders that day,
//! 4. the earlier free window (none last),
//! 5. the technician id, so the order is total and the same on every device.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Millis;
use crate::order::{DispatchStatus, Order, Window};
use crate::reference::{NotQualified, TechnicianProfile};

/// Why a technician is suggested, in the order the ranking weighs them. Crosses to the UI as is
/// (ts-rs), tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind")]
pub enum Reason {
    /// The certificate (一证件) is valid and covers the service type.
    CertificateValid {
        #[ts(type = "number")]
        expires_at_ms: Millis,
    },
    /// Free from `start_ms` to `end_ms`, in time for the SLA deadlines.
    FreeBeforeDeadline {
        #[ts(type = "number")]
        start_ms: Millis,
        #[ts(type = "number")]
        end_ms: Millis,
    },
    /// The earliest free window, but too late for the SLA deadlines.
    FreeAfterDeadline {
        #[ts(type = "number")]
        start_ms: Millis,
        #[ts(type = "number")]
        end_ms: Millis,
    },
    /// No free window of the order's duration left in the working day.
    NoFreeWindow,
    /// `orders` of their other orders that day are in the order's district.
    SameDistrict { district: String, orders: u32 },
    /// Orders already assigned that day (not counting this one).
    Load { orders: u32 },
}

/// One ranked technician.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub technician_id: String,
    pub name: String,
    /// Ordered as the ranking weighs them: certificate, window, district (if any), load.
    pub reasons: Vec<Reason>,
    pub load: u32,
    pub same_district: bool,
    pub free_window: Option<Window>,
    pub meets_deadline: bool,
}

/// A technician who cannot take the order, and why (the picker shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unqualified {
    pub technician_id: String,
    pub name: String,
    pub why: NotQualified,
}

/// The answer for one order: qualified technicians best first, the others by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestions {
    pub ranked: Vec<Suggestion>,
    pub unqualified: Vec<Unqualified>,
}

/// The day the order is to be fitted into.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Day<'a> {
    /// The orders of that day (any technician; this order, unassigned and cancelled ones are
    /// skipped). Their schedule windows are busy time, their addresses give the districts.
    pub orders: &'a [Order],
    /// The working hours of that day.
    pub work: Window,
    /// How long the order is expected to take on site.
    pub duration_ms: Millis,
}

/// The district (区 / 县 / county-level 市) of a Chinese address, e.g. `上海市浦东新区张杨路1号`
/// → `浦东新区`, `江苏省苏州市昆山市玉山镇` → `昆山市`, `河北省保定市涞水县` → `涞水县`. Spaces are
/// ignored. `None` when the address names no district.
pub fn district_of(address: &str) -> Option<String> {
    let text: String = address.chars().filter(|c| !c.is_whitespace()).collect();
    let mut rest = text.as_str();
    // Province: 省, or an autonomous region (自治区) before any city.
    if let Some(i) = rest.find('省').filter(|&i| rest[..i].chars().count() <= 4) {
        rest = &rest[i + '省'.len_utf8()..];
    } else if let Some(i) = rest
        .find("自治区")
        .filter(|&i| rest[..i].chars().count() <= 6)
    {
        rest = &rest[i + "自治区".len()..];
    }
    // Prefecture: a short plain name ending in 自治州, 市, 地区 or 盟.
    for marker in ["自治州", "市", "地区", "盟"] {
        if let Some(i) = rest.find(marker).filter(|&i| plain_name(&rest[..i], 5)) {
            rest = &rest[i + marker.len()..];
            break;
        }
    }
    let (i, c) = rest
        .char_indices()
        .find(|(_, c)| matches!(c, '区' | '县' | '市'))?;
    let name = &rest[..i];
    plain_name(name, 8).then(|| format!("{name}{c}"))
}

/// Whether `name` reads as the name of an administrative unit: 1 to `max` characters, no digits
/// or Latin letters, no smaller unit (区, 县) inside and no street word (路, 街, 号, 弄, 巷) after
/// its first character (`路南区` is a district, `张杨路小区` a housing estate).
fn plain_name(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.chars().count())
        && !name
            .chars()
            .any(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '区' | '县'))
        && !name.chars().skip(1).any(|ch| "路街号弄巷".contains(ch))
}

/// The earliest window of `duration` inside `within`, starting no earlier than `from`, that
/// overlaps none of `busy`.
fn earliest_free(
    busy: &[Window],
    within: Window,
    from: Millis,
    duration: Millis,
) -> Option<Window> {
    let mut busy: Vec<Window> = busy.to_vec();
    busy.sort_by_key(|w| (w.start_ms, w.end_ms));
    let mut cursor = from.max(within.start_ms);
    for w in busy {
        if w.end_ms <= cursor {
            continue;
        }
        if w.start_ms - cursor >= duration {
            break;
        }
        cursor = cursor.max(w.end_ms);
    }
    let end = cursor.checked_add(duration)?;
    (end <= within.end_ms && duration > 0).then_some(Window {
        start_ms: cursor,
        end_ms: end,
    })
}

fn rank(a: &Suggestion, b: &Suggestion) -> Ordering {
    b.meets_deadline
        .cmp(&a.meets_deadline)
        .then(b.same_district.cmp(&a.same_district))
        .then(a.load.cmp(&b.load))
        .then_with(|| match (a.free_window, b.free_window) {
            (Some(x), Some(y)) => x.start_ms.cmp(&y.start_ms),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
        .then_with(|| a.technician_id.cmp(&b.technician_id))
}

/// Rank `technicians` for `order` on `day` at `now` (see the module for the order).
pub fn suggest(
    order: &Order,
    technicians: &[TechnicianProfile],
    day: &Day<'_>,
    now: Millis,
) -> Suggestions {
    let mut ranked = Vec::new();
    let mut unqualified = Vec::new();
    for t in technicians {
        match t.not_qualified_for(order.service_type, now) {
            Some(why) => unqualified.push(Unqualified {
                technician_id: t.technician_id.clone(),
                name: t.name.clone(),
                why,
            }),
            None => ranked.push(suggestion(order, t, day, now)),
        }
    }
    ranked.sort_by(rank);
    unqualified.sort_by(|a, b| a.technician_id.cmp(&b.technician_id));
    Suggestions {
        ranked,
        unqualified,
    }
}

fn suggestion(order: &Order, t: &TechnicianProfile, day: &Day<'_>, now: Millis) -> Suggestion {
    let theirs: Vec<&Order> = day
        .orders
        .iter()
        .filter(|o| o.order_id != order.order_id && o.status != DispatchStatus::Cancelled)
        .filter(|o| o.assignee.as_deref() == Some(t.technician_id.as_str()))
        .collect();
    let load = theirs.len() as u32;
    let busy: Vec<Window> = theirs.iter().filter_map(|o| o.schedule).collect();
    let free_window = earliest_free(&busy, day.work, now, day.duration_ms);
    let meets_deadline = free_window.is_some_and(|w| {
        w.start_ms <= order.sla.arrive_by_ms && w.end_ms <= order.sla.complete_by_ms
    });
    let district = district_of(&order.customer.address);
    let in_district = district.as_ref().map_or(0, |d| {
        theirs
            .iter()
            .filter(|o| district_of(&o.customer.address).as_ref() == Some(d))
            .count() as u32
    });
    let mut reasons = vec![Reason::CertificateValid {
        expires_at_ms: t.certificate_expiry_ms,
    }];
    reasons.push(match free_window {
        Some(w) if meets_deadline => Reason::FreeBeforeDeadline {
            start_ms: w.start_ms,
            end_ms: w.end_ms,
        },
        Some(w) => Reason::FreeAfterDeadline {
            start_ms: w.start_ms,
            end_ms: w.end_ms,
        },
        None => Reason::NoFreeWindow,
    });
    if let (Some(d), 1..) = (&district, in_district) {
        reasons.push(Reason::SameDistrict {
            district: d.clone(),
            orders: in_district,
        });
    }
    reasons.push(Reason::Load { orders: load });
    Suggestion {
        technician_id: t.technician_id.clone(),
        name: t.name.clone(),
        reasons,
        load,
        same_district: in_district > 0,
        free_window,
        meets_deadline,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HOUR;

    #[test]
    fn districts_are_read_from_chinese_addresses() {
        let cases = [
            ("上海市浦东新区张杨路1号", Some("浦东新区")),
            (
                "上海市浦东新区世纪大道 100 号 1 单元 1201",
                Some("浦东新区"),
            ),
            ("北京市朝阳区建国路88号", Some("朝阳区")),
            ("江苏省苏州市昆山市玉山镇前进路1号", Some("昆山市")),
            ("河北省保定市涞水县城关街2号", Some("涞水县")),
            ("浙江省杭州市西湖区文三路", Some("西湖区")),
            ("广西壮族自治区南宁市青秀区民族大道", Some("青秀区")),
            ("新疆维吾尔自治区乌鲁木齐市天山区", Some("天山区")),
            ("云南省大理白族自治州大理市人民路", Some("大理市")),
            ("浦东新区张杨路1号", Some("浦东新区")),
            ("朝阳区城市花园3号", Some("朝阳区")),
            ("上海市张杨路1号", None),
            ("上海市张杨路1号小区", None),
            ("上海市张杨路小区", None),
            ("河北省唐山市路南区", Some("路南区")),
            ("江苏省南京市鼓楼区中山路", Some("鼓楼区")),
            ("张杨路1号", None),
            ("", None),
            ("221B Baker Street", None),
        ];
        for (address, want) in cases {
            assert_eq!(
                district_of(address).as_deref(),
                want,
                "district of {address:?}"
            );
        }
    }

    fn order_at(n: u32, address: &str, assignee: Option<&str>, start_h: i64) -> Order {
        let mut new = crate::seed::order(n, 0);
        new.order_id = format!("o-{n}");
        new.customer.address = address.to_owned();
        new.schedule = assignee.map(|_| Window {
            start_ms: start_h * HOUR,
            end_ms: (start_h + 1) * HOUR,
        });
        let mut o = Order::create(new, &crate::sla::SlaPolicy::PUBLISHED, 0).expect("order");
        o.assignee = assignee.map(str::to_owned);
        o
    }

    #[test]
    fn same_district_wins_at_equal_load_and_a_free_window_before_the_deadline_wins_over_both() {
        let techs: Vec<TechnicianProfile> = ["t.a", "t.b", "t.c", "t.d"]
            .iter()
            .map(|id| crate::seed::technician(id, id, "1", "C", 0))
            .collect();
        let day = [
            order_at(1, "上海市徐汇区漕溪北路88号", Some("t.a"), 9),
            order_at(2, "上海市浦东新区世纪大道100号", Some("t.b"), 9),
            // t.c works all day, in the same district: no window before the deadline.
            order_at(3, "上海市浦东新区张杨路1号", Some("t.c"), 8),
        ];
        let mut busy = day.to_vec();
        for h in 9..18 {
            busy.push(order_at(
                10 + h as u32,
                "上海市浦东新区张杨路2号",
                Some("t.c"),
                h,
            ));
        }
        let order = order_at(99, "上海市浦东新区张杨路9号", None, 0);
        let plan = Day {
            orders: &busy,
            work: Window {
                start_ms: 8 * HOUR,
                end_ms: 18 * HOUR,
            },
            duration_ms: HOUR,
        };
        let got = suggest(&order, &techs, &plan, 0);
        let ids: Vec<&str> = got
            .ranked
            .iter()
            .map(|s| s.technician_id.as_str())
            .collect();
        assert_eq!(
            ids,
            ["t.b", "t.d", "t.a", "t.c"],
            "t.b (same district, 1 order) before t.d (no orders, other district) and t.a (other \
             district, 1 order); t.c has no free window at all"
        );
        assert!(
            got.ranked[0].reasons.contains(&Reason::SameDistrict {
                district: "浦东新区".into(),
                orders: 1
            }),
            "the reason names the district: {:?}",
            got.ranked[0].reasons
        );
        assert_eq!(
            got.ranked[3].reasons[1],
            Reason::NoFreeWindow,
            "t.c is full"
        );
    }

    #[test]
    fn the_earliest_free_window_fits_between_busy_windows() {
        let w = |s: i64, e: i64| Window {
            start_ms: s * HOUR,
            end_ms: e * HOUR,
        };
        let day = w(8, 18);
        let busy = [w(9, 11), w(8, 9), w(12, 14)];
        assert_eq!(
            earliest_free(&busy, day, 0, HOUR),
            Some(w(11, 12)),
            "the hour between two jobs"
        );
        assert_eq!(
            earliest_free(&busy, day, 0, 2 * HOUR),
            Some(w(14, 16)),
            "two hours only fit after the last job"
        );
        assert_eq!(
            earliest_free(&busy, day, 15 * HOUR, 3 * HOUR),
            Some(w(15, 18)),
            "not before now, up to the end of the day"
        );
        assert_eq!(
            earliest_free(&busy, day, 16 * HOUR, 3 * HOUR),
            None,
            "three hours from 16:00 run past the working day"
        );
        assert_eq!(
            earliest_free(&[], day, 0, 0),
            None,
            "a zero duration fits nowhere"
        );
    }
}
