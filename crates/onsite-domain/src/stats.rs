//! Monthly statistics per technician and per centre (issue 11), computed from the orders and the
//! visits the device holds. A completion is a signed visit; it belongs to the centre's local
//! calendar month of its signature. Pure: the centre's UTC offset is a parameter.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::order::{DispatchStatus, Order, Tier};
use crate::progress::{self, ProgressKind};
use crate::reference::{FeeSchedule, PartsCatalogue};
use crate::sla::{self, SlaPolicy, TargetState};
use crate::visit::Visit;
use crate::{HOUR, Millis};

/// One day in [`Millis`].
pub const DAY: Millis = 24 * HOUR;
/// A later order on the same appliance within this long after a completion makes it a repeat
/// repair (返修); exactly 30 days still counts.
pub const REPEAT_WINDOW: Millis = 30 * DAY;

/// A share with what it is made of, so the UI shows "12/15 (80%)", and "no data" when the
/// denominator is 0 (never 0 % or NaN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
pub struct Rate {
    pub numerator: u32,
    pub denominator: u32,
}

impl Rate {
    /// The share in 0..=1, `None` when there is no data.
    pub fn ratio(self) -> Option<f64> {
        (self.denominator > 0).then(|| f64::from(self.numerator) / f64::from(self.denominator))
    }

    /// Count one case, a hit or not.
    pub fn count(&mut self, hit: bool) {
        self.denominator += 1;
        self.numerator += u32::from(hit);
    }
}

/// A mean with its sum and count; `None` when nothing was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
pub struct Average {
    #[ts(type = "number")]
    pub sum: i64,
    pub count: u32,
}

impl Average {
    pub fn mean(self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / f64::from(self.count))
    }

    pub fn add(&mut self, value: i64) {
        self.sum += value;
        self.count += 1;
    }
}

/// A calendar month of the centre's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
pub struct Month {
    pub year: i32,
    /// 1..=12.
    pub month: u32,
}

/// Days since 1970-01-01 of the first day of `year`-`month`.
fn days_from_civil(year: i64, month: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Month {
    /// The local month `at` falls in, at `utc_offset_ms` (e.g. +8 h for China).
    pub fn of(at: Millis, utc_offset_ms: Millis) -> Month {
        let d = crate::numbering::civil_from_days((at + utc_offset_ms).div_euclid(DAY));
        Month {
            year: d.year,
            month: d.month,
        }
    }

    /// The first instant of the month (local midnight of the 1st), in UTC milliseconds.
    pub fn start_ms(self, utc_offset_ms: Millis) -> Millis {
        days_from_civil(i64::from(self.year), self.month) * DAY - utc_offset_ms
    }

    pub fn previous(self) -> Month {
        match self.month {
            1 => Month {
                year: self.year - 1,
                month: 12,
            },
            m => Month {
                year: self.year,
                month: m - 1,
            },
        }
    }

    pub fn next(self) -> Month {
        match self.month {
            12 => Month {
                year: self.year + 1,
                month: 1,
            },
            m => Month {
                year: self.year,
                month: m + 1,
            },
        }
    }

    /// Whether `at` falls in this month at `utc_offset_ms`.
    pub fn contains(self, at: Millis, utc_offset_ms: Millis) -> bool {
        Month::of(at, utc_offset_ms) == self
    }
}

/// One completion: a signed visit with its order.
#[derive(Debug, Clone, Copy)]
pub struct Completion<'a> {
    pub order: &'a Order,
    pub visit: &'a Visit,
    pub signed_at_ms: Millis,
}

/// Every completion among `visits` whose order is in `orders` (a visit without its order on the
/// device cannot be attributed to an appliance or a tier and is left out).
pub fn completions<'a>(orders: &'a [Order], visits: &'a [Visit]) -> Vec<Completion<'a>> {
    visits
        .iter()
        .filter_map(|visit| {
            let sig = visit.signature.as_ref()?;
            let order = orders.iter().find(|o| o.order_id == visit.order_id)?;
            Some(Completion {
                order,
                visit,
                signed_at_ms: sig.signed_at_ms,
            })
        })
        .collect()
}

