//! The performance bonus (绩效奖金) a centre pays its technicians per month, from a formula it
//! configures in the reference document `ref:bonus` — data, versioned, not code.
//!
//! The formula is a weighted table over the month's [`Figures`]:
//!
//! ```text
//! bonus = per_completion_cents × completed
//!       + Σ  weight_cents × value(figure)        (only when completed ≥ min_completions)
//!       then raised to floor_cents and lowered to cap_cents
//! ```
//!
//! `value` is a share in 0..=1 for rates and the mean stars (1–5) for `average_stars`; a figure
//! with no data that month contributes nothing (and says so). A term where more is better is a
//! reward (weight ≥ 0) paid only when the figure is at least its `threshold`; a term where less is
//! better (`repeat_repair_rate`, `average_response_minutes`) is a deduction (weight ≤ 0) taken only
//! when the figure is above its `threshold` (a tolerance). Counts and money (parts cost, fees) are
//! not bonus figures: paying on fees would reward overcharging, and the count is the base.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::stats::{Figure, Figures, Month};
use crate::{Code, Millis};

/// Schema of the `ref:bonus` document.
pub const SCHEMA: u32 = 1;

/// One weighted figure of the formula.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct BonusTerm {
    /// A [`Figure::name`], e.g. `first_time_fix_rate`.
    #[key]
    pub figure: String,
    /// Fen per whole unit of the figure (a rate of 1 = 100 %, or one star).
    pub weight_cents: i64,
    /// At least this for a reward to be paid, above this for a deduction to be taken.
    pub threshold: Option<f64>,
}

/// One version of the centre's bonus formula (kept in `ref:bonus`, [`BonusVersions`]).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct BonusFormula {
    pub schema: u32,
    /// Raised at every change; a computed bonus names the version it used.
    #[key]
    pub version: u32,
    pub effective_from_ms: Millis,
    pub currency: String,
    /// Paid for every completed (signed) order, in fen.
    pub per_completion_cents: i64,
    /// Fewer completions than this in the month: only the base is paid, no terms.
    pub min_completions: u32,
    pub terms: Vec<BonusTerm>,
    pub floor_cents: i64,
    pub cap_cents: i64,
}

/// A formula the bonus cannot be computed from. Nothing is paid from a bad formula.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BonusError {
    #[error("the bonus formula names '{0}', which is no figure")]
    UnknownFigure(String),
    #[error("no bonus is paid on '{0}': counts and money are not bonus figures")]
    FigureNotAllowed(String),
    #[error("the bonus formula names '{0}' twice")]
    DuplicateFigure(String),
    #[error(
        "the weight of '{0}' has the wrong sign: a reward is ≥ 0, a deduction (less is better) ≤ 0"
    )]
    WeightSign(String),
    #[error("the {0} cannot be negative")]
    NegativeAmount(&'static str),
    #[error("the cap ({cap_cents}) is below the floor ({floor_cents})")]
    CapBelowFloor { floor_cents: i64, cap_cents: i64 },
    #[error("the threshold of '{0}' is outside the figure's range")]
    BadThreshold(String),
    #[error("the bonus formula's version must be 1 or more")]
    BadVersion,
    #[error(
        "a new version of the bonus formula takes effect from the current month or a later one, and not before the version in force"
    )]
    EffectiveInPast,
    #[error(
        "version {0} of the bonus formula was changed or removed; versions are only ever added — add a new one instead"
    )]
    VersionRewritten(u32),
}

impl BonusError {
    pub fn code(&self) -> Code {
        match self {
            BonusError::UnknownFigure(_) => Code::BonusUnknownFigure,
            BonusError::FigureNotAllowed(_) => Code::BonusFigureNotAllowed,
            BonusError::DuplicateFigure(_) => Code::BonusDuplicateFigure,
            BonusError::WeightSign(_) => Code::BonusWeightSign,
            BonusError::NegativeAmount(_) => Code::BonusNegativeAmount,
            BonusError::CapBelowFloor { .. } => Code::BonusCapBelowFloor,
            BonusError::BadThreshold(_) => Code::BonusBadThreshold,
            BonusError::BadVersion => Code::BonusBadVersion,
            BonusError::EffectiveInPast => Code::BonusEffectiveInPast,
            BonusError::VersionRewritten(_) => Code::BonusVersionRewritten,
        }
    }
}

