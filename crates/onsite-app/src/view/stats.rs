//! What the console's Statistics and Scorecard screens show and send (ts-rs, like the rest of
//! [`crate::view`]): a month's figures per technician and for the centre with month-on-month
//! changes and each technician's bonus, the series of the four charts, the GB/T 27922 scorecard,
//! the bonus formula and its edit, and the statistics exports. Everything is computed by
//! `onsite_domain::{stats, bonus, scorecard}`; rates cross both as the domain's numerator and
//! denominator and, for the charts, as percentages rounded to 0.1.

use onsite_domain::Code;
use onsite_domain::bonus::Bonus;
use onsite_domain::order::Tier;
use onsite_domain::scorecard::{Indicator, IndicatorGroup, NotMeasurable};
use onsite_domain::stats::{Figure, FigureChange, Figures, Month};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::ExportFormat;

/// Arguments of `statistics` and `scorecard`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StatsRequest {
    /// The centre's local month; `null` is the current month.
    pub month: Option<Month>,
    /// `scorecard` only: one technician, or `null` for the whole centre.
    pub technician_id: Option<String>,
}

/// The Statistics screen: one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StatisticsView {
    pub month: Month,
    /// The month compared with (the one before).
    pub previous_month: Month,
    /// The month of today.
    pub current_month: Month,
    /// The months the picker offers, newest first (the current month and the year before it).
    pub months: Vec<Month>,
    /// The figures the tables show, in column order, with how each is shown.
    pub figures: Vec<FigureInfo>,
    /// Every technician on the device, by id, also those with nothing completed this month.
    pub technicians: Vec<TechnicianStatsView>,
    pub centre: Figures,
    /// The centre against the previous month, one line per figure.
    pub centre_changes: Vec<FigureChange>,
    pub bonus: BonusStatusView,
    pub charts: StatsChartsView,
}

/// How a figure's value reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FigureKind {
    /// A share in 0..=1, shown as a percentage.
    Rate,
    /// A whole number.
    Count,
    /// Fen, shown in yuan.
    Money,
    /// Mean stars (1–5).
    Stars,
    /// Mean minutes.
    Minutes,
}

/// A figure and how it reads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct FigureInfo {
    pub figure: Figure,
    pub kind: FigureKind,
    /// A rise is a worsening (repeat repairs, response minutes).
    pub lower_is_better: bool,
}

/// One technician's month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TechnicianStatsView {
    pub technician_id: String,
    pub name: String,
    pub figures: Figures,
    pub changes: Vec<FigureChange>,
    /// The bonus from the formula in force for the month; `null` when there is none or it is bad.
    pub bonus: Option<Bonus>,
}

/// The bonus formula: the version in force for the month, the newest one (what an edit starts
/// from), and why no bonus could be computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct BonusStatusView {
    pub in_force: Option<BonusFormulaView>,
    pub latest: Option<BonusFormulaView>,
    /// How many versions `ref:bonus` keeps.
    pub versions: u32,
    /// `bonus.*` when the formula in force is refused by its rules (no bonus is shown then);
    /// `document.not_found` when there is no formula on this device.
    pub error: Option<Code>,
    /// Whether the signed-in user may add a version (admins).
    pub can_edit: bool,
    /// The figures a bonus term may name, in the form's order.
    pub figures: Vec<BonusFigureView>,
    /// The months a new version may take effect from, earliest first.
    pub effective_months: Vec<Month>,
}

/// A figure the form offers for a term.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
pub struct BonusFigureView {
    pub figure: Figure,
    /// Less is better: a deduction (weight ≤ 0) taken above the threshold.
    pub deduction: bool,
    /// A share (threshold as a percentage), else stars or minutes.
    pub rate: bool,
}

/// One version of the formula.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct BonusFormulaView {
    pub version: u32,
    /// The local month from whose first day it is in force.
    pub effective_month: Month,
    pub currency: String,
    #[ts(type = "number")]
    pub per_completion_cents: i64,
    pub min_completions: u32,
    pub terms: Vec<BonusTermView>,
    #[ts(type = "number")]
    pub floor_cents: i64,
    #[ts(type = "number")]
    pub cap_cents: i64,
}