/// Whether another (not cancelled) order on the same appliance of the same household was
/// created after the completion and at most [`REPEAT_WINDOW`] later.
pub fn has_repeat(c: &Completion<'_>, orders: &[Order]) -> bool {
    orders.iter().any(|o| {
        o.order_id != c.order.order_id
            && o.status != DispatchStatus::Cancelled
            && o.customer.household_id == c.order.customer.household_id
            && o.appliance_id == c.order.appliance_id
            && o.created_at_ms > c.signed_at_ms
            && o.created_at_ms - c.signed_at_ms <= REPEAT_WINDOW
    })
}

/// SLA compliance of one tier: response and on-site (arrival) targets met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TierSla {
    pub tier: Tier,
    pub response_met: Rate,
    pub arrival_met: Rate,
    /// All three targets (respond, arrive, complete) met: the service commitment kept.
    pub all_met: Rate,
}

/// The figures of one month, for one technician or for the whole centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Figures {
    pub completed: u32,
    /// Completions with no repeat order within 30 days.
    pub first_time_fix: Rate,
    /// Completions followed by a repeat order within 30 days (返修率).
    pub repeat_repair: Rate,
    /// Stars of the rated completions.
    pub stars: Average,
    pub five_star: Rate,
    /// Standard, gold, platinum, in that order.
    pub sla: Vec<TierSla>,
    /// Response targets met over every tier.
    pub response_met: Rate,
    /// Arrival (on-site) targets met over every tier.
    pub arrival_met: Rate,
    /// All three targets met over every tier.
    pub all_met: Rate,
    /// Minutes from creation to the first response.
    pub response_minutes: Average,
    /// Minutes from arrival to work done.
    pub minutes_on_site: Average,
    /// Units of parts used.
    #[ts(type = "number")]
    pub parts_used: i64,
    /// Their cost at catalogue price, in fen.
    #[ts(type = "number")]
    pub parts_cost_cents: i64,
    /// Part lines whose part is not in the catalogue (not in the cost).
    pub parts_unpriced_lines: u32,
    /// Fees on the signed records, in fen.
    #[ts(type = "number")]
    pub fees_collected_cents: i64,
    /// Fee lines not on the published schedule or at another price than it.
    pub fees_off_schedule_lines: u32,
}

/// What the figures are computed from besides the orders and visits.
#[derive(Debug, Clone, Copy)]
pub struct StatsContext<'a> {
    pub orders: &'a [Order],
    /// Every visit, for the SLA's earliest response across transfers.
    pub visits: &'a [Visit],
    pub policy: &'a SlaPolicy,
    pub parts: &'a PartsCatalogue,
    pub fees: &'a FeeSchedule,
    pub utc_offset_ms: Millis,
}

const TIERS: [Tier; 3] = [Tier::Standard, Tier::Gold, Tier::Platinum];

fn met(s: TargetState) -> bool {
    matches!(s, TargetState::Met { .. })
}

/// Arrival to work done of one visit, in minutes, when both were recorded.
pub fn minutes_on_site(visit: &Visit) -> Option<i64> {
    let events = progress::ordered(&visit.events);
    let arrived = events.iter().find(|e| e.kind == ProgressKind::Arrived)?;
    let done = events
        .iter()
        .find(|e| e.kind == ProgressKind::WorkDone && e.at_ms >= arrived.at_ms)?;
    Some((done.at_ms - arrived.at_ms) / crate::MINUTE)
}

impl Figures {
    fn empty() -> Figures {
        Figures {
            completed: 0,
            first_time_fix: Rate::default(),
            repeat_repair: Rate::default(),
            stars: Average::default(),
            five_star: Rate::default(),
            sla: TIERS
                .iter()
                .map(|&tier| TierSla {
                    tier,
                    response_met: Rate::default(),
                    arrival_met: Rate::default(),
                    all_met: Rate::default(),
                })
                .collect(),
            response_met: Rate::default(),
            arrival_met: Rate::default(),
            all_met: Rate::default(),
            response_minutes: Average::default(),
            minutes_on_site: Average::default(),
            parts_used: 0,
            parts_cost_cents: 0,
            parts_unpriced_lines: 0,
            fees_collected_cents: 0,
            fees_off_schedule_lines: 0,
        }
    }