/// The figures a bonus may be paid on.
pub fn bonus_figure(figure: Figure) -> bool {
    figure.is_rate()
        || matches!(
            figure,
            Figure::AverageStars | Figure::AverageResponseMinutes
        )
}

fn threshold_fits(figure: Figure, t: f64) -> bool {
    t.is_finite()
        && match figure {
            Figure::AverageStars => (1.0..=5.0).contains(&t),
            Figure::AverageResponseMinutes => t >= 0.0,
            _ => (0.0..=1.0).contains(&t),
        }
}

impl BonusFormula {
    /// Check the formula; the figures of its terms in order.
    pub fn validate(&self) -> Result<Vec<Figure>, BonusError> {
        if self.version == 0 {
            return Err(BonusError::BadVersion);
        }
        if self.per_completion_cents < 0 {
            return Err(BonusError::NegativeAmount("base per completed order"));
        }
        if self.floor_cents < 0 {
            return Err(BonusError::NegativeAmount("floor"));
        }
        if self.cap_cents < self.floor_cents {
            return Err(BonusError::CapBelowFloor {
                floor_cents: self.floor_cents,
                cap_cents: self.cap_cents,
            });
        }
        let mut figures = Vec::new();
        for term in &self.terms {
            let name = || term.figure.clone();
            let figure =
                Figure::from_name(&term.figure).ok_or_else(|| BonusError::UnknownFigure(name()))?;
            if !bonus_figure(figure) {
                return Err(BonusError::FigureNotAllowed(name()));
            }
            if figures.contains(&figure) {
                return Err(BonusError::DuplicateFigure(name()));
            }
            let wrong_sign = if figure.lower_is_better() {
                term.weight_cents > 0
            } else {
                term.weight_cents < 0
            };
            if wrong_sign {
                return Err(BonusError::WeightSign(name()));
            }
            if term.threshold.is_some_and(|t| !threshold_fits(figure, t)) {
                return Err(BonusError::BadThreshold(name()));
            }
            figures.push(figure);
        }
        Ok(figures)
    }
}

/// One term of a computed bonus.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct BonusLine {
    pub figure: Figure,
    /// The figure's value; `None` is "no data" (nothing paid).
    pub value: Option<f64>,
    #[ts(type = "number")]
    pub weight_cents: i64,
    /// Whether the term counted (data, threshold reached, enough completions).
    pub counted: bool,
    #[ts(type = "number")]
    pub amount_cents: i64,
}

/// Which limit changed the sum, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum BonusLimit {
    Floor,
    Cap,
}

/// The bonus of one technician and month, line by line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Bonus {
    pub formula_version: u32,
    pub completed: u32,
    #[ts(type = "number")]
    pub base_cents: i64,
    pub lines: Vec<BonusLine>,
    /// Fewer completions than the formula's minimum: terms were not counted.
    pub below_min_completions: bool,
    #[ts(type = "number")]
    pub before_limits_cents: i64,
    pub limited: Option<BonusLimit>,
    #[ts(type = "number")]
    pub total_cents: i64,
}

fn line(term: &BonusTerm, figure: Figure, figures: &Figures, enough: bool) -> BonusLine {
    let value = figures.value(figure);
    let reached = |v: f64| match term.threshold {
        None => true,
        Some(t) if figure.lower_is_better() => v > t,
        Some(t) => v >= t,
    };
    let counted = enough && value.is_some_and(reached);
    let amount_cents = match value {
        Some(v) if counted => (term.weight_cents as f64 * v).round() as i64,
        _ => 0,
    };
    BonusLine {
        figure,
        value,
        weight_cents: term.weight_cents,
        counted,
        amount_cents,
    }
}

