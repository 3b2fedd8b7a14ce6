//! The console's Statistics and Scorecard screens (issue 11), computed offline from the replicas on
//! the dispatcher's device: a month's figures per technician and for the centre with the
//! month-on-month changes (`onsite_domain::stats`), each technician's bonus from the formula in
//! force for the month (`ref:bonus`, `onsite_domain::bonus`), the series of the four charts, the
//! GB/T 27922 scorecard (`onsite_domain::scorecard`) and the admin's new version of the formula.
//! Months are the centre's local calendar months at the App's UTC offset; "now" is its clock.

use onsite_domain::bonus::{self, BonusFormula, BonusTerm, BonusVersions};
use onsite_domain::reference::{FeeSchedule, PartsCatalogue, TemplateLibrary};
use onsite_domain::scorecard::{self, Reading};
use onsite_domain::sla::SlaPolicy;
use onsite_domain::stats::{self, Figure, Month, Rate, StatsContext};
use onsite_domain::{Code, DocId};
use onsite_store::Store;

use super::dispatch_read::Snapshot;
use super::{App, lock};
use crate::error::AppError;
use crate::view::*;

/// Months the trend chart shows, ending with the month on screen.
pub const TREND_MONTHS: u32 = 6;
/// Months the month picker offers: the current one and the year before it.
const PICKER_MONTHS: usize = 13;
/// Months ahead a new version of the bonus formula may be set to start.
const EFFECTIVE_MONTHS: usize = 4;

/// `count` months from `from`, each the `step` of the one before.
fn months(from: Month, count: usize, step: fn(Month) -> Month) -> Vec<Month> {
    std::iter::successors(Some(from), |m| Some(step(*m)))
        .take(count)
        .collect()
}

/// How a figure reads on screen.
fn figure_info(figure: Figure) -> FigureInfo {
    let kind = match figure {
        _ if figure.is_rate() => FigureKind::Rate,
        Figure::Completed | Figure::PartsUsed => FigureKind::Count,
        Figure::PartsCostCents | Figure::FeesCollectedCents => FigureKind::Money,
        Figure::AverageStars => FigureKind::Stars,
        _ => FigureKind::Minutes,
    };
    FigureInfo {
        figure,
        kind,
        lower_is_better: figure.lower_is_better(),
    }
}

/// Everything the statistics are computed from.
pub(super) struct StatsData {
    pub snap: Snapshot,
    pub fees: FeeSchedule,
    pub parts: PartsCatalogue,
    pub library: TemplateLibrary,
    /// `ref:bonus`, when it is on the device.
    pub bonus: Option<BonusVersions>,
}

impl StatsData {
    pub fn read(store: &Store) -> Result<StatsData, AppError> {
        Ok(StatsData {
            snap: Snapshot::read(store)?,
            fees: store.read(&DocId::FeeSchedule)?,
            parts: store.read(&DocId::PartsCatalogue)?,
            library: store.read(&DocId::Templates)?,
            bonus: if store.contains(&DocId::Bonus)? {
                Some(store.read(&DocId::Bonus)?)
            } else {
                None
            },
        })
    }

    pub fn ctx(&self, utc_offset_ms: onsite_domain::Millis) -> StatsContext<'_> {
        StatsContext {
            orders: &self.snap.orders,
            visits: &self.snap.visits,
            policy: &SlaPolicy::PUBLISHED,
            parts: &self.parts,
            fees: &self.fees,
            utc_offset_ms,
        }
    }

    /// Every technician with a profile on the device, then anyone else who completed something
    /// in `month`, by id.
    pub fn technicians(&self, ctx: &StatsContext<'_>, month: Month) -> Vec<TechnicianOption> {
        let mut ids: Vec<String> = self
            .snap
            .technicians
            .iter()
            .map(|t| t.technician_id.clone())
            .collect();
        for t in stats::month_stats(ctx, month).technicians {
            if !ids.contains(&t.technician_id) {
                ids.push(t.technician_id);
            }
        }
        ids.sort();
        ids.into_iter()
            .map(|id| TechnicianOption {
                name: self.snap.name_of(&id),
                technician_id: id,
            })
            .collect()
    }
}

/// A share as a percentage rounded to 0.1, `None` for no data.
pub(super) fn percent(rate: Rate) -> Option<f64> {
    rate.ratio().map(|r| (r * 1000.0).round() / 10.0)
}

fn formula_view(f: &BonusFormula, utc_offset_ms: onsite_domain::Millis) -> BonusFormulaView {
    BonusFormulaView {
        version: f.version,
        effective_month: Month::of(f.effective_from_ms, utc_offset_ms),
        currency: f.currency.clone(),
        per_completion_cents: f.per_completion_cents,
        min_completions: f.min_completions,
        terms: f
            .terms
            .iter()
            .map(|t| BonusTermView {
                name: t.figure.clone(),
                figure: Figure::from_name(&t.figure),
                weight_cents: t.weight_cents,
                threshold: t.threshold,
            })
            .collect(),
        floor_cents: f.floor_cents,
        cap_cents: f.cap_cents,
    }
}