    /// The figures of `completions` (already chosen by technician and month).
    pub fn of(completions: &[Completion<'_>], ctx: &StatsContext<'_>) -> Figures {
        let mut f = Figures::empty();
        for c in completions {
            f.count(c, ctx);
        }
        f
    }

    fn count(&mut self, c: &Completion<'_>, ctx: &StatsContext<'_>) {
        self.completed += 1;
        let repeat = has_repeat(c, ctx.orders);
        self.first_time_fix.count(!repeat);
        self.repeat_repair.count(repeat);
        if let Some(r) = &c.visit.rating {
            self.stars.add(i64::from(r.stars));
            self.five_star.count(r.stars == 5);
        }
        self.count_sla(c, ctx);
        if let Some(m) = minutes_on_site(c.visit) {
            self.minutes_on_site.add(m);
        }
        for p in &c.visit.parts {
            self.parts_used += p.qty;
            match ctx.parts.part(&p.part_no) {
                Ok(cat) => self.parts_cost_cents += p.qty * cat.unit_price_cents,
                Err(_) => self.parts_unpriced_lines += 1,
            }
        }
        for fee in &c.visit.fees {
            self.fees_collected_cents += fee.total_cents();
            let listed = ctx
                .fees
                .item(&fee.code)
                .is_ok_and(|i| i.unit_price_cents == fee.unit_price_cents);
            if !listed {
                self.fees_off_schedule_lines += 1;
            }
        }
    }

    fn count_sla(&mut self, c: &Completion<'_>, ctx: &StatsContext<'_>) {
        let events = ctx
            .visits
            .iter()
            .filter(|v| v.order_id == c.order.order_id)
            .flat_map(|v| &v.events);
        let report = sla::evaluate(
            c.order.created_at_ms,
            &c.order.sla,
            events,
            ctx.policy,
            c.signed_at_ms,
        );
        let all = met(report.respond) && met(report.arrive) && met(report.complete);
        if let Some(t) = self
            .sla
            .iter_mut()
            .find(|t| t.tier == c.order.customer.tier)
        {
            t.response_met.count(met(report.respond));
            t.arrival_met.count(met(report.arrive));
            t.all_met.count(all);
        }
        self.response_met.count(met(report.respond));
        self.arrival_met.count(met(report.arrive));
        self.all_met.count(all);
        let responded = match report.respond {
            TargetState::Met { at_ms } | TargetState::Late { at_ms, .. } => Some(at_ms),
            _ => None,
        };
        if let Some(at) = responded {
            self.response_minutes
                .add((at - c.order.created_at_ms) / crate::MINUTE);
        }
    }
}

/// The figures of one technician in one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TechnicianMonth {
    pub technician_id: String,
    pub month: Month,
    pub figures: Figures,
}

/// Completions of `month` (local), by `technician` when given.
fn pick<'a>(
    all: &[Completion<'a>],
    month: Month,
    technician: Option<&str>,
    utc_offset_ms: Millis,
) -> Vec<Completion<'a>> {
    all.iter()
        .filter(|c| month.contains(c.signed_at_ms, utc_offset_ms))
        .filter(|c| technician.is_none_or(|t| c.visit.technician_id == t))
        .copied()
        .collect()
}

/// The month of every technician who completed something in it, by technician id, and the
/// centre's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MonthStats {
    pub month: Month,
    pub technicians: Vec<TechnicianMonth>,
    pub centre: Figures,
}

/// The statistics of `month` at the context's UTC offset.
pub fn month_stats(ctx: &StatsContext<'_>, month: Month) -> MonthStats {
    let all = completions(ctx.orders, ctx.visits);
    let off = ctx.utc_offset_ms;
    let ids: BTreeSet<&str> = pick(&all, month, None, off)
        .iter()
        .map(|c| c.visit.technician_id.as_str())
        .collect();
    let technicians = ids
        .into_iter()
        .map(|id| TechnicianMonth {
            technician_id: id.to_owned(),
            month,
            figures: Figures::of(&pick(&all, month, Some(id), off), ctx),
        })
        .collect();
    MonthStats {
        month,
        technicians,
        centre: Figures::of(&pick(&all, month, None, off), ctx),
    }
}