/// The bonus for a month's `figures` under `formula`, or why the formula cannot be used.
pub fn compute(formula: &BonusFormula, figures: &Figures) -> Result<Bonus, BonusError> {
    let kinds = formula.validate()?;
    let enough = figures.completed >= formula.min_completions;
    let base_cents = formula.per_completion_cents * i64::from(figures.completed);
    let lines: Vec<BonusLine> = formula
        .terms
        .iter()
        .zip(kinds)
        .map(|(term, figure)| line(term, figure, figures, enough))
        .collect();
    let before = base_cents + lines.iter().map(|l| l.amount_cents).sum::<i64>();
    let total = before.clamp(formula.floor_cents, formula.cap_cents);
    let limited = match total.cmp(&before) {
        std::cmp::Ordering::Greater => Some(BonusLimit::Floor),
        std::cmp::Ordering::Less => Some(BonusLimit::Cap),
        std::cmp::Ordering::Equal => None,
    };
    Ok(Bonus {
        formula_version: formula.version,
        completed: figures.completed,
        base_cents,
        lines,
        below_min_completions: !enough,
        before_limits_cents: before,
        limited,
        total_cents: total,
    })
}

/// The `ref:bonus` document: every version of the formula, oldest first. Old versions are kept,
/// so a past month's bonus is always computed with the version that was in force for it.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct BonusVersions {
    pub schema: u32,
    pub versions: Vec<BonusFormula>,
}

impl BonusVersions {
    /// The document with its first version, checked.
    pub fn first(formula: BonusFormula) -> Result<BonusVersions, BonusError> {
        formula.validate()?;
        Ok(BonusVersions {
            schema: SCHEMA,
            versions: vec![formula],
        })
    }

    /// Whether `self` is a change of `before` its rules allow: every version's formula valid,
    /// and every version of `before` still there, unchanged (versions are append-only, so a
    /// month already paid keeps its formula). Concurrent additions may interleave; only what
    /// was there must stay.
    pub fn check_change(&self, before: Option<&BonusVersions>) -> Result<(), BonusError> {
        for formula in &self.versions {
            formula.validate()?;
        }
        let kept = |old: &BonusFormula| self.versions.iter().any(|f| f == old);
        match before.and_then(|b| b.versions.iter().find(|old| !kept(old))) {
            Some(gone) => Err(BonusError::VersionRewritten(gone.version)),
            None => Ok(()),
        }
    }

    /// The newest version (the one an edit starts from).
    pub fn latest(&self) -> Option<&BonusFormula> {
        self.versions.iter().max_by_key(|f| f.version)
    }

    /// The version in force for `month`: of those effective by the month's first instant, the
    /// latest to take effect (the higher version when two take effect together). `None` before
    /// the first version.
    pub fn in_force(&self, month: Month, utc_offset_ms: Millis) -> Option<&BonusFormula> {
        let start = month.start_ms(utc_offset_ms);
        self.versions
            .iter()
            .filter(|f| f.effective_from_ms <= start)
            .max_by_key(|f| (f.effective_from_ms, f.version))
    }

    /// Add `formula` as the next version, in force from the first day of `from` (local). `from`
    /// must not be before the month of `now` (a past month keeps the formula it was paid with)
    /// nor before the latest version's start. Checked whole first: on an error nothing
    /// changes. Returns the stored version.
    pub fn add(
        &mut self,
        mut formula: BonusFormula,
        from: Month,
        utc_offset_ms: Millis,
        now: Millis,
    ) -> Result<&BonusFormula, BonusError> {
        let starts = from.start_ms(utc_offset_ms);
        let latest = self.latest();
        let too_early = from < Month::of(now, utc_offset_ms)
            || latest.is_some_and(|l| starts < l.effective_from_ms);
        if too_early {
            return Err(BonusError::EffectiveInPast);
        }
        formula.schema = SCHEMA;
        formula.version = latest.map_or(1, |l| l.version + 1);
        formula.effective_from_ms = starts;
        formula.validate()?;
        self.versions.push(formula);
        Ok(self.versions.last().expect("just pushed"))
    }
}