/// The figures a bonus term may name, for the form.
fn bonus_figures() -> Vec<BonusFigureView> {
    Figure::ALL
        .into_iter()
        .filter(|f| bonus::bonus_figure(*f))
        .map(|figure| BonusFigureView {
            figure,
            deduction: figure.lower_is_better(),
            rate: figure.is_rate(),
        })
        .collect()
}

impl App {
    /// The month asked for, or the current one; a month that is no month is refused.
    pub(super) fn stats_month(&self, month: Option<Month>) -> Result<Month, AppError> {
        match month {
            Some(m) if !(1..=12).contains(&m.month) => Err(AppError::BadMonth(m.month)),
            Some(m) => Ok(m),
            None => Ok(Month::of(self.now(), self.utc_offset_ms)),
        }
    }

    /// Whether the signed-in user is an admin (the one role that changes the bonus formula and
    /// the service settings).
    pub(super) fn is_admin(&self) -> Result<bool, AppError> {
        let session = onsite_client::Session::load(&self.store)?;
        Ok(session.is_some_and(|s| s.role == onsite_wire::Role::Admin))
    }

    /// The Statistics screen for `req.month` (dispatchers and admins).
    pub fn statistics(&self, req: StatsRequest) -> Result<StatisticsView, AppError> {
        self.dispatcher()?;
        let month = self.stats_month(req.month)?;
        let data = StatsData::read(&lock(&self.store))?;
        let ctx = data.ctx(self.utc_offset_ms);
        let in_force = data
            .bonus
            .as_ref()
            .and_then(|b| b.in_force(month, self.utc_offset_ms));
        let error = match in_force {
            None => Some(Code::DocumentNotFound),
            Some(f) => f.validate().err().map(|e| e.code()),
        };
        let technicians: Vec<TechnicianStatsView> = data
            .technicians(&ctx, month)
            .into_iter()
            .map(|t| {
                let mom = stats::month_on_month(&ctx, month, Some(&t.technician_id));
                TechnicianStatsView {
                    bonus: in_force.and_then(|f| bonus::compute(f, &mom.current).ok()),
                    technician_id: t.technician_id,
                    name: t.name,
                    figures: mom.current,
                    changes: mom.changes,
                }
            })
            .collect();
        let centre = stats::month_on_month(&ctx, month, None);
        let charts = self.charts(&ctx, month, &technicians, &centre.current);
        let current_month = self.stats_month(None)?;
        Ok(StatisticsView {
            month,
            previous_month: month.previous(),
            current_month,
            months: months(current_month, PICKER_MONTHS, Month::previous),
            figures: Figure::ALL.into_iter().map(figure_info).collect(),
            technicians,
            centre: centre.current,
            centre_changes: centre.changes,
            bonus: BonusStatusView {
                in_force: in_force.map(|f| formula_view(f, self.utc_offset_ms)),
                latest: data
                    .bonus
                    .as_ref()
                    .and_then(BonusVersions::latest)
                    .map(|f| formula_view(f, self.utc_offset_ms)),
                versions: data.bonus.as_ref().map_or(0, |b| b.versions.len() as u32),
                error,
                can_edit: self.is_admin()?,
                figures: bonus_figures(),
                effective_months: months(current_month, EFFECTIVE_MONTHS, Month::next),
            },
            charts,
        })
    }

    fn charts(
        &self,
        ctx: &StatsContext<'_>,
        month: Month,
        technicians: &[TechnicianStatsView],
        centre: &stats::Figures,
    ) -> StatsChartsView {
        let trend = stats::monthly(ctx, month, TREND_MONTHS, None);
        StatsChartsView {
            trend: TrendChart {
                months: trend.iter().map(|(m, _)| *m).collect(),
                completed: trend.iter().map(|(_, f)| f.completed).collect(),
                first_time_fix_percent: trend
                    .iter()
                    .map(|(_, f)| percent(f.first_time_fix))
                    .collect(),
                commitment_kept_percent: trend.iter().map(|(_, f)| percent(f.all_met)).collect(),
                five_star_percent: trend.iter().map(|(_, f)| percent(f.five_star)).collect(),
            },
            comparison: ComparisonChart {
                names: technicians.iter().map(|t| t.name.clone()).collect(),
                completed: technicians.iter().map(|t| t.figures.completed).collect(),
                first_time_fix_percent: technicians
                    .iter()
                    .map(|t| percent(t.figures.first_time_fix))
                    .collect(),
                five_star_percent: technicians
                    .iter()
                    .map(|t| percent(t.figures.five_star))
                    .collect(),
                commitment_kept_percent: technicians
                    .iter()
                    .map(|t| percent(t.figures.all_met))
                    .collect(),
            },
            sla: SlaChart {
                tiers: centre.sla.iter().map(|t| t.tier).collect(),
                response_percent: centre.sla.iter().map(|t| percent(t.response_met)).collect(),
                arrival_percent: centre.sla.iter().map(|t| percent(t.arrival_met)).collect(),
                all_percent: centre.sla.iter().map(|t| percent(t.all_met)).collect(),
                completions: centre.sla.iter().map(|t| t.all_met.denominator).collect(),
            },
            satisfaction: SatisfactionChart {
                stars: (1..=5).collect(),
                counts: stats::star_distribution(ctx, month, None).to_vec(),
            },
        }
    }