/// The figures of one technician (or the centre, `None`) in `month`.
pub fn figures_for(ctx: &StatsContext<'_>, month: Month, technician: Option<&str>) -> Figures {
    let all = completions(ctx.orders, ctx.visits);
    Figures::of(&pick(&all, month, technician, ctx.utc_offset_ms), ctx)
}

/// A figure by name: what month-on-month comparisons, the bonus formula and the charts refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    Completed,
    FirstTimeFixRate,
    RepeatRepairRate,
    AverageStars,
    FiveStarShare,
    ResponseMetRate,
    ArrivalMetRate,
    CommitmentKeptRate,
    AverageResponseMinutes,
    AverageMinutesOnSite,
    PartsUsed,
    PartsCostCents,
    FeesCollectedCents,
}

impl Figure {
    pub const ALL: [Figure; 13] = [
        Figure::Completed,
        Figure::FirstTimeFixRate,
        Figure::RepeatRepairRate,
        Figure::AverageStars,
        Figure::FiveStarShare,
        Figure::ResponseMetRate,
        Figure::ArrivalMetRate,
        Figure::CommitmentKeptRate,
        Figure::AverageResponseMinutes,
        Figure::AverageMinutesOnSite,
        Figure::PartsUsed,
        Figure::PartsCostCents,
        Figure::FeesCollectedCents,
    ];

    /// The name it is written as in configuration (`first_time_fix_rate`).
    pub fn name(self) -> &'static str {
        match self {
            Figure::Completed => "completed",
            Figure::FirstTimeFixRate => "first_time_fix_rate",
            Figure::RepeatRepairRate => "repeat_repair_rate",
            Figure::AverageStars => "average_stars",
            Figure::FiveStarShare => "five_star_share",
            Figure::ResponseMetRate => "response_met_rate",
            Figure::ArrivalMetRate => "arrival_met_rate",
            Figure::CommitmentKeptRate => "commitment_kept_rate",
            Figure::AverageResponseMinutes => "average_response_minutes",
            Figure::AverageMinutesOnSite => "average_minutes_on_site",
            Figure::PartsUsed => "parts_used",
            Figure::PartsCostCents => "parts_cost_cents",
            Figure::FeesCollectedCents => "fees_collected_cents",
        }
    }

    pub fn from_name(name: &str) -> Option<Figure> {
        Figure::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether a smaller value is the better one (repeat repairs, waiting for a response).
    pub fn lower_is_better(self) -> bool {
        matches!(
            self,
            Figure::RepeatRepairRate | Figure::AverageResponseMinutes
        )
    }

    /// Whether the figure is a share in 0..=1.
    pub fn is_rate(self) -> bool {
        matches!(
            self,
            Figure::FirstTimeFixRate
                | Figure::RepeatRepairRate
                | Figure::FiveStarShare
                | Figure::ResponseMetRate
                | Figure::ArrivalMetRate
                | Figure::CommitmentKeptRate
        )
    }
}

impl Figures {
    /// The value of `figure`: a share in 0..=1 for rates, `None` for "no data".
    pub fn value(&self, figure: Figure) -> Option<f64> {
        match figure {
            Figure::Completed => Some(f64::from(self.completed)),
            Figure::FirstTimeFixRate => self.first_time_fix.ratio(),
            Figure::RepeatRepairRate => self.repeat_repair.ratio(),
            Figure::AverageStars => self.stars.mean(),
            Figure::FiveStarShare => self.five_star.ratio(),
            Figure::ResponseMetRate => self.response_met.ratio(),
            Figure::ArrivalMetRate => self.arrival_met.ratio(),
            Figure::CommitmentKeptRate => self.all_met.ratio(),
            Figure::AverageResponseMinutes => self.response_minutes.mean(),
            Figure::AverageMinutesOnSite => self.minutes_on_site.mean(),
            Figure::PartsUsed => Some(self.parts_used as f64),
            Figure::PartsCostCents => Some(self.parts_cost_cents as f64),
            Figure::FeesCollectedCents => Some(self.fees_collected_cents as f64),
        }
    }
}

/// One figure this month against the previous month.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct FigureChange {
    pub figure: Figure,
    pub current: Option<f64>,
    pub previous: Option<f64>,
    /// `current - previous` (percentage points ×0.01 for rates); `None` when either is no data.
    pub change: Option<f64>,
}

