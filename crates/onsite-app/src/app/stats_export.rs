//! The Statistics and Scorecard screens' tables as CSV or XLSX (`export_statistics`): per
//! technician, the centre's totals against the previous month, and the scorecard — built from
//! the same views the screens show and saved through [`App::save_table`].

use onsite_domain::export::{Cell, Table};
use onsite_domain::scorecard::{Indicator, IndicatorGroup, NotMeasurable};
use onsite_domain::stats::{Figure, Figures, Month};

use super::App;
use super::export::Lang;
use crate::error::AppError;
use crate::view::*;

/// `2026-11`.
fn month_text(m: Month) -> String {
    format!("{:04}-{:02}", m.year, m.month)
}

/// A figure's name in the export's language.
fn figure_label(f: Figure, lang: Lang) -> String {
    let (zh, en) = match f {
        Figure::Completed => ("完工单数", "Completed"),
        Figure::FirstTimeFixRate => ("一次修复率", "First-time fix"),
        Figure::RepeatRepairRate => ("返修率", "Repeat repairs"),
        Figure::AverageStars => ("平均评分", "Average stars"),
        Figure::FiveStarShare => ("五星占比", "5★ share"),
        Figure::ResponseMetRate => ("响应达标率", "Response in time"),
        Figure::ArrivalMetRate => ("到场达标率", "Arrival in time"),
        Figure::CommitmentKeptRate => ("服务承诺兑现率", "Commitment kept"),
        Figure::AverageResponseMinutes => ("平均响应（分钟）", "Average response (min)"),
        Figure::AverageMinutesOnSite => ("平均在场（分钟）", "Average on site (min)"),
        Figure::PartsUsed => ("配件数", "Parts used"),
        Figure::PartsCostCents => ("配件成本", "Parts cost"),
        Figure::FeesCollectedCents => ("收费", "Fees collected"),
    };
    lang.pick(zh, en)
}

/// A figure's value as a typed cell: shares as rates, money as money, counts as integers,
/// means with one decimal; no data is an empty cell.
fn figure_cell(f: Figure, value: Option<f64>) -> Cell {
    let Some(v) = value else {
        return Cell::Empty;
    };
    match f {
        _ if f.is_rate() => Cell::Rate(v),
        Figure::PartsCostCents | Figure::FeesCollectedCents => Cell::Money(v.round() as i64),
        Figure::Completed | Figure::PartsUsed => Cell::Int(v.round() as i64),
        _ => Cell::Decimal(v),
    }
}

/// The per-technician table's figures, in column order.
const TECHNICIAN_FIGURES: [Figure; 13] = Figure::ALL;

fn technician_row(t: &TechnicianStatsView) -> Vec<Cell> {
    let f: &Figures = &t.figures;
    let mut row = vec![
        Cell::Text(t.technician_id.clone()),
        Cell::Text(t.name.clone()),
    ];
    row.extend(
        TECHNICIAN_FIGURES
            .iter()
            .map(|&x| figure_cell(x, f.value(x))),
    );
    row.push(
        t.bonus
            .as_ref()
            .map_or(Cell::Empty, |b| Cell::Money(b.total_cents)),
    );
    row
}

fn group_label(g: IndicatorGroup, lang: Lang) -> String {
    let (zh, en) = match g {
        IndicatorGroup::ServiceSystem => ("售后服务体系", "Service system"),
        IndicatorGroup::ProductService => ("商品服务", "Product service"),
        IndicatorGroup::CustomerService => ("顾客服务", "Customer service"),
    };
    lang.pick(zh, en)
}

fn indicator_label(i: Indicator, lang: Lang) -> String {
    let (zh, en) = match i {
        Indicator::ServiceCommitmentKept => ("服务承诺兑现", "Service commitment kept"),
        Indicator::ResponseTime => ("响应时间", "Response time"),
        Indicator::OnSiteStandard => ("上门服务规范", "On-site standard followed"),
        Indicator::CustomerSatisfaction => ("顾客满意度", "Customer satisfaction"),
        Indicator::ComplaintHandling => ("投诉处理", "Complaint handling"),
        Indicator::RepeatRepairs => ("返修", "Repeat repairs"),
        Indicator::Organisation => ("组织机构", "Organisation"),
        Indicator::Staffing => ("人员配置", "Staffing"),
        Indicator::Resources => ("服务资源", "Resources"),
        Indicator::PartsSupply => ("配件供应", "Parts supply"),
        Indicator::WarrantyHandling => ("三包处理", "Warranty handling"),
    };
    lang.pick(zh, en)
}

