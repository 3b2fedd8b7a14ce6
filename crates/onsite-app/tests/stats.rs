//! The console's Statistics and Scorecard commands against a seeded relay on 127.0.0.1 (the seed
//! has months of signed history and the `ref:bonus` formula): every figure equals the domain's own
//! computation on the same replicas the device holds, a technician is refused, an admin's new
//! bonus version is checked whole (a bad one gives its code and stores nothing), and the
//! statistics export as XLSX opens back with calamine.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use onsite_app::App;
use onsite_app::view::*;
use onsite_domain::bonus::{self, BonusVersions};
use onsite_domain::order::Order;
use onsite_domain::reference::{FeeSchedule, PartsCatalogue, TemplateLibrary};
use onsite_domain::scorecard;
use onsite_domain::seed_history::HISTORY_JOBS;
use onsite_domain::sla::SlaPolicy;
use onsite_domain::stats::{self, Month, StatsContext};
use onsite_domain::visit::Visit;
use onsite_domain::{Code, DocId, HOUR, Millis};
use onsite_testkit::relay::{Seeded, wait_for};
mod common;

use common::signed_in;

/// The centre is in China.
const CN_MINUTES: i32 = 480;
const CN: Millis = 8 * HOUR;
/// Signed visits in the seed: the history and two past jobs of each of four households.
const SIGNED: usize = HISTORY_JOBS as usize + 8;

/// `user`'s device (a dispatcher or admin) with every seeded document synced.
async fn staff(seeded: &Seeded, user: &str) -> App {
    let app = signed_in(&seeded.dir.path().join(user), &seeded.url, user)
        .await
        .with_utc_offset_minutes(CN_MINUTES)
        .with_export_dir(seeded.dir.path().join(format!("{user}-exports")));
    wait_for("the seeded history and ref:bonus to sync", || {
        let store = app.store().lock().expect("store");
        let ids = store.list_doc_ids().unwrap_or_default();
        let visits = ids
            .iter()
            .filter(|d| matches!(d, DocId::Visit { .. }))
            .count();
        visits >= SIGNED && ids.contains(&DocId::Bonus)
    })
    .await;
    app
}

/// The replicas on the device, read straight from its store.
struct Replicas {
    orders: Vec<Order>,
    visits: Vec<Visit>,
    fees: FeeSchedule,
    parts: PartsCatalogue,
    library: TemplateLibrary,
    bonus: BonusVersions,
}

impl Replicas {
    fn of(app: &App) -> Replicas {
        let store = app.store().lock().expect("store");
        let mut orders = Vec::new();
        let mut visits = Vec::new();
        for id in store.list_doc_ids().expect("ids") {
            match id {
                DocId::Order(_) => orders.push(store.read(&id).expect("order")),
                DocId::Visit { .. } => visits.push(store.read(&id).expect("visit")),
                _ => {}
            }
        }
        Replicas {
            orders,
            visits,
            fees: store.read(&DocId::FeeSchedule).expect("fees"),
            parts: store.read(&DocId::PartsCatalogue).expect("parts"),
            library: store.read(&DocId::Templates).expect("templates"),
            bonus: store.read(&DocId::Bonus).expect("ref:bonus"),
        }
    }

    fn ctx(&self) -> StatsContext<'_> {
        StatsContext {
            orders: &self.orders,
            visits: &self.visits,
            policy: &SlaPolicy::PUBLISHED,
            parts: &self.parts,
            fees: &self.fees,
            utc_offset_ms: CN,
        }
    }
}