/// This month against the previous one, for a technician or the centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct MonthOnMonth {
    pub month: Month,
    pub current: Figures,
    pub previous: Figures,
    pub changes: Vec<FigureChange>,
}

/// Compare `month` with the month before, for `technician` or the centre (`None`).
pub fn month_on_month(
    ctx: &StatsContext<'_>,
    month: Month,
    technician: Option<&str>,
) -> MonthOnMonth {
    let current = figures_for(ctx, month, technician);
    let previous = figures_for(ctx, month.previous(), technician);
    let changes = Figure::ALL
        .into_iter()
        .map(|figure| {
            let (c, p) = (current.value(figure), previous.value(figure));
            FigureChange {
                figure,
                current: c,
                previous: p,
                change: c.zip(p).map(|(c, p)| c - p),
            }
        })
        .collect();
    MonthOnMonth {
        month,
        current,
        previous,
        changes,
    }
}

/// The figures of each of the `months` months up to and including `last`, oldest first, for
/// `technician` or the centre (`None`): the monthly trend.
pub fn monthly(
    ctx: &StatsContext<'_>,
    last: Month,
    months: u32,
    technician: Option<&str>,
) -> Vec<(Month, Figures)> {
    let all = completions(ctx.orders, ctx.visits);
    let mut month = last;
    let mut out = Vec::new();
    for _ in 0..months {
        let picked = pick(&all, month, technician, ctx.utc_offset_ms);
        out.push((month, Figures::of(&picked, ctx)));
        month = month.previous();
    }
    out.reverse();
    out
}

/// How many rated completions of `month` got 1, 2, 3, 4 and 5 stars (index 0 is 1★), for
/// `technician` or the centre (`None`).
pub fn star_distribution(
    ctx: &StatsContext<'_>,
    month: Month,
    technician: Option<&str>,
) -> [u32; 5] {
    let all = completions(ctx.orders, ctx.visits);
    let mut out = [0; 5];
    for c in pick(&all, month, technician, ctx.utc_offset_ms) {
        if let Some(r) = &c.visit.rating
            && (1..=5).contains(&r.stars)
        {
            out[r.stars as usize - 1] += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CN: Millis = 8 * HOUR;

    #[test]
    fn local_midnight_on_the_first_starts_the_month() {
        let dec = Month {
            year: 2026,
            month: 12,
        };
        // 2026-12-01 00:00 in China is 2026-11-30 16:00 UTC.
        let start = dec.start_ms(CN);
        assert_eq!(
            start,
            1_796_083_200_000 - CN,
            "local midnight, not UTC midnight"
        );
        assert_eq!(
            Month::of(start, CN),
            dec,
            "the first instant is in December"
        );
        assert_eq!(
            Month::of(start - 1, CN),
            dec.previous(),
            "one millisecond earlier is still November"
        );
        assert_eq!(Month::of(start, 0).month, 11, "in UTC it is still November");
    }

    #[test]
    fn months_roll_over_the_year() {
        let jan = Month {
            year: 2027,
            month: 1,
        };
        assert_eq!(
            jan.previous(),
            Month {
                year: 2026,
                month: 12
            }
        );
        assert_eq!(jan.previous().next(), jan);
        assert_eq!(
            jan.start_ms(CN) - jan.previous().start_ms(CN),
            31 * DAY,
            "December has 31 days"
        );
        let mar = Month {
            year: 2028,
            month: 3,
        };
        assert_eq!(
            mar.start_ms(0) - mar.previous().start_ms(0),
            29 * DAY,
            "2028 is a leap year"
        );
    }

    #[test]
    fn no_cases_is_no_data_not_zero() {
        assert_eq!(Rate::default().ratio(), None, "a rate of nothing");
        assert_eq!(Average::default().mean(), None, "a mean of nothing");
        let f = Figures::empty();
        for figure in Figure::ALL {
            if let Some(v) = f.value(figure) {
                assert!(!v.is_nan(), "{figure:?} must not be NaN");
                assert!(
                    !figure.is_rate(),
                    "a rate with no cases must be no data, got {figure:?} = {v}"
                );
            }
        }
    }
}