fn not_measurable_label(n: NotMeasurable, lang: Lang) -> String {
    let (zh, en) = match n {
        NotMeasurable::NoComplaintRecords => (
            "记录中尚无投诉（回访未记录）",
            "No complaints in the records yet (follow-up calls not recorded)",
        ),
        NotMeasurable::OutsideServiceRecords => (
            "属于组织层面，服务记录无法衡量",
            "About the organisation, not measurable from service records",
        ),
    };
    lang.pick(zh, en)
}

fn scorecard_row(l: &ScorecardLineView, lang: Lang) -> Vec<Cell> {
    let value = match (l.percent, l.mean_stars) {
        (Some(p), _) => Cell::Rate(p / 100.0),
        (None, Some(s)) => Cell::Decimal(s),
        (None, None) => Cell::Empty,
    };
    vec![
        Cell::Text(group_label(l.group, lang)),
        Cell::Text(indicator_label(l.indicator, lang)),
        value,
        l.evidence.map_or(Cell::Empty, |e| Cell::Int(e.into())),
        l.not_measurable
            .map_or(Cell::Empty, |n| Cell::Text(not_measurable_label(n, lang))),
    ]
}

impl App {
    /// Save one of the statistics tables (dispatchers and admins) in the export folder.
    pub fn export_statistics(&self, req: StatsExportRequest) -> Result<SavedExportView, AppError> {
        self.dispatcher()?;
        let lang = Lang::parse(&req.language)?;
        let stats_req = StatsRequest {
            month: req.month,
            technician_id: req.technician_id,
        };
        let table = match req.table {
            StatsTableKind::Technicians => {
                self.technicians_table(&self.statistics(stats_req)?, lang)
            }
            StatsTableKind::Centre => self.centre_table(&self.statistics(stats_req)?, lang),
            StatsTableKind::Scorecard => self.scorecard_table(&self.scorecard(stats_req)?, lang),
        };
        self.save_table(&table, req.format)
    }

    fn technicians_table(&self, v: &StatisticsView, lang: Lang) -> Table {
        let mut headers = lang.headers(&[("技师编号", "Technician ID"), ("技师", "Technician")]);
        headers.extend(TECHNICIAN_FIGURES.iter().map(|&f| figure_label(f, lang)));
        headers.push(lang.pick("绩效奖金", "Bonus"));
        Table {
            name: format!("statistics-technicians-{}", month_text(v.month)),
            title: format!(
                "{} {}",
                lang.pick("技师统计", "Technicians"),
                month_text(v.month)
            ),
            headers,
            rows: v.technicians.iter().map(technician_row).collect(),
            utc_offset_ms: self.utc_offset_ms,
        }
    }

    fn centre_table(&self, v: &StatisticsView, lang: Lang) -> Table {
        let rows = v
            .centre_changes
            .iter()
            .map(|c| {
                vec![
                    Cell::Text(figure_label(c.figure, lang)),
                    figure_cell(c.figure, c.current),
                    figure_cell(c.figure, c.previous),
                    figure_cell(c.figure, c.change),
                ]
            })
            .collect();
        Table {
            name: format!("statistics-centre-{}", month_text(v.month)),
            title: format!(
                "{} {}",
                lang.pick("中心合计", "Centre"),
                month_text(v.month)
            ),
            headers: vec![
                lang.pick("指标", "Figure"),
                month_text(v.month),
                month_text(v.previous_month),
                lang.pick("环比变化", "Change"),
            ],
            rows,
            utc_offset_ms: self.utc_offset_ms,
        }
    }

    fn scorecard_table(&self, v: &ScorecardView, lang: Lang) -> Table {
        let who = v
            .technician_id
            .clone()
            .unwrap_or_else(|| "centre".to_owned());
        Table {
            name: format!("scorecard-{who}-{}", month_text(v.month)),
            title: format!("GB-T 27922 {}", month_text(v.month)),
            headers: lang.headers(&[
                ("分组", "Group"),
                ("指标", "Indicator"),
                ("数值", "Figure"),
                ("证据数", "Evidence"),
                ("说明", "Note"),
            ]),
            rows: v.lines.iter().map(|l| scorecard_row(l, lang)).collect(),
            utc_offset_ms: self.utc_offset_ms,
        }
    }
}
