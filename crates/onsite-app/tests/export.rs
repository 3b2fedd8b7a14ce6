//! Table exports from the dispatcher's device against a seeded relay on 127.0.0.1: the CSV has a
//! BOM and round-trips with Chinese text intact, the XLSX opens back (calamine) with the same
//! cells and numbers as numbers, typed text that looks like a formula is neutralised in both
//! while a real negative number stays a number, the save is atomic, and a technician is refused.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use onsite_app::view::*;
use onsite_app::{App, UTF8_BOM, csv_bytes, xlsx_bytes};
use onsite_domain::Code;
use onsite_domain::export::{Cell, Table};
mod common;

use common::signed_in;
use onsite_testkit::relay::{Seeded, wait_for};

fn request(table: ExportTableKind, format: ExportFormat, language: &str) -> ExportRequest {
    ExportRequest {
        table,
        technician_id: (table == ExportTableKind::TechnicianStock).then(|| "tech.a".to_owned()),
        format,
        language: language.to_owned(),
    }
}

/// The dispatcher's device with the seeded completions and both ledgers synced, exporting to
/// `export_dir`.
async fn dispatcher(seeded: &Seeded, export_dir: &Path) -> App {
    let disp = signed_in(&seeded.dir.path().join("disp"), &seeded.url, "disp")
        .await
        .with_export_dir(export_dir.to_owned());
    wait_for(
        "the seeded completions and ledgers to reach the dispatcher",
        || {
            let done = disp.completions().map(|l| !l.completions.is_empty());
            let ledgers = disp.stock_overview().map(|o| o.technicians.len() == 2);
            done.unwrap_or(false) && ledgers.unwrap_or(false)
        },
    )
    .await;
    disp
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(
        bytes.starts_with(UTF8_BOM),
        "Excel needs the BOM to read UTF-8"
    );
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[UTF8_BOM.len()..])
        .records()
        .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect()
}