fn month_of(view_month: Month) -> StatsRequest {
    StatsRequest {
        month: Some(view_month),
        technician_id: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_are_the_domains_figures_on_the_devices_replicas() {
    let seeded = Seeded::start().await;
    let disp = staff(&seeded, "disp").await;
    let now = disp.statistics(StatsRequest {
        month: None,
        technician_id: None,
    });
    let current = now.expect("statistics of this month").current_month;
    let r = Replicas::of(&disp);
    let ctx = r.ctx();
    let mut months_with_bonus = 0;
    for month in [current, current.previous(), current.previous().previous()] {
        let v = disp.statistics(month_of(month)).expect("statistics");
        assert_eq!(v.month, month);
        let centre = stats::month_on_month(&ctx, month, None);
        assert_eq!(v.centre, centre.current, "centre figures of {month:?}");
        assert_eq!(
            v.centre_changes, centre.changes,
            "month-on-month of {month:?}"
        );
        assert!(v.centre.completed > 0, "the seed has history in {month:?}");
        let formula = r
            .bonus
            .in_force(month, CN)
            .expect("the demo formula is in force");
        for t in &v.technicians {
            let mom = stats::month_on_month(&ctx, month, Some(&t.technician_id));
            assert_eq!(
                t.figures, mom.current,
                "{}'s figures in {month:?}",
                t.technician_id
            );
            assert_eq!(t.changes, mom.changes, "{}'s changes", t.technician_id);
            let want = bonus::compute(formula, &mom.current).expect("a valid formula");
            assert_eq!(t.bonus.as_ref(), Some(&want), "{}'s bonus", t.technician_id);
            months_with_bonus += usize::from(want.total_cents > want.base_cents);
        }
        assert_eq!(
            v.charts.satisfaction.counts,
            stats::star_distribution(&ctx, month, None).to_vec(),
            "the satisfaction chart is the domain's distribution"
        );
        let trend = stats::monthly(&ctx, month, onsite_app::TREND_MONTHS, None);
        assert_eq!(
            v.charts.trend.completed,
            trend.iter().map(|(_, f)| f.completed).collect::<Vec<_>>(),
            "the trend chart's completions"
        );
        assert_eq!(v.bonus.error, None, "the seeded formula is valid");
        assert_eq!(
            v.bonus.in_force.as_ref().map(|f| f.version),
            Some(formula.version)
        );
    }
    assert!(
        months_with_bonus > 0,
        "some technician earned more than the base"
    );

    let card = disp
        .scorecard(StatsRequest {
            month: Some(current.previous()),
            technician_id: Some("tech.a".to_owned()),
        })
        .expect("scorecard");
    let want = scorecard::scorecard(&ctx, &r.library, current.previous(), Some("tech.a"));
    assert_eq!(
        card.lines.len(),
        want.lines.len(),
        "every indicator is listed"
    );
    for (line, w) in card.lines.iter().zip(&want.lines) {
        assert_eq!(line.indicator, w.indicator, "in the domain's order");
        match w.reading {
            scorecard::Reading::Rate { rate, evidence } => {
                assert_eq!(line.numerator, Some(rate.numerator), "{:?}", w.indicator);
                assert_eq!(
                    line.denominator,
                    Some(rate.denominator),
                    "{:?}",
                    w.indicator
                );
                assert_eq!(line.evidence, Some(evidence), "{:?}", w.indicator);
            }
            scorecard::Reading::Stars { evidence, .. } => {
                assert_eq!(line.evidence, Some(evidence), "{:?}", w.indicator)
            }
            scorecard::Reading::Complaints {
                received,
                resolved_in_time,
                ..
            } => {
                assert_eq!(line.evidence, Some(received), "complaints received");
                assert_eq!(
                    (line.numerator, line.denominator),
                    (
                        Some(resolved_in_time.numerator),
                        Some(resolved_in_time.denominator)
                    ),
                    "complaints resolved in time"
                );
            }
            scorecard::Reading::NotMeasurable { why } => {
                assert_eq!(
                    line.not_measurable,
                    Some(why),
                    "{:?} is listed as such",
                    w.indicator
                );
                assert_eq!(
                    line.evidence, None,
                    "no invented evidence for {:?}",
                    w.indicator
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_technician_is_refused_every_statistics_command() {
    let seeded = Seeded::start().await;
    let tech = signed_in(&seeded.dir.path().join("tech"), &seeded.url, "tech.a").await;
    let all = StatsRequest {
        month: None,
        technician_id: None,
    };
    let code = |e: onsite_app::AppError| e.code();
    assert_eq!(
        tech.statistics(all.clone()).map_err(code).err(),
        Some(Code::ConsoleDispatcherOnly)
    );
    assert_eq!(
        tech.scorecard(all).map_err(code).err(),
        Some(Code::ConsoleDispatcherOnly)
    );
    let export = StatsExportRequest {
        table: StatsTableKind::Technicians,
        month: None,
        technician_id: None,
        format: ExportFormat::Csv,
        language: "en".to_owned(),
    };
    assert_eq!(
        tech.export_statistics(export).map_err(code).err(),
        Some(Code::ConsoleDispatcherOnly),
        "what colleagues earn is not a technician's to export"
    );
    let store = tech.store().lock().expect("store");
    assert!(
        !store.contains(&DocId::Bonus).expect("contains"),
        "the relay never gives a technician the bonus formula"
    );
}

fn request_from(f: &BonusFormulaView, month: Month) -> BonusFormulaRequest {
    BonusFormulaRequest {
        effective_month: month,
        per_completion_cents: f.per_completion_cents,
        min_completions: f.min_completions,
        terms: f
            .terms
            .iter()
            .map(|t| BonusTermRequest {
                figure: t.name.clone(),
                weight_cents: t.weight_cents,
                threshold: t.threshold,
            })
            .collect(),
        floor_cents: f.floor_cents,
        cap_cents: f.cap_cents,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_bonus_version_and_a_bad_one_stores_nothing() {
    let seeded = Seeded::start().await;
    let admin = staff(&seeded, "admin").await;
    let view = admin
        .statistics(StatsRequest {
            month: None,
            technician_id: None,
        })
        .expect("statistics");
    assert!(view.bonus.can_edit, "an admin may add a version");
    let latest = view.bonus.latest.clone().expect("the seeded formula");
    let stored = || -> BonusVersions {
        admin
            .store()
            .lock()
            .expect("store")
            .read(&DocId::Bonus)
            .expect("ref:bonus")
    };
    let before = stored();
    let next = view.current_month.next();

    let mut fees = request_from(&latest, next);
    fees.terms.push(BonusTermRequest {
        figure: "fees_collected_cents".to_owned(),
        weight_cents: 100,
        threshold: None,
    });
    let mut cap = request_from(&latest, next);
    cap.cap_cents = cap.floor_cents - 1;
    let mut sign = request_from(&latest, next);
    sign.terms[0].weight_cents = -sign.terms[0].weight_cents;
    for (bad, code) in [
        (fees, Code::BonusFigureNotAllowed),
        (cap, Code::BonusCapBelowFloor),
        (sign, Code::BonusWeightSign),
        (
            request_from(&latest, view.current_month.previous()),
            Code::BonusEffectiveInPast,
        ),
        (
            request_from(
                &latest,
                Month {
                    year: 2026,
                    month: 13,
                },
            ),
            Code::StatsBadMonth,
        ),
    ] {
        let err = admin.save_bonus_formula(bad).expect_err("refused");
        assert_eq!(err.code(), code, "{err}");
        assert_eq!(
            stored(),
            before,
            "a refused version ({code}) stores nothing"
        );
    }

    let mut richer = request_from(&latest, next);
    richer.per_completion_cents += 1_000;
    let saved = admin.save_bonus_formula(richer).expect("a valid version");
    assert_eq!(saved.version, latest.version + 1);
    assert_eq!(saved.effective_month, next);
    let after = stored();
    assert_eq!(
        after.versions.len(),
        before.versions.len() + 1,
        "the old version is kept"
    );
    let this = admin
        .statistics(month_of(view.current_month))
        .expect("this month");
    assert_eq!(
        this.bonus.in_force.map(|f| f.version),
        Some(latest.version),
        "this month is still paid with the old version"
    );
    let then = admin.statistics(month_of(next)).expect("next month");
    assert_eq!(then.bonus.in_force.map(|f| f.version), Some(saved.version));

    let disp = signed_in(&seeded.dir.path().join("disp"), &seeded.url, "disp").await;
    let err = disp
        .save_bonus_formula(request_from(&latest, next))
        .expect_err("a dispatcher may not");
    assert_eq!(err.code(), Code::BonusAdminsOnly);
}

fn xlsx(path: &str) -> calamine::Range<Data> {
    let bytes = std::fs::read(path).expect("the saved file");
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("an XLSX");
    let name = book.sheet_names()[0].clone();
    book.worksheet_range(&name).expect("the sheet")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_export_as_xlsx_with_the_screens_numbers() {
    let seeded = Seeded::start().await;
    let disp = staff(&seeded, "disp").await;
    let month = disp
        .statistics(StatsRequest {
            month: None,
            technician_id: None,
        })
        .expect("statistics")
        .current_month
        .previous();
    let view = disp.statistics(month_of(month)).expect("statistics");
    let export = |table, language: &str| {
        disp.export_statistics(StatsExportRequest {
            table,
            month: Some(month),
            technician_id: None,
            format: ExportFormat::Xlsx,
            language: language.to_owned(),
        })
        .expect("saved")
    };

    let saved = export(StatsTableKind::Technicians, "zh-CN");
    assert!(
        saved.file_name.starts_with("statistics-technicians-"),
        "{}",
        saved.file_name
    );
    let sheet = xlsx(&saved.path);
    assert_eq!(
        sheet.get((0, 1)),
        Some(&Data::String("技师".into())),
        "zh-CN headers"
    );
    assert_eq!(saved.rows as usize, view.technicians.len());
    for (i, t) in view.technicians.iter().enumerate() {
        let row = i as u32 + 1;
        assert_eq!(
            sheet.get_value((row, 0)),
            Some(&Data::String(t.technician_id.clone()))
        );
        assert_eq!(
            sheet.get_value((row, 2)),
            Some(&Data::Float(f64::from(t.figures.completed))),
            "completed is a number"
        );
        let ftf = t
            .figures
            .first_time_fix
            .ratio()
            .expect("completions this month");
        assert_eq!(
            sheet.get_value((row, 3)),
            Some(&Data::Float(ftf)),
            "a rate is its share"
        );
        let bonus = t.bonus.as_ref().expect("a bonus").total_cents as f64 / 100.0;
        assert_eq!(
            sheet.get_value((row, 15)),
            Some(&Data::Float(bonus)),
            "the bonus in yuan"
        );
    }

    let centre = xlsx(&export(StatsTableKind::Centre, "en").path);
    assert_eq!(
        centre.get_value((1, 0)),
        Some(&Data::String("Completed".into()))
    );
    assert_eq!(
        centre.get_value((1, 1)),
        Some(&Data::Float(f64::from(view.centre.completed))),
        "the centre's completions this month"
    );

    let card = xlsx(&export(StatsTableKind::Scorecard, "en").path);
    let notes: Vec<String> = (1..card.height() as u32)
        .filter_map(|r| match card.get_value((r, 4)) {
            Some(Data::String(s)) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("not measurable")),
        "the scorecard lists what the records cannot measure: {notes:?}"
    );
}