/// One term of a formula.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct BonusTermView {
    /// The figure as written in the document.
    pub name: String,
    /// The figure, when the name is one.
    pub figure: Option<Figure>,
    #[ts(type = "number")]
    pub weight_cents: i64,
    pub threshold: Option<f64>,
}

/// Arguments of `save_bonus_formula`: a new version of the whole formula (admins).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct BonusFormulaRequest {
    /// In force from the first day of this local month (this month or later).
    pub effective_month: Month,
    #[ts(type = "number")]
    pub per_completion_cents: i64,
    pub min_completions: u32,
    pub terms: Vec<BonusTermRequest>,
    #[ts(type = "number")]
    pub floor_cents: i64,
    #[ts(type = "number")]
    pub cap_cents: i64,
}

/// One term of the edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct BonusTermRequest {
    /// A figure's name (`first_time_fix_rate`).
    pub figure: String,
    #[ts(type = "number")]
    pub weight_cents: i64,
    /// A share in 0..=1 for rates.
    pub threshold: Option<f64>,
}

/// The series of the Statistics screen's four charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StatsChartsView {
    pub trend: TrendChart,
    pub comparison: ComparisonChart,
    pub sla: SlaChart,
    pub satisfaction: SatisfactionChart,
}

/// The centre's monthly trend, oldest month first, ending with the month shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TrendChart {
    pub months: Vec<Month>,
    pub completed: Vec<u32>,
    pub first_time_fix_percent: Vec<Option<f64>>,
    pub commitment_kept_percent: Vec<Option<f64>>,
    pub five_star_percent: Vec<Option<f64>>,
}

/// The technicians side by side in the month shown (the same order as the table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ComparisonChart {
    pub names: Vec<String>,
    pub completed: Vec<u32>,
    pub first_time_fix_percent: Vec<Option<f64>>,
    pub five_star_percent: Vec<Option<f64>>,
    pub commitment_kept_percent: Vec<Option<f64>>,
}

/// The centre's SLA compliance per tier in the month shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SlaChart {
    pub tiers: Vec<Tier>,
    pub response_percent: Vec<Option<f64>>,
    pub arrival_percent: Vec<Option<f64>>,
    pub all_percent: Vec<Option<f64>>,
    /// Completions per tier (the evidence behind each bar).
    pub completions: Vec<u32>,
}

/// How many rated completions of the month got 1★ … 5★.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct SatisfactionChart {
    pub stars: Vec<u32>,
    pub counts: Vec<u32>,
}

/// The Scorecard screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ScorecardView {
    pub month: Month,
    pub current_month: Month,
    /// The months the picker offers, newest first.
    pub months: Vec<Month>,
    /// The technician shown, `null` for the centre.
    pub technician_id: Option<String>,
    /// The technicians the screen can switch to, by id.
    pub technicians: Vec<TechnicianOption>,
    pub lines: Vec<ScorecardLineView>,
}

/// A technician to pick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TechnicianOption {
    pub technician_id: String,
    pub name: String,
}

/// One indicator: its figure and the evidence behind it, or why the records cannot measure it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ScorecardLineView {
    pub indicator: Indicator,
    pub group: IndicatorGroup,
    /// A share, rounded to 0.1 %; `null` for no data or another kind of figure.
    pub percent: Option<f64>,
    /// Hits and cases of a share.
    pub numerator: Option<u32>,
    pub denominator: Option<u32>,
    /// Mean stars, rounded to 0.01.
    pub mean_stars: Option<f64>,
    /// How many completions (or ratings) the figure is computed from; `null` if not measurable.
    pub evidence: Option<u32>,
    pub not_measurable: Option<NotMeasurable>,
}

/// Which statistics table `export_statistics` saves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum StatsTableKind {
    /// Per technician: the month's figures and bonus.
    Technicians,
    /// The centre's figures, this month against the previous one.
    Centre,
    /// The scorecard of the centre or one technician.
    Scorecard,
}

/// Arguments of `export_statistics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct StatsExportRequest {
    pub table: StatsTableKind,
    pub month: Option<Month>,
    /// For the scorecard: one technician or `null` for the centre.
    pub technician_id: Option<String>,
    pub format: ExportFormat,
    /// Language of the headers: `zh-CN` or `en`.
    pub language: String,
}