fn xlsx_sheet(bytes: &[u8]) -> (calamine::Range<Data>, calamine::Range<String>) {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an XLSX");
    let name = book.sheet_names()[0].clone();
    let cells = book.worksheet_range(&name).expect("the sheet");
    let formulas = book.worksheet_formula(&name).expect("the formulas");
    (cells, formulas)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_export_as_csv_and_xlsx_with_the_screens_rows() {
    let seeded = Seeded::start().await;
    let out = tempfile::tempdir().expect("export dir");
    let disp = dispatcher(&seeded, out.path()).await;
    let list = disp.completions().expect("completions");
    let first = &list.completions[0];

    let csv = disp
        .export_table(request(
            ExportTableKind::Completions,
            ExportFormat::Csv,
            "zh-CN",
        ))
        .expect("CSV export");
    assert!(csv.file_name.starts_with("completions-") && csv.file_name.ends_with(".csv"));
    assert_eq!(
        csv.rows as usize,
        list.completions.len(),
        "every listed completion"
    );
    let bytes = std::fs::read(&csv.path).expect("the saved CSV");
    let rows = csv_rows(&bytes);
    assert_eq!(rows[0][0], "工单号", "zh-CN headers");
    assert_eq!(
        rows.len(),
        list.completions.len() + 1,
        "header and one line per completion"
    );
    assert_eq!(
        (
            rows[1][0].as_str(),
            rows[1][1].as_str(),
            rows[1][2].as_str()
        ),
        (
            first.order_no.as_str(),
            first.technician_name.as_str(),
            first.signer_name.as_str()
        ),
        "the first row is the screen's first completion, Chinese text intact"
    );

    let xlsx = disp
        .export_table(request(
            ExportTableKind::Completions,
            ExportFormat::Xlsx,
            "en",
        ))
        .expect("XLSX export");
    let (cells, formulas) = xlsx_sheet(&std::fs::read(&xlsx.path).expect("the saved XLSX"));
    assert_eq!(
        cells.get((0, 0)),
        Some(&Data::String("Order".into())),
        "en headers"
    );
    assert_eq!(
        cells.get((1, 2)),
        Some(&Data::String(first.signer_name.clone())),
        "the signer's name as typed"
    );
    if let Some(stars) = first.stars {
        assert_eq!(
            cells.get((1, 3)),
            Some(&Data::Float(stars.into())),
            "stars are a number"
        );
    }
    assert!(
        matches!(cells.get((1, 4)), Some(Data::DateTime(_))),
        "the signing time is a date-time cell: {:?}",
        cells.get((1, 4))
    );
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "nothing in an export is a formula"
    );
    let names: Vec<_> = std::fs::read_dir(out.path())
        .expect("list the export dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with(".part")),
        "no partial file is left: {names:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_exports_keep_numbers_and_a_technician_is_refused() {
    let seeded = Seeded::start().await;
    let out = tempfile::tempdir().expect("export dir");
    let disp = dispatcher(&seeded, out.path()).await;
    let stock = disp.technician_stock("tech.a").expect("stock");
    let saved = disp
        .export_table(request(
            ExportTableKind::TechnicianStock,
            ExportFormat::Xlsx,
            "zh-CN",
        ))
        .expect("stock export");
    assert!(
        saved.file_name.starts_with("stock-tech-a-"),
        "{}",
        saved.file_name
    );
    let (cells, _) = xlsx_sheet(&std::fs::read(&saved.path).expect("the saved XLSX"));
    let line = &stock.lines[0];
    assert_eq!(cells.get((1, 0)), Some(&Data::String(line.part_no.clone())));
    assert_eq!(
        cells.get((1, 1)),
        Some(&Data::String(line.name_zh_cn.clone()))
    );
    assert_eq!(
        cells.get((1, 2)),
        Some(&Data::Float(line.on_hand as f64)),
        "stock on hand is a number"
    );
    let overview = disp
        .export_table(request(
            ExportTableKind::StockOverview,
            ExportFormat::Csv,
            "en",
        ))
        .expect("overview export");
    let rows = csv_rows(&std::fs::read(&overview.path).expect("the saved CSV"));
    assert_eq!(rows[1][0], "tech.a", "one line per technician, by id");

    let missing = ExportRequest {
        technician_id: None,
        ..request(ExportTableKind::TechnicianStock, ExportFormat::Csv, "en")
    };
    let err = disp.export_table(missing).expect_err("whose stock?");
    assert_eq!(err.code(), Code::InputEmpty, "{err}");
    let err = disp
        .export_table(request(
            ExportTableKind::Completions,
            ExportFormat::Csv,
            "fr",
        ))
        .expect_err("no French headers");
    assert_eq!(err.code(), Code::SettingsUnsupportedLanguage, "{err}");

    let tech = signed_in(&seeded.dir.path().join("tech"), &seeded.url, "tech.a")
        .await
        .with_export_dir(out.path().join("tech"));
    let err = tech
        .export_table(request(
            ExportTableKind::Completions,
            ExportFormat::Csv,
            "en",
        ))
        .expect_err("a technician exports nothing");
    assert_eq!(err.code(), Code::ConsoleDispatcherOnly, "{err}");
    assert!(!out.path().join("tech").exists(), "and nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_save_leaves_no_file_behind() {
    let seeded = Seeded::start().await;
    let root = tempfile::tempdir().expect("root");
    let not_a_dir = root.path().join("exports");
    std::fs::write(&not_a_dir, b"a file, not a folder").expect("write");
    let disp = dispatcher(&seeded, &not_a_dir).await;
    let err = disp
        .export_table(request(
            ExportTableKind::Completions,
            ExportFormat::Csv,
            "en",
        ))
        .expect_err("the export folder is a file");
    assert_eq!(err.code(), Code::RecordExportFailed, "{err}");

    // The target name is taken by a folder: the rename fails and the part file is removed.
    let out = tempfile::tempdir().expect("export dir");
    let disp = disp.with_export_dir(out.path().to_owned());
    let saved = disp
        .export_table(request(
            ExportTableKind::Completions,
            ExportFormat::Xlsx,
            "en",
        ))
        .expect("first export");
    std::fs::remove_file(&saved.path).expect("remove");
    std::fs::create_dir(&saved.path).expect("a folder in the file's place");
    std::fs::write(Path::new(&saved.path).join("keep"), b"x").expect("non-empty folder");
    let err = disp
        .export_table(request(
            ExportTableKind::Completions,
            ExportFormat::Xlsx,
            "en",
        ))
        .expect_err("a folder has the file's name");
    assert_eq!(err.code(), Code::RecordExportFailed, "{err}");
    let names: Vec<_> = std::fs::read_dir(out.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [saved.file_name.as_str()],
        "only the folder, no partial file"
    );
}

/// What a customer or technician typed, starting like a formula, next to real numbers.
fn typed_table() -> Table {
    let typed = [
        "=HYPERLINK(\"http://x\",\"y\")",
        "+1",
        "-2+3",
        "@SUM(1)",
        "赵敏",
    ];
    Table {
        name: "typed".into(),
        title: "Typed".into(),
        headers: vec!["签字人 Signer".into(), "Delta".into(), "Fee".into()],
        rows: typed
            .iter()
            .map(|t| vec![Cell::Text((*t).into()), Cell::Int(-2), Cell::Money(-1250)])
            .collect(),
        utc_offset_ms: 0,
    }
}

#[test]
fn text_that_looks_like_a_formula_is_neutralised_and_negative_numbers_stay_numbers() {
    let table = typed_table();
    let rows = csv_rows(&csv_bytes(&table).expect("CSV"));
    let firsts: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        firsts,
        [
            "'=HYPERLINK(\"http://x\",\"y\")",
            "'+1",
            "'-2+3",
            "'@SUM(1)",
            "赵敏"
        ],
        "CSV prefixes formula-like text with ' and leaves other text alone"
    );
    assert!(
        rows[1..].iter().all(|r| r[1] == "-2" && r[2] == "-12.50"),
        "real negative numbers are not prefixed: {rows:?}"
    );

    let (cells, formulas) = xlsx_sheet(&xlsx_bytes(&table, 0).expect("XLSX"));
    for (i, row) in table.rows.iter().enumerate() {
        let Cell::Text(typed) = &row[0] else {
            unreachable!("the first cell is text")
        };
        let r = i as u32 + 1;
        assert_eq!(
            cells.get((r as usize, 0)),
            Some(&Data::String(typed.clone())),
            "XLSX keeps typed text as an inert string cell"
        );
        assert_eq!(
            cells.get((r as usize, 1)),
            Some(&Data::Float(-2.0)),
            "a number"
        );
        assert_eq!(
            cells.get((r as usize, 2)),
            Some(&Data::Float(-12.5)),
            "money"
        );
    }
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell is a formula"
    );
}