    /// The GB/T 27922 scorecard of `req.month` for the centre or `req.technician_id`.
    pub fn scorecard(&self, req: StatsRequest) -> Result<ScorecardView, AppError> {
        self.dispatcher()?;
        let month = self.stats_month(req.month)?;
        let data = StatsData::read(&lock(&self.store))?;
        let ctx = data.ctx(self.utc_offset_ms);
        let technician = req
            .technician_id
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let card = scorecard::scorecard(&ctx, &data.library, month, technician);
        let current_month = self.stats_month(None)?;
        Ok(ScorecardView {
            month,
            current_month,
            months: months(current_month, PICKER_MONTHS, Month::previous),
            technician_id: card.technician_id.clone(),
            technicians: data.technicians(&ctx, month),
            lines: card.lines.iter().map(line_view).collect(),
        })
    }

    /// Add a version of the bonus formula (admins), in force from `req.effective_month`. Checked
    /// whole by `BonusVersions::add` before anything is written; the old versions are kept.
    pub fn save_bonus_formula(
        &self,
        req: BonusFormulaRequest,
    ) -> Result<BonusFormulaView, AppError> {
        self.dispatcher()?;
        if !self.is_admin()? {
            return Err(AppError::AdminsOnly);
        }
        let from = self.stats_month(Some(req.effective_month))?;
        let now = self.now();
        let saved = {
            let mut store = lock(&self.store);
            let exists = store.contains(&DocId::Bonus)?;
            let mut doc: BonusVersions = if exists {
                store.read(&DocId::Bonus)?
            } else {
                BonusVersions {
                    schema: bonus::SCHEMA,
                    versions: Vec::new(),
                }
            };
            let currency = doc
                .latest()
                .map_or("CNY".to_owned(), |l| l.currency.clone());
            let saved = doc
                .add(formula_of(req, currency), from, self.utc_offset_ms, now)
                .map_err(AppError::Bonus)?
                .clone();
            if exists {
                store.update::<BonusVersions, _>(&DocId::Bonus, |d| {
                    *d = doc;
                    Ok(())
                })?;
            } else {
                store.create(&DocId::Bonus, &doc)?;
            }
            saved
        };
        self.nudge();
        Ok(formula_view(&saved, self.utc_offset_ms))
    }
}

/// The formula an edit asks for; version and start are set by `BonusVersions::add`.
fn formula_of(req: BonusFormulaRequest, currency: String) -> BonusFormula {
    BonusFormula {
        schema: bonus::SCHEMA,
        version: 0,
        effective_from_ms: 0,
        currency,
        per_completion_cents: req.per_completion_cents,
        min_completions: req.min_completions,
        terms: req
            .terms
            .into_iter()
            .map(|t| BonusTerm {
                figure: t.figure.trim().to_owned(),
                weight_cents: t.weight_cents,
                threshold: t.threshold,
            })
            .collect(),
        floor_cents: req.floor_cents,
        cap_cents: req.cap_cents,
    }
}

pub(super) fn line_view(l: &scorecard::ScorecardLine) -> ScorecardLineView {
    let mut v = ScorecardLineView {
        indicator: l.indicator,
        group: l.group,
        percent: None,
        numerator: None,
        denominator: None,
        mean_stars: None,
        evidence: None,
        not_measurable: None,
    };
    match l.reading {
        Reading::Rate { rate, evidence } => {
            v.percent = percent(rate);
            v.numerator = Some(rate.numerator);
            v.denominator = Some(rate.denominator);
            v.evidence = Some(evidence);
        }
        Reading::Stars { stars, evidence } => {
            v.mean_stars = stars.mean().map(|m| (m * 100.0).round() / 100.0);
            v.evidence = Some(evidence);
        }
        // followups: complaints resolved by their deadline, out of those received.
        Reading::Complaints {
            received,
            resolved_in_time,
            ..
        } => {
            v.percent = percent(resolved_in_time);
            v.numerator = Some(resolved_in_time.numerator);
            v.denominator = Some(resolved_in_time.denominator);
            v.evidence = Some(received);
        }
        Reading::NotMeasurable { why } => v.not_measurable = Some(why),
    }
    v
}
